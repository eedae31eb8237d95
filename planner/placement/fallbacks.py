"""Fallback chains: where one replica of a placement goes next on each retry event.

- ``no-capacity`` / ``error``: the next cheapest other pools that could take one more replica
  while every constraint of the plan still holds (capacity, spot policy, failure-domain spread,
  wave survival, hedge, on-demand floor, budget).
- ``interruption`` (spot placements only): spot pools in a *different* failure domain (a
  preemption wave hits the whole domain), then — with ``spot_policy: auto`` — the cheapest
  on-demand pool.

Each candidate check is a vectorized mask over all pools; the loop is over the placements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.placement.model import (
    ModelSpec,
    PoolArrays,
    bounds_for,
    budget_units,
    hedge_needed_units,
)
from planner.placement.offer import offer_dicts
from planner.placement.result import CapacityType, Fallback

if TYPE_CHECKING:
    from collections.abc import Sequence


def fallback_chains(
    pools: pd.DataFrame,
    arrays: PoolArrays,
    counts: np.ndarray,
    spec: ModelSpec,
    events: Sequence[str],
    max_fallbacks: int,
) -> dict[int, tuple[Fallback, ...]]:
    """For each used pool index, its fallbacks in event order, then chain order."""
    used = np.flatnonzero(counts > 0)
    if not events or used.size == 0 or max_fallbacks <= 0:
        return {int(index): () for index in used}
    bounds, _ = bounds_for(arrays, spec)
    room = bounds - counts
    # Order every pool once: cheapest first, then the lexicographic key.
    order = np.lexsort((arrays.key_rank, arrays.price_units))
    spot_in_domain = pd.Series(counts * arrays.spot).groupby(arrays.domain).sum()
    domain_count = spot_in_domain.reindex(arrays.domain).to_numpy(dtype=np.int64)
    spread = arrays.spot | spec.spread_every  # the pools the spread counts
    spread_in_domain = pd.Series(counts * spread).groupby(arrays.domain).sum()
    spread_count = spread_in_domain.reindex(arrays.domain).to_numpy(dtype=np.int64)
    steady_total = int(counts[~arrays.spot].sum())
    total = int(counts.sum())
    surviving = int(np.dot(counts, arrays.survival_units))
    spend_units = int(np.dot(counts, arrays.budget_units))

    planned: dict[int, list[tuple[str, int]]] = {}
    for index in (int(position) for position in used):
        base = room > 0
        base[index] = False
        # Moving one replica from `index` to a candidate must keep the other constraints.
        if spec.max_per_domain is not None:
            same_domain = arrays.domain == arrays.domain[index]
            domain_ok = (
                ~spread | (same_domain & spread[index]) | (spread_count < spec.max_per_domain)
            )
            base &= domain_ok
        if spec.wave_survival:
            # The candidate's domain must still leave N replicas after its own wave.
            same_domain = arrays.domain == arrays.domain[index]
            base &= (
                ~arrays.spot
                | (same_domain & arrays.spot[index])
                | (domain_count + 1 <= total - spec.replicas)
            )
        floor_tight = steady_total - 1 < spec.on_demand_floor
        if spec.on_demand_floor > 0 and not arrays.spot[index] and floor_tight:
            base &= ~arrays.spot
        if spec.hedge:
            after = surviving - arrays.survival_units[index] + arrays.survival_units
            base &= after >= hedge_needed_units(spec)
        if spec.budget_hourly is not None:
            spend_after = spend_units - arrays.budget_units[index] + arrays.budget_units
            base &= spend_after <= budget_units(spec.budget_hourly)
        chain: list[tuple[str, int]] = []
        for event in events:
            if event == "interruption":
                if not arrays.spot[index]:
                    continue
                other_domain = arrays.spot & (arrays.domain != arrays.domain[index])
                picks = _cheapest(order, base & other_domain, max_fallbacks)
                if spec.spot_policy in ("auto", None):
                    picks += _cheapest(order, base & ~arrays.spot, 1)
            else:
                picks = _cheapest(order, base, max_fallbacks)
            chain += [(event, pick) for pick in picks]
        planned[index] = chain
    offers = offer_dicts(pools, (pick for chain in planned.values() for _, pick in chain))
    return {
        index: tuple(_fallback(event, offers[pick], arrays, index, pick) for event, pick in chain)
        for index, chain in planned.items()
    }


def _cheapest(order: np.ndarray, mask: np.ndarray, limit: int) -> list[int]:
    ordered = order[mask[order]]
    return [int(index) for index in ordered[:limit]]


def _fallback(
    event: str, offer: dict[str, Any], arrays: PoolArrays, source: int, target: int
) -> Fallback:
    capacity_type: CapacityType = arrays.capacity_type[target]
    price = float(arrays.price[target])
    return Fallback(
        event=event,
        offer=offer,
        capacity_type=capacity_type,
        hourly_price=price,
        hourly_price_delta=price - float(arrays.price[source]),
    )
