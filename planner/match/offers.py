"""``find_offers``: the catalog rows that satisfy a configuration, cheapest first.

Order: the catalog is already sorted by price (stable, so equal prices keep load order = ``row_id``)
and a boolean mask keeps that order, so the result is price ascending with ``row_id`` as the
deterministic tie-break — no sort happens at query time. The row index and the pandas frame are
built lazily from the mask: a query that only needs the count never materialises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.match.grouping import group_offers
from planner.match.masks import combined_mask
from planner.match.view import CatalogView
from planner.match.whynot import Exclusion, exclusions
from planner.requirements import Requirements, backend_of_provider

if TYPE_CHECKING:
    import pandas as pd

    from planner.catalog import Catalog

_STRING_FIELDS = ("provider", "region", "instance_type", "cpu_arch", "gpu_vendor", "gpu_name")

# Rows scanned at a time when only the first few matches are wanted.
_SCAN_ROWS = 1 << 16

# An OFFER dict's keys, in output order (docs/contracts.md).
OFFER_FIELDS = (
    "backend",
    "provider",
    "region",
    "instance_type",
    "spot",
    "price",
    "cpu",
    "cpu_arch",
    "memory_gb",
    "disk_gb",
    "gpu_vendor",
    "gpu_name",
    "gpu_count",
    "gpu_memory_gb",
    "flags",
)


@dataclass(frozen=True, eq=False)
class Offers:
    """The matching offers of one catalog for one set of requirements (a view, cheapest first)."""

    requirements: Requirements
    catalog: Catalog
    mask: np.ndarray  # one bool per catalog row
    total: int

    def __len__(self) -> int:
        return self.total

    @cached_property
    def index(self) -> np.ndarray:
        """Catalog row positions of the matches, ascending (= price order, then row_id)."""
        return np.flatnonzero(self.mask)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The matching rows (catalog columns plus ``row_id``), cheapest first."""
        return self.catalog.frame.iloc[self.index]

    @cached_property
    def exclusions(self) -> tuple[Exclusion, ...]:
        """Per requirement: rows excluded, the cheapest of them, and the near misses."""
        return exclusions(self.requirements, CatalogView(self.catalog))

    def records(self, limit: int | None = None) -> list[dict[str, Any]]:
        """OFFER dicts (docs/contracts.md) for the first ``limit`` matches (all when None)."""
        return offer_records(self.catalog, self.first_rows(limit), self.requirements)

    def first_rows(self, limit: int | None) -> np.ndarray:
        """Catalog row positions of the first ``limit`` matches, without indexing them all."""
        if limit is None or "index" in self.__dict__:
            return self.index[:limit]
        found: list[np.ndarray] = []
        wanted = limit
        for start in range(0, len(self.mask), _SCAN_ROWS):
            if wanted <= 0:
                break
            rows = np.flatnonzero(self.mask[start : start + _SCAN_ROWS])[:wanted] + start
            found.append(rows)
            wanted -= len(rows)
        return np.concatenate(found) if found else np.empty(0, dtype=np.intp)

    def grouped(self, keys: tuple[str, ...] | list[str] | str) -> list[dict[str, Any]]:
        """Offers grouped like ``dstack offer --group-by`` (keys: gpu, backend, region, count)."""
        return group_offers(self.frame, self.requirements, keys)


def find_row_offers(requirements: Requirements, catalog: Catalog) -> Offers:
    """The catalog rows that satisfy ``requirements``, as gpuhunt's query returns them, cheapest
    first (ties: catalog row order). ``planner.match.find_offers(..., rows=True)``."""
    mask = combined_mask(requirements, CatalogView(catalog))
    return Offers(
        requirements=requirements,
        catalog=catalog,
        mask=mask,
        total=int(np.count_nonzero(mask)),
    )


def offer_columns(
    catalog: Catalog, rows: np.ndarray, requirements: Requirements | None = None
) -> dict[str, list[Any]]:
    """The OFFER fields of the given catalog rows, column by column (plain Python values).

    Gathers with the row positions from each column; no loop over catalog rows.
    """
    view = CatalogView(catalog)
    columns: dict[str, list[Any]] = {}
    for name in _STRING_FIELDS:
        columns[name] = view.strings(name, rows)
    gpu_count = view.values("gpu_count")[rows]
    cpu_only = gpu_count <= 0
    for name in ("gpu_vendor", "gpu_name"):
        values = np.asarray(columns[name], dtype=object)
        values[cpu_only] = None
        columns[name] = values.tolist()
    gpu_memory = view.values("gpu_memory_gb")[rows].astype(object)
    gpu_memory[cpu_only | np.isnan(view.values("gpu_memory_gb")[rows])] = None
    disk = view.values("disk_gb")[rows]
    disk_values = disk.astype(object)
    disk_values[np.isnan(disk)] = None
    flag_lists = [category.split() for category in view.categories("flags")] + [[]]
    flag_categories = np.empty(len(flag_lists), dtype=object)
    for code, flags in enumerate(flag_lists):  # per category: numpy would make lists a 2-D array
        flag_categories[code] = flags
    chosen_backends = requirements.backends if requirements else None
    backend_names = {
        provider: backend_of_provider(provider, chosen_backends)
        for provider in view.categories("provider")
    }
    columns["backend"] = [
        None if provider is None else backend_names[provider] for provider in columns["provider"]
    ]
    columns["spot"] = view.values("spot")[rows].astype(bool).tolist()
    columns["price"] = view.values("price")[rows].astype(float).tolist()
    columns["cpu"] = view.values("cpu")[rows].astype(int).tolist()
    columns["memory_gb"] = view.values("memory_gb")[rows].astype(float).tolist()
    columns["disk_gb"] = disk_values.tolist()
    columns["gpu_count"] = gpu_count.astype(int).tolist()
    columns["gpu_memory_gb"] = gpu_memory.tolist()
    columns["flags"] = [list(flags) for flags in flag_categories[view.codes("flags")[rows]]]
    return columns


def offer_records(
    catalog: Catalog, rows: np.ndarray, requirements: Requirements | None = None
) -> list[dict[str, Any]]:
    """OFFER dicts (docs/contracts.md) for the given catalog row positions, in that order."""
    columns = offer_columns(catalog, rows, requirements)
    rows_of_values = zip(*(columns[field] for field in OFFER_FIELDS), strict=True)
    return [dict(zip(OFFER_FIELDS, values, strict=True)) for values in rows_of_values]
