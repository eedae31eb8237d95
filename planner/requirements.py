"""Configuration -> explicit, immutable requirements: the matcher's only input besides the catalog.

Field meaning follows gpuhunt's ``QueryFilter`` (bounds inclusive, ``None`` = not set) plus dstack's
offer filters applied after the query (backends, regions, instance_types, reservation).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Requirements:
    # --- the catalog query (gpuhunt QueryFilter semantics, units GB / USD per hour) ---
    providers: tuple[str, ...] | None = None  # gpuhunt provider names; () matches nothing
    cpu_arch: str | None = None  # "x86" | "arm"
    min_cpu: int | None = None
    max_cpu: int | None = None
    min_memory_gb: float | None = None
    max_memory_gb: float | None = None
    min_gpu_count: int | None = None
    max_gpu_count: int | None = None
    gpu_vendor: str | None = None
    gpu_names: tuple[str, ...] | None = None  # case-insensitive exact; () matches nothing
    min_gpu_memory_gb: float | None = None
    max_gpu_memory_gb: float | None = None
    min_total_gpu_memory_gb: float | None = None
    max_total_gpu_memory_gb: float | None = None
    min_disk_gb: float | None = None
    max_disk_gb: float | None = None
    min_price: float | None = None
    max_price: float | None = None
    min_compute_capability: tuple[int, int] | None = None
    max_compute_capability: tuple[int, int] | None = None
    spot: bool | None = None  # None: both (spot_policy auto)
    allowed_flags: tuple[str, ...] | None = None  # None: every flag allowed
    # --- dstack's filters on the resulting offers (case-insensitive) ---
    backends: tuple[str, ...] | None = None  # dstack backend names (lambda, datacrunch, ...)
    regions: tuple[str, ...] | None = None
    instance_types: tuple[str, ...] | None = None
    reservation: str | None = None
