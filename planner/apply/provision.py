"""Provisioning one replica slot: resume it from the state file, or create it down the chain.

See ``planner.apply.engine`` for the rules; this is their implementation, one slot at a time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from planner.apply.options import ApplyOptions
from planner.apply.requests import instance_request, market_of, offer_key
from planner.apply.result import Attempt, SlotResult, StopReason
from planner.apply.state import ApplyState, StateRecord, write_state
from planner.backends.base import (
    Backend,
    BackendConfig,
    BackendError,
    Instance,
    InstanceNotFound,
    InstanceRequest,
    NoCapacity,
)
from planner.backends.registry import open_backend
from planner.backends.settings import BackendsFile

if TYPE_CHECKING:
    from planner.config.normalized import NormalizedService
    from planner.placement.result import Placement, Plan

__all__ = ["Run"]


class Run:
    """One apply: the plan, the backends opened so far, the state being written."""

    def __init__(
        self,
        plan: Plan,
        identifier: str,
        service: str,
        normalized: NormalizedService,
        backends: BackendsFile,
        state: ApplyState,
        options: ApplyOptions,
    ) -> None:
        self.plan = plan
        self.identifier = identifier
        self.service = service
        self.normalized = normalized
        self.backends = backends
        self.state = state
        self.options = options
        self.opened: dict[str, Backend] = {}

    def backend(self, config: BackendConfig) -> Backend:
        if config.name not in self.opened:
            self.opened[config.name] = open_backend(config)
        return self.opened[config.name]

    def open_all(self) -> None:
        """Open every backend the plan's placements and the state file's records use."""
        names = {record.backend for record in self.state.records}
        for placement in self.plan.placements:
            config = self.backends.for_catalog_backend(str(placement.offer["backend"]))
            if config is not None and market_of(placement.capacity_type) is not None:
                names.add(config.name)
        for name in sorted(names):
            config = self.backends.named(name)
            if config is not None:
                self.backend(config)

    def save(self) -> None:
        if not self.options.dry_run:
            write_state(self.state)

    # ----------------------------------------------------------------------------------------

    def slot(self, index: int, replica: int) -> SlotResult:
        placement = self.plan.placements[index]
        slot = f"p{index}r{replica}"
        market = market_of(placement.capacity_type)
        if market is None:
            return SlotResult(slot, index, "existing", placement.offer, placement.capacity_type)
        events: list[str] = []
        if self.options.dry_run:
            live = [record for record in self.state.live() if record.slot == slot]
            if live:
                return SlotResult(slot, index, "kept", live[0].offer, live[0].market)
        else:
            kept = self.resume(slot, events)
            if kept is not None:
                record, instance = kept
                return SlotResult(slot, index, "kept", record.offer, record.market, instance)
        return self.provision(index, slot, placement, events)

    def resume(self, slot: str, events: list[str]) -> tuple[StateRecord, Instance] | None:
        """The slot's instance from the state file, if it still runs; ``events`` gets an
        ``interruption`` for one that has gone since."""
        for record in [record for record in self.state.records if record.slot == slot]:
            if record.status == "creating":
                record = self.finish_create(record)
            if record.status != "running" or record.instance_id is None:
                continue
            config = self.backends.named(record.backend)
            if config is None:
                continue
            try:
                instance = self.backend(config).describe(record.instance_id)
            except InstanceNotFound:
                instance = None
            except Exception:  # the provider cannot say now: keep it rather than duplicate it
                return record, _instance_of(record)
            if instance is not None and instance.state in ("pending", "running"):
                return record, instance
            self.state.update(record, status="interrupted")
            self.save()
            events.append("interruption")
        return None

    def finish_create(self, record: StateRecord) -> StateRecord:
        """A create that a killed run started: repeat it with the same client token."""
        config = self.backends.named(record.backend)
        if config is None:
            return record
        request = _request_of(record)
        try:
            instance = self.backend(config).create(request)
        except Exception as error:
            new = self.state.update(record, status="failed", message=_said(config, error))
        else:
            new = self.state.update(
                record,
                status="running",
                instance_id=instance.instance_id,
                hourly_price=instance.hourly_price,
                created_at=instance.created_at,
            )
        self.save()
        return new

    def provision(
        self, index: int, slot: str, placement: Placement, events: list[str]
    ) -> SlotResult:
        retry = self.normalized.retry
        clock = self.options.clock
        started = clock()
        offer, capacity_type = placement.offer, placement.capacity_type
        if events and retry is not None and "interruption" in retry.on_events:
            chain = placement.fallbacks_for("interruption")
            if chain:
                offer, capacity_type = chain[0].offer, chain[0].capacity_type
        tried: set[str] = set()
        attempts: list[Attempt] = []
        stop: StopReason
        while True:
            tried.add(f"{offer_key(offer)}/{capacity_type}")
            market = market_of(capacity_type) or "on-demand"
            request = instance_request(
                service=self.service,
                plan=self.identifier,
                slot=slot,
                offer=offer,
                market=market,
                generation=self.state.generation(slot),
                reservation=self.normalized.reservation,
                max_price=self.normalized.max_price,
            )
            config = self.backends.for_catalog_backend(str(offer["backend"]))
            if self.options.dry_run and config is not None:
                attempts.append(Attempt(config.name, request, None))
                return SlotResult(
                    slot, index, "planned", offer, market, None, tuple(attempts), tuple(events)
                )
            attempt_started = clock()
            if config is None:
                event = "error"
                attempt = Attempt(None, request, event, f"no backend provides {offer['backend']}")
            else:
                instance, attempt = self.create(config, slot, request)
                if instance is not None:
                    attempts.append(attempt)
                    return SlotResult(
                        slot, index, "created", offer, market, instance, tuple(attempts),
                        tuple(events), None, clock() - started,
                    )  # fmt: skip
                event = attempt.event or "error"
            attempts.append(_timed(attempt, clock() - attempt_started))
            events.append(event)
            candidate = next(
                (
                    fallback
                    for fallback in placement.fallbacks_for(event)
                    if f"{offer_key(fallback.offer)}/{fallback.capacity_type}" not in tried
                ),
                None,
            )
            if retry is None or event not in retry.on_events:
                stop = "event-not-retried"
            elif clock() - started > retry.duration_seconds:
                stop = "duration-exceeded"
            elif candidate is None:
                stop = "fallbacks-exhausted"
            else:
                offer, capacity_type = candidate.offer, candidate.capacity_type
                continue
            return SlotResult(
                slot, index, "failed", placement.offer, market_of(placement.capacity_type) or "",
                None, tuple(attempts), tuple(events), stop, clock() - started,
            )  # fmt: skip

    def create(
        self, config: BackendConfig, slot: str, request: InstanceRequest
    ) -> tuple[Instance | None, Attempt]:
        """One create call, recorded in the state file before and after."""
        record = StateRecord(
            slot=slot,
            backend=config.name,
            client_token=request.client_token,
            market=request.market,
            status="creating",
            request=request.to_json(),
            offer=dict(request.offer),
        )
        backend = self.backend(config)  # a plugin that rejects its settings: InputError
        self.state.records.append(record)
        self.save()
        try:
            instance = backend.create(request)
        except Exception as error:
            event = "no-capacity" if isinstance(error, NoCapacity) else "error"
            message = _said(config, error)
            self.state.update(record, status="failed", message=message)
            self.save()
            return None, Attempt(config.name, request, event, message)
        record = self.state.update(
            record,
            status="running",
            instance_id=instance.instance_id,
            hourly_price=instance.hourly_price,
            created_at=instance.created_at,
        )
        self.save()
        try:
            instance = backend.wait_until_running(
                instance.instance_id, self.options.wait_timeout_seconds
            )
        except Exception as error:
            message = _said(config, error)
            try:
                backend.terminate(instance.instance_id)
            except Exception:
                pass
            else:
                self.state.update(record, status="terminated", message=message)
                self.save()
            return None, Attempt(config.name, request, "error", message, instance.instance_id)
        return instance, Attempt(config.name, request, None, None, instance.instance_id)


def _said(config: BackendConfig, error: Exception) -> str:
    """What a backend said, never a credential."""
    text = str(error) if isinstance(error, BackendError) else f"{type(error).__name__}: {error}"
    return config.scrub(text)


def _timed(attempt: Attempt, seconds: float) -> Attempt:
    return replace(attempt, seconds=seconds)


def _request_of(record: StateRecord) -> InstanceRequest:
    data: dict[str, Any] = record.request
    return InstanceRequest(
        instance_type=str(data["instance_type"]),
        region=str(data["region"]),
        market=data["market"],
        client_token=str(data["client_token"]),
        tags=dict(data.get("tags") or {}),
        reservation=data.get("reservation"),
        max_price=data.get("max_price"),
        offer=dict(record.offer),
    )


def _instance_of(record: StateRecord) -> Instance:
    data = record.request
    return Instance(
        instance_id=str(record.instance_id),
        backend=record.backend,
        instance_type=str(data["instance_type"]),
        region=str(data["region"]),
        market=data["market"],
        state="running",
        hourly_price=record.hourly_price,
        tags=dict(data.get("tags") or {}),
        client_token=record.client_token,
        created_at=record.created_at,
    )
