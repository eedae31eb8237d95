"""A caller's pandas frame as offer rows (``Catalog.from_frame``: tests, generators)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from planner.catalog.offer_table import ARROW_TYPES
from planner.catalog.row_rules import (
    ALLOWED_VALUES,
    QUANTITY_COLUMNS,
    QUANTITY_MAXIMA,
    REQUIRED_TEXT,
    UNKNOWN_ALLOWED,
    number_defects,
    too_large,
)
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
    """The row rules (``row_rules``) the frame breaks, one problem per column."""
    problems = []
    for name in REQUIRED_TEXT:
        if table.column(name).null_count:
            problems.append(Problem(f"{name} has missing values", path=name))
    for name in QUANTITY_COLUMNS:
        column = table.column(name)
        values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=float)
        stated = ~np.isnan(values) if name in UNKNOWN_ALLOWED else np.ones(len(values), bool)
        broken = column.null_count and name not in UNKNOWN_ALLOWED
        maximum = QUANTITY_MAXIMA[name]
        found = {
            reason for reason, bad in number_defects(name, values, maximum) if (bad & stated).any()
        }
        over = too_large(name) in found
        if broken or found - {too_large(name)}:
            kind = "a finite number" if pa.types.is_floating(column.type) else "an integer"
            unstated = " (or NaN: not stated)" if name in UNKNOWN_ALLOWED else ""
            problems.append(
                Problem(f"{name} must be {kind} >= 0 in every row{unstated}", path=name)
            )
        elif over:  # beyond the column's maximum, as the CSV loaders and Arrow reads refuse
            problems.append(Problem(f"{name} must be at most {maximum:g} in every row", path=name))
    for name, allowed in ALLOWED_VALUES.items():
        present = {value for value in table.column(name).unique().to_pylist() if value is not None}
        unknown = sorted(present - set(allowed))
        if unknown:
            problems.append(
                Problem(
                    f"unknown value(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})",
                    path=name,
                )
            )
    return problems
