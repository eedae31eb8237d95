"""The event-driven simulator: replays one ``Scenario`` under one ``Policy``.

Time is in whole minutes. Nothing changes between events, so the loop visits only the minutes at
which something happens — a preemption wave, a replica becoming ready, or a wake-up a policy asked
for (a retry after a failed launch, a periodic check) — typically a few hundred per month instead
of 43,200. At each such minute the simulator first applies the waves, then marks replicas ready,
then lets the policy react (launch / terminate). Launches are answered immediately: a market that
is short of capacity refuses, otherwise the replica is billed from that minute and serves
``provisioning_minutes`` later.

Accounting happens once at the end, vectorized over replicas: cost = Σ price × (end − launch) / 60
(per-minute billing from the launch request, provisioning included), and the ready-replica count
per minute is a cumulative sum of +1 at each ready minute and −1 at each end.

The service is assumed already serving at minute 0: replicas launched at minute 0 are ready at
once (a warm start), so every policy starts from its own steady state and the month measures
reactions to events, not the first cold start.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from planner.simulate.scenario import Market, Scenario


@dataclass
class Replica:
    """One launched instance. ``end`` is None while it is alive."""

    id: int
    market: int
    spot: bool
    launch: int
    ready: int
    end: int | None = None
    tag: int = -1  # the policy's own bookkeeping (e.g. the plan slot it fills)
    interrupted: bool = False

    def is_ready(self, minute: int) -> bool:
        return self.end is None and self.ready <= minute


@dataclass
class Simulation:
    """The state a policy sees and acts on at one event minute."""

    scenario: Scenario
    minute: int = 0
    replicas: list[Replica] = field(default_factory=list)
    alive: dict[int, Replica] = field(default_factory=dict)
    failed_launches: int = 0
    _ready_heap: list[int] = field(default_factory=list)

    @property
    def markets(self) -> tuple[Market, ...]:
        return self.scenario.markets

    def launch(self, market: int, *, tag: int = -1) -> Replica | None:
        """Request one instance in ``market`` now; None when the market has no capacity."""
        if not self.scenario.available(market, self.minute):
            self.failed_launches += 1
            return None
        # Warm start: what runs at minute 0 is already serving (see the module docstring).
        delay = 0 if self.minute == 0 else self.scenario.provisioning_minutes
        replica = Replica(
            id=len(self.replicas),
            market=market,
            spot=self.scenario.markets[market].spot,
            launch=self.minute,
            ready=self.minute + delay,
            tag=tag,
        )
        self.replicas.append(replica)
        self.alive[replica.id] = replica
        if delay > 0:
            heapq.heappush(self._ready_heap, replica.ready)
        return replica

    def terminate(self, replica: Replica) -> None:
        if replica.end is None:
            replica.end = self.minute
            self.alive.pop(replica.id, None)

    def alive_replicas(self, *, spot: bool | None = None) -> list[Replica]:
        return [r for r in self.alive.values() if spot is None or r.spot == spot]

    def ready_count(self, *, spot: bool | None = None) -> int:
        return sum(
            1
            for r in self.alive.values()
            if r.ready <= self.minute and (spot is None or r.spot == spot)
        )


class Policy(Protocol):
    """A replica-management policy. A fresh ``reset`` precedes every replay."""

    name: str
    target: int

    def reset(self) -> None: ...

    def react(
        self, sim: Simulation, interrupted: Sequence[Replica], became_ready: Sequence[Replica]
    ) -> int | None:
        """Act at ``sim.minute``; return the minute to be woken up next (None: only on events)."""
        ...


@dataclass(frozen=True, eq=False)
class SimulationResult:
    policy: str
    seed: int | None
    target: int
    horizon: int
    cost: float  # USD over the horizon
    ready_counts: np.ndarray  # int [minute]: ready replicas
    replica_minutes_spot: int
    replica_minutes_on_demand: int
    interruptions: int
    launches: int
    failed_launches: int
    events: int

    @property
    def availability(self) -> float:
        """Fraction of minutes with at least ``target`` ready replicas."""
        return float(np.mean(self.ready_counts >= self.target))

    @property
    def minutes_below_target(self) -> int:
        return int(np.count_nonzero(self.ready_counts < self.target))

    @property
    def hourly_cost(self) -> float:
        return self.cost / (self.horizon / 60.0)

    @property
    def spot_share(self) -> float:
        total = self.replica_minutes_spot + self.replica_minutes_on_demand
        return self.replica_minutes_spot / total if total else 0.0


def simulate(scenario: Scenario, policy: Policy) -> SimulationResult:
    """Replay ``scenario`` under ``policy`` (reset first) and account for cost and readiness."""
    policy.reset()
    sim = Simulation(scenario=scenario)
    horizon = scenario.horizon
    waves_at: dict[int, list[int]] = {}
    for index, wave in enumerate(scenario.waves):
        waves_at.setdefault(wave.minute, []).append(index)
    wave_minutes = sorted(waves_at)
    next_wave = 0
    wakeups: list[int] = [0]  # minutes the policy asked to be woken at
    interruptions = 0
    events = 0
    while True:
        candidates = [
            m
            for m in (wakeups[:1] + sim._ready_heap[:1] + wave_minutes[next_wave : next_wave + 1])
            if m < horizon
        ]
        if not candidates:
            break
        minute = min(candidates)
        sim.minute = minute
        woken = False
        for heap in (wakeups, sim._ready_heap):
            while heap and heap[0] <= minute:
                heapq.heappop(heap)
                woken = True
        interrupted: list[Replica] = []
        if next_wave < len(wave_minutes) and wave_minutes[next_wave] == minute:
            next_wave += 1
            for index in waves_at[minute]:
                wave = scenario.waves[index]
                # Oldest first: replicas of one market are identical, the choice is only for
                # determinism.
                in_market = sorted(
                    (r for r in sim.alive.values() if r.market == wave.market),
                    key=lambda r: r.id,
                )
                for replica in in_market[: wave.victims(len(in_market))]:
                    replica.interrupted = True
                    sim.terminate(replica)
                    interrupted.append(replica)
        interruptions += len(interrupted)
        if not interrupted and not woken:
            # Only waves in markets the policy does not use: nothing changed for it.
            continue
        events += 1
        became_ready = [r for r in sim.alive.values() if r.ready == minute and r.launch < minute]
        wake = policy.react(sim, interrupted, became_ready)
        if wake is not None and minute < wake < horizon:
            heapq.heappush(wakeups, wake)
    return _account(sim, policy, scenario, interruptions, events)


def _account(
    sim: Simulation, policy: Policy, scenario: Scenario, interruptions: int, events: int
) -> SimulationResult:
    horizon = scenario.horizon
    count = len(sim.replicas)
    launch = np.fromiter((r.launch for r in sim.replicas), dtype=np.int64, count=count)
    ready = np.fromiter((r.ready for r in sim.replicas), dtype=np.int64, count=count)
    end = np.fromiter(
        (horizon if r.end is None else r.end for r in sim.replicas), dtype=np.int64, count=count
    )
    market = np.fromiter((r.market for r in sim.replicas), dtype=np.int64, count=count)
    prices = np.fromiter((m.price for m in scenario.markets), dtype=np.float64)
    spot = np.fromiter((m.spot for m in scenario.markets), dtype=bool)
    minutes = end - launch
    cost = float(np.dot(prices[market], minutes) / 60.0) if count else 0.0
    serving = ready < end
    diff = np.zeros(horizon + 1, dtype=np.int64)
    np.add.at(diff, ready[serving], 1)
    np.add.at(diff, end[serving], -1)
    ready_counts = np.cumsum(diff)[:horizon]
    is_spot = spot[market] if count else np.zeros(0, dtype=bool)
    return SimulationResult(
        policy=policy.name,
        seed=scenario.seed,
        target=policy.target,
        horizon=horizon,
        cost=cost,
        ready_counts=ready_counts,
        replica_minutes_spot=int(minutes[is_spot].sum()),
        replica_minutes_on_demand=int(minutes[~is_spot].sum()),
        interruptions=interruptions,
        launches=count,
        failed_launches=sim.failed_launches,
        events=events,
    )
