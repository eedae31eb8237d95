"""``--rps``: groups of one model on 48 GB and 24 GB GPUs at different per-replica targets are
sized for a traffic level at the lowest cost — checked against exhaustive enumeration of the
group sizes for every integer traffic level, through the cost curve and direct plans."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from brute_force import Group, Pool, cheapest
from group_catalogs import catalog, cpu_group, gpu_group, row

from planner.config.normalized import IntRange, NormalizedPort, NormalizedService
from planner.errors import InputError
from planner.placement import PlanOptions
from planner.placement.group_plan import plan_groups
from planner.render.plan_reasons import infeasible_reason

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SERVICE = NormalizedService(
    port=NormalizedPort(container_port=8000), replicas=IntRange(min=1, max=1)
)
ROWS = [
    row("aws", "us-east-1", "g6e.l40s", 1.0, "L40S"),
    row("gcp", "us-central1", "g2-l40s", 1.1, "L40S"),
    row("aws", "us-east-1", "g6.l4", 0.45, "L4"),
    row("gcp", "us-central1", "g2-l4", 0.5, "L4"),
    row("aws", "us-east-1", "c5", 0.1, None),
]
BIG = gpu_group("big", "L40S", (1, 3), rps_target=20)
SMALL = gpu_group("small", "L4", (1, 4), rps_target=8)
ROUTER = cpu_group("router", 1)


def _pools(gpu: str | None) -> tuple[Pool, ...]:
    return tuple(
        Pool(r["price"], f"{r['provider']}/{r['region']}", f"{r['provider']}/{r['instance_type']}")
        for r in ROWS
        if (r["gpu_name"] or None) == gpu
    )


ORACLE_GROUPS = [
    Group(_pools("L40S"), 1, 3, "rps", rps_target=20),
    Group(_pools("L4"), 1, 4, "rps", rps_target=8),
    Group(_pools(None), 1, 1, "router"),
]


def test_the_cost_curve_is_the_exhaustive_minimum_at_every_traffic_level() -> None:
    result = plan_groups(
        (BIG, SMALL, ROUTER), catalog(ROWS), service=SERVICE, rows=True, options=PlanOptions(rps=1)
    )
    curve = result.rps_curve
    assert curve[0].rps_from == 0 and curve[-1].rps_to == 3 * 20 + 4 * 8
    for before, after in itertools.pairwise(curve):
        assert after.rps_from == before.rps_to and after.hourly_cost > before.hourly_cost
    for level in range(1, 93):
        (step,) = [s for s in curve if s.rps_from < level <= s.rps_to]
        oracle = cheapest(ORACLE_GROUPS, rps=level)
        assert oracle is not None
        assert step.hourly_cost == pytest.approx(oracle[0]), level
        replicas = dict(step.replicas)
        served = 20 * replicas["big"] + 8 * replicas["small"]
        assert served >= level and replicas["router"] == 1
    assert cheapest(ORACLE_GROUPS, rps=93) is None


@pytest.mark.parametrize("level", [1, 17, 36, 41, 60, 77, 92])
def test_a_plan_for_a_traffic_level_is_the_exhaustive_minimum(level: int) -> None:
    result = plan_groups(
        (BIG, SMALL, ROUTER),
        catalog(ROWS),
        service=SERVICE,
        rows=True,
        options=PlanOptions(rps=level, explain=False),
    )
    oracle = cheapest(ORACLE_GROUPS, rps=level)
    assert oracle is not None
    assert result.status == "optimal" and result.hourly_cost == pytest.approx(oracle[0])
    sizes = {g.name: g.replicas for g in result.groups}
    assert 20 * sizes["big"] + 8 * sizes["small"] >= level
    assert 1 <= sizes["big"] <= 3 and 1 <= sizes["small"] <= 4 and sizes["router"] == 1


def test_a_router_group_keeps_its_count_and_traffic_beyond_reach_is_infeasible() -> None:
    routed = gpu_group("routed", "L4", (1, 4), rps_target=100, fixed=True)
    result = plan_groups(
        (BIG, routed), catalog(ROWS), service=SERVICE, rows=True, options=PlanOptions(rps=50)
    )
    sizes = {g.name: g.replicas for g in result.groups}
    assert sizes == {"big": 3, "routed": 1}
    beyond = plan_groups(
        (BIG, routed), catalog(ROWS), service=SERVICE, rows=True, options=PlanOptions(rps=61)
    )
    assert beyond.status == "infeasible" and "at most 60" in (
        infeasible_reason(beyond.infeasible_causes) or ""
    )


def test_rps_needs_a_group_that_scales_on_requests() -> None:
    with pytest.raises(InputError, match="no replica group scales on requests per second"):
        plan_groups(
            (ROUTER,), catalog(ROWS), service=SERVICE, rows=True, options=PlanOptions(rps=5)
        )


def test_cli_rps_on_an_autoscaled_service(run_cli: Any) -> None:
    result = run_cli("plan", str(EXAMPLES / "autoscaled.yml"), "--rps", "25", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["rps"] == 25 and document["target_replicas"] == 3
    curve = document["rps_curve"]
    assert [step["rps_to"] for step in curve] == [10, 20, 30, 40]
    assert curve[2]["hourly_cost"] == pytest.approx(document["hourly_cost"])
    table = run_cli("plan", str(EXAMPLES / "autoscaled.yml"), "--rps", "25")
    assert table.returncode == 0 and "Cost over the traffic level" in table.stdout
    refused = run_cli("plan", str(EXAMPLES / "service.yml"), "--rps", "25")
    assert (
        refused.returncode == 2 and "--rps" in refused.stderr and "Traceback" not in refused.stderr
    )
