"""Catalog rows → dstack-level offers, vectorized, in the order dstack 0.22.5 applies its rules.

Per configured backend (docs/dstack-offers.md has the rules and their sources):

1. the provider's rows whose flags dstack understands (its gpuhunt query);
2. the backend's regions (configured, or the built-in defaults), compared exactly; for gcp the
   zone's region (``location[:-2]``), then TPU opt-in, the family allowlist, and the merge of a
   region's zone rows into one offer per (instance, spot, GPU name, region) whose
   ``availability_zones`` are every zone seen for that key;
3. the conversion to an offer: memory and GPU memory rounded to MiB, a disk chosen;
4. the backend's own filters (families, RunPod community regions, Vultr spot, Hot Aisle MI300X);
5. Nebius's spot price rounding; RunPod's multi-pod offers dropped (a service is not multinode).

What depends on the requirements (the requirement filter, disk fitting, the reservation and DWS
post-filters) is applied per query in ``offers.py``. The table depends only on the catalog and the
server settings, so it is built once per catalog and settings and memoized on the catalog.

Every predicate runs once per category (instance type, location, flags, provider data); rows are
selected by their codes. The only loops over values are over the zone lists of GCP's merged
offers (one per offer) and over the distinct Nebius spot prices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Final

import numpy as np
import pyarrow as pa

from planner.catalog import Catalog
from planner.catalog.gpus import GpuTable
from planner.config.dstack_settings import BackendSettings, DstackServerSettings
from planner.match.dstack.backends import (
    BACKEND_RULES,
    BackendRules,
    default_backends,
    gcp_supported,
)
from planner.match.dstack.table import DstackTable
from planner.match.view import CatalogView
from planner.requirements import DSTACK_ALLOWED_FLAGS

# Why a row is kept out although it is in the table (``hidden`` column).
SHOWN: Final = 0
HIDDEN_GPU_COUNT_MERGE: Final = 1  # gcp: another GPU count of the same type won the zone merge
HIDDEN_DWS_TWIN: Final = 2  # gcp: the DWS calendar-mode row won the merge, then is filtered out

DEFAULT_DISK_GB: Final = 100.0  # dstack's DEFAULT_DISK (100GB..)
_MIB: Final = 1024.0


def dstack_table(
    catalog: Catalog,
    settings: DstackServerSettings | None = None,
    requested: tuple[str, ...] | None = None,
) -> DstackTable:
    """The dstack-level offers of ``catalog`` under ``settings`` (None: every backend, defaults,
    with the backend types the service's ``backends`` (``requested``) names).

    Memoized on the catalog per settings: a 1M-row catalog pays for the transform once.
    """
    backends = (
        settings.backends
        if settings is not None
        else default_backends(catalog.providers, requested)
    )
    return catalog.derived(
        f"planner.match.dstack:table:{backends!r}", lambda: _build(catalog, backends)
    )


@dataclass(frozen=True)
class _Piece:
    """One backend's offers (parallel arrays, catalog order)."""

    rows: np.ndarray  # catalog row positions
    region: np.ndarray  # object: dstack region
    zones: np.ndarray  # object: space-separated zones or None
    price: np.ndarray
    memory_gb: np.ndarray
    gpu_memory_gb: np.ndarray
    disk_gb: np.ndarray  # fixed disk, NaN: configurable
    disk_min_gb: np.ndarray
    disk_max_gb: np.ndarray
    hidden: np.ndarray  # int8


def _build(catalog: Catalog, backends: tuple[BackendSettings, ...]) -> DstackTable:
    view = CatalogView(catalog)
    flags_ok = _lookup(
        view.accepted_categories(
            "flags", lambda flags: all(flag in DSTACK_ALLOWED_FLAGS for flag in flags.split())
        ),
        view.codes("flags"),
        missing=True,
    )
    provider_codes = view.codes("provider")
    providers = view.categories("provider")
    pieces: list[tuple[int, str, _Piece]] = []
    for rank, settings in enumerate(backends):
        rules = BACKEND_RULES.get(settings.type)
        if rules is None:
            continue  # kubernetes, slurm, ...: no catalog offers
        accepted = np.array([name.lower() == rules.provider for name in providers], dtype=bool)
        rows = np.flatnonzero(_lookup(accepted, provider_codes, missing=False) & flags_ok)
        pieces.append((rank, settings.type, _backend_piece(view, rows, rules, settings)))
    return _assemble(catalog, pieces)


def _lookup(per_category: np.ndarray, codes: np.ndarray, *, missing: bool) -> np.ndarray:
    """``per_category[code]`` per row; ``missing`` for code -1."""
    return np.append(np.asarray(per_category, dtype=bool), missing)[codes]


def _strings(view: CatalogView, column: str, rows: np.ndarray) -> np.ndarray:
    return np.asarray(view.strings(column, rows), dtype=object)


def _backend_piece(
    view: CatalogView, rows: np.ndarray, rules: BackendRules, settings: BackendSettings
) -> _Piece:
    locations = view.category_array("region")
    location_codes = view.codes("region")
    instance_codes = view.codes("instance_type")
    instances = view.categories("instance_type")
    gpu_counts = view.values("gpu_count")
    spot = view.values("spot")
    keep = np.ones(len(rows), dtype=bool)

    regions = rules.regions(settings)
    if rules.zone_locations:
        region_of = np.array([str(location)[:-2] for location in locations], dtype=object)
    else:
        region_of = locations
    if regions is not None:
        wanted = set(regions)
        keep &= _lookup(
            np.array([region in wanted for region in region_of], dtype=bool),
            location_codes[rows],
            missing=False,
        )
    if rules.tpu_opt_in and not settings.tpu:
        google = np.array([v.lower() == "google" for v in view.categories("gpu_vendor")])
        keep &= ~_lookup(google, view.codes("gpu_vendor")[rows], missing=False)
    if rules.zone_locations:
        keep &= _gcp_supported(view, rows)
    if rules.instance_filter is not None:
        accepted = np.array([rules.instance_filter(name, settings) for name in instances])
        keep &= _lookup(accepted, instance_codes[rows], missing=False)
    if rules.community_regions_opt_in and not settings.community_cloud:
        secure = np.array(["-" in str(location) for location in locations], dtype=bool)
        keep &= _lookup(secure, location_codes[rows], missing=False)
    if rules.drop_spot:
        keep &= ~spot[rows]
    if rules.mi300x_only:
        mi300x = np.array([name == "MI300X" for name in view.categories("gpu_name")])
        keep &= (gpu_counts[rows] > 0) & _lookup(
            mi300x, view.codes("gpu_name")[rows], missing=False
        )
        if not settings.bare_metal:
            bare = view.accepted_categories("flags", lambda flags: "hotaisle-bm" in flags.split())
            keep &= ~_lookup(bare, view.codes("flags")[rows], missing=False)
    if rules.drop_cluster_rows:
        cluster = view.accepted_categories("provider_data", _is_cluster_offer)
        keep &= ~_lookup(cluster, view.codes("provider_data")[rows], missing=False)
    rows = rows[keep]

    hidden = np.zeros(len(rows), dtype=np.int8)
    zones = np.full(len(rows), None, dtype=object)
    region = region_of[location_codes[rows]] if len(rows) else np.empty(0, dtype=object)
    if rules.zone_locations and len(rows):
        rows, region, zones, hidden = _merge_zones(view, rows, region)

    price = view.values("price")[rows].astype(np.float64)
    if rules.spot_price_rounding:
        price = _nebius_prices(view, rows, price)

    memory = view.values("memory_gb")[rows]
    gpu_memory = view.values("gpu_memory_gb")[rows]
    catalog_disk = view.values("disk_gb")[rows]
    if not rules.filtered_per_request:
        memory = np.round(memory * _MIB) / _MIB
        gpu_memory = np.round(gpu_memory * _MIB) / _MIB
        # A row without a disk gets dstack's default 100 GB (the requirements are not known yet).
        stated = ~np.isnan(catalog_disk) & (catalog_disk != 0)
        catalog_disk = np.round(np.where(stated, catalog_disk, DEFAULT_DISK_GB) * _MIB) / _MIB
    disk = catalog_disk.astype(np.float64)
    disk_min = np.full(len(rows), np.nan)
    disk_max = np.full(len(rows), np.nan)
    if rules.disk_range is not None:
        configurable = np.ones(len(rows), dtype=bool)
        if rules.type == "crusoe":  # an ephemeral NVMe disk is fixed
            configurable = np.isnan(view.values("disk_gb")[rows])
        low, high = rules.disk_range
        disk_min[configurable] = low
        disk_max[configurable] = np.nan if high is None else high
        if rules.cpu_disk_up_to_catalog:
            cpu = configurable & (gpu_counts[rows] == 0)
            disk_max[cpu] = disk[cpu]
        disk[configurable] = np.nan
    return _Piece(
        rows=rows,
        region=np.asarray(region, dtype=object),
        zones=zones,
        price=price,
        memory_gb=memory.astype(np.float64),
        gpu_memory_gb=gpu_memory.astype(np.float64),
        disk_gb=disk,
        disk_min_gb=disk_min,
        disk_max_gb=disk_max,
        hidden=hidden,
    )


def _gcp_supported(view: CatalogView, rows: np.ndarray) -> np.ndarray:
    """dstack's GCP instance allowlist, per (instance type, GPU name) pair present."""
    table = GpuTable.load()
    tpu_versions = frozenset(entry.name for entry in table.entries if entry.vendor == "google")
    instances = view.categories("instance_type")
    gpu_names = view.categories("gpu_name")
    pairs = np.stack([view.codes("instance_type")[rows], view.codes("gpu_name")[rows]], axis=1)
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    distinct, inverse = np.unique(pairs.astype(np.int64), axis=0, return_inverse=True)
    verdicts = np.array(
        [
            gcp_supported(instances[instance], gpu_names[gpu] if gpu >= 0 else None, tpu_versions)
            for instance, gpu in distinct
        ],
        dtype=bool,
    )
    return verdicts[inverse.reshape(-1)]


def _merge_zones(
    view: CatalogView, rows: np.ndarray, region: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GCP: one offer per (instance, spot, GPU name, region), the first row in catalog order.

    Its zones: every zone of the key's rows, in catalog order, repeats kept (dstack's list).
    Rows dropped by the merge although they differ from the survivor in GPU count or DWS mode
    stay in the table with a ``hidden`` reason, one per (key, GPU count, DWS mode).
    """
    region_codes = np.unique(region.astype(str), return_inverse=True)[1].reshape(-1)
    gpu_counts = view.values("gpu_count")[rows].astype(np.int64)
    dws = _lookup(
        view.accepted_categories("provider_data", is_dws),
        view.codes("provider_data")[rows],
        missing=False,
    )
    keys = np.stack(
        [
            view.codes("instance_type")[rows].astype(np.int64),
            view.values("spot")[rows].astype(np.int64),
            view.codes("gpu_name")[rows].astype(np.int64),
            region_codes.astype(np.int64),
        ],
        axis=1,
    )
    _, first, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    group = group.reshape(-1)
    survivor = first[group]  # position (in rows) of each row's surviving row
    is_first = np.zeros(len(rows), dtype=bool)
    is_first[first] = True
    # Zone lists: the rows of each group in catalog order.
    order = np.argsort(group, kind="stable")
    locations = _strings(view, "region", rows)[order]
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    zone_text = np.empty(len(first), dtype=object)
    # group ids are 0..len(first)-1, all present: the chunks come in group order.
    for index, chunk in enumerate(np.split(locations, bounds)):  # one per offer
        zone_text[index] = " ".join(chunk)
    differs = (gpu_counts != gpu_counts[survivor]) | (dws != dws[survivor])
    candidates = ~is_first & differs
    hidden = np.zeros(len(rows), dtype=np.int8)
    if candidates.any():
        variant = np.stack([group, gpu_counts, dws.astype(np.int64)], axis=1)[candidates]
        positions = np.flatnonzero(candidates)
        _, first_variant = np.unique(variant, axis=0, return_index=True)
        chosen = positions[first_variant]
        hidden[chosen] = np.where(
            dws[survivor[chosen]] & ~dws[chosen], HIDDEN_DWS_TWIN, HIDDEN_GPU_COUNT_MERGE
        )
    kept = is_first | (hidden != SHOWN)
    return rows[kept], region[kept], zone_text[group][kept], hidden[kept]


def is_dws(provider_data: str) -> bool:
    """A GCP row for DWS calendar mode (reserved capacity only), as its provider data says."""
    data = _json(provider_data)
    return bool(data.get("is_dws_calendar_mode")) if isinstance(data, dict) else False


def _is_cluster_offer(provider_data: str) -> bool:
    data = _json(provider_data)
    counts = data.get("pod_counts") if isinstance(data, dict) else None
    return isinstance(counts, list) and any(count != 1 for count in counts)


def _is_flat_rate(provider_data: str) -> bool:
    data = _json(provider_data)
    return bool(data.get("is_preemptible_flat_rate")) if isinstance(data, dict) else False


def _json(text: str) -> object:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _nebius_prices(view: CatalogView, rows: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Spot prices (not flat-rate) rounded up to $0.001 per GPU, as Nebius pricing policies."""
    flat = _lookup(
        view.accepted_categories("provider_data", _is_flat_rate),
        view.codes("provider_data")[rows],
        missing=False,
    )
    adjusted = view.values("spot")[rows].astype(bool) & ~flat
    if not adjusted.any():
        return price
    units = np.maximum(view.values("gpu_count")[rows], 1).astype(np.int64)
    pairs = np.stack([price[adjusted], units[adjusted].astype(np.float64)], axis=1)
    distinct, inverse = np.unique(pairs, axis=0, return_inverse=True)
    rounded = np.array([_rounded_up(value, int(count)) for value, count in distinct])
    result = price.copy()
    result[adjusted] = rounded[inverse.reshape(-1)]
    return result


def _rounded_up(price: float, units: int) -> float:
    per_unit = (Decimal(str(price)) / units).quantize(Decimal("0.001"), rounding=ROUND_CEILING)
    return float(per_unit * units)


def _assemble(catalog: Catalog, pieces: list[tuple[int, str, _Piece]]) -> DstackTable:
    """One Arrow table of every backend's offers, in dstack's merge order.

    The Arrow arrays are built from numpy buffers directly: ``pa.array`` on numpy data would
    import pandas (~0.3 s), which ``planner offers`` on the bundled snapshot never needs.
    """

    def joined(name: str, dtype: type | str) -> np.ndarray:
        arrays = [getattr(piece, name) for _, _, piece in pieces]
        return np.concatenate(arrays).astype(dtype) if arrays else np.empty(0, dtype=dtype)

    source_rows = joined("rows", np.int64)
    ranks = np.concatenate(
        [np.full(len(piece.rows), rank, dtype=np.int32) for rank, _, piece in pieces]
        or [np.empty(0, dtype=np.int32)]
    )
    backend_names = np.concatenate(
        [np.full(len(piece.rows), name, dtype=object) for _, name, piece in pieces]
        or [np.empty(0, dtype=object)]
    )
    price = joined("price", np.float64)
    order = np.lexsort((source_rows, ranks, price))
    source_rows = source_rows[order]
    view = CatalogView(catalog)
    dws = _lookup(
        view.accepted_categories("provider_data", is_dws),
        view.codes("provider_data")[source_rows],
        missing=False,
    )
    replaced = {
        "region": _dictionary(joined("region", object)[order]),
        "price": _numbers(price[order], pa.float64()),
        "memory_gb": _numbers(joined("memory_gb", np.float64)[order], pa.float64()),
        "gpu_memory_gb": _numbers(joined("gpu_memory_gb", np.float64)[order], pa.float64()),
        "disk_gb": _numbers(joined("disk_gb", np.float64)[order], pa.float64()),
        "row_id": _numbers(np.arange(len(order), dtype=np.int64), pa.int64()),
    }
    names = catalog.arrow.column_names
    columns = [
        replaced[name] if name in replaced else _gathered(catalog, name, source_rows)
        for name in names
    ]
    extra = {
        "backend": _dictionary(backend_names[order]),
        "availability_zones": _dictionary(joined("zones", object)[order]),
        "disk_min_gb": _numbers(joined("disk_min_gb", np.float64)[order], pa.float64()),
        "disk_max_gb": _numbers(joined("disk_max_gb", np.float64)[order], pa.float64()),
        "hidden": _numbers(joined("hidden", np.int8)[order], pa.int8()),
        "dws": _booleans(dws),
        "source_row": _numbers(source_rows, pa.int64()),
        "backend_rank": _numbers(ranks[order], pa.int32()),
    }
    arrow = pa.Table.from_arrays([*columns, *extra.values()], names=[*names, *extra])
    return DstackTable(arrow, catalog.sources, catalog.issues, catalog.warnings)


def _gathered(catalog: Catalog, name: str, rows: np.ndarray) -> pa.Array:
    """A catalog column at ``rows`` (category codes keep their dictionary); no pyarrow.compute."""
    chunk = catalog.arrow.column(name).chunk(0)
    values = catalog.array(name)[rows]
    if pa.types.is_dictionary(chunk.type):
        return _coded(values, chunk.dictionary)
    if pa.types.is_boolean(chunk.type):
        return _booleans(values)
    return _numbers(values, chunk.type)


def _coded(codes: np.ndarray, dictionary: pa.Array) -> pa.DictionaryArray:
    """Category codes (-1: null) over ``dictionary``."""
    codes = np.ascontiguousarray(codes)
    arrow_type = pa.from_numpy_dtype(codes.dtype)
    missing = codes < 0
    if missing.any():
        indices = pa.Array.from_buffers(
            arrow_type,
            len(codes),
            [_bitmap(~missing), pa.py_buffer(np.where(missing, 0, codes).astype(codes.dtype))],
            int(missing.sum()),
        )
    else:
        indices = pa.Array.from_buffers(arrow_type, len(codes), [None, pa.py_buffer(codes)])
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def _bitmap(bits: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(bits.astype(bool), bitorder="little"))


def _numbers(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """A numeric Arrow array of ``values`` (floats: NaN becomes null, as the catalog stores it)."""
    values = np.ascontiguousarray(values)
    nulls = np.isnan(values) if values.dtype.kind == "f" else None
    if nulls is None or not nulls.any():
        return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])
    return pa.Array.from_buffers(
        arrow_type, len(values), [_bitmap(~nulls), pa.py_buffer(values)], int(nulls.sum())
    )


def _booleans(values: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, _bitmap(values)])


def _string_array(items: list[str]) -> pa.Array:
    data = [item.encode("utf-8") for item in items]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(item) for item in data])
    return pa.Array.from_buffers(
        pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    )


def _dictionary(values: np.ndarray) -> pa.DictionaryArray:
    """Strings (None: null) as a dictionary array with pandas' code width."""
    missing = np.array([value is None for value in values], dtype=bool)
    categories, codes = np.unique(values[~missing].astype(str), return_inverse=True)
    size = len(categories)
    code_type = np.int8 if size < 127 else np.int16 if size < 32767 else np.int32
    indices = np.full(len(values), -1, dtype=code_type)
    indices[~missing] = codes.reshape(-1)
    return _coded(indices, _string_array([str(category) for category in categories]))
