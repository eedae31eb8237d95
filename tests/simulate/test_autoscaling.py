"""The autoscaling replay and cost envelope on hand-computed traces (docs/planning.md,
"Autoscaling cost envelope"), plus properties and dstack's own autoscaler as an oracle."""

from __future__ import annotations

import importlib.util
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import plan
from planner.config import load_config
from planner.errors import InputError
from planner.placement import HOURS_PER_MONTH
from planner.simulate.autoscaling import (
    ReplicaPrices,
    ScalingRule,
    cost_envelope,
    cost_rates,
    replay_scaling,
)
from planner.simulate.traffic import TrafficTrace

REPO = Path(__file__).resolve().parents[2]

# target 10 rps per replica, 1..4 replicas, scale up after 300 s, down after 600 s (dstack defaults)
RULE = ScalingRule(
    target_rps=10, replicas_min=1, replicas_max=4, scale_up_delay_seconds=300,
    scale_down_delay_seconds=600,
)  # fmt: skip


def replay(times: list[float], rps: list[float], rule: ScalingRule = RULE) -> tuple[list, list]:
    timeline = replay_scaling(TrafficTrace.of(times, rps), rule)
    return timeline.starts.tolist(), timeline.replicas.tolist()


def same_price(price: float, replicas: int) -> ReplicaPrices:
    return ReplicaPrices.from_marginal([(price, "on-demand")] * replicas)


# --- the replay -----------------------------------------------------------------------------


def test_step_up_after_the_delay_has_passed_since_the_start_is_immediate() -> None:
    # 5 rps -> 1 replica; 35 rps -> ceil(3.5) = 4 at t=1000, 1000 s after the start (> 300 s)
    assert replay([0, 1000, 5000], [5, 35, 35]) == ([0, 1000], [1, 4])


def test_step_up_waits_for_the_scale_up_delay_since_the_last_event() -> None:
    # the step comes 100 s after the start (the last event): the scale-up waits until 300
    assert replay([0, 100, 5000], [5, 35, 35]) == ([0, 300], [1, 4])


def test_spike_shorter_than_the_scale_up_delay_buys_nothing() -> None:
    # 35 rps from 60 to 180: the earliest scale-up would be at 300, after the spike ended
    starts, counts = replay([0, 60, 180, 2000], [5, 35, 5, 5])
    assert (starts, counts) == ([0], [1])


def test_spike_outlasting_the_scale_up_delay_scales_up_then_down_after_the_down_delay() -> None:
    # up at 300 (delay from 0); the spike ends at 400, down is allowed at 300 + 600 = 900
    assert replay([0, 60, 400, 2000], [5, 35, 5, 5]) == ([0, 300, 900], [1, 4, 1])


def test_drop_shorter_than_the_scale_down_delay_keeps_the_replicas() -> None:
    # 4 replicas from the start; the drop 200..500 ends before 0 + 600 allows a scale-down
    assert replay([0, 200, 500, 4000], [35, 5, 35, 35]) == ([0], [4])


def test_delays_count_from_the_last_scaling_event_not_from_the_change_of_traffic() -> None:
    # the drop at 1000 comes 1000 s after the last event: down at once; back up at 1300,
    # exactly 300 s after that scale-down
    assert replay([0, 1000, 1300, 4000], [35, 5, 35, 35]) == ([0, 1000, 1300], [4, 1, 4])


def test_clamping_at_min_and_at_max() -> None:
    rule = ScalingRule(10, 2, 4, 300, 600)
    # 0.5 rps wants 1 replica: min 2; 1000 rps wants 100: max 4
    starts, counts = replay([0, 1000, 3000, 6000], [0.5, 1000, 0.5, 0.5], rule)
    assert (starts, counts) == ([0, 1000, 3000], [2, 4, 2])


def test_scale_to_zero_and_back_from_zero_without_waiting_for_the_delay() -> None:
    rule = ScalingRule(10, 0, 3, 300, 600)
    # zero traffic at 1000 (>= 600 after the start): 0 replicas; traffic returns at 1100,
    # only 100 s after that event, but a scale-up from zero is immediate (dstack)
    starts, counts = replay([0, 1000, 1100, 5000], [5, 0, 25, 25], rule)
    assert (starts, counts) == ([0, 1000, 1100], [1, 0, 3])
    envelope = cost_envelope(
        replay_scaling(TrafficTrace.of([0, 1000, 1100, 5000], [5, 0, 25, 25]), rule),
        same_price(1.0, 3),
    )
    # replica-seconds: 1000 x 1 + 100 x 0 + 3900 x 3 = 12700, at $1 per replica-hour
    assert envelope.expected_hourly == pytest.approx(12700 / 5000)
    assert envelope.replica_hours == {"on-demand": pytest.approx(12700 / 3600)}


def test_zero_traffic_with_min_one_keeps_one_replica() -> None:
    assert replay([0, 1000, 5000], [5, 0, 0]) == ([0], [1])


def test_irregular_timestamps_the_delay_expires_between_samples() -> None:
    # samples at 0, 50, 70, 1000, 1010: the scale-up wanted from 50 happens at 300, between
    # samples; the drop at 1010 comes 710 s after it (>= 600): down at once
    times, rps = [0, 50, 70, 1000, 1010, 3000], [5, 35, 35, 35, 5, 5]
    assert replay(times, rps) == ([0, 300, 1010], [1, 4, 1])
    envelope = cost_envelope(replay_scaling(TrafficTrace.of(times, rps), RULE), same_price(2.0, 4))
    # (300 x 1 + 710 x 4 + 1990 x 1) replica-seconds x $2 / 3600 over 3000 s
    expected_hourly = (300 + 2840 + 1990) * 2 / 3600 / (3000 / 3600)
    assert envelope.expected_hourly == pytest.approx(expected_hourly)
    assert envelope.expected_monthly == pytest.approx(expected_hourly * 730)
    assert envelope.scaling_events == 2


def test_float_noise_in_rps_over_target_does_not_buy_a_replica() -> None:
    # 1.1 / 0.1 is 11.000000000000002 in floats; ceil must give 11, not 12
    rule = ScalingRule(0.1, 1, 20, 0, 0)
    assert rule.desired(np.array([1.1, 0.3, 0.0])).tolist() == [11, 3, 1]


def test_rule_from_a_service_file() -> None:
    service = load_config(REPO / "examples" / "autoscaled.yml").normalized
    rule = ScalingRule.for_service(service)
    assert rule is not None and service.scaling is not None
    assert (rule.replicas_min, rule.replicas_max) == (service.replicas.min, service.replicas.max)
    assert rule.target_rps == service.scaling.target
    assert rule.scale_up_delay_seconds == service.scaling.scale_up_delay_seconds
    assert rule.scale_down_delay_seconds == service.scaling.scale_down_delay_seconds
    fixed = load_config(REPO / "examples" / "spot-retry.yml").normalized
    assert ScalingRule.for_service(fixed) is None


@pytest.mark.parametrize(
    "arguments",
    [
        (0, 1, 2, 0, 0),
        (10, 3, 2, 0, 0),
        (10, -1, 2, 0, 0),
        (10, 1, 2, -1, 0),
        (math.inf, 1, 2, 0, 0),
    ],
)
def test_an_impossible_rule_is_refused(arguments: tuple) -> None:
    with pytest.raises(ValueError):
        ScalingRule(*arguments)


# --- the envelope ---------------------------------------------------------------------------

DAY = 86400.0


def test_p95_and_worst_over_day_windows_sliding_by_the_hour() -> None:
    # three days at 1, 4 and 1 replicas ($1 each per hour); no delays
    rule = ScalingRule(10, 1, 4, 0, 0)
    trace = TrafficTrace.of([0, DAY, 2 * DAY, 3 * DAY], [5, 35, 5, 5])
    envelope = cost_envelope(replay_scaling(trace, rule), same_price(1.0, 4))
    assert envelope.expected_monthly == pytest.approx((24 + 96 + 24) / 72 * 730)
    # a window starting s hours in costs 24 + 3s (s <= 24), then 168 - 3s (s <= 48)
    costs = [24 + 3 * s for s in range(25)] + [168 - 3 * s for s in range(25, 49)]
    monthly = np.array(costs) / 24 * 730
    assert envelope.windows == 49
    assert envelope.window_hours == 24
    assert envelope.worst_monthly == pytest.approx(4 * 730)
    assert envelope.p95_monthly == pytest.approx(np.percentile(monthly, 95))
    assert envelope.replica_hours == {"on-demand": pytest.approx(24 + 96 + 24)}
    assert envelope.replica_hours_monthly == {"on-demand": pytest.approx(2 * 730)}
    assert (envelope.replicas_min_seen, envelope.replicas_max_seen) == (1, 4)


def test_a_trace_shorter_than_a_day_is_one_window() -> None:
    trace = TrafficTrace.of([0, 600, 3600], [5, 35, 35])
    envelope = cost_envelope(replay_scaling(trace, RULE), same_price(1.5, 4))
    assert envelope.windows == 1 and envelope.window_hours == pytest.approx(1.0)
    # 600 s at 1 replica, 3000 s at 4: (600 + 12000) / 3600 replica-hours x $1.5 over 1 h
    assert envelope.expected_hourly == pytest.approx(12600 / 3600 * 1.5)
    assert envelope.p95_monthly == pytest.approx(envelope.expected_monthly)
    assert envelope.worst_monthly == pytest.approx(envelope.expected_monthly)


def test_replica_hours_by_capacity_type_follow_the_marginal_replicas() -> None:
    # replica 1 on-demand at $1, replicas 2..4 spot at $0.5
    prices = ReplicaPrices.from_marginal(
        [(1.0, "on-demand"), (0.5, "spot"), (0.5, "spot"), (0.5, "spot")]
    )
    trace = TrafficTrace.of([0, 3600, 7200], [5, 35, 35])
    envelope = cost_envelope(replay_scaling(trace, ScalingRule(10, 1, 4, 0, 0)), prices)
    assert envelope.replica_hours == {"on-demand": pytest.approx(2.0), "spot": pytest.approx(3.0)}
    assert envelope.expected_hourly == pytest.approx((1.0 + 2.5) / 2)
    assert envelope.to_json()["expected_monthly_cost"] == f"{1.75 * HOURS_PER_MONTH:.2f}"
    assert envelope.to_json()["worst_monthly_cost"] == "1277.50"


def test_a_count_the_plan_cannot_price_is_an_input_error() -> None:
    trace = TrafficTrace.of([0, 3600, 7200], [5, 35, 35], source="trace.csv")
    with pytest.raises(InputError) as caught:
        cost_envelope(replay_scaling(trace, RULE), same_price(1.0, 2))
    assert caught.value.exit_code == 2
    assert "no price for 4 replicas" in str(caught.value)


def test_prices_from_a_real_plan_are_its_cost_at_each_count(tmp_path: Path) -> None:
    service = tmp_path / "scale-to-zero.yml"
    service.write_text(
        "type: service\nport: 8000\nimage: example/server\ncommands: [serve]\n"
        "replicas: 0..3\nscaling:\n  metric: rps\n  target: 10\nresources:\n  gpu: 24GB\n"
    )
    result = plan(service)
    prices = ReplicaPrices.from_plan(result)
    assert result.feasible and len(result.scaling) == 4
    for replicas in range(4):
        assert prices.hourly_cost[replicas] == pytest.approx(result.cost_at(replicas))
        assert prices.instances[replicas].sum() == replicas  # no hedge without retry
    assert prices.hourly_cost[0] == 0
    fixed = plan(REPO / "examples" / "spot-retry.yml")
    fixed_prices = ReplicaPrices.from_plan(fixed)
    assert fixed_prices.hourly_cost[fixed.replicas_min] == pytest.approx(fixed.hourly_cost)
    assert np.isnan(fixed_prices.hourly_cost[: fixed.replicas_min]).all()
    assert fixed_prices.instances[fixed.replicas_min].sum() == fixed.planned_replicas
    assert set(fixed_prices.capacity_types) == {p.capacity_type for p in fixed.placements}


def test_prices_from_a_spot_plan_count_each_counts_own_placement_hedges_included(
    tmp_path: Path,
) -> None:
    # spot allowed with retry on interruption: each count's optimal placement (and its hedge
    # instances) differs, so the k-th replica has no single capacity type of its own
    service = tmp_path / "spot-range.yml"
    service.write_text(
        "type: service\nport: 8000\nimage: example/server\ncommands: [serve]\n"
        "replicas: 1..4\nscaling:\n  metric: rps\n  target: 10\nspot_policy: auto\n"
        "retry:\n  on_events: [interruption]\nresources:\n  gpu: 24GB\n"
    )
    result = plan(service)
    prices = ReplicaPrices.from_plan(result)
    for step in result.scaling:
        mix = dict(step.instances_by_capacity)
        row = dict(
            zip(prices.capacity_types, prices.instances[step.replicas].tolist(), strict=True)
        )
        assert {kind: count for kind, count in row.items() if count} == mix
        assert sum(mix.values()) >= step.replicas
        assert prices.hourly_cost[step.replicas] == pytest.approx(step.hourly_cost)
    assert "spot" in prices.capacity_types
    # a day at a constant 15 rps (2 replicas): replica-hours are that count's instances x 24
    trace = TrafficTrace.of([0, DAY], [15, 15])
    timeline = replay_scaling(trace, ScalingRule(10, 1, 4, 300, 600))
    envelope = cost_envelope(timeline, prices)
    at_two = dict(result.scaling[1].instances_by_capacity)
    assert {k: v for k, v in envelope.replica_hours.items() if v} == {
        kind: pytest.approx(count * 24) for kind, count in at_two.items()
    }
    assert envelope.expected_hourly == pytest.approx(result.cost_at(2))


# --- properties -----------------------------------------------------------------------------


@st.composite
def traces_and_rules(draw: st.DrawFn) -> tuple[TrafficTrace, ScalingRule]:
    """Integer times and delays, so every event lands on a whole second (for the oracle)."""
    samples = draw(st.integers(2, 25))
    gaps = draw(st.lists(st.integers(1, 400), min_size=samples - 1, max_size=samples - 1))
    rates = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(0, 120, allow_nan=False)),
            min_size=samples,
            max_size=samples,
        )
    )
    low = draw(st.integers(0, 3))
    high = draw(st.integers(low, 6))
    rule = ScalingRule(
        target_rps=draw(st.sampled_from([1.0, 2.5, 10.0, 30.0])),
        replicas_min=low,
        replicas_max=high,
        scale_up_delay_seconds=draw(st.integers(0, 600)),
        scale_down_delay_seconds=draw(st.integers(0, 900)),
    )
    return TrafficTrace.of(np.cumsum([0, *gaps]), rates), rule


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(traces_and_rules())
def test_replicas_stay_in_range_and_no_change_comes_before_its_delay(
    case: tuple[TrafficTrace, ScalingRule],
) -> None:
    trace, rule = case
    timeline = replay_scaling(trace, rule)
    counts, starts = timeline.replicas, timeline.starts
    assert ((counts >= rule.replicas_min) & (counts <= rule.replicas_max)).all()
    assert (np.diff(starts) > 0).all() and (np.diff(counts) != 0).all()
    assert starts[0] == trace.start and starts[-1] < trace.end
    for before, after, waited in zip(counts[:-1], counts[1:], np.diff(starts), strict=True):
        if after > before:
            delay = 0 if before == 0 else rule.scale_up_delay_seconds
        else:
            delay = rule.scale_down_delay_seconds
        assert waited >= delay
    # every change goes to what the traffic asks for at that moment
    index = np.searchsorted(trace.times, starts, side="right") - 1
    assert (rule.desired(trace.rps[index]) == counts).all()


@PROPERTY_SETTINGS
@given(
    traces_and_rules(),
    st.lists(st.floats(0, 50, allow_nan=False), min_size=6, max_size=6),
    st.lists(st.floats(0, 10, allow_nan=False), min_size=6, max_size=6),
)
def test_cost_is_monotone_in_prices(
    case: tuple[TrafficTrace, ScalingRule], base: list[float], raise_by: list[float]
) -> None:
    trace, rule = case
    timeline = replay_scaling(trace, rule)
    cheap = ReplicaPrices.from_marginal([(price, "on-demand") for price in base])
    dear = ReplicaPrices.from_marginal(
        [(price + extra, "on-demand") for price, extra in zip(base, raise_by, strict=True)]
    )
    low, high = cost_envelope(timeline, cheap), cost_envelope(timeline, dear)
    tolerance = 1e-9 * (1 + high.worst_monthly)
    assert low.expected_monthly <= high.expected_monthly + tolerance
    assert low.p95_monthly <= high.p95_monthly + tolerance
    assert low.worst_monthly <= high.worst_monthly + tolerance
    assert high.p95_monthly <= high.worst_monthly + tolerance
    assert low.replica_hours == high.replica_hours  # prices do not change what runs
    doubled = cost_envelope(timeline, cheap.scaled(2.0))
    assert doubled.expected_monthly == pytest.approx(2 * low.expected_monthly)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces_and_rules())
def test_the_replay_matches_dstacks_autoscaler_stepped_every_second(
    case: tuple[TrafficTrace, ScalingRule],
) -> None:
    """dstack's RPSAutoscaler, asked every second with the current rate over a 1-s window."""
    autoscalers = _dstack_autoscalers()
    stats = pytest.importorskip("dstack._internal.proxy.gateway.schemas.stats")
    common = pytest.importorskip("dstack._internal.utils.common")
    trace, rule = case
    # dstack counts whole requests: round the rates so both sides see the same numbers
    trace = TrafficTrace.of(trace.times, np.round(trace.rps))
    scaler = autoscalers.RPSAutoscaler(
        min_replicas=rule.replicas_min,
        max_replicas=rule.replicas_max,
        target=rule.target_rps,
        window=1,
        scale_up_delay=rule.scale_up_delay_seconds,
        scale_down_delay=rule.scale_down_delay_seconds,
    )
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    clock = {"now": epoch}
    seconds = np.arange(int(trace.start), int(trace.end))
    rates = trace.rps[np.searchsorted(trace.times, seconds, side="right") - 1]
    current = int(rule.desired(rates[:1])[0])
    last = epoch + timedelta(seconds=int(trace.start))
    oracle = [current]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(common, "get_current_datetime", lambda: clock["now"])
        for second, rate in zip(seconds[1:].tolist(), rates[1:].tolist(), strict=True):
            clock["now"] = epoch + timedelta(seconds=second)
            wanted = scaler.get_desired_count(
                current, {1: stats.Stat(requests=int(rate), request_time=0.1)}, last
            )
            if wanted != current:
                current, last = wanted, clock["now"]
            oracle.append(current)
    assert replay_scaling(trace, rule).at(seconds).tolist() == oracle


def _dstack_autoscalers() -> ModuleType:
    """dstack's autoscaler module, read from its file: its package imports the server's database
    layer (sqlalchemy), which the test extras do not install and the autoscaler does not use."""
    dstack = pytest.importorskip("dstack")
    path = Path(dstack.__file__).parent / "_internal/server/services/services/autoscalers.py"
    spec = importlib.util.spec_from_file_location("dstack_rps_autoscaler", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cost_rates_follow_the_timeline() -> None:
    timeline = replay_scaling(TrafficTrace.of([0, 1000, 5000], [5, 35, 35]), RULE)
    rates = cost_rates(timeline, same_price(0.25, 4))
    assert rates.tolist() == [0.25, 1.0]
