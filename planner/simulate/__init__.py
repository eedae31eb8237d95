"""Simulated months of spot interruptions, to compare replica-management policies.

    from planner.simulate import ScenarioParams, compare, prepare
    prepared = prepare("examples/spot-retry.yml")          # markets, risk map, plan, 3 policies
    comparison = compare([prepared], {"advisor": ScenarioParams()}, seeds=range(20))
    comparison.summary()                                  # cost vs all on-demand, availability

See docs/simulation.md for the scenario model and the measured results.

The autoscaling cost envelope (a request-rate trace replayed through a service's scaling rule and
priced at the plan's cost per replica count) is ``load_traffic``, ``ScalingRule``,
``replay_scaling``, ``ReplicaPrices`` and ``cost_envelope``: docs/planning.md, "Autoscaling cost
envelope".
"""

from __future__ import annotations

from planner.simulate.autoscaling import (
    CostEnvelope,
    ReplicaPrices,
    ReplicaTimeline,
    ScalingRule,
    cost_envelope,
    replay_scaling,
)
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
from planner.simulate.traffic import TrafficTrace, TrafficTraces, load_traffic

__all__ = [
    "BUCKET_RANGES",
    "MINUTES_PER_MONTH",
    "AllOnDemand",
    "Comparison",
    "CostEnvelope",
    "Market",
    "MarketIndex",
    "PlanFallback",
    "Policy",
    "Prepared",
    "Replica",
    "ReplicaPrices",
    "ReplicaTimeline",
    "ScalingRule",
    "Scenario",
    "ScenarioParams",
    "Simulation",
    "SimulationResult",
    "Slot",
    "SpotHedge",
    "TrafficTrace",
    "TrafficTraces",
    "Wave",
    "assign_risk",
    "compare",
    "cost_envelope",
    "generate_scenario",
    "load_traffic",
    "markets_from_offers",
    "prepare",
    "replay_scaling",
    "run_prepared",
    "simulate",
]
