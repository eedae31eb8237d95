"""One CP-SAT model over every replica group of a service (docs/planning.md, "Replica groups").

Each group keeps its own pools (its own offers) and its own constraints — spot policy, max_price,
capacity, the spread and wave survival of its spot replicas, the expected-survival hedge, the
on-demand floor — built from the group's ``ModelSpec`` with the same public helpers the
single-group model uses (``bounds_for``, ``hedge_needed_units``). What the groups share is added
on top:

- **capacity counted once**: a pool with an obtainable count that several groups can use (the
  same backend, region, instance type, capacity type) holds at most that count over all groups;
- **failure-domain survival of the service**: for every *role* (a group, or all the
  interchangeable rps groups together) and every failure domain d, at least one of the role's
  replicas is outside d — one region lost never takes down a part the service needs;
- **traffic** (``rps``): the rps groups' replica counts n_g are variables within their count
  ranges; every role serves the whole traffic: Σ over its groups of target_g · n_g ≥ rps;
- the user's ``--max-per-domain`` **service-wide**: at most k replicas of all groups together
  in any one failure domain (the per-group constraint still holds; the default spread of half
  the spot replicas stays per group);
- the hourly **budget** over all groups.

The ``--on-demand-floor`` is per group: each group runs at least min(floor, its target n_g)
replicas on capacity that is never interrupted.

The objective is the total hourly cost (prices on the 1e-6 USD grid); a second, single-worker
solve at that cost takes the pools earliest in key order, so the same input gives the same plan.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from planner.placement.inputs import UNLIMITED
from planner.placement.model import (
    ModelSpec,
    PoolArrays,
    SolveStatus,
    bounds_for,
    budget_units,
    hedge_needed_units,
    wave_active,
)
from planner.placement.replacement import needed_units
from planner.placement.solver import cost_solver, tie_break_solver

# Requests per second on an integer grid: 1 unit = 0.001 rps.
RPS_SCALE: Final = 1000


@dataclass(frozen=True)
class GroupProblem:
    """One group as the model sees it: its pools and constraints, and the counts it may run."""

    name: str | None
    arrays: PoolArrays
    spec: ModelSpec  # at ``high`` replicas (the per-pool bounds hold for every count ≤ high)
    low: int  # the fewest replicas (the target when low == high)
    high: int
    rps_target: float | None  # requests per second one replica serves, when in the rps role
    role: int  # groups with one role are interchangeable for failure-domain survival
    shared: np.ndarray  # int64 per pool: an id equal across groups for the same capacity


@dataclass(frozen=True)
class GroupSolution:
    status: SolveStatus
    counts: tuple[np.ndarray, ...]  # per group, int64 per pool
    replicas: tuple[int, ...]  # n_g: the replica target chosen per group
    hourly_cost: float | None
    seconds: float


def rps_units(value: float) -> int:
    """A request rate on the model's integer grid (rounded up: the target is never lowered)."""
    return math.ceil(value * RPS_SCALE - 1e-6)


def target_units(value: float) -> int:
    """One replica's rps target on the grid (rounded down: a replica never counts for more)."""
    return math.floor(value * RPS_SCALE + 1e-6)


def solve_groups(
    groups: Sequence[GroupProblem],
    *,
    rps: float | None,
    domain_survival: frozenset[int],
    shared_capacity: dict[int, int],
    budget_hourly: float | None,
    time_limit_seconds: float,
    num_workers: int,
    tie_break: bool = True,
    max_per_domain: int | None = None,
) -> GroupSolution:
    """The cheapest counts per pool of every group together (or ``infeasible``/``timeout``).

    ``shared_capacity``: obtainable count per shared id (ids absent: unlimited).
    ``domain_survival``: the roles the service-wide failure-domain rule protects (see the module
    docstring); a role that can run only one replica cannot be protected and is left out.
    ``max_per_domain``: the user's ``--max-per-domain``, service-wide: at most this many replicas
    of all groups together in any one failure domain (every replica counts).
    """
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    empty = tuple(np.zeros(len(group.arrays), dtype=np.int64) for group in groups)
    model = cp_model.CpModel()
    variables: list[list[Any]] = []
    chosen: list[np.ndarray] = []
    targets: list[Any] = []
    totals: list[Any] = []
    for g, group in enumerate(groups):
        bounds, total_max = bounds_for(group.arrays, group.spec)
        picked = np.flatnonzero((bounds > 0) & needed_pools(group.arrays, bounds))
        chosen.append(picked)
        xs = [model.new_int_var(0, int(bounds[i]), f"x{g}_{i}") for i in picked]
        variables.append(xs)
        n = model.new_int_var(group.low, group.high, f"n{g}")
        targets.append(n)
        total = cp_model.LinearExpr.sum(xs)
        totals.append(total)
        if group.high == 0:
            continue
        _group_constraints(model, g, group, picked, xs, n, total, total_max)

    # Capacity counted once: every shared id several groups can use holds its count.
    members: dict[int, list[Any]] = {}
    for g, group in enumerate(groups):
        for position, i in enumerate(chosen[g]):
            members.setdefault(int(group.shared[i]), []).append(variables[g][position])
    for shared_id, xs in members.items():
        limit = shared_capacity.get(shared_id)
        if limit is not None and len(xs) > 1:
            model.add(cp_model.LinearExpr.sum(xs) <= limit).with_name(
                f"shared_capacity[{shared_id}]"
            )

    if rps is not None:
        # Each role serves the whole traffic: its interchangeable groups' targets add up.
        terms: dict[int, list[tuple[Any, int]]] = {}
        for g, group in enumerate(groups):
            if group.rps_target is not None:
                terms.setdefault(group.role, []).append(
                    (targets[g], target_units(group.rps_target))
                )
        for role, role_terms in terms.items():
            model.add(
                cp_model.LinearExpr.weighted_sum(
                    [t for t, _ in role_terms], [w for _, w in role_terms]
                )
                >= rps_units(rps)
            ).with_name(f"rps[{role}]")

    if domain_survival:
        _domain_survival(model, groups, chosen, variables, totals, domain_survival)
    if max_per_domain is not None:
        # A failure domain is shared by every group: its replicas of all groups count together.
        in_domain: dict[int, list[Any]] = {}
        for g, group in enumerate(groups):
            for position, domain in enumerate(group.arrays.domain[chosen[g]].tolist()):
                in_domain.setdefault(int(domain), []).append(variables[g][position])
        for domain, xs in in_domain.items():
            model.add(cp_model.LinearExpr.sum(xs) <= max_per_domain).with_name(
                f"max_per_domain[{domain}]"
            )

    prices = [group.arrays.price_units[chosen[g]] for g, group in enumerate(groups)]
    flat = [x for xs in variables for x in xs]
    cost = cp_model.LinearExpr.weighted_sum(flat, [int(p) for units in prices for p in units])
    if budget_hourly is not None:
        spend = cp_model.LinearExpr.weighted_sum(
            flat,
            [
                int(b)
                for g, group in enumerate(groups)
                for b in group.arrays.budget_units[chosen[g]]
            ],
        )
        model.add(spend <= budget_units(budget_hourly)).with_name("budget")
    # At equal cost, fewer replicas (no needless extra ones) and fewer of them on new capacity
    # (idle fleet instances and reservations first, as in the single-group model), then fewer
    # groups' targets.
    fresh = [
        variables[g][position]
        for g, group in enumerate(groups)
        for position, i in enumerate(chosen[g])
        if group.arrays.capacity_type[i] not in ("reserved", "existing")
    ]
    weight = sum(group.high for group in groups) * 6 + 8
    objective = (
        cost * weight
        + cp_model.LinearExpr.sum(flat)
        + cp_model.LinearExpr.sum(fresh)
        + cp_model.LinearExpr.sum(targets)
    )
    model.minimize(objective)

    solver = cost_solver(num_workers, time_limit_seconds)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        kind: SolveStatus = "timeout" if status == cp_model.UNKNOWN else "infeasible"
        return GroupSolution(kind, empty, (), None, time.perf_counter() - started)
    proven = status == cp_model.OPTIMAL
    if proven and tie_break:
        best = int(solver.value(objective))
        model.add(objective <= best)
        ranks = [int(r) for g, group in enumerate(groups) for r in group.arrays.key_rank[chosen[g]]]
        model.minimize(cp_model.LinearExpr.weighted_sum(flat, [r + 1 for r in ranks]))
        for var in flat:
            model.add_hint(var, solver.value(var))
        second = tie_break_solver(time_limit_seconds - (time.perf_counter() - started))
        if second.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solver = second
    counts = []
    for g, group in enumerate(groups):
        values = np.zeros(len(group.arrays), dtype=np.int64)
        values[chosen[g]] = [solver.value(x) for x in variables[g]]
        counts.append(values)
    hourly = float(
        sum(np.dot(c, group.arrays.price) for c, group in zip(counts, groups, strict=True))
    )
    return GroupSolution(
        "optimal" if proven else "feasible",
        tuple(counts),
        tuple(int(solver.value(n)) for n in targets),
        hourly,
        time.perf_counter() - started,
    )


def needed_pools(arrays: PoolArrays, bounds: np.ndarray) -> np.ndarray:
    """The pools an optimal plan may need (a bool per pool).

    Pools of one failure domain with the same spot flag, capacity type and survival rate are
    interchangeable for every constraint of the model but their capacity. So when such a class
    has a pool of unlimited capacity, a pricier pool of that class is never needed: its replicas
    can move to the cheapest unlimited one without breaking a constraint or raising the cost.
    Every pool of limited capacity that is not pricier stays (its count may be shared).
    """
    if len(arrays) == 0:
        return np.zeros(0, dtype=bool)
    frame = pd.DataFrame(
        {
            "domain": arrays.domain,
            "spot": arrays.spot,
            "kind": arrays.capacity_type.astype(str),
            "survival": arrays.survival_units,
            "price": arrays.price_units,
            "rank": arrays.key_rank,
        }
    )
    usable = bounds > 0
    unlimited = usable & (arrays.capacity == UNLIMITED)
    classes = frame.groupby(["domain", "spot", "kind", "survival"], sort=False).ngroup().to_numpy()
    order = np.lexsort((arrays.key_rank, arrays.price_units))
    order = order[unlimited[order]]
    # The cheapest unlimited pool of each class (ties: the earliest key).
    _, first = np.unique(classes[order], return_index=True)
    best = order[first]
    best_price = np.full(int(classes.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    best_price[classes[best]] = arrays.price_units[best]
    keep = usable & ~unlimited & (arrays.price_units <= best_price[classes])
    keep[best] = True
    return keep


def _group_constraints(
    model: Any,
    g: int,
    group: GroupProblem,
    picked: np.ndarray,
    xs: list[Any],
    n: Any,
    total: Any,
    total_max: int,
) -> None:
    """One group's own constraints, as the single-group model states them, with the target n."""
    from ortools.sat.python import cp_model

    arrays, spec = group.arrays, group.spec
    allowed = np.zeros(len(arrays), dtype=bool)
    allowed[picked] = True
    wave = wave_active(arrays, spec, allowed)
    model.add(total >= n).with_name(f"replica_total[{g}]")
    if spec.hedge or wave:
        model.add(total <= total_max).with_name(f"replica_total_bound[{g}]")
    else:
        model.add(total == n).with_name(f"replica_total[{g}]")
    spot = arrays.spot[picked]
    domains = arrays.domain[picked]
    if wave:
        largest = model.new_int_var(0, max(0, total_max - group.low), f"largest{g}")
        model.add(total - largest >= n).with_name(f"wave_survival[{g}]")
        for members in _domain_members(domains, spot):
            model.add(cp_model.LinearExpr.sum([xs[i] for i in members]) <= largest)
    if spec.max_per_domain is not None:
        for members in _domain_members(domains, spot | spec.spread_every):
            if members.size > 1:
                in_domain = cp_model.LinearExpr.sum([xs[i] for i in members])
                model.add(in_domain <= spec.max_per_domain)
    if spec.hedge:
        survival = [int(v) for v in arrays.survival_units[picked]]
        if group.low == group.high:
            needed = hedge_needed_units(spec)
            model.add(cp_model.LinearExpr.weighted_sum(xs, survival) >= needed)
        else:
            per_replica = needed_units(spec.availability_target, 1)
            model.add(cp_model.LinearExpr.weighted_sum(xs, survival) >= per_replica * n)
    if spec.on_demand_floor > 0:
        # Per group, capped at the group's replica target n (a floor above it means every
        # replica): Σ on-demand x ≥ min(floor, n).
        steady = np.flatnonzero(~spot)
        floor = min(spec.on_demand_floor, group.high)
        if group.low == group.high:
            target: Any = floor
        else:
            target = model.new_int_var(0, floor, f"floor{g}")
            model.add_min_equality(target, [n, floor])
        model.add(cp_model.LinearExpr.sum([xs[i] for i in steady]) >= target).with_name(
            f"on_demand_floor[{g}]"
        )


def _domain_members(domains: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
    """Positions of the ``mask``-marked pools, one array per failure domain."""
    positions = np.flatnonzero(mask)
    if positions.size == 0:
        return []
    order = positions[np.argsort(domains[positions], kind="stable")]
    _, starts = np.unique(domains[order], return_index=True)
    return list(np.split(order, starts[1:]))


def _domain_survival(
    model: Any,
    groups: Sequence[GroupProblem],
    chosen: list[np.ndarray],
    variables: list[list[Any]],
    totals: list[Any],
    protected: frozenset[int],
) -> None:
    """For every protected role and failure domain d: the role keeps a replica outside d."""
    from ortools.sat.python import cp_model

    roles: dict[int, list[int]] = {}
    for g, group in enumerate(groups):
        if group.high > 0 and group.role in protected:
            roles.setdefault(group.role, []).append(g)
    for role, members in roles.items():
        role_total = cp_model.LinearExpr.sum([totals[g] for g in members])
        in_domain: dict[int, list[Any]] = {}
        for g in members:
            domains = groups[g].arrays.domain[chosen[g]]
            for position, domain in enumerate(domains.tolist()):
                in_domain.setdefault(int(domain), []).append(variables[g][position])
        for domain, xs in in_domain.items():
            model.add(role_total - cp_model.LinearExpr.sum(xs) >= 1).with_name(
                f"domain_survival[{role},{domain}]"
            )


def shared_limits(groups: Sequence[GroupProblem], enforce_estimates: bool) -> dict[int, int]:
    """The obtainable count of every shared id that has one (reservations and idle instances
    always; capacity-file and listing counts when ``enforce_estimates``)."""
    limits: dict[int, int] = {}
    for group in groups:
        arrays = group.arrays
        limited = arrays.capacity != UNLIMITED
        if not enforce_estimates:
            limited &= np.isin(arrays.capacity_type, ["reserved", "existing"])
        for i in np.flatnonzero(limited):
            limits[int(group.shared[i])] = int(arrays.capacity[i])
    return limits
