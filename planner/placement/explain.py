"""Explain a plan by relax-and-resolve: what each constraint costs, and what makes a plan infeasible.

A constraint *binds* when re-solving without it is strictly cheaper; the difference is what
relaxing it would save. For an infeasible plan, the culprits are the constraints whose removal
alone makes it feasible (if none alone does, every active constraint is relaxed together).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.placement.model import (
    RATE_SCALE,
    RELAXABLE,
    ModelSpec,
    ModelTooLarge,
    PoolArrays,
    Solution,
    bounds_for,
    hedge_needed_units,
    solve,
)
from planner.placement.result import ConstraintReport, Exclusion


def _tight(name: str, arrays: PoolArrays, counts: np.ndarray, spec: ModelSpec) -> bool:
    """Does the constraint hold with equality (no room for one more unit) in the plan?"""
    if name == "capacity":
        limited = arrays.capacity >= 0
        return bool(np.any(limited & (counts > 0) & (counts >= arrays.capacity)))
    if name == "failure_domain_spread" and spec.max_per_domain is not None:
        spread = arrays.spot | spec.spread_every
        spread_counts = pd.Series(counts * spread).groupby(arrays.domain).sum()
        return bool((spread_counts >= spec.max_per_domain).any())
    if name == "wave_survival":
        spot_counts = pd.Series(counts * arrays.spot).groupby(arrays.domain).sum()
        largest = int(spot_counts.max()) if len(spot_counts) else 0
        return largest > 0 and int(counts.sum()) - largest <= spec.replicas
    if name == "availability_hedge":
        surviving = int(np.dot(counts, arrays.survival_units))
        return surviving - hedge_needed_units(spec) < RATE_SCALE
    if name == "on_demand_floor":
        return int(counts[~arrays.spot].sum()) <= spec.on_demand_floor
    if name == "budget" and spec.budget_hourly is not None:
        cost = float(np.dot(counts, arrays.price))
        used_prices = arrays.price[counts > 0]
        cheapest = float(used_prices.min()) if used_prices.size else 0.0
        return spec.budget_hourly - cost < cheapest
    # Filters (spot_policy, max_price, creation_policy): tight exactly when they bind.
    return False


def constraint_reports(
    arrays: PoolArrays,
    spec: ModelSpec,
    solution: Solution,
    *,
    time_limit_seconds: float,
    num_workers: int,
) -> tuple[ConstraintReport, ...]:
    reports = []
    for name in spec.active():
        relaxed = _relaxed_solve(arrays, spec.relax(name), time_limit_seconds, num_workers)
        if relaxed is None:
            reports.append(_not_resolved(name, _tight(name, arrays, solution.counts, spec)))
            continue
        relaxed_cost = relaxed.hourly_cost if relaxed.status in ("optimal", "feasible") else None
        saving = (
            None
            if relaxed_cost is None or solution.hourly_cost is None
            else max(0.0, solution.hourly_cost - relaxed_cost)
        )
        tight = _tight(name, arrays, solution.counts, spec) or bool(saving and saving > 1e-9)
        reports.append(
            ConstraintReport(
                name=name,
                description=RELAXABLE[name],
                tight=tight,
                relaxed_status="infeasible" if relaxed.status == "timeout" else relaxed.status,
                relaxed_hourly_cost=relaxed_cost,
                saving_hourly=saving,
            )
        )
    return tuple(reports)


def diagnose_infeasible(
    arrays: PoolArrays,
    spec: ModelSpec,
    *,
    time_limit_seconds: float,
    num_workers: int,
) -> tuple[str, tuple[str, ...], tuple[ConstraintReport, ...]]:
    """Why no plan exists: a sentence, the culprit constraint names, and the re-solve results."""
    reports = []
    culprits = []
    for name in spec.active():
        relaxed = _relaxed_solve(arrays, spec.relax(name), time_limit_seconds, num_workers)
        if relaxed is None:
            reports.append(_not_resolved(name, tight=False))
            continue
        feasible = relaxed.status in ("optimal", "feasible")
        if feasible:
            culprits.append(name)
        reports.append(
            ConstraintReport(
                name=name,
                description=RELAXABLE[name],
                tight=feasible,
                relaxed_status=relaxed.status if relaxed.status != "timeout" else "infeasible",
                relaxed_hourly_cost=relaxed.hourly_cost if feasible else None,
                saving_hourly=None,
            )
        )
    if culprits:
        reason = "; ".join(_culprit_sentence(name, arrays, spec) for name in culprits)
        return reason, tuple(culprits), tuple(reports)
    everything = spec
    for name in spec.active():
        everything = everything.relax(name)
    capacity_left, _ = bounds_for(arrays, everything)
    if len(arrays) == 0:
        reason = "no offer satisfies the configuration (see the exclusions)"
        return reason, ("replica_total",), tuple(reports)
    together = solve(
        arrays,
        everything,
        time_limit_seconds=time_limit_seconds,
        num_workers=num_workers,
        tie_break=False,
    )
    if together.status in ("optimal", "feasible") and spec.active():
        names = spec.active()
        reason = "no single constraint makes it infeasible; together they do: " + ", ".join(names)
        return reason, names, tuple(reports)
    placeable = int(capacity_left.sum())
    reason = (
        f"replica_total: {spec.replicas} replicas are needed but the offers (with reservations, "
        f"idle fleet instances and obtainable counts) can hold only {placeable}"
    )
    return reason, ("replica_total",), tuple(reports)


def _relaxed_solve(
    arrays: PoolArrays, spec: ModelSpec, time_limit_seconds: float, num_workers: int
) -> Solution | None:
    """The re-solve without one constraint; ``None`` when that model is too large to solve
    (relaxing can only enlarge it: the plan itself was within the limits)."""
    try:
        return solve(
            arrays,
            spec,
            time_limit_seconds=time_limit_seconds,
            num_workers=num_workers,
            tie_break=False,
        )
    except ModelTooLarge:
        return None


def _not_resolved(name: str, tight: bool) -> ConstraintReport:
    return ConstraintReport(
        name=name,
        description=RELAXABLE[name],
        tight=tight,
        relaxed_status=None,
        relaxed_hourly_cost=None,
        saving_hourly=None,
    )


def _culprit_sentence(name: str, arrays: PoolArrays, spec: ModelSpec) -> str:
    if name == "creation_policy":
        existing = int(arrays.capacity[arrays.capacity_type == "existing"].sum())
        if existing == 0:
            return (
                "creation_policy: reuse allows only idle fleet instances, and no idle fleet "
                "instance satisfies the configuration"
            )
        return (
            f"creation_policy: reuse allows only idle fleet instances, and only {existing} "
            f"satisfy the configuration ({spec.replicas} needed)"
        )
    if name == "spot_policy":
        return f"spot_policy: {spec.spot_policy} leaves too few offers"
    if name == "max_price":
        return f"max_price: {spec.max_price} excludes the offers that would be needed"
    if name == "capacity":
        return "capacity: the obtainable counts (capacity file; one per marketplace listing) are too small"
    if name == "failure_domain_spread":
        counted = "replicas" if spec.spread_every else "spot replicas"
        return f"failure_domain_spread: at most {spec.max_per_domain} {counted} per failure domain leaves too few domains"
    if name == "wave_survival":
        return (
            f"wave_survival: no plan keeps {spec.replicas} replicas after losing every spot "
            "replica of any one failure domain"
        )
    if name == "availability_hedge":
        return (
            f"availability_hedge: the expected surviving replicas cannot reach "
            f"{spec.availability_target:g} × {spec.replicas}"
        )
    if name == "on_demand_floor":
        return f"on_demand_floor: {spec.on_demand_floor} replicas on never-interrupted capacity cannot be met"
    if name == "budget":
        budget = f"{spec.budget_hourly:,.6f}".rstrip("0").rstrip(".")
        return f"budget: no plan costs at most ${budget}/hour"
    return name


def offer_exclusions(offers: pd.DataFrame, spec: ModelSpec) -> tuple[Exclusion, ...]:
    """Offers removed by the two filters the model applies itself (spot policy, max_price)."""
    exclusions = []
    if offers.empty:
        return ()
    spot = offers["spot"].to_numpy(dtype=bool)
    price = offers["price"].to_numpy(dtype=np.float64)
    if spec.spot_policy in ("spot", "on-demand"):
        excluded = ~spot if spec.spot_policy == "spot" else spot
        exclusions.append(_exclusion("spot_policy", excluded, price))
    if spec.max_price is not None:
        exclusions.append(_exclusion("max_price", price > spec.max_price, price))
    return tuple(exclusion for exclusion in exclusions if exclusion.excluded)


def _exclusion(reason: str, mask: np.ndarray, price: np.ndarray) -> Exclusion:
    count = int(mask.sum())
    return Exclusion(
        reason=reason,
        excluded=count,
        cheapest_excluded_price=float(price[mask].min()) if count else None,
    )
