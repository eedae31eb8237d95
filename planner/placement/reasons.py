"""Why no plan exists, as typed values: which constraint, with its numbers.

An infeasible ``Plan`` carries these in ``infeasible_causes``; ``planner/render/plan_reasons.py``
words them (the table, Markdown, stderr and the CLI's JSON ``infeasible_reason``), and
``to_json()`` gives the values with a ``kind``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class _Cause:
    kind: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class TimeLimitWithoutPlan(_Cause):
    """No plan was found within the time limit (neither a plan nor a proof that none exists)."""

    kind: ClassVar[str] = "time-limit"
    time_limit_seconds: float


@dataclass(frozen=True)
class ReuseOnly(_Cause):
    """``creation_policy: reuse`` and only ``idle`` matching idle fleet instances for ``replicas``."""

    kind: ClassVar[str] = "creation_policy"
    idle: int
    replicas: int


@dataclass(frozen=True)
class SpotPolicyTooNarrow(_Cause):
    """The service's ``spot_policy`` leaves too few offers."""

    kind: ClassVar[str] = "spot_policy"
    spot_policy: str


@dataclass(frozen=True)
class MaxPriceTooLow(_Cause):
    """The service's ``max_price`` excludes the offers a plan would need."""

    kind: ClassVar[str] = "max_price"
    max_price: float


@dataclass(frozen=True)
class CapacityTooSmall(_Cause):
    """The obtainable counts (capacity data, one per marketplace listing) are too small."""

    kind: ClassVar[str] = "capacity"


@dataclass(frozen=True)
class SpreadTooTight(_Cause):
    """At most ``max_per_domain`` replicas per failure domain leaves too few domains.

    ``every_replica``: the user's ``--max-per-domain`` (every replica counts); else the default
    spread (spot replicas only)."""

    kind: ClassVar[str] = "failure_domain_spread"
    max_per_domain: int
    every_replica: bool


@dataclass(frozen=True)
class WaveUnsurvivable(_Cause):
    """No plan keeps ``replicas`` after losing every spot replica of any one failure domain."""

    kind: ClassVar[str] = "wave_survival"
    replicas: int


@dataclass(frozen=True)
class HedgeUnreachable(_Cause):
    """The expected surviving replicas cannot reach ``availability_target`` × ``replicas``."""

    kind: ClassVar[str] = "availability_hedge"
    availability_target: float
    replicas: int


@dataclass(frozen=True)
class FloorUnmet(_Cause):
    """``floor`` replicas on never-interrupted capacity cannot be had."""

    kind: ClassVar[str] = "on_demand_floor"
    floor: int


@dataclass(frozen=True)
class BudgetTooLow(_Cause):
    """No plan costs at most ``budget_hourly``."""

    kind: ClassVar[str] = "budget"
    budget_hourly: float


@dataclass(frozen=True)
class OnlyTogether(_Cause):
    """No single constraint makes the plan infeasible; ``constraints`` together do."""

    kind: ClassVar[str] = "together"
    constraints: tuple[str, ...]


@dataclass(frozen=True)
class NoOffer(_Cause):
    """No offer satisfies the configuration (the exclusions say why)."""

    kind: ClassVar[str] = "no_offer"


@dataclass(frozen=True)
class TooFewPlaces(_Cause):
    """``replicas`` are needed; the offers, reservations and idle instances hold ``placeable``."""

    kind: ClassVar[str] = "replica_total"
    replicas: int
    placeable: int


@dataclass(frozen=True)
class GroupCannotBePlaced(_Cause):
    """Replica group ``group`` cannot be placed even on its own: ``causes`` say why (as for a
    service without groups)."""

    kind: ClassVar[str] = "group"
    group: str
    causes: tuple[Any, ...]  # InfeasibleCause values (the union is defined below)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "group": self.group,
            "causes": [cause.to_json() for cause in self.causes],
        }


@dataclass(frozen=True)
class RpsUnreachable(_Cause):
    """The traffic level ``rps`` is above the ``most`` the groups serve at their largest counts."""

    kind: ClassVar[str] = "rps"
    rps: float
    most: float


@dataclass(frozen=True)
class GroupsOnlyTogether(_Cause):
    """Each replica group can be placed alone but not all together (shared capacity, the budget
    or the traffic level)."""

    kind: ClassVar[str] = "groups_together"


InfeasibleCause = (
    TimeLimitWithoutPlan
    | ReuseOnly
    | SpotPolicyTooNarrow
    | MaxPriceTooLow
    | CapacityTooSmall
    | SpreadTooTight
    | WaveUnsurvivable
    | HedgeUnreachable
    | FloorUnmet
    | BudgetTooLow
    | OnlyTogether
    | NoOffer
    | TooFewPlaces
    | GroupCannotBePlaced
    | RpsUnreachable
    | GroupsOnlyTogether
)
