"""Carrying out a plan through backend plugins: ``apply`` and ``destroy`` (docs/backends.md).

from planner.apply import ApplyOptions, apply, destroy
result = apply("service.yml", "backends.yml", state="state.json")
result.complete, [slot.instance for slot in result.slots]
destroy("state.json", "backends.yml")
"""

from __future__ import annotations

from planner.apply.destroy import destroy
from planner.apply.engine import apply
from planner.apply.options import ApplyOptions
from planner.apply.result import ApplyResult, Attempt, DestroyResult, SlotResult, Termination
from planner.apply.state import ApplyState, StateRecord, read_state

__all__ = [
    "ApplyOptions",
    "ApplyResult",
    "ApplyState",
    "Attempt",
    "DestroyResult",
    "SlotResult",
    "StateRecord",
    "Termination",
    "apply",
    "destroy",
    "read_state",
]
