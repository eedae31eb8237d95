"""Auto-scaling and replica groups (dstack 0.22.5: ``groups``, or ``replicas`` written as a list)."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from planner.config.models_base import DurationField, _Model
from planner.errors import excerpt


class ScalingSpec(_Model):
    """Auto-scaling rules, required when ``replicas`` is a range."""

    metric: Literal["rps"] = Field(
        description="The target metric to track. Currently, the only supported value is `rps` (requests per second)."
    )
    target: float = Field(
        gt=0,
        description="The target value of the metric (requests per second per replica); must be > 0. "
        "The number of replicas is calculated from it.",
    )
    window: DurationField | None = Field(
        default=None,
        description="The time window over which the metric is averaged: 30s, 1m or 5m (dstack 0.22). Defaults to 1m.",
    )
    scale_up_delay: DurationField = Field(
        default=300, description="The delay before scaling up (seconds or `5m`). Defaults to 300."
    )
    scale_down_delay: DurationField = Field(
        default=600,
        description="The delay before scaling down (seconds or `10m`). Defaults to 600.",
    )

    @field_validator("window")
    @classmethod
    def _window(cls, value: int | None) -> int | None:
        if value is not None and value not in (30, 60, 300):
            raise ValueError(f"window must be one of 30s, 1m, 5m; got {excerpt(value)} seconds")
        return value

    @field_validator("scale_up_delay", "scale_down_delay")
    @classmethod
    def _delay(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"a scaling delay cannot be negative, got {excerpt(value)}")
        return value
