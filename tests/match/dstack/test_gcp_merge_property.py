"""The vectorized GCP zone merge and Nebius rounding against a row-by-row reference (hypothesis).

The reference is the rule as docs/dstack-offers.md states it, written plainly over rows in
catalog order: keep the first row per (instance, spot, GPU name, region), collect every zone of
the key. Generated catalogs mix zones, GPU counts, prices with ties and unsupported types.
"""

from __future__ import annotations

import math
import sys
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from match_catalogs import make_catalog

from planner.config.dstack_settings import BackendSettings, DstackServerSettings
from planner.match.dstack import find_dstack_offers
from planner.requirements import Requirements

GCP_ONLY = DstackServerSettings(backends=(BackendSettings(type="gcp"),))
NEBIUS_ONLY = DstackServerSettings(backends=(BackendSettings(type="nebius"),))

gcp_rows = st.lists(
    st.fixed_dictionaries(
        {
            "provider": st.just("gcp"),
            "instance_type": st.sampled_from(["n1-standard-4", "g2-standard-8", "n1-standard-1"]),
            "region": st.sampled_from(
                ["us-central1-a", "us-central1-b", "europe-west4-a", "mars-west1-a"]
            ),
            "price": st.sampled_from([0.5, 0.7, 1.0, 1.5]),
            "spot": st.booleans(),
            "gpu_count": st.sampled_from([0, 1, 2, 4]),
        }
    ),
    max_size=25,
)


def _gpu(row: dict[str, Any]) -> dict[str, Any]:
    if row["gpu_count"] == 0:
        return row
    name = "L4" if row["instance_type"].startswith("g2") else "T4"
    return {**row, "gpu_name": name, "gpu_vendor": "nvidia", "gpu_memory_gb": 16.0}


def _reference_gcp(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    ordered = sorted(rows, key=lambda row: row["price"])  # the catalog's stable price order
    zones: dict[tuple[Any, ...], list[str]] = {}
    kept: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for row in ordered:
        region = row["region"][:-2]
        if region == "mars-west1":  # not one of dstack's GCP regions
            continue
        supported = row["instance_type"].startswith("g2-") or row.get("gpu_name") is not None
        if not supported:
            continue
        key = (row["instance_type"], row["spot"], row.get("gpu_name"), region)
        zones.setdefault(key, []).append(row["region"])
        if all(key != seen for seen, _ in kept):
            kept.append((key, row))
    return [
        (key[0], key[3], key[1], row["price"], row["gpu_count"], tuple(zones[key]))
        for key, row in kept
    ]


@settings(max_examples=60, deadline=None)
@given(gcp_rows)
def test_gcp_merge_matches_the_row_by_row_rule(rows: list[dict[str, Any]]) -> None:
    rows = [_gpu(row) for row in rows]
    expected = _reference_gcp(rows)
    found = find_dstack_offers(Requirements(), make_catalog(rows), GCP_ONLY).records()
    actual = [
        (
            offer["instance_type"],
            offer["region"],
            offer["spot"],
            offer["price"],
            offer["gpu_count"],
            tuple(offer["availability_zones"]),
        )
        for offer in found
    ]
    # dstack's order inside one backend: catalog order (price, then load order).
    assert actual == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.01, max_value=50, allow_nan=False).map(lambda x: round(x, 5)),
            st.sampled_from([0, 1, 2, 8]),
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_nebius_spot_rounding_and_merge_order(rows: list[tuple[float, int, bool]]) -> None:
    catalog_rows = [
        {
            "provider": "nebius",
            "instance_type": f"gpu-h100-sxm {count}gpu-{index}",
            "region": "eu-north1",
            "price": price,
            "spot": spot,
            "gpu_count": count,
            "gpu_name": "H100" if count else None,
            "gpu_vendor": "nvidia" if count else None,
            "gpu_memory_gb": 80.0 if count else None,
        }
        for index, (price, count, spot) in enumerate(rows)
    ]
    found = find_dstack_offers(Requirements(), make_catalog(catalog_rows), NEBIUS_ONLY).records()
    by_name = {row["instance_type"]: row for row in catalog_rows}
    for offer in found:
        row = by_name[offer["instance_type"]]
        units = max(row["gpu_count"], 1)
        expected = row["price"]
        if row["spot"]:
            per_unit = (Decimal(str(row["price"])) / units).quantize(
                Decimal("0.001"), rounding=ROUND_CEILING
            )
            expected = float(per_unit * units)
        assert math.isclose(offer["price"], expected, rel_tol=0, abs_tol=0)
    # One backend: the list keeps catalog order even where rounding unsorted it.
    catalog_order = sorted(catalog_rows, key=lambda row: row["price"])
    assert [offer["instance_type"] for offer in found] == [
        row["instance_type"] for row in catalog_order
    ]
