"""Offers → pools: the planner's unit of choice, built with vectorized pandas/numpy operations.

A pool is a set of offers identical in every constraint-relevant attribute (backend, region,
instance type, spot flag, resources): only the cheapest of them can be in an optimal plan, so the
pool keeps that one. Reserved capacity and idle fleet instances become pools of their own, with
their own price and count. Every pool carries what the model needs: price, obtainable count,
failure domain and assumed interruption rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from planner.catalog.columns import COLUMNS, LISTING_PROVIDERS
from planner.catalog.locations import region_of_location, regions_of_locations
from planner.placement.inputs import (
    DEFAULT_SPOT_INTERRUPTION_RATE,
    UNLIMITED,
    WILDCARD,
    CapacityData,
    CapacityRule,
    FleetInstance,
)
from planner.placement.kinds import FailureDomain
from planner.placement.notes import (
    PlanNote,
    ReservationMatchesNoOffer,
    ReservationNotInCapacityFile,
    ReservationWithoutCapacityFile,
)

# Offers differing only outside these columns are interchangeable for planning.
POOL_KEY: Final[tuple[str, ...]] = (
    "provider",
    "region",
    "instance_type",
    "spot",
    "cpu",
    "memory_gb",
    "gpu_count",
    "gpu_name",
    "gpu_memory_gb",
    "disk_gb",
    "gpu_vendor",
    "cpu_arch",
)
OFFER_COLUMNS: Final[tuple[str, ...]] = (*POOL_KEY, "price", "flags", "row_id")
# Carried along when the offers have them (dstack-level offers: planner.match.dstack).
DSTACK_OFFER_COLUMNS: Final[tuple[str, ...]] = ("backend", "availability_zones")

CAPACITY_TYPES: Final[tuple[str, ...]] = ("on-demand", "spot", "reserved", "existing")


def catalog_pools(offers: pd.DataFrame) -> pd.DataFrame:
    """The cheapest offer of each pool (ties: the lower ``row_id``), with planning columns added.

    Columns: ``OFFER_COLUMNS`` plus ``capacity_type`` (str), ``capacity`` (int64, ``UNLIMITED``
    = -1), ``interruption_rate`` (float), ``offers`` (how many offers the pool collapsed).
    A pool of marketplace listings (``LISTING_PROVIDERS``) can take one replica per listing: each
    row is one host. Every other pool is unlimited until a capacity file says otherwise.
    """
    wanted = (*OFFER_COLUMNS, *DSTACK_OFFER_COLUMNS)
    frame = offers.loc[:, [column for column in wanted if column in offers.columns]]
    if "row_id" not in frame.columns:
        frame = frame.assign(row_id=np.arange(len(frame), dtype=np.int64))
    if "flags" not in frame.columns:
        frame = frame.assign(flags="")
    frame = frame.sort_values(["price", "row_id"], kind="stable")
    pool_ids = (
        frame.groupby(list(POOL_KEY), observed=True, dropna=False, sort=False)
        .ngroup()
        .to_numpy(dtype=np.int64)
    )
    # Rows are cheapest first, so each pool's first row is its cheapest offer.
    _, first_rows = np.unique(pool_ids, return_index=True)
    first_rows.sort()
    pools = frame.iloc[first_rows]
    sizes = np.bincount(pool_ids)[pool_ids[first_rows]] if len(frame) else pool_ids
    spot = pools["spot"].to_numpy(dtype=bool)
    listings = _lower_values(pools, "provider") if len(pools) else np.zeros(0, dtype=object)
    listing = np.isin(listings, LISTING_PROVIDERS)
    pools = pools.assign(
        capacity_type=np.where(spot, "spot", "on-demand"),
        capacity=np.where(listing, sizes, UNLIMITED).astype(np.int64),
        interruption_rate=np.where(spot, DEFAULT_SPOT_INTERRUPTION_RATE, 0.0),
        offers=sizes.astype(np.int64),
        reservation="",
    )
    return pools.reset_index(drop=True)


def _lower_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    series = frame[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = np.asarray(
            [str(value).lower() for value in series.cat.categories], dtype=object
        )
        codes = series.cat.codes.to_numpy()
        out = np.full(len(series), "", dtype=object)
        valid = codes >= 0
        out[valid] = categories[codes[valid]]
        return out
    return series.astype(str).str.lower().to_numpy(dtype=object)


def place_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns a capacity row names, lower-cased, as ``rule_mask`` reads them."""
    return {
        column: _lower_values(frame, column) for column in ("provider", "region", "instance_type")
    }


def rule_mask(rule: CapacityRule, lowered: dict[str, np.ndarray], spot: np.ndarray) -> np.ndarray:
    """The pools a capacity row names (``lowered``: provider, region, instance_type lower-cased)."""
    mask = np.ones(len(spot), dtype=bool)
    for column, pattern in (
        ("provider", rule.provider),
        ("region", rule.region),
        ("instance_type", rule.instance_type),
    ):
        if pattern != WILDCARD:
            mask &= lowered[column] == pattern
    if rule.spot is not None:
        mask &= spot == rule.spot
    return mask


def apply_capacity(pools: pd.DataFrame, capacity: CapacityData | None) -> pd.DataFrame:
    """Obtainable counts and interruption rates from the capacity file (most specific row wins).

    The loop is over the file's rows (a handful), each a vectorized mask over all pools.
    Reserved and existing pools keep their own counts; interruption rates apply to spot pools only.
    """
    if capacity is None or not capacity.rules or pools.empty:
        return pools
    lowered = place_columns(pools)
    spot = pools["spot"].to_numpy(dtype=bool)
    catalog = np.isin(pools["capacity_type"].to_numpy(), ["spot", "on-demand"])
    counts = pools["capacity"].to_numpy(dtype=np.int64).copy()
    rates = pools["interruption_rate"].to_numpy(dtype=np.float64).copy()
    # Stable sort: less specific first, so a more specific (or later) row overrides it.
    for rule in sorted(capacity.rules, key=lambda rule: rule.specificity):
        mask = rule_mask(rule, lowered, spot)
        if rule.capacity is not None:
            counts[mask & catalog] = rule.capacity
        if rule.interruption_rate is not None:
            rates[mask & spot] = rule.interruption_rate
    return pools.assign(capacity=counts, interruption_rate=rates)


def reserved_pools(
    pools: pd.DataFrame, capacity: CapacityData | None, reservation_id: str | None
) -> tuple[pd.DataFrame, tuple[PlanNote, ...]]:
    """One pool per usable reservation: the matching on-demand offer at the reservation's price.

    Only reservations named by the configuration's ``reservation`` are used (as dstack does).
    Returns the pools and notes about reservations that could not be used, and why.
    """
    notes: list[PlanNote] = []
    if reservation_id is None:
        return pools.iloc[0:0], ()
    if capacity is None:
        return pools.iloc[0:0], (ReservationWithoutCapacityFile(reservation_id),)
    wanted = [
        r for r in capacity.reservations if r.reservation_id.lower() == reservation_id.lower()
    ]
    if not wanted:
        return pools.iloc[0:0], (ReservationNotInCapacityFile(reservation_id),)
    on_demand = pools[pools["capacity_type"] == "on-demand"]
    lowered = place_columns(on_demand)
    rows = []
    for reservation in wanted:
        mask = (
            (lowered["provider"] == reservation.provider)
            & (lowered["region"] == reservation.region)
            & (lowered["instance_type"] == reservation.instance_type)
        )
        matches = on_demand[mask]
        if matches.empty:
            notes.append(
                ReservationMatchesNoOffer(
                    reservation_id=reservation.reservation_id,
                    source=reservation.source,
                    provider=reservation.provider,
                    region=reservation.region,
                    instance_type=reservation.instance_type,
                )
            )
            continue
        row = matches.iloc[[0]].assign(
            price=reservation.price,
            capacity_type="reserved",
            capacity=reservation.count,
            interruption_rate=0.0,
            offers=1,
            reservation=reservation.reservation_id,
        )
        rows.append(row)
    if not rows:
        return pools.iloc[0:0], tuple(notes)
    return pd.concat(rows, ignore_index=True), tuple(notes)


def fleet_frame(instances: tuple[FleetInstance, ...]) -> pd.DataFrame:
    """Fleet instances as an offer-shaped frame (catalog columns), one row per instance record."""
    records = [
        {
            "provider": instance.provider,
            "instance_type": instance.instance_type,
            "region": instance.region,
            "price": instance.price,
            "cpu": instance.cpu,
            "memory_gb": instance.memory_gb,
            "gpu_count": instance.gpu_count,
            "gpu_name": instance.gpu_name,
            "gpu_memory_gb": instance.gpu_memory_gb,
            "spot": instance.spot,
            "disk_gb": instance.disk_gb,
            "gpu_vendor": instance.gpu_vendor,
            "flags": "",
            "cpu_arch": instance.cpu_arch,
            "provider_data": "",
            "fleet_count": instance.count if instance.idle else 0,
            "fleet_source": instance.source,
            "fleet_name": (instance.fleet or "").lower(),
        }
        for instance in instances
    ]
    frame = pd.DataFrame.from_records(
        records,
        columns=[*COLUMNS, "fleet_count", "fleet_source", "fleet_name"],
    )
    # The catalog's numeric dtypes (strings stay plain: Catalog.from_frame makes them categories).
    numeric = {name: dtype for name, dtype in COLUMNS.items() if dtype != "category"}
    return frame.astype({**numeric, "fleet_count": "int64"})


def existing_pools(matched_fleet: pd.DataFrame, by_fleet: bool = False) -> pd.DataFrame:
    """Idle fleet instances that satisfy the configuration, grouped into pools at their own price.

    ``matched_fleet`` is ``fleet_frame(...)`` narrowed to the rows that match the configuration.
    ``by_fleet``: one pool per dstack fleet too (column ``fleet_name``), so that replica groups
    whose ``fleets:`` differ see the same instances as the same pools (counted once).
    """
    idle = matched_fleet[matched_fleet["fleet_count"] > 0]
    if idle.empty:
        return idle.iloc[0:0]
    key = [*POOL_KEY, "price", *(["fleet_name"] if by_fleet else [])]
    grouped = (
        idle.groupby(key, observed=True, dropna=False, sort=True)["fleet_count"].sum().reset_index()
    )
    spot = grouped["spot"].to_numpy(dtype=bool)
    return grouped.rename(columns={"fleet_count": "capacity"}).assign(
        flags="",
        row_id=-1,
        capacity_type="existing",
        interruption_rate=np.where(spot, DEFAULT_SPOT_INTERRUPTION_RATE, 0.0),
        offers=grouped["fleet_count"].to_numpy(dtype=np.int64),
        reservation="",
    )


def failure_domains(pools: pd.DataFrame, failure_domain: FailureDomain) -> np.ndarray:
    """An integer failure-domain id per pool (same id = one preemption wave can hit both).

    ``region``: the (backend, region) — a zone's region for providers whose catalog lists zones
    (catalog/locations.py), so a region-wide wave is one wave; ``instance-type``: one spot market,
    (backend, location, instance type)."""
    if pools.empty:
        return np.zeros(0, dtype=np.int64)
    providers = _lower_values(pools, "provider")
    locations = _lower_values(pools, "region")
    if failure_domain == "instance-type":
        columns = {"provider": providers, "region": locations}
        columns["instance_type"] = _lower_values(pools, "instance_type")
    else:
        columns = {"provider": providers, "region": regions_of_locations(providers, locations)}
    lowered = pd.DataFrame(columns)
    return lowered.groupby(list(columns), sort=True).ngroup().to_numpy(dtype=np.int64)


def zone_ids(pools: pd.DataFrame) -> np.ndarray:
    """An integer id per (backend, zone) for pools whose location is a zone; -1 otherwise."""
    if pools.empty:
        return np.zeros(0, dtype=np.int64)
    providers = _lower_values(pools, "provider")
    locations = _lower_values(pools, "region")
    regions = regions_of_locations(providers, locations)
    zoned = regions != locations
    keys = np.char.add(np.char.add(providers.astype(str), "\x1f"), locations.astype(str))
    ids = np.full(len(pools), -1, dtype=np.int64)
    if zoned.any():
        ids[zoned] = np.unique(keys[zoned], return_inverse=True)[1].astype(np.int64)
    return ids


def domain_label(pool: Mapping[str, Any], failure_domain: FailureDomain) -> str:
    """``backend/region`` (a zone's region), or ``backend/location/instance type``."""
    provider, location = str(pool["provider"]), str(pool["region"])
    if failure_domain == "instance-type":
        return "/".join((provider, location, str(pool["instance_type"])))
    return f"{provider}/{region_of_location(provider, location)}"


def combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """All pools in one frame, with plain (object) string columns and a fresh index."""
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(
            columns=[
                *OFFER_COLUMNS,
                "capacity_type",
                "capacity",
                "interruption_rate",
                "offers",
                "reservation",
            ]
        )
    normalized = []
    for frame in frames:
        converted = frame.copy()
        for column in (
            "provider",
            "region",
            "instance_type",
            "gpu_name",
            "gpu_vendor",
            "cpu_arch",
            "flags",
            *DSTACK_OFFER_COLUMNS,
        ):
            if column in converted.columns and isinstance(
                converted[column].dtype, pd.CategoricalDtype
            ):
                converted[column] = converted[column].astype(object)
        normalized.append(converted)
    return pd.concat(normalized, ignore_index=True)
