"""Optimality is proven, not assumed: random small instances against exhaustive enumeration.

Each instance has a few pools (spot and on-demand, capacities, interruption buckets, shared
failure domains), a replica count, a spot policy, and some of: retry on interruption (hedge, and
wave survival or — with it turned off — the default spread), an explicit spread limit, an
on-demand floor, an hourly budget. The test
enumerates every count vector (numpy, no solver) under the constraints as docs/planning.md
defines them and checks that the plan's cost is the minimum, that every constraint holds in the
returned plan, and that "infeasible" is returned exactly when nothing is feasible.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from plan_frames import offer_frame, service

from planner.catalog.locations import region_of_location
from planner.placement import CapacityData, PlanOptions, plan_offers
from planner.placement.inputs import INTERRUPTION_BUCKETS, CapacityRule
from planner.render.plan_reasons import infeasible_reason

INSTANCES = 400


def _instance(seed: int) -> dict:
    rng = random.Random(seed)
    # gcp's locations may be zones (r1-a and r1-b are in region r1, with the region-level "r1"):
    # one failure domain per (backend, region), zones inside it.
    keys = list(
        itertools.product(["aws", "gcp"], ["r1", "r2", "r1-a", "r1-b"], ["t1", "t2"], [False, True])
    )
    pools = []
    base = 0.0
    for number, (provider, region, instance_type, spot) in enumerate(
        rng.sample(keys, rng.randint(2, 5))
    ):
        drawn = rng.randint(1, 60_000) / 10_000
        # Every second pool is priced like the one before but for the sixth decimal (as gcp
        # prices differ): on a 1e-4 USD grid they would tie and the dearer could be chosen.
        base = base if number % 2 else drawn
        pools.append(
            {
                "provider": provider,
                "region": region,
                "instance_type": instance_type,
                "spot": spot,
                "price": round(base + (number * 37 % 100 + 1) / 1e6, 6),
                "capacity": rng.choice([None, None, 0, 1, 2, 3, 4]),
                "bucket": rng.choice(list(INTERRUPTION_BUCKETS)),
            }
        )
    replicas = rng.randint(1, 4)
    retry = rng.random() < 0.6
    budget = None
    if rng.random() < 0.25:
        budget = round(rng.uniform(2, 30), 4)
    policy = rng.choice(["spot", "on-demand", "auto", "auto"])
    return {
        "pools": pools,
        "replicas": replicas,
        "spot_policy": policy,
        "retry": retry,
        "max_per_domain": rng.choice([None, None, 1, 2, 3]),
        "failure_domain": rng.choice(["instance-type", "region"]),
        # A floor under spot_policy: spot is always infeasible: keep it rare.
        "on_demand_floor": rng.choice(
            [0, 0, 0, 0, 0, 0, 0, 1] if policy == "spot" else [0, 0, 1, 2]
        ),
        "budget": budget,
        "availability_target": rng.choice([1.0, 1.0, 0.8]),
        "wave_survival": rng.random() < 0.75,
    }


# Availability on the model's grid: 1e-9 of a replica. With retry on interruption an interrupted
# replica is missing for 10 minutes (the default replacement time) of the 730-hour month; without
# it, for the rest of the month (its unavailability is the monthly rate itself).
UNITS = 1_000_000_000


def _survival(pool: dict, retry: bool) -> int:
    if not pool["spot"]:
        return UNITS
    rate = INTERRUPTION_BUCKETS[pool["bucket"]]
    missing = rate * 10 / (730 * 60) if retry else rate
    return round((1 - missing) * UNITS)


def _needed(instance: dict) -> int:
    exact = instance["availability_target"] * instance["replicas"] * UNITS
    return math.ceil(exact - max(1e-6, exact * 1e-12))


def _enumerate(instance: dict, *, defaults: bool = True) -> tuple[int | None, dict]:
    """The minimum cost in 1e-6 USD units by brute force, and the constraint parameters used.

    Wave survival: for every spot failure domain d, (all replicas) − (spot replicas in d) ≥ N.
    The defaults (wave survival, the spread of half the spot replicas) are best-effort: when no
    plan meets them, the optimum without them (``derived["dropped"]``).
    """
    pools = instance["pools"]
    replicas = instance["replicas"]
    policy = instance["spot_policy"]
    spot = np.array([pool["spot"] for pool in pools])
    spot_possible = policy != "on-demand"
    hedge = spot_possible  # without retry an interrupted replica is lost: hedged all the more
    retry = spot_possible and instance["retry"]
    wave = retry and instance["wave_survival"] and defaults
    # The user's spread counts every replica of a domain; the default one only spot replicas.
    spread = instance["max_per_domain"]
    spread_every = spread is not None
    default_spread = spread is None and retry and not instance["wave_survival"] and replicas > 1
    if default_spread and defaults:
        spread = math.ceil(replicas / 2)
    if not spot_possible and not spread_every:
        spread = None
    # More than any optimal plan uses: the worst rate is 30%, and wave survival can need two
    # full copies (two domains of N each).
    upper = max(math.ceil(replicas / 0.7), 2 * replicas) + 1
    allowed = np.where(spot, policy != "on-demand", policy != "spot")
    bounds = [
        (0 if not allowed[i] else upper if pool["capacity"] is None else pool["capacity"])
        for i, pool in enumerate(pools)
    ]
    grid = np.array(list(itertools.product(*(range(b + 1) for b in bounds))), dtype=np.int64)
    price_units = np.array([round(pool["price"] * 1_000_000) for pool in pools])
    survival = np.array([_survival(pool, instance["retry"]) for pool in pools])
    total = grid.sum(axis=1)
    ok = total >= replicas if hedge else total == replicas
    if hedge:
        ok &= grid @ survival >= _needed(instance)
    domain_of = [
        (pool["provider"], pool["region"], pool["instance_type"])
        if instance["failure_domain"] == "instance-type"
        else (pool["provider"], region_of_location(pool["provider"], pool["region"]))
        for pool in pools
    ]
    for domain in set(domain_of):
        members = [i for i, d in enumerate(domain_of) if d == domain and pools[i]["spot"]]
        everyone = [i for i, d in enumerate(domain_of) if d == domain]
        if spread is not None:
            ok &= grid[:, everyone if spread_every else members].sum(axis=1) <= spread
        if not members:
            continue
        in_domain = grid[:, members].sum(axis=1)
        if wave:
            ok &= total - in_domain >= replicas
    # A floor above the replica count means every replica (docs/planning.md).
    ok &= grid[:, ~spot].sum(axis=1) >= min(instance["on_demand_floor"], replicas)
    cost = grid @ price_units
    if instance["budget"] is not None:
        ok &= cost <= math.floor(instance["budget"] * 1_000_000 + 1e-3)
    best = int(cost[ok].min()) if ok.any() else None
    if best is None and defaults and (wave or default_spread):
        fallback, derived = _enumerate(instance, defaults=False)
        if fallback is not None:
            return fallback, {**derived, "dropped": True}
    return best, {
        "dropped": False,
        "hedge": hedge,
        "retry": retry,
        "spread": spread,
        "spread_every": spread_every,
        "wave": wave,
        "survival": survival,
    }


def _plan(instance: dict):
    pools = instance["pools"]
    offers = offer_frame(
        [
            {key: pool[key] for key in ("provider", "region", "instance_type", "spot", "price")}
            for pool in pools
        ]
    )
    rules = tuple(
        CapacityRule(
            provider=pool["provider"],
            region=pool["region"],
            instance_type=pool["instance_type"],
            spot=pool["spot"],
            capacity=pool["capacity"],
            interruption_rate=INTERRUPTION_BUCKETS[pool["bucket"]],
            source=f"test:{index}",
        )
        for index, pool in enumerate(pools)
    )
    options = PlanOptions(
        availability_target=instance["availability_target"],
        max_per_domain=instance["max_per_domain"],
        failure_domain=instance["failure_domain"],
        on_demand_floor=instance["on_demand_floor"],
        budget_hourly=instance["budget"],
        wave_survival=instance["wave_survival"],
        explain=False,
        num_workers=1,
    )
    return plan_offers(
        offers,
        service(
            instance["replicas"],
            spot_policy=instance["spot_policy"],
            retry_events=("interruption",) if instance["retry"] else ("no-capacity",),
        ),
        capacity=CapacityData(rules=rules),
        options=options,
    )


@pytest.mark.parametrize("seed", range(INSTANCES))
def test_plan_cost_equals_enumerated_optimum(seed: int) -> None:
    instance = _instance(seed)
    best, derived = _enumerate(instance)
    result = _plan(instance)
    if best is None:
        assert result.status == "infeasible", instance
        assert infeasible_reason(result.infeasible_causes)
        return
    expected_status = "feasible" if derived["dropped"] else "optimal"
    assert result.status == expected_status, (instance, infeasible_reason(result.infeasible_causes))
    assert round(result.hourly_cost * 1_000_000) == best, instance

    # Every constraint holds in the returned plan (checked on the plan, not on the model).
    pools = instance["pools"]
    index_of = {
        (pool["provider"], pool["region"], pool["instance_type"], pool["spot"]): i
        for i, pool in enumerate(pools)
    }
    counts = np.zeros(len(pools), dtype=np.int64)
    for placement in result.placements:
        offer = placement.offer
        i = index_of[(offer["provider"], offer["region"], offer["instance_type"], offer["spot"])]
        counts[i] += placement.count
        assert placement.capacity_type == ("spot" if offer["spot"] else "on-demand")
        assert placement.hourly_price == pools[i]["price"]
    replicas = instance["replicas"]
    assert counts.sum() >= replicas if derived["hedge"] else counts.sum() == replicas
    for i, pool in enumerate(pools):
        if pool["capacity"] is not None:
            assert counts[i] <= pool["capacity"]
        if instance["spot_policy"] == "spot":
            assert counts[i] == 0 or pool["spot"]
        if instance["spot_policy"] == "on-demand":
            assert counts[i] == 0 or not pool["spot"]
    if derived["hedge"]:
        surviving = counts @ derived["survival"]
        assert surviving >= _needed(instance)
    per_domain: dict[str, int] = {}
    for placement in result.placements:
        if placement.offer["spot"] or derived["spread_every"]:
            per_domain[placement.failure_domain] = (
                per_domain.get(placement.failure_domain, 0) + placement.count
            )
    if derived["spread"] is not None:
        assert all(count <= derived["spread"] for count in per_domain.values())
    spot_per_domain: dict[str, int] = {}
    for placement in result.placements:
        if placement.offer["spot"]:
            spot_per_domain[placement.failure_domain] = (
                spot_per_domain.get(placement.failure_domain, 0) + placement.count
            )
    if derived["wave"]:
        # One wave (every spot replica of one domain) leaves at least the target.
        assert all(counts.sum() - count >= replicas for count in spot_per_domain.values())
    on_demand = sum(p.count for p in result.placements if not p.offer["spot"])
    assert on_demand >= min(instance["on_demand_floor"], instance["replicas"])
    if instance["budget"] is not None:
        assert result.hourly_cost <= instance["budget"] + 1e-9
    assert math.isclose(result.hourly_cost, float(counts @ [p["price"] for p in pools]))
    assert math.isclose(result.monthly_cost, result.hourly_cost * 730)


def test_enough_instances_exercise_every_constraint() -> None:
    """The random family is not degenerate: each constraint kind shows up, feasible and not."""
    instances = [_instance(seed) for seed in range(INSTANCES)]
    results = [_enumerate(instance) for instance in instances]
    assert sum(best is None for best, _ in results) >= 30
    assert sum(best is not None for best, _ in results) >= 250
    assert sum(derived["hedge"] for _, derived in results) >= 40
    assert sum(derived["spread"] is not None for _, derived in results) >= 60
    # Wave survival asked for (met, or dropped as a best-effort default).
    waves = [
        i
        for i, (_, derived) in enumerate(results)
        if derived["wave"] or (derived["retry"] and instances[i]["wave_survival"])
    ]
    assert len(waves) >= 100
    # Wave survival changes the answer (cost or feasibility) in many of them.
    without = [_enumerate({**instances[i], "wave_survival": False})[0] for i in waves]
    # (best-effort: where no plan survives a wave, it is dropped and the plan is "feasible").
    changed = [
        results[i][0] != other or results[i][1]["dropped"]
        for i, other in zip(waves, without, strict=True)
    ]
    assert sum(changed) >= 20
    assert sum(instance["on_demand_floor"] > 0 for instance in instances) >= 40
    assert sum(instance["budget"] is not None for instance in instances) >= 30
