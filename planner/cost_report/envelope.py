"""The autoscaling cost envelope of one reported service: replay its trace and price the replicas.

A service gets an envelope when it has a replica range, a ``scaling`` rule, a feasible plan and a
trace (its own rows of the trace file, or the file's shared trace). Otherwise it gets a note
saying why not, and the report shows its range at min and max only. The replay and the figures are
planner.simulate's (docs/planning.md, "Autoscaling cost envelope"); this module only decides which
service gets one and keeps what a plot needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from planner.config.normalized import NormalizedService
from planner.cost_report.money import hourly_usd, monthly_usd, usd_text
from planner.errors import InputError, Problem
from planner.placement import HOURS_PER_MONTH, Plan
from planner.simulate.autoscaling import (
    CostEnvelope,
    ReplicaPrices,
    ReplicaTimeline,
    ScalingRule,
    cost_envelope,
    replay_scaling,
)
from planner.simulate.traffic import TrafficTrace, TrafficTraces

__all__ = ["ServiceEnvelope", "check_trace_services", "service_envelope"]


@dataclass(frozen=True, eq=False)
class ServiceEnvelope:
    """The envelope's figures (``figures``) and the replay they came from (for a plot).

    Money as the rest of the report writes it: six-decimal USD, a month 730 × the hourly amount
    as written (P95 and worst are monthly figures, so they go through their hourly amount).
    """

    trace_file: str
    shared_trace: bool  # the file's one trace, not rows of this service's own
    figures: CostEnvelope
    timeline: ReplicaTimeline
    prices: ReplicaPrices

    @property
    def expected_hourly(self) -> Decimal:
        return _hourly(self.figures.expected_hourly)

    @property
    def expected_monthly(self) -> Decimal:
        return _monthly(self.figures.expected_hourly)

    @property
    def p95_monthly(self) -> Decimal:
        return _monthly(self.figures.p95_monthly / HOURS_PER_MONTH)

    @property
    def worst_monthly(self) -> Decimal:
        return _monthly(self.figures.worst_monthly / HOURS_PER_MONTH)

    def to_json(self) -> dict[str, Any]:
        return {
            "trace_file": self.trace_file,
            "shared_trace": self.shared_trace,
            **self.figures.to_json(),
            "expected_hourly_cost": usd_text(self.expected_hourly),
            "expected_monthly_cost": usd_text(self.expected_monthly),
            "p95_monthly_cost": usd_text(self.p95_monthly),
            "worst_monthly_cost": usd_text(self.worst_monthly),
        }


def _hourly(value: float) -> Decimal:
    amount = hourly_usd(value)
    assert amount is not None
    return amount


def _monthly(hourly: float) -> Decimal:
    amount = monthly_usd(_hourly(hourly))
    assert amount is not None
    return amount


def check_trace_services(traces: TrafficTraces, services: Sequence[tuple[str, str | None]]) -> None:
    """A per-service trace names only reported services (by name or key): a typo is not ignored."""
    known = {key for key, _ in services} | {name for _, name in services if name}
    unknown = [name for name in traces.services if name not in known]
    if unknown:
        listed = ", ".join(repr(name) for name in unknown[:5])
        raise InputError(
            Problem(
                f"the trace has rows for {listed}, which no reported service is named "
                "(the service column holds a service's name or its key)",
                file=traces.source,
                path="service",
            )
        )


def service_envelope(
    traces: TrafficTraces, key: str, service: NormalizedService, plan: Plan
) -> tuple[ServiceEnvelope | None, str | None]:
    """The service's envelope, or ``None`` and why there is none."""
    rule = ScalingRule.for_service(service)
    if plan.replicas_min == plan.replicas_max:
        return None, "a fixed replica count: there is nothing to scale"
    if rule is None:  # a range needs `scaling` in a valid configuration; kept for the type
        return None, "no `scaling` rule: the replica count does not follow traffic"
    trace = _trace_for(traces, key, service.name)
    if trace is None:
        return None, "the trace has no rows for this service"
    if not plan.feasible:
        return None, "no feasible plan to price the replicas with"
    timeline = replay_scaling(trace, rule)
    prices = ReplicaPrices.from_plan(plan)
    try:
        figures = cost_envelope(timeline, prices)
    except InputError as error:
        # A count the plan cannot place (e.g. capacity limits): reported, not a broken input.
        return None, error.problems[0].message
    return (
        ServiceEnvelope(
            trace_file=traces.source,
            shared_trace=trace.service is None,
            figures=figures,
            timeline=timeline,
            prices=prices,
        ),
        None,
    )


def _trace_for(traces: TrafficTraces, key: str, name: str | None) -> TrafficTrace | None:
    if key in traces.traces:
        return traces.traces[key]
    return traces.for_service(name)
