"""What every loader produces: typed rows of one file, plus the rows it had to leave out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from planner.catalog.columns import COLUMNS, CPU_ARCHS, GPU_VENDORS
from planner.catalog.provenance import CatalogSource, RowIssue, summarize_dropped
from planner.errors import CatalogError, Problem

if TYPE_CHECKING:
    from planner.catalog.table import Catalog

# Arrow types of the offer columns before category encoding (nullable where NaN is allowed).
ARROW_TYPES: dict[str, pa.DataType] = {
    name: pa.string()
    if dtype == "category"
    else pa.bool_()
    if dtype == "bool"
    else pa.int32()
    if dtype == "int32"
    else pa.float64()
    for name, dtype in COLUMNS.items()
}


@dataclass(frozen=True)
class Part:
    """The rows of one file (a provider CSV, a zip member, a SkyPilot vms.csv), in file order."""

    name: str  # the file or member, as issues name it
    provider: str
    table: pa.Table  # columns.COLUMNS, in order, as ARROW_TYPES
    issues: tuple[RowIssue, ...]
    total_rows: int  # rows read, kept or not

    @property
    def warning(self) -> str | None:
        return summarize_dropped(self.name, self.total_rows, self.issues)


@dataclass(frozen=True)
class LoadedSource:
    """One source as loaded: its provenance and rows, or a catalog read whole from a cache."""

    sources: tuple[CatalogSource, ...]
    parts: tuple[Part, ...] = ()
    prebuilt: Catalog | None = None  # an Arrow cache: rows, provenance and issues as written

    @property
    def issues(self) -> tuple[RowIssue, ...]:
        if self.prebuilt is not None:
            return self.prebuilt.issues
        return tuple(issue for part in self.parts for issue in part.issues)

    @property
    def warnings(self) -> tuple[str, ...]:
        if self.prebuilt is not None:
            return self.prebuilt.warnings
        return tuple(warning for part in self.parts if (warning := part.warning))

    def tables(self) -> list[pa.Table]:
        if self.prebuilt is not None:
            return [table_from_frame(self.prebuilt.frame)]
        return [part.table for part in self.parts]


def build_table(columns: dict[str, pa.Array | np.ndarray], keep: np.ndarray) -> pa.Table:
    """The offer columns of the kept rows, typed as ARROW_TYPES."""
    arrays = []
    mask = None if keep.all() else pa.array(keep)
    for name, arrow_type in ARROW_TYPES.items():
        values = columns[name]
        array = (
            pa.array(values, type=arrow_type)
            if isinstance(values, np.ndarray)
            else values.cast(arrow_type)
        )
        arrays.append(array if mask is None else array.filter(mask))
    return pa.Table.from_arrays(arrays, names=list(ARROW_TYPES))


def repeated(value: str, rows: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), rows)


def float_with_nulls(values: np.ndarray) -> pa.Array:
    """NaN → null, so a missing number stays missing through Arrow and back."""
    return pa.array(values, type=pa.float64(), from_pandas=True)


_REQUIRED_FRAME_COLUMNS = (
    "provider",
    "instance_type",
    "region",
    "price",
    "cpu",
    "memory_gb",
    "gpu_count",
    "spot",
)
_FRAME_DEFAULTS: dict[str, Any] = {
    "gpu_name": None,
    "gpu_memory_gb": np.nan,
    "disk_gb": np.nan,
    "gpu_vendor": None,
    "flags": "",
    "cpu_arch": "x86",
    "provider_data": "",
}


def table_from_frame(frame: pd.DataFrame) -> pa.Table:
    """Validate and type a caller's frame as loader output (CatalogError on bad values)."""
    missing = [name for name in _REQUIRED_FRAME_COLUMNS if name not in frame.columns]
    if missing:
        raise CatalogError(f"from_frame: the frame lacks column(s) {', '.join(missing)}")
    rows = len(frame)
    arrays = []
    for name, arrow_type in ARROW_TYPES.items():
        if name not in frame.columns:
            arrays.append(
                pa.array([_FRAME_DEFAULTS[name]] * rows, type=arrow_type, from_pandas=True)
            )
            continue
        series = frame[name]
        try:
            if isinstance(series.dtype, pd.CategoricalDtype):
                # Decoding in Arrow avoids a Python object per row.
                array = pa.array(series, from_pandas=True).cast(arrow_type)
            else:
                array = pa.array(series.to_numpy(), type=arrow_type, from_pandas=True)
        except (
            pa.ArrowInvalid,
            pa.ArrowTypeError,
            pa.ArrowNotImplementedError,
            TypeError,
            ValueError,
        ) as error:
            raise CatalogError(f"from_frame: column {name}: {error}") from error
        arrays.append(array)
    table = pa.Table.from_arrays(arrays, names=list(ARROW_TYPES))
    problems = _value_problems(table)
    if problems:
        raise CatalogError(problems)
    return table


def _value_problems(table: pa.Table) -> list[Problem]:
    problems = []
    for name in ("provider", "instance_type", "region", "cpu_arch"):
        if table.column(name).null_count:
            problems.append(Problem(f"{name} has missing values", path=name))
    price = np.asarray(table.column("price").to_numpy(zero_copy_only=False), dtype=float)
    if not np.all(np.isfinite(price)) or np.any(price < 0):
        problems.append(Problem("price must be a finite number >= 0 in every row", path="price"))
    for name in ("cpu", "gpu_count"):
        if table.column(name).null_count or np.any(np.asarray(table.column(name)) < 0):
            problems.append(Problem(f"{name} must be an integer >= 0 in every row", path=name))
    for name, allowed in (("gpu_vendor", GPU_VENDORS), ("cpu_arch", CPU_ARCHS)):
        values = {value for value in table.column(name).unique().to_pylist() if value is not None}
        unknown = sorted(values - set(allowed))
        if unknown:
            problems.append(
                Problem(
                    f"unknown value(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})",
                    path=name,
                )
            )
    return problems
