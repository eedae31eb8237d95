"""Small hand-written catalogs for the matcher tests (imported by name: tests are not a package)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner.catalog import Catalog
from planner.catalog.columns import COLUMNS, ROW_ID

# A row as a test writes it; omitted fields take these values (a CPU-only on-demand x86 row).
ROW_DEFAULTS: dict[str, Any] = {
    "provider": "aws",
    "instance_type": "m5.large",
    "region": "us-east-1",
    "price": 1.0,
    "cpu": 8,
    "memory_gb": 32.0,
    "gpu_count": 0,
    "gpu_name": None,
    "gpu_memory_gb": None,
    "spot": False,
    "disk_gb": None,
    "gpu_vendor": None,
    "flags": "",
    "cpu_arch": "x86",
    "provider_data": "",
}


def offer_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A frame with the catalog's columns and dtypes, price-sorted (stable) with row_id."""
    unknown = {key for row in rows for key in row} - set(ROW_DEFAULTS)
    assert not unknown, f"unknown test columns {unknown}"
    full = [{**ROW_DEFAULTS, **row} for row in rows]
    data: dict[str, Any] = {}
    for name, dtype in COLUMNS.items():
        values = [row[name] for row in full]
        if dtype == "category":
            data[name] = pd.Categorical(values)
        elif dtype == "float64":
            data[name] = np.array([np.nan if v is None else v for v in values], dtype="float64")
        else:
            data[name] = np.array(values, dtype=dtype)
    frame = pd.DataFrame(data)
    frame = frame.sort_values("price", kind="stable").reset_index(drop=True)
    frame[ROW_ID] = np.arange(len(frame), dtype="int64")
    return frame


def make_catalog(rows: Sequence[dict[str, Any]]) -> Catalog:
    return Catalog.from_frame(offer_frame(rows))
