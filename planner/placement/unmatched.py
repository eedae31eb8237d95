"""Capacity and fleet rows that name no place in the catalog: a warning each, with a close match.

A capacity row ``aws,us-westt-2,*,...`` or a fleet instance in ``g6.xlarg`` changes nothing in the
plan (no pool has that name), so without a warning a typo would look like data that was taken
into account. The check is against the whole catalog, not only the offers matching the service:
a capacity file may describe pools of other services too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Final

import numpy as np

from planner.catalog import Catalog
from planner.placement.inputs import WILDCARD, CapacityData, FleetInventory
from planner.placement.notes import RowMatchesNoOffer

# The place fields a row names, from the widest to the narrowest.
PLACE_FIELDS: Final[tuple[str, ...]] = ("provider", "region", "instance_type")
# How close a catalog name must be to be suggested (difflib's ratio).
SUGGESTION_CUTOFF: Final = 0.6

Place = tuple[str, str, str]


def catalog_places(catalog: Catalog) -> tuple[Place, ...]:
    """Every (provider, region, instance type) of the catalog, as the catalog spells them."""

    def build() -> tuple[Place, ...]:
        columns = [np.asarray(catalog.array(name), dtype=np.int64) for name in PLACE_FIELDS]
        if not len(catalog):
            return ()
        triples = np.unique(np.stack(columns, axis=1), axis=0)
        names = [catalog.categories(name) for name in PLACE_FIELDS]
        return tuple(
            (names[0][int(a)], names[1][int(b)], names[2][int(c)])
            for a, b, c in triples
            if a >= 0 and b >= 0 and c >= 0
        )

    return catalog.derived("planner.placement.unmatched:places", build)


def unmatched_rows(
    catalog: Catalog,
    capacity: CapacityData | None,
    fleet: FleetInventory | None,
    offers_table: Catalog | None = None,
) -> tuple[RowMatchesNoOffer, ...]:
    """One note per capacity rule or fleet instance whose place is not in the catalog.

    ``offers_table``: the dstack-level offers (planner.match.dstack), whose places (GCP regions,
    not zones) count as well.
    """
    rows: list[tuple[str, str, Place]] = []
    if capacity is not None:
        rows += [
            ("capacity", rule.source, (rule.provider, rule.region, rule.instance_type))
            for rule in capacity.rules
        ]
    if fleet is not None:
        rows += [
            ("fleet", instance.source, (instance.provider, instance.region, instance.instance_type))
            for instance in fleet.instances
        ]
    if not rows:
        return ()
    places = catalog_places(catalog)
    if offers_table is not None and offers_table is not catalog:
        places = places + catalog_places(offers_table)
    notes = []
    for file_kind, source, place in rows:
        missing = _first_missing(places, place)
        if missing is not None:
            field, value, suggestion = missing
            notes.append(
                RowMatchesNoOffer(
                    file_kind=file_kind,
                    source=source,
                    field=field,
                    value=value,
                    suggestion=suggestion,
                )
            )
    return tuple(notes)


def _first_missing(places: Iterable[Place], place: Place) -> tuple[str, str, str | None] | None:
    """The first field (widest first) that no catalog place has, given the fields before it:
    (field, the row's value, the closest catalog name or None). None when the row matches."""
    candidates = list(places)
    for position, (field, value) in enumerate(zip(PLACE_FIELDS, place, strict=True)):
        if value == WILDCARD:
            continue
        wanted = str(value).lower()
        matching = [p for p in candidates if p[position].lower() == wanted]
        if not matching:
            names = sorted({p[position] for p in candidates})
            by_lower = {name.lower(): name for name in names}
            close = difflib.get_close_matches(wanted, list(by_lower), n=1, cutoff=SUGGESTION_CUTOFF)
            return field, str(value), by_lower[close[0]] if close else None
        candidates = matching
    return None
