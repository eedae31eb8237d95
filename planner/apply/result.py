"""What ``apply`` and ``destroy`` did, as typed values (planner/render/apply.py words them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from planner.backends.base import Instance, InstanceRequest
from planner.placement.result import Plan

__all__ = ["ApplyResult", "Attempt", "DestroyResult", "SlotResult", "StopReason", "Termination"]

# Why a replica was left without an instance.
StopReason = Literal[
    "event-not-retried",  # the event is not in the service's `retry.on_events` (or no retry)
    "duration-exceeded",  # `retry.duration` has passed since the replica's first attempt
    "fallbacks-exhausted",  # every fallback of the chain for the event was tried
]
SlotStatus = Literal["created", "kept", "failed", "existing", "planned"]


@dataclass(frozen=True)
class Attempt:
    """One create call (or, in a dry run, one it would make)."""

    backend: str | None  # the backends-file name; None when no backend provides the offer
    request: InstanceRequest
    event: str | None  # None: it succeeded; "no-capacity" | "error" | "interruption"
    message: str | None = None  # the backend's words (credentials scrubbed)
    instance_id: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "request": self.request.to_json(),
            "event": self.event,
            "message": self.message,
            "instance_id": self.instance_id,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class SlotResult:
    """One planned replica: ``slot`` ``p<placement>r<replica>``, and how it ended."""

    slot: str
    placement: int
    status: SlotStatus
    offer: dict[str, Any]  # where it ended (or was planned, when it failed)
    market: str
    instance: Instance | None = None
    attempts: tuple[Attempt, ...] = ()
    events: tuple[str, ...] = ()  # retry events seen, in order (an interruption found included)
    stop_reason: StopReason | None = None
    seconds: float = 0.0

    @property
    def hourly_price(self) -> float | None:
        if self.instance is not None and self.instance.hourly_price is not None:
            return self.instance.hourly_price
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "placement": self.placement,
            "status": self.status,
            "offer": self.offer,
            "market": self.market,
            "instance": None if self.instance is None else self.instance.to_json(),
            "hourly_price": self.hourly_price,
            "events": list(self.events),
            "stop_reason": self.stop_reason,
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    plan_id: str
    service: str
    slots: tuple[SlotResult, ...]
    dry_run: bool
    state_path: str | None

    @property
    def complete(self) -> bool:
        """Every planned replica has an instance (or, in a dry run, a call to make)."""
        return self.plan.feasible and all(slot.status != "failed" for slot in self.slots)

    @property
    def hourly_cost(self) -> float:
        """What the instances that exist now cost per hour (their own prices)."""
        return sum(slot.hourly_price or 0.0 for slot in self.slots)

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "plan_id": self.plan_id,
            "dry_run": self.dry_run,
            "state_file": self.state_path,
            "plan_status": self.plan.status,
            "planned_hourly_cost": round(self.plan.hourly_cost, 6),
            "hourly_cost": round(self.hourly_cost, 6),
            "complete": self.complete,
            "created": sum(1 for slot in self.slots if slot.status == "created"),
            "kept": sum(1 for slot in self.slots if slot.status == "kept"),
            "failed": sum(1 for slot in self.slots if slot.status == "failed"),
            "slots": [slot.to_json() for slot in self.slots],
        }


@dataclass(frozen=True)
class Termination:
    """One instance ``destroy`` ended (``ok``), or failed to end (``message`` says why)."""

    backend: str
    instance_id: str
    slot: str
    ok: bool
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "instance_id": self.instance_id,
            "slot": self.slot,
            "ok": self.ok,
            "message": self.message,
        }


@dataclass(frozen=True)
class DestroyResult:
    state_path: str
    terminations: tuple[Termination, ...]

    @property
    def complete(self) -> bool:
        return all(termination.ok for termination in self.terminations)

    def to_json(self) -> dict[str, Any]:
        return {
            "state_file": self.state_path,
            "complete": self.complete,
            "terminated": sum(1 for t in self.terminations if t.ok),
            "failed": sum(1 for t in self.terminations if not t.ok),
            "instances": [termination.to_json() for termination in self.terminations],
        }
