"""The library's public names: everything the CLI does, a scheduler can call by these names."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import pytest

import planner
import planner.placement

# Each public name, the package whose code defines it and what kind of object it is.
EXPORTS = {
    "load_config": ("planner.config", "function"),
    "LoadedConfig": ("planner.config", "class"),
    "ServiceConfiguration": ("planner.config", "class"),
    "NormalizedService": ("planner.config", "class"),
    "Requirements": ("planner.requirements", "class"),
    "requirements_from_config": ("planner.requirements", "function"),
    "Catalog": ("planner.catalog", "class"),
    "load_dstack_config": ("planner.config", "function"),
    "DstackServerSettings": ("planner.config", "class"),
    "find_offers": ("planner.match", "function"),
    "Offers": ("planner.match", "class"),
    "plan": ("planner.placement", "function"),
    "Plan": ("planner.placement", "class"),
    "PlanOptions": ("planner.placement", "class"),
    "report": ("planner.cost_report", "function"),
    "Report": ("planner.cost_report", "class"),
    "PlannerError": ("planner.errors", "class"),
    "ConfigError": ("planner.errors", "class"),
    "CatalogError": ("planner.errors", "class"),
    "InputError": ("planner.errors", "class"),
    "Problem": ("planner.errors", "class"),
}


def test_every_exported_name_is_the_object_it_names() -> None:
    assert sorted(planner.__all__) == sorted([*EXPORTS, "__version__"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", planner.__version__)
    for name, (package, kind) in EXPORTS.items():
        value = getattr(planner, name)
        assert value.__name__ == name, name
        module = value.__module__
        assert module == package or module.startswith(package + "."), (name, module)
        assert inspect.isfunction(value) if kind == "function" else inspect.isclass(value), name
    assert issubclass(planner.ConfigError, planner.PlannerError)
    assert issubclass(planner.CatalogError, planner.PlannerError)
    assert issubclass(planner.InputError, planner.PlannerError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        _ = planner.nonexistent  # type: ignore[attr-defined]


def test_planner_plan_is_the_placement_function() -> None:
    from planner import plan

    assert inspect.isfunction(planner.plan)
    assert plan is planner.plan is planner.placement.plan


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
