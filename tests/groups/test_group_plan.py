"""One plan over every replica group: realistic group services on small catalogs, each checked
against exhaustive enumeration (brute_force.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from brute_force import Group, Pool, cheapest
from group_catalogs import catalog, cpu_group, gpu_group, row

from planner.config.normalized import IntRange, NormalizedPort, NormalizedService
from planner.match import find_group_offers, find_offers
from planner.placement import load_capacity
from planner.placement.group_plan import plan_groups
from planner.placement.notes import GroupSurvivalUnmet
from planner.render.plan_reasons import infeasible_reason

SERVICE = NormalizedService(
    port=NormalizedPort(container_port=8000), replicas=IntRange(min=1, max=1)
)

# Prefill on H100, decode on A100, a CPU router: three backends/regions to spread over.
PD_ROWS = [
    row("aws", "us-east-1", "p5.h100", 3.0, "H100"),
    row("aws", "us-west-2", "p5.h100", 3.5, "H100"),
    row("gcp", "us-central1", "a3-h100", 3.2, "H100"),
    row("aws", "us-east-1", "p4.a100", 1.8, "A100"),
    row("gcp", "us-central1", "a2-a100", 2.0, "A100"),
    row("aws", "us-east-1", "c5.xlarge", 0.1, None),
    row("gcp", "us-central1", "n2-standard-4", 0.12, None),
    row("aws", "us-east-1", "g6.l4", 0.5, "L4"),
]
PD_GROUPS = (
    gpu_group("prefill", "H100", 2),
    gpu_group("decode", "A100", 2),
    cpu_group("router", 1),
)


def _pools(
    rows: list[dict], gpu: str | None, capacity: dict[str, int] | None = None
) -> tuple[Pool, ...]:
    capacity = capacity or {}
    chosen = [r for r in rows if (r["gpu_name"] or None) == gpu]
    return tuple(
        Pool(
            price=r["price"],
            domain=f"{r['provider']}/{r['region']}",
            key=f"{r['provider']}/{r['region']}/{r['instance_type']}",
            capacity=capacity.get(f"{r['provider']}/{r['region']}/{r['instance_type']}"),
        )
        for r in chosen
    )


def test_prefill_decode_and_router_each_on_their_offers_at_the_exhaustive_minimum() -> None:
    result = plan_groups(PD_GROUPS, catalog(PD_ROWS), service=SERVICE, rows=True)
    assert result.status == "optimal"
    by_group = {group.name: group for group in result.groups}
    assert {name: g.replicas for name, g in by_group.items()} == {
        "prefill": 2,
        "decode": 2,
        "router": 1,
    }
    gpu_of = {"prefill": "H100", "decode": "A100", "router": None}
    for placement in result.placements:
        assert placement.offer["gpu_name"] == gpu_of[placement.group]
    # The failure-domain rule across the service: prefill and decode each keep a replica
    # outside every region; the router runs one replica, which is said, not hidden.
    for name in ("prefill", "decode"):
        domains = {p.failure_domain for p in result.placements if p.group == name}
        assert len(domains) == 2
    (warning,) = [n for n in result.notes if isinstance(n, GroupSurvivalUnmet)]
    assert warning.groups == ("router",) and warning.reason == "one-replica"
    oracle = cheapest(
        [
            Group(_pools(PD_ROWS, "H100"), 2, 2, "prefill"),
            Group(_pools(PD_ROWS, "A100"), 2, 2, "decode"),
            Group(_pools(PD_ROWS, None), 1, 1, "router"),
        ]
    )
    assert oracle is not None
    assert (
        result.hourly_cost == pytest.approx(oracle[0]) == pytest.approx(3.0 + 3.2 + 1.8 + 2.0 + 0.1)
    )
    # Costs per group add up to the total, and each is its placements' cost.
    assert sum(g.hourly_cost for g in result.groups) == pytest.approx(result.hourly_cost)
    for group in result.groups:
        own = sum(p.hourly_cost for p in result.placements if p.group == group.name)
        assert group.hourly_cost == pytest.approx(own)
    document = result.to_json()
    assert [g["group"] for g in document["groups"]] == ["prefill", "decode", "router"]
    assert all("group" in p for p in document["placements"])
    # Explain per group: the L4, the CPUs and the other GPU are excluded for each GPU group.
    prefill = by_group["prefill"]
    assert prefill.candidate_offers == 3 and any(
        e.reason == "gpu_names" for e in prefill.exclusions
    )


def test_the_domain_rule_is_best_effort_with_a_warning() -> None:
    rows = [
        row("aws", "us-east-1", "p5.h100", 3.0, "H100"),
        row("aws", "us-east-1", "c5", 0.1, None),
    ]
    result = plan_groups(
        (gpu_group("prefill", "H100", 2), cpu_group("router", 1)),
        catalog(rows),
        service=SERVICE,
        rows=True,
    )
    assert result.status == "feasible" and result.hourly_cost == pytest.approx(6.1)
    reasons = {n.reason: n.groups for n in result.notes if isinstance(n, GroupSurvivalUnmet)}
    assert reasons["infeasible"] == ("prefill",)


def test_capacity_shared_by_groups_is_counted_once(tmp_path: Path) -> None:
    rows = [
        row("aws", "us-east-1", "p4.a100", 1.8, "A100"),
        row("gcp", "us-central1", "a2-a100", 2.0, "A100"),
        row("gcp", "europe-west4", "a2-a100", 2.5, "A100"),
    ]
    capacity_file = tmp_path / "capacity.csv"
    capacity_file.write_text(
        "backend,region,instance_type,spot,capacity\naws,us-east-1,p4.a100,false,1\n"
    )
    groups = (gpu_group("prefill", "A100", 2), gpu_group("decode", "A100", 2))
    result = plan_groups(
        groups, catalog(rows), service=SERVICE, rows=True, capacity=load_capacity(capacity_file)
    )
    aws = sum(p.count for p in result.placements if p.offer["backend"] == "aws")
    assert aws == 1
    limits = {"aws/us-east-1/p4.a100": 1}
    oracle = cheapest(
        [
            Group(_pools(rows, "A100", limits), 2, 2, "prefill"),
            Group(_pools(rows, "A100", limits), 2, 2, "decode"),
        ]
    )
    assert oracle is not None and result.hourly_cost == pytest.approx(oracle[0])
    assert result.status == "optimal"


def test_a_group_without_offers_makes_the_plan_infeasible_and_names_it() -> None:
    result = plan_groups(
        (gpu_group("prefill", "H100", 1), gpu_group("decode", "B200", 1)),
        catalog(PD_ROWS),
        service=SERVICE,
        rows=True,
    )
    assert result.status == "infeasible"
    assert (infeasible_reason(result.infeasible_causes) or "").startswith("group decode:")


def test_group_offers_are_each_groups_own_matches() -> None:
    table = catalog(PD_ROWS)
    found = find_group_offers(PD_GROUPS, table, rows=True)
    assert [g.name for g in found] == ["prefill", "decode", "router"]
    for group in found:
        alone = find_offers(group.group.requirements, table, rows=True)
        assert group.offers.records() == alone.records()
    assert [g.offers.total for g in found] == [3, 2, 2]


def test_the_domain_rule_is_dropped_only_for_the_groups_it_cannot_hold_for() -> None:
    rows = [
        row("aws", "us-east-1", "p5.h100", 3.0, "H100"),
        row("aws", "us-east-1", "p4.a100", 1.8, "A100"),
        row("gcp", "us-central1", "a2-a100", 2.0, "A100"),
    ]
    groups = (gpu_group("prefill", "H100", 2), gpu_group("decode", "A100", 2))
    result = plan_groups(groups, catalog(rows), service=SERVICE, rows=True)
    assert result.status == "feasible"
    (note,) = [n for n in result.notes if isinstance(n, GroupSurvivalUnmet)]
    assert note.groups == ("prefill",) and note.reason == "infeasible"
    decode = {p.failure_domain for p in result.placements if p.group == "decode"}
    assert decode == {"aws/us-east-1", "gcp/us-central1"}
    assert result.hourly_cost == pytest.approx(6.0 + 1.8 + 2.0)
