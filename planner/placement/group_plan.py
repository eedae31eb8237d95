"""``plan_groups``: one plan over every replica group of a service (docs/planning.md).

Each group is matched on its own requirements, its offers become its pools (as for a service
without groups), and one CP-SAT model (``group_model.solve_groups``) places every group at once:
capacity shared between groups counted once, the failure-domain rule applied across the whole
service, costs per group and in total. With ``PlanOptions.rps`` the interchangeable groups are
sized for the traffic level and the plan carries the cost curve over it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from planner.catalog.locations import zone_of_location
from planner.config.normalized import IntRange, NormalizedService
from planner.errors import InputError, excerpt
from planner.match import find_offers
from planner.match.group_offers import has_groups
from planner.placement.core import build_pools, plan_offers
from planner.placement.explain import constraint_tight, matcher_exclusions, offer_exclusions
from planner.placement.fallbacks import fallback_chains
from planner.placement.fleet_match import matched_fleet
from planner.placement.group_model import (
    RPS_SCALE,
    GroupProblem,
    GroupSolution,
    shared_limits,
    solve_groups,
    target_units,
)
from planner.placement.group_result import GroupPlan, RpsStep
from planner.placement.inputs import UNLIMITED, CapacityData, FleetInventory
from planner.placement.kinds import RelaxedStatus
from planner.placement.model import RELAXABLE, ModelSpec, PoolArrays, bounds_for, solve
from planner.placement.notes import (
    DefaultProtectionDropped,
    FleetMatched,
    FleetsUnchecked,
    GroupSurvivalUnmet,
    PlanNote,
    ReuseWithoutFleet,
    RpsCurveTruncated,
    SpotWithoutRetry,
    TimeLimitReached,
)
from planner.placement.offer import offer_dicts
from planner.placement.pools import POOL_KEY, domain_label, failure_domains
from planner.placement.reasons import (
    GroupCannotBePlaced,
    GroupsOnlyTogether,
    InfeasibleCause,
    RpsUnreachable,
    TimeLimitWithoutPlan,
)
from planner.placement.relaxations import relax, relaxation_sets
from planner.placement.replacement import unavailability
from planner.placement.result import (
    ConstraintReport,
    Exclusion,
    Placement,
    Plan,
    PlanOptions,
    PlanStatus,
)
from planner.placement.spec import (
    default_protections,
    model_spec,
    retries_on_interruption,
    validate_options,
)
from planner.placement.unmatched import unmatched_rows
from planner.requirements import GroupRequirements, sized_disk_gb

if TYPE_CHECKING:
    from planner.catalog import Catalog
    from planner.config.dstack_settings import DstackServerSettings

# The cost curve over the traffic level: at most this many steps (one solve each).
MAX_RPS_STEPS: Final = 48
MAX_RPS: Final = 1e9
DOMAIN_SURVIVAL: Final = "group_domain_survival"
DOMAIN_SURVIVAL_WORDS: Final = (
    "every replica group (all interchangeable rps groups as one) keeps a replica outside each "
    "failure domain"
)


@dataclass(frozen=True)
class _Group:
    """One group, matched and pooled, before solving."""

    group: GroupRequirements
    service: NormalizedService  # the service with this group's policies and replica range
    candidate_offers: int
    offers: pd.DataFrame  # the group's matching offers (spot policy and max_price not applied)
    matched_fleet: pd.DataFrame | None  # the idle fleet instance records the group may reuse
    exclusions: tuple[Exclusion, ...]
    notes: tuple[PlanNote, ...]
    pools: pd.DataFrame
    low: int
    high: int
    rps_target: float | None
    role: int
    offer_table: Catalog | None = None  # the table the offers came from (dstack-level or rows)


def in_rps_role(group: GroupRequirements) -> bool:
    """A group whose replicas are interchangeable traffic capacity: an rps ``scaling.target``
    and no router (a router keeps its count)."""
    return (
        group.scaling_metric == "rps"
        and group.scaling_target is not None
        and group.scaling_target > 0
        and not group.fixed_count
    )


def plan_groups(
    groups: Sequence[GroupRequirements],
    catalog: Catalog,
    *,
    service: NormalizedService,
    capacity: CapacityData | None = None,
    options: PlanOptions | None = None,
    rows: bool = False,
    dstack_config: DstackServerSettings | None = None,
    fleet: FleetInventory | None = None,
) -> Plan:
    """One plan over every group of ``service`` (``groups``: ``group_requirements(config)``).

    ``rows``, ``dstack_config``: as ``find_offers`` (dstack-level offers by default).
    ``fleet``: idle instances each group may reuse when they match that group's requirements
    (on catalog rows, and only of the fleets ``fleets:`` names); an instance takes at most one
    replica of any group, at the price the inventory gives.

    ``service`` gives the service-wide keys (``retry``, ``creation_policy``). Each group's
    replicas go on that group's offers; without ``options.rps`` every group runs its minimum
    (a router group its count); with it, the interchangeable groups are sized for the traffic.
    """
    options = options or PlanOptions()
    validate_options(options)
    _validate_rps(options.rps, groups)
    started = time.perf_counter()
    roles = group_roles(groups, service)
    prepared = [
        _prepare(group, role, catalog, service, capacity, options, (rows, dstack_config), fleet)
        for group, role in zip(groups, roles, strict=True)
    ]
    # Capacity and fleet rows naming no place of the catalog: the same warning as without groups.
    table = prepared[0].offer_table if prepared else None
    notes = (
        *_fleet_notes(prepared, service, fleet),
        *unmatched_rows(catalog, capacity, fleet, table),
    )
    solved = _solve_prepared(prepared, service, capacity, options, catalog, notes, full=True)
    plan = solved.plan
    if options.explain:
        plan = replace(
            plan, constraints=_constraint_reports(solved, prepared, service, capacity, catalog)
        )
    return replace(plan, solve_seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class _Solved:
    """A group plan and what explain needs of it: the options, the problems solved (default
    protections relaxed if they were dropped), the solution, the roles the survival rule
    protected before any was dropped."""

    plan: Plan
    options: PlanOptions
    problems: list[GroupProblem]
    solution: GroupSolution
    protected: frozenset[int]


def _solve_prepared(
    prepared: Sequence[_Group],
    service: NormalizedService,
    capacity: CapacityData | None,
    options: PlanOptions,
    catalog: Catalog,
    fleet_notes: Sequence[PlanNote] = (),
    *,
    full: bool,
) -> _Solved:
    """Solve the prepared groups under ``options`` (no explain). ``full``: also the cost curve
    and the diagnosis of an infeasible plan (a re-plan of explain needs neither).
    ``fleet_notes``: the plan's notes about the fleet (the first notes)."""
    problems = _problems(prepared, options)
    grouped = has_groups([part.group for part in prepared]) and options.group_survival
    protected, single = _protected_roles(prepared, problems) if grouped else (frozenset(), [])
    initially = protected
    notes: list[PlanNote] = [*fleet_notes]
    notes += [note for part in prepared for note in part.notes]
    if single:
        notes.append(GroupSurvivalUnmet(tuple(single), "one-replica", options.failure_domain))
    limits = shared_limits(problems, enforce_estimates=all(p.spec.capacity for p in problems))
    per_domain = options.max_per_domain

    def run(
        current: Sequence[GroupProblem], roles: frozenset[int], rps: float | None, tie: bool
    ) -> GroupSolution:
        return solve_groups(
            current,
            rps=rps,
            domain_survival=roles,
            shared_capacity=limits,
            budget_hourly=options.budget_hourly,
            time_limit_seconds=options.time_limit_seconds,
            num_workers=options.num_workers,
            tie_break=tie,
            max_per_domain=per_domain,
        )

    solution = run(problems, protected, options.rps, True)
    dropped: list[str] = []
    if solution.status == "infeasible" and protected:
        # Best-effort, role by role: keep the rule for every role it can hold for.
        kept: frozenset[int] = frozenset()
        for role in sorted(protected):
            if run(problems, kept | {role}, options.rps, False).status != "infeasible":
                kept |= {role}
        relaxed = run(problems, kept, options.rps, True)
        if relaxed.status != "infeasible":
            solution, dropped = relaxed, [DOMAIN_SURVIVAL]
            notes.append(
                GroupSurvivalUnmet(
                    tuple(_role_names(prepared, protected - kept)),
                    "infeasible",
                    options.failure_domain,
                )
            )
            protected = kept
    if solution.status == "infeasible":
        defaults = sorted({name for p in problems for name in default_protections(p.spec)})
        if defaults:
            relaxed_problems = [replace(p, spec=_relax(p.spec, defaults)) for p in problems]
            relaxed = run(relaxed_problems, protected, options.rps, True)
            if relaxed.status != "infeasible":
                solution, problems = relaxed, relaxed_problems
                dropped += defaults
                notes += _dropped_notes(defaults, problems, options)
    plan = _base_plan(prepared, problems, service, options, catalog)

    def solved(result: Plan) -> _Solved:
        return _Solved(result, options, problems, solution, initially)

    if solution.status == "timeout":
        return solved(
            replace(
                plan,
                notes=tuple(notes),
                infeasible_causes=(
                    TimeLimitWithoutPlan(time_limit_seconds=options.time_limit_seconds),
                ),
            )
        )
    if solution.status == "infeasible":
        causes = _infeasible_causes(prepared, problems, options, capacity) if full else ()
        return solved(replace(plan, notes=tuple(notes), infeasible_causes=causes))
    if solution.status == "feasible":
        notes.append(TimeLimitReached(time_limit_seconds=options.time_limit_seconds))
    curve: tuple[RpsStep, ...] = ()
    if options.rps is not None and full:
        curve, truncated = _rps_curve(
            prepared, problems, lambda level: run(problems, protected, level, False)
        )
        if truncated:
            notes.append(RpsCurveTruncated(max_steps=MAX_RPS_STEPS, rps_to=curve[-1].rps_to))
    notes += _spot_without_retry(problems, solution, service)
    status: PlanStatus = "optimal" if solution.status == "optimal" and not dropped else "feasible"
    placements = _placements(prepared, problems, solution, options)
    return solved(
        replace(
            plan,
            status=status,
            target_replicas=sum(solution.replicas),
            placements=placements,
            hourly_cost=float(solution.hourly_cost or 0.0),
            notes=tuple(notes),
            groups=_group_plans(prepared, problems, solution),
            rps_curve=curve,
        )
    )


# The constraints explain relaxes for a group plan: those a planning flag drops for every group.
GROUP_RELAXABLE: Final = (
    "capacity",
    "failure_domain_spread",
    "wave_survival",
    "availability_hedge",
    "on_demand_floor",
    "budget",
)


def _constraint_reports(
    solved: _Solved,
    prepared: Sequence[_Group],
    service: NormalizedService,
    capacity: CapacityData | None,
    catalog: Catalog,
) -> tuple[ConstraintReport, ...]:
    """Each constraint a flag relaxes (for every group at once), alone and the interacting ones
    in pairs, re-planned with exactly those flags (``relaxations.relax``), as for a service
    without groups: a saving is what ``planner plan`` with the printed changes gives."""
    plan, options = solved.plan, solved.options
    written = [
        model_spec(part.service, options, part.high, capacity_limits=problem.spec.capacity)
        for part, problem in zip(prepared, solved.problems, strict=True)
    ]
    active = [name for name in GROUP_RELAXABLE if any(name in s.active() for s in written)]
    if solved.protected:
        active.append(DOMAIN_SURVIVAL)
    plan_cost = plan.hourly_cost if plan.feasible else None
    reports = []
    seen: dict[PlanOptions, Plan] = {}
    for names in relaxation_sets(tuple(active)):
        relaxation = relax(
            names,
            service,
            options,
            replicas=plan.target_replicas,
            capacity_limits=any(s.capacity for s in written),
        )
        if relaxation.options not in seen:
            seen[relaxation.options] = _solve_prepared(
                prepared, service, capacity, relaxation.options, catalog, full=False
            ).plan
        again = seen[relaxation.options]
        cost = again.hourly_cost if again.feasible else None
        tight = plan.feasible and any(
            _group_tight(name, solved, written) for name in names if name != DOMAIN_SURVIVAL
        )
        saving = None if cost is None or plan_cost is None else plan_cost - cost
        if DOMAIN_SURVIVAL in names and saving is not None and saving > 1e-9:
            tight = True
        reports.append(
            ConstraintReport(
                name=" + ".join(names),
                description="; ".join(
                    DOMAIN_SURVIVAL_WORDS if name == DOMAIN_SURVIVAL else RELAXABLE[name]
                    for name in names
                ),
                constraints=names,
                changes=relaxation.changes,
                tight=tight,
                relaxed_status=_relaxed_status(again),
                relaxed_hourly_cost=cost,
                saving_hourly=saving,
                makes_feasible=plan_cost is None and again.feasible,
                relaxed_time_limit=_hit_time_limit(again),
            )
        )
    return tuple(reports)


def _hit_time_limit(plan: Plan) -> bool:
    """The re-plan stopped at the time limit: without a plan, or with one not proven cheapest."""
    return any(isinstance(cause, TimeLimitWithoutPlan) for cause in plan.infeasible_causes) or any(
        isinstance(note, TimeLimitReached) for note in plan.notes
    )


def _relaxed_status(plan: Plan) -> RelaxedStatus:
    """A re-plan's status as explain reports it: no plan within the time limit is not "infeasible"."""
    if not plan.feasible and _hit_time_limit(plan):
        return "time-limit"
    return plan.status


def _group_tight(name: str, solved: _Solved, written: Sequence[ModelSpec]) -> bool:
    """The constraint holds with equality in some group that has it."""
    return any(
        name in spec.active() and constraint_tight(name, problem.arrays, counts, spec)
        for problem, counts, spec in zip(
            solved.problems, solved.solution.counts, written, strict=True
        )
        if len(counts) == len(problem.arrays)
    )


def _validate_rps(rps: float | None, groups: Sequence[GroupRequirements]) -> None:
    if rps is None:
        return
    if isinstance(rps, bool) or not isinstance(rps, int | float) or not 0 < rps <= MAX_RPS:
        raise InputError(
            f"rps must be a number of requests per second in (0, {MAX_RPS:.0e}], "
            f"got {excerpt(rps, as_repr=True)}"
        )
    if not any(in_rps_role(group) for group in groups):
        raise InputError(
            "--rps: no replica group scales on requests per second (`scaling: {metric: rps, "
            "target: N}` without a router), so no group can be sized for a traffic level"
        )


def group_roles(groups: Sequence[GroupRequirements], service: NormalizedService) -> list[int]:
    """A role id per group: the rps groups (``in_rps_role``) that run the same workload — the
    same image, python, docker and commands — share one role (interchangeable capacity for the
    traffic and for failure-domain survival); every other group is a role of its own. So the
    prefill and decode groups of a disaggregated service (different commands) are two roles,
    each serving the whole traffic, while one model on two GPU sizes is one role."""
    workloads: dict[str | None, tuple[object, ...]] = {}
    for written in service.groups or ():
        workloads[written.name] = (
            written.image,
            written.python,
            written.docker,
            tuple(written.commands or ()),
        )
    common = (service.image, service.python, service.docker, tuple(service.commands or ()))
    shared: dict[tuple[object, ...], int] = {}
    roles = []
    for index, group in enumerate(groups):
        if in_rps_role(group):
            key = workloads.get(group.name, common)
            roles.append(shared.setdefault(key, -1 - len(shared)))
        else:
            roles.append(index)
    return roles


def _prepare(
    group: GroupRequirements,
    role: int,
    catalog: Catalog,
    service: NormalizedService,
    capacity: CapacityData | None,
    options: PlanOptions,
    level: tuple[bool, DstackServerSettings | None] = (False, None),
    fleet: FleetInventory | None = None,
) -> _Group:
    """Match the group's offers and fleet instances (spot policy and max_price left to the
    model) and pool them.

    ``level``: (rows, dstack_config) as ``find_offers`` takes them.
    """
    relaxed = replace(group.requirements, spot=None, max_price=None)
    rows, dstack_config = level
    offers = find_offers(relaxed, catalog, rows=rows, dstack_config=dstack_config)
    reusable = (
        matched_fleet(fleet, relaxed, group.requirements.fleets) if fleet is not None else None
    )
    sized = options.rps is not None and in_rps_role(group)
    low = group.min_replicas
    high = group.max_replicas if sized else low
    group_service = service.model_copy(
        update={
            "spot_policy": group.spot_policy,
            "max_price": group.requirements.max_price,
            "reservation": group.requirements.reservation,
            "replicas": IntRange(min=low, max=high),
        }
    )
    pools, notes = build_pools(
        offers.frame,
        group_service,
        matched_fleet=reusable,
        capacity=capacity,
        default_rate=options.interruption_rate,
        fleet_pools_by_name=True,
    )
    exclusions = matcher_exclusions(offers.exclusions)
    spec = model_spec(group_service, options, low)
    return _Group(
        group=group,
        service=group_service,
        candidate_offers=offers.total,
        offers=offers.frame,
        matched_fleet=reusable,
        exclusions=(*exclusions, *offer_exclusions(offers.frame, spec)),
        notes=notes,
        pools=pools,
        low=low,
        high=high,
        rps_target=group.scaling_target if in_rps_role(group) else None,
        role=role,
        offer_table=offers.catalog,
    )


def _problems(prepared: Sequence[_Group], options: PlanOptions) -> list[GroupProblem]:
    """Every group's pools as arrays, with failure domains and shared-capacity ids numbered
    across all groups (the same region is one domain whichever group uses it)."""
    frames = [part.pools for part in prepared]
    sizes = [len(frame) for frame in frames]
    every = (
        pd.concat([frame for frame in frames if len(frame)], ignore_index=True)
        if any(sizes)
        else None
    )
    domains: np.ndarray
    shared: np.ndarray
    if every is None:
        domains = np.zeros(0, dtype=np.int64)
        shared = np.zeros(0, dtype=np.int64)
    else:
        domains = failure_domains(every, options.failure_domain)
        key = pd.DataFrame(
            {
                column: every[column].astype(str).str.lower()
                for column in (
                    "provider",
                    "region",
                    "instance_type",
                    "capacity_type",
                    "reservation",
                )
            }
        ).assign(
            spot=every["spot"].to_numpy(dtype=bool),
            price=every["price"].to_numpy(),
            # Idle instances of one dstack fleet are one capacity, whichever groups match them.
            fleet=_fleet_identity(every),
        )
        shared = key.groupby(list(key.columns), sort=True).ngroup().to_numpy(dtype=np.int64)
    problems = []
    start = 0
    for part, size in zip(prepared, sizes, strict=True):
        part_domains = domains[start : start + size]
        missing = unavailability(
            part.pools["interruption_rate"].to_numpy(dtype=np.float64),
            replaced=retries_on_interruption(part.service),
            replacement_minutes=options.replacement_minutes,
        )
        arrays = PoolArrays.from_frame(part.pools, part_domains, missing)
        limits = bool(
            np.any(
                (arrays.capacity != UNLIMITED)
                & np.isin(arrays.capacity_type, ["spot", "on-demand"])
            )
        )
        problems.append(
            GroupProblem(
                name=part.group.name,
                arrays=arrays,
                spec=model_spec(part.service, options, part.high, capacity_limits=limits),
                low=part.low,
                high=part.high,
                rps_target=part.rps_target if options.rps is not None else None,
                role=part.role,
                shared=shared[start : start + size],
            )
        )
        start += size
    return problems


def _fleet_identity(pools: pd.DataFrame) -> np.ndarray:
    """What makes an idle-instance pool one capacity: its dstack fleet and every pool-key value
    (matched as rows, the same instances give the same values in every group); "" for catalog
    and reserved pools, which share by place and price alone."""
    identity = np.full(len(pools), "", dtype=object)
    if "fleet_name" not in pools.columns or pools.empty:
        return identity
    existing = (pools["capacity_type"] == "existing").to_numpy(dtype=bool)
    if not existing.any():
        return identity
    # Missing values (no disk size, no GPU) as "-": one spelling in every group.
    rows = pools.loc[existing, ["fleet_name", *POOL_KEY]].astype(object).fillna("-").astype(str)
    joined = rows["fleet_name"].str.cat(rows[list(POOL_KEY)], sep="\x1f")
    identity[existing] = joined.to_numpy(dtype=object)
    return identity


def _fleet_notes(
    prepared: Sequence[_Group], service: NormalizedService, fleet: FleetInventory | None
) -> list[PlanNote]:
    """The notes of a single-group plan about the fleet: how many idle instances any group can
    reuse (each counted once), reuse or ``fleets:`` without an inventory."""
    if fleet is None:
        notes: list[PlanNote] = []
        if service.creation_policy == "reuse":
            notes.append(ReuseWithoutFleet())
        if service.fleets is not None:
            notes.append(FleetsUnchecked(fleets=service.fleets))
        return notes
    if not fleet.instances:
        return []
    usable: dict[str, int] = {}
    for part in prepared:
        frame = part.matched_fleet
        if frame is not None and len(frame):
            usable.update(
                zip(
                    frame["fleet_source"].astype(str),
                    frame["fleet_count"].astype(int),
                    strict=True,
                )
            )
    busy = sum(instance.count for instance in fleet.instances if not instance.idle)
    return [FleetMatched(matched=sum(usable.values()), idle=fleet.idle_count, busy=busy)]


def _protected_roles(
    prepared: Sequence[_Group], problems: Sequence[GroupProblem]
) -> tuple[frozenset[int], list[str]]:
    """The roles the failure-domain rule can protect (able to run two replicas or more), and
    the names of the groups of roles that run one replica only (and so cannot be protected)."""
    most: dict[int, int] = {}
    for part, problem in zip(prepared, problems, strict=True):
        if problem.high == 0:
            continue
        _, total_max = bounds_for(problem.arrays, problem.spec)
        most[part.role] = most.get(part.role, 0) + total_max
    protected = frozenset(role for role, count in most.items() if count >= 2)
    single = [str(part.group.name) for part in prepared if most.get(part.role, 2) < 2]
    return protected, single


def _role_names(prepared: Sequence[_Group], roles: frozenset[int]) -> list[str]:
    return [str(part.group.name) for part in prepared if part.role in roles]


def _relax(spec: ModelSpec, names: Sequence[str]) -> ModelSpec:
    for name in names:
        if name in default_protections(spec):
            spec = spec.relax(name)
    return spec


def _dropped_notes(
    names: Sequence[str], problems: Sequence[GroupProblem], options: PlanOptions
) -> list[PlanNote]:
    spot_domains = len({int(d) for p in problems for d in p.arrays.domain[p.arrays.spot].tolist()})
    low = sum(p.low for p in problems)
    return [
        DefaultProtectionDropped(
            protection=name,
            failure_domain=options.failure_domain,
            replicas=low,
            spot_domains=spot_domains,
            replica_counts=(low,),
        )
        for name in names
    ]


def _base_plan(
    prepared: Sequence[_Group],
    problems: Sequence[GroupProblem],
    service: NormalizedService,
    options: PlanOptions,
    catalog: Catalog,
) -> Plan:
    disks = {sized_disk_gb(part.group.requirements) for part in prepared}
    return Plan(
        status="infeasible",
        replicas_min=sum(part.group.min_replicas for part in prepared),
        replicas_max=sum(part.group.max_replicas for part in prepared),
        target_replicas=sum(problem.low for problem in problems),
        placements=(),
        hourly_cost=0.0,
        candidate_offers=sum(part.candidate_offers for part in prepared),
        candidate_pools=sum(len(part.pools) for part in prepared),
        spot_policy=service.spot_policy,
        settings={
            "availability_target": options.availability_target,
            "failure_domain": options.failure_domain,
            "on_demand_floor": options.on_demand_floor,
            # What the two count over (docs/planning.md, "Replica groups"): --max-per-domain the
            # replicas of all groups in a failure domain; --on-demand-floor each group's own.
            "on_demand_floor_scope": "group",
            "max_per_domain": options.max_per_domain,
            "max_per_domain_scope": "service",
            "group_survival": options.group_survival,
            "budget_hourly": options.budget_hourly,
            "time_limit_seconds": options.time_limit_seconds,
            "rps": options.rps,
            "creation_policy": service.creation_policy,
        },
        sized_disk_gb=disks.pop() if len(disks) == 1 else None,
        groups=tuple(
            GroupPlan(
                name=part.group.name,
                replicas_min=part.group.min_replicas,
                replicas_max=part.group.max_replicas,
                replicas=part.low,
                planned_replicas=0,
                hourly_cost=0.0,
                spot_policy=part.group.spot_policy,
                rps_target=part.rps_target,
                fixed_count=part.group.fixed_count,
                candidate_offers=part.candidate_offers,
                candidate_pools=len(part.pools),
                exclusions=part.exclusions,
            )
            for part in prepared
        ),
        rps=options.rps,
    )


def _group_plans(
    prepared: Sequence[_Group], problems: Sequence[GroupProblem], solution: GroupSolution
) -> tuple[GroupPlan, ...]:
    plans = []
    for part, problem, counts, replicas in zip(
        prepared, problems, solution.counts, solution.replicas, strict=True
    ):
        plans.append(
            GroupPlan(
                name=part.group.name,
                replicas_min=part.group.min_replicas,
                replicas_max=part.group.max_replicas,
                replicas=replicas,
                planned_replicas=int(counts.sum()),
                hourly_cost=float(np.dot(counts, problem.arrays.price)),
                spot_policy=part.group.spot_policy,
                rps_target=part.rps_target,
                fixed_count=part.group.fixed_count,
                candidate_offers=part.candidate_offers,
                candidate_pools=len(part.pools),
                exclusions=part.exclusions,
            )
        )
    return tuple(plans)


def _placements(
    prepared: Sequence[_Group],
    problems: Sequence[GroupProblem],
    solution: GroupSolution,
    options: PlanOptions,
) -> tuple[Placement, ...]:
    """Each group's used pools (groups in order, cheapest first), with fallback chains within
    the group's own offers and constraints."""
    placements: list[Placement] = []
    for part, problem, counts, replicas in zip(
        prepared, problems, solution.counts, solution.replicas, strict=True
    ):
        arrays = problem.arrays
        spec = model_spec(part.service, options, replicas, capacity_limits=problem.spec.capacity)
        spec = _relax(
            spec,
            [n for n in default_protections(spec) if n not in default_protections(problem.spec)],
        )
        events = part.service.retry.on_events if part.service.retry is not None else ()
        chains = fallback_chains(part.pools, arrays, counts, spec, events, options.max_fallbacks)
        used = [int(index) for index in np.flatnonzero(counts > 0)]
        offers = offer_dicts(part.pools, used)
        rows = [
            Placement(
                offer=offers[index],
                count=int(counts[index]),
                capacity_type=arrays.capacity_type[index],
                hourly_price=float(arrays.price[index]),
                failure_domain=domain_label(offers[index], options.failure_domain),
                interruption_rate=float(arrays.rate[index]),
                fallbacks=chains[index],
                zone=zone_of_location(str(offers[index]["provider"]), str(offers[index]["region"])),
                group=part.group.name,
            )
            for index in used
        ]
        rows.sort(key=lambda placement: (placement.hourly_price, placement.failure_domain))
        placements += rows
    return tuple(placements)


def _served_units(problems: Sequence[GroupProblem], replicas: Sequence[int]) -> int:
    """The traffic these counts serve: every role serves it all, so the least any role serves."""
    served: dict[int, int] = {}
    for problem, count in zip(problems, replicas, strict=True):
        if problem.rps_target is not None:
            served[problem.role] = (
                served.get(problem.role, 0) + target_units(problem.rps_target) * count
            )
    return min(served.values(), default=0)


def _rps_curve(
    prepared: Sequence[_Group],
    problems: Sequence[GroupProblem],
    solve_at: Any,
) -> tuple[tuple[RpsStep, ...], bool]:
    """The cheapest plan's cost over the traffic level, as steps: from 0 rps, solve for the
    level just above what the previous step's replicas serve, until no plan serves more.
    Consecutive steps of equal cost are one step."""
    steps: list[RpsStep] = []
    served = 0
    level = 0
    for _ in range(MAX_RPS_STEPS):
        result = solve_at(level / RPS_SCALE)
        if result.status not in ("optimal", "feasible"):
            return tuple(steps), False
        now = _served_units(problems, result.replicas)
        cost = float(result.hourly_cost or 0.0)
        names = tuple(
            (part.group.name, n) for part, n in zip(prepared, result.replicas, strict=True)
        )
        if steps and math.isclose(steps[-1].hourly_cost, cost, abs_tol=1e-9):
            steps[-1] = replace(steps[-1], rps_to=now / RPS_SCALE, replicas=names)
        else:
            steps.append(
                RpsStep(
                    rps_from=served / RPS_SCALE,
                    rps_to=now / RPS_SCALE,
                    status=result.status,
                    hourly_cost=cost,
                    replicas=names,
                )
            )
        served = now
        level = now + 1
    return tuple(steps), True


def _spot_without_retry(
    problems: Sequence[GroupProblem], solution: GroupSolution, service: NormalizedService
) -> list[PlanNote]:
    """The warning of a single-group plan: spot replicas that are not replaced if interrupted."""
    spot = sum(int(c[p.arrays.spot].sum()) for p, c in zip(problems, solution.counts, strict=True))
    if spot == 0 or retries_on_interruption(service):
        return []
    lost = sum(
        float(np.dot(c[p.arrays.spot], p.arrays.rate[p.arrays.spot]))
        for p, c in zip(problems, solution.counts, strict=True)
    )
    planned = sum(int(c.sum()) for c in solution.counts)
    return [
        SpotWithoutRetry(
            spot_replicas=spot,
            expected_lost=round(lost, 6),
            hedge_replicas=max(0, planned - sum(solution.replicas)),
        )
    ]


def _infeasible_causes(
    prepared: Sequence[_Group],
    problems: Sequence[GroupProblem],
    options: PlanOptions,
    capacity: CapacityData | None,
) -> tuple[InfeasibleCause, ...]:
    """The first group that cannot be placed on its own (with the single-group diagnosis of
    ``plan_offers``), or the traffic level above what the groups serve, or what they share."""
    for part, problem in zip(prepared, problems, strict=True):
        spec = model_spec(part.service, options, problem.low, capacity_limits=problem.spec.capacity)
        alone = solve(
            problem.arrays,
            spec,
            time_limit_seconds=options.time_limit_seconds,
            num_workers=options.num_workers,
            tie_break=False,
        )
        if alone.status == "infeasible":
            single = plan_offers(
                part.offers,
                part.service,
                matched_fleet=part.matched_fleet,
                capacity=capacity,
                options=replace(options, rps=None),
            )
            return (
                GroupCannotBePlaced(group=str(part.group.name), causes=single.infeasible_causes),
            )
    if options.rps is not None:
        most = _served_units(problems, [problem.high for problem in problems]) / RPS_SCALE
        if most < options.rps:
            return (RpsUnreachable(rps=options.rps, most=most),)
    return (GroupsOnlyTogether(),)
