"""One ``apply`` or ``destroy`` at a time per state file: an exclusive lock on a sibling file.

The lock is ``flock`` on ``<state file>.lock``, taken without waiting: a second run on the same
state file fails at once (``InputError``, exit 2) naming the state file and the pid written in
the lock file by the run holding it. The kernel releases a ``flock`` when its process ends, however
it ends, so a lock file left behind by a killed run (its pid dead) never blocks the next run. The
lock file is never removed: removing it would let two runs lock two different files.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.errors import InputError, Problem

__all__ = ["lock_path", "state_lock"]


def lock_path(state: str | os.PathLike[str]) -> Path:
    """The lock file of a state file: ``state.json`` → ``state.json.lock``, beside it."""
    path = Path(state)
    return path.with_name(path.name + ".lock")


@contextmanager
def state_lock(state: str | os.PathLike[str], command: str) -> Iterator[None]:
    """Hold the state file's lock for the ``with`` block, or raise ``InputError`` at once."""
    lock = lock_path(state)
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise InputError(
            Problem(f"cannot create the lock file {lock.name}: {error.strerror}", file=str(state))
        ) from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(descriptor)
            raise InputError(
                Problem(
                    f"another `planner apply` or `planner destroy` ({holder}) is using this state "
                    f"file (lock {lock.name}); wait for it to end, then run `planner {command}` "
                    "again",
                    file=os.fspath(state),
                )
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _holder(descriptor: int) -> str:
    """The holder as "pid N", from what it wrote into the lock file."""
    text = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
    return f"pid {text}" if text.isdigit() else "pid not yet written"
