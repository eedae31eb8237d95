"""The three policies compared in simulation, behind one interface (``engine.Policy``).

- ``AllOnDemand``: ``target`` replicas on the cheapest on-demand market (the next cheapest when a
  launch is refused); the baseline everything is measured against.
- ``SpotHedge``: SkyServe's policy (Mao et al., "SkyServe: Serving AI Models across Regions and
  Clouds with Spot Instances", and SkyPilot's ``DynamicFallbackSpotPlacer`` +
  ``FallbackRequestRateAutoscaler``): keep ``target + extra`` spot replicas; each new one goes to
  the cheapest *active* location not already used (all active ones when every active location is
  used); a location becomes *preempted* when a replica there is interrupted or a launch there
  fails, and *active* again when a replica there becomes ready; when fewer than two locations are
  active, all are reset to active. On-demand replicas fill in while spot replicas are missing:
  ``min(target, max(0, target + extra − ready spot))`` on-demand replicas are kept, the excess is
  terminated as soon as spot recovers.
- ``PlanFallback``: ``planner.plan``'s placements as the initial placement (hedge replicas
  included), one *slot* per planned replica. A vacated slot is refilled by trying its home pool
  (unless that pool was just hit) and then the plan's fallback chain for the event (interruption
  or no-capacity), in order, taking the first market that can provide an instance; when a slot
  runs on a fallback, it periodically tries to move back home (make-before-break: the fallback
  replica is terminated once the home replica is ready), so a month-long run does not drift to
  on-demand.

Policies only learn about capacity by launching (a refused launch costs nothing but is counted),
never by reading the scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planner.placement import Plan
from planner.simulate.engine import Replica, Simulation
from planner.simulate.scenario import Market, MarketIndex

# A policy whose launch was refused tries again this many minutes later (a controller loop plus
# the time a cloud takes to refuse a request).
RETRY_MINUTES = 5
# How often a plan slot running on a fallback checks whether its home pool has capacity again.
RETURN_HOME_MINUTES = 30


def _earliest(*minutes: int | None) -> int | None:
    present = [minute for minute in minutes if minute is not None]
    return min(present) if present else None


def _on_demand_order(markets: Sequence[Market], max_price: float | None) -> list[int]:
    return sorted(
        (
            index
            for index, market in enumerate(markets)
            if not market.spot and (max_price is None or market.price <= max_price)
        ),
        key=lambda index: (markets[index].price, index),
    )


def _launch_first(sim: Simulation, candidates: Sequence[int], *, tag: int = -1) -> Replica | None:
    for market in candidates:
        replica = sim.launch(market, tag=tag)
        if replica is not None:
            return replica
    return None


def _one_per_location(markets: Sequence[Market], candidates: Sequence[int]) -> list[int]:
    """The cheapest of ``candidates`` in each (provider, region), cheapest location first."""
    best: dict[tuple[str, str], int] = {}
    for index in sorted(candidates, key=lambda index: (markets[index].price, index)):
        best.setdefault((markets[index].provider.lower(), markets[index].region.lower()), index)
    return sorted(best.values(), key=lambda index: (markets[index].price, index))


class AllOnDemand:
    """``target`` on-demand replicas, cheapest market first."""

    def __init__(
        self, markets: Sequence[Market], target: int, *, max_price: float | None = None
    ) -> None:
        self.name = "all on-demand"
        self.target = target
        self._order = _on_demand_order(markets, max_price)
        if not self._order:
            raise ValueError("no on-demand market to run on")

    def reset(self) -> None:
        return None

    def react(
        self, sim: Simulation, interrupted: Sequence[Replica], became_ready: Sequence[Replica]
    ) -> int | None:
        missing = self.target - len(sim.alive)
        for _ in range(missing):
            if _launch_first(sim, self._order) is None:
                return sim.minute + RETRY_MINUTES
        return None


class SpotHedge:
    """SkyServe's SpotHedge: spread spot over unused locations, on-demand fills the gap."""

    def __init__(
        self,
        markets: Sequence[Market],
        target: int,
        *,
        extra: int = 1,
        max_price: float | None = None,
    ) -> None:
        self.name = f"SpotHedge (N_extra={extra})"
        self.target = target
        self.extra = extra
        self._markets = tuple(markets)
        spot = [
            index
            for index, market in enumerate(markets)
            if market.spot and (max_price is None or market.price <= max_price)
        ]
        if not spot:
            raise ValueError("SpotHedge needs a spot market")
        # SkyServe places one resource (one accelerator) over locations (cloud, region, zone):
        # the accelerator of the cheapest spot market, at the cheapest instance type of each
        # (provider, region). Its on-demand fallback is the same resource without spot.
        cheapest = min(spot, key=lambda index: (markets[index].price, index))
        accelerator = markets[cheapest].accelerator
        self._spot = _one_per_location(
            markets, [m for m in spot if markets[m].accelerator == accelerator]
        )
        self._on_demand = [
            m for m in _on_demand_order(markets, max_price) if markets[m].accelerator == accelerator
        ] or _on_demand_order(markets, max_price)
        if not self._on_demand:
            raise ValueError("SpotHedge needs an on-demand market")
        self._preempted: set[int] = set()

    def reset(self) -> None:
        self._preempted = set()

    def _set_preempted(self, market: int) -> None:
        self._preempted.add(market)
        # SkyPilot: never let fewer than two locations stay active.
        if len(self._spot) - len(self._preempted & set(self._spot)) < 2:
            self._preempted.clear()

    def _next_location(self, used: set[int], tried: set[int]) -> int | None:
        active = [m for m in self._spot if m not in self._preempted and m not in tried]
        unused = [m for m in active if m not in used]
        candidates = unused or active
        if not candidates:
            return None
        return min(candidates, key=lambda m: (self._markets[m].price, m))

    def react(
        self, sim: Simulation, interrupted: Sequence[Replica], became_ready: Sequence[Replica]
    ) -> int | None:
        for replica in interrupted:
            if replica.spot:
                self._set_preempted(replica.market)
        for replica in became_ready:
            if replica.spot:
                self._preempted.discard(replica.market)
        wake: int | None = None
        wanted_spot = self.target + self.extra
        spot_alive = sim.alive_replicas(spot=True)
        used = {r.market for r in spot_alive}
        missing = wanted_spot - len(spot_alive)
        tried: set[int] = set()
        while missing > 0:
            market = self._next_location(used, tried)
            if market is None:
                wake = sim.minute + RETRY_MINUTES
                break
            if sim.launch(market) is None:
                tried.add(market)
                self._set_preempted(market)
                continue
            used.add(market)
            missing -= 1
        # Dynamic on-demand fallback: fill the gap between wanted and *ready* spot replicas,
        # never for the over-provisioned ones beyond the target.
        ready_spot = sim.ready_count(spot=True)
        wanted_on_demand = min(self.target, max(0, wanted_spot - ready_spot))
        on_demand = sim.alive_replicas(spot=False)
        if len(on_demand) < wanted_on_demand:
            for _ in range(wanted_on_demand - len(on_demand)):
                if _launch_first(sim, self._on_demand) is None:
                    wake = _earliest(wake, sim.minute + RETRY_MINUTES)
                    break
        elif len(on_demand) > wanted_on_demand:
            # SkyPilot scales down replicas still provisioning first, then the newest.
            victims = sorted(on_demand, key=lambda r: (r.ready <= sim.minute, -r.id))
            for replica in victims[: len(on_demand) - wanted_on_demand]:
                sim.terminate(replica)
        return wake


@dataclass(frozen=True)
class Slot:
    """One planned replica: its home market and the plan's fallback chains, as market indices."""

    home: int
    on_interruption: tuple[int, ...]
    on_no_capacity: tuple[int, ...]


class PlanFallback:
    """``planner.plan``'s placement, refilled along the plan's fallback chains."""

    def __init__(self, slots: Sequence[Slot], target: int, *, name: str = "planner plan") -> None:
        if not slots:
            raise ValueError("a plan with no placements cannot be simulated")
        self.name = name
        self.target = target
        self.slots = tuple(slots)
        self._home_pending: dict[int, Replica] = {}

    @classmethod
    def from_plan(
        cls, plan: object, markets: Sequence[Market], *, name: str = "planner plan"
    ) -> PlanFallback:
        """Slots from a ``planner.Plan``; every placement and fallback must be a market."""
        if not isinstance(plan, Plan):
            raise TypeError("from_plan takes a planner.Plan")
        if not plan.feasible:
            causes = ", ".join(cause.kind for cause in plan.infeasible_causes)
            raise ValueError(f"the plan is {plan.status} ({causes})")
        index = MarketIndex.of(markets)

        def locate(offer: dict[str, object]) -> int:
            found = index.find(
                str(offer["provider"]),
                str(offer["region"]),
                str(offer["instance_type"]),
                bool(offer["spot"]),
            )
            if found is None:
                raise ValueError(f"the plan uses an offer outside the simulated markets: {offer}")
            return found

        slots = []
        for placement in plan.placements:
            home = locate(placement.offer)
            slot = Slot(
                home=home,
                on_interruption=tuple(
                    locate(f.offer) for f in placement.fallbacks_for("interruption")
                ),
                on_no_capacity=tuple(
                    locate(f.offer) for f in placement.fallbacks_for("no-capacity")
                ),
            )
            slots.extend([slot] * placement.count)
        return cls(slots, plan.target_replicas, name=name)

    def reset(self) -> None:
        self._home_pending = {}

    def _candidates(self, slot: Slot, event: str, exclude: int | None) -> list[int]:
        chain = slot.on_interruption if event == "interruption" else slot.on_no_capacity
        if event == "retry":
            chain = (*slot.on_no_capacity, *slot.on_interruption)
        ordered: list[int] = []
        for market in (slot.home, *chain):
            if market != exclude and market not in ordered:
                ordered.append(market)
        return ordered

    def react(
        self, sim: Simulation, interrupted: Sequence[Replica], became_ready: Sequence[Replica]
    ) -> int | None:
        wake: int | None = None
        occupant: dict[int, Replica] = {}
        for replica in sim.alive.values():
            if replica.tag >= 0 and self._home_pending.get(replica.tag) is not replica:
                occupant[replica.tag] = replica
        # A home replica that became ready replaces the slot's fallback replica.
        for tag, pending in list(self._home_pending.items()):
            if pending.end is not None:
                del self._home_pending[tag]
            elif pending.ready <= sim.minute:
                fallback = occupant.get(tag)
                if fallback is not None:
                    sim.terminate(fallback)
                occupant[tag] = pending
                del self._home_pending[tag]
        hit = {r.tag: r.market for r in interrupted}
        for tag, slot in enumerate(self.slots):
            if tag in occupant:
                continue
            if tag in self._home_pending:
                # The home replica is on its way; the slot's fallback was lost meanwhile.
                continue
            if sim.minute == 0:
                event = "no-capacity"
            elif tag in hit:
                event = "interruption"
            else:
                event = "retry"
            launched = _launch_first(sim, self._candidates(slot, event, hit.get(tag)), tag=tag)
            if launched is None:
                wake = _earliest(wake, sim.minute + RETRY_MINUTES)
            elif launched.market != slot.home:
                wake = _earliest(wake, sim.minute + RETURN_HOME_MINUTES)
        # Slots on a fallback try to return home (make-before-break).
        for tag, replica in occupant.items():
            slot = self.slots[tag]
            if replica.market == slot.home or tag in self._home_pending:
                continue
            if sim.minute - replica.launch < RETURN_HOME_MINUTES:
                wake = _earliest(wake, replica.launch + RETURN_HOME_MINUTES)
                continue
            going_home = sim.launch(slot.home, tag=tag)
            if going_home is None:
                wake = _earliest(wake, sim.minute + RETURN_HOME_MINUTES)
            else:
                self._home_pending[tag] = going_home
        return wake
