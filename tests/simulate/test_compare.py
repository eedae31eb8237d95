"""The comparison on a real service and the bundled catalog, over a short horizon."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.simulate import PlanFallback, Prepared, ScenarioParams, compare, prepare

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(EXAMPLES / "spot-retry.yml")


def test_plan_policy_starts_from_the_plans_placements(prepared: Prepared) -> None:
    plan = prepared.plan
    policy = next(p for p in prepared.policies if isinstance(p, PlanFallback))
    assert len(policy.slots) == plan.planned_replicas
    homes = sorted(prepared.markets[slot.home].price for slot in policy.slots)
    assert homes == sorted(p.hourly_price for p in plan.placements for _ in range(p.count))
    # The planner was told every spot market's bucket, so placements carry its rate.
    assert all(p.interruption_rate in (0.05, 0.10, 0.15, 0.20, 0.30) for p in plan.placements)


def test_every_policy_runs_on_the_same_scenarios(prepared: Prepared) -> None:
    params = ScenarioParams(horizon=3 * 24 * 60, rate_multiplier=20, shortage_per_month=8)
    comparison = compare([prepared], {"stress": params}, seeds=[0, 1])
    runs = comparison.runs
    assert len(runs) == 2 * len(prepared.policies)
    assert set(runs.groupby("seed")["policy"].nunique()) == {len(prepared.policies)}
    assert (runs["cost"] >= 0).all()
    on_demand = runs[runs["policy"] == "all on-demand"]
    assert (on_demand["availability"] == 1.0).all()
    summary = comparison.summary()
    baseline = summary[summary["policy"] == "all on-demand"]["relative_cost"]
    assert baseline.tolist() == [1.0]
