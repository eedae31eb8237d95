"""Explain a plan by relax-and-re-plan: what each constraint costs, and what makes a plan infeasible.

Each relaxation is a re-plan with the flags or service-file edits that drop the constraint
(``relaxations.py``), so a saving is exactly what passing that flag produces. A constraint *binds*
when re-planning without it is strictly cheaper or makes an infeasible plan feasible. Besides
each constraint alone, the interacting protections are relaxed in pairs: wave survival and the
hedge may each force the same extra replicas, so that neither alone saves anything while both
together do. For an infeasible plan, the culprits are the constraints whose removal alone makes
it feasible (if none alone does, every active constraint is relaxed together).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from planner.config.normalized import NormalizedService
from planner.match.whynot import Exclusion as MatchExclusion
from planner.placement.kinds import RelaxedStatus
from planner.placement.model import (
    RATE_SCALE,
    RELAXABLE,
    ModelSpec,
    PoolArrays,
    Solution,
    bounds_for,
    hedge_needed_units,
)
from planner.placement.reasons import (
    BudgetTooLow,
    CapacityTooSmall,
    FloorUnmet,
    HedgeUnreachable,
    InfeasibleCause,
    MaxPriceTooLow,
    NoOffer,
    OnlyTogether,
    ReuseOnly,
    SpotPolicyTooNarrow,
    SpreadTooTight,
    TimeLimitWithoutPlan,
    TooFewPlaces,
    WaveUnsurvivable,
)
from planner.placement.relaxations import Replan, has_capacity_limits, relax, relaxation_sets
from planner.placement.result import ConstraintReport, Exclusion, PlanOptions


def constraint_tight(name: str, arrays: PoolArrays, counts: np.ndarray, spec: ModelSpec) -> bool:
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


# Re-plans a relaxed service and options exactly as ``plan_offers`` would (best-effort defaults
# included) over the same pools; ``None`` when that model is too large to solve.
Replanner = Callable[[NormalizedService, PlanOptions], Solution | None]


def constraint_reports(
    arrays: PoolArrays,
    spec: ModelSpec,
    solution: Solution,
    *,
    service: NormalizedService,
    options: PlanOptions,
    replan: Replanner,
) -> tuple[ConstraintReport, ...]:
    """Every active constraint relaxed alone, then the interacting ones in pairs, each re-planned
    with the flags (or service-file edits) that relax it; ``solution`` may be infeasible."""
    feasible = solution.status in ("optimal", "feasible")
    plan_cost = solution.hourly_cost if feasible else None
    capacity_limits = has_capacity_limits(arrays)
    reports = []
    for names in relaxation_sets(spec.active()):
        relaxation = relax(
            names, service, options, replicas=spec.replicas, capacity_limits=capacity_limits
        )
        tight = feasible and any(
            constraint_tight(name, arrays, solution.counts, spec) for name in names
        )
        reports.append(
            _report(relaxation, replan(relaxation.service, relaxation.options), plan_cost, tight)
        )
    return tuple(reports)


def _report(
    relaxation: Replan, relaxed: Solution | None, plan_cost: float | None, tight: bool
) -> ConstraintReport:
    names = relaxation.constraints
    solved = relaxed is not None and relaxed.status in ("optimal", "feasible")
    cost = relaxed.hourly_cost if relaxed is not None and solved else None
    status: RelaxedStatus | None = None
    if relaxed is not None:
        status = "time-limit" if relaxed.status == "timeout" else relaxed.status
    return ConstraintReport(
        name=" + ".join(names),
        description="; ".join(RELAXABLE[name] for name in names),
        constraints=names,
        changes=relaxation.changes,
        tight=tight,
        relaxed_status=status,
        relaxed_hourly_cost=cost,
        # What the flags really produce: negative when the re-plan can meet a default protection
        # the plan had to drop (it then costs more).
        saving_hourly=None if cost is None or plan_cost is None else plan_cost - cost,
        makes_feasible=plan_cost is None and solved,
        relaxed_time_limit=relaxed is not None and relaxed.time_limit_reached,
    )


def diagnose_infeasible(
    arrays: PoolArrays,
    spec: ModelSpec,
    reports: tuple[ConstraintReport, ...],
    *,
    service: NormalizedService,
    options: PlanOptions,
    replan: Replanner,
) -> tuple[tuple[InfeasibleCause, ...], tuple[str, ...]]:
    """Why no plan exists: the causes, and the names of the culprit constraints — those whose
    relaxation alone makes a plan feasible (``reports``: ``constraint_reports`` of the plan)."""
    culprits = tuple(
        report.name for report in reports if len(report.constraints) == 1 and report.makes_feasible
    )
    if culprits:
        return tuple(_cause(name, arrays, spec) for name in culprits), culprits
    if any(not report.binding_known for report in reports):
        # A relaxation may well make it feasible: nobody knows within the time limit.
        return (TimeLimitWithoutPlan(time_limit_seconds=options.time_limit_seconds),), ()
    if len(arrays) == 0:
        return (NoOffer(),), ("replica_total",)
    names = spec.active()
    if names:
        relaxation = relax(
            names,
            service,
            options,
            replicas=spec.replicas,
            capacity_limits=has_capacity_limits(arrays),
        )
        together = replan(relaxation.service, relaxation.options)
        if together is not None and together.status in ("optimal", "feasible"):
            return (OnlyTogether(constraints=names),), names
    everything = spec
    for name in names:
        everything = everything.relax(name)
    capacity_left, _ = bounds_for(arrays, everything)
    placeable = int(capacity_left.sum())
    return (TooFewPlaces(replicas=spec.replicas, placeable=placeable),), ("replica_total",)


def _cause(name: str, arrays: PoolArrays, spec: ModelSpec) -> InfeasibleCause:
    if name == "creation_policy":
        existing = int(arrays.capacity[arrays.capacity_type == "existing"].sum())
        return ReuseOnly(idle=existing, replicas=spec.replicas)
    if name == "spot_policy":
        return SpotPolicyTooNarrow(spot_policy=str(spec.spot_policy))
    if name == "max_price":
        return MaxPriceTooLow(max_price=float(spec.max_price or 0.0))
    if name == "capacity":
        return CapacityTooSmall()
    if name == "failure_domain_spread":
        return SpreadTooTight(
            max_per_domain=int(spec.max_per_domain or 0), every_replica=spec.spread_every
        )
    if name == "wave_survival":
        return WaveUnsurvivable(replicas=spec.replicas)
    if name == "availability_hedge":
        return HedgeUnreachable(
            availability_target=spec.availability_target, replicas=spec.replicas
        )
    if name == "on_demand_floor":
        return FloorUnmet(floor=spec.on_demand_floor)
    if name == "budget":
        return BudgetTooLow(budget_hourly=float(spec.budget_hourly or 0.0))
    raise ValueError(f"not a relaxable constraint: {name}")


def matcher_exclusions(exclusions: Iterable[MatchExclusion]) -> tuple[Exclusion, ...]:
    """The matcher's exclusions (``Offers.exclusions``) that removed offers, as a plan reports them."""
    return tuple(
        Exclusion(
            reason=item.requirement,
            excluded=item.excluded,
            cheapest_excluded_price=item.cheapest_excluded_price,
        )
        for item in exclusions
        if item.excluded
    )


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
