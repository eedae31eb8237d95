"""Live AWS offers: per region, the instance types (with their GPUs) joined with their on-demand
and spot prices, as rows of the offer table (``planner.catalog.columns.COLUMNS``).

What the provider can be asked narrowly is narrowed (regions, instance types, GPU names, spot or
not); every other requirement is left to the matcher, which sees these rows like any catalog's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner.backends.aws.instance_types import describe_machines
from planner.backends.aws.pricing import catalog_prices, pricing_api_prices
from planner.backends.aws.spot import spot_prices
from planner.catalog.columns import COLUMNS

if TYPE_CHECKING:
    from planner.backends.aws.session import Clients
    from planner.requirements import Requirements


def live_frame(clients: Clients, requirements: Requirements) -> pd.DataFrame:
    """Every live offer of the configured regions that ``requirements`` may match."""
    frames = [
        _region_offers(clients, region, requirements) for region in _regions(clients, requirements)
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in COLUMNS})
    return pd.concat(frames, ignore_index=True)[list(COLUMNS)]


def _regions(clients: Clients, requirements: Requirements) -> list[str]:
    if requirements.providers is not None and "aws" not in requirements.providers:
        return []  # nothing of AWS can match: no query at all
    configured = list(clients.settings.regions)
    if requirements.regions is None:
        return configured
    wanted = {region.lower() for region in requirements.regions}
    return [region for region in configured if region.lower() in wanted]


def _region_offers(clients: Clients, region: str, requirements: Requirements) -> pd.DataFrame:
    with clients.errors():
        ec2 = clients.ec2(region)
        gpu_only = clients.settings.gpu_only and not _cpu_only(requirements)
        wanted_types = [name.lower() for name in requirements.instance_types or ()]
        patterns = wanted_types or (clients.settings.gpu_instance_types if gpu_only else None)
        machines = describe_machines(ec2, gpu_only=gpu_only, instance_types=patterns)
        if requirements.gpu_names is not None:
            names = {name.lower() for name in requirements.gpu_names}
            machines = machines[machines["gpu_name"].str.lower().isin(names).fillna(False)]
        if machines.empty:
            return machines
        types = machines["instance_type"].tolist()
        parts = []
        if requirements.spot is not True:
            parts.append(_on_demand(clients, region, types).assign(spot=False, provider_data=""))
        if requirements.spot is not False:
            spot_types = machines.loc[machines["spot_supported"], "instance_type"].tolist()
            spot = spot_prices(ec2, region, spot_types)
            spot["provider_data"] = [json.dumps({"zone": zone}) for zone in spot["zone"]]
            parts.append(spot.drop(columns="zone").assign(spot=True))
    prices = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if prices.empty:
        return prices
    offers = prices.merge(machines.drop(columns="spot_supported"), on="instance_type")
    return offers.assign(provider="aws", flags="")


def _on_demand(clients: Clients, region: str, types: list[str]) -> pd.DataFrame:
    if clients.settings.on_demand_prices == "catalog":
        return catalog_prices([region], types)
    pricing: Any = clients.pricing()
    return pricing_api_prices(pricing, region, types)


def _cpu_only(requirements: Requirements) -> bool:
    """Whether the requirements admit CPU-only machines (then GPU-less types are listed too)."""
    return (
        requirements.min_gpu_count is not None
        and requirements.min_gpu_count == 0
        and (requirements.max_gpu_count == 0)
    )
