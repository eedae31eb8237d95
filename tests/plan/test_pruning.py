"""Dominated-pool pruning never changes the optimal cost; the tie-break is deterministic.

Wave survival, the spread and the hedge are drawn at random, and some instances put pools of
different interruption rates in one failure domain.

Instances here are too big to enumerate (100–300 pools), so the reference is the same CP-SAT model
over every pool (pruning disabled); exactness of that model is what test_optimality proves.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from plan_frames import offer_frame, service

from planner.placement import CapacityData, PlanOptions, plan_offers
from planner.placement.inputs import CapacityRule
from planner.placement.model import ModelSpec, PoolArrays, solve
from planner.placement.pools import apply_capacity, catalog_pools, failure_domains
from planner.placement.result import FailureDomain


def _arrays(
    seed: int, failure_domain: FailureDomain, mixed: bool = False
) -> tuple[PoolArrays, random.Random]:
    rng = random.Random(seed)
    rows = []
    for _ in range(rng.randint(100, 300)):
        rows.append(
            {
                "provider": rng.choice(["aws", "gcp", "azure"]),
                "region": f"r{rng.randint(1, 6)}",
                "instance_type": f"t{rng.randint(1, 8)}",
                "spot": rng.random() < 0.6,
                # Few distinct prices: many ties, the hard case for pruning and tie-breaks.
                "price": rng.choice([1.0, 1.5, 2.0, 2.5, 3.0, 4.0]),
            }
        )
    pools = catalog_pools(offer_frame(rows))
    rules = tuple(
        CapacityRule(
            provider="*",
            region=f"r{region}",
            instance_type="*",
            spot=None,
            capacity=rng.choice([1, 2, 3, None]),
            interruption_rate=rng.choice([0.05, 0.1, 0.3]),
            source="test",
        )
        for region in range(1, 7)
    )
    # Interruption rates per instance type too (after the regions, so they win): a region-wide
    # failure domain then holds pools of several rates (classes), the hard case for pruning.
    rules += tuple(
        CapacityRule("*", f"r{region}", f"t{kind}", True, None, rng.choice([0.05, 0.3]), "test")
        for region in range(1, 7)
        for kind in range(1, 9)
        if mixed and rng.random() < 0.5
    )
    pools = apply_capacity(pools, CapacityData(rules=rules))
    return PoolArrays.from_frame(pools, failure_domains(pools, failure_domain)), rng


@pytest.mark.parametrize("seed", range(40))
def test_pruning_keeps_the_optimal_cost(seed: int) -> None:
    arrays, rng = _arrays(seed, "instance-type" if seed % 2 else "region", mixed=seed % 4 == 0)
    replicas = rng.randint(5, 60)
    spec = ModelSpec(
        replicas=replicas,
        spot_policy=rng.choice(["spot", "on-demand", "auto"]),
        max_price=None,
        reuse_only=False,
        capacity=True,
        max_per_domain=rng.choice([None, 2, 4]),
        hedge=rng.random() < 0.5,
        availability_target=1.0,
        on_demand_floor=rng.choice([0, 0, 3]),
        budget_hourly=None,
        wave_survival=rng.random() < 0.6,
        # The spread counts every replica of a domain (an explicit --max-per-domain) or spot only.
        spread_every=rng.random() < 0.5,
    )
    pruned = solve(
        arrays, spec, time_limit_seconds=20, num_workers=1, small_model=0, tie_break=False
    )
    full = solve(
        arrays, spec, time_limit_seconds=20, num_workers=1, small_model=10**9, tie_break=False
    )
    assert pruned.status == full.status
    assert pruned.status in ("optimal", "infeasible")
    if full.status == "optimal":
        assert pruned.hourly_cost == pytest.approx(full.hourly_cost)
        assert pruned.model_pools <= full.model_pools


def test_tie_break_prefers_fewer_pools_then_key_order() -> None:
    offers = offer_frame(
        [
            {"provider": "gcp", "region": "b", "instance_type": "x", "spot": False, "price": 2.0},
            {"provider": "aws", "region": "b", "instance_type": "x", "spot": False, "price": 2.0},
            {"provider": "aws", "region": "a", "instance_type": "x", "spot": False, "price": 2.0},
            {"provider": "aws", "region": "c", "instance_type": "x", "spot": False, "price": 2.0},
        ]
    )
    rules = (
        CapacityRule("aws", "a", "x", None, 2, None, "t"),
        CapacityRule("aws", "b", "x", None, 4, None, "t"),
        CapacityRule("gcp", "b", "x", None, 4, None, "t"),
        CapacityRule("aws", "c", "x", None, 4, None, "t"),
    )
    results = [
        plan_offers(
            offers,
            service(4),
            capacity=CapacityData(rules=rules),
            options=PlanOptions(explain=False),
        )
        for _ in range(3)
    ]
    placements = {
        tuple((p.offer["provider"], p.offer["region"], p.count) for p in result.placements)
        for result in results
    }
    # Every plan costs $8. One pool is enough; aws/b is the first key that can take all four.
    assert placements == {(("aws", "b", 4),)}


def test_counts_are_reproducible_over_many_equal_prices() -> None:
    arrays, _ = _arrays(7, "instance-type")
    spec = ModelSpec(
        replicas=40,
        spot_policy="auto",
        max_price=None,
        reuse_only=False,
        capacity=True,
        max_per_domain=2,
        hedge=True,
        availability_target=1.0,
        on_demand_floor=0,
        budget_hourly=None,
    )
    first = solve(arrays, spec, time_limit_seconds=20, num_workers=2)
    second = solve(arrays, spec, time_limit_seconds=20, num_workers=2)
    assert first.status == "optimal"
    assert np.array_equal(first.counts, second.counts)
