"""The simulator's mechanics on tiny hand-computed scenarios: waves, fallbacks, exact accounting."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.simulate import (
    AllOnDemand,
    Market,
    PlanFallback,
    Policy,
    Replica,
    Scenario,
    Simulation,
    Slot,
    SpotHedge,
    Wave,
    simulate,
)

HORIZON = 1000


def spot(region: str, price: float, gpu: str = "L4") -> Market:
    return Market("aws", region, "g6.xlarge", True, price, 0.1, "10-15%", gpu, 1)


def on_demand(region: str, price: float, gpu: str = "L4") -> Market:
    return Market("aws", region, "g6.xlarge", False, price, 0.0, None, gpu, 1)


class Static:
    """Launches ``markets`` at minute 0 and never reacts: exposes the raw effect of waves."""

    def __init__(self, markets: Sequence[int], target: int) -> None:
        self.name = "static"
        self.target = target
        self.markets = tuple(markets)

    def reset(self) -> None:
        return None

    def react(
        self, sim: Simulation, interrupted: Sequence[Replica], became_ready: Sequence[Replica]
    ) -> int | None:
        if sim.minute == 0:
            for market in self.markets:
                assert sim.launch(market) is not None
        return None


def test_a_wave_removes_exactly_the_replicas_of_its_market() -> None:
    markets = [spot("us-east-1", 0.3), spot("us-west-2", 0.3), on_demand("us-east-1", 0.8)]
    scenario = Scenario.build(
        markets, horizon=HORIZON, waves=[Wave(minute=100, market=0, fraction=1.0)]
    )
    result = simulate(scenario, Static([0, 0, 1, 2], target=4))
    assert result.interruptions == 2
    # Two replicas in market 0 end at minute 100; the other market and on-demand keep running.
    assert np.all(result.ready_counts[:100] == 4)
    assert np.all(result.ready_counts[100:] == 2)
    assert result.cost == pytest.approx((0.3 * 100 * 2 + 0.3 * 1000 + 0.8 * 1000) / 60)


def test_a_partial_wave_takes_the_fraction_rounded_up() -> None:
    markets = [spot("us-east-1", 0.3)]
    scenario = Scenario.build(
        markets, horizon=HORIZON, waves=[Wave(minute=10, market=0, fraction=0.5)]
    )
    result = simulate(scenario, Static([0, 0, 0], target=3))
    assert result.interruptions == 2  # ceil(0.5 × 3)
    assert np.all(result.ready_counts[10:] == 1)
    assert Wave(0, 0, 0.01).victims(5) == 1  # a wave always takes someone
    assert Wave(0, 0, 1.0).victims(0) == 0


def test_all_on_demand_is_always_ready_and_costs_target_times_price() -> None:
    markets = [spot("us-east-1", 0.3), on_demand("us-east-1", 0.8), on_demand("eu-west-1", 0.7)]
    scenario = Scenario.build(
        markets, horizon=HORIZON, waves=[Wave(minute=5, market=0, fraction=1.0)]
    )
    result = simulate(scenario, AllOnDemand(markets, target=3))
    assert result.availability == 1.0
    assert result.interruptions == 0
    assert result.cost == pytest.approx(3 * 0.7 * HORIZON / 60)


def test_spot_hedge_on_demand_fills_in_until_spot_is_back() -> None:
    # Spot A (cheapest) is hit at 100; A and B are short of capacity until 200. On-demand C is
    # launched at 100 (ready at 110); the 5-minute retries reach spot again at 200 (ready 210),
    # and the on-demand replica is terminated as soon as spot is ready.
    markets = [spot("us-east-1", 0.3), spot("us-west-2", 0.35), on_demand("us-east-1", 0.9)]
    scenario = Scenario.build(
        markets,
        horizon=HORIZON,
        provisioning_minutes=10,
        waves=[Wave(minute=100, market=0, fraction=1.0)],
        shortages=[(0, 100, 200), (1, 100, 200)],
    )
    result = simulate(scenario, SpotHedge(markets, target=1, extra=0))
    expected = (0.3 * 100 + 0.9 * (210 - 100) + 0.3 * (HORIZON - 200)) / 60
    assert result.cost == pytest.approx(expected)
    assert np.all(result.ready_counts[:100] == 1)
    assert np.all(result.ready_counts[100:110] == 0)
    assert np.all(result.ready_counts[110:] == 1)
    assert result.availability == pytest.approx((HORIZON - 10) / HORIZON)
    assert result.minutes_below_target == 10
    assert result.launches == 3
    assert result.failed_launches > 0


def test_spot_hedge_spreads_over_unused_locations_of_one_accelerator() -> None:
    markets = [
        spot("us-east-1", 0.20),
        Market("aws", "us-east-1", "g6.2xlarge", True, 0.25, 0.1, None, "L4", 1),
        spot("us-west-2", 0.30),
        spot("eu-west-1", 0.10, gpu="A10G"),  # cheapest overall, but another accelerator
        spot("ap-south-1", 0.40),
        on_demand("us-east-1", 0.80),
        on_demand("us-east-1", 0.50, gpu="A10G"),
    ]
    scenario = Scenario.build(markets, horizon=HORIZON)
    simulation = Simulation(scenario=scenario)
    policy = SpotHedge(markets, target=2, extra=1)
    policy.reset()
    policy.react(simulation, [], [])
    # The cheapest spot market is A10G, so SkyServe places A10G: its only location is used,
    # then (every active location being used) shared by the other spot replicas.
    assert [r.market for r in simulation.replicas] == [3, 3, 3]
    scenario2 = Scenario.build(markets[:3] + markets[4:6], horizon=HORIZON)
    simulation2 = Simulation(scenario=scenario2)
    policy2 = SpotHedge(scenario2.markets, target=2, extra=1)
    policy2.reset()
    policy2.react(simulation2, [], [])
    # L4: us-east-1 at its cheapest type (never g6.2xlarge, same location), us-west-2, ap-south-1.
    assert [r.market for r in simulation2.replicas] == [0, 2, 3]


def test_plan_policy_follows_the_chain_and_returns_home() -> None:
    # Home A is hit at 100 and short until 300; the chain's spot B is short too, so the
    # replica goes to on-demand C (ready 110). Every 30 minutes the slot tries home again:
    # 130, 160, ..., 310 succeeds (ready 320), and C is terminated at 320.
    markets = [spot("us-east-1", 0.3), spot("us-west-2", 0.35), on_demand("us-east-1", 0.9)]
    scenario = Scenario.build(
        markets,
        horizon=HORIZON,
        provisioning_minutes=10,
        waves=[Wave(minute=100, market=0, fraction=1.0)],
        shortages=[(0, 100, 300), (1, 0, 400)],
    )
    slot = Slot(home=0, on_interruption=(1, 2), on_no_capacity=(1,))
    result = simulate(scenario, PlanFallback([slot], target=1))
    expected = (0.3 * 100 + 0.9 * (320 - 100) + 0.3 * (HORIZON - 310)) / 60
    assert result.cost == pytest.approx(expected)
    assert result.minutes_below_target == 10
    assert np.all(result.ready_counts[110:] == 1)
    assert result.launches == 3


def test_plan_policy_without_an_available_fallback_waits() -> None:
    markets = [spot("us-east-1", 0.3), spot("us-west-2", 0.35)]
    scenario = Scenario.build(
        markets,
        horizon=HORIZON,
        provisioning_minutes=10,
        waves=[Wave(minute=100, market=0, fraction=1.0)],
        shortages=[(0, 100, 150), (1, 0, HORIZON)],
    )
    slot = Slot(home=0, on_interruption=(1,), on_no_capacity=(1,))
    result = simulate(scenario, PlanFallback([slot], target=1))
    # Retries every 5 minutes from 100: home is back at 150, ready at 160.
    assert result.minutes_below_target == 60
    assert result.cost == pytest.approx((0.3 * 100 + 0.3 * (HORIZON - 150)) / 60)


def test_the_same_scenario_gives_the_same_result() -> None:
    markets = [spot("us-east-1", 0.3), spot("us-west-2", 0.35), on_demand("us-east-1", 0.9)]
    scenario = Scenario.build(
        markets,
        horizon=HORIZON,
        waves=[Wave(minute=100, market=0, fraction=1.0), Wave(minute=500, market=1, fraction=1.0)],
        shortages=[(0, 100, 300)],
    )
    policy = SpotHedge(markets, target=2, extra=1)
    first, second = simulate(scenario, policy), simulate(scenario, policy)
    assert first.cost == second.cost
    assert np.array_equal(first.ready_counts, second.ready_counts)


@settings(max_examples=40, deadline=None)
@given(
    waves=st.lists(
        st.tuples(st.integers(1, HORIZON - 1), st.integers(0, 2), st.sampled_from([0.3, 0.5, 1.0])),
        max_size=8,
    ),
    shortages=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, HORIZON), st.integers(1, 400)), max_size=6
    ),
    target=st.integers(1, 4),
)
def test_invariants_hold_on_random_scenarios(
    waves: list[tuple[int, int, float]], shortages: list[tuple[int, int, int]], target: int
) -> None:
    markets = [
        spot("us-east-1", 0.3),
        spot("us-west-2", 0.35),
        spot("eu-west-1", 0.4),
        on_demand("us-east-1", 0.9),
    ]
    scenario = Scenario.build(
        markets,
        horizon=HORIZON,
        waves=[Wave(minute, market, fraction) for minute, market, fraction in waves],
        shortages=[(market, start, start + length) for market, start, length in shortages],
    )
    slots = [
        Slot(home=index % 3, on_interruption=(1, 2, 3), on_no_capacity=(1, 2))
        for index in range(target + 1)
    ]
    policies: list[Policy] = [
        AllOnDemand(markets, target),
        SpotHedge(markets, target, extra=1),
        PlanFallback(slots, target),
    ]
    for policy in policies:
        result = simulate(scenario, policy)
        again = simulate(scenario, policy)
        assert result.cost == again.cost
        assert np.array_equal(result.ready_counts, again.ready_counts)
        assert result.cost >= 0
        assert result.ready_counts.min() >= 0
        assert result.ready_counts.max() <= result.launches
        # Only the on-demand baseline runs without spot; the others start on spot.
        assert (result.replica_minutes_spot == 0) == (policy is policies[0])
        assert result.interruptions <= len(waves) * (target + 2)
    on_demand_result = simulate(scenario, policies[0])
    # Nothing ever preempts on-demand and on-demand is never short here.
    assert on_demand_result.availability == 1.0
    assert on_demand_result.cost == pytest.approx(target * 0.9 * HORIZON / 60)


def test_spot_hedge_avoids_preempted_locations_until_fewer_than_two_stay_active() -> None:
    # Three L4 regions. A is hit at 100 (short until 110): the replacement goes to B, and stays
    # there after A recovers (no rebalancing). B is hit at 500: only C is active, so the
    # preempted set is reset and the replacement goes back to the cheapest, A.
    markets = [
        spot("us-east-1", 0.30),
        spot("us-west-2", 0.35),
        spot("eu-west-1", 0.40),
        on_demand("us-east-1", 0.90),
    ]
    scenario = Scenario.build(
        markets,
        horizon=HORIZON,
        waves=[Wave(100, 0, 1.0), Wave(500, 1, 1.0)],
        shortages=[(0, 100, 110), (1, 500, 510)],
    )
    policy = SpotHedge(markets, target=1, extra=0)
    result = simulate(scenario, policy)
    spot_launches = [
        (r.launch, r.market) for r in _replicas(scenario, policy) if markets[r.market].spot
    ]
    assert spot_launches == [(0, 0), (100, 1), (500, 0)]
    assert result.interruptions == 2


def _replicas(scenario: Scenario, policy: Policy) -> list[Replica]:
    """Replay ``scenario`` step by step as the engine does, keeping the replicas for inspection."""
    from planner.simulate.engine import Simulation as State

    recorded: list[Replica] = []

    class Recording:
        name = policy.name
        target = policy.target

        def reset(self) -> None:
            policy.reset()

        def react(
            self, sim: State, interrupted: Sequence[Replica], became_ready: Sequence[Replica]
        ) -> int | None:
            wake = policy.react(sim, interrupted, became_ready)
            recorded[:] = sim.replicas
            return wake

    simulate(scenario, Recording())
    return recorded
