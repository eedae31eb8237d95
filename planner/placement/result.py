"""The typed result of planning: `Plan`, its `Placement`s, fallbacks, scaling costs and explanations.

Everything here is plain, immutable data with a ``to_json()`` that follows docs/contracts.md and
the CLI contract (docs/cli.md, ``planner plan --format json``, which prints each note's words
rather than its values). Money is USD; a month is 730 hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planner.placement.group_result import GroupPlan, RpsStep
from planner.placement.kinds import CapacityType, FailureDomain, PlanStatus, RelaxedStatus
from planner.placement.notes import PlanNote
from planner.placement.reasons import InfeasibleCause
from planner.placement.replacement import DEFAULT_INTERRUPTION_RATE, DEFAULT_REPLACEMENT_MINUTES

__all__ = [
    "HOURS_PER_MONTH",
    "CapacityType",
    "ConstraintReport",
    "Exclusion",
    "FailureDomain",
    "Fallback",
    "GroupPlan",
    "Placement",
    "Plan",
    "PlanOptions",
    "PlanStatus",
    "RpsStep",
    "ScalingStep",
]

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class PlanOptions:
    """Planning knobs. They are command-line flags, never keys of the service file.

    ``availability_target``: the hedge: expected ready replicas — each spot replica counted as
    1 − its unavailability (interruption rate × replacement time with retry on interruption, the
    rate itself without) — ≥ this fraction of the replica target.
    ``wave_survival``: when ``retry.on_events`` includes ``interruption`` and spot may be used,
    losing every spot replica of any one failure domain (one preemption wave) must leave at
    least the replica target: for every spot domain d, Σ x − x_d ≥ N. On by default; ``False``
    restores the default spread of half the replicas per domain.
    ``max_per_domain``: at most this many replicas per failure domain — every replica, on-demand,
    reserved and existing included — in addition to wave survival; ``None`` means no limit (or,
    with ``wave_survival=False`` and retry on interruption, half the replicas, rounded up, counting
    spot replicas only: that default spread is about preemption waves).
    ``failure_domain``: what one failure domain is: a whole (backend, region) — the default, a
    zone (gcp ``us-central1-a``) counting in its region, so a region-wide preemption wave is one
    wave (docs/planning.md, "The model"); zones spread as a tie-break inside it — or, finer, one
    spot market (backend, location, instance type).
    ``replacement_minutes``: with retry on interruption, the minutes from an interruption until
    the replacement replica serves (default 10); a spot replica is then expected to be missing
    for interruption rate × replacement time of the month (placement/replacement.py).
    ``interruption_rate``: the monthly interruption rate assumed for a spot pool the capacity
    file gives none for (default 0.30, the AWS Spot Advisor's worst bucket, ">20%").
    ``on_demand_floor``: at least this many replicas on capacity that is never interrupted.
    ``budget_hourly``: an upper bound on the plan's hourly cost.
    ``time_limit_seconds``: per CP-SAT solve; hitting it makes the status ``feasible``.
    ``num_workers``: CP-SAT worker threads for the cost solve (the tie-break solve uses one, so
    the chosen placement is reproducible).
    ``hedge``: ``False`` drops the expected-survival hedge (``--no-hedge``).
    ``default_spread``: ``False`` drops the default spread of half the spot replicas per domain
    that applies without wave survival (``--no-default-spread``).
    ``capacity_limits``: ``False`` ignores the obtainable counts of catalog pools (the capacity
    file's limits, one per marketplace listing); reservations and idle fleet instances keep
    their counts (``--no-capacity-limits``).
    ``max_fallbacks``: the length of each fallback chain.
    ``explain``: re-solve with each constraint relaxed to report what it costs (one solve each).
    ``rps``: a traffic level (requests per second): the groups with an rps ``scaling.target``
    (and no router) are sized, each within its count range, so their targets add up to at
    least this at the lowest cost; the plan reports the cost curve over the traffic level.
    ``group_survival``: ``False`` drops the service-wide failure-domain survival of a service
    with replica groups (``--no-group-survival``; no effect without groups).
    """

    availability_target: float = 1.0
    max_per_domain: int | None = None
    wave_survival: bool = True
    failure_domain: FailureDomain = "region"
    replacement_minutes: float = DEFAULT_REPLACEMENT_MINUTES
    interruption_rate: float = DEFAULT_INTERRUPTION_RATE
    on_demand_floor: int = 0
    budget_hourly: float | None = None
    hedge: bool = True
    default_spread: bool = True
    capacity_limits: bool = True
    time_limit_seconds: float = 10.0
    num_workers: int = 2
    max_fallbacks: int = 3
    explain: bool = True
    rps: float | None = None
    group_survival: bool = True


@dataclass(frozen=True)
class Fallback:
    """Where a replica goes next on one retry event, and what it costs there."""

    event: str  # "no-capacity" | "interruption" | "error"
    offer: dict[str, Any]  # an OFFER dict (docs/contracts.md)
    capacity_type: CapacityType
    hourly_price: float  # per replica
    hourly_price_delta: float  # versus the placement it replaces, per replica

    def to_json(self) -> dict[str, Any]:
        return {
            **self.offer,
            "event": self.event,
            "capacity_type": self.capacity_type,
            "hourly_price_delta": round(self.hourly_price_delta, 6),
        }


@dataclass(frozen=True)
class Placement:
    """``count`` replicas on one pool (offers identical in every constraint-relevant attribute)."""

    offer: dict[str, Any]  # the pool's cheapest offer, an OFFER dict
    count: int
    capacity_type: CapacityType
    hourly_price: float  # per replica (the reservation's or the existing instance's own price)
    failure_domain: str
    interruption_rate: float  # assumed monthly interruption probability; 0 when never interrupted
    fallbacks: tuple[Fallback, ...] = ()
    # The zone inside the failure domain's region (gcp us-central1-a); None: the location is a region.
    zone: str | None = None
    group: str | None = None  # the replica group placed here (None: a service without groups)

    @property
    def hourly_cost(self) -> float:
        return self.count * self.hourly_price

    def fallbacks_for(self, event: str) -> tuple[Fallback, ...]:
        return tuple(fallback for fallback in self.fallbacks if fallback.event == event)

    def to_json(self) -> dict[str, Any]:
        grouped = {"group": self.group} if self.group is not None else {}
        return {
            **grouped,
            "offer": self.offer,
            "count": self.count,
            "capacity_type": self.capacity_type,
            "hourly_price": self.hourly_price,
            "hourly_cost": round(self.hourly_cost, 6),
            "failure_domain": self.failure_domain,
            "zone": self.zone,
            "interruption_rate": self.interruption_rate,
            "fallbacks": [fallback.to_json() for fallback in self.fallbacks],
        }


@dataclass(frozen=True)
class ScalingStep:
    """The optimal cost with ``replicas`` replicas, and what the last one added."""

    replicas: int
    status: PlanStatus
    hourly_cost: float | None  # None when infeasible at this count
    marginal_hourly_cost: float | None  # versus replicas - 1; None for the first step
    # Instances by capacity type in this count's optimal placement (hedge instances included),
    # so the autoscaling envelope can split replica-hours by capacity type; empty when infeasible.
    instances_by_capacity: tuple[tuple[CapacityType, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "replicas": self.replicas,
            "status": self.status,
            "hourly_cost": _money(self.hourly_cost),
            "monthly_cost": _monthly(self.hourly_cost),
            "marginal_hourly_cost": _money(self.marginal_hourly_cost),
        }


@dataclass(frozen=True)
class ConstraintReport:
    """One named constraint — or a pair relaxed together — re-planned without it.

    ``changes``: the flags (``--no-wave-survival``, ``without --budget-hourly``) or service-file
    edits (``spot_policy: auto``) that relax it; re-planning with them gives exactly
    ``relaxed_hourly_cost``. ``saving_hourly``: plan cost − relaxed cost (``None`` when either is
    infeasible; negative when the re-plan regains a default protection the plan had to drop).
    ``makes_feasible``: the plan is infeasible and the re-plan is not. ``relaxed_status``
    ``"time-limit"``: the re-plan found no plan within the time limit, so nobody knows what
    relaxing the constraint gives (``binding_known`` is false). ``relaxed_time_limit``: the re-plan
    reached the time limit (with a plan: its cost is not proven optimal).
    """

    name: str  # the constraint, or "a + b" for a pair
    description: str
    tight: bool  # holds with equality in the chosen plan
    relaxed_status: RelaxedStatus | None  # the re-solve's status; None when not re-solved
    relaxed_hourly_cost: float | None
    saving_hourly: float | None  # plan cost - relaxed cost; None when not comparable
    constraints: tuple[str, ...] = ()  # the constraint names relaxed (one, or a pair)
    changes: tuple[str, ...] = ()
    makes_feasible: bool = False
    relaxed_time_limit: bool = False  # the re-plan stopped at the time limit

    @property
    def binding(self) -> bool:
        """Relaxing it lowers the cost, or makes an infeasible plan feasible."""
        return self.makes_feasible or (self.saving_hourly is not None and self.saving_hourly > 1e-9)

    @property
    def binding_known(self) -> bool:
        """False when the re-plan found no plan within the time limit: binding is unknown."""
        return self.relaxed_status != "time-limit"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "constraint",
            "constraint": self.name,
            "constraints": list(self.constraints or (self.name,)),
            "description": self.description,
            "changes": list(self.changes),
            "tight": self.tight,
            "binding": self.binding if self.binding_known else None,
            "makes_feasible": self.makes_feasible,
            "relaxed_status": self.relaxed_status,
            "relaxed_cost_proven_optimal": None
            if self.relaxed_hourly_cost is None
            else not self.relaxed_time_limit,
            "relaxed_hourly_cost": _money(self.relaxed_hourly_cost),
            "saving_hourly": _money(self.saving_hourly),
            "saving_monthly": _monthly(self.saving_hourly),
        }


@dataclass(frozen=True)
class Exclusion:
    """How many offers one reason removed before planning."""

    reason: str
    excluded: int
    cheapest_excluded_price: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "exclusion",
            "reason": self.reason,
            "excluded": self.excluded,
            "cheapest_excluded_price": self.cheapest_excluded_price,
        }


@dataclass(frozen=True)
class Plan:
    """The cheapest placement of a service's replicas that satisfies its policies.

    ``status``: ``optimal`` (proven), ``feasible`` (the time limit was hit before the proof: the
    plan is valid but maybe not the cheapest), or ``infeasible`` (``infeasible_causes`` name the
    constraint(s) that make it so, with their numbers, ``placements`` is empty).
    ``replicas``: the service's replica range; the plan places ``planned_replicas`` (the minimum of
    the range, plus hedge replicas when the availability hedge over-provisions spot).
    ``scaling``: for a range, the optimal cost at every count from min to max.
    """

    status: PlanStatus
    replicas_min: int
    replicas_max: int
    target_replicas: int
    placements: tuple[Placement, ...]
    hourly_cost: float
    scaling: tuple[ScalingStep, ...] = ()
    constraints: tuple[ConstraintReport, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    # Typed (planner/placement/reasons.py); planner/render/plan_reasons.py words them.
    infeasible_causes: tuple[InfeasibleCause, ...] = ()
    infeasible_constraints: tuple[str, ...] = ()
    notes: tuple[PlanNote, ...] = ()  # typed; planner/render/plan_notes.py words them
    candidate_offers: int = 0
    candidate_pools: int = 0
    solve_seconds: float = 0.0
    spot_policy: str = "on-demand"
    settings: dict[str, Any] = field(default_factory=dict)
    # The disk dstack sizes for an offer whose catalog row states none (the service's smallest
    # allowed disk, 100 GB by default); None when not known (``plan_offers`` without it).
    sized_disk_gb: float | None = None
    # A service with replica groups (or planned for a traffic level): each group's part of the
    # plan, and with ``PlanOptions.rps`` the traffic level and the cost curve over it.
    groups: tuple[GroupPlan, ...] = ()
    rps: float | None = None
    rps_curve: tuple[RpsStep, ...] = ()

    @property
    def monthly_cost(self) -> float:
        return self.hourly_cost * HOURS_PER_MONTH

    @property
    def planned_replicas(self) -> int:
        return sum(placement.count for placement in self.placements)

    @property
    def hedge_replicas(self) -> int:
        return max(0, self.planned_replicas - self.target_replicas)

    @property
    def feasible(self) -> bool:
        return self.status != "infeasible"

    def cost_at(self, replicas: int) -> float | None:
        """The optimal hourly cost with ``replicas`` replicas (within the range), if feasible."""
        for step in self.scaling:
            if step.replicas == replicas:
                return step.hourly_cost
        return None

    @property
    def marginal_costs(self) -> tuple[float | None, ...]:
        """The hourly cost of each replica beyond the minimum, in order (what autoscaling buys)."""
        return tuple(step.marginal_hourly_cost for step in self.scaling[1:])

    def to_json(self) -> dict[str, Any]:
        at_min = self.scaling[0] if self.scaling else None
        at_max = self.scaling[-1] if self.scaling else None
        document = self._document(at_min, at_max)
        if self.groups:
            document["groups"] = [group.to_json() for group in self.groups]
        if self.rps is not None:
            document["rps"] = self.rps
            document["rps_curve"] = [step.to_json() for step in self.rps_curve]
        return document

    def _document(self, at_min: ScalingStep | None, at_max: ScalingStep | None) -> dict[str, Any]:
        return {
            "status": self.status,
            "hourly_cost": _money(self.hourly_cost if self.feasible else None),
            "monthly_cost": _monthly(self.hourly_cost if self.feasible else None),
            "replicas": {"min": self.replicas_min, "max": self.replicas_max},
            "target_replicas": self.target_replicas,
            "planned_replicas": self.planned_replicas,
            "hedge_replicas": self.hedge_replicas,
            "spot_policy": self.spot_policy,
            "placements": [placement.to_json() for placement in self.placements],
            "cost_at_min": _money(at_min.hourly_cost if at_min else None),
            "cost_at_max": _money(at_max.hourly_cost if at_max else None),
            "scaling": [step.to_json() for step in self.scaling],
            "infeasible_causes": [cause.to_json() for cause in self.infeasible_causes],
            "infeasible_constraints": list(self.infeasible_constraints),
            "explain": [
                *(exclusion.to_json() for exclusion in self.exclusions),
                *(report.to_json() for report in self.constraints),
            ],
            "notes": [note.to_json() for note in self.notes],
            "candidate_offers": self.candidate_offers,
            "candidate_pools": self.candidate_pools,
            "solve_seconds": round(self.solve_seconds, 4),
            "settings": self.settings,
        }


def _money(value: float | None) -> float | None:
    """USD in JSON: six decimals, the precision of catalog prices (float noise dropped)."""
    return None if value is None else round(value, 6)


def _monthly(hourly: float | None) -> float | None:
    """730 × the hourly amount *as written* (``_money``), so the JSON's two figures agree."""
    return None if hourly is None else round(round(hourly, 6) * HOURS_PER_MONTH, 6)
