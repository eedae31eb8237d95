"""Simulated months of spot interruptions, to compare replica-management policies.

    from planner.simulate import ScenarioParams, compare, prepare
    prepared = prepare("examples/spot-retry.yml")          # markets, risk map, plan, 3 policies
    comparison = compare([prepared], {"advisor": ScenarioParams()}, seeds=range(20))
    comparison.summary()                                  # cost vs all on-demand, availability

See docs/simulation.md for the scenario model and the measured results.
"""

from __future__ import annotations

from planner.simulate.compare import Comparison, Prepared, compare, prepare, run_prepared
from planner.simulate.engine import Policy, Replica, Simulation, SimulationResult, simulate
from planner.simulate.policies import AllOnDemand, PlanFallback, Slot, SpotHedge
from planner.simulate.scenario import (
    BUCKET_RANGES,
    MINUTES_PER_MONTH,
    Market,
    MarketIndex,
    Scenario,
    ScenarioParams,
    Wave,
    assign_risk,
    generate_scenario,
    markets_from_offers,
)

__all__ = [
    "BUCKET_RANGES",
    "MINUTES_PER_MONTH",
    "AllOnDemand",
    "Comparison",
    "Market",
    "MarketIndex",
    "PlanFallback",
    "Policy",
    "Prepared",
    "Replica",
    "Scenario",
    "ScenarioParams",
    "Simulation",
    "SimulationResult",
    "Slot",
    "SpotHedge",
    "Wave",
    "assign_risk",
    "compare",
    "generate_scenario",
    "markets_from_offers",
    "prepare",
    "run_prepared",
    "simulate",
]
