"""``describe_instance_types`` → one row per instance type: vCPUs, memory, GPUs, disk, arch.

GPU names go through the GPU knowledge table (``T4g`` → T4, memory snapped as gpuhunt does); a
GPU the table does not know keeps EC2's name and the vendor its manufacturer names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

import pandas as pd

from planner.catalog.gpus import GpuTable

# EC2's GPU manufacturers → the catalog's gpu_vendor.
_VENDORS: Final[Mapping[str, str]] = {"nvidia": "nvidia", "amd": "amd", "habana": "intel"}
_ARCHS: Final[Mapping[str, str]] = {"x86_64": "x86", "arm64": "arm", "i386": "x86"}
MACHINE_COLUMNS: Final = (
    "instance_type",
    "cpu",
    "memory_gb",
    "gpu_count",
    "gpu_name",
    "gpu_memory_gb",
    "gpu_vendor",
    "disk_gb",
    "cpu_arch",
    "spot_supported",
)


def describe_machines(
    ec2: Any, *, gpu_only: bool, instance_types: Iterable[str] | None = None
) -> pd.DataFrame:
    """The region's instance types as ``MACHINE_COLUMNS`` (one API page at a time)."""
    arguments: dict[str, Any] = {}
    if instance_types:
        arguments["Filters"] = [{"Name": "instance-type", "Values": sorted(set(instance_types))}]
    gpus = GpuTable.load()
    rows = [
        row
        for page in ec2.get_paginator("describe_instance_types").paginate(**arguments)
        for described in page.get("InstanceTypes", ())
        if (row := machine_row(described, gpus)) is not None
        and (row["gpu_count"] > 0 or not gpu_only)
    ]
    return pd.DataFrame(rows, columns=list(MACHINE_COLUMNS))


def machine_row(described: Mapping[str, Any], gpus: GpuTable) -> dict[str, Any] | None:
    """One ``InstanceTypeInfo`` as a row; None when it cannot be an offer (no x86/arm CPU, a GPU
    of an unknown vendor)."""
    archs = described.get("ProcessorInfo", {}).get("SupportedArchitectures", ())
    arch = next((_ARCHS[name] for name in archs if name in _ARCHS), None)
    if arch is None:
        return None
    row: dict[str, Any] = {
        "instance_type": described["InstanceType"],
        "cpu": int(described.get("VCpuInfo", {}).get("DefaultVCpus", 0)),
        "memory_gb": described.get("MemoryInfo", {}).get("SizeInMiB", 0) / 1024,
        "gpu_count": 0,
        "gpu_name": None,
        "gpu_memory_gb": math.nan,
        "gpu_vendor": None,
        "disk_gb": float(described.get("InstanceStorageInfo", {}).get("TotalSizeInGB", math.nan)),
        "cpu_arch": arch,
        "spot_supported": "spot" in described.get("SupportedUsageClasses", ()),
    }
    devices = described.get("GpuInfo", {}).get("Gpus", ())
    if devices:
        # Instance types carry one GPU model; the first entry names it.
        device = devices[0]
        name = str(device.get("Name", ""))
        canonical = gpus.canonical_name(name)
        vendor = (gpus.vendor_of(canonical) if canonical else None) or _VENDORS.get(
            str(device.get("Manufacturer", "")).lower()
        )
        if vendor is None:
            return None
        memory_mib = float(device.get("MemoryInfo", {}).get("SizeInMiB", 0))
        row["gpu_count"] = sum(int(item.get("Count", 0)) for item in devices)
        row["gpu_name"] = canonical or name.replace(" ", "")
        row["gpu_memory_gb"] = gpus.snap_memory_gb(row["gpu_name"], memory_mib)
        row["gpu_vendor"] = vendor
    return row
