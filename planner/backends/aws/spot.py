"""Spot prices: the latest ``describe_spot_price_history`` price per instance type and
availability zone, and per region the cheapest zone (the offer's price; its zone goes into the
offer's ``provider_data`` so a create lands there)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import pandas as pd

# The Linux price is the one the catalog lists (gpuhunt's AWS offers are Linux).
PRODUCT_DESCRIPTIONS: Final = ("Linux/UNIX", "Linux/UNIX (Amazon VPC)")
SPOT_COLUMNS: Final = ("instance_type", "region", "zone", "price")


def spot_prices(ec2: Any, region: str, instance_types: Sequence[str]) -> pd.DataFrame:
    """The cheapest zone's current spot price per instance type of ``region`` (SPOT_COLUMNS)."""
    if not instance_types:
        return pd.DataFrame(columns=list(SPOT_COLUMNS))
    pages = ec2.get_paginator("describe_spot_price_history").paginate(
        InstanceTypes=list(instance_types),
        ProductDescriptions=list(PRODUCT_DESCRIPTIONS),
        StartTime=datetime.now(UTC),
    )
    history = pd.DataFrame(
        [
            {
                "instance_type": item["InstanceType"],
                "zone": item["AvailabilityZone"],
                "price": float(item["SpotPrice"]),
                "timestamp": item.get("Timestamp"),
            }
            for page in pages
            for item in page.get("SpotPriceHistory", ())
        ],
        columns=["instance_type", "zone", "price", "timestamp"],
    )
    return cheapest_zone(history, region)


def cheapest_zone(history: pd.DataFrame, region: str) -> pd.DataFrame:
    """History rows → the latest price per (type, zone) → the cheapest zone per type."""
    if history.empty:
        return pd.DataFrame(columns=list(SPOT_COLUMNS))
    latest = history.sort_values("timestamp", kind="stable").drop_duplicates(
        ["instance_type", "zone"], keep="last"
    )
    cheapest = latest.sort_values(["price", "zone"], kind="stable").drop_duplicates(
        "instance_type", keep="first"
    )
    result = cheapest[["instance_type", "zone", "price"]].assign(region=region)
    return result[list(SPOT_COLUMNS)].reset_index(drop=True)
