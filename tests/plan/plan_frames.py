"""Offer tables for planning tests, with the catalog's columns and dtypes (planner/catalog/columns.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner.catalog.columns import COLUMNS
from planner.config.normalized import (
    IntRange,
    NormalizedPort,
    NormalizedRetry,
    NormalizedService,
)

A100 = {
    "cpu": 12,
    "memory_gb": 85.0,
    "gpu_count": 1,
    "gpu_name": "A100",
    "gpu_memory_gb": 80.0,
    "disk_gb": float("nan"),
    "gpu_vendor": "nvidia",
    "flags": "",
    "cpu_arch": "x86",
    "provider_data": "",
}


def offer_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows (provider, region, instance_type, spot, price, + optional resources) as a catalog table."""
    records = [{**A100, **row} for row in rows]
    columns: dict[str, Any] = {}
    for name, dtype in COLUMNS.items():
        values = [record[name] for record in records]
        columns[name] = (
            pd.Categorical(values) if dtype == "category" else np.asarray(values, dtype=dtype)
        )
    frame = pd.DataFrame(columns)
    frame = frame.sort_values("price", kind="stable").reset_index(drop=True)
    frame["row_id"] = np.arange(len(frame), dtype=np.int64)
    return frame


def service(
    replicas: int | tuple[int, int] = 1,
    *,
    spot_policy: str = "on-demand",
    retry_events: tuple[str, ...] | None = None,
    **fields: Any,
) -> NormalizedService:
    low, high = (replicas, replicas) if isinstance(replicas, int) else replicas
    retry = NormalizedRetry(on_events=retry_events) if retry_events else None  # type: ignore[arg-type]
    return NormalizedService(
        port=NormalizedPort(container_port=8000),
        replicas=IntRange(min=low, max=high),
        spot_policy=spot_policy,  # type: ignore[arg-type]
        retry=retry,
        **fields,
    )
