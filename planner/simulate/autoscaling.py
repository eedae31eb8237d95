"""The autoscaling cost envelope: replay a service's scaling rule over a request-rate trace and price it.

    traces = load_traffic("trace.csv")                     # planner.simulate.traffic
    rule = ScalingRule.for_service(service)                # from the normalized `scaling`/`replicas`
    timeline = replay_scaling(traces.for_service(service.name), rule)
    envelope = cost_envelope(timeline, ReplicaPrices.from_plan(plan))
    envelope.expected_monthly, envelope.p95_monthly, envelope.worst_monthly

The rule is dstack's RPS autoscaler: desired = ceil(rps / target) clamped to the replica range; a
change happens only once its delay (scale-up or scale-down) has passed since the last scaling event,
except a scale-up from zero replicas, which is immediate. How a trace of any length becomes monthly
figures (expected, P95, worst) is defined in docs/planning.md, "Autoscaling cost envelope".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.config.normalized import NormalizedService
from planner.errors import InputError, Problem
from planner.placement.result import HOURS_PER_MONTH, CapacityType, Plan
from planner.simulate.traffic import TrafficTrace

__all__ = [
    "DEFAULT_STEP_HOURS",
    "DEFAULT_WINDOW_HOURS",
    "CostEnvelope",
    "ReplicaPrices",
    "ReplicaTimeline",
    "ScalingRule",
    "cost_envelope",
    "cost_rates",
    "replay_scaling",
]

SECONDS_PER_HOUR = 3600.0
DEFAULT_WINDOW_HOURS = 24.0  # P95 and worst case are over days: a month is a run of days
DEFAULT_STEP_HOURS = 1.0  # the day-long window slides in hour steps
# rps / target is rounded to this many decimals before the ceiling, so float noise such as
# 1.1 / 0.1 = 11.000000000000002 does not buy a 12th replica.
_RATIO_DECIMALS = 9


@dataclass(frozen=True)
class ScalingRule:
    """A service's RPS scaling rule, in seconds and replicas."""

    target_rps: float  # requests per second one replica is meant to serve
    replicas_min: int
    replicas_max: int
    scale_up_delay_seconds: float
    scale_down_delay_seconds: float

    def __post_init__(self) -> None:
        if not (self.target_rps > 0 and math.isfinite(self.target_rps)):
            raise ValueError(f"target_rps must be a positive number, got {self.target_rps}")
        if not 0 <= self.replicas_min <= self.replicas_max:
            raise ValueError(f"need 0 <= min <= max, got {self.replicas_min}..{self.replicas_max}")
        if self.scale_up_delay_seconds < 0 or self.scale_down_delay_seconds < 0:
            raise ValueError("scaling delays cannot be negative")

    @classmethod
    def for_service(cls, service: NormalizedService) -> ScalingRule | None:
        """The rule of a service with ``scaling``; ``None`` for a fixed replica count."""
        scaling = service.scaling
        low, high = service.replicas.min, service.replicas.max
        if scaling is None or low is None or high is None:
            return None
        return cls(
            target_rps=scaling.target,
            replicas_min=low,
            replicas_max=high,
            scale_up_delay_seconds=scaling.scale_up_delay_seconds,
            scale_down_delay_seconds=scaling.scale_down_delay_seconds,
        )

    def desired(self, rps: np.ndarray) -> np.ndarray:
        """ceil(rps / target) clamped to the replica range, for every sample at once."""
        ratio = np.round(np.asarray(rps, dtype=np.float64) / self.target_rps, _RATIO_DECIMALS)
        return np.clip(np.ceil(ratio), self.replicas_min, self.replicas_max).astype(np.int64)


@dataclass(frozen=True, eq=False)
class ReplicaTimeline:
    """How many replicas ran when: ``replicas[i]`` from ``starts[i]`` until the next start / ``end``.

    ``starts[0]`` is the trace's start; every later start is a scaling event, and consecutive
    counts differ.
    """

    trace: TrafficTrace
    rule: ScalingRule
    starts: np.ndarray  # float64 seconds, strictly increasing
    replicas: np.ndarray  # int64
    end: float

    @property
    def events(self) -> int:
        return len(self.starts) - 1

    @property
    def durations_seconds(self) -> np.ndarray:
        return np.diff(np.append(self.starts, self.end))

    def at(self, times: np.ndarray) -> np.ndarray:
        """The replica count at each time (within the trace)."""
        index = np.searchsorted(self.starts, np.asarray(times, dtype=np.float64), side="right") - 1
        return self.replicas[np.clip(index, 0, len(self.replicas) - 1)]


def replay_scaling(trace: TrafficTrace, rule: ScalingRule) -> ReplicaTimeline:
    """Replay ``rule`` over ``trace`` as a continuously evaluating autoscaler would.

    The service runs the trace's first desired count at its start, as if it had just scaled there.
    The rate is constant between samples, so the desired count changes only at samples; the loop
    runs over the runs of equal desired count (not over every sample), and in each run at most one
    change happens: at the run's start, or once the delay since the last event has passed.
    """
    desired = rule.desired(trace.rps)
    change = np.flatnonzero(np.diff(desired)) + 1
    run_starts = trace.times[np.concatenate(([0], change))].tolist()
    run_desired = desired[np.concatenate(([0], change))].tolist()
    run_ends = [*run_starts[1:], trace.end]

    current = run_desired[0]
    last_event = run_starts[0]
    starts = [last_event]
    counts = [current]
    up, down = rule.scale_up_delay_seconds, rule.scale_down_delay_seconds
    for start, end, want in zip(run_starts, run_ends, run_desired, strict=True):
        if want == current:
            continue
        delay = (0.0 if current == 0 else up) if want > current else down
        moment = max(start, last_event + delay)
        if moment < end:
            current, last_event = want, moment
            starts.append(moment)
            counts.append(want)
    return ReplicaTimeline(
        trace=trace,
        rule=rule,
        starts=np.asarray(starts, dtype=np.float64),
        replicas=np.asarray(counts, dtype=np.int64),
        end=trace.end,
    )


@dataclass(frozen=True, eq=False)
class ReplicaPrices:
    """What running ``n`` replicas costs per hour and what it runs, for ``n = 0 .. max``.

    ``hourly_cost[n]`` is NaN where the plan has no price (below the replica range, or a count the
    plan cannot place). ``instances[n, j]`` counts instances of ``capacity_types[j]`` at ``n``
    replicas (hedge instances of the plan included, so replica-hours add up to what is paid for).
    """

    hourly_cost: np.ndarray  # float64, shape (max + 1,)
    capacity_types: tuple[CapacityType, ...]
    instances: np.ndarray  # int64, shape (max + 1, len(capacity_types))

    @classmethod
    def from_marginal(cls, prices: Sequence[tuple[float, CapacityType]]) -> ReplicaPrices:
        """From the k-th replica's marginal hourly cost and capacity type, k = 1, 2, ..."""
        costs = np.array([0.0, *(float(price) for price, _ in prices)])
        if not np.isfinite(costs).all():
            raise ValueError("replica prices must be finite numbers")
        types = tuple(sorted({kind for _, kind in prices}))
        column = np.array([types.index(kind) for _, kind in prices], dtype=np.int64)
        added = np.zeros((len(prices) + 1, len(types)), dtype=np.int64)
        added[np.arange(1, len(prices) + 1), column] = 1
        return cls(np.cumsum(costs), types, np.cumsum(added, axis=0))

    @classmethod
    def from_plan(cls, plan: Plan) -> ReplicaPrices:
        """The plan's optimal cost at each count of its range (its ``scaling`` steps), or at min."""
        if not plan.feasible:
            raise InputError(Problem("the plan is infeasible: there is no price to replay"))
        mixes: dict[int, tuple[float | None, dict[CapacityType, int]]] = {}
        at_min: dict[CapacityType, int] = {}
        for placement in plan.placements:
            at_min[placement.capacity_type] = (
                at_min.get(placement.capacity_type, 0) + placement.count
            )
        mixes[plan.replicas_min] = (plan.hourly_cost, at_min)
        for step in plan.scaling:
            mixes[step.replicas] = (step.hourly_cost, dict(step.instances_by_capacity))
        types = tuple(sorted({kind for _, mix in mixes.values() for kind in mix}))
        costs = np.full(plan.replicas_max + 1, np.nan)
        instances = np.zeros((plan.replicas_max + 1, len(types)), dtype=np.int64)
        for replicas, (cost, mix) in mixes.items():
            if cost is not None:
                costs[replicas] = cost
            for kind, count in mix.items():
                instances[replicas, types.index(kind)] = count
        return cls(costs, types, instances)

    def scaled(self, factor: float) -> ReplicaPrices:
        """Every price times ``factor`` (what-if and property tests)."""
        return ReplicaPrices(self.hourly_cost * factor, self.capacity_types, self.instances)


def cost_rates(timeline: ReplicaTimeline, prices: ReplicaPrices) -> np.ndarray:
    """The hourly cost of each timeline interval; ``InputError`` for a count without a price."""
    counts = timeline.replicas
    beyond = counts >= len(prices.hourly_cost)
    rates = np.full(len(counts), np.nan)
    rates[~beyond] = prices.hourly_cost[counts[~beyond]]
    missing = np.flatnonzero(np.isnan(rates))
    if len(missing):
        replicas = int(counts[missing[0]])
        raise InputError(
            Problem(
                f"the plan has no price for {replicas} replicas, which the scaling replay reaches "
                "(the plan cannot place that many, or did not price every count of the range)",
                file=timeline.trace.source,
            )
        )
    return rates


@dataclass(frozen=True)
class CostEnvelope:
    """Monthly (730 h) cost figures of one replayed trace; docs/planning.md defines each."""

    trace_hours: float
    window_hours: float  # the window P95 and worst are taken over (the trace, if shorter)
    windows: int
    expected_hourly: float  # the time-weighted mean hourly cost over the trace
    expected_monthly: float
    p95_monthly: float
    worst_monthly: float
    replica_hours: dict[str, float]  # by capacity type, over the trace
    replica_hours_monthly: dict[str, float]  # by capacity type, per 730 h month
    scaling_events: int
    replicas_min_seen: int
    replicas_max_seen: int

    def to_json(self) -> dict[str, Any]:
        """Money as decimal strings (cents for monthly figures, six decimals hourly)."""
        return {
            "trace_hours": round(self.trace_hours, 6),
            "window_hours": round(self.window_hours, 6),
            "windows": self.windows,
            "expected_hourly_cost": f"{self.expected_hourly:.6f}",
            "expected_monthly_cost": f"{self.expected_monthly:.2f}",
            "p95_monthly_cost": f"{self.p95_monthly:.2f}",
            "worst_monthly_cost": f"{self.worst_monthly:.2f}",
            "replica_hours": {kind: round(hours, 6) for kind, hours in self.replica_hours.items()},
            "replica_hours_monthly": {
                kind: round(hours, 6) for kind, hours in self.replica_hours_monthly.items()
            },
            "scaling_events": self.scaling_events,
            "replicas_seen": {"min": self.replicas_min_seen, "max": self.replicas_max_seen},
        }


def cost_envelope(
    timeline: ReplicaTimeline,
    prices: ReplicaPrices,
    *,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    step_hours: float = DEFAULT_STEP_HOURS,
) -> CostEnvelope:
    """Expected, P95 and worst-case monthly cost of a replayed trace, and replica-hours by type.

    expected = the mean hourly cost over the whole trace × 730. P95 and worst = the 95th percentile
    (linear interpolation) and the maximum of the mean hourly cost × 730 over windows of
    ``window_hours`` starting at the trace's start and every ``step_hours`` after, as long as the
    window fits; a trace shorter than one window is one window (then P95 = worst = expected).
    """
    if window_hours <= 0 or step_hours <= 0:
        raise ValueError("window_hours and step_hours must be positive")
    rates = cost_rates(timeline, prices)
    seconds = timeline.durations_seconds
    knots = np.append(timeline.starts, timeline.end)
    spent = np.concatenate(([0.0], np.cumsum(rates * seconds) / SECONDS_PER_HOUR))  # USD so far

    duration = float(timeline.end - timeline.starts[0])
    window = float(min(window_hours * SECONDS_PER_HOUR, duration))
    step = step_hours * SECONDS_PER_HOUR
    count = int(np.floor((duration - window) / step + 1e-9)) + 1
    window_starts = timeline.starts[0] + step * np.arange(count)
    # The spending curve is linear between knots, so interpolation is exact.
    window_cost = np.interp(window_starts + window, knots, spent) - np.interp(
        window_starts, knots, spent
    )
    window_monthly = window_cost / (window / SECONDS_PER_HOUR) * HOURS_PER_MONTH

    expected_hourly = float(spent[-1] / (duration / SECONDS_PER_HOUR))
    hours = (prices.instances[timeline.replicas].T * seconds).sum(axis=1) / SECONDS_PER_HOUR
    per_month = HOURS_PER_MONTH / (duration / SECONDS_PER_HOUR)
    return CostEnvelope(
        trace_hours=duration / SECONDS_PER_HOUR,
        window_hours=window / SECONDS_PER_HOUR,
        windows=count,
        expected_hourly=expected_hourly,
        expected_monthly=expected_hourly * HOURS_PER_MONTH,
        p95_monthly=float(np.percentile(window_monthly, 95)),
        worst_monthly=float(window_monthly.max()),
        replica_hours={
            kind: float(total) for kind, total in zip(prices.capacity_types, hours, strict=True)
        },
        replica_hours_monthly={
            kind: float(total) * per_month
            for kind, total in zip(prices.capacity_types, hours, strict=True)
        },
        scaling_events=timeline.events,
        replicas_min_seen=int(timeline.replicas.min()),
        replicas_max_seen=int(timeline.replicas.max()),
    )
