"""gpuhunt catalogs: a zip of ``<provider>.csv``, a directory of them, or one CSV.

Rows are read as gpuhunt 0.1.34's ``storage.item_from_row`` reads them, with its fix-ups
(``tpu-`` prefix → google, empty vendor on a GPU row → nvidia, empty cpu_arch → x86, vendor and
arch lower-cased, spot case-insensitive, extra columns ignored, optional columns defaulted);
rows it would skip are kept out too, but each is reported as a RowIssue (docs/catalog-format.md §2).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from planner.catalog.archive import ArchiveLimits, copy_member
from planner.catalog.columns import CPU_ARCHS, GPU_VENDORS, GPUHUNT_FIELDS
from planner.catalog.loaders.csvread import TextTable, read_text_table
from planner.catalog.loaders.detect import csv_files_of
from planner.catalog.loaders.fields import (
    RowDefects,
    as_numpy_bool,
    is_empty,
    null_where,
    parse_bool,
    parse_float,
    parse_integer,
)
from planner.catalog.loaders.json_objects import check_json_objects, too_deeply_nested
from planner.catalog.loaders.part import Part, build_table, float_with_nulls, repeated
from planner.catalog.row_rules import (
    MAX_DISK_GB,
    MAX_GPU_MEMORY_GB,
    MAX_MEMORY_GB,
    MAX_PRICE_PER_HOUR,
)
from planner.errors import CatalogError

# Columns gpuhunt cannot build a row without (storage.item_from_row's required fields).
REQUIRED_FIELDS = ("instance_name", "location", "price", "cpu", "memory", "gpu_count", "spot")
_JSON_WHITESPACE = " \t\n\r"
# The general-purpose flag bit of an encrypted zip member.
_ENCRYPTED = 0x1


def load_csv_bytes(data: bytes, name: str, provider: str) -> Part:
    text = read_text_table(data, name, GPUHUNT_FIELDS)
    missing = [column for column in REQUIRED_FIELDS if column not in text.header]
    if missing:
        shown = ",".join(text.header)[:200]
        raise CatalogError(
            f"{name}: not a gpuhunt catalog CSV: the header lacks {', '.join(missing)} "
            f"(expected {','.join(GPUHUNT_FIELDS)}; found {shown})"
        )
    return _rows_of(text, provider.lower())


def load_csv_file(path: Path, provider: str | None = None) -> Part:
    return load_csv_bytes(_read_bytes(path), str(path), provider or path.stem)


def load_directory(directory: Path) -> list[Part]:
    """Every ``<provider>.csv`` of a directory, in name order."""
    files = csv_files_of(directory)
    if not files:
        raise CatalogError(f"{directory}: no <provider>.csv files in this directory")
    return [load_csv_file(path) for path in files]


def load_zip(path: Path, *, limits: ArchiveLimits | None = None) -> list[Part]:
    """Every ``<provider>.csv`` member, expanded under ``limits`` (the caps downloads use)."""
    limits = limits or ArchiveLimits()
    try:
        with zipfile.ZipFile(path) as archive:
            # ZipInfo.is_dir() indexes the name's last character: an empty name would raise.
            members = [info for info in archive.infolist() if not info.filename.endswith("/")]
            for info in members:
                _check_member(path, info, limits.max_member_bytes)
            csv_members = sorted(
                (info for info in members if info.filename.lower().endswith(".csv")),
                key=lambda info: info.filename,
            )
            if not csv_members:
                raise CatalogError(f"{path}: the zip holds no <provider>.csv member")
            _refuse_repeated_providers(path, csv_members)
            parts = []
            for info in csv_members:
                data = io.BytesIO()
                copy_member(archive, info, data, limits, str(path))
                parts.append(
                    load_csv_bytes(
                        data.getvalue(),
                        f"{path}:{info.filename}",
                        PurePosixPath(info.filename).stem,
                    )
                )
            return parts
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as error:
        # A garbled directory, or one from a zip version this Python does not read.
        raise CatalogError(f"{path}: not a readable zip file ({error})") from error
    except OSError as error:
        raise CatalogError(f"{path}: cannot read: {error}") from error


def _check_member(path: Path, info: zipfile.ZipInfo, max_member_bytes: int) -> None:
    name = info.filename
    if not name:
        raise CatalogError(f"{path}: the zip has a member with an empty name")
    if "/" in name or "\\" in name or name.startswith(".") or ":" in name:
        raise CatalogError(
            f"{path}: refusing zip member {name!r}: members must be plain <provider>.csv names"
        )
    if info.flag_bits & _ENCRYPTED:
        raise CatalogError(f"{path}: zip member {name!r} is encrypted (no password is asked for)")
    if info.file_size > max_member_bytes:
        raise CatalogError(
            f"{path}: zip member {name!r} is {info.file_size:,} bytes, over the "
            f"{max_member_bytes:,}-byte limit"
        )


def _refuse_repeated_providers(path: Path, members: list[zipfile.ZipInfo]) -> None:
    """Two members for one provider (the same name twice, or names differing in case): which
    one holds its offers is not for the reader to guess."""
    seen: dict[str, str] = {}
    for info in members:
        provider = PurePosixPath(info.filename).stem.lower()
        if provider in seen:
            raise CatalogError(
                f"{path}: provider {provider!r} is in the zip twice "
                f"(members {seen[provider]!r} and {info.filename!r})"
            )
        seen[provider] = info.filename


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CatalogError(f"{path}: cannot read: {error.strerror or error}") from error


def _refuse_too_deep(text: TextTable, provider_data: pa.ChunkedArray | pa.Array) -> None:
    """gpuhunt's json.loads fails the whole file on such a value: refuse it, naming the line."""
    deep = np.flatnonzero(too_deeply_nested(provider_data))
    if len(deep):
        line = int(text.lines_of(deep[:1])[0])
        where = f"{text.name}:{line}" if line > 0 else text.name
        raise CatalogError(
            f"{where}: provider_data is nested too deeply for Python's json module "
            "(gpuhunt cannot read this file either)"
        )


def _rows_of(text: TextTable, provider: str) -> Part:
    rows = text.table.num_rows
    defects = RowDefects(text.name, rows)
    column = {name: text.column(name) for name in GPUHUNT_FIELDS}

    # Checks in the order gpuhunt's item_from_row raises, so the reported reason is the same.
    gpu_count = parse_integer(column["gpu_count"], "gpu_count", defects)
    vendor = pc.utf8_lower(column["gpu_vendor"])
    vendor_empty = is_empty(vendor)
    known_vendor = as_numpy_bool(pc.is_in(vendor, value_set=pa.array(GPU_VENDORS)))
    defects.mark(
        "gpu_vendor", "gpu_vendor is unknown", ~(known_vendor | vendor_empty), column["gpu_vendor"]
    )
    arch = pc.utf8_lower(column["cpu_arch"])
    arch_empty = is_empty(arch)
    known_arch = as_numpy_bool(pc.is_in(arch, value_set=pa.array(CPU_ARCHS)))
    defects.mark("cpu_arch", "cpu_arch is unknown", ~(known_arch | arch_empty), column["cpu_arch"])
    defects.mark("instance_name", "instance_name is empty", is_empty(column["instance_name"]))
    defects.mark("location", "location is empty", is_empty(column["location"]))
    price = parse_float(column["price"], "price", defects, maximum=MAX_PRICE_PER_HOUR)
    cpu = parse_integer(column["cpu"], "cpu", defects)
    memory = parse_float(column["memory"], "memory", defects, maximum=MAX_MEMORY_GB)
    gpu_memory = parse_float(
        column["gpu_memory"], "gpu_memory", defects, maximum=MAX_GPU_MEMORY_GB, required=False
    )
    spot = parse_bool(column["spot"], "spot", defects)
    disk = parse_float(
        column["disk_size"], "disk_size", defects, maximum=MAX_DISK_GB, required=False
    )
    # json.loads allows JSON's own whitespace around a value, and gpuhunt reads only "" as {}.
    provider_data = pc.utf8_trim(column["provider_data"], _JSON_WHITESPACE)
    _refuse_too_deep(text, provider_data)
    blank = is_empty(provider_data) & ~is_empty(column["provider_data"])
    defects.mark(
        "provider_data",
        "provider_data is not a JSON object",
        ~check_json_objects(provider_data) | blank,
        column["provider_data"],
    )

    # Fix-ups of old catalogs (see the module docstring).
    gpu_name = column["gpu_name"]
    tpu = as_numpy_bool(pc.starts_with(gpu_name, "tpu-"))
    gpu_name = pc.if_else(pa.array(tpu), pc.utf8_slice_codeunits(gpu_name, 4), gpu_name)
    vendor = pc.if_else(
        pa.array(tpu & vendor_empty),
        "google",
        pc.if_else(pa.array(vendor_empty & (gpu_count != 0)), "nvidia", vendor),
    )
    vendor_unknown = is_empty(vendor)
    arch = pc.if_else(pa.array(arch_empty), "x86", arch)
    flags = pc.replace_substring_regex(pc.utf8_trim_whitespace(column["flags"]), r"\s+", " ")
    provider_data = pc.if_else(pc.equal(provider_data, "{}"), "", provider_data)

    good = defects.good
    table = build_table(
        {
            "provider": repeated(provider, rows),
            "instance_type": column["instance_name"],
            "region": column["location"],
            "price": price,
            "cpu": cpu,
            "memory_gb": memory,
            "gpu_count": gpu_count,
            "gpu_name": null_where(gpu_name, is_empty(gpu_name)),
            "gpu_memory_gb": float_with_nulls(gpu_memory),
            "spot": spot,
            "disk_gb": float_with_nulls(disk),
            "gpu_vendor": null_where(vendor, vendor_unknown),
            "flags": flags,
            "cpu_arch": arch,
            "provider_data": provider_data,
        },
        good,
    )
    bad_rows = np.flatnonzero(~good)
    issues = defects.issues(text.lines_of(bad_rows)) if len(bad_rows) else []
    return Part(
        name=text.name,
        provider=provider,
        table=table,
        issues=tuple(issues),
        total_rows=text.total_rows,
    )
