"""Catalog locations: GCP zones belong to a region; other providers' locations are regions."""

from __future__ import annotations

import numpy as np

from planner.catalog.locations import region_of_location, regions_of_locations, zone_of_location


def test_gcp_zone_belongs_to_its_region() -> None:
    assert region_of_location("gcp", "us-central1-a") == "us-central1"
    assert region_of_location("gcp", "europe-west4-b") == "europe-west4"
    assert zone_of_location("gcp", "us-central1-a") == "us-central1-a"


def test_region_providers_keep_their_location() -> None:
    assert region_of_location("aws", "us-east-1") == "us-east-1"
    assert region_of_location("runpod", "CA-MTL-1") == "CA-MTL-1"
    assert zone_of_location("aws", "us-east-1") is None


def test_columns_match_the_scalar_rule() -> None:
    providers = ["gcp", "aws", "gcp", "gcp", "lambdalabs"]
    locations = ["us-east1-b", "us-east-1", "us-east1-c", "asia-east1-a", "us-east-1"]
    regions = regions_of_locations(providers, locations)
    expected = [region_of_location(p, loc) for p, loc in zip(providers, locations, strict=True)]
    assert list(regions) == expected
    assert list(regions_of_locations(np.array([]), np.array([]))) == []


def test_region_level_gcp_location_is_its_own_region() -> None:
    # A gcp location without a zone letter is a region: it must not lose two characters.
    assert region_of_location("gcp", "us-central1") == "us-central1"
    assert zone_of_location("gcp", "us-central1") is None
    assert region_of_location("GCP", "europe-west4") == "europe-west4"
    assert region_of_location("gcp", "us-central1-f") == "us-central1"
    # Not a single letter after the last dash: not a zone.
    assert region_of_location("gcp", "us-central1-ab") == "us-central1-ab"
    assert region_of_location("gcp", "-a") == "-a"
    regions = regions_of_locations(["gcp", "gcp"], ["us-central1", "us-central1-b"])
    assert list(regions) == ["us-central1", "us-central1"]
