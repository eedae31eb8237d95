"""The library's public names: everything the CLI does, a scheduler can call by these names."""

from __future__ import annotations

import subprocess
import sys

import planner


def test_every_exported_name_resolves() -> None:
    for name in planner.__all__:
        assert getattr(planner, name) is not None, name


def test_import_planner_stays_light() -> None:
    # The CLI's start-up (validate, --help) must not pay for pandas or ortools.
    script = (
        "import sys, planner, planner.cli\n"
        "planner.cli.build_parser()\n"
        "heavy = [m for m in ('pandas', 'ortools', 'numpy', 'requests') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_library_pipeline_end_to_end(repo_dir) -> None:  # type: ignore[no-untyped-def]
    config = planner.load_config(repo_dir / "examples" / "service.yml")
    catalog = planner.Catalog.load()
    offers = planner.find_offers(config, catalog)
    assert offers.total > 0
    records = offers.records(limit=5)
    prices = [record["price"] for record in records]
    assert prices == sorted(prices)
    assert all(record["gpu_memory_gb"] >= 80 for record in records)
    placement = planner.plan(config, catalog)
    assert placement.status == "optimal"
    assert placement.hourly_cost == min(prices)


def test_the_matcher_alone_does_not_import_pydantic() -> None:
    # A scheduler that builds Requirements itself pays for the catalog and the filter only.
    script = (
        "import sys, planner.catalog.table, planner.match, planner.requirements\n"
        "print('pydantic' in sys.modules, 'ortools' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
