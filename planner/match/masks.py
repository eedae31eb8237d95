"""Requirements x Catalog -> boolean row masks, one per requirement, with gpuhunt 0.1.34's semantics.

Each requirement (a "clause") ANDs its verdict for a block of catalog rows into a caller's buffer, so
the fast path can combine them in place and the why-not report can keep them apart. The semantics are
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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np

from planner.catalog.columns import CPU_ARCHS, GPU_VENDORS, OFFLINE_PROVIDERS, ONLINE_PROVIDERS
from planner.errors import InputError, Problem
from planner.match.view import CatalogView, CodeSelector
from planner.requirements import (
    DSTACK_BACKENDS,
    INSTANCE_VOLUME_PROVIDERS,
    PRIVILEGED_PROVIDERS,
    RESERVATION_BACKENDS,
    Requirements,
    providers_of_backends,
)

# A clause ANDs its verdict for the catalog rows ``rows`` (a slice) into ``target`` (one bool per
# row of the slice); the two scratch buffers (same length) are its to overwrite.
Apply = Callable[[np.ndarray, np.ndarray, np.ndarray, slice], None]

# Rows per block: the matcher works through the catalog in blocks so that its buffers stay small
# (in cache, reused by the allocator). Fresh full-length temporaries would cost more in page
# faults than the comparisons that fill them.
BLOCK_ROWS = 1 << 16


@dataclass(frozen=True)
class Clause:
    """One requirement: its name, a human-readable condition and how it marks rows."""

    name: str
    condition: str
    apply: Apply
    gpu_block: bool = False  # part of gpuhunt's GPU block (skippable for CPU-only rows)


class _Query:
    """Builds the clauses of ``requirements`` over one catalog view."""

    def __init__(self, requirements: Requirements, view: CatalogView) -> None:
        self.requirements = requirements
        self.view = view

    def bounds(self, column: str, low: float | None, high: float | None) -> Apply:
        values = self.view.values(column)

        def apply(target: np.ndarray, scratch: np.ndarray, _: np.ndarray, rows: slice) -> None:
            if low is not None:
                np.greater_equal(values[rows], low, out=scratch)
                target &= scratch
            if high is not None:
                np.less_equal(values[rows], high, out=scratch)
                target &= scratch

        return apply

    def equals(self, column: str, value: bool) -> Apply:
        values = self.view.values(column)

        def apply(target: np.ndarray, scratch: np.ndarray, _: np.ndarray, rows: slice) -> None:
            np.equal(values[rows], value, out=scratch)
            target &= scratch

        return apply

    def gpu_memory_bounds(self, values: np.ndarray, low: float | None, high: float | None) -> Apply:
        """Bounds on GPU memory where a row without GPUs or with an unknown value counts as 0 GB."""
        counts = self.view.values("gpu_count")

        def apply(
            target: np.ndarray, scratch: np.ndarray, has_gpus: np.ndarray, rows: slice
        ) -> None:
            np.greater(counts[rows], 0, out=has_gpus)
            if low is not None:
                if low > 0:  # the 0 GB fallback fails; NaN fails the comparison by itself
                    np.greater_equal(values[rows], low, out=scratch)
                    scratch &= has_gpus
                else:  # the 0 GB fallback passes: fail only known values below the bound
                    np.less(values[rows], low, out=scratch)
                    scratch &= has_gpus
                    np.logical_not(scratch, out=scratch)
                target &= scratch
            if high is not None:
                if high < 0:
                    np.less_equal(values[rows], high, out=scratch)
                    scratch &= has_gpus
                else:
                    np.greater(values[rows], high, out=scratch)
                    scratch &= has_gpus
                    np.logical_not(scratch, out=scratch)
                target &= scratch

        return apply

    def categories_accepted(self, column: str, accepted: np.ndarray, missing: bool) -> Apply:
        codes = self.view.codes(column)
        selector = CodeSelector(codes.dtype, accepted, missing)

        def apply(
            target: np.ndarray, scratch: np.ndarray, scratch2: np.ndarray, rows: slice
        ) -> None:
            selector.select(codes[rows], scratch, scratch2)
            target &= scratch

        return apply

    def names_in(self, column: str, wanted: tuple[str, ...], *, missing: bool = False) -> Apply:
        return self.categories_accepted(
            column, self.view.accepted_lower_names(column, wanted), missing
        )

    def compute_capability(self) -> Apply:
        low = _capability(self.requirements.min_compute_capability)
        high = _capability(self.requirements.max_compute_capability)
        capabilities = self.view.memo("capability:gpu_name", self._capabilities)
        within = np.fromiter(
            (
                capability is not None
                and (low is None or low <= capability)
                and (high is None or capability <= high)
                for capability in capabilities
            ),
            dtype=bool,
            count=len(capabilities),
        )
        names = self.categories_accepted("gpu_name", within, missing=False)
        nvidia = self.names_in("gpu_vendor", ("nvidia",))

        def apply(
            target: np.ndarray, scratch: np.ndarray, scratch2: np.ndarray, rows: slice
        ) -> None:
            names(target, scratch, scratch2, rows)
            nvidia(target, scratch, scratch2, rows)

        return apply

    def _capabilities(self) -> tuple[tuple[int, int] | None, ...]:
        """Compute capability per gpu_name category (gpuhunt: first NVIDIA entry, any case)."""
        from planner.catalog.gpus import GpuTable

        table = GpuTable.load()
        return tuple(
            table.compute_capability(name) if name else None
            for name in self.view.categories("gpu_name")
        )

    def flags_allowed(self, allowed: tuple[str, ...]) -> Apply:
        allowed_set = set(allowed)
        accepted = self.view.accepted_categories(
            "flags", lambda flags: all(flag in allowed_set for flag in flags.split())
        )
        return self.categories_accepted("flags", accepted, missing=True)

    def total_gpu_memory_bounds(self, low: float | None, high: float | None) -> Apply:
        counts = self.view.values("gpu_count")
        per_gpu = self.view.values("gpu_memory_gb")
        # NaN where the per-GPU memory is unknown (then the 0 GB fallback applies).
        total = self.view.memo("total_gpu_memory_gb", lambda: counts * per_gpu)
        return self.gpu_memory_bounds(total, low, high)

    def disk_bounds(self, low: float | None, high: float | None) -> Apply:
        disk = self.view.values("disk_gb")

        def apply(target: np.ndarray, scratch: np.ndarray, _: np.ndarray, rows: slice) -> None:
            # "Not out of bounds", so an unknown (NaN) disk passes: NaN compares False.
            if low is not None:
                np.less(disk[rows], low, out=scratch)
                np.logical_not(scratch, out=scratch)
                target &= scratch
            if high is not None:
                np.greater(disk[rows], high, out=scratch)
                np.logical_not(scratch, out=scratch)
                target &= scratch

        return apply


def clauses(requirements: Requirements, view: CatalogView) -> list[Clause]:
    """The requirements that are set, in gpuhunt's evaluation order, then dstack's filters."""
    _validate(requirements)
    q = _Query(requirements, view)
    r = requirements
    result: list[Clause] = []

    def add(name: str, condition: str, apply: Apply, gpu_block: bool = False) -> None:
        result.append(Clause(name, condition, apply, gpu_block))

    backend_providers = providers_of_backends(r.backends) if r.backends is not None else None
    # requirements_from_config sets both to the same providers: report it once, as the backends
    # the user wrote.
    same_as_backends = backend_providers is not None and r.providers is not None
    same_as_backends = same_as_backends and set(backend_providers or ()) == {
        provider.lower() for provider in r.providers or ()
    }
    if r.providers is not None and not same_as_backends:
        add("providers", f"provider in {_listed(r.providers)}", q.names_in("provider", r.providers))
    elif r.providers is None and r.backends is None:
        # gpuhunt's provider=None is every provider it knows; a catalog file of any other name
        # (cudo.csv, a SkyPilot vms.csv in a directory not named after its cloud) is never queried.
        unknown = [
            name for name in view.categories("provider") if name.lower() not in ALL_PROVIDERS
        ]
        if unknown:
            add(
                "providers",
                f"provider known to gpuhunt (not {', '.join(unknown)})",
                q.names_in("provider", ALL_PROVIDERS),
            )
    if r.backends is not None and backend_providers is not None:
        add(
            "backends",
            f"backend in {_listed(r.backends)}",
            q.names_in("provider", backend_providers),
        )
    if r.reservation is not None:
        add(
            "reservation",
            f"reservation {r.reservation!r} (backends {_listed(RESERVATION_BACKENDS)} only)",
            q.names_in("provider", RESERVATION_BACKENDS),
        )
    if r.privileged:
        add(
            "privileged",
            f"privileged (backends {_listed(PRIVILEGED_PROVIDERS)} only)",
            q.names_in("provider", PRIVILEGED_PROVIDERS),
        )
    if r.instance_volumes:
        add(
            "instance_volumes",
            f"instance volumes (backends {_listed(INSTANCE_VOLUME_PROVIDERS)} only)",
            q.names_in("provider", INSTANCE_VOLUME_PROVIDERS),
        )
    if r.min_price is not None or r.max_price is not None:
        add(
            "price",
            _bounds_text("price", r.min_price, r.max_price, "$"),
            q.bounds("price", r.min_price, r.max_price),
        )
    if r.spot is not None:
        add("spot", "spot" if r.spot else "on-demand", q.equals("spot", bool(r.spot)))
    if r.cpu_arch:
        add("cpu_arch", f"cpu arch {r.cpu_arch.lower()}", q.names_in("cpu_arch", (r.cpu_arch,)))
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
            q.names_in("gpu_vendor", (r.gpu_vendor,)),
            gpu_block=True,
        )
    if r.min_gpu_count is not None or r.max_gpu_count is not None:
        add(
            "gpu_count",
            _bounds_text("gpu count", r.min_gpu_count, r.max_gpu_count),
            q.bounds("gpu_count", r.min_gpu_count, r.max_gpu_count),
            gpu_block=True,
        )
    if r.gpu_names is not None:
        add(
            "gpu_names",
            f"gpu name in {_listed(r.gpu_names)}",
            q.names_in("gpu_name", r.gpu_names),
            gpu_block=True,
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
            q.compute_capability(),
            gpu_block=True,
        )
    if r.min_gpu_memory_gb is not None or r.max_gpu_memory_gb is not None:
        add(
            "gpu_memory",
            _bounds_text("gpu memory", r.min_gpu_memory_gb, r.max_gpu_memory_gb, unit="GB"),
            q.gpu_memory_bounds(
                view.values("gpu_memory_gb"), r.min_gpu_memory_gb, r.max_gpu_memory_gb
            ),
            gpu_block=True,
        )
    if r.min_total_gpu_memory_gb is not None or r.max_total_gpu_memory_gb is not None:
        add(
            "total_gpu_memory",
            _bounds_text(
                "total gpu memory", r.min_total_gpu_memory_gb, r.max_total_gpu_memory_gb, unit="GB"
            ),
            q.total_gpu_memory_bounds(r.min_total_gpu_memory_gb, r.max_total_gpu_memory_gb),
            gpu_block=True,
        )
    if r.min_disk_gb is not None or r.max_disk_gb is not None:
        add(
            "disk",
            _bounds_text("disk", r.min_disk_gb, r.max_disk_gb, unit="GB") + " (when stated)",
            q.disk_bounds(r.min_disk_gb, r.max_disk_gb),
        )
    if r.allowed_flags is not None:
        add("flags", f"flags within {_listed(r.allowed_flags)}", q.flags_allowed(r.allowed_flags))
    if r.regions is not None:
        add("regions", f"region in {_listed(r.regions)}", q.names_in("region", r.regions))
    if r.instance_types is not None:
        add(
            "instance_types",
            f"instance type in {_listed(r.instance_types)}",
            q.names_in("instance_type", r.instance_types),
        )
    return result


# Roughly the bytes per row a clause reads. The fast path runs narrow clauses first and skips the
# rest of a block once no row in it survives, so wide float columns are often never touched.
_ROW_BYTES: Final[Mapping[str, int]] = MappingProxyType(
    {
        "spot": 1,
        "cpu_arch": 1,
        "gpu_vendor": 1,
        "gpu_names": 1,
        "flags": 1,
        "providers": 1,
        "backends": 1,
        "reservation": 1,
        "privileged": 1,
        "instance_volumes": 1,
        "regions": 1,
        "compute_capability": 2,
        "instance_types": 2,
        "cpu": 4,
        "gpu_count": 4,
        "price": 8,
        "memory": 8,
        "disk": 8,
        "gpu_memory": 12,
        "total_gpu_memory": 12,
    }
)


def _narrow_first(clauses: list[Clause]) -> list[Clause]:
    return sorted(clauses, key=lambda clause: _ROW_BYTES.get(clause.name, 8))


def _skips_cpu_only_rows(requirements: Requirements) -> bool:
    # gpuhunt compares with Python equality: 0, 0.0 and False all skip the GPU block.
    return requirements.min_gpu_count == 0


def combined_mask(requirements: Requirements, view: CatalogView) -> np.ndarray:
    """Rows that pass every requirement: the fast path, every clause ANDed in place.

    The GPU clauses are ANDed into their own buffer, which CPU-only rows then pass as a whole
    when the GPU block is skipped for them.
    """
    all_clauses = clauses(requirements, view)
    plain = _narrow_first([clause for clause in all_clauses if not clause.gpu_block])
    gpu = _narrow_first([clause for clause in all_clauses if clause.gpu_block])
    skip = _skips_cpu_only_rows(requirements)
    gpu_counts = view.values("gpu_count")
    mask = np.ones(view.rows, dtype=bool)
    block = max(1, min(BLOCK_ROWS, view.rows))
    scratch, scratch2, gpu_passed = (np.empty(block, dtype=bool) for _ in range(3))
    for start in range(0, view.rows, block):
        rows = slice(start, min(start + block, view.rows))
        size = rows.stop - rows.start
        target = mask[rows]
        work, work2 = scratch[:size], scratch2[:size]
        if gpu and skip:
            # CPU-only rows pass the GPU block as a whole: evaluate it apart, then merge.
            gpu_target = gpu_passed[:size]
            gpu_target[:] = True
            for clause in gpu:
                clause.apply(gpu_target, work, work2, rows)
            np.equal(gpu_counts[rows], 0, out=work)
            gpu_target |= work
            target &= gpu_target
            remaining = plain
        else:
            remaining = _narrow_first(plain + gpu)
        for clause in remaining:
            if not target.any():
                break  # nothing left in this block: skip the wider columns
            clause.apply(target, work, work2, rows)
    return mask


def requirement_masks(requirements: Requirements, view: CatalogView) -> dict[str, np.ndarray]:
    """Each set requirement's own verdict per row (why-not reports and tests)."""
    skip = _skips_cpu_only_rows(requirements)
    cpu_only = np.equal(view.values("gpu_count"), 0) if skip else None
    block = max(1, min(BLOCK_ROWS, view.rows))
    scratch, scratch2 = np.empty(block, dtype=bool), np.empty(block, dtype=bool)
    masks: dict[str, np.ndarray] = {}
    for clause in clauses(requirements, view):
        passed = np.ones(view.rows, dtype=bool)
        for start in range(0, view.rows, block):
            rows = slice(start, min(start + block, view.rows))
            size = rows.stop - rows.start
            clause.apply(passed[rows], scratch[:size], scratch2[:size], rows)
        if clause.gpu_block and cpu_only is not None:
            passed |= cpu_only
        masks[clause.name] = passed
    return masks


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
    if unit == "$" and isinstance(value, int | float):
        return "$" + f"{float(value):f}".rstrip("0").rstrip(".")  # not 1.23457e+06
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text}{unit}"


def _bounds_text(label: str, low: object, high: object, unit: str = "") -> str:
    if low is not None and high is not None:
        return f"{_number(low, unit)} ≤ {label} ≤ {_number(high, unit)}"
    if low is not None:
        return f"{label} ≥ {_number(low, unit)}"
    return f"{label} ≤ {_number(high, unit)}"
