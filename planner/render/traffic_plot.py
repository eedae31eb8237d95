"""A PNG of an autoscaling replay: traffic, replicas and cost over time (optional extra ``[plot]``).

matplotlib is imported when a plot is asked for, not at import time: it is an optional extra and
slow to import. The figure is built with ``matplotlib.figure.Figure`` rather than ``pyplot``, so no
global figure state or GUI backend is involved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from planner.errors import InputError, Problem
from planner.simulate.autoscaling import ReplicaPrices, ReplicaTimeline, cost_rates

__all__ = ["plot_replay"]

_SECONDS_PER_HOUR = 3600.0


def plot_replay(timeline: ReplicaTimeline, prices: ReplicaPrices, path: str | Path) -> Path:
    """Write the replay's traffic, replica count and hourly cost as a PNG at ``path``; return it."""
    try:
        from matplotlib.figure import Figure  # lazy: optional extra, slow import
    except ImportError:
        raise InputError(
            Problem("the traffic plot needs matplotlib: pip install 'planner[plot]'")
        ) from None
    trace = timeline.trace
    rates = cost_rates(timeline, prices)
    origin = trace.start

    def hours(seconds: np.ndarray) -> np.ndarray:
        return (np.asarray(seconds, dtype=np.float64) - origin) / _SECONDS_PER_HOUR

    # Step functions: each value holds until the next point, and the last one until the end.
    trace_x = hours(trace.times)
    steps_x = hours(np.append(timeline.starts, timeline.end))
    figure = Figure(figsize=(10, 7), layout="constrained")
    traffic, replicas, cost = figure.subplots(3, 1, sharex=True)
    traffic.step(trace_x, trace.rps, where="post", color="tab:blue")
    traffic.set_ylabel("requests / s")
    title = "traffic, replicas and cost"
    if trace.service is not None:
        title += f" — {trace.service}"
    traffic.set_title(title)
    replicas.step(
        steps_x,
        np.append(timeline.replicas, timeline.replicas[-1]),
        where="post",
        color="tab:green",
    )
    replicas.axhline(timeline.rule.replicas_max, color="grey", linestyle=":", linewidth=1)
    replicas.axhline(timeline.rule.replicas_min, color="grey", linestyle=":", linewidth=1)
    replicas.set_ylabel("replicas")
    cost.step(steps_x, np.append(rates, rates[-1]), where="post", color="tab:red")
    cost.set_ylabel("USD / hour")
    start = "the trace's start"
    if trace.dated:
        start = datetime.fromtimestamp(origin, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    cost.set_xlabel(f"hours since {start}")
    target = Path(path)
    figure.savefig(target, format="png", dpi=100)
    return target
