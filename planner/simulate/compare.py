"""Compare the three policies on the same scenarios for one service.

``prepare(service, catalog)`` builds the markets from the service's matching offers, gives the
spot markets a risk map (a Spot Advisor bucket each, fixed by ``risk_seed``), tells the planner
those buckets (a ``CapacityData`` with one rule per spot market) and plans once. ``compare`` then
draws one scenario per seed and replays every policy on it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from planner.catalog import Catalog
from planner.config import LoadedConfig, load_config
from planner.config.normalized import NormalizedService
from planner.match import find_offers
from planner.placement import CapacityData, Plan, PlanOptions
from planner.placement import plan as plan_service
from planner.placement.inputs import INTERRUPTION_BUCKETS, CapacityRule
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
    plans: dict[str, Plan]  # policy name -> its plan
    policies: tuple[Policy, ...]

    @property
    def plan(self) -> Plan:
        """The first plan variant's ``Plan``."""
        return next(iter(self.plans.values()))


def prepare(
    service: LoadedConfig | NormalizedService | str | os.PathLike[str],
    catalog: Catalog | None = None,
    *,
    name: str | None = None,
    risk_seed: int = 0,
    spot_hedge_extra: Sequence[int] = (1,),
    plan_variants: Mapping[str, PlanOptions] | None = None,
) -> Prepared:
    """Markets, risk map, the plan(s) and the policies for ``service``.

    ``service``: a path, ``LoadedConfig`` or ``NormalizedService`` (as ``planner.plan``).
    ``spot_hedge_extra``: one SpotHedge policy per over-provisioning count N_extra.
    ``plan_variants``: policy name -> ``PlanOptions``, one plan-fallback policy each
    (default: ``{"planner plan": PlanOptions(explain=False)}``).
    """
    if isinstance(service, str | os.PathLike):
        normalized = load_config(service).normalized
    elif isinstance(service, NormalizedService):
        normalized = service
    else:
        normalized = service.normalized
    if catalog is None:
        catalog = Catalog.load()
    # Every policy sees the same markets: what matches the service with spot allowed.
    relaxed = normalized.model_copy(update={"spot_policy": "auto"})
    # Markets are catalog rows (zones for gcp), and the plans are made on the same rows: the
    # simulation's spot markets are per zone (docs/simulation.md).
    offers = find_offers(relaxed, catalog, rows=True)
    markets = assign_risk(markets_from_offers(offers.frame), risk_seed)
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
    variants = dict(plan_variants or {"planner plan": PlanOptions(explain=False)})
    capacity = CapacityData(rules=rules, source="simulation risk map")
    plans = {
        label: plan_service(normalized, catalog, capacity=capacity, options=options, rows=True)
        for label, options in variants.items()
    }
    target = next(iter(plans.values())).target_replicas
    max_price = normalized.max_price
    policies: list[Policy] = [AllOnDemand(markets, target, max_price=max_price)]
    policies.extend(
        SpotHedge(markets, target, extra=extra, max_price=max_price) for extra in spot_hedge_extra
    )
    policies.extend(
        PlanFallback.from_plan(result, markets, name=label) for label, result in plans.items()
    )
    return Prepared(
        name=name or normalized.name or "service",
        markets=markets,
        target=target,
        plans=plans,
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


def overall(summary: pd.DataFrame) -> pd.DataFrame:
    """Per policy, the mean over (service, regime) cells of the per-cell means, and the worst."""
    grouped = summary.groupby("policy", sort=False)
    return grouped.agg(
        cells=("relative_cost", "size"),
        relative_cost=("relative_cost", "mean"),
        availability=("availability", "mean"),
        worst_availability=("worst_availability", "min"),
    ).reset_index()


def run_prepared(
    prepared: Prepared, params: ScenarioParams, seeds: Sequence[int], regime: str
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for seed in seeds:
        scenario = generate_scenario(prepared.markets, params, seed)
        fingerprint = scenario.fingerprint()
        for policy in prepared.policies:
            result = simulate(scenario, policy)
            rows.append({**_row(prepared.name, regime, result), "scenario": fingerprint})
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
