"""Optimal replica placement: ``plan(config, catalog, ...) -> Plan``.

The cheapest placement of a service's replicas over the matching offers, solved exactly with
OR-Tools CP-SAT (one integer count per pool of identical offers), honouring the service's
``spot_policy``, ``retry``, ``reservation``, ``creation_policy``, ``max_price``, and the planning
knobs of ``PlanOptions`` (availability target, spread per failure domain, on-demand floor, hourly
budget, time limit). See docs/planning.md for the model.

    import planner
    result = planner.plan("service.yml", planner.Catalog.load(), fleet="fleet.yml",
                          capacity="capacity.csv", options=planner.PlanOptions(budget_hourly=40))
    result.status, result.hourly_cost, result.placements[0].fallbacks_for("interruption")

For an offer table that is not a ``Catalog`` (a simulation, a generator), ``plan_offers`` takes a
frame of already-matching offers with the catalog columns.
"""

from __future__ import annotations

import os
import sys
import types
from typing import TYPE_CHECKING, Any

from planner.plan.core import plan_offers
from planner.plan.inputs import (
    CapacityData,
    FleetInstance,
    FleetInventory,
    Reservation,
    load_capacity,
    load_fleet,
)
from planner.plan.result import (
    HOURS_PER_MONTH,
    ConstraintReport,
    Exclusion,
    Fallback,
    Placement,
    Plan,
    PlanOptions,
    ScalingStep,
)

if TYPE_CHECKING:
    import pandas as pd

    from planner.catalog import Catalog
    from planner.config import LoadedConfig
    from planner.config.normalized import NormalizedService

__all__ = [
    "HOURS_PER_MONTH",
    "CapacityData",
    "ConstraintReport",
    "Exclusion",
    "Fallback",
    "FleetInstance",
    "FleetInventory",
    "Placement",
    "Plan",
    "PlanOptions",
    "Reservation",
    "ScalingStep",
    "load_capacity",
    "load_fleet",
    "plan",
    "plan_offers",
]


def _service(
    config: LoadedConfig | NormalizedService | str | os.PathLike[str],
) -> NormalizedService:
    from planner.config.normalized import NormalizedService

    if isinstance(config, NormalizedService):
        return config
    if isinstance(config, str | os.PathLike):
        from planner.config import load_config

        return load_config(config).normalized
    return config.normalized


def plan(
    config: LoadedConfig | NormalizedService | str | os.PathLike[str],
    catalog: Catalog | None = None,
    *,
    fleet: FleetInventory | str | os.PathLike[str] | None = None,
    capacity: CapacityData | str | os.PathLike[str] | None = None,
    options: PlanOptions | None = None,
) -> Plan:
    """The cheapest placement of ``config``'s replicas over ``catalog`` (default: bundled).

    ``fleet``: existing instances (a ``FleetInventory`` or a YAML/JSON file path).
    ``capacity``: obtainable counts, spot interruption buckets and reservations (a
    ``CapacityData`` or a CSV/YAML file path). Bad files raise ``InputError`` (file:line: field).
    A plan that cannot exist is returned with ``status == "infeasible"`` and the reason; it is not
    an exception.
    """
    from planner.catalog import Catalog
    from planner.match import find_offers

    service = _service(config)
    if catalog is None:
        catalog = Catalog.load()
    if isinstance(capacity, str | os.PathLike):
        capacity = load_capacity(capacity)
    if isinstance(fleet, str | os.PathLike):
        fleet = load_fleet(fleet)
    # The model applies spot_policy and max_price itself, so explain can price relaxing them.
    relaxed = service.model_copy(update={"spot_policy": "auto", "max_price": None})
    offers = find_offers(relaxed, catalog)
    matched_fleet = _matched_fleet(fleet, relaxed) if fleet is not None else None
    exclusions = tuple(
        Exclusion(
            reason=item.requirement,
            excluded=item.excluded,
            cheapest_excluded_price=item.cheapest_excluded_price,
        )
        for item in offers.exclusions
        if item.excluded
    )
    notes = []
    if fleet is not None and fleet.instances and matched_fleet is not None:
        busy = sum(instance.count for instance in fleet.instances if not instance.idle)
        notes.append(
            f"fleet: {int(matched_fleet['fleet_count'].sum())} of {fleet.idle_count} idle "
            "instance(s) satisfy the configuration"
            + (f" ({busy} busy instance(s) are never planned on)" if busy else "")
        )
    if service.creation_policy == "reuse" and fleet is None:
        notes.append(
            "creation_policy: reuse places replicas only on idle fleet instances, and no fleet "
            "inventory was given (--fleet)"
        )
    return plan_offers(
        offers.frame,
        service,
        matched_fleet=matched_fleet,
        capacity=capacity,
        options=options,
        exclusions=exclusions,
        notes=notes,
    )


def _matched_fleet(fleet: FleetInventory, service: NormalizedService) -> pd.DataFrame:
    """The fleet's instance records that satisfy the configuration, via the offer matcher."""
    from planner.catalog import Catalog
    from planner.match import find_offers
    from planner.plan.pools import fleet_frame

    frame = fleet_frame(fleet.instances)
    if frame.empty:
        return frame
    # A stable price sort first, so the catalog's row order (row_id) is this frame's order.
    frame = frame.sort_values("price", kind="stable").reset_index(drop=True)
    fleet_catalog = Catalog.from_frame(frame.drop(columns=["fleet_count", "fleet_source"]))
    matched = find_offers(service, fleet_catalog)
    row_ids = matched.frame["row_id"].to_numpy()
    return frame.iloc[row_ids].reset_index(drop=True)


class _CallablePlanModule(types.ModuleType):
    """Makes ``planner.plan(...)`` work even after ``import planner.plan``.

    Importing this subpackage sets the attribute ``planner.plan`` to the module, shadowing the
    function the top-level package exports under the same name; calling the module calls ``plan``.
    """

    def __call__(
        self,
        config: LoadedConfig | NormalizedService | str | os.PathLike[str],
        catalog: Catalog | None = None,
        **kwargs: Any,
    ) -> Plan:
        return plan(config, catalog, **kwargs)


sys.modules[__name__].__class__ = _CallablePlanModule
