"""``--group-by gpu,backend,region,count``: offers summarised like ``dstack offer --group-by``.

Follows dstack 0.22.5's server (``services/gpus.py``):

- GPU groups are keyed by (gpu name, per-GPU memory, vendor) plus the chosen keys. Before grouping,
  each backend keeps only its first (= cheapest) offer per (gpu, memory, vendor, count, spot,
  region); so a group's price range spans those cheapest offers, not every instance type.
- ``price`` is per GPU (offer price / count), ``offer_price`` the whole offer's.
- Grouping by backend without region lists every region the backend has any matching offer in.
- When the configuration asks for no GPU (``gpu.count.max == 0``) the groups are CPU groups
  keyed by the chosen backend / region / count (= vCPUs).
- Order: cheapest first (min, then max price), then backend, region, count, name, memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from planner.errors import InputError
from planner.requirements import Requirements, backend_of_provider

if TYPE_CHECKING:
    import pandas as pd

GROUP_KEYS = ("gpu", "backend", "region", "count")


def parse_group_by(keys: str | Sequence[str]) -> tuple[str, ...]:
    """Validated group-by keys from ``"gpu,backend"`` or a list (dstack's rules)."""
    items = [keys] if isinstance(keys, str) else list(keys)
    parsed: list[str] = []
    for item in items:
        for value in (part.strip() for part in item.split(",")):
            if not value:
                continue
            if value not in GROUP_KEYS:
                raise InputError(
                    f"--group-by: invalid value {value!r}; valid choices are: "
                    f"{', '.join(sorted(GROUP_KEYS))}"
                )
            if value not in parsed:
                parsed.append(value)
    if parsed and "gpu" not in parsed:
        raise InputError(
            f"--group-by: cannot group by '{', '.join(parsed)}' without also grouping by 'gpu'"
        )
    if "region" in parsed and "backend" not in parsed:
        raise InputError("--group-by: cannot group by 'region' without also grouping by 'backend'")
    return tuple(parsed)


def group_offers(
    offers: pd.DataFrame, requirements: Requirements, keys: str | Sequence[str]
) -> list[dict[str, Any]]:
    """Groups of the matching ``offers`` (catalog rows, cheapest first) found for ``requirements``."""
    group_by = parse_group_by(keys)
    table = _offer_table(offers, requirements)
    if requirements.max_gpu_count == 0:
        return _cpu_groups(table, group_by)
    return _gpu_groups(table, group_by)


def _offer_table(offers: pd.DataFrame, requirements: Requirements) -> pd.DataFrame:
    """The matching offers' grouping columns (vectorized; string columns stay categorical)."""
    columns = ["provider", "region", "spot", "price", "cpu", "cpu_arch", "memory_gb"]
    columns += ["gpu_vendor", "gpu_name", "gpu_count", "gpu_memory_gb"]
    table = offers[columns].reset_index(drop=True)
    if "backend" in offers.columns:  # dstack-level offers name their backend
        table["backend"] = offers["backend"].reset_index(drop=True)
        table["gpu_memory_gb"] = table["gpu_memory_gb"].fillna(0.0)
        return table
    chosen = requirements.backends
    # Mapped per category, not per row.
    table["backend"] = table["provider"].map(
        {
            provider: backend_of_provider(str(provider), chosen)
            for provider in table["provider"].cat.categories
        }
    )
    table["gpu_memory_gb"] = table["gpu_memory_gb"].fillna(0.0)
    return table


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain values (for small tables: sorting by value, not by code)."""
    return table.astype({name: object for name in table.columns if table[name].dtype == "category"})


def _price_range(low: float, high: float) -> dict[str, float]:
    return {"min": float(low), "max": float(high)}


def _gpu_groups(table: pd.DataFrame, group_by: tuple[str, ...]) -> list[dict[str, Any]]:
    by_backend = "backend" in group_by
    by_region = "region" in group_by
    by_count = "count" in group_by
    backend_order = {b: i for i, b in enumerate(table["backend"].unique())}
    backend_regions: dict[Any, list[str]] = {
        backend: sorted(str(region) for region in regions)
        for backend, regions in table.groupby("backend", observed=True)["region"].unique().items()
    }
    gpus = table[table["gpu_count"] > 0]
    per_config = ["backend", "gpu_name", "gpu_memory_gb", "gpu_vendor", "gpu_count", "spot"]
    gpus = _plain(gpus.drop_duplicates(subset=[*per_config, "region"], keep="first"))
    gpus = gpus.assign(
        per_gpu=gpus["price"] / gpus["gpu_count"],
        backend_rank=gpus["backend"].map(backend_order),
    )
    # dstack visits backends in order of first offer, and each backend's GPUs by vendor/name/memory.
    gpus = gpus.sort_values(
        ["backend_rank", "gpu_vendor", "gpu_name", "gpu_memory_gb"], kind="stable"
    )
    key = ["gpu_name", "gpu_memory_gb", "gpu_vendor"]
    if by_backend:
        key.append("backend")
    if by_region:
        key.append("region")
    if by_count:
        key.append("gpu_count")

    # Aggregated per group by pandas; the Python loop below runs once per group, not per row.
    grouped = gpus.groupby(key, sort=False)
    stats = grouped.agg(
        count_min=("gpu_count", "min"),
        count_max=("gpu_count", "max"),
        price_min=("per_gpu", "min"),
        price_max=("per_gpu", "max"),
        offer_min=("price", "min"),
        offer_max=("price", "max"),
    )
    spots = grouped["spot"].unique()  # in order of appearance, as dstack appends them
    backends = grouped["backend"].unique()
    groups: list[dict[str, Any]] = []
    for values, row in zip(stats.index, stats.to_dict("records"), strict=True):
        fields: dict[str, Any] = dict(zip(key, values, strict=True))
        backend = fields.get("backend")
        groups.append(
            {
                "name": fields["gpu_name"],
                "memory_gb": float(fields["gpu_memory_gb"]),
                "vendor": fields["gpu_vendor"],
                "spot": ["spot" if spot else "on-demand" for spot in spots[values]],
                "count": {"min": int(row["count_min"]), "max": int(row["count_max"])},
                "price": _price_range(row["price_min"], row["price_max"]),
                "offer_price": _price_range(row["offer_min"], row["offer_max"]),
                "backends": None if by_backend else list(backends[values]),
                "backend": backend,
                "regions": backend_regions[backend] if by_backend and not by_region else None,
                "region": fields.get("region"),
            }
        )
    groups.sort(
        key=lambda g: (
            g["price"]["min"],
            g["price"]["max"],
            g["backend"] or "",
            g["region"] or "",
            g["count"]["min"] if by_count else 0,
            g["name"],
            g["memory_gb"],
        )
    )
    return groups


def _cpu_groups(table: pd.DataFrame, group_by: tuple[str, ...]) -> list[dict[str, Any]]:
    by_backend = "backend" in group_by
    by_region = "region" in group_by
    by_count = "count" in group_by
    cpus = table[table["gpu_count"] == 0]
    key = [column for column, on in (("backend", by_backend), ("region", by_region)) if on]
    if by_count:
        key.append("cpu")
    if cpus.empty:
        return []
    # One group of everything when no key: group by a constant.
    keys: Any = key or (lambda _: "all")
    grouped = cpus.groupby(keys, sort=False, observed=True)
    stats = grouped.agg(
        count_min=("cpu", "min"),
        count_max=("cpu", "max"),
        memory_min=("memory_gb", "min"),
        memory_max=("memory_gb", "max"),
        price_min=("price", "min"),
        price_max=("price", "max"),
    )
    archs = grouped["cpu_arch"].unique()
    spots = grouped["spot"].unique()
    backends = grouped["backend"].unique()
    regions = grouped["region"].unique()
    groups: list[dict[str, Any]] = []
    for values, row in zip(stats.index, stats.to_dict("records"), strict=True):
        fields: dict[str, Any] = (
            dict(zip(key, values if isinstance(values, tuple) else (values,), strict=True))
            if key
            else {}
        )
        backend = fields.get("backend")
        region = fields.get("region")
        groups.append(
            {
                "cpu_arch": sorted(str(arch) for arch in archs[values] if isinstance(arch, str)),
                "count": {"min": int(row["count_min"]), "max": int(row["count_max"])},
                "memory_gb": {"min": float(row["memory_min"]), "max": float(row["memory_max"])},
                "price": _price_range(row["price_min"], row["price_max"]),
                "spot": sorted({"spot" if spot else "on-demand" for spot in spots[values]}),
                "backend": backend,
                "backends": sorted(str(b) for b in backends[values]) if backend is None else None,
                "region": region,
                "regions": sorted(str(r) for r in regions[values])
                if backend is not None and region is None
                else None,
            }
        )
    groups.sort(
        key=lambda g: (
            g["price"]["min"],
            g["price"]["max"],
            g["backend"] or "",
            g["region"] or "",
            g["count"]["min"],
        )
    )
    return groups
