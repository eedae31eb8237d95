"""Replica groups end to end: the example service files through `python -m planner` on the
bundled catalog, and `--rps` against an enumeration of every pair of group sizes."""

from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from planner.catalog import Catalog
from planner.config import load_config
from planner.placement import PlanOptions
from planner.placement.group_plan import plan_groups
from planner.requirements import group_requirements

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PD = str(EXAMPLES / "replica-groups.yml")
TWO_SIZES = EXAMPLES / "replica-groups-rps.yml"


def test_offers_per_group_in_every_format(run_cli: Any) -> None:
    result = run_cli("offers", PD, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    groups = {entry["group"]: entry for entry in document["replica_groups"]}
    assert list(groups) == ["router", "prefill", "decode"]
    assert groups["router"]["fixed_count"] and groups["prefill"]["scaling"]["target"] == 20
    assert all(o["gpu_count"] == 0 for o in groups["router"]["offers"])
    assert all(o["gpu_name"] == "H100" for o in groups["prefill"]["offers"])
    assert all(o["gpu_memory_gb"] >= 48 for o in groups["decode"]["offers"])
    assert all(o["group"] == name for name, e in groups.items() for o in e["offers"])
    assert document["total_offers"] == sum(e["total_offers"] for e in groups.values())
    table = run_cli("offers", PD, "--max-offers", "2")
    assert table.returncode == 0
    assert [
        line.split(" (")[0] for line in table.stdout.splitlines() if line.startswith("group ")
    ] == [
        "group router",
        "group prefill",
        "group decode",
    ]
    rows = list(csv.DictReader(io.StringIO(run_cli("offers", PD, "--format", "csv").stdout)))
    assert {row["group"] for row in rows} == {"router", "prefill", "decode"}


def test_a_group_without_offers_exits_1_with_its_why_not(run_cli: Any, tmp_path: Path) -> None:
    text = Path(PD).read_text().replace("gpu: H100:1", "gpu: H100:1\n      memory: 9TB..")
    service = tmp_path / "pd.yml"
    service.write_text(text)
    result = run_cli("offers", str(service), "--format", "json")
    assert result.returncode == 1
    assert result.stderr.startswith("group prefill: no offer matches all requirements")
    assert "group router" not in result.stderr and "group decode" not in result.stderr
    assert json.loads(result.stdout)["replica_groups"][1]["total_offers"] == 0


def test_plan_over_every_group(run_cli: Any) -> None:
    result = run_cli("plan", PD, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] in ("optimal", "feasible")
    groups = {g["group"]: g for g in document["groups"]}
    assert {name: g["target_replicas"] for name, g in groups.items()} == {
        "router": 1,
        "prefill": 1,
        "decode": 1,
    }
    for name, group in groups.items():
        own = [p for p in document["placements"] if p["group"] == name]
        assert sum(p["count"] for p in own) == group["planned_replicas"] >= 1
        assert group["hourly_cost"] == pytest.approx(sum(p["hourly_cost"] for p in own))
    assert document["hourly_cost"] == pytest.approx(sum(g["hourly_cost"] for g in groups.values()))
    assert {p["offer"]["gpu_name"] for p in document["placements"] if p["group"] == "prefill"} == {
        "H100"
    }
    # The router and prefill (at its minimum) run one replica: the plan says a region lost
    # takes them down; decode may use spot, so its hedge replica is kept in another region.
    assert "warning: replica group(s) router, prefill: one replica each" in document["notes"][0]
    decode = [p["failure_domain"] for p in document["placements"] if p["group"] == "decode"]
    assert len(set(decode)) == len(decode) == 2
    markdown = run_cli("plan", PD, "--format", "markdown")
    assert markdown.returncode == 0 and "### Groups" in markdown.stdout


def test_rps_on_two_gpu_sizes_is_the_cheapest_pair_of_group_sizes(run_cli: Any) -> None:
    level = 50
    result = run_cli("plan", str(TWO_SIZES), "--rps", str(level), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    chosen = {g["group"]: g["target_replicas"] for g in document["groups"]}
    assert 24 * chosen["large"] + 10 * chosen["small"] >= level
    # Every pair of group sizes in the count ranges, each planned at its fixed sizes.
    config = load_config(TWO_SIZES)
    large, small = group_requirements(config)
    catalog = Catalog.load()
    costs = {}
    for n_large, n_small in itertools.product(range(1, 4), range(1, 5)):
        fixed = (
            replace(large, min_replicas=n_large, max_replicas=n_large),
            replace(small, min_replicas=n_small, max_replicas=n_small),
        )
        plan = plan_groups(
            fixed, catalog, service=config.normalized, options=PlanOptions(explain=False)
        )
        costs[(n_large, n_small)] = plan.hourly_cost
    best = min(cost for (a, b), cost in costs.items() if 24 * a + 10 * b >= level)
    assert document["hourly_cost"] == pytest.approx(best)
    for step in document["rps_curve"]:
        served = [cost for (a, b), cost in costs.items() if 24 * a + 10 * b >= step["rps_to"]]
        assert step["hourly_cost"] == pytest.approx(min(served))
    assert document["rps_curve"][-1]["rps_to"] == 3 * 24 + 4 * 10


def test_rps_on_prefill_and_decode_sizes_each_stage_for_the_whole_traffic(run_cli: Any) -> None:
    # Different commands: prefill and decode are stages, not interchangeable capacity; each
    # must serve the traffic on its own, so decode (10 rps a replica) needs 3 for 30 rps.
    result = run_cli("plan", PD, "--rps", "30", "--format", "json", "--no-explain")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    sizes = {g["group"]: g["target_replicas"] for g in document["groups"]}
    assert sizes["router"] == 1 and sizes["decode"] == 3 and 20 * sizes["prefill"] >= 30
    assert document["rps_curve"][-1]["rps_to"] == min(3 * 20, 4 * 10)


def test_a_capacity_row_naming_no_place_is_warned_about_for_groups(
    run_cli: Any, tmp_path: Path
) -> None:
    # Issue 9, point 7, for a service with replica groups: a typo is not silently ignored.
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("backend,region,instance_type,spot,capacity\naws,us-westt-2,*,*,1\n")
    result = run_cli("plan", PD, "--capacity", str(capacity), "--no-explain", "--format", "json")
    assert result.returncode == 0, result.stderr
    notes = json.loads(result.stdout)["notes"]
    assert any("us-westt-2" in str(note) and "us-west-2" in str(note) for note in notes), notes
