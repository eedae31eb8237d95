"""Catalog locations: which are regions and which are zones inside a region.

Most providers' catalogs list regions. GCP's lists zones (``us-central1-a``): the region is the zone
without its last two characters (``-a``), the same rule dstack's GCP backend uses to match a zone
against a configured region. Only a location that ends in ``-<one letter>`` is a zone: a
region-level location (``us-central1``, as a capacity or fleet file may name it) is its own region. A region is the unit a provider reclaims spot capacity in and the
failure domain a plan spreads over; zones are the finer level inside it (docs/planning.md).
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import numpy.typing as npt

# Providers whose catalog ``location`` may be a zone: region = the zone minus its ``-<letter>``.
ZONE_LOCATION_PROVIDERS: Final[frozenset[str]] = frozenset({"gcp"})
_ZONE_SUFFIX_LENGTH: Final = 2
# A zone is its region plus "-" and one letter (us-central1-a); anything else is a region.
_ZONE: Final = re.compile(r".+-[A-Za-z]")


def _is_zone(provider: str, location: str) -> bool:
    return provider.lower() in ZONE_LOCATION_PROVIDERS and _ZONE.fullmatch(location) is not None


def region_of_location(provider: str, location: str) -> str:
    """The region a catalog location belongs to (the location itself unless it is a zone)."""
    if _is_zone(provider, location):
        return location[:-_ZONE_SUFFIX_LENGTH]
    return location


def zone_of_location(provider: str, location: str) -> str | None:
    """The zone a catalog location names, or ``None`` when the location is a region."""
    if _is_zone(provider, location):
        return location
    return None


def regions_of_locations(
    providers: npt.ArrayLike, locations: npt.ArrayLike
) -> npt.NDArray[np.object_]:
    """``region_of_location`` over columns; works on the distinct (provider, location) pairs only."""
    provider_array = np.asarray(providers, dtype=object)
    location_array = np.asarray(locations, dtype=object)
    if provider_array.shape != location_array.shape:
        raise ValueError("providers and locations must have the same length")
    if provider_array.size == 0:
        return np.empty(0, dtype=object)
    pairs = np.char.add(np.char.add(provider_array.astype(str), "\x1f"), location_array.astype(str))
    distinct, inverse = np.unique(pairs, return_inverse=True)
    mapped = np.empty(distinct.size, dtype=object)
    for index, pair in enumerate(distinct):  # one pass per distinct location, not per row
        provider, _, location = str(pair).partition("\x1f")
        mapped[index] = region_of_location(provider, location)
    return mapped[inverse]
