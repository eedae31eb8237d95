"""What the planner tells the user beside the plan, as typed values: what happened, with its numbers.

A ``Plan`` carries these in ``notes``; ``planner/render/plan_notes.py`` words them (the text table,
Markdown and the CLI's JSON print the words), and ``to_json()`` gives the values with a ``kind``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from planner.placement.kinds import FailureDomain


@dataclass(frozen=True)
class _Note:
    kind: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class FleetMatched(_Note):
    """``matched`` of the fleet's ``idle`` idle instances satisfy the configuration; ``busy``
    instances exist but are never planned on."""

    kind: ClassVar[str] = "fleet-matched"
    matched: int
    idle: int
    busy: int


@dataclass(frozen=True)
class ReuseWithoutFleet(_Note):
    """``creation_policy: reuse`` with no fleet inventory: nothing can be placed."""

    kind: ClassVar[str] = "reuse-without-fleet"


@dataclass(frozen=True)
class FleetsUnchecked(_Note):
    """``fleets:`` names the fleets the run may use, and no fleet inventory says what is in them."""

    kind: ClassVar[str] = "fleets-unchecked"
    fleets: tuple[str, ...]


@dataclass(frozen=True)
class ReservationWithoutCapacityFile(_Note):
    """The configuration names a reservation but no capacity file states its count and price."""

    kind: ClassVar[str] = "reservation-without-capacity-file"
    reservation_id: str


@dataclass(frozen=True)
class ReservationNotInCapacityFile(_Note):
    """The configuration's reservation is not in the capacity file."""

    kind: ClassVar[str] = "reservation-not-in-capacity-file"
    reservation_id: str


@dataclass(frozen=True)
class ReservationMatchesNoOffer(_Note):
    """A reservation of the capacity file names a place with no offer satisfying the configuration."""

    kind: ClassVar[str] = "reservation-matches-no-offer"
    reservation_id: str
    source: str  # FILE:LINE of the reservation
    provider: str
    region: str
    instance_type: str


@dataclass(frozen=True)
class OnDemandFloorAboveReplicas(_Note):
    """The on-demand floor exceeds the replicas planned: every replica is never-interrupted."""

    kind: ClassVar[str] = "on-demand-floor-above-replicas"
    floor: int
    replicas: int


@dataclass(frozen=True)
class TimeLimitReached(_Note):
    """A solve hit its time limit: the plan is valid but not proven the cheapest."""

    kind: ClassVar[str] = "time-limit-reached"
    time_limit_seconds: float


@dataclass(frozen=True)
class ScalingNotComputed(_Note):
    """The replica range has more counts than ``max_steps``: no cost per replica count."""

    kind: ClassVar[str] = "scaling-not-computed"
    replicas_min: int
    replicas_max: int
    max_steps: int


@dataclass(frozen=True)
class HedgeReplicas(_Note):
    """``extra`` replicas beyond the target hedge against interruption.

    ``expected_survival``: the availability hedge asked for them; ``wave_domain``: the failure
    domain of wave survival when it asked for them, else ``None``.
    """

    kind: ClassVar[str] = "hedge-replicas"
    extra: int
    expected_survival: bool
    wave_domain: FailureDomain | None


@dataclass(frozen=True)
class DefaultProtectionDropped(_Note):
    """A protection the planner adds by default (not one the user asked for) cannot be met, so the
    plan is the cheapest that meets the user's own constraints without it (status ``feasible``).

    ``protection``: ``wave_survival`` or ``failure_domain_spread`` (the default spread);
    ``spot_domains``: how many failure domains hold a usable spot offer; ``replica_counts``: the
    replica counts planned without it (the minimum, and counts of the range).
    """

    kind: ClassVar[str] = "default-protection-dropped"
    protection: str
    failure_domain: FailureDomain
    replicas: int
    spot_domains: int
    replica_counts: tuple[int, ...]


@dataclass(frozen=True)
class SpotWithoutRetry(_Note):
    """Spot replicas planned without ``retry`` on ``interruption``: an interrupted replica is not
    replaced. ``expected_lost``: the spot replicas expected to be interrupted per month (Σ count ×
    assumed monthly rate); ``hedge_replicas``: the extra replicas the plan carries for them."""

    kind: ClassVar[str] = "spot-without-retry"
    spot_replicas: int
    expected_lost: float
    hedge_replicas: int


@dataclass(frozen=True)
class SpotAssumptions(_Note):
    """What the hedge assumed about the plan's spot replicas (placement/replacement.py).

    ``replaced``: retry on interruption replaces an interrupted replica after
    ``replacement_minutes``; ``default_rate``: the monthly interruption rate of spot pools the
    capacity file says nothing about (``default_rate_replicas`` of the plan's replicas are on
    such pools); ``expected_ready``: Σ count × (1 − unavailability) over the plan's replicas,
    against the ``target`` replicas."""

    kind: ClassVar[str] = "spot-assumptions"
    replaced: bool
    replacement_minutes: float
    default_rate: float
    default_rate_replicas: int
    expected_ready: float
    target: int


@dataclass(frozen=True)
class RowMatchesNoOffer(_Note):
    """A capacity row or fleet instance (``file_kind``) at ``source`` (FILE:LINE) names a place no
    catalog offer has: its ``field`` (provider, region or instance_type) is ``value``;
    ``suggestion``: the closest name the catalog has there, or ``None``."""

    kind: ClassVar[str] = "row-matches-no-offer"
    file_kind: str  # "capacity" | "fleet"
    source: str
    field: str
    value: str
    suggestion: str | None


@dataclass(frozen=True)
class ZoneCapacityIncomplete(_Note):
    """Capacity rows (``sources``, FILE:LINE) name zones of a region offer (``backend``/``region``,
    ``instance_type``) but not all of them: dstack may place the replica in any zone of the offer, so
    the rows limit it only when every zone has one; ``unstated`` are the zones without a row."""

    kind: ClassVar[str] = "zone-capacity-incomplete"
    sources: tuple[str, ...]
    backend: str
    region: str
    instance_type: str
    unstated: tuple[str, ...]


@dataclass(frozen=True)
class GroupSurvivalUnmet(_Note):
    """Replica groups: losing one failure domain can take down these groups (roles) of the
    service. ``reason``: ``one-replica`` (the group runs a single replica) or ``infeasible``
    (keeping a replica outside every domain made the plan impossible, so the plan is the
    cheapest without that rule: status ``feasible``)."""

    kind: ClassVar[str] = "group-survival-unmet"
    groups: tuple[str, ...]
    reason: str
    failure_domain: FailureDomain


@dataclass(frozen=True)
class RpsCurveTruncated(_Note):
    """The cost curve over the traffic level stops after ``max_steps`` steps, at ``rps_to``."""

    kind: ClassVar[str] = "rps-curve-truncated"
    max_steps: int
    rps_to: float


PlanNote = (
    FleetMatched
    | ReuseWithoutFleet
    | FleetsUnchecked
    | ReservationWithoutCapacityFile
    | ReservationNotInCapacityFile
    | ReservationMatchesNoOffer
    | OnDemandFloorAboveReplicas
    | TimeLimitReached
    | ScalingNotComputed
    | HedgeReplicas
    | DefaultProtectionDropped
    | SpotWithoutRetry
    | SpotAssumptions
    | RowMatchesNoOffer
    | ZoneCapacityIncomplete
    | GroupSurvivalUnmet
    | RpsCurveTruncated
)
