"""Small catalogs and replica groups for the replica-group tests (realistic shapes, few rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from planner.catalog import Catalog
from planner.requirements import GroupRequirements, Requirements

GPU = {
    "H100": {"gpu_memory_gb": 80.0, "cpu": 26, "memory_gb": 200.0},
    "A100": {"gpu_memory_gb": 80.0, "cpu": 12, "memory_gb": 85.0},
    "L40S": {"gpu_memory_gb": 48.0, "cpu": 8, "memory_gb": 64.0},
    "L4": {"gpu_memory_gb": 24.0, "cpu": 8, "memory_gb": 32.0},
}


def row(
    provider: str,
    region: str,
    instance_type: str,
    price: float,
    gpu: str | None,
    *,
    spot: bool = False,
) -> dict[str, Any]:
    """One catalog row: a one-GPU machine of ``gpu``, or a 4-CPU machine when ``gpu`` is None."""
    if gpu is None:
        resources: dict[str, Any] = {
            "cpu": 4,
            "memory_gb": 16.0,
            "gpu_count": 0,
            "gpu_name": None,
            "gpu_memory_gb": float("nan"),
            "gpu_vendor": None,
        }
    else:
        resources = {**GPU[gpu], "gpu_count": 1, "gpu_name": gpu, "gpu_vendor": "nvidia"}
    return {
        "provider": provider,
        "region": region,
        "instance_type": instance_type,
        "price": price,
        "spot": spot,
        **resources,
    }


def catalog(rows: Sequence[dict[str, Any]]) -> Catalog:
    return Catalog.from_frame(pd.DataFrame(list(rows)))


def gpu_group(
    name: str,
    gpu: str,
    replicas: int | tuple[int, int],
    *,
    spot_policy: str = "on-demand",
    rps_target: float | None = None,
    fixed: bool = False,
) -> GroupRequirements:
    low, high = (replicas, replicas) if isinstance(replicas, int) else replicas
    return GroupRequirements(
        name=name,
        requirements=Requirements(gpu_names=(gpu,), min_gpu_count=1, max_gpu_count=1),
        min_replicas=low,
        max_replicas=high,
        spot_policy=spot_policy,
        scaling_metric="rps" if rps_target is not None else None,
        scaling_target=rps_target,
        fixed_count=fixed,
    )


def cpu_group(name: str, replicas: int, *, fixed: bool = True) -> GroupRequirements:
    return GroupRequirements(
        name=name,
        requirements=Requirements(min_gpu_count=0, max_gpu_count=0, min_cpu=2),
        min_replicas=replicas,
        max_replicas=replicas,
        spot_policy="on-demand",
        fixed_count=fixed,
    )
