"""The CP-SAT model: one integer count per pool, named constraints, a lexicographic objective.

Stage 1 minimizes the hourly cost (prices scaled to 1e-6 USD, integers as CP-SAT requires) and,
at equal cost, the replicas on new capacity (idle fleet instances and reservations first).
Stage 2 fixes that objective and breaks the remaining ties: the lowest assumed interruption risk
(Σ x_p · r_p, expected interruptions per month), then fewer pools, then pools earlier in key order
(backend, region, instance type, capacity type, price, catalog row). Each step runs on one worker
with a deterministic work limit, so the same input always gives the same placement. The caller
recomputes the reported cost exactly from the chosen counts.

Before the model is built, pools that cannot be in an optimal plan are pruned (see ``_prune``):
within a class of interchangeable pools (same capacity type, spot flag and interruption rate), only
the cheapest whose combined capacity — each failure domain counted at most up to its spread limit —
reaches the largest number of replicas any optimal plan can use. An exchange argument shows a plan
using a pruned pool can move those replicas to a kept pool without raising the cost. With wave
survival (for every spot failure domain d: Σ x − x_d ≥ N, modelled with one variable for the
largest domain) or with a spread over domains that mix classes, the kept spot pools must cover
the stronger requirement of ``_domain_requirements``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from planner.errors import InputError
from planner.placement.inputs import UNLIMITED
from planner.placement.limits import MAX_HOURLY_PRICE, MAX_MODEL_MAGNITUDE, MAX_MODEL_REPLICAS
from planner.placement.replacement import (
    UNAVAILABILITY_SCALE,
    available_units,
    needed_units,
)
from planner.placement.solver import cost_solver, tie_break_solver

# CP-SAT works on integers: 1 unit = 1e-6 USD per hour. Catalog prices carry at most six
# decimals (gcp: $0.027193), so on this grid every catalog cost is exact: a coarser unit ties (or
# even orders wrongly) offers that differ in the last decimals, and makes a budget equal to a
# price round below it.
PRICE_SCALE: Final = 1_000_000
# Float noise allowed when a price or a budget is put on that grid (1e-9 USD).
UNIT_TOLERANCE: Final = 1e-3
# Availability units (replacement.py): 1 = 1e-9 of a replica's month.
RATE_SCALE: Final = UNAVAILABILITY_SCALE
# Below this many candidate pools, pruning costs more than it saves: the model takes them all.
SMALL_MODEL: Final = 64

# "timeout": the time limit passed before any plan was found (neither a plan nor a proof).
SolveStatus = Literal["optimal", "feasible", "infeasible", "timeout"]

# The constraints `explain` can relax, in report order, with what each means.
RELAXABLE: Final[dict[str, str]] = {
    "spot_policy": "spot_policy allows only some capacity types",
    "max_price": "max_price caps the hourly price per instance",
    "creation_policy": "creation_policy: reuse allows only idle fleet instances",
    "capacity": "obtainable instances per pool (capacity file; one per marketplace listing)",
    "failure_domain_spread": "at most k replicas per failure domain (--max-per-domain: every replica; default spread: spot)",
    "wave_survival": "losing every spot replica of any one failure domain leaves ≥ the target",
    "availability_hedge": "expected surviving replicas ≥ availability target × replicas",
    "on_demand_floor": "at least this many replicas on capacity that is never interrupted",
    "budget": "hourly cost ≤ the budget",
}


class ModelTooLarge(InputError):
    """The model would overflow CP-SAT's 64-bit integers (see limits.py): nothing was solved."""


@dataclass(frozen=True)
class ModelSpec:
    """Which constraints apply and with what parameters. ``None``/``False`` = not applied."""

    replicas: int
    spot_policy: str | None  # "spot" | "on-demand" | "auto"; None: relaxed (all types compete)
    max_price: float | None
    reuse_only: bool  # creation_policy: reuse
    capacity: bool  # enforce obtainable counts (capacity file, listings) on catalog pools
    max_per_domain: int | None  # replicas per failure domain (spot only unless spread_every)
    hedge: bool
    availability_target: float
    on_demand_floor: int
    budget_hourly: float | None
    # For every spot failure domain d: Σ x − x_d ≥ replicas (one wave in d keeps the target).
    wave_survival: bool = False
    # max_per_domain counts every replica of a domain (the user's --max-per-domain), not only
    # the spot ones (the default spread of --no-wave-survival, which is about preemption waves).
    spread_every: bool = False

    def relax(self, name: str) -> ModelSpec:
        if name == "spot_policy":
            return replace(self, spot_policy=None)
        if name == "max_price":
            return replace(self, max_price=None)
        if name == "creation_policy":
            return replace(self, reuse_only=False)
        if name == "capacity":
            return replace(self, capacity=False)
        if name == "failure_domain_spread":
            return replace(self, max_per_domain=None)
        if name == "wave_survival":
            return replace(self, wave_survival=False)
        if name == "availability_hedge":
            return replace(self, hedge=False)
        if name == "on_demand_floor":
            return replace(self, on_demand_floor=0)
        if name == "budget":
            return replace(self, budget_hourly=None)
        raise ValueError(f"not a relaxable constraint: {name}")

    def active(self) -> tuple[str, ...]:
        """The relaxable constraints that actually restrict this model."""
        names = []
        if self.spot_policy in ("spot", "on-demand"):
            names.append("spot_policy")
        if self.max_price is not None:
            names.append("max_price")
        if self.reuse_only:
            names.append("creation_policy")
        if self.capacity:
            names.append("capacity")
        if self.max_per_domain is not None:
            names.append("failure_domain_spread")
        if self.wave_survival:
            names.append("wave_survival")
        if self.hedge:
            names.append("availability_hedge")
        if self.on_demand_floor > 0:
            names.append("on_demand_floor")
        if self.budget_hourly is not None:
            names.append("budget")
        return tuple(names)


@dataclass(frozen=True)
class PoolArrays:
    """The pool table as numpy arrays (built once per plan; every solve slices it)."""

    price: np.ndarray  # float64 USD/hour per replica
    price_units: np.ndarray  # int64, 1e-6 USD (nearest)
    budget_units: np.ndarray  # int64, 1e-6 USD rounded up: the budget is never exceeded
    spot: np.ndarray  # bool
    capacity_type: np.ndarray  # object: on-demand | spot | reserved | existing
    capacity: np.ndarray  # int64, UNLIMITED = -1
    survival_units: np.ndarray  # int64, (1 - unavailability) × RATE_SCALE (replacement.py)
    rate: np.ndarray  # float64: assumed monthly interruption rate
    unavailable: np.ndarray  # float64: expected share of the month a replica is missing
    domain: np.ndarray  # int64 failure-domain id (backend, region)
    key_rank: np.ndarray  # int64: position in the lexicographic tie-break order (unique)
    # int64 zone id per pool (-1: the location is a region, not a zone); the zone spread tie-break.
    zone: np.ndarray | None = None

    @classmethod
    def from_frame(
        cls,
        pools: pd.DataFrame,
        domains: np.ndarray,
        unavailable: np.ndarray | None = None,
        zones: np.ndarray | None = None,
    ) -> PoolArrays:
        """``unavailable``: per pool, the expected share of the month a replica is missing
        (``replacement.unavailability``); default: the interruption rate (no replacement)."""
        price = pools["price"].to_numpy(dtype=np.float64)
        rate = pools["interruption_rate"].to_numpy(dtype=np.float64)
        missing = rate if unavailable is None else np.asarray(unavailable, dtype=np.float64)
        _check_prices(pools, price)
        return cls(
            price=price,
            price_units=np.rint(price * PRICE_SCALE).astype(np.int64),
            budget_units=np.ceil(price * PRICE_SCALE - UNIT_TOLERANCE).astype(np.int64),
            spot=pools["spot"].to_numpy(dtype=bool),
            capacity_type=pools["capacity_type"].to_numpy(dtype=object),
            capacity=pools["capacity"].to_numpy(dtype=np.int64),
            survival_units=available_units(missing),
            rate=rate,
            unavailable=missing,
            domain=domains,
            key_rank=_key_ranks(pools),
            zone=zones,
        )

    def __len__(self) -> int:
        return len(self.price)


def _check_prices(pools: pd.DataFrame, price: np.ndarray) -> None:
    """Every price on the model's grid: finite, ≥ 0, ≤ ``MAX_HOURLY_PRICE`` (NaN fails too)."""
    bad = np.flatnonzero(~((price >= 0) & (price <= MAX_HOURLY_PRICE)))
    if bad.size == 0:
        return
    pool = pools.iloc[int(bad[0])]
    raise InputError(
        f"the {pool['capacity_type']} offer {pool['provider']} {pool['region']} "
        f"{pool['instance_type']} costs {float(pool['price']):g} USD/h: the planner prices "
        f"instances between 0 and {MAX_HOURLY_PRICE:.0f} USD/h"
        + (f" ({bad.size - 1} more such offers)" if bad.size > 1 else "")
    )


def _key_ranks(pools: pd.DataFrame) -> np.ndarray:
    """Each pool's position in the tie-break order: backend, region, instance type (all
    case-insensitive), capacity type, price, catalog row. Unique per pool."""
    if pools.empty:
        return np.zeros(0, dtype=np.int64)
    codes = []
    for column in ("provider", "region", "instance_type", "capacity_type"):
        lowered = pools[column].astype(str).str.lower().to_numpy(dtype=object)
        codes.append(pd.factorize(lowered, sort=True)[0])
    keys = [
        pools["row_id"].to_numpy(dtype=np.int64),
        pools["price"].to_numpy(dtype=np.float64),
        *reversed(codes),
    ]
    order = np.lexsort(keys)  # the last key is the primary one
    rank = np.empty(len(pools), dtype=np.int64)
    rank[order] = np.arange(len(pools), dtype=np.int64)
    return rank


@dataclass(frozen=True)
class Solution:
    status: SolveStatus
    counts: np.ndarray  # int64 per pool (all pools of the PoolArrays), zeros when infeasible
    hourly_cost: float | None  # exact, from the counts and the float prices
    seconds: float
    model_pools: int  # pools left in the model after pruning


def _allowed(arrays: PoolArrays, spec: ModelSpec) -> np.ndarray:
    allowed = np.ones(len(arrays), dtype=bool)
    if spec.spot_policy == "spot":
        allowed &= arrays.spot
    elif spec.spot_policy == "on-demand":
        allowed &= ~arrays.spot
    if spec.max_price is not None:
        allowed &= arrays.price <= spec.max_price
    if spec.reuse_only:
        allowed &= arrays.capacity_type == "existing"
    return allowed


def max_total_replicas(arrays: PoolArrays, spec: ModelSpec, allowed: np.ndarray) -> int:
    """No optimal plan uses more replicas: beyond this, dropping one keeps every constraint.

    Hedge: above ⌈F·N/(1 − u_max)⌉ any replica can go (u: a replica's unavailability). Wave survival (x_d ≤ T − N for every
    spot domain d, M = the largest x_d): if T − M > N any replica can go; if T − M = N and
    M > N the largest domain is unique and one of its replicas can go. So a plan that cannot
    shrink has M ≤ min(K, N) and T = N + M ≤ N + min(K, N).
    """
    bound = spec.replicas
    if spec.hedge:
        units = arrays.survival_units[allowed & arrays.spot]
        worst = int(units.min()) if units.size else RATE_SCALE
        bound = max(bound, -(-hedge_needed_units(spec) // max(worst, 1)))
    wave = wave_active(arrays, spec, allowed)
    if wave:
        spread = spec.replicas if spec.max_per_domain is None else spec.max_per_domain
        bound = max(bound, spec.replicas + min(spread, spec.replicas))
    if spec.hedge or wave:
        # An on-demand floor above the target can only be met by extra on-demand replicas.
        bound = max(bound, spec.on_demand_floor)
    return bound


def wave_active(arrays: PoolArrays, spec: ModelSpec, allowed: np.ndarray) -> bool:
    """Wave survival restricts this model (it is on and some spot pool may be used)."""
    return spec.wave_survival and bool(np.any(allowed & arrays.spot))


def _upper_bounds(
    arrays: PoolArrays, spec: ModelSpec, allowed: np.ndarray, total_max: int
) -> np.ndarray:
    bounds = np.where(allowed, total_max, 0).astype(np.int64)
    limited = arrays.capacity != UNLIMITED
    if not spec.capacity:
        # Relaxing "capacity" lifts the capacity file's limits; reservations and idle instances
        # are counted things, not estimates, so they keep their counts.
        limited &= np.isin(arrays.capacity_type, ["reserved", "existing"])
    bounds = np.where(limited, np.minimum(bounds, arrays.capacity), bounds)
    if spec.max_per_domain is not None:
        spread = arrays.spot | spec.spread_every
        bounds = np.where(spread, np.minimum(bounds, spec.max_per_domain), bounds)
    if wave_active(arrays, spec, allowed):
        # x_d ≤ T − N ≤ T_max − N for every spot domain.
        bounds = np.where(arrays.spot, np.minimum(bounds, total_max - spec.replicas), bounds)
    return np.maximum(bounds, 0)


def class_bound(spec: ModelSpec, survival_units: np.ndarray, total_max: int) -> np.ndarray:
    """The most replicas an optimal plan puts on pools of one survival rate (per pool given).

    With more than max(N, floor, ceil(target·N / survival)) replicas of one class, dropping one
    of them keeps the total, the hedge and the floor satisfied and never raises the cost.
    """
    if not spec.hedge:
        return np.full(survival_units.shape, total_max, dtype=np.int64)
    needed = hedge_needed_units(spec)
    own = -(-needed // np.maximum(survival_units, 1))  # ceil division
    return np.minimum(
        np.maximum(np.maximum(own, spec.replicas), spec.on_demand_floor), total_max
    ).astype(np.int64)


def bounds_for(arrays: PoolArrays, spec: ModelSpec) -> tuple[np.ndarray, int]:
    """Per-pool upper bounds on the count under ``spec`` (0 = not allowed), and the replica cap."""
    allowed = _allowed(arrays, spec)
    total_max = max_total_replicas(arrays, spec, allowed)
    if total_max > MAX_MODEL_REPLICAS:
        raise ModelTooLarge(
            f"a plan of {spec.replicas} replicas may need up to {total_max} with hedge replicas "
            f"(availability target {spec.availability_target:g}, spot interruption rates up to "
            f"{float(arrays.rate[allowed & arrays.spot].max(initial=0.0)):g}); the planner "
            f"plans at most {MAX_MODEL_REPLICAS}: plan fewer replicas, lower the availability "
            "target or leave out the spot pools with the highest interruption rates"
        )
    return _upper_bounds(arrays, spec, allowed, total_max), total_max


def budget_units(budget_hourly: float) -> int:
    """The hourly budget on the price grid, rounded down (compared with ``budget_units``)."""
    return math.floor(budget_hourly * PRICE_SCALE + UNIT_TOLERANCE)


def hedge_needed_units(spec: ModelSpec) -> int:
    """The availability hedge's right-hand side, in RATE_SCALE units of surviving replicas."""
    return needed_units(spec.availability_target, spec.replicas)


def _prune(
    arrays: PoolArrays, bounds: np.ndarray, spec: ModelSpec, total_max: int, small_model: int
) -> np.ndarray:
    """Indices of the pools the model needs (see the module docstring for why this is exact)."""
    candidates = np.flatnonzero(bounds > 0)
    if candidates.size <= small_model:
        return candidates
    spot = arrays.spot[candidates]
    # The pools a spread limits: spot ones, or every one when the spread counts every replica.
    spread = spot | spec.spread_every
    frame = pd.DataFrame(
        {
            "index": candidates,
            "price": arrays.price_units[candidates],
            "key": arrays.key_rank[candidates],
            "capacity_type": arrays.capacity_type[candidates],
            "rate": arrays.survival_units[candidates],
            "domain": np.where(spread, arrays.domain[candidates], -1 - candidates),
            "bound": bounds[candidates],
            "limit": np.where(
                spread & (spec.max_per_domain is not None),
                spec.max_per_domain if spec.max_per_domain is not None else total_max,
                total_max,
            ),
        }
    )
    frame = frame.sort_values(["price", "key"], kind="stable")
    # Within a class, each pool adds what its failure domain can still take (capped per rule).
    domain_cumulative = frame.groupby(["capacity_type", "rate", "domain"], sort=False)[
        "bound"
    ].cumsum()
    before = domain_cumulative - frame["bound"]
    classes = [frame["capacity_type"], frame["rate"]]

    def reached_before(cap: Any) -> np.ndarray:
        """Per pool: Σ over the class's earlier domains of min(their capacity, cap)."""
        gain = np.minimum(domain_cumulative, cap) - np.minimum(before, cap)
        reached = gain.groupby(classes, sort=False).cumsum()
        return (reached - gain).to_numpy()

    if spec.spread_every and spec.max_per_domain is not None:
        spot_rows = (frame["capacity_type"] == "spot").to_numpy()
        spot_points, other_points = _every_replica_requirements(arrays, spec, total_max, candidates)
        across = np.zeros(len(frame), dtype=bool)
        for cap, required in spot_points:
            across |= spot_rows & (reached_before(cap) < required)
        for cap, required in other_points:
            across |= ~spot_rows & (reached_before(cap) < required)
        # Within a domain, a class never holds more than k replicas: past the cheapest pools
        # that can take k, a replica moves to a cheaper pool of its own domain (no domain count
        # changes), so those pools are never needed, even where ``across`` cannot prune.
        within = (before < frame["limit"]).to_numpy()
        keep = within & across
        keep |= frame["capacity_type"].isin(["reserved", "existing"]).to_numpy()
        return np.sort(frame.loc[keep, "index"].to_numpy(dtype=np.int64))
    # A class never holds more replicas than its own bound (see ``class_bound``).
    class_limit = class_bound(spec, frame["rate"].to_numpy(dtype=np.int64), total_max)
    keep = reached_before(frame["limit"]) < class_limit
    points = _domain_requirements(arrays, spec, total_max, candidates)
    if points is not None:
        spot_keep = np.zeros(len(frame), dtype=bool)
        for cap, required in points:
            spot_keep |= reached_before(cap) < required
        keep = np.where((frame["capacity_type"] == "spot").to_numpy(), spot_keep, keep)
    keep |= frame["capacity_type"].isin(["reserved", "existing"]).to_numpy()
    return np.sort(frame.loc[keep, "index"].to_numpy(dtype=np.int64))


def _every_replica_requirements(
    arrays: PoolArrays, spec: ModelSpec, total_max: int, candidates: np.ndarray
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """What the kept pools of each class must cover when the spread counts every replica of a
    domain (``spread_every``): (C, R) pairs for spot classes and for the others, meaning
    f(C) = Σ over the class's kept domains of min(capacity, C) ≥ R.

    Why: let an optimal plan of T replicas use a pruned pool Q of class c. Moving one replica of
    Q to a kept pool P of c (cheaper or equal, same survival) keeps every constraint unless P is
    full or P's domain holds ≥ C replicas of any class: C = k (the spread) for a class that is not
    spot, and C = min(k, T − N) for a spot class under wave survival (a domain at the wave limit
    holds ≥ T − N spot replicas). If no move is possible, every kept domain holds ≥ min(its
    capacity, C) replicas, domains are disjoint, and so T ≥ f(C): f(C) ≥ T + 1 rules it out.
    With C = T − N that is f(C) ≥ N + C + 1 for C in 1..min(k, T_max − N), checked at the ends
    (f is concave, the bound linear); otherwise C = k and f(k) ≥ T_max + 1.
    """
    k = spec.max_per_domain
    assert k is not None
    n = spec.replicas
    everything = [(k, total_max + 1)]
    allowed = np.zeros(len(arrays), dtype=bool)
    allowed[candidates] = True
    if not wave_active(arrays, spec, allowed):
        return everything, everything
    spot_points: list[tuple[int, int]] = []
    top = min(k, total_max - n)
    if top >= 1:
        spot_points += [(1, n + 2), (top, n + top + 1)]
    if k < total_max - n:
        spot_points.append((k, total_max + 1))
    return spot_points, everything


def _domain_requirements(
    arrays: PoolArrays, spec: ModelSpec, total_max: int, candidates: np.ndarray
) -> list[tuple[int, int]] | None:
    """What the kept spot pools of each class must cover when per-domain limits apply.

    ``None``: the class-bound rule is exact (no wave survival; the spread k, if any, applies
    to domains that hold one class only). Otherwise a list of (C, R): the kept pools of each
    spot class must reach f(C) = Σ over their domains of min(capacity, C) ≥ R.

    Why: let an optimal plan use a pruned pool Q (class c, domain d_Q). Moving one replica of Q
    to a kept pool P of class c (cheaper or equal, same survival) keeps every constraint unless
    P is full or P's domain holds x_d ≥ C = min(k, T − N) spot replicas (k: the spread; T − N:
    the wave-survival limit; all classes counted). If no move is possible, every kept domain
    is full or holds ≥ C, so the plan's spot replicas are S ≥ 1 + f(C). With the hedge,
    S · r_min ≤ T − F·N. Two cases: T − N ≤ k (then C = T − N and T = N + C: the kept pools
    must reach f(C) ≥ min(N + C, ((N + C) − F·N)/r_min) for each C in 1..min(k, T_max − N));
    or k < T − N (C = k: f(k) ≥ min(T_max, (T_max − F·N)/r_min)). f is concave in C and each
    right-hand side is linear on two pieces, so checking the ends of each piece suffices.
    """
    spot = arrays.spot[candidates]
    if not spot.any():
        return None
    allowed = np.zeros(len(arrays), dtype=bool)
    allowed[candidates] = True
    wave = wave_active(arrays, spec, allowed)
    if not wave:
        if spec.max_per_domain is None:
            return None
        kinds = pd.DataFrame(
            {
                "domain": arrays.domain[candidates][spot],
                "kind": pd.factorize(
                    pd.Series(arrays.capacity_type[candidates][spot]).astype(str)
                    + ":"
                    + pd.Series(arrays.survival_units[candidates][spot]).astype(str)
                )[0],
            }
        )
        if (kinds.groupby("domain")["kind"].nunique() <= 1).all():
            return None
    n = spec.replicas
    needed = hedge_needed_units(spec)
    best_survival = int(arrays.survival_units[candidates][spot].max())
    r_min = RATE_SCALE - best_survival  # the lowest spot interruption rate, in RATE_SCALE units
    hedged = spec.hedge and r_min > 0

    def spot_cap(total: float) -> float:
        """The most spot replicas a plan of ``total`` replicas can hold under the hedge."""
        if not hedged:
            return total
        return min(total, (total * RATE_SCALE - needed) / r_min)

    points: list[tuple[int, int]] = []

    def require(cap: int, value: float) -> None:
        required = math.ceil(value - 1e-9)
        if cap >= 1 and required > 0:
            points.append((cap, required))

    k = spec.max_per_domain
    if wave:
        top = total_max - n if k is None else min(k, total_max - n)
        if top >= 1:
            # On 1..crossing the hedge's line is the smaller bound; beyond it, N + C.
            if hedged and best_survival > 0:
                crossing = needed / best_survival - n
            else:
                crossing = math.inf if hedged else -math.inf
            if math.isinf(crossing):
                low_end, high_start = (top, top + 1) if crossing > 0 else (0, 1)
            else:
                low_end, high_start = min(top, math.floor(crossing)), max(1, math.ceil(crossing))
            if low_end >= 1:
                require(1, spot_cap(n + 1))
                require(low_end, spot_cap(n + low_end))
            if high_start <= top:
                require(high_start, n + high_start)
                require(top, n + top)
    if k is not None and (not wave or k < total_max - n):
        require(k, spot_cap(total_max))
    return points


def solve(
    arrays: PoolArrays,
    spec: ModelSpec,
    *,
    time_limit_seconds: float,
    num_workers: int,
    tie_break: bool = True,
    small_model: int = SMALL_MODEL,
) -> Solution:
    """The cheapest counts per pool satisfying ``spec`` (or why there are none).

    ``small_model``: with at most this many candidate pools, pruning is skipped (0: always prune).
    """
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    counts = np.zeros(len(arrays), dtype=np.int64)
    if spec.replicas == 0:
        return Solution("optimal", counts, 0.0, time.perf_counter() - started, 0)
    bounds, total_max = bounds_for(arrays, spec)
    chosen = _prune(arrays, bounds, spec, total_max, small_model)
    if chosen.size == 0 or int(bounds[chosen].sum()) < spec.replicas:
        return Solution("infeasible", counts, None, time.perf_counter() - started, int(chosen.size))

    upper = bounds[chosen]
    _check_magnitude(arrays, spec, chosen, upper, total_max)
    model = cp_model.CpModel()
    variables = [model.new_int_var(0, int(upper[i]), f"x{i}") for i in range(chosen.size)]
    prices = arrays.price_units[chosen]
    total = cp_model.LinearExpr.sum(variables)
    if total_max > spec.replicas:
        model.add(total >= spec.replicas).with_name("replica_total")
        model.add(total <= total_max).with_name("replica_total_bound")
    else:
        model.add(total == spec.replicas).with_name("replica_total")

    spot = arrays.spot[chosen]
    wave = spec.wave_survival and bool(spot.any())
    if spec.max_per_domain is not None or wave:
        spread = spec.max_per_domain
        if wave:
            # largest = the most spot replicas in one failure domain; T − largest ≥ N.
            largest = model.new_int_var(0, total_max - spec.replicas, "largest_domain")
            model.add(total - largest >= spec.replicas).with_name("wave_survival")
            for domain, members in _spot_domains(arrays.domain[chosen], spot):
                in_domain = cp_model.LinearExpr.sum([variables[i] for i in members])
                model.add(in_domain <= largest).with_name(f"wave_survival[{domain}]")
        if spread is not None:
            spread_pools = spot | spec.spread_every
            for domain, members in _spot_domains(arrays.domain[chosen], spread_pools):
                if members.size > 1:
                    in_domain = cp_model.LinearExpr.sum([variables[i] for i in members])
                    model.add(in_domain <= spread).with_name(f"failure_domain_spread[{domain}]")
    if spec.hedge:
        survival = arrays.survival_units[chosen]
        needed = hedge_needed_units(spec)
        model.add(
            cp_model.LinearExpr.weighted_sum(variables, [int(v) for v in survival]) >= needed
        ).with_name("availability_hedge")
    if spec.on_demand_floor > 0:
        steady = np.flatnonzero(~arrays.spot[chosen])
        model.add(
            cp_model.LinearExpr.sum([variables[i] for i in steady]) >= spec.on_demand_floor
        ).with_name("on_demand_floor")
    cost = cp_model.LinearExpr.weighted_sum(variables, [int(p) for p in prices])
    if spec.budget_hourly is not None:
        # Inclusive: a plan costing exactly the budget is within it.
        spend = cp_model.LinearExpr.weighted_sum(
            variables, [int(p) for p in arrays.budget_units[chosen]]
        )
        model.add(spend <= budget_units(spec.budget_hourly)).with_name("budget")
    # At equal cost, prefer capacity that already exists (idle fleet instances, reservations),
    # as dstack lists them ahead of new offers: each new replica adds less than one cost unit.
    fresh = np.flatnonzero(~np.isin(arrays.capacity_type[chosen], ["reserved", "existing"]))
    objective = cost * (total_max + 1) + cp_model.LinearExpr.sum([variables[i] for i in fresh])
    model.minimize(objective)

    solver = cost_solver(num_workers, time_limit_seconds)
    status = solver.solve(model)
    if status == cp_model.MODEL_INVALID:
        # Never "infeasible": an invalid model proves nothing about the plan.
        raise InputError(
            "the solver refused the planning model: "
            f"{solver.solution_info().splitlines()[0] if solver.solution_info() else 'invalid'} "
            "(inputs within the limits of docs/planning.md never get here: please report it)"
        )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        timed_out = status == cp_model.UNKNOWN
        return Solution(
            "timeout" if timed_out else "infeasible",
            counts,
            None,
            time.perf_counter() - started,
            int(chosen.size),
        )
    values = np.array([solver.value(v) for v in variables], dtype=np.int64)
    proven = status == cp_model.OPTIMAL
    if proven and tie_break:
        remaining = time_limit_seconds - (time.perf_counter() - started)
        # The objective's value in exact integers (the solver reports a double, which cannot
        # hold every integer beyond 2**53).
        best = int(np.dot(values, prices)) * (total_max + 1) + int(values[fresh].sum())
        values = _tie_break(
            model,
            variables,
            values,
            objective,
            best,
            arrays,
            chosen,
            remaining,
            int(upper.sum()),
        )
    counts[chosen] = values
    return Solution(
        "optimal" if proven else "feasible",
        counts,
        float(np.dot(counts, arrays.price)),
        time.perf_counter() - started,
        int(chosen.size),
    )


def _check_magnitude(
    arrays: PoolArrays, spec: ModelSpec, chosen: np.ndarray, upper: np.ndarray, total_max: int
) -> None:
    """Refuse (``InputError``) a model whose objective or budget could overflow CP-SAT's 64-bit
    integers: the solver would call it MODEL_INVALID, which proves nothing about the plan.

    CP-SAT's own test: Σ |coefficient| × upper bound of each linear expression. Computed in
    floats, which cannot overflow here (every factor is bounded by the limits of limits.py).
    """
    bounds = upper.astype(np.float64)
    cost = float(np.dot(arrays.price_units[chosen].astype(np.float64), bounds))
    magnitude = cost * (total_max + 1) + float(bounds.sum())
    if spec.budget_hourly is not None:
        magnitude = max(
            magnitude, float(np.dot(arrays.budget_units[chosen].astype(np.float64), bounds))
        )
    if magnitude <= MAX_MODEL_MAGNITUDE:
        return
    raise ModelTooLarge(
        f"the plan is too large for the solver's 64-bit integers: {spec.replicas} replicas "
        f"(up to {total_max} with hedge replicas) over {chosen.size} pools priced up to "
        f"{float(arrays.price[chosen].max()):g} USD/h; plan fewer replicas, or narrow the "
        "offers (resources, backends, max_price)"
    )


def _spot_domains(domains: np.ndarray, spot: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(domain id, positions of its ``spot``-marked pools) for every domain holding one."""
    positions = np.flatnonzero(spot)
    if positions.size == 0:
        return []
    order = positions[np.argsort(domains[positions], kind="stable")]
    ids, starts = np.unique(domains[order], return_index=True)
    return [
        (int(domain), members)
        for domain, members in zip(ids, np.split(order, starts[1:]), strict=True)
    ]


def _tie_break(
    model: Any,
    variables: list[Any],
    values: np.ndarray,
    objective: Any,
    best_objective: int,
    arrays: PoolArrays,
    chosen: np.ndarray,
    time_limit_seconds: float,
    total_bound: int,
) -> np.ndarray:
    """Among plans of the optimal objective: the lowest assumed interruption risk, then the
    widest spread over zones, then fewest pools, then earliest keys. One worker and a deterministic work limit per step."""
    from ortools.sat.python import cp_model

    size = chosen.size
    if size == 1 or time_limit_seconds <= 0.01:
        return values
    started = time.perf_counter()
    order = np.argsort(arrays.key_rank[chosen], kind="stable")
    rank = np.empty(size, dtype=np.int64)
    rank[order] = np.arange(size, dtype=np.int64)
    model.add(objective == best_objective)
    # Expected interruptions per month, in RATE_SCALE units: Σ x_p · r_p (0 off spot).
    risk_units = (RATE_SCALE - arrays.survival_units[chosen]) * arrays.spot[chosen]
    if np.unique(risk_units).size > 1:
        risk = cp_model.LinearExpr.weighted_sum(variables, [int(r) for r in risk_units])
        model.minimize(risk)
        _hint(model, variables, values)
        solver = tie_break_solver(time_limit_seconds)
        status = solver.solve(model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = np.array([solver.value(v) for v in variables], dtype=np.int64)
            least = int(np.dot(values, risk_units))
            if status == cp_model.OPTIMAL:
                model.add(risk == least)
            else:
                model.add(risk <= least)
        time_limit_seconds -= time.perf_counter() - started
        if time_limit_seconds <= 0.01:
            return values
    if arrays.zone is not None:
        values = _spread_zones(
            model, variables, values, arrays.zone[chosen], total_bound, time_limit_seconds
        )
        time_limit_seconds -= time.perf_counter() - started
        if time_limit_seconds <= 0.01:
            return values
    used = [model.new_bool_var(f"used{i}") for i in range(size)]
    for i in range(size):
        model.add(variables[i] == 0).only_enforce_if(~used[i])
        model.add(variables[i] >= 1).only_enforce_if(used[i])
    pool_weight = size * size + 1  # one pool fewer outweighs any difference in ranks
    weights = [int(pool_weight + rank[i]) for i in range(size)]
    model.minimize(cp_model.LinearExpr.weighted_sum(used, weights))
    _hint(model, variables, values)
    for flag, value in zip(used, values, strict=True):
        model.add_hint(flag, bool(value > 0))
    solver = tie_break_solver(time_limit_seconds)
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return np.array([solver.value(v) for v in variables], dtype=np.int64)
    return values


def _spread_zones(
    model: Any,
    variables: list[Any],
    values: np.ndarray,
    zones: np.ndarray,
    total_bound: int,
    time_limit_seconds: float,
) -> np.ndarray:
    """Among plans of the optimal cost and risk: replicas on as many zones as possible, then the
    fewest in the fullest zone. Zones are the second level of a failure domain (a region's
    zones, for providers whose catalog lists zones); pools whose location is a region (zone -1)
    are not counted. Fixes the result in ``model`` for the next tie-break step."""
    from ortools.sat.python import cp_model

    groups = _spot_domains(zones, zones >= 0)
    if len(groups) < 2:
        return values
    largest = model.new_int_var(0, total_bound, "largest_zone")
    flags = []
    for zone, members in groups:
        in_zone = cp_model.LinearExpr.sum([variables[i] for i in members])
        model.add(in_zone <= largest)
        flag = model.new_bool_var(f"zone_used{zone}")
        model.add(in_zone >= 1).only_enforce_if(flag)
        flags.append(flag)
    zones_used = cp_model.LinearExpr.sum(flags)
    spread = zones_used * (total_bound + 1) - largest
    model.maximize(spread)
    _hint(model, variables, values)
    solver = tie_break_solver(time_limit_seconds)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return values
    values = np.array([solver.value(v) for v in variables], dtype=np.int64)
    achieved = int(solver.value(zones_used)) * (total_bound + 1) - int(solver.value(largest))
    model.add(spread >= achieved)
    return values


def _hint(model: Any, variables: list[Any], values: np.ndarray) -> None:
    model.clear_hints()
    for var, value in zip(variables, values, strict=True):
        model.add_hint(var, int(value))
