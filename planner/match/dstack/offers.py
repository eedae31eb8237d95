"""dstack-level matching: the requirements over a ``DstackTable``, then dstack's per-query rules.

After gpuhunt's requirement checks (the matcher's clauses, on the table's MiB-rounded values), in
dstack's order: the disk is fitted (a configurable disk gets the smallest size both the request,
100GB.. by default, and the backend allow; an empty intersection drops the offer), then the
backends' post-filters: a reservation takes no spot offers (aws, gcp), and without one GCP's DWS
calendar-mode offers are dropped. Offers come in dstack's merge order (``merge_order``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from planner.match.dstack.notes import DstackNote, notes_for
from planner.match.dstack.pipeline import DEFAULT_DISK_GB, SHOWN, dstack_table
from planner.match.masks import combined_mask
from planner.match.offers import Offers, offer_records
from planner.match.view import CatalogView
from planner.match.whynot import Exclusion, exclusions
from planner.requirements import Requirements

if TYPE_CHECKING:
    import pandas as pd

    from planner.catalog import Catalog
    from planner.config.dstack_settings import DstackServerSettings
    from planner.match.dstack.table import DstackTable

AVAILABILITY_UNKNOWN: Final = "unknown"
_MIB: Final = 1024.0
# Extra OFFER keys of a dstack-level offer (docs/contracts.md).
DSTACK_OFFER_FIELDS: Final = ("availability_zones", "availability")


@dataclass(frozen=True, eq=False)
class DstackOffers(Offers):
    """Offers as a dstack server shows them; ``catalog`` is the ``DstackTable``."""

    disk_gb: np.ndarray | None = None  # the fitted disk per table row
    rules: tuple[tuple[str, str, np.ndarray], ...] = ()  # dstack's per-query rules (passed)
    source: Catalog | None = None  # the catalog the table was made from

    @cached_property
    def index(self) -> np.ndarray:
        return merge_order(self.catalog, np.flatnonzero(self.mask))

    def first_rows(self, limit: int | None) -> np.ndarray:
        return self.index[:limit]

    @cached_property
    def frame(self) -> pd.DataFrame:
        frame = self.catalog.frame.iloc[self.index]
        assert self.disk_gb is not None
        frame = frame.assign(disk_gb=self.disk_gb[self.index])
        if self.requirements.availability_zones is not None:
            zones = np.array(
                [
                    None
                    if text is None
                    else " ".join(narrowed_zones(text, self.requirements) or ())
                    for text in CatalogView(self.catalog).strings("availability_zones", self.index)
                ],
                dtype=object,
            )
            frame = frame.assign(availability_zones=zones)
        return frame

    @cached_property
    def offered(self) -> int:
        """How many offers the backends make of the catalog (before the request)."""
        return int(np.count_nonzero(self.catalog.array("hidden") == SHOWN))

    @cached_property
    def exclusions(self) -> tuple[Exclusion, ...]:
        return exclusions(self.requirements, CatalogView(self.catalog), self.rules)

    @cached_property
    def notes(self) -> tuple[DstackNote, ...]:
        """When dstack 0.22.5 drops matching offers by accident (docs/dstack-offers.md)."""
        return notes_for(self.catalog, self.base_mask)

    @cached_property
    def base_mask(self) -> np.ndarray:
        """Rows passing the requirements and every rule except ``hidden`` (for the notes)."""
        mask = combined_mask(self.requirements, CatalogView(self.catalog))
        for name, _, passed in self.rules:
            if name != "dstack_merge":
                mask &= passed
        return mask

    def records(self, limit: int | None = None) -> list[dict[str, Any]]:
        rows = self.first_rows(limit)
        records = offer_records(self.catalog, rows, self.requirements)
        view = CatalogView(self.catalog)
        backends = view.strings("backend", rows)
        zones = view.strings("availability_zones", rows)
        assert self.disk_gb is not None
        disks = self.disk_gb[rows].tolist()
        for record, backend, zone_text, disk in zip(records, backends, zones, disks, strict=True):
            record["backend"] = backend
            record["disk_gb"] = None if disk != disk else disk  # NaN: unknown
            record["availability_zones"] = narrowed_zones(zone_text, self.requirements)
            record["availability"] = AVAILABILITY_UNKNOWN
        return records


def narrowed_zones(zone_text: str | None, requirements: Requirements) -> list[str] | None:
    """An offer's zones, narrowed to the configuration's ``availability_zones`` (any case)."""
    if zone_text is None:
        return None
    zones = zone_text.split()
    if requirements.availability_zones is None:
        return zones
    wanted = {zone.lower() for zone in requirements.availability_zones}
    return [zone for zone in zones if zone.lower() in wanted]


def find_dstack_offers(
    requirements: Requirements, catalog: Catalog, settings: DstackServerSettings | None
) -> DstackOffers:
    """``requirements`` over the dstack-level offers of ``catalog`` under ``settings``."""
    table = dstack_table(catalog, settings, requirements.backends)
    view = CatalogView(table)
    mask = combined_mask(requirements, view)
    disk, disk_fits = fitted_disks(table, requirements)
    rules = per_query_rules(table, requirements, disk_fits)
    for _, _, passed in rules:
        mask &= passed
    return DstackOffers(
        requirements=requirements,
        catalog=table,
        mask=mask,
        total=int(np.count_nonzero(mask)),
        disk_gb=disk,
        rules=tuple(rules),
        source=catalog,
    )


def fitted_disks(table: DstackTable, requirements: Requirements) -> tuple[np.ndarray, np.ndarray]:
    """The disk per offer and whether it fits (dstack's ``OfferDiskFitter``).

    Configurable: the smallest size in (request, or 100GB.. without one) ∩ (backend range),
    dropped when empty. Fixed: the table's disk (checked by the matcher's disk clause).
    """
    if requirements.min_disk_gb is None and requirements.max_disk_gb is None:
        want_low, want_high = DEFAULT_DISK_GB, np.inf
    else:
        want_low = -np.inf if requirements.min_disk_gb is None else requirements.min_disk_gb
        want_high = np.inf if requirements.max_disk_gb is None else requirements.max_disk_gb
    low = table.array("disk_min_gb")
    high = table.array("disk_max_gb")
    configurable = ~np.isnan(low)
    start = np.maximum(np.where(configurable, low, -np.inf), want_low)
    end = np.minimum(np.where(np.isnan(high), np.inf, high), want_high)
    fits = ~configurable | (start <= end)
    fitted = np.round(start * _MIB) / _MIB
    disk = np.where(configurable, fitted, table.array("disk_gb"))
    return disk, fits


def per_query_rules(
    table: DstackTable, requirements: Requirements, disk_fits: np.ndarray
) -> list[tuple[str, str, np.ndarray]]:
    """dstack's rules that depend on the request, as (name, condition, passed per row)."""
    view = CatalogView(table)
    rules: list[tuple[str, str, np.ndarray]] = [
        (
            "dstack_merge",
            "not lost in dstack's gcp zone merge (docs/dstack-offers.md)",
            table.array("hidden") == SHOWN,
        ),
        (
            "disk_fit",
            "disk range overlaps the backend's configurable disk",
            disk_fits,
        ),
    ]
    if requirements.backends is not None:
        wanted = {backend.lower() for backend in requirements.backends}
        accepted = np.array([name in wanted for name in view.categories("backend")], dtype=bool)
        rules.append(
            (
                "backend_names",
                "backend named as configured (datacrunch, verda, amddevcloud, ...)",
                np.append(accepted, False)[view.codes("backend")],
            )
        )
    if requirements.reservation is not None:
        rules.append(
            (
                "reservation_spot",
                "on-demand (a reservation takes no spot offers)",
                ~table.array("spot"),
            )
        )
    else:
        gcp = np.append(
            np.array([name == "gcp" for name in view.categories("backend")], dtype=bool), False
        )[view.codes("backend")]
        dws = table.array("dws")
        rules.append(
            (
                "dws_calendar_mode",
                "not a GCP DWS calendar-mode offer (those need a reservation)",
                ~(gcp & dws),
            )
        )
    return rules


def merge_order(table: Catalog, rows: np.ndarray) -> np.ndarray:
    """``rows`` (table order: price, backend rank, catalog order) in dstack's merge order.

    dstack merges the backends' lists with ``heapq.merge`` on price, each list in catalog order.
    When every list is price-sorted that is the table's order. Nebius's spot rounding can leave
    its list unsorted; then the merge is replayed over the matching rows only.
    """
    if len(rows) < 2:
        return rows
    ranks = table.array("backend_rank")[rows]
    sources = table.array("source_row")[rows]
    prices = table.array("price")[rows]
    by_list = np.lexsort((sources, ranks))
    same_list = ranks[by_list][1:] == ranks[by_list][:-1]
    if not np.any(same_list & (np.diff(prices[by_list]) < 0)):
        return rows
    lists: dict[int, list[tuple[float, int, int]]] = {}
    for position in by_list.tolist():  # only when a list is unsorted: the matching rows
        lists.setdefault(int(ranks[position]), []).append(
            (float(prices[position]), int(ranks[position]), position)
        )
    merged = heapq.merge(*(lists[rank] for rank in sorted(lists)), key=lambda item: item[0])
    return rows[np.fromiter((item[2] for item in merged), dtype=np.int64, count=len(rows))]
