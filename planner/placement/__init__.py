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

from planner.placement.core import plan_offers
from planner.placement.group_plan import plan_groups
from planner.placement.group_result import GroupPlan, RpsStep
from planner.placement.input_files import load_capacity, load_fleet
from planner.placement.inputs import CapacityData, FleetInstance, FleetInventory, Reservation
from planner.placement.notes import PlanNote
from planner.placement.reasons import InfeasibleCause
from planner.placement.result import (
    HOURS_PER_MONTH,
    ConstraintReport,
    Exclusion,
    Fallback,
    Placement,
    Plan,
    PlanOptions,
    ScalingStep,
)
from planner.placement.service import plan

__all__ = [
    "HOURS_PER_MONTH",
    "CapacityData",
    "ConstraintReport",
    "Exclusion",
    "Fallback",
    "FleetInstance",
    "FleetInventory",
    "GroupPlan",
    "InfeasibleCause",
    "Placement",
    "Plan",
    "PlanNote",
    "PlanOptions",
    "Reservation",
    "RpsStep",
    "ScalingStep",
    "load_capacity",
    "load_fleet",
    "plan",
    "plan_groups",
    "plan_offers",
]
