"""``apply``: compute the plan, then create each planned replica through the backends, moving
down the placement's fallback chain on "no capacity" or an error as far as the service's
``retry`` allows (docs/backends.md, "apply").

Each replica is a *slot* (``p<placement>r<replica>``). Its attempts start at the placement's own
offer; after an event the next untried fallback for that event is tried, while the event is in
``retry.on_events`` and less than ``retry.duration`` has passed since the slot's first attempt.
The state file is written before and after every create, so a re-run continues where a killed or
failed run stopped: live instances are kept, a create that was under way is repeated with the
same client token (the provider returns the instance it made), an instance that has gone since
(interrupted) is replaced — from the ``interruption`` fallbacks when the retry policy lists it.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from planner.apply.lock import state_lock
from planner.apply.options import ApplyOptions
from planner.apply.provision import Run
from planner.apply.requests import market_of, plan_id
from planner.apply.result import ApplyResult
from planner.apply.state import ApplyState, read_state
from planner.backends.settings import BackendsFile, load_backends
from planner.errors import InputError, Problem

if TYPE_CHECKING:
    from planner.catalog import Catalog
    from planner.config.load import LoadedConfig
    from planner.config.normalized import NormalizedService
    from planner.placement import CapacityData, FleetInventory, PlanOptions
    from planner.placement.result import Plan

__all__ = ["apply"]


def apply(
    config: LoadedConfig | NormalizedService | str | os.PathLike[str],
    backends: BackendsFile | str | os.PathLike[str],
    *,
    catalog: Catalog | None = None,
    state: str | os.PathLike[str] | None = None,
    options: ApplyOptions | None = None,
    plan_options: PlanOptions | None = None,
    fleet: FleetInventory | str | os.PathLike[str] | None = None,
    capacity: CapacityData | str | os.PathLike[str] | None = None,
) -> ApplyResult:
    """Plan ``config`` over ``catalog`` and provision the plan through ``backends``.

    ``state``: the state file (read when it exists, written after every create; ``None`` keeps
    it in memory), locked for the whole run (``planner.apply.lock``): another apply or destroy on
    it meanwhile raises ``InputError``. Bad inputs raise ``PlannerError``; what the providers
    answer is in the result.
    """
    from planner.config.load import LoadedConfig, service_argument
    from planner.placement import plan as make_plan

    options = options or ApplyOptions()
    loaded = service_argument(config, "apply")
    backends_file = backends if isinstance(backends, BackendsFile) else load_backends(backends)
    normalized = loaded.normalized if isinstance(loaded, LoadedConfig) else loaded
    service = normalized.name or (
        Path(loaded.source).stem if isinstance(loaded, LoadedConfig) else "service"
    )
    # One apply or destroy at a time per state file, from reading it to the last create.
    locking = state is not None and not options.dry_run
    with state_lock(state, "apply") if state is not None and locking else nullcontext():
        result = make_plan(loaded, catalog, fleet=fleet, capacity=capacity, options=plan_options)
        identifier = plan_id(result)
        apply_state = _state(state, service, identifier, backends_file)
        _check_backends(result, backends_file)
        run = Run(result, identifier, service, normalized, backends_file, apply_state, options)
        if not options.dry_run:
            run.open_all()  # bad plugin settings fail before anything is created
        slots = tuple(run.slot(index, replica) for index, replica in _slots(result))
    return ApplyResult(
        plan=result,
        plan_id=identifier,
        service=service,
        slots=slots,
        dry_run=options.dry_run,
        state_path=None if state is None else os.fspath(state),
    )


def _slots(plan: Plan) -> list[tuple[int, int]]:
    if not plan.feasible:
        return []
    return [
        (index, replica)
        for index, placement in enumerate(plan.placements)
        for replica in range(placement.count)
    ]


def _state(
    path: str | os.PathLike[str] | None, service: str, identifier: str, backends: BackendsFile
) -> ApplyState:
    found = read_state(path) if path is not None else None
    fresh = ApplyState(
        path=None if path is None else Path(path),
        service=service,
        plan_id=identifier,
        backends_file=backends.source,
    )
    if found is None:
        return fresh
    if found.plan_id != identifier or found.service != service:
        if found.live():
            raise InputError(
                Problem(
                    f"the state file holds {len(found.live())} instance(s) of plan "
                    f"{found.plan_id} of service {found.service!r}, not of this plan "
                    f"({identifier} of {service!r}); run `planner destroy` with it first, or "
                    "give another --state",
                    file=os.fspath(path) if path is not None else None,
                )
            )
        return fresh
    return found


def _check_backends(plan: Plan, backends: BackendsFile) -> None:
    """Every placement's own offer must have a backend to create it (fallbacks may lack one)."""
    missing = sorted(
        {
            str(placement.offer["backend"])
            for placement in plan.placements
            if market_of(placement.capacity_type) is not None
            and backends.for_catalog_backend(str(placement.offer["backend"])) is None
        }
    )
    if missing:
        raise InputError(
            Problem(
                f"no backend provides {', '.join(missing)} (the plan places replicas there); "
                "add one, or `provides:` to an entry",
                file=backends.source,
                path="backends",
            )
        )
