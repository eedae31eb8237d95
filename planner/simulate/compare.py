"""Compare the three policies on the same scenarios for one service.

``prepare(service, catalog)`` builds the markets from the service's matching offers, gives the
spot markets a risk map (a Spot Advisor bucket each, fixed by ``risk_seed``), tells the planner
those buckets (a ``CapacityData`` with one rule per spot market) and plans once. ``compare`` then
draws one scenario per seed and replays every policy on it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from planner.simulate.engine import Policy, SimulationResult, simulate
from planner.simulate.policies import AllOnDemand, PlanFallback, SpotHedge
from planner.simulate.scenario import (
    Market,
    ScenarioParams,
    assign_risk,
    generate_scenario,
    markets_from_offers,
)


@dataclass(frozen=True, eq=False)
class Prepared:
    name: str
    markets: tuple[Market, ...]
    target: int
    plan: object  # planner.plan.Plan (typed loosely to keep this module's imports light)
    policies: tuple[Policy, ...]


def prepare(
    service: object,
    catalog: object | None = None,
    *,
    name: str | None = None,
    risk_seed: int = 0,
    spot_hedge_extra: Sequence[int] = (1,),
    plan_options: object | None = None,
) -> Prepared:
    """Markets, risk map, the plan and the three policies for ``service``.

    ``service``: a path, ``LoadedConfig`` or ``NormalizedService`` (as ``planner.plan.plan``).
    """
    from planner.catalog import Catalog
    from planner.config import load_config
    from planner.config.normalized import NormalizedService
    from planner.match import find_offers
    from planner.plan import CapacityData, PlanOptions, plan
    from planner.plan.inputs import INTERRUPTION_BUCKETS, CapacityRule

    if isinstance(service, str | os.PathLike):
        normalized = load_config(service).normalized
    elif isinstance(service, NormalizedService):
        normalized = service
    else:
        normalized = service.normalized  # type: ignore[attr-defined]
    if catalog is None:
        catalog = Catalog.load()
    assert isinstance(catalog, Catalog)
    # Every policy sees the same markets: what matches the service with spot allowed.
    relaxed = normalized.model_copy(update={"spot_policy": "auto"})
    markets = assign_risk(markets_from_offers(find_offers(relaxed, catalog).frame), risk_seed)
    rules = tuple(
        CapacityRule(
            provider=market.provider.lower(),
            region=market.region.lower(),
            instance_type=market.instance_type.lower(),
            spot=True,
            capacity=None,
            interruption_rate=INTERRUPTION_BUCKETS[market.bucket],
            source=f"simulation risk map #{index}",
        )
        for index, market in enumerate(markets)
        if market.spot and market.bucket is not None
    )
    options = plan_options if plan_options is not None else PlanOptions(explain=False)
    assert isinstance(options, PlanOptions)
    result = plan(normalized, catalog, capacity=CapacityData(rules=rules), options=options)
    target = result.target_replicas
    max_price = normalized.max_price
    policies: list[Policy] = [AllOnDemand(markets, target, max_price=max_price)]
    policies.extend(
        SpotHedge(markets, target, extra=extra, max_price=max_price) for extra in spot_hedge_extra
    )
    policies.append(PlanFallback.from_plan(result, markets))
    return Prepared(
        name=name or normalized.name or "service",
        markets=markets,
        target=target,
        plan=result,
        policies=tuple(policies),
    )


@dataclass(frozen=True, eq=False)
class Comparison:
    """Per (service, regime, seed, policy) results, and their per-policy summary."""

    runs: pd.DataFrame
    seconds: float

    def summary(self) -> pd.DataFrame:
        """Mean over seeds per (service, regime, policy); cost relative to all on-demand."""
        runs = self.runs
        baseline = runs[runs["policy"] == "all on-demand"].set_index(["service", "regime", "seed"])[
            "cost"
        ]
        relative = (
            runs["cost"].to_numpy()
            / baseline.reindex(
                pd.MultiIndex.from_frame(runs[["service", "regime", "seed"]])
            ).to_numpy()
        )
        runs = runs.assign(relative_cost=relative)
        grouped = runs.groupby(["service", "regime", "policy"], sort=False)
        return grouped.agg(
            seeds=("seed", "size"),
            hourly_cost=("hourly_cost", "mean"),
            relative_cost=("relative_cost", "mean"),
            availability=("availability", "mean"),
            worst_availability=("availability", "min"),
            spot_share=("spot_share", "mean"),
            interruptions=("interruptions", "mean"),
        ).reset_index()


def run_prepared(
    prepared: Prepared, params: ScenarioParams, seeds: Sequence[int], regime: str
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for seed in seeds:
        scenario = generate_scenario(prepared.markets, params, seed)
        for policy in prepared.policies:
            result = simulate(scenario, policy)
            rows.append(_row(prepared.name, regime, result))
    return rows


def compare(
    prepared: Sequence[Prepared],
    regimes: dict[str, ScenarioParams],
    seeds: Sequence[int],
) -> Comparison:
    started = time.perf_counter()
    rows: list[dict[str, object]] = []
    for item in prepared:
        for regime, params in regimes.items():
            rows.extend(run_prepared(item, params, seeds, regime))
    return Comparison(runs=pd.DataFrame(rows), seconds=time.perf_counter() - started)


def _row(service: str, regime: str, result: SimulationResult) -> dict[str, object]:
    return {
        "service": service,
        "regime": regime,
        "seed": result.seed,
        "policy": result.policy,
        "cost": result.cost,
        "hourly_cost": result.hourly_cost,
        "availability": result.availability,
        "minutes_below_target": result.minutes_below_target,
        "spot_share": result.spot_share,
        "interruptions": result.interruptions,
        "launches": result.launches,
        "failed_launches": result.failed_launches,
        "events": result.events,
    }
