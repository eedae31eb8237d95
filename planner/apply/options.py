"""How ``apply`` runs: dry or real, how long to wait, which clock measures the retry duration."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ApplyOptions"]


@dataclass(frozen=True)
class ApplyOptions:
    """``dry_run``: plan and list the create calls, call nothing; ``wait_timeout_seconds``: how
    long a created instance may take to reach ``running``; ``clock``: seconds, monotonic (the
    retry duration is measured on it)."""

    dry_run: bool = False
    wait_timeout_seconds: float = 600.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
