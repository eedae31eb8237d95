"""Pricing one service file: load it, plan it, and turn the `Plan` into a `ServiceCost`.

Identical requirements are planned once per report (``PlanCache``): a repository with many copies
of one service shape pays for one solve, and a bridge plan (a new configuration on the baseline
catalog) reuses the plans already made there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from planner.catalog import Catalog
from planner.config import LoadedConfig, load_config
from planner.config.dstack_settings import DstackServerSettings
from planner.config.normalized import NormalizedService
from planner.cost_report.files import ServiceFile
from planner.cost_report.model import CatalogIdentity, PlacementLine, ServiceCost
from planner.cost_report.money import hourly_usd
from planner.placement import CapacityData, FleetInventory, Plan, PlanOptions, plan


def config_hash(service: NormalizedService) -> str:
    """sha256 of the normalized configuration, env values left out (secrets; no cost effect)."""
    return _digest(_normalized_json(service, for_identity=True))


def catalog_identity(catalog: Catalog) -> CatalogIdentity:
    """The catalog's sources and a fingerprint of its rows (hashed column by column, vectorized)."""
    frame = catalog.frame.drop(columns=["row_id"], errors="ignore")
    row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    header = json.dumps(list(frame.columns)).encode()
    fingerprint = hashlib.sha256(header + row_hashes.tobytes()).hexdigest()
    return CatalogIdentity(
        fingerprint=f"sha256:{fingerprint}", as_of=catalog.as_of, sources=catalog.sources
    )


# What a service runs and how it is reached: no bearing on which offers match or where replicas
# go (checked against what planner/requirements.py, match/ and placement/ read). Every other
# field stays in the plan cache's key, so a field added later is never wrongly shared.
_NOT_PLANNED = frozenset(
    {
        "name",
        "env",
        "commands",
        "entrypoint",
        "working_dir",
        "user",
        "port",
        "model",
        "gateway",
        "https",
        "auth",
        "registry_auth",
    }
)


def _normalized_json(service: NormalizedService, *, for_identity: bool) -> str:
    data: dict[str, Any] = service.model_dump(mode="json")
    data["env"] = sorted(data.get("env") or {})  # the names only
    if not for_identity:
        data = {key: value for key, value in data.items() if key not in _NOT_PLANNED}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class PlanCache:
    """Plans of one report, keyed by catalog and what the planner reads of a configuration.

    Lives for one ``report()`` call only (no module-level state).
    """

    fleet: FleetInventory | None
    capacity: CapacityData | None
    options: PlanOptions
    rows: bool = False  # plan on catalog rows instead of dstack-level offers
    dstack_config: DstackServerSettings | None = None  # the server whose backends answer
    _plans: dict[tuple[int, str], Plan] = field(default_factory=dict)

    def plan(self, service: NormalizedService, catalog: Catalog) -> Plan:
        key = (id(catalog), _digest(_normalized_json(service, for_identity=False)))
        cached = self._plans.get(key)
        if cached is None:
            cached = plan(
                service,
                catalog,
                fleet=self.fleet,
                capacity=self.capacity,
                options=self.options,
                rows=self.rows,
                dstack_config=self.dstack_config,
            )
            self._plans[key] = cached
        return cached


@dataclass(frozen=True)
class LoadedService:
    file: ServiceFile
    config: LoadedConfig


def load_services(files: tuple[ServiceFile, ...]) -> tuple[LoadedService, ...]:
    """Every file loaded before any planning, so a broken file fails fast (exit 2), named."""
    return tuple(LoadedService(file=item, config=load_config(item.path)) for item in files)


def service_cost(loaded: LoadedService, catalog: Catalog, cache: PlanCache) -> ServiceCost:
    service = loaded.config.normalized
    result = cache.plan(service, catalog)
    feasible = result.feasible
    at_min = result.scaling[0].hourly_cost if result.scaling else result.hourly_cost
    at_max = result.scaling[-1].hourly_cost if result.scaling else result.hourly_cost
    return ServiceCost(
        key=loaded.file.key,
        file=str(loaded.file.path),
        name=service.name,
        config_hash=config_hash(service),
        status=result.status,
        replicas_min=result.replicas_min,
        replicas_max=result.replicas_max,
        hourly_cost=hourly_usd(result.hourly_cost) if feasible else None,
        cost_at_min=hourly_usd(at_min) if feasible else None,
        cost_at_max=hourly_usd(at_max) if feasible else None,
        placements=tuple(_placement_lines(result)),
        infeasible_reason=", ".join(result.infeasible_constraints) or None,
        infeasible_causes=result.infeasible_causes,
    )


def _placement_lines(result: Plan) -> list[PlacementLine]:
    lines = []
    for placement in result.placements:
        offer = placement.offer
        price = hourly_usd(placement.hourly_price)
        assert price is not None
        lines.append(
            PlacementLine(
                backend=str(offer["backend"]),
                region=str(offer["region"]),
                instance_type=str(offer["instance_type"]),
                capacity_type=placement.capacity_type,
                count=placement.count,
                hourly_price=price,
                gpu_name=offer.get("gpu_name") or None,
                gpu_count=int(offer.get("gpu_count") or 0),
            )
        )
    return lines
