"""A caller's pandas frame as offer rows (``Catalog.from_frame``: tests, generators)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from planner.catalog.columns import CPU_ARCHS, GPU_VENDORS
from planner.catalog.offer_table import ARROW_TYPES
from planner.errors import CatalogError, Problem

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
