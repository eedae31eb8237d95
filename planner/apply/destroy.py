"""``destroy``: terminate every instance a state file lists as live, and record that."""

from __future__ import annotations

import os

from planner.apply.lock import state_lock
from planner.apply.result import DestroyResult, Termination
from planner.apply.state import ApplyState, StateRecord, read_state, write_state
from planner.backends.base import (
    TAG_CLIENT_TOKEN,
    Backend,
    BackendConfig,
    BackendError,
    InstanceNotFound,
)
from planner.backends.registry import open_backend
from planner.backends.settings import BackendsFile, load_backends
from planner.errors import InputError, Problem

__all__ = ["destroy"]


def destroy(
    state: str | os.PathLike[str], backends: BackendsFile | str | os.PathLike[str]
) -> DestroyResult:
    """Terminate what the state file at ``state`` lists as running (or as being created: such an
        instance is found by its client token among ``list_created``). The file is rewritten after
        every termination; a second ``destroy`` finds nothing left to do. The state file is locked
    meanwhile (``planner.apply.lock``): an apply or destroy running on it raises ``InputError``."""
    backends_file = backends if isinstance(backends, BackendsFile) else load_backends(backends)
    if not os.path.exists(state):
        raise InputError(Problem("no such state file", file=os.fspath(state)))
    with state_lock(state, "destroy"):  # not while an apply or another destroy uses it
        found = read_state(state)
        if found is None:
            raise InputError(Problem("no such state file", file=os.fspath(state)))
        terminations = _terminate_live(found, backends_file)
    return DestroyResult(state_path=os.fspath(state), terminations=tuple(terminations))


def _terminate_live(found: ApplyState, backends_file: BackendsFile) -> list[Termination]:
    opened: dict[str, Backend] = {}
    terminations: list[Termination] = []
    for record in found.live():
        config = backends_file.named(record.backend)
        if config is None:
            terminations.append(
                Termination(
                    record.backend, record.instance_id or "", record.slot, False,
                    f"the backends file names no backend {record.backend!r}",
                )
            )  # fmt: skip
            continue
        if config.name not in opened:
            opened[config.name] = open_backend(config)
        termination, status = _terminate(opened[config.name], config, record, found.service)
        if termination is not None:
            terminations.append(termination)
        if status is not None:
            found.update(record, status=status)
            write_state(found)
    return terminations


def _terminate(
    backend: Backend, config: BackendConfig, record: StateRecord, service: str
) -> tuple[Termination | None, str | None]:
    """(what happened, the record's new status) for one live record."""
    instance_id = record.instance_id
    try:
        if instance_id is None:
            instance_id = next(
                (
                    instance.instance_id
                    for instance in backend.list_created(service)
                    if record.client_token
                    in (instance.client_token, instance.tags.get(TAG_CLIENT_TOKEN))
                ),
                None,
            )
            if instance_id is None:  # the create never took effect
                return None, "failed"
        backend.terminate(instance_id)
    except InstanceNotFound:
        return Termination(config.name, instance_id or "", record.slot, True), "terminated"
    except Exception as error:
        text = str(error) if isinstance(error, BackendError) else type(error).__name__
        message = config.scrub(text)
        return Termination(config.name, instance_id or "", record.slot, False, message), None
    return Termination(config.name, instance_id, record.slot, True), "terminated"
