"""``plan(config, catalog, ...)``: a service's configuration, fleet and capacity files → ``Plan``.

Matches the catalog (and the fleet) against the configuration, then plans over the matching
offers with ``plan_offers``. See docs/planning.md.
"""

from __future__ import annotations

import os
from dataclasses import replace

from planner.catalog import Catalog
from planner.config import LoadedConfig
from planner.config.dstack_settings import DstackServerSettings
from planner.config.load import service_argument
from planner.config.normalized import NormalizedService
from planner.match import find_offers
from planner.match.dstack import server_settings
from planner.match.group_offers import has_groups
from planner.placement.core import plan_offers
from planner.placement.explain import matcher_exclusions
from planner.placement.fleet_match import matched_fleet as matched_fleet_rows
from planner.placement.group_plan import plan_groups
from planner.placement.input_files import load_capacity, load_fleet
from planner.placement.inputs import CapacityData, FleetInventory
from planner.placement.notes import FleetMatched, FleetsUnchecked, PlanNote, ReuseWithoutFleet
from planner.placement.result import Plan, PlanOptions
from planner.placement.unmatched import unmatched_rows
from planner.requirements import group_requirements, sized_disk_gb


def plan(
    config: LoadedConfig | NormalizedService | str | os.PathLike[str],
    catalog: Catalog | None = None,
    *,
    fleet: FleetInventory | str | os.PathLike[str] | None = None,
    capacity: CapacityData | str | os.PathLike[str] | None = None,
    options: PlanOptions | None = None,
    rows: bool = False,
    dstack_config: DstackServerSettings | str | os.PathLike[str] | None = None,
) -> Plan:
    """The cheapest placement of ``config``'s replicas over ``catalog`` (default: bundled).

    Plans on the offers a dstack server shows (``find_offers``: a GCP region's zones are its
    offer's availability zones, the region is the failure domain); ``rows=True`` plans on the
    catalog rows; ``dstack_config`` is the server's config (only its backends answer).

    ``fleet``: existing instances (a ``FleetInventory`` or a YAML/JSON file path).
    ``capacity``: obtainable counts, spot interruption buckets and reservations (a
    ``CapacityData`` or a CSV/YAML file path). Bad files raise ``InputError`` (file:line: field).
    A plan that cannot exist is returned with ``status == "infeasible"`` and the reason; it is not
    an exception.
    """
    loaded = service_argument(config, "plan")  # another type: a ConfigError saying so
    service = loaded if isinstance(loaded, NormalizedService) else loaded.normalized
    groups = group_requirements(loaded)
    if catalog is None:
        catalog = Catalog.load()
    if isinstance(capacity, str | os.PathLike):
        capacity = load_capacity(capacity)
    if isinstance(fleet, str | os.PathLike):
        fleet = load_fleet(fleet)
    if has_groups(groups) or (options is not None and options.rps is not None):
        return plan_groups(
            groups,
            catalog,
            service=service,
            capacity=capacity,
            options=options,
            rows=rows,
            dstack_config=server_settings(dstack_config),
            fleet=fleet,
        )
    # The model applies spot_policy and max_price itself, so explain can price relaxing them.
    relaxed = service.model_copy(update={"spot_policy": "auto", "max_price": None})
    offers = find_offers(relaxed, catalog, rows=rows, dstack_config=dstack_config)
    matched_fleet = (
        matched_fleet_rows(fleet, relaxed, relaxed.fleets) if fleet is not None else None
    )
    exclusions = matcher_exclusions(offers.exclusions)
    notes: list[PlanNote] = []
    if fleet is not None and fleet.instances and matched_fleet is not None:
        busy = sum(instance.count for instance in fleet.instances if not instance.idle)
        matched = int(matched_fleet["fleet_count"].sum())
        notes.append(FleetMatched(matched=matched, idle=fleet.idle_count, busy=busy))
    if service.creation_policy == "reuse" and fleet is None:
        notes.append(ReuseWithoutFleet())
    if service.fleets is not None and fleet is None:
        notes.append(FleetsUnchecked(fleets=service.fleets))
    notes.extend(unmatched_rows(catalog, capacity, fleet, offers.catalog))
    result = plan_offers(
        offers.frame,
        service,
        matched_fleet=matched_fleet,
        capacity=capacity,
        options=options,
        exclusions=exclusions,
        notes=notes,
    )
    return replace(result, sized_disk_gb=sized_disk_gb(offers.requirements))
