"""The bundled comparison: three services × four regimes, and the frontier the plan must reach.

``BUNDLED_SERVICES`` are three LLM services with different spot economics on the bundled catalog;
``REGIMES`` four scenario regimes, one of them (``region-waves``) dominated by region-wide
reclaims that hit every zone of a region at once. ``frontier_violations`` checks that a policy
(by default ``planner plan``) is on or beyond the cost/availability frontier of SpotHedge with
N_extra = 0 and 1 in every (service, regime) cell. ``benchmarks/test_simulation.py`` runs the
full table; ``tests/simulate/test_frontier.py`` a smaller number of seeds. docs/simulation.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from planner.catalog import Catalog
from planner.config import load_config
from planner.placement import PlanOptions
from planner.simulate.compare import Prepared, prepare
from planner.simulate.scenario import ScenarioParams

# A 2-replica 70B service on two 80 GB A100/H100, any provider (examples/spot-retry.yml).
LLAMA70B_SPOT: Final = """\
type: service
name: llama70b-spot
image: vllm/vllm-openai:v0.6.3
commands:
  - vllm serve hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4 --tensor-parallel-size 2
port: 8000
replicas: 2
resources:
  gpu: A100,H100:80GB:2
  disk: 200GB..
spot_policy: auto
retry:
  on_events: [no-capacity, interruption]
  duration: 2h
max_price: 25
"""

# A 6-replica 8B-model service on any 24 GB+ GPU, from every provider of the catalog.
LLAMA8B_6: Final = """\
type: service
name: llama8b-6
image: vllm/vllm-openai:v0.6.3
commands:
  - vllm serve meta-llama/Llama-3.1-8B-Instruct --port 8000
port: 8000
replicas: 6
resources:
  gpu: 24GB..:1
spot_policy: auto
retry:
  on_events: [no-capacity, interruption]
  duration: 1h
"""

# A 4-replica 32B-model service on 4×L4 machines of the three hyperscalers (gcp's catalog
# locations are zones: the service where regions and zones differ).
QWEN32B_4: Final = """\
type: service
name: qwen32b-4xl4
image: vllm/vllm-openai:v0.6.3
commands:
  - vllm serve Qwen/Qwen2.5-32B-Instruct --tensor-parallel-size 4 --port 8000
port: 8000
replicas: 4
backends: [aws, gcp, azure]
resources:
  gpu: L4:4
spot_policy: auto
retry:
  on_events: [no-capacity, interruption]
  duration: 1h
"""

BUNDLED_SERVICES: Final[Mapping[str, str]] = {
    "llama70b-spot": LLAMA70B_SPOT,
    "llama8b-6": LLAMA8B_6,
    "qwen32b-4xl4": QWEN32B_4,
}

REGIMES: Final[Mapping[str, ScenarioParams]] = {
    # The Spot Advisor buckets taken at their word; rare shortages.
    "advisor": ScenarioParams(),
    # GPU spot is reclaimed far more often than the buckets (general-purpose instances) say.
    "gpu-stress": ScenarioParams(rate_multiplier=20.0, shortage_per_month=8.0),
    # Long shortages (a day on average), hit markets short for 12 h, on-demand short 1 h/month.
    "scarce": ScenarioParams(
        rate_multiplier=5.0,
        shortage_per_month=4.0,
        shortage_minutes=24 * 60.0,
        post_wave_shortage_minutes=12 * 60.0,
        on_demand_shortage_per_month=1.0,
        on_demand_shortage_minutes=60.0,
    ),
    # Region-wide reclaims: 80% of the waves take every spot market of a region — every instance
    # type and every zone — at once, and the region stays short for 4 h on average.
    "region-waves": ScenarioParams(
        rate_multiplier=10.0,
        region_wave_probability=0.8,
        shortage_per_month=2.0,
        post_wave_shortage_minutes=4 * 60.0,
    ),
}

DEFAULT_PLAN: Final = "planner plan"
SPOT_HEDGE: Final = ("SpotHedge (N_extra=0)", "SpotHedge (N_extra=1)")
# Differences below these are measurement noise, not domination: 0.1% of the all-on-demand
# cost, and 1e-6 of the month's minutes (2.6 s).
COST_TOLERANCE: Final = 1e-3
AVAILABILITY_TOLERANCE: Final = 1e-6


def prepare_bundled(
    catalog: Catalog | None = None,
    *,
    plan_variants: Mapping[str, PlanOptions] | None = None,
    services: Sequence[str] | None = None,
) -> list[Prepared]:
    """The bundled services prepared for ``compare``: all on-demand, SpotHedge N_extra 0 and 1,
    and one plan per variant (default: the default plan, ``DEFAULT_PLAN``)."""
    catalog = catalog or Catalog.load()
    variants = dict(plan_variants or {DEFAULT_PLAN: PlanOptions(explain=False)})
    names = list(services or BUNDLED_SERVICES)
    return [
        prepare(
            load_config(text=BUNDLED_SERVICES[name], name=f"{name}.yml"),
            catalog,
            spot_hedge_extra=(0, 1),
            plan_variants=variants,
        )
        for name in names
    ]


def frontier_violations(summary: pd.DataFrame, policy: str = DEFAULT_PLAN) -> pd.DataFrame:
    """The (service, regime) cells where ``policy`` is behind SpotHedge's frontier.

    ``summary``: ``Comparison.summary()``. The frontier is SpotHedge N_extra = 0 and 1 and the
    segment between them (cost vs all on-demand, mean availability). ``policy`` is behind it when
    a point of it is cheaper at the same or higher availability, or more available at the same
    or lower cost (beyond the tolerances). Returns one row per violation, with the reason.
    """
    rows: list[dict[str, object]] = []
    for (service, regime), cell in summary.groupby(["service", "regime"], sort=False):
        points = {
            str(row["policy"]): (float(row["relative_cost"]), float(row["availability"]))
            for row in cell.to_dict("records")
        }
        if policy not in points or not set(SPOT_HEDGE) <= set(points):
            raise ValueError(f"{service}/{regime}: the summary lacks {policy} or SpotHedge")
        cost, available = points[policy]
        hedge = [points[name] for name in SPOT_HEDGE]
        reason = _behind(cost, available, hedge)
        if reason:
            rows.append(
                {
                    "service": service,
                    "regime": regime,
                    "cost": cost,
                    "availability": available,
                    "reason": reason,
                }
            )
    return pd.DataFrame(rows, columns=["service", "regime", "cost", "availability", "reason"])


def _behind(cost: float, available: float, hedge: list[tuple[float, float]]) -> str | None:
    (c0, a0), (c1, a1) = sorted(hedge)
    # The frontier: both points and the segment between them, sampled finely (it is a line).
    weights = np.linspace(0.0, 1.0, 101)
    for c, a in zip(c0 + (c1 - c0) * weights, a0 + (a1 - a0) * weights, strict=True):
        if c < cost - COST_TOLERANCE and a >= available - AVAILABILITY_TOLERANCE:
            return f"SpotHedge frontier costs {c:.4f} < {cost:.4f} at availability {a:.6%}"
        if a > available + AVAILABILITY_TOLERANCE and c <= cost + COST_TOLERANCE:
            return f"SpotHedge frontier reaches {a:.6%} > {available:.6%} at cost {c:.4f}"
    return None
