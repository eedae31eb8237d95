"""Exhaustive enumeration of a replica-group plan (no solver), as docs/planning.md defines it for
on-demand groups: each group runs n_g replicas (n_g in its range), on its own offers; a capacity
shared by groups holds its count over all of them; every role that can run two replicas or more
keeps a replica outside each failure domain (best-effort, role by role); with ``rps``, the
rps groups of each role have targets adding up to at least ``rps``."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pool:
    price: float
    domain: str
    key: str  # the same capacity in several groups has the same key
    capacity: int | None = None


@dataclass(frozen=True)
class Group:
    pools: tuple[Pool, ...]
    low: int
    high: int
    role: str
    rps_target: float | None = None


def _compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def cheapest(
    groups: Sequence[Group], rps: float | None = None
) -> tuple[float, tuple[int, ...]] | None:
    """(the lowest hourly cost, the replicas per group) or None when no plan exists.

    The failure-domain rule is best-effort role by role, as the planner applies it: every role
    that can run two replicas, the ``rps`` role first, then in the order the groups come; a role
    keeps the rule when a plan exists with it and the roles kept before it."""
    most: dict[str, int] = {}
    for group in groups:
        most[group.role] = most.get(group.role, 0) + group.high
    order = sorted(
        (role for role, count in most.items() if count >= 2),
        key=lambda role: (role != "rps", [g.role for g in groups].index(role)),
    )
    best = _cheapest(groups, rps, set(order))
    if best is not None:
        return best
    kept: set[str] = set()
    for role in order:
        if _cheapest(groups, rps, kept | {role}) is not None:
            kept.add(role)
    return _cheapest(groups, rps, kept)


def _cheapest(
    groups: Sequence[Group], rps: float | None, protected: set[str]
) -> tuple[float, tuple[int, ...]] | None:
    options = []
    for group in groups:
        choices = []
        for n in range(group.low, group.high + 1):
            for counts in _compositions(n, len(group.pools)):
                choices.append((n, counts))
        options.append(choices)
    best: tuple[float, tuple[int, ...]] | None = None
    for combo in itertools.product(*options):
        if rps is not None:
            # Every role serves the whole traffic: its rps groups' targets add up.
            served: dict[str, float] = {}
            for g, (n, _) in zip(groups, combo, strict=True):
                if g.rps_target:
                    served[g.role] = served.get(g.role, 0.0) + g.rps_target * n
            if min(served.values()) < rps - 1e-9:
                continue
        used: dict[str, int] = {}
        limits: dict[str, int] = {}
        for group, (_, counts) in zip(groups, combo, strict=True):
            for pool, count in zip(group.pools, counts, strict=True):
                used[pool.key] = used.get(pool.key, 0) + count
                if pool.capacity is not None:
                    limits[pool.key] = pool.capacity
        if any(used[key] > limit for key, limit in limits.items()):
            continue
        if protected and not _survives(groups, combo, protected):
            continue
        cost = sum(
            pool.price * count
            for group, (_, counts) in zip(groups, combo, strict=True)
            for pool, count in zip(group.pools, counts, strict=True)
        )
        if best is None or cost < best[0] - 1e-9:
            best = (cost, tuple(n for n, _ in combo))
    return best


def _survives(
    groups: Sequence[Group], combo: Sequence[tuple[int, tuple[int, ...]]], protected: set[str]
) -> bool:
    for role in protected:
        members = [
            (g, counts) for g, (_, counts) in zip(groups, combo, strict=True) if g.role == role
        ]
        total = sum(sum(counts) for _, counts in members)
        domains = {pool.domain for g, _ in members for pool in g.pools}
        for domain in domains:
            inside = sum(
                c
                for g, counts in members
                for p, c in zip(g.pools, counts, strict=True)
                if p.domain == domain
            )
            if total - inside < 1:
                return False
    return True
