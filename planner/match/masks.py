"""Requirements x Catalog -> boolean row masks, one per requirement, with gpuhunt 0.1.34's semantics.

Each requirement (a "clause") ANDs its verdict for a block of catalog rows into a caller's buffer, so
the fast path can combine them in place and the why-not report can keep them apart. The semantics are
gpuhunt's ``constraints.matches`` (docs/catalog-format.md §3), in particular:

- bounds are inclusive, ``None`` skips a bound, ``min > max`` simply matches nothing;
- the GPU clauses are skipped for a CPU-only row when ``min_gpu_count == 0``; with the count
  unset, a CPU-only row is a GPU row with 0 GPUs and 0 GB (it fails names, vendor, compute
  capability and positive memory minimums, and passes every maximum);
- a GPU row with unknown ``gpu_memory`` counts as 0 GB; an unknown ``disk_gb`` passes disk bounds;
- names, regions and instance types compare case-insensitively; ``()`` excludes, ``None`` = any;
- compute capability is looked up in the GPU knowledge table per GPU-name category: only NVIDIA
  rows with a known name can satisfy a bound.

Then dstack's own filters on the offers: backends (through their gpuhunt providers), regions,
availability zones (only rows whose location is a zone), instance types and the reservation (only
backends that support one).

``CLAUSE_RULES`` is the table of requirements: each row holds a clause's name, when it is set, its
condition text (what why-not reports) and how it marks rows, so nothing about a clause is keyed by
its name anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

from planner.catalog.gpus import GpuTable
from planner.catalog.locations import zone_of_location
from planner.errors import excerpt
from planner.match.view import CatalogView, CodeSelector
from planner.requirements import (
    ALL_PROVIDERS,
    INSTANCE_VOLUME_PROVIDERS,
    PRIVILEGED_PROVIDERS,
    RESERVATION_BACKENDS,
    Requirements,
    check_requirements,
    compute_capability_bound,
    providers_of_backends,
)

# A clause ANDs its verdict for the catalog rows ``rows`` (a slice) into ``target`` (one bool per
# row of the slice); the two scratch buffers (same length) are its to overwrite.
Apply = Callable[[np.ndarray, np.ndarray, np.ndarray, slice], None]

# Rows per block: the matcher works through the catalog in blocks so that its buffers stay small
# (in cache, reused by the allocator). Fresh full-length temporaries would cost more in page
# faults than the comparisons that fill them.
BLOCK_ROWS = 1 << 16
# A condition's list of the user's values (GPU names, regions) is quoted up to this many characters.
_LIST_EXCERPT_CHARS = 300


@dataclass(frozen=True)
class Clause:
    """One set requirement over one catalog: its name, its condition text and how it marks rows."""

    name: str
    condition: str
    apply: Apply
    gpu_block: bool = False  # part of gpuhunt's GPU block (skippable for CPU-only rows)
    row_bytes: int = 8  # roughly the bytes per row ``apply`` reads: narrow clauses run first


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

    def zones_in(self, wanted: tuple[str, ...]) -> Apply:
        """Rows whose location is a zone (``zone_of_location``) named in ``wanted``, any case.

        The verdict depends on the (provider, location) pair: it is worked out once per distinct
        pair among the locations named in ``wanted``, then read per row through the codes.
        """
        if "availability_zones" in self.view.catalog.arrow.column_names:
            # dstack-level offers (planner.match.dstack): the offer's zone list must name one.
            wanted_lower = {zone.lower() for zone in wanted}
            listed = self.view.accepted_categories(
                "availability_zones",
                lambda zones: any(zone.lower() in wanted_lower for zone in zones.split()),
            )
            return self.categories_accepted("availability_zones", listed, missing=False)
        providers = self.view.categories("provider")
        locations = self.view.categories("region")
        # One extra row and column, all False, for a missing value (code -1).
        table = np.zeros((len(providers) + 1, len(locations) + 1), dtype=bool)
        for location in np.flatnonzero(self.view.accepted_lower_names("region", wanted)):
            for provider, name in enumerate(providers):
                table[provider, location] = zone_of_location(name, locations[location]) is not None
        provider_codes, location_codes = self.view.codes("provider"), self.view.codes("region")

        def apply(target: np.ndarray, scratch: np.ndarray, _: np.ndarray, rows: slice) -> None:
            target &= table[provider_codes[rows], location_codes[rows]]

        return apply

    def compute_capability(self) -> Apply:
        low, high = _capability_bounds(self.requirements)
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


# --------------------------------------------------------------------------------------------
# The clause table


@dataclass(frozen=True)
class ClauseRule:
    """One row of the clause table: everything about one requirement, in one place."""

    name: str
    row_bytes: int  # roughly the bytes per row the mask reads (see ``Clause.row_bytes``)
    applies: Callable[[Requirements, CatalogView], bool]  # is the requirement set?
    condition: Callable[[Requirements, CatalogView], str]  # why-not's text, e.g. "price ≤ $2"
    mask: Callable[[_Query, Requirements], Apply]
    gpu_block: bool = False

    def clause(self, query: _Query) -> Clause:
        requirements, view = query.requirements, query.view
        return Clause(
            self.name,
            self.condition(requirements, view),
            self.mask(query, requirements),
            self.gpu_block,
            self.row_bytes,
        )


# A requirement's (low, high) pair; either end None when unset.
Bounds = Callable[[Requirements], tuple[float | None, float | None]]


def _bounds_rule(
    name: str,
    label: str,
    bounds: Bounds,
    mask: Callable[[_Query, float | None, float | None], Apply],
    *,
    row_bytes: int,
    unit: str = "",
    gpu_block: bool = False,
) -> ClauseRule:
    """A requirement that is a pair of inclusive bounds (either may be unset)."""
    return ClauseRule(
        name,
        row_bytes,
        applies=lambda r, _: bounds(r) != (None, None),
        condition=lambda r, _: _bounds_text(label, *bounds(r), unit=unit),
        mask=lambda q, r: mask(q, *bounds(r)),
        gpu_block=gpu_block,
    )


def _explicit_providers(r: Requirements) -> bool:
    """``providers`` is set and is not just the providers of ``backends``.

    ``requirements_from_config`` sets both to the same providers: that is reported once, as the
    backends the user wrote.
    """
    if r.providers is None:
        return False
    if r.backends is None:
        return True
    wanted = {provider.lower() for provider in r.providers}
    return set(providers_of_backends(r.backends)) != wanted


def _providers_unknown_to_gpuhunt(r: Requirements, view: CatalogView) -> list[str]:
    """gpuhunt's ``provider=None`` is every provider it knows; a catalog file of any other name
    (cudo.csv, a SkyPilot vms.csv in a directory not named after its cloud) is never queried."""
    if r.providers is not None or r.backends is not None:
        return []
    return [name for name in view.categories("provider") if name.lower() not in ALL_PROVIDERS]


def _providers_condition(r: Requirements, view: CatalogView) -> str:
    if _explicit_providers(r):
        return f"provider in {_listed(r.providers or ())}"
    return f"provider known to gpuhunt (not {', '.join(_providers_unknown_to_gpuhunt(r, view))})"


def _capability_bounds(r: Requirements) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    return (
        compute_capability_bound(r.min_compute_capability),
        compute_capability_bound(r.max_compute_capability),
    )


def _capability_condition(r: Requirements, _: CatalogView) -> str:
    low, high = _capability_bounds(r)
    return _bounds_text(
        "compute capability",
        None if low is None else f"{low[0]}.{low[1]}",
        None if high is None else f"{high[0]}.{high[1]}",
    )


# Every requirement, in gpuhunt's evaluation order, then dstack's filters on the offers.
CLAUSE_RULES: Final[tuple[ClauseRule, ...]] = (
    ClauseRule(
        "providers",
        row_bytes=1,
        applies=lambda r, view: (
            _explicit_providers(r) or bool(_providers_unknown_to_gpuhunt(r, view))
        ),
        condition=_providers_condition,
        mask=lambda q, r: q.names_in(
            "provider", (r.providers or ()) if _explicit_providers(r) else ALL_PROVIDERS
        ),
    ),
    ClauseRule(
        "backends",
        row_bytes=1,
        applies=lambda r, _: r.backends is not None,
        condition=lambda r, _: f"backend in {_listed(r.backends or ())}",
        mask=lambda q, r: q.names_in("provider", providers_of_backends(r.backends or ())),
    ),
    ClauseRule(
        "reservation",
        row_bytes=1,
        applies=lambda r, _: r.reservation is not None,
        condition=lambda r, _: (
            f"reservation {r.reservation!r} (backends {_listed(RESERVATION_BACKENDS)} only)"
        ),
        mask=lambda q, _: q.names_in("provider", RESERVATION_BACKENDS),
    ),
    ClauseRule(
        "privileged",
        row_bytes=1,
        applies=lambda r, _: r.privileged,
        condition=lambda r, _: f"privileged (backends {_listed(PRIVILEGED_PROVIDERS)} only)",
        mask=lambda q, _: q.names_in("provider", PRIVILEGED_PROVIDERS),
    ),
    ClauseRule(
        "instance_volumes",
        row_bytes=1,
        applies=lambda r, _: r.instance_volumes,
        condition=lambda r, _: (
            f"instance volumes (backends {_listed(INSTANCE_VOLUME_PROVIDERS)} only)"
        ),
        mask=lambda q, _: q.names_in("provider", INSTANCE_VOLUME_PROVIDERS),
    ),
    _bounds_rule(
        "price",
        "price",
        lambda r: (r.min_price, r.max_price),
        lambda q, low, high: q.bounds("price", low, high),
        row_bytes=8,
        unit="$",
    ),
    ClauseRule(
        "spot",
        row_bytes=1,
        applies=lambda r, _: r.spot is not None,
        condition=lambda r, _: "spot" if r.spot else "on-demand",
        mask=lambda q, r: q.equals("spot", bool(r.spot)),
    ),
    ClauseRule(
        "cpu_arch",
        row_bytes=1,
        applies=lambda r, _: bool(r.cpu_arch),
        condition=lambda r, _: f"cpu arch {(r.cpu_arch or '').lower()}",
        mask=lambda q, r: q.names_in("cpu_arch", (r.cpu_arch or "",)),
    ),
    _bounds_rule(
        "cpu",
        "cpus",
        lambda r: (r.min_cpu, r.max_cpu),
        lambda q, low, high: q.bounds("cpu", low, high),
        row_bytes=4,
    ),
    _bounds_rule(
        "memory",
        "memory",
        lambda r: (r.min_memory_gb, r.max_memory_gb),
        lambda q, low, high: q.bounds("memory_gb", low, high),
        row_bytes=8,
        unit="GB",
    ),
    ClauseRule(
        "gpu_vendor",
        row_bytes=1,
        applies=lambda r, _: bool(r.gpu_vendor),
        condition=lambda r, _: f"gpu vendor {(r.gpu_vendor or '').lower()}",
        mask=lambda q, r: q.names_in("gpu_vendor", (r.gpu_vendor or "",)),
        gpu_block=True,
    ),
    _bounds_rule(
        "gpu_count",
        "gpu count",
        lambda r: (r.min_gpu_count, r.max_gpu_count),
        lambda q, low, high: q.bounds("gpu_count", low, high),
        row_bytes=4,
        gpu_block=True,
    ),
    ClauseRule(
        "gpu_names",
        row_bytes=1,
        applies=lambda r, _: r.gpu_names is not None,
        condition=lambda r, _: f"gpu name in {_listed(r.gpu_names or ())}",
        mask=lambda q, r: q.names_in("gpu_name", r.gpu_names or ()),
        gpu_block=True,
    ),
    ClauseRule(
        "compute_capability",
        row_bytes=2,
        applies=lambda r, _: _capability_bounds(r) != (None, None),
        condition=_capability_condition,
        mask=lambda q, _: q.compute_capability(),
        gpu_block=True,
    ),
    _bounds_rule(
        "gpu_memory",
        "gpu memory",
        lambda r: (r.min_gpu_memory_gb, r.max_gpu_memory_gb),
        lambda q, low, high: q.gpu_memory_bounds(q.view.values("gpu_memory_gb"), low, high),
        row_bytes=12,
        unit="GB",
        gpu_block=True,
    ),
    _bounds_rule(
        "total_gpu_memory",
        "total gpu memory",
        lambda r: (r.min_total_gpu_memory_gb, r.max_total_gpu_memory_gb),
        lambda q, low, high: q.total_gpu_memory_bounds(low, high),
        row_bytes=12,
        unit="GB",
        gpu_block=True,
    ),
    ClauseRule(
        "disk",
        row_bytes=8,
        applies=lambda r, _: (r.min_disk_gb, r.max_disk_gb) != (None, None),
        condition=lambda r, _: (
            _bounds_text("disk", r.min_disk_gb, r.max_disk_gb, unit="GB") + " (when stated)"
        ),
        mask=lambda q, r: q.disk_bounds(r.min_disk_gb, r.max_disk_gb),
    ),
    ClauseRule(
        "flags",
        row_bytes=1,
        applies=lambda r, _: r.allowed_flags is not None,
        condition=lambda r, _: f"flags within {_listed(r.allowed_flags or ())}",
        mask=lambda q, r: q.flags_allowed(r.allowed_flags or ()),
    ),
    ClauseRule(
        "regions",
        row_bytes=1,
        applies=lambda r, _: r.regions is not None,
        condition=lambda r, _: f"region in {_listed(r.regions or ())}",
        mask=lambda q, r: q.names_in("region", r.regions or ()),
    ),
    ClauseRule(
        "availability_zones",
        row_bytes=2,
        applies=lambda r, _: r.availability_zones is not None,
        condition=lambda r, _: f"availability zone in {_listed(r.availability_zones or ())}",
        mask=lambda q, r: q.zones_in(r.availability_zones or ()),
    ),
    ClauseRule(
        "instance_types",
        row_bytes=2,
        applies=lambda r, _: r.instance_types is not None,
        condition=lambda r, _: f"instance type in {_listed(r.instance_types or ())}",
        mask=lambda q, r: q.names_in("instance_type", r.instance_types or ()),
    ),
)


def clauses(requirements: Requirements, view: CatalogView) -> list[Clause]:
    """The requirements that are set, in the table's order."""
    check_requirements(requirements)
    query = _Query(requirements, view)
    return [rule.clause(query) for rule in CLAUSE_RULES if rule.applies(requirements, view)]


# --------------------------------------------------------------------------------------------
# Evaluation


def _narrow_first(clauses: list[Clause]) -> list[Clause]:
    # The fast path runs narrow clauses first and skips the rest of a block once no row in it
    # survives, so wide float columns are often never touched.
    return sorted(clauses, key=lambda clause: clause.row_bytes)


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


def requirement_masks(
    requirements: Requirements, view: CatalogView
) -> list[tuple[Clause, np.ndarray]]:
    """Each set requirement with its own verdict per row (why-not reports and tests)."""
    skip = _skips_cpu_only_rows(requirements)
    cpu_only = np.equal(view.values("gpu_count"), 0) if skip else None
    block = max(1, min(BLOCK_ROWS, view.rows))
    scratch, scratch2 = np.empty(block, dtype=bool), np.empty(block, dtype=bool)
    masks: list[tuple[Clause, np.ndarray]] = []
    for clause in clauses(requirements, view):
        passed = np.ones(view.rows, dtype=bool)
        for start in range(0, view.rows, block):
            rows = slice(start, min(start + block, view.rows))
            size = rows.stop - rows.start
            clause.apply(passed[rows], scratch[:size], scratch2[:size], rows)
        if clause.gpu_block and cpu_only is not None:
            passed |= cpu_only
        masks.append((clause, passed))
    return masks


# --------------------------------------------------------------------------------------------
# Condition text


def _listed(values: tuple[str, ...]) -> str:
    # The values are the user's (GPU names, regions): quoted as a bounded excerpt.
    return "[" + excerpt(", ".join(values), limit=_LIST_EXCERPT_CHARS) + "]"


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
