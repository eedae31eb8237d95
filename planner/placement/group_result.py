"""The per-group parts of a ``Plan`` of a service with replica groups, and the cost curve of
``--rps`` (docs/planning.md, "Replica groups"). Plain immutable data with ``to_json()``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class Exclusion(Protocol):
    """What ``result.Exclusion`` gives (stated here: ``result`` imports this module)."""

    @property
    def reason(self) -> str: ...

    @property
    def excluded(self) -> int: ...

    @property
    def cheapest_excluded_price(self) -> float | None: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class GroupPlan:
    """One replica group in the plan: the replicas it runs and what they cost.

    ``replicas``: the target chosen for the group (its minimum, its fixed count, or with ``rps``
    the count that serves the traffic cheapest); ``planned_replicas`` adds hedge replicas.
    ``exclusions``: why offers were excluded for this group (its explain).
    """

    name: str | None
    replicas_min: int
    replicas_max: int
    replicas: int
    planned_replicas: int
    hourly_cost: float
    spot_policy: str
    rps_target: float | None = None  # per replica, when the group is resized by --rps
    fixed_count: bool = False
    candidate_offers: int = 0
    candidate_pools: int = 0
    exclusions: tuple[Exclusion, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.name,
            "replicas": {"min": self.replicas_min, "max": self.replicas_max},
            "target_replicas": self.replicas,
            "planned_replicas": self.planned_replicas,
            "hourly_cost": round(self.hourly_cost, 6),
            "monthly_cost": round(round(self.hourly_cost, 6) * 730, 6),
            "spot_policy": self.spot_policy,
            "rps_target": self.rps_target,
            "fixed_count": self.fixed_count,
            "candidate_offers": self.candidate_offers,
            "candidate_pools": self.candidate_pools,
            "explain": [exclusion.to_json() for exclusion in self.exclusions],
        }


@dataclass(frozen=True)
class RpsStep:
    """The cheapest plan for every traffic level in (``rps_from``, ``rps_to``] requests per
    second: ``rps_to`` is what that plan's replicas serve (Σ target × replicas)."""

    rps_from: float
    rps_to: float
    status: str  # "optimal" | "feasible"
    hourly_cost: float
    replicas: tuple[tuple[str | None, int], ...]  # (group, target replicas) per group

    def to_json(self) -> dict[str, Any]:
        return {
            "rps_from": round(self.rps_from, 6),
            "rps_to": round(self.rps_to, 6),
            "status": self.status,
            "hourly_cost": round(self.hourly_cost, 6),
            "monthly_cost": round(round(self.hourly_cost, 6) * 730, 6),
            "replicas": {str(name): count for name, count in self.replicas},
        }
