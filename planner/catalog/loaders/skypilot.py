"""SkyPilot catalogs (``catalogs/v7/<cloud>/vms.csv``) as offer rows.

Each line becomes an on-demand row, plus a spot row when SpotPrice is a positive number (SkyPilot
writes empty or ``0.00`` when a cloud has no spot price). Accelerator names go through the GPU
table ("A100-80GB" → A100 with 80 GB, "RTXA6000" → A6000); vendor and per-GPU memory come from it.

GpuInfo's ``SizeInMiB`` means per-GPU memory in SkyPilot's AWS-derived files but the whole
instance's memory in some fetchers (vast). The meaning is decided once per file, from the rows
where only one reading matches a known size of that GPU, then each row's memory is snapped to
the table as gpuhunt's ``correct_gpu_memory_gib`` does (docs/catalog-format.md §6).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from planner.catalog.columns import GPU_VENDORS, OFFLINE_PROVIDERS, ONLINE_PROVIDERS
from planner.catalog.gpus import MEMORY_SNAP_TOLERANCE, SUPERCHIP_PATTERN, GpuTable
from planner.catalog.loaders.csvread import TextTable, read_text_table
from planner.catalog.loaders.fields import RowDefects, as_numpy_bool, is_empty, parse_float
from planner.catalog.loaders.part import Part, build_table, float_with_nulls, repeated
from planner.catalog.row_rules import (
    MAX_COUNT,
    MAX_GPU_MEMORY_GB,
    MAX_MEMORY_GB,
    MAX_PRICE_PER_HOUR,
    too_large,
)
from planner.errors import CatalogError

REQUIRED_COLUMNS = (
    "InstanceType",
    "AcceleratorName",
    "AcceleratorCount",
    "vCPUs",
    "MemoryGiB",
    "Price",
    "Region",
)
# Every column read (a repeated one of these in the header is an error).
READ_COLUMNS = (*REQUIRED_COLUMNS, "GpuInfo", "SpotPrice")
# SkyPilot directory names that differ from gpuhunt's provider names.
PROVIDER_OF_DIRECTORY = {"lambda": "lambdalabs", "vast": "vastai"}
# gpuhunt converts Lambda's GiB with this factor; the same instance gets the same memory here.
GIB_TO_GB = 1.074
# gpuhunt's flag for Lambda's Arm (GH200) offers, hidden unless asked for.
LAMBDA_ARM_FLAG = "lambda-arm"
_MANUFACTURER_VENDOR = {"nvidia": "nvidia", "amd": "amd", "intel": "intel", "habana": "intel"}


def provider_of(vms_csv: Path) -> str:
    """The provider named by the file's directory: as given, else after following symlinks.

    ``lambda/vms.csv`` may be a link into a store whose directory has another name, and a link
    named ``lambda`` may point at a directory of another name: the first known name wins.
    """
    directories = (vms_csv.absolute().parent, vms_csv.parent.resolve(), vms_csv.resolve().parent)
    names = [directory.name.lower() for directory in directories]
    providers = [PROVIDER_OF_DIRECTORY.get(name, name) for name in names]
    known = [name for name in providers if name in OFFLINE_PROVIDERS + ONLINE_PROVIDERS]
    return known[0] if known else providers[0]


def load_vms_csv(path: Path, gpus: GpuTable) -> Part:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CatalogError(f"{path}: cannot read: {error.strerror or error}") from error
    return load_vms_bytes(data, str(path), provider_of(path), gpus)


def load_vms_bytes(data: bytes, name: str, provider: str, gpus: GpuTable) -> Part:
    text = read_text_table(data, name, READ_COLUMNS)
    missing = [column for column in REQUIRED_COLUMNS if column not in text.header]
    if missing:
        raise CatalogError(f"{name}: not a SkyPilot vms.csv: the header lacks {', '.join(missing)}")
    return _rows_of(text, provider, gpus)


def _whole(
    values: np.ndarray, text: pa.ChunkedArray | pa.Array, column: str, defects: RowDefects
) -> np.ndarray:
    """SkyPilot writes counts as floats ("8.0"); a fraction cannot be a count."""
    finite = np.isfinite(values)
    defects.mark(
        column, f"{column} is not a whole number", finite & (values != np.floor(values)), text
    )
    return np.where(finite, values, 0).astype(np.int32)


def _rows_of(text: TextTable, provider: str, gpus: GpuTable) -> Part:
    rows = text.table.num_rows
    defects = RowDefects(text.name, rows)
    instance_type = text.column("InstanceType")
    region = text.column("Region")
    accelerator = pc.utf8_trim_whitespace(text.column("AcceleratorName"))
    has_gpu = ~is_empty(accelerator)

    defects.mark("InstanceType", "InstanceType is empty", is_empty(instance_type))
    defects.mark("Region", "Region is empty", is_empty(region))
    price = parse_float(text.column("Price"), "Price", defects, maximum=MAX_PRICE_PER_HOUR)
    cpu_text = text.column("vCPUs")
    cpu_values = parse_float(cpu_text, "vCPUs", defects, maximum=MAX_COUNT)
    cpu = _whole(cpu_values, cpu_text, "vCPUs", defects)
    memory_gib = parse_float(text.column("MemoryGiB"), "MemoryGiB", defects, maximum=MAX_MEMORY_GB)
    count_text = text.column("AcceleratorCount")
    count_values = parse_float(
        count_text, "AcceleratorCount", defects, maximum=MAX_COUNT, required=False
    )
    defects.mark(
        "AcceleratorCount", "AcceleratorCount is empty", has_gpu & ~np.isfinite(count_values)
    )
    gpu_count = np.where(has_gpu, _whole(count_values, count_text, "AcceleratorCount", defects), 0)
    defects.mark(
        "AcceleratorCount",
        "AcceleratorCount is 0 for a GPU row",
        has_gpu & (gpu_count == 0),
        count_text,
    )
    spot_price = parse_float(
        text.column("SpotPrice"), "SpotPrice", defects, maximum=MAX_PRICE_PER_HOUR, required=False
    )

    gpu_info = text.column("GpuInfo")
    reported_mib = _extract_number(gpu_info, r"['\"]SizeInMiB['\"]:\s*(?P<v>\d+(?:\.\d+)?)")
    manufacturer = pc.utf8_lower(
        pc.struct_field(
            pc.extract_regex(gpu_info, r"['\"]Manufacturer['\"]:\s*['\"](?P<v>[^'\"]*)['\"]"), [0]
        )
    )
    # A size no GPU set can have is not read at all (a 300-digit number is no reading).
    insane_mib = ~np.isnan(reported_mib) & ~(reported_mib <= MAX_GPU_MEMORY_GB * 1024 * MAX_COUNT)
    reported_mib = np.where(insane_mib, np.nan, reported_mib)
    names, vendors, memories = _accelerators(
        accelerator, manufacturer, reported_mib, gpu_count, has_gpu, gpus
    )
    over = np.zeros(rows, dtype=bool)
    over[np.isfinite(memories)] = memories[np.isfinite(memories)] > MAX_GPU_MEMORY_GB
    defects.mark(
        "GpuInfo",
        too_large("GPU memory (GpuInfo)"),
        has_gpu & (insane_mib | over),
        gpu_info,
    )
    defects.mark(
        "AcceleratorName",
        "accelerator vendor is not one of " + ", ".join(GPU_VENDORS),
        has_gpu & ~as_numpy_bool(pc.is_valid(vendors)),
        manufacturer,
    )
    arch = np.where(
        as_numpy_bool(pc.match_substring_regex(names, SUPERCHIP_PATTERN)), "arm", "x86"
    ).astype(object)
    flags = np.where((arch == "arm") & (provider == "lambdalabs"), LAMBDA_ARM_FLAG, "").astype(
        object
    )

    good = defects.good
    on_demand = {
        "provider": repeated(provider, rows),
        "instance_type": instance_type,
        "region": region,
        "price": price,
        "cpu": cpu,
        "memory_gb": memory_gib * GIB_TO_GB,
        "gpu_count": gpu_count.astype(np.int32),
        "gpu_name": names,
        "gpu_memory_gb": float_with_nulls(memories),
        "spot": np.zeros(rows, dtype=bool),
        "disk_gb": float_with_nulls(np.full(rows, np.nan)),
        "gpu_vendor": vendors,
        "flags": pa.array(flags, type=pa.string()),
        "cpu_arch": pa.array(arch, type=pa.string()),
        "provider_data": repeated("", rows),
    }
    has_spot = good & np.isfinite(spot_price) & (spot_price > 0)
    spot = dict(
        on_demand, price=np.where(has_spot, spot_price, 0.0), spot=np.ones(rows, dtype=bool)
    )
    table = pa.concat_tables([build_table(on_demand, good), build_table(spot, has_spot)])
    # Each spot row follows its on-demand row, as in gpuhunt's catalogs.
    line_order = np.concatenate([np.flatnonzero(good), np.flatnonzero(has_spot)])
    table = table.take(pa.array(np.argsort(line_order, kind="stable")))

    bad_rows = np.flatnonzero(~good)
    issues = defects.issues(text.lines_of(bad_rows)) if len(bad_rows) else []
    return Part(
        name=text.name,
        provider=provider,
        table=table,
        issues=tuple(issues),
        total_rows=text.total_rows,
    )


def _extract_number(text: pa.ChunkedArray | pa.Array, pattern: str) -> np.ndarray:
    matched = pc.struct_field(pc.extract_regex(text, pattern), [0])
    return np.asarray(pc.cast(matched, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)


def _accelerators(
    accelerator: pa.ChunkedArray | pa.Array,
    manufacturer: pa.ChunkedArray | pa.Array,
    reported_mib: np.ndarray,
    gpu_count: np.ndarray,
    has_gpu: np.ndarray,
    gpus: GpuTable,
) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Canonical names, vendors (None: unsupported) and per-GPU GB.

    The GPU table is asked once per distinct name and manufacturer, not once per row.
    """
    name_codes, distinct_names = pd.factorize(_as_objects(accelerator))
    resolved = [_canonical(gpus, str(name)) for name in distinct_names.tolist()]
    maker_codes, distinct_makers = pd.factorize(_as_objects(manufacturer), use_na_sentinel=False)
    # A name the table does not know takes GpuInfo's manufacturer; none stated: nvidia, as
    # gpuhunt assumes for a GPU row without a vendor. A manufacturer we cannot name is None.
    maker_vendors = [
        "nvidia" if pd.isna(maker) or maker == "" else _MANUFACTURER_VENDOR.get(str(maker))
        for maker in distinct_makers.tolist()
    ]
    names = np.array([name for name, _ in resolved] + [None], dtype=object)[name_codes]
    vendors = np.array([vendor for _, vendor in resolved] + [None], dtype=object)[name_codes]
    from_maker = np.array(maker_vendors, dtype=object)[maker_codes]
    vendors = np.where(vendors == None, from_maker, vendors)  # noqa: E711
    missing = np.array(None, dtype=object)
    names = np.where(has_gpu, names, missing)
    vendors = np.where(has_gpu, vendors, missing)
    memories = _per_gpu_memory(names, reported_mib, gpu_count, has_gpu, gpus)
    return pa.array(names, type=pa.string()), pa.array(vendors, type=pa.string()), memories


def _canonical(gpus: GpuTable, name: str) -> tuple[str, str | None]:
    """(catalog name, vendor the name implies) of a SkyPilot accelerator name."""
    if name.lower().startswith("tpu-"):
        # gpuhunt's convention: TPU rows are named "<version>-<cores>", vendor google.
        return name[4:], "google"
    entry = gpus.resolve(name)
    if entry is None:
        return name, None
    return entry.name, entry.vendor


def _as_objects(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)


def _per_gpu_memory(
    names: np.ndarray, mib: np.ndarray, count: np.ndarray, has_gpu: np.ndarray, gpus: GpuTable
) -> np.ndarray:
    memory = np.full(len(names), np.nan)
    known = has_gpu & np.isfinite(mib) & (mib > 0) & (count > 0)
    if not known.any():
        return memory
    combos = pd.DataFrame({"name": names[known], "mib": mib[known], "count": count[known]})
    group = combos.groupby(["name", "mib", "count"], sort=False).ngroup().to_numpy()
    distinct = combos.drop_duplicates().itertuples(index=False)
    readings = [_readings(gpus, str(name), float(size), int(n)) for name, size, n in distinct]
    per_gpu_fits = np.array([reading[0] for reading in readings])[group]
    total_fits = np.array([reading[1] for reading in readings])[group]
    # The file's convention: whichever reading alone explains more rows (per GPU on a tie).
    divided = int(np.sum(total_fits & ~per_gpu_fits)) > int(np.sum(per_gpu_fits & ~total_fits))
    chosen = [
        (as_total if fits_total or not fits_per else as_per_gpu)
        if divided
        else (as_per_gpu if fits_per or not fits_total else as_total)
        for fits_per, fits_total, as_per_gpu, as_total in readings
    ]
    memory[known] = np.array(chosen)[group]
    return memory


def _readings(gpus: GpuTable, name: str, mib: float, count: int) -> tuple[bool, bool, float, float]:
    """(per-GPU reading fits a known size, total reading fits, per-GPU GB, total/count GB)."""
    return (
        _fits(gpus, name, mib),
        count > 1 and _fits(gpus, name, mib / count),
        gpus.snap_memory_gb(name, mib),
        gpus.snap_memory_gb(name, mib / count),
    )


def _fits(gpus: GpuTable, name: str, mib: float) -> bool:
    gib = mib / 1024
    return any(
        size > 0 and math.fabs(size - gib) / size < MEMORY_SNAP_TOLERANCE
        for size in gpus.memories_gb(name)
    )
