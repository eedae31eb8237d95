"""Random small group services (on-demand, two or three groups, GPUs shared or not, obtainable
counts, rps sizing or not) against exhaustive enumeration: the plan's cost is the optimum, every
group runs a count in its range on its own GPU, and shared counts hold over all groups."""

from __future__ import annotations

import itertools
import random

import pytest
from brute_force import Group, Pool, cheapest
from group_catalogs import catalog, gpu_group, row

from planner.config.normalized import IntRange, NormalizedPort, NormalizedService
from planner.placement import CapacityData, PlanOptions
from planner.placement.group_plan import plan_groups
from planner.placement.inputs import CapacityRule

SERVICE = NormalizedService(
    port=NormalizedPort(container_port=8000), replicas=IntRange(min=1, max=1)
)
PLACES = list(itertools.product(["aws", "gcp"], ["r1", "r2"], ["t1", "t2"]))


def _instance(seed: int) -> dict:
    rng = random.Random(seed)
    gpus = rng.sample(["H100", "A100", "L4"], rng.randint(1, 2))
    rows, limits = [], {}
    for gpu in gpus:
        for provider, region, instance_type in rng.sample(PLACES, rng.randint(1, 4)):
            price = rng.randint(1, 400) / 100
            rows.append(row(provider, region, f"{instance_type}-{gpu}", price, gpu))
            if rng.random() < 0.3:
                limits[(provider, region, f"{instance_type}-{gpu}")] = rng.randint(0, 2)
    groups = []
    rps = rng.choice([None, rng.randint(5, 60)])
    for index in range(rng.randint(2, 3)):
        gpu = rng.choice(gpus)
        low = rng.randint(1, 2)
        high = rng.randint(low, 3) if rps is not None else low
        target = rng.choice([None, 10, 20]) if rps is not None else None
        groups.append(gpu_group(f"g{index}", gpu, (low, high), rps_target=target))
    if rps is not None and all(g.scaling_target is None for g in groups):
        groups[0] = gpu_group("g0", groups[0].requirements.gpu_names[0], (1, 3), rps_target=15)
    return {"rows": rows, "limits": limits, "groups": tuple(groups), "rps": rps}


@pytest.mark.parametrize("seed", range(40))
def test_random_group_services_match_enumeration(seed: int) -> None:
    case = _instance(seed)
    rows, limits, groups, rps = case["rows"], case["limits"], case["groups"], case["rps"]
    capacity = CapacityData(
        rules=tuple(
            CapacityRule(provider, region, instance_type.lower(), False, count, None, f"c:{n}")
            for n, ((provider, region, instance_type), count) in enumerate(limits.items())
        )
    )
    result = plan_groups(
        groups,
        catalog(rows),
        service=SERVICE,
        rows=True,
        capacity=capacity,
        options=PlanOptions(rps=rps, explain=False),
    )
    # Without groups written in the file, every rps group runs the same workload: one role.
    oracle_groups = []
    for group in groups:
        gpu = group.requirements.gpu_names[0]
        pools = tuple(
            Pool(
                price=r["price"],
                domain=f"{r['provider']}/{r['region']}",
                key=f"{r['provider']}/{r['region']}/{r['instance_type']}",
                capacity=limits.get((r["provider"], r["region"], r["instance_type"])),
            )
            for r in rows
            if r["gpu_name"] == gpu
        )
        sized = rps is not None and group.scaling_target is not None
        oracle_groups.append(
            Group(
                pools,
                group.min_replicas,
                group.max_replicas if sized else group.min_replicas,
                "rps" if sized else str(group.name),
                rps_target=group.scaling_target if sized else None,
            )
        )
    oracle = cheapest(oracle_groups, rps=rps)
    if oracle is None:
        assert result.status == "infeasible", seed
        return
    assert result.status in ("optimal", "feasible"), (seed, result.infeasible_causes)
    assert result.hourly_cost == pytest.approx(oracle[0]), seed
    used: dict[tuple[str, str, str], int] = {}
    for placement in result.placements:
        offer = placement.offer
        key = (offer["provider"], offer["region"], offer["instance_type"])
        used[key] = used.get(key, 0) + placement.count
        (group,) = [g for g in groups if g.name == placement.group]
        assert offer["gpu_name"] == group.requirements.gpu_names[0]
    for key, limit in limits.items():
        assert used.get(key, 0) <= limit, seed
    for plan_group, group in zip(result.groups, groups, strict=True):
        assert group.min_replicas <= plan_group.replicas <= group.max_replicas
        assert plan_group.planned_replicas == plan_group.replicas
