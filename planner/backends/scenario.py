"""The simulated backend's scenario file: a deterministic cloud in a few lines of YAML.

    create_delay_seconds: 0.5     # each create call takes this long (wall clock)
    crash_after_creates: 2        # crash injection: the process dies right after the 2nd create
    default_capacity: null        # pools not listed: unlimited (null) or this many instances
    pools:                        # first matching rule wins
      - {instance_type: m5.large, region: us-east-1, market: spot, capacity: 0}
      - {instance_type: m5.large, region: us-west-2, error: "InternalError: try again"}
    interruptions:                # spot instances of a pool are interrupted after a while
      - {instance_type: m5.large, region: us-west-2, after_seconds: 0}
    offers:                       # what live_offers answers (offer-table columns)
      - {provider: aws, instance_type: m5.large, region: us-east-1, price: 0.096, cpu: 2,
         memory_gb: 8, spot: false}

docs/backends.md describes every field.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.backends.yaml_file import problem_at, read_yaml
from planner.errors import InputError

__all__ = ["Interruption", "PoolRule", "Scenario", "ScenarioOffer", "load_scenario"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PoolRule(_Model):
    """Capacity (and failures) of the instances matching this rule; unset fields match all."""

    instance_type: str | None = None
    region: str | None = None
    market: Literal["spot", "on-demand", "reservation", "any"] = "any"
    capacity: int | None = Field(default=None, ge=0)  # None: unlimited
    error: str | None = None  # every create here fails with this message (event `error`)

    def matches(self, instance_type: str, region: str, market: str) -> bool:
        return (
            self.instance_type in (None, instance_type)
            and self.region in (None, region)
            and self.market in ("any", market)
        )


class Interruption(_Model):
    """Spot instances of matching pools are interrupted ``after_seconds`` after creation."""

    instance_type: str | None = None
    region: str | None = None
    after_seconds: float = Field(default=0.0, ge=0)

    def matches(self, instance_type: str, region: str) -> bool:
        return self.instance_type in (None, instance_type) and self.region in (None, region)


class ScenarioOffer(_Model):
    provider: str
    instance_type: str
    region: str
    price: float = Field(ge=0)
    cpu: int = Field(ge=0)
    memory_gb: float = Field(ge=0)
    spot: bool = False
    gpu_count: int = Field(default=0, ge=0)
    gpu_name: str | None = None
    gpu_memory_gb: float | None = None
    gpu_vendor: str | None = None
    disk_gb: float | None = None


class Scenario(_Model):
    create_delay_seconds: float = Field(default=0.0, ge=0, le=600)
    crash_after_creates: int | None = Field(default=None, ge=1)
    default_capacity: int | None = Field(default=None, ge=0)
    pools: tuple[PoolRule, ...] = ()
    interruptions: tuple[Interruption, ...] = ()
    offers: tuple[ScenarioOffer, ...] = ()

    def rule_for(self, instance_type: str, region: str, market: str) -> PoolRule | None:
        return next(
            (rule for rule in self.pools if rule.matches(instance_type, region, market)), None
        )

    def capacity_of(self, instance_type: str, region: str, market: str) -> int | None:
        rule = self.rule_for(instance_type, region, market)
        return self.default_capacity if rule is None else rule.capacity

    def interruption_after(self, instance_type: str, region: str) -> float | None:
        found = next(
            (rule for rule in self.interruptions if rule.matches(instance_type, region)), None
        )
        return None if found is None else found.after_seconds


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario file; ``InputError`` naming file, line and field when it is wrong."""
    file = str(path)
    document = read_yaml(path, kind="scenario file")
    data: Any = {} if document is None else document.data
    if not isinstance(data, dict):
        raise InputError(problem_at(document, file, (), "a scenario is a mapping (pools, ...)"))
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise InputError(
            [
                problem_at(document, file, tuple(item["loc"]), _message(item))
                for item in error.errors()
            ]
        ) from None


def _message(item: Any) -> str:
    if item["type"] == "extra_forbidden":
        return "unknown field"
    if item["type"] == "missing":
        return "is required"
    return str(item["msg"])
