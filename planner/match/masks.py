"""Requirements x Catalog -> boolean row masks, one per requirement, with gpuhunt 0.1.34's semantics.

Each requirement (a "clause") writes its verdict for every catalog row into a caller's buffer, so the
fast path can AND them in place and the why-not report can keep them apart. The semantics are
gpuhunt's ``constraints.matches`` (catalog-format.md §3), in particular:

- bounds are inclusive, ``None`` skips a bound, ``min > max`` simply matches nothing;
- the GPU clauses are skipped for a CPU-only row when ``min_gpu_count == 0``; with the count
  unset, a CPU-only row is a GPU row with 0 GPUs and 0 GB (it fails names, vendor, compute
  capability and positive memory minimums, and passes every maximum);
- a GPU row with unknown ``gpu_memory`` counts as 0 GB; an unknown ``disk_gb`` passes disk bounds;
- names, regions and instance types compare case-insensitively; ``()`` excludes, ``None`` = any;
- compute capability is looked up in the GPU knowledge table per GPU-name category: only NVIDIA
  rows with a known name can satisfy a bound.

Then dstack's own filters on the offers: backends (through their gpuhunt providers), regions,
instance types and the reservation (only backends that support one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Final

import numpy as np

from planner.catalog.columns import CPU_ARCHS, GPU_VENDORS, OFFLINE_PROVIDERS, ONLINE_PROVIDERS
from planner.errors import InputError, Problem
from planner.match.view import CatalogView
from planner.requirements import (
    DSTACK_BACKENDS,
    RESERVATION_BACKENDS,
    Requirements,
    providers_of_backends,
)


@dataclass(frozen=True)
class Clause:
    """One requirement: its name, a human-readable condition and how it marks rows."""

    name: str
    condition: str
    write: Callable[[np.ndarray], None]  # writes True for rows that pass into the buffer


class _Query:
    """One evaluation of ``requirements`` over one catalog (scratch state lives here, per call)."""

    def __init__(self, requirements: Requirements, view: CatalogView) -> None:
        self.requirements = requirements
        self.view = view

    @cached_property
    def cpu_only_rows(self) -> np.ndarray:
        return np.equal(self.view.values("gpu_count"), 0)

    @property
    def skips_cpu_only_rows(self) -> bool:
        # gpuhunt compares with Python equality: 0, 0.0 and False all skip the GPU block.
        return self.requirements.min_gpu_count == 0

    def gpu_clause(self, write: Callable[[np.ndarray], None]) -> Callable[[np.ndarray], None]:
        """A GPU-block clause: CPU-only rows pass it when ``min_gpu_count == 0``."""
        if not self.skips_cpu_only_rows:
            return write

        def write_with_skip(out: np.ndarray) -> None:
            write(out)
            out |= self.cpu_only_rows

        return write_with_skip

    def bounds(
        self, column: str, low: float | None, high: float | None
    ) -> Callable[[np.ndarray], None]:
        values = self.view.values(column)

        def write(out: np.ndarray) -> None:
            if low is not None and high is not None:
                np.greater_equal(values, low, out=out)
                out &= values <= high
            elif low is not None:
                np.greater_equal(values, low, out=out)
            elif high is not None:
                np.less_equal(values, high, out=out)

        return write

    def gpu_memory_bounds(
        self, column: str, low: float | None, high: float | None
    ) -> Callable[[np.ndarray], None]:
        """Bounds on a GPU memory column where no GPUs or an unknown value count as 0 GB."""
        values = self.view.values(column)
        counts = self.view.values("gpu_count")

        def write(out: np.ndarray) -> None:
            has_gpus = counts > 0
            out[:] = True
            if low is not None:
                if low <= 0:  # a 0 GB fallback passes; a known value must reach the bound
                    out &= ~((values < low) & has_gpus)
                else:  # a 0 GB fallback fails; NaN fails the comparison by itself
                    out &= (values >= low) & has_gpus
            if high is not None:
                if high >= 0:
                    out &= ~((values > high) & has_gpus)
                else:
                    out &= (values <= high) & has_gpus

        return write

    def categories_in(
        self, column: str, wanted: tuple[str, ...], *, missing: bool = False
    ) -> Callable[[np.ndarray], None]:
        wanted_lower = {value.lower() for value in wanted}

        def write(out: np.ndarray) -> None:
            self.view.category_mask(column, lambda c: c.lower() in wanted_lower, out, missing)

        return write

    def compute_capability(self) -> Callable[[np.ndarray], None]:
        from planner.catalog.gpus import GpuTable

        low = _capability(self.requirements.min_compute_capability)
        high = _capability(self.requirements.max_compute_capability)
        table = GpuTable.load()

        def within(name: str) -> bool:
            capability = table.compute_capability(name) if name else None
            if capability is None:
                return False
            return (low is None or low <= capability) and (high is None or capability <= high)

        def write(out: np.ndarray) -> None:
            self.view.category_mask("gpu_name", within, out)
            nvidia = np.empty_like(out)
            self.view.category_mask("gpu_vendor", lambda v: v.lower() == "nvidia", nvidia)
            out &= nvidia

        return write

    def flags_allowed(self, allowed: tuple[str, ...]) -> Callable[[np.ndarray], None]:
        allowed_set = set(allowed)

        def write(out: np.ndarray) -> None:
            self.view.category_mask(
                "flags", lambda flags: all(f in allowed_set for f in flags.split()), out, True
            )

        return write


def clauses(requirements: Requirements, view: CatalogView) -> list[Clause]:
    """The requirements that are set, in gpuhunt's evaluation order, then dstack's filters."""
    _validate(requirements)
    q = _Query(requirements, view)
    r = requirements
    result: list[Clause] = []

    def add(name: str, condition: str, write: Callable[[np.ndarray], None]) -> None:
        result.append(Clause(name, condition, write))

    if r.providers is not None:
        add(
            "providers",
            f"provider in {_listed(r.providers)}",
            q.categories_in("provider", r.providers),
        )
    if r.backends is not None:
        backend_providers = providers_of_backends(r.backends)
        if r.providers is None or set(backend_providers) != {p.lower() for p in r.providers}:
            add(
                "backends",
                f"backend in {_listed(r.backends)}",
                q.categories_in("provider", backend_providers),
            )
    if r.reservation is not None:
        add(
            "reservation",
            f"reservation {r.reservation!r} (backends {_listed(RESERVATION_BACKENDS)} only)",
            q.categories_in("provider", RESERVATION_BACKENDS),
        )
    if r.min_price is not None or r.max_price is not None:
        add(
            "price",
            _bounds_text("price", r.min_price, r.max_price, "$"),
            q.bounds("price", r.min_price, r.max_price),
        )
    if r.spot is not None:
        spot = r.spot
        add(
            "spot",
            "spot" if spot else "on-demand",
            lambda out: np.equal(view.values("spot"), spot, out=out),
        )
    if r.cpu_arch:
        add(
            "cpu_arch", f"cpu arch {r.cpu_arch.lower()}", q.categories_in("cpu_arch", (r.cpu_arch,))
        )
    if r.min_cpu is not None or r.max_cpu is not None:
        add(
            "cpu", _bounds_text("cpus", r.min_cpu, r.max_cpu), q.bounds("cpu", r.min_cpu, r.max_cpu)
        )
    if r.min_memory_gb is not None or r.max_memory_gb is not None:
        add(
            "memory",
            _bounds_text("memory", r.min_memory_gb, r.max_memory_gb, unit="GB"),
            q.bounds("memory_gb", r.min_memory_gb, r.max_memory_gb),
        )
    if r.gpu_vendor:
        add(
            "gpu_vendor",
            f"gpu vendor {r.gpu_vendor.lower()}",
            q.gpu_clause(q.categories_in("gpu_vendor", (r.gpu_vendor,))),
        )
    if r.min_gpu_count is not None or r.max_gpu_count is not None:
        add(
            "gpu_count",
            _bounds_text("gpu count", r.min_gpu_count, r.max_gpu_count),
            q.gpu_clause(q.bounds("gpu_count", r.min_gpu_count, r.max_gpu_count)),
        )
    if r.gpu_names is not None:
        add(
            "gpu_names",
            f"gpu name in {_listed(r.gpu_names)}",
            q.gpu_clause(q.categories_in("gpu_name", r.gpu_names)),
        )
    if r.min_compute_capability is not None or r.max_compute_capability is not None:
        low, high = _capability(r.min_compute_capability), _capability(r.max_compute_capability)
        add(
            "compute_capability",
            _bounds_text(
                "compute capability",
                None if low is None else f"{low[0]}.{low[1]}",
                None if high is None else f"{high[0]}.{high[1]}",
            ),
            q.gpu_clause(q.compute_capability()),
        )
    if r.min_gpu_memory_gb is not None or r.max_gpu_memory_gb is not None:
        add(
            "gpu_memory",
            _bounds_text("gpu memory", r.min_gpu_memory_gb, r.max_gpu_memory_gb, unit="GB"),
            q.gpu_clause(
                q.gpu_memory_bounds("gpu_memory_gb", r.min_gpu_memory_gb, r.max_gpu_memory_gb)
            ),
        )
    if r.min_total_gpu_memory_gb is not None or r.max_total_gpu_memory_gb is not None:
        add(
            "total_gpu_memory",
            _bounds_text(
                "total gpu memory", r.min_total_gpu_memory_gb, r.max_total_gpu_memory_gb, unit="GB"
            ),
            q.gpu_clause(
                _total_memory_bounds(q, r.min_total_gpu_memory_gb, r.max_total_gpu_memory_gb)
            ),
        )
    if r.min_disk_gb is not None or r.max_disk_gb is not None:
        add(
            "disk",
            _bounds_text("disk", r.min_disk_gb, r.max_disk_gb, unit="GB") + " (when stated)",
            _disk_bounds(view, r.min_disk_gb, r.max_disk_gb),
        )
    if r.allowed_flags is not None:
        add("flags", f"flags within {_listed(r.allowed_flags)}", q.flags_allowed(r.allowed_flags))
    if r.regions is not None:
        add("regions", f"region in {_listed(r.regions)}", q.categories_in("region", r.regions))
    if r.instance_types is not None:
        add(
            "instance_types",
            f"instance type in {_listed(r.instance_types)}",
            q.categories_in("instance_type", r.instance_types),
        )
    return result


def combined_mask(requirements: Requirements, view: CatalogView) -> np.ndarray:
    """Rows that pass every requirement (the fast path: one buffer, clauses ANDed in place)."""
    mask = np.ones(view.rows, dtype=bool)
    scratch = np.empty(view.rows, dtype=bool)
    for clause in clauses(requirements, view):
        clause.write(scratch)
        mask &= scratch
    return mask


def requirement_masks(requirements: Requirements, view: CatalogView) -> dict[str, np.ndarray]:
    """Each set requirement's own verdict per row (for why-not reports and tests)."""
    masks: dict[str, np.ndarray] = {}
    for clause in clauses(requirements, view):
        out = np.empty(view.rows, dtype=bool)
        clause.write(out)
        masks[clause.name] = out
    return masks


def _total_memory_bounds(
    q: _Query, low: float | None, high: float | None
) -> Callable[[np.ndarray], None]:
    counts = q.view.values("gpu_count")
    per_gpu = q.view.values("gpu_memory_gb")

    def write(out: np.ndarray) -> None:
        total = counts * per_gpu  # NaN where the per-GPU memory is unknown
        has_gpus = counts > 0
        out[:] = True
        if low is not None:
            if low <= 0:
                out &= ~((total < low) & has_gpus)
            else:
                out &= (total >= low) & has_gpus
        if high is not None:
            if high >= 0:
                out &= ~((total > high) & has_gpus)
            else:
                out &= (total <= high) & has_gpus

    return write


def _disk_bounds(
    view: CatalogView, low: float | None, high: float | None
) -> Callable[[np.ndarray], None]:
    disk = view.values("disk_gb")

    def write(out: np.ndarray) -> None:
        # Written as "not out of bounds" so an unknown (NaN) disk passes: NaN compares False.
        out[:] = True
        if low is not None:
            out &= ~(disk < low)
        if high is not None:
            out &= ~(disk > high)

    return write


ALL_PROVIDERS: Final = OFFLINE_PROVIDERS + ONLINE_PROVIDERS


def _validate(r: Requirements) -> None:
    problems: list[Problem] = []
    for provider in r.providers or ():
        if provider.lower() not in ALL_PROVIDERS:
            problems.append(
                Problem(
                    f"unknown provider {provider!r}; known providers: {', '.join(ALL_PROVIDERS)}",
                    path="providers",
                )
            )
    for backend in r.backends or ():
        if backend.lower() not in DSTACK_BACKENDS:
            problems.append(
                Problem(
                    f"unknown backend {backend!r}; known backends: {', '.join(DSTACK_BACKENDS)}",
                    path="backends",
                )
            )
    if r.cpu_arch and r.cpu_arch.lower() not in CPU_ARCHS:
        problems.append(
            Problem(
                f"unknown cpu arch {r.cpu_arch!r}; expected one of {CPU_ARCHS}", path="cpu_arch"
            )
        )
    if r.gpu_vendor and r.gpu_vendor.lower() not in GPU_VENDORS:
        problems.append(
            Problem(
                f"unknown gpu vendor {r.gpu_vendor!r}; expected one of {GPU_VENDORS}",
                path="gpu_vendor",
            )
        )
    for name in ("min_compute_capability", "max_compute_capability"):
        value = getattr(r, name)
        if value is not None:
            try:
                _capability(value)
            except (TypeError, ValueError):
                problems.append(
                    Problem(f"expected a (major, minor) pair or 'M.m', got {value!r}", path=name)
                )
    if problems:
        raise InputError(problems)


def _capability(value: object) -> tuple[int, int] | None:
    """A compute capability as an integer pair: ``(8, 0)``, ``[8, 0]`` or ``"8.0"``."""
    if value is None:
        return None
    if isinstance(value, str):
        major, minor = value.split(".")
        return int(major), int(minor)
    if isinstance(value, tuple | list) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f"not a compute capability: {value!r}")


def _listed(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(values) + "]"


def _number(value: object, unit: str) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    if unit == "$":
        return f"${text}"
    return f"{text}{unit}"


def _bounds_text(label: str, low: object, high: object, unit: str = "") -> str:
    if low is not None and high is not None:
        return f"{_number(low, unit)} ≤ {label} ≤ {_number(high, unit)}"
    if low is not None:
        return f"{label} ≥ {_number(low, unit)}"
    return f"{label} ≤ {_number(high, unit)}"
