"""A deterministic simulated backend, for dry runs and tests (docs/backends.md).

Its cloud is a JSON file (the ``store``), so instances outlive the process that created them,
as a real provider's do: a second ``planner apply`` or ``planner destroy`` sees them. Capacity,
failures, delays, interruptions and a crash-injection point come from a scenario file
(``planner.backends.scenario``).

Settings: ``scenario`` (path, relative to the backends file; default: unlimited capacity),
``store`` (path; default ``<backends file>.<name>.cloud.json`` next to the backends file).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.backends.base import (
    TAG_SERVICE,
    BackendConfig,
    BackendError,
    Instance,
    InstanceNotFound,
    InstanceRequest,
    LiveOffers,
    NoCapacity,
)
from planner.backends.scenario import Scenario, load_scenario
from planner.errors import InputError, Problem

if TYPE_CHECKING:
    from planner.requirements import Requirements

__all__ = ["CRASH_EXIT_CODE", "SimulatedBackend"]

# The exit status of a process the crash-injection hook ends (as if killed by SIGKILL).
CRASH_EXIT_CODE = 137
_SETTINGS = ("scenario", "store")


class SimulatedBackend:
    """A backend whose provider is a scenario file and a JSON store."""

    type = "simulated"

    def __init__(self, config: BackendConfig) -> None:
        self.name = config.name
        unknown = sorted(set(config.settings) - set(_SETTINGS))
        if unknown:
            raise InputError(
                Problem(
                    f"unknown setting of a simulated backend (it takes {', '.join(_SETTINGS)})",
                    file=config.source,
                    line=config.line,
                    path=f"backends.{config.name}.{unknown[0]}",
                )
            )
        base = Path(config.source).parent if config.source else Path.cwd()
        scenario = config.settings.get("scenario")
        self.scenario = load_scenario(base / str(scenario)) if scenario else Scenario()
        store = config.settings.get("store")
        default_store = f"{Path(config.source or 'backends').name}.{config.name}.cloud.json"
        self.store = base / str(store) if store else base / default_store

    # ----------------------------------------------------------------------------------------
    # The store

    def _read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.store.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"next_id": 1, "creates": 0, "instances": {}}
        except (OSError, ValueError) as error:
            raise BackendError(
                f"simulated cloud store unreadable: {error}", backend=self.name
            ) from None
        return data

    def _write(self, data: Mapping[str, Any]) -> None:
        temporary = self.store.with_name(self.store.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.store)

    def _instance(self, record: Mapping[str, Any]) -> Instance:
        state = record["state"]
        after = self.scenario.interruption_after(record["instance_type"], record["region"])
        if (
            state != "terminated"
            and record["market"] == "spot"
            and after is not None
            and time.time() - float(record["created"]) >= after
        ):
            state = "terminated"
        return Instance(
            instance_id=record["instance_id"],
            backend=self.name,
            instance_type=record["instance_type"],
            region=record["region"],
            market=record["market"],
            state=state,
            hourly_price=record.get("hourly_price"),
            tags=dict(record.get("tags") or {}),
            client_token=record.get("client_token"),
            created_at=record.get("created_at"),
        )

    # ----------------------------------------------------------------------------------------
    # The Backend protocol

    def live_offers(self, requirements: Requirements) -> LiveOffers:
        import pandas as pd

        from planner.catalog.columns import COLUMNS

        rows = [
            {**offer.model_dump(), "flags": "", "provider_data": "", "cpu_arch": "x86"}
            for offer in self.scenario.offers
        ]
        frame = pd.DataFrame(rows, columns=[*COLUMNS]).astype(COLUMNS)
        return LiveOffers(frame=frame, backend=self.name, type=self.type, fetched_at=_now())

    def create(self, request: InstanceRequest) -> Instance:
        if self.scenario.create_delay_seconds:
            time.sleep(self.scenario.create_delay_seconds)
        data = self._read()
        instances: dict[str, dict[str, Any]] = data["instances"]
        for record in instances.values():
            if record.get("client_token") == request.client_token:
                return self._instance(record)  # idempotent: the same token, the same instance
        where = f"{request.instance_type} ({request.market}) in {request.region}"
        rule = self.scenario.rule_for(request.instance_type, request.region, request.market)
        if rule is not None and rule.error:
            raise BackendError(f"{where}: {rule.error}", backend=self.name)
        capacity = self.scenario.capacity_of(request.instance_type, request.region, request.market)
        if capacity is not None:
            used = sum(
                1
                for record in instances.values()
                if self._instance(record).state != "terminated"
                and (record["instance_type"], record["region"], record["market"])
                == (request.instance_type, request.region, request.market)
            )
            if used >= capacity:
                raise NoCapacity(f"{where}: no capacity", backend=self.name)
        instance_id = f"sim-{int(data['next_id']):06d}"
        price = request.offer.get("price")
        instances[instance_id] = {
            "instance_id": instance_id,
            "instance_type": request.instance_type,
            "region": request.region,
            "market": request.market,
            "state": "running",
            "hourly_price": float(price) if price is not None else None,
            "tags": dict(request.tags),
            "client_token": request.client_token,
            "created": time.time(),
            "created_at": _now(),
            "reservation": request.reservation,
        }
        data["next_id"] = int(data["next_id"]) + 1
        data["creates"] = int(data["creates"]) + 1
        crash = self.scenario.crash_after_creates
        crashing = crash is not None and data["creates"] == crash and not data.get("crashed")
        data["crashed"] = bool(data.get("crashed")) or crashing
        self._write(data)
        if crashing:
            # Crash injection: the instance exists, the caller never hears of it.
            os._exit(CRASH_EXIT_CODE)
        return self._instance(instances[instance_id])

    def describe(self, instance_id: str) -> Instance:
        record = self._read()["instances"].get(instance_id)
        if record is None:
            raise InstanceNotFound(f"no instance {instance_id}", backend=self.name)
        return self._instance(record)

    def wait_until_running(self, instance_id: str, timeout_seconds: float) -> Instance:
        instance = self.describe(instance_id)
        if instance.state != "running":
            raise BackendError(f"{instance_id} is {instance.state}", backend=self.name)
        return instance

    def terminate(self, instance_id: str) -> Instance:
        data = self._read()
        record = data["instances"].get(instance_id)
        if record is None:
            raise InstanceNotFound(f"no instance {instance_id}", backend=self.name)
        record["state"] = "terminated"
        self._write(data)
        return self._instance(record)

    def list_created(self, service: str) -> tuple[Instance, ...]:
        found = (self._instance(record) for record in self._read()["instances"].values())
        return tuple(
            instance
            for instance in found
            if instance.state != "terminated" and instance.tags.get(TAG_SERVICE) == service
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
