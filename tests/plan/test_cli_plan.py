"""`planner plan` as a user runs it: real subprocesses, example files, the bundled catalog.

Scenario semantics are tested through the library in test_scenarios.py; this file checks what
only the CLI does: the JSON contract of docs/cli.md, the formats, exit codes 0/1/2 with located errors.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

OFFER_KEYS = {
    "backend",
    "region",
    "instance_type",
    "spot",
    "price",
    "cpu",
    "memory_gb",
    "disk_gb",
    "gpu_vendor",
    "gpu_name",
    "gpu_count",
    "gpu_memory_gb",
}


def test_json_follows_the_cli_contract(run_cli: Any) -> None:
    result = run_cli(
        "plan",
        str(EXAMPLES / "spot-retry.yml"),
        "--capacity",
        str(EXAMPLES / "planning" / "capacity.csv"),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "optimal"
    assert document["replicas"] == {"min": 2, "max": 2}
    assert document["monthly_cost"] == pytest.approx(document["hourly_cost"] * 730)
    placements = document["placements"]
    assert placements and sum(p["count"] for p in placements) == document["planned_replicas"]
    assert document["planned_replicas"] >= 2
    for placement in placements:
        assert set(placement["offer"]) >= OFFER_KEYS
        assert placement["capacity_type"] in ("spot", "on-demand", "reserved", "existing")
        assert placement["offer"]["price"] <= 25  # max_price of the example
        for fallback in placement["fallbacks"]:
            assert set(fallback) >= OFFER_KEYS
            assert fallback["event"] in ("no-capacity", "interruption")
    kinds = {item["kind"] for item in document["explain"]}
    assert kinds == {"exclusion", "constraint"}
    assert document["catalog"]["sources"]
    assert document["hourly_cost"] == pytest.approx(
        sum(p["count"] * p["hourly_price"] for p in placements)
    )


def test_infeasible_plan_exits_1_with_the_reason(run_cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "reuse.yml"
    path.write_text(
        "type: service\nimage: x\nport: 8000\nresources:\n  gpu: A10G:1\ncreation_policy: reuse\n"
    )
    result = run_cli("plan", str(path))
    assert result.returncode == 1
    assert "status: infeasible" in result.stdout
    assert "no idle fleet instance satisfies the configuration" in result.stdout
    assert result.stderr.startswith("infeasible: creation_policy")


def test_markdown_and_table_formats(run_cli: Any) -> None:
    path = str(EXAMPLES / "spot-retry.yml")
    markdown = run_cli("plan", path, "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("## Replica plan")
    assert "| # | COUNT | CAPACITY |" in markdown.stdout
    assert "### Fallbacks" in markdown.stdout
    assert (
        "### Constraints (each relaxed and re-planned; interacting ones also in pairs)"
        in markdown.stdout
    )
    table = run_cli("plan", path, "--no-explain", "--max-per-domain", "1")
    assert table.returncode == 0, table.stderr
    assert "status: optimal" in table.stdout and "monthly cost (730 h)" in table.stdout
    assert "Constraints" not in table.stdout


def test_bad_fleet_and_capacity_files_exit_2_with_file_line_field(
    run_cli: Any, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(
        "instances:\n  - backend: aws\n    region: us-east-1\n    instance_type: g5.xlarge\n"
        "    price: lots\n    resources: {cpu: 4, memory_gb: 16, gpu_count: 0}\n"
    )
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("backend,capacity\naws,some\n")
    service = str(EXAMPLES / "service.yml")
    for args, message in (
        (("--fleet", str(fleet)), f"{fleet}:5:12: instances[0].price: must be a number"),
        (("--capacity", str(capacity)), f"{capacity}:2: capacity: must be an integer"),
    ):
        result = run_cli("plan", service, *args)
        assert result.returncode == 2
        assert message in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""


def test_bad_flags_exit_2(run_cli: Any) -> None:
    result = run_cli("plan", str(EXAMPLES / "service.yml"), "--availability-target", "1.5")
    assert result.returncode == 2
    assert "expected a fraction in (0, 1]" in result.stderr


def test_every_example_plans_on_the_bundled_catalog(run_cli: Any) -> None:
    examples = sorted(EXAMPLES.glob("*.yml"))
    assert len(examples) >= 5

    def run(example: Path) -> Any:
        args = ["plan", str(example), "--no-explain"]
        if example.name.startswith("reservation"):
            args += ["--capacity", str(EXAMPLES / "planning" / "capacity.csv")]
        return run_cli(*args)

    # Two at a time: the machine has two cores and each run is mostly start-up.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, examples))
    for example, result in zip(examples, results, strict=True):
        assert result.returncode == 0, (example.name, result.stdout, result.stderr)
        assert "status: optimal" in result.stdout, example.name
        assert "hourly cost: $" in result.stdout, example.name
