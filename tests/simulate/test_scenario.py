"""Scenario generation: determinism, calibration of wave rates, shortage look-ups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.simulate import (
    BUCKET_RANGES,
    MINUTES_PER_MONTH,
    Market,
    Scenario,
    ScenarioParams,
    assign_risk,
    generate_scenario,
    markets_from_offers,
)
from planner.simulate.scenario import Shortages


def spot_markets(count: int, rate: float, regions: int | None = None) -> list[Market]:
    regions = regions or count
    return [
        Market("aws", f"r{index % regions}", f"t{index}", True, 1.0, rate) for index in range(count)
    ] + [Market("aws", "r0", "t0", False, 3.0)]


def test_generation_is_deterministic_per_seed() -> None:
    markets = spot_markets(50, 0.3)
    params = ScenarioParams(rate_multiplier=5)
    first, again = generate_scenario(markets, params, 7), generate_scenario(markets, params, 7)
    other = generate_scenario(markets, params, 8)
    assert first.waves == again.waves
    assert np.array_equal(first.unavailable_fraction(), again.unavailable_fraction())
    assert first.waves != other.waves


def test_waves_hit_only_spot_markets_and_stay_in_the_horizon() -> None:
    markets = spot_markets(40, 0.4, regions=5)
    scenario = generate_scenario(markets, ScenarioParams(rate_multiplier=10), 1)
    assert scenario.waves
    on_demand = len(markets) - 1
    assert all(wave.market != on_demand for wave in scenario.waves)
    assert all(0 <= wave.minute < MINUTES_PER_MONTH for wave in scenario.waves)
    assert all(0.5 <= wave.fraction <= 1.0 for wave in scenario.waves)
    # On-demand is always obtainable by default.
    assert scenario.unavailable_fraction()[on_demand] == 0.0


def test_wave_rate_matches_the_monthly_interruption_rate() -> None:
    # Expected share of a market's instances taken per month = rate × multiplier.
    rate, multiplier, count = 0.2, 3.0, 4000
    markets = spot_markets(count, rate)
    params = ScenarioParams(rate_multiplier=multiplier, region_wave_probability=0.0)
    scenario = generate_scenario(markets, params, 3)
    taken = sum(wave.fraction for wave in scenario.waves) / count
    assert taken == pytest.approx(rate * multiplier, rel=0.05)


def test_region_wide_waves_hit_every_spot_market_of_the_region() -> None:
    markets = spot_markets(12, 0.3, regions=3)  # 4 instance types per region
    params = ScenarioParams(rate_multiplier=30, region_wave_probability=1.0)
    scenario = generate_scenario(markets, params, 5)
    by_minute: dict[tuple[int, float], set[int]] = {}
    for wave in scenario.waves:
        by_minute.setdefault((wave.minute, wave.fraction), set()).add(wave.market)
    assert by_minute
    for hit in by_minute.values():
        regions = {markets[index].region for index in hit}
        assert len(regions) == 1
        assert len(hit) == 4


def test_a_region_wide_wave_hits_every_zone_of_a_gcp_region() -> None:
    # gcp's catalog locations are zones: a region-wide reclaim takes all of us-central1's zones
    # at once (and the region-level location "us-central1" with them), never us-east1's.
    zones = ["us-central1-a", "us-central1-b", "us-central1-c", "us-central1", "us-east1-b"]
    markets = [Market("gcp", zone, "g2-standard-4", True, 1.0, 0.3) for zone in zones]
    params = ScenarioParams(rate_multiplier=30, region_wave_probability=1.0)
    scenario = generate_scenario(markets, params, 11)
    by_minute: dict[tuple[int, float], set[str]] = {}
    for wave in scenario.waves:
        by_minute.setdefault((wave.minute, wave.fraction), set()).add(zones[wave.market])
    assert by_minute
    central, east = set(zones[:4]), {"us-east1-b"}
    assert all(hit in (central, east) for hit in by_minute.values())
    assert central in by_minute.values()


def test_a_hit_market_is_short_after_the_wave() -> None:
    markets = spot_markets(30, 0.4)
    params = ScenarioParams(rate_multiplier=10, shortage_per_month=0.0)
    scenario = generate_scenario(markets, params, 11)
    assert scenario.waves
    # Exponential post-wave shortages are at least one minute long (rounded up).
    assert all(not scenario.available(wave.market, wave.minute) for wave in scenario.waves)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(-5, 60), st.integers(0, 70)),
        max_size=12,
    )
)
def test_shortage_lookup_agrees_with_a_dense_mask(items: list[tuple[int, int, int]]) -> None:
    horizon = 50
    dense = np.zeros((4, horizon), dtype=bool)
    for market, start, end in items:
        dense[market, max(start, 0) : max(min(end, horizon), 0)] = True
    shortages = Shortages.of(
        horizon,
        np.array([item[0] for item in items], dtype=np.int64),
        np.array([item[1] for item in items], dtype=np.int64),
        np.array([item[2] for item in items], dtype=np.int64),
    )
    for market in range(4):
        for minute in range(horizon):
            assert shortages.available(market, minute) == (not dense[market, minute])
    assert np.array_equal(shortages.unavailable_minutes(4), dense.sum(axis=1))


def test_build_rejects_waves_on_on_demand_markets() -> None:
    markets = [Market("aws", "r", "t", False, 1.0)]
    from planner.simulate import Wave

    with pytest.raises(ValueError, match="spot market"):
        Scenario.build(markets, horizon=10, waves=[Wave(1, 0, 1.0)])


def test_risk_map_draws_rates_inside_their_bucket() -> None:
    markets = assign_risk(spot_markets(200, 0.0), seed=0)
    buckets = {market.bucket for market in markets if market.spot}
    assert buckets == set(BUCKET_RANGES)
    for market in markets:
        if market.spot:
            low, high = BUCKET_RANGES[market.bucket or ""]
            assert low <= market.interruption_rate <= high
        else:
            assert market.bucket is None and market.interruption_rate == 0.0


def test_markets_from_offers_keep_the_cheapest_row_per_market() -> None:
    frame = pd.DataFrame(
        {
            "provider": ["aws", "aws", "aws", "gcp"],
            "region": ["us-east-1", "us-east-1", "us-east-1", "us-central1"],
            "instance_type": ["g6.xlarge", "g6.xlarge", "g6.xlarge", "g2-standard-4"],
            "spot": [True, True, False, True],
            "price": [0.5, 0.3, 0.8, 0.25],
            "gpu_name": ["L4", "L4", "L4", "L4"],
            "gpu_count": [1, 1, 1, 1],
        }
    )
    markets = markets_from_offers(frame)
    assert [(m.provider, m.spot, m.price) for m in markets] == [
        ("gcp", True, 0.25),
        ("aws", True, 0.3),
        ("aws", False, 0.8),
    ]
    assert markets[0].accelerator == ("l4", 1)
