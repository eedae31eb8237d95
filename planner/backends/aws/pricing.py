"""On-demand prices: the Pricing API (``get_products`` of AmazonEC2, Linux, shared tenancy, no
pre-installed software), or the bundled catalog's AWS on-demand rows for an endpoint that has no
Pricing API (setting ``on_demand_prices: catalog``; moto is one)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import pandas as pd

PRICE_COLUMNS: Final = ("instance_type", "region", "price")
# The attributes that pick the one Linux on-demand price of an instance type in a region.
_FIXED_FILTERS: Final[Mapping[str, str]] = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
    "licenseModel": "No License required",
}


def product_filters(region: str, instance_types: Sequence[str]) -> list[dict[str, str]]:
    """The ``get_products`` filters for ``instance_types`` in ``region`` (one request)."""
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    filters += [
        {"Type": "TERM_MATCH", "Field": field, "Value": value}
        for field, value in _FIXED_FILTERS.items()
    ]
    filters.append({"Type": "ANY_OF", "Field": "instanceType", "Value": ",".join(instance_types)})
    return filters


def pricing_api_prices(pricing: Any, region: str, instance_types: Sequence[str]) -> pd.DataFrame:
    """On-demand USD/hour per instance type of ``region`` from the Pricing API (PRICE_COLUMNS)."""
    if not instance_types:
        return pd.DataFrame(columns=list(PRICE_COLUMNS))
    pages = pricing.get_paginator("get_products").paginate(
        ServiceCode="AmazonEC2",
        Filters=product_filters(region, instance_types),
        FormatVersion="aws_v1",
    )
    rows = [
        row
        for page in pages
        for document in page.get("PriceList", ())
        if (row := price_of_product(document)) is not None
    ]
    return pd.DataFrame(rows, columns=list(PRICE_COLUMNS))


def price_of_product(document: str | Mapping[str, Any]) -> dict[str, Any] | None:
    """One price-list product (JSON text) → {instance_type, region, price}; None without a
    positive hourly USD on-demand price."""
    product = json.loads(document) if isinstance(document, str) else document
    attributes = product.get("product", {}).get("attributes", {})
    instance_type, region = attributes.get("instanceType"), attributes.get("regionCode")
    if not instance_type or not region:
        return None
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if dimension.get("unit") in ("Hrs", "Hours") and usd is not None and float(usd) > 0:
                return {"instance_type": instance_type, "region": region, "price": float(usd)}
    return None


def catalog_prices(regions: Iterable[str], instance_types: Sequence[str]) -> pd.DataFrame:
    """The bundled catalog's AWS on-demand prices of ``instance_types`` in ``regions``."""
    from planner.catalog.table import Catalog

    frame = Catalog.bundled().frame
    mask = (
        (frame["provider"] == "aws")
        & ~frame["spot"]
        & frame["region"].isin(list(regions))
        & frame["instance_type"].isin(list(instance_types))
    )
    prices = frame.loc[mask, list(PRICE_COLUMNS)].astype(
        {"instance_type": str, "region": str, "price": float}
    )
    return prices.drop_duplicates(["instance_type", "region"]).reset_index(drop=True)
