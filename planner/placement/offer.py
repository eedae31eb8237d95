"""A pool row as an OFFER dict (docs/contracts.md), the shape every output uses for an offer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

import pandas as pd

# gpuhunt provider -> the dstack backend name users write, where they differ.
BACKEND_OF_PROVIDER: Final[dict[str, str]] = {"lambdalabs": "lambda"}


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def offer_dicts(pools: pd.DataFrame, indices: Iterable[int]) -> dict[int, dict[str, Any]]:
    """OFFER dicts of the given pool positions (one ``iloc`` gather, then plain records)."""
    wanted = sorted(set(indices))
    if not wanted:
        return {}
    records = pools.iloc[wanted].to_dict("records")
    return {
        index: offer_dict({str(key): value for key, value in record.items()})
        for index, record in zip(wanted, records, strict=True)
    }


def offer_dict(pool: Mapping[str, Any]) -> dict[str, Any]:
    provider = str(pool["provider"])
    gpu_count = int(pool["gpu_count"])
    flags = _clean(pool.get("flags"))
    backend = _clean(pool.get("backend"))
    offer: dict[str, Any] = {
        "backend": backend or BACKEND_OF_PROVIDER.get(provider, provider),
        "provider": provider,
        "region": str(pool["region"]),
        "instance_type": str(pool["instance_type"]),
        "spot": bool(pool["spot"]),
        "price": float(pool["price"]),
        "cpu": int(pool["cpu"]),
        "cpu_arch": _clean(pool["cpu_arch"]) or "x86",
        "memory_gb": float(pool["memory_gb"]),
        "disk_gb": _clean(pool["disk_gb"]),
        "gpu_vendor": _clean(pool["gpu_vendor"]) if gpu_count else None,
        "gpu_name": _clean(pool["gpu_name"]) if gpu_count else None,
        "gpu_count": gpu_count,
        "gpu_memory_gb": _clean(pool["gpu_memory_gb"]) if gpu_count else None,
        "flags": str(flags).split() if flags else [],
    }
    if "availability_zones" in pool:  # a dstack-level offer: its zones (None: none known)
        zones = _clean(pool["availability_zones"])
        offer["availability_zones"] = str(zones).split() if zones else None
    reservation = _clean(pool.get("reservation"))
    if reservation:
        offer["reservation"] = reservation
    return offer
