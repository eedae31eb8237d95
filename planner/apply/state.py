"""The apply state file: every instance an apply created (or was creating), written atomically.

JSON, one object: ``format``/``version``, the ``service``, the ``plan_id`` it carries out, the
``backends_file`` it used, and ``records`` — one per create call, in order:

    {"slot": "p0r1", "backend": "sim", "client_token": "plnr-…", "market": "spot",
     "status": "creating" | "running" | "failed" | "terminated" | "interrupted",
     "instance_id": "i-…" | null, "request": {...}, "offer": {...}, "hourly_price": 0.1, ...}

A record is written as ``creating`` *before* its create call and updated right after, so a process
killed in between leaves a record whose client token finds the instance again (docs/backends.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from planner.errors import InputError, Problem

__all__ = ["LIVE", "STATE_FORMAT", "ApplyState", "StateRecord", "read_state", "write_state"]

STATE_FORMAT: Final = "planner-apply-state"
_VERSION: Final = 1

RecordStatus = Literal["creating", "running", "failed", "terminated", "interrupted"]
# Records whose instance may exist at the provider.
LIVE: Final[tuple[str, ...]] = ("creating", "running")
_STATUSES: Final[tuple[str, ...]] = ("creating", "running", "failed", "terminated", "interrupted")


@dataclass(frozen=True)
class StateRecord:
    slot: str
    backend: str
    client_token: str
    market: str
    status: RecordStatus
    request: dict[str, Any]
    offer: dict[str, Any]
    instance_id: str | None = None
    hourly_price: float | None = None
    created_at: str | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "backend": self.backend,
            "client_token": self.client_token,
            "market": self.market,
            "status": self.status,
            "instance_id": self.instance_id,
            "hourly_price": self.hourly_price,
            "created_at": self.created_at,
            "message": self.message,
            "request": self.request,
            "offer": self.offer,
        }


@dataclass
class ApplyState:
    """The state of one apply, mutated by the engine and written after every change."""

    path: Path | None  # None: kept in memory only (a dry run, a library caller's choice)
    service: str
    plan_id: str
    backends_file: str | None
    records: list[StateRecord] = field(default_factory=list)

    def live(self) -> list[StateRecord]:
        return [record for record in self.records if record.status in LIVE]

    def generation(self, slot: str) -> int:
        """How many instances of ``slot`` have ended: a replacement gets a new client token."""
        ended = ("terminated", "interrupted")
        return sum(1 for record in self.records if record.slot == slot and record.status in ended)

    def update(self, old: StateRecord, **changes: Any) -> StateRecord:
        new = replace(old, **changes)
        self.records[self.records.index(old)] = new
        return new

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "version": _VERSION,
            "service": self.service,
            "plan_id": self.plan_id,
            "backends_file": self.backends_file,
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "records": [record.to_json() for record in self.records],
        }


def write_state(state: ApplyState) -> None:
    """Write atomically: a temporary file beside it, flushed to disk, then renamed over it."""
    path = state.path
    if path is None:
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(state.to_json(), handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InputError(
            Problem(f"cannot write the state file: {error.strerror}", file=str(path))
        ) from None


def read_state(path: str | os.PathLike[str]) -> ApplyState | None:
    """The state file at ``path``; ``None`` when there is none. ``InputError`` when malformed."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise InputError(
            Problem(f"cannot read the state file: {error.strerror}", file=str(file))
        ) from None
    try:
        data = json.loads(text)
        if data.get("format") != STATE_FORMAT or data.get("version") != _VERSION:
            raise ValueError(f"not a {STATE_FORMAT} file of version {_VERSION}")
        records = [_record(item) for item in data["records"]]
        return ApplyState(
            path=file,
            service=str(data["service"]),
            plan_id=str(data["plan_id"]),
            backends_file=data.get("backends_file"),
            records=records,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        reason = error.args[0] if isinstance(error, ValueError) else f"missing or bad {error}"
        raise InputError(
            Problem(f"not a valid apply state file: {reason}", file=str(file))
        ) from None


def _record(item: dict[str, Any]) -> StateRecord:
    status = item["status"]
    if status not in _STATUSES:
        raise ValueError(f"unknown record status {status!r}")
    return StateRecord(
        slot=str(item["slot"]),
        backend=str(item["backend"]),
        client_token=str(item["client_token"]),
        market=str(item["market"]),
        status=status,
        request=dict(item.get("request") or {}),
        offer=dict(item.get("offer") or {}),
        instance_id=item.get("instance_id"),
        hourly_price=item.get("hourly_price"),
        created_at=item.get("created_at"),
        message=item.get("message"),
    )
