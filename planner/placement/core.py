"""Plan replicas over already-matched offers: pools → model → solve → placements, fallbacks, explain.

``plan_offers`` is the core the public ``planner.plan()`` wraps; it takes plain data (a frame of
offers with the catalog columns, the normalized service, optional fleet/capacity data), so
libraries and tests can plan over any offer table.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from planner.catalog.locations import zone_of_location
from planner.config.normalized import NormalizedService
from planner.placement.explain import (
    Replanner,
    constraint_reports,
    diagnose_infeasible,
    offer_exclusions,
)
from planner.placement.fallbacks import fallback_chains
from planner.placement.inputs import CapacityData
from planner.placement.model import (
    ModelSpec,
    ModelTooLarge,
    PoolArrays,
    Solution,
    bounds_for,
    solve,
)
from planner.placement.notes import (
    DefaultProtectionDropped,
    HedgeReplicas,
    OnDemandFloorAboveReplicas,
    PlanNote,
    ScalingNotComputed,
    SpotAssumptions,
    SpotWithoutRetry,
    TimeLimitReached,
)
from planner.placement.offer import offer_dicts
from planner.placement.pools import (
    apply_capacity,
    catalog_pools,
    combine,
    domain_label,
    existing_pools,
    failure_domains,
    reserved_pools,
    zone_ids,
)
from planner.placement.reasons import TimeLimitWithoutPlan
from planner.placement.relaxations import has_capacity_limits
from planner.placement.replacement import DEFAULT_INTERRUPTION_RATE, unavailability
from planner.placement.result import (
    CapacityType,
    Exclusion,
    Fallback,
    Placement,
    Plan,
    PlanOptions,
    PlanStatus,
    ScalingStep,
)
from planner.placement.spec import (
    default_protections,
    model_spec,
    retries_on_interruption,
    validate_options,
    validate_replicas,
)
from planner.placement.zone_capacity import apply_zone_capacity

# Solving every count of a replica range is cheap (pools are few), but a range of thousands
# would multiply the solve time; beyond this many steps the envelope is not computed.
MAX_SCALING_STEPS = 256


def build_pools(
    offers: pd.DataFrame,
    service: NormalizedService,
    *,
    matched_fleet: pd.DataFrame | None,
    capacity: CapacityData | None,
    default_rate: float = DEFAULT_INTERRUPTION_RATE,
    fleet_pools_by_name: bool = False,
) -> tuple[pd.DataFrame, tuple[PlanNote, ...]]:
    """Every pool the plan may use (catalog, reserved, existing), with capacity data applied.

    ``default_rate``: the monthly interruption rate of a spot pool the capacity data says nothing
    about (``PlanOptions.interruption_rate``). ``fleet_pools_by_name``: idle instances of
    different dstack fleets are different pools (``existing_pools(by_fleet=True)``)."""
    catalog = catalog_pools(offers)
    reserved, notes = reserved_pools(catalog, capacity, service.reservation)
    existing = (
        existing_pools(matched_fleet, by_fleet=fleet_pools_by_name)
        if matched_fleet is not None
        else catalog.iloc[0:0]
    )
    pools = combine([reserved, existing, catalog])
    if not pools.empty:
        spot = pools["spot"].to_numpy(dtype=bool)
        pools = pools.assign(interruption_rate=np.where(spot, default_rate, 0.0))
    pools, zone_notes = apply_zone_capacity(apply_capacity(pools, capacity), capacity)
    return pools, (*notes, *zone_notes)


@dataclass(frozen=True)
class PlanningProblem:
    """What the solver is given: the pools, as arrays, and the constraints on the minimum count."""

    pools: pd.DataFrame
    arrays: PoolArrays
    spec: ModelSpec  # at the minimum of the replica range
    replicas_min: int
    replicas_max: int
    exclusions: tuple[Exclusion, ...]
    notes: tuple[PlanNote, ...]  # known before solving


def prepare_problem(
    offers: pd.DataFrame,
    service: NormalizedService,
    options: PlanOptions,
    *,
    matched_fleet: pd.DataFrame | None,
    capacity: CapacityData | None,
    exclusions: Sequence[Exclusion],
    notes: Sequence[PlanNote],
) -> PlanningProblem:
    """Step 1: pools from the offers, fleet and capacity data; the model's constraints."""
    validate_replicas(service)
    pools, reservation_notes = build_pools(
        offers,
        service,
        matched_fleet=matched_fleet,
        capacity=capacity,
        default_rate=options.interruption_rate,
    )
    missing = unavailability(
        pools["interruption_rate"].to_numpy(dtype=np.float64),
        replaced=retries_on_interruption(service),
        replacement_minutes=options.replacement_minutes,
    )
    arrays = PoolArrays.from_frame(
        pools, failure_domains(pools, options.failure_domain), missing, zone_ids(pools)
    )
    low, high = service.replicas.min or 0, service.replicas.max
    high = low if high is None else high
    spec = model_spec(service, options, low, capacity_limits=has_capacity_limits(arrays))
    floor_note = (
        (OnDemandFloorAboveReplicas(floor=options.on_demand_floor, replicas=low),)
        if options.on_demand_floor > low
        else ()
    )
    return PlanningProblem(
        pools=pools,
        arrays=arrays,
        spec=spec,
        replicas_min=low,
        replicas_max=high,
        exclusions=(*exclusions, *offer_exclusions(offers, spec)),
        notes=(*notes, *reservation_notes, *floor_note),
    )


def plan_offers(
    offers: pd.DataFrame,
    service: NormalizedService,
    *,
    matched_fleet: pd.DataFrame | None = None,
    capacity: CapacityData | None = None,
    options: PlanOptions | None = None,
    exclusions: Sequence[Exclusion] = (),
    notes: Sequence[PlanNote] = (),
) -> Plan:
    """Plan ``service``'s replicas over ``offers`` (rows already matching its requirements).

    ``offers`` may still contain offers of the wrong spot type or above ``max_price``: the model
    applies those two filters itself, so ``explain`` can say what relaxing them would save.
    ``matched_fleet``: ``pools.fleet_frame(...)`` rows that satisfy the configuration.
    """
    options = options or PlanOptions()
    validate_options(options)
    started = time.perf_counter()
    problem = prepare_problem(
        offers,
        service,
        options,
        matched_fleet=matched_fleet,
        capacity=capacity,
        exclusions=exclusions,
        notes=notes,
    )
    solution, spec, dropped = _solve_best_effort(problem.arrays, problem.spec, options)
    problem = replace(problem, spec=spec)
    unsolved = _unsolved_plan(problem, len(offers), service, options)
    if solution.status == "timeout":
        result = _timed_out_plan(unsolved, options)
    elif solution.status == "infeasible":
        result = _infeasible_plan(unsolved, problem, service, options, solution)
    else:
        result = _solved_plan(unsolved, problem, service, options, solution, dropped)
    return replace(result, solve_seconds=time.perf_counter() - started)


def _solve_best_effort(
    arrays: PoolArrays, spec: ModelSpec, options: PlanOptions, *, tie_break: bool = True
) -> tuple[Solution, ModelSpec, tuple[str, ...]]:
    """Solve ``spec``; when it is infeasible, solve again without the default protections.

    Defaults are best-effort: only constraints the user asked for (flags, budget, capacity, the
    service's policies) may make a plan infeasible. Returns the solution, the spec it meets and
    the default protections dropped to meet it. When the plan is infeasible even without them,
    the spec returned is the one without them, so the diagnosis names the user's constraints.
    """
    solution = solve(
        arrays,
        spec,
        time_limit_seconds=options.time_limit_seconds,
        num_workers=options.num_workers,
        tie_break=tie_break,
    )
    defaults = default_protections(spec)
    if solution.status != "infeasible" or not defaults:
        return solution, spec, ()
    relaxed = spec
    for name in defaults:
        relaxed = relaxed.relax(name)
    fallback = solve(
        arrays,
        relaxed,
        time_limit_seconds=options.time_limit_seconds,
        num_workers=options.num_workers,
        tie_break=tie_break,
    )
    if fallback.status == "infeasible":
        return fallback, relaxed, ()
    return fallback, relaxed, defaults


def _unsolved_plan(
    problem: PlanningProblem,
    candidate_offers: int,
    service: NormalizedService,
    options: PlanOptions,
) -> Plan:
    """The plan's fields known before solving, with the status ``infeasible`` until solved."""
    return Plan(
        status="infeasible",
        replicas_min=problem.replicas_min,
        replicas_max=problem.replicas_max,
        target_replicas=problem.replicas_min,
        placements=(),
        hourly_cost=0.0,
        exclusions=problem.exclusions,
        notes=problem.notes,
        candidate_offers=candidate_offers,
        candidate_pools=len(problem.pools),
        spot_policy=service.spot_policy,
        settings=_settings(problem.spec, options, service),
    )


def _timed_out_plan(unsolved: Plan, options: PlanOptions) -> Plan:
    """Step 2a: no plan within the time limit."""
    return replace(
        unsolved,
        infeasible_causes=(TimeLimitWithoutPlan(time_limit_seconds=options.time_limit_seconds),),
    )


def _infeasible_plan(
    unsolved: Plan,
    problem: PlanningProblem,
    service: NormalizedService,
    options: PlanOptions,
    solution: Solution,
) -> Plan:
    """Step 2b: no plan exists; name the constraints that make it so."""
    replan = _replanner(problem)
    reports = constraint_reports(
        problem.arrays,
        problem.spec,
        solution,
        service=service,
        options=options,
        replan=replan,
    )
    causes, culprits = diagnose_infeasible(
        problem.arrays, problem.spec, reports, service=service, options=options, replan=replan
    )
    return replace(
        unsolved,
        scaling=_scaling(problem, service, options, solution, {}),
        constraints=reports,
        infeasible_causes=causes,
        infeasible_constraints=culprits,
    )


def _replanner(problem: PlanningProblem) -> Replanner:
    """Re-plan the problem's pools for another service/options exactly as ``plan_offers`` would
    at the minimum count (best-effort defaults included); ``None`` when the model is too large
    (relaxing can enlarge it: the plan itself was within the limits)."""
    capacity_limits = has_capacity_limits(problem.arrays)
    # Relaxations that lead to the same model (a pair whose second constraint changes nothing
    # once the first is relaxed) are solved once.
    solved: dict[ModelSpec, Solution | None] = {}

    def replan(service: NormalizedService, options: PlanOptions) -> Solution | None:
        spec = model_spec(service, options, problem.replicas_min, capacity_limits=capacity_limits)
        if spec not in solved:
            try:
                solution, _, dropped = _solve_best_effort(
                    problem.arrays, spec, options, tie_break=False
                )
                # A default protection dropped: the re-plan's status is "feasible", as the
                # plan's would be.
                solved[spec] = replace(solution, status="feasible") if dropped else solution
            except ModelTooLarge:
                solved[spec] = None
        return solved[spec]

    return replan


def _solved_plan(
    unsolved: Plan,
    problem: PlanningProblem,
    service: NormalizedService,
    options: PlanOptions,
    solution: Solution,
    dropped: tuple[str, ...] = (),
) -> Plan:
    """Step 2c: placements with their fallback chains, cost per replica count, explanations.

    ``dropped``: default protections that could not be met at the minimum count (the plan is
    then ``feasible``, not ``optimal``: it does not give every protection the planner offers)."""
    scaling, dropped_at = _scaling_best_effort(problem, service, options, solution, dropped)
    reports = (
        constraint_reports(
            problem.arrays,
            problem.spec,
            solution,
            service=service,
            options=options,
            replan=_replanner(problem),
        )
        if options.explain
        else ()
    )
    status: PlanStatus = "optimal" if solution.status == "optimal" and not dropped else "feasible"
    return replace(
        unsolved,
        status=status,
        placements=_placements(problem, service, options, solution),
        hourly_cost=float(solution.hourly_cost or 0.0),
        scaling=scaling,
        constraints=reports,
        notes=(
            *unsolved.notes,
            *_dropped_notes(problem, options, dropped_at),
            *_solution_notes(problem, options, solution, scaling),
            *_spot_assumptions(problem, service, options, solution),
            *_spot_without_retry(problem, service, solution),
        ),
    )


def _spot_assumptions(
    problem: PlanningProblem, service: NormalizedService, options: PlanOptions, solution: Solution
) -> tuple[PlanNote, ...]:
    """The hedge's assumptions (replacement time, default rate), when spot replicas are planned."""
    arrays, counts = problem.arrays, solution.counts
    if int(counts[arrays.spot].sum()) == 0:
        return ()
    defaulted = arrays.spot & np.isclose(arrays.rate, options.interruption_rate)
    return (
        SpotAssumptions(
            replaced=retries_on_interruption(service),
            replacement_minutes=options.replacement_minutes,
            default_rate=options.interruption_rate,
            default_rate_replicas=int(counts[defaulted].sum()),
            expected_ready=round(float(np.dot(counts, 1.0 - arrays.unavailable)), 6),
            target=problem.replicas_min,
        ),
    )


def _spot_without_retry(
    problem: PlanningProblem, service: NormalizedService, solution: Solution
) -> tuple[PlanNote, ...]:
    """A warning when spot replicas are planned and an interrupted one would not be replaced."""
    arrays, counts = problem.arrays, solution.counts
    spot_replicas = int(counts[arrays.spot].sum())
    if spot_replicas == 0 or retries_on_interruption(service):
        return ()
    return (
        SpotWithoutRetry(
            spot_replicas=spot_replicas,
            expected_lost=round(float(np.dot(counts[arrays.spot], arrays.rate[arrays.spot])), 6),
            hedge_replicas=max(0, int(counts.sum()) - problem.replicas_min),
        ),
    )


def _dropped_notes(
    problem: PlanningProblem, options: PlanOptions, dropped_at: dict[str, list[int]]
) -> tuple[PlanNote, ...]:
    """One note per default protection dropped, with the replica counts it was dropped at."""
    if not dropped_at:
        return ()
    arrays = problem.arrays
    usable = bounds_for(arrays, problem.spec)[0] > 0
    spot_domains = len(np.unique(arrays.domain[usable & arrays.spot]))
    return tuple(
        DefaultProtectionDropped(
            protection=name,
            failure_domain=options.failure_domain,
            replicas=problem.replicas_min,
            spot_domains=spot_domains,
            replica_counts=tuple(counts),
        )
        for name, counts in dropped_at.items()
    )


def _scaling_best_effort(
    problem: PlanningProblem,
    service: NormalizedService,
    options: PlanOptions,
    at_low: Solution,
    dropped: tuple[str, ...],
) -> tuple[tuple[ScalingStep, ...], dict[str, list[int]]]:
    """The cost per replica count, and at which counts each default protection was dropped."""
    dropped_at: dict[str, list[int]] = {name: [problem.replicas_min] for name in dropped}
    steps = _scaling(problem, service, options, at_low, dropped_at)
    return steps, dropped_at


def _placements(
    problem: PlanningProblem, service: NormalizedService, options: PlanOptions, solution: Solution
) -> tuple[Placement, ...]:
    """The pools the solution uses, cheapest first, each with its fallback chains."""
    pools, arrays = problem.pools, problem.arrays
    events = service.retry.on_events if service.retry is not None else ()
    chains = fallback_chains(
        pools, arrays, solution.counts, problem.spec, events, options.max_fallbacks
    )
    used = [int(index) for index in np.flatnonzero(solution.counts > 0)]
    offers_used = offer_dicts(pools, used)
    placements = sorted(
        (
            _placement(
                pools, arrays, solution.counts, index, offers_used[index], chains[index], options
            )
            for index in used
        ),
        key=lambda placement: (placement.hourly_price, placement.failure_domain),
    )
    return tuple(placements)


def _solution_notes(
    problem: PlanningProblem,
    options: PlanOptions,
    solution: Solution,
    scaling: tuple[ScalingStep, ...],
) -> tuple[PlanNote, ...]:
    """What the user should know about a solved plan: time limit, scaling range, hedge replicas."""
    low, high, spec = problem.replicas_min, problem.replicas_max, problem.spec
    notes: list[PlanNote] = []
    if solution.status == "feasible" or any(step.status == "feasible" for step in scaling):
        notes.append(TimeLimitReached(time_limit_seconds=options.time_limit_seconds))
    if high - low + 1 > MAX_SCALING_STEPS:
        notes.append(
            ScalingNotComputed(replicas_min=low, replicas_max=high, max_steps=MAX_SCALING_STEPS)
        )
    planned = int(solution.counts.sum())
    if (spec.hedge or spec.wave_survival) and planned > low:
        notes.append(
            HedgeReplicas(
                extra=planned - low,
                expected_survival=spec.hedge,
                wave_domain=options.failure_domain if spec.wave_survival else None,
            )
        )
    return tuple(notes)


def _placement(
    pools: pd.DataFrame,
    arrays: PoolArrays,
    counts: np.ndarray,
    index: int,
    offer: dict[str, Any],
    fallbacks: tuple[Fallback, ...],
    options: PlanOptions,
) -> Placement:
    return Placement(
        offer=offer,
        count=int(counts[index]),
        capacity_type=arrays.capacity_type[index],
        hourly_price=float(arrays.price[index]),
        failure_domain=domain_label(offer, options.failure_domain),
        interruption_rate=float(arrays.rate[index]),
        fallbacks=fallbacks,
        zone=zone_of_location(str(offer["provider"]), str(offer["region"])),
    )


def _scaling(
    problem: PlanningProblem,
    service: NormalizedService,
    options: PlanOptions,
    at_low: Solution,
    dropped_at: dict[str, list[int]],
) -> tuple[ScalingStep, ...]:
    """The optimal cost at every replica count of the range, and each step's marginal cost.

    Each count keeps its default protections when it can; ``dropped_at`` collects the counts at
    which one was dropped (best-effort, as at the minimum)."""
    low, high = problem.replicas_min, problem.replicas_max
    if high == low or high - low + 1 > MAX_SCALING_STEPS:
        return ()
    steps = []
    previous: float | None = None
    for replicas in range(low, high + 1):
        if replicas == low:
            result = at_low
        else:
            result, _, dropped = _solve_best_effort(
                problem.arrays,
                model_spec(service, options, replicas, capacity_limits=problem.spec.capacity),
                options,
                tie_break=False,
            )
            for name in dropped:
                dropped_at.setdefault(name, []).append(replicas)
        feasible = result.status in ("optimal", "feasible")
        cost = result.hourly_cost if feasible else None
        steps.append(
            ScalingStep(
                replicas=replicas,
                status=result.status if feasible else "infeasible",  # type: ignore[arg-type]
                hourly_cost=cost,
                marginal_hourly_cost=None
                if replicas == low or cost is None or previous is None
                else cost - previous,
                instances_by_capacity=_instances_by_capacity(problem.arrays, result.counts)
                if feasible
                else (),
            )
        )
        previous = cost
    return tuple(steps)


def _instances_by_capacity(
    arrays: PoolArrays, counts: np.ndarray
) -> tuple[tuple[CapacityType, int], ...]:
    """How many instances of each capacity type a solution runs, in a fixed (sorted) order."""
    used = counts > 0
    types, inverse = np.unique(arrays.capacity_type[used].astype(str), return_inverse=True)
    totals = np.bincount(inverse, weights=counts[used], minlength=len(types))
    return tuple(
        (kind, int(total)) for kind, total in zip(types.tolist(), totals.tolist(), strict=True)
    )


def _settings(
    spec: ModelSpec, options: PlanOptions, service: NormalizedService
) -> dict[str, object]:
    return {
        "availability_target": options.availability_target,
        "max_per_domain": spec.max_per_domain,
        # What max_per_domain counts: "every replica" (--max-per-domain), "spot replicas" (the
        # default spread without wave survival), None when there is no spread.
        "max_per_domain_counts": None
        if spec.max_per_domain is None
        else ("every replica" if spec.spread_every else "spot replicas"),
        "failure_domain": options.failure_domain,
        "replacement_minutes": options.replacement_minutes,
        "interruption_rate": options.interruption_rate,
        "on_demand_floor": options.on_demand_floor,
        "budget_hourly": options.budget_hourly,
        "time_limit_seconds": options.time_limit_seconds,
        "hedge": spec.hedge,
        "wave_survival": spec.wave_survival,
        "default_spread": options.default_spread,
        "capacity_limits": spec.capacity,
        "creation_policy": service.creation_policy,
        "reservation": service.reservation,
    }
