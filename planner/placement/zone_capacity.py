"""Capacity rows that name zones, applied to region offers (docs/planning.md, "Zones").

On dstack-level offers a GCP offer is a region with its availability zones, and dstack may start the
replica in any of them. A capacity row for one zone therefore says nothing about the region offer
until every zone of the offer has a row: then the offer can take the sum of the zones' counts, and
the worst stated interruption rate. A region offer with zone rows for only some of its zones keeps
what the region-level rows said, and the plan notes which zones lack a row, so a zone row is never
silently without effect. On catalog rows (``--rows``) a zone is the pool's own region and the
ordinary rules apply; nothing here runs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from operator import attrgetter

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.catalog.locations import region_of_location, zone_of_location
from planner.placement.inputs import UNLIMITED, WILDCARD, CapacityData, CapacityRule
from planner.placement.notes import ZoneCapacityIncomplete
from planner.placement.pools import place_columns, rule_mask

_NOT_STATED = -2  # below UNLIMITED (-1): no zone row gave this pool a count


def apply_zone_capacity(
    pools: pd.DataFrame, capacity: CapacityData | None
) -> tuple[pd.DataFrame, tuple[ZoneCapacityIncomplete, ...]]:
    """``pools`` with counts and rates from zone rows folded into their region offers, and a note
    per region offer whose zones are only partly covered."""
    if capacity is None or pools.empty or "availability_zones" not in pools.columns:
        return pools, ()
    zone_rules = [rule for rule in capacity.rules if _names_a_zone(rule)]
    if not zone_rules:
        return pools, ()
    zone_text = pools["availability_zones"].fillna("").astype(str)
    zone_lists = zone_text.str.split()
    zone_counts = zone_text.str.count(r"\S+").to_numpy(dtype=np.int64)
    catalog = np.isin(pools["capacity_type"].to_numpy(), ["spot", "on-demand"])
    spot = pools["spot"].to_numpy(dtype=bool)
    lowered = place_columns(pools)
    stated = np.zeros(len(pools), dtype=np.int64)  # zones of the pool with a count
    total = np.zeros(len(pools), dtype=np.int64)
    unlimited = np.zeros(len(pools), dtype=bool)
    worst_rate = np.full(len(pools), np.nan)
    sources: dict[str, list[str]] = {}
    for zone in sorted({rule.region for rule in zone_rules}):
        pattern = rf"(?:^|\s){re.escape(zone)}(?:\s|$)"
        has_zone = zone_text.str.lower().str.contains(pattern).to_numpy(dtype=bool) & catalog
        count = np.full(len(pools), _NOT_STATED, dtype=np.int64)
        rate = np.full(len(pools), np.nan)
        # Most specific row last, so it wins (the same order as region rows).
        for rule in sorted(
            (r for r in zone_rules if r.region == zone), key=attrgetter("specificity")
        ):
            # The row's place with its zone read as the zone's region: the region offer's place.
            provider = "gcp" if rule.provider == WILDCARD else rule.provider
            in_region = replace(rule, region=region_of_location(provider, rule.region))
            mask = has_zone & rule_mask(in_region, lowered, spot)
            if rule.capacity is not None:
                count[mask] = rule.capacity
            if rule.interruption_rate is not None:
                rate[mask & spot] = rule.interruption_rate
            if mask.any():
                sources.setdefault(zone, []).append(rule.source)
        counted = count != _NOT_STATED
        stated += counted.astype(np.int64)
        unlimited |= count == UNLIMITED
        total += np.where(counted & (count > 0), count, 0)
        worst_rate = np.fmax(worst_rate, rate)
    covered = (stated > 0) & (stated == zone_counts)
    counts = pools["capacity"].to_numpy(dtype=np.int64).copy()
    counts[covered] = np.where(unlimited[covered], UNLIMITED, total[covered])
    rates = pools["interruption_rate"].to_numpy(dtype=np.float64).copy()
    has_rate = ~np.isnan(worst_rate) & spot
    rates[has_rate] = worst_rate[has_rate]
    notes = _incomplete_notes(pools, zone_lists, stated, zone_counts, sources)
    return pools.assign(capacity=counts, interruption_rate=rates), notes


def _names_a_zone(rule: CapacityRule) -> bool:
    if rule.region == WILDCARD:
        return False
    provider = "gcp" if rule.provider == WILDCARD else rule.provider
    return zone_of_location(provider, rule.region) is not None


def _incomplete_notes(
    pools: pd.DataFrame,
    zone_lists: pd.Series,
    stated: npt.NDArray[np.integer],
    zone_counts: npt.NDArray[np.integer],
    sources: dict[str, list[str]],
) -> tuple[ZoneCapacityIncomplete, ...]:
    partial = np.flatnonzero((stated > 0) & (stated < zone_counts))
    seen: set[tuple[str, str, str, tuple[str, ...]]] = set()
    notes = []
    for index in partial:  # one per partly covered region offer: few, not a catalog loop
        pool = pools.iloc[int(index)]
        zones = tuple(zone_lists.iloc[int(index)])
        named = tuple(zone for zone in zones if zone.lower() in sources)
        unstated = tuple(zone for zone in zones if zone.lower() not in sources)
        backend = str(pool.get("backend", pool["provider"]))
        key = (backend, str(pool["region"]), str(pool["instance_type"]), unstated)
        if key in seen:
            continue
        seen.add(key)
        rows = tuple(dict.fromkeys(src for zone in named for src in sources[zone.lower()]))
        notes.append(
            ZoneCapacityIncomplete(
                sources=rows,
                backend=backend,
                region=str(pool["region"]),
                instance_type=str(pool["instance_type"]),
                unstated=unstated,
            )
        )
    return tuple(notes)
