"""Interruption scenarios: markets (failure domains), preemption waves, capacity shortages.

A *market* is one (provider, region, instance type, spot flag) pool: the unit a replica is
launched into. Every spot market is its own failure domain — co-interruptions of one instance type
in one zone happen within minutes of each other in most cases — and on-demand markets are never
preempted; a share of the waves is region-wide (every spot market of a (provider, region), all
zones of the region included where the catalog lists zones), which is why the planner's default
failure domain is the whole (provider, region) (docs/planning.md).

A ``Scenario`` is one month (by default) of what the clouds do, independent of any policy, so every
policy is replayed against exactly the same events:

- **waves**: at minute ``t`` a fraction ``f`` of the spot instances alive in a market are taken
  (rounded up, so a wave always takes at least one instance when there is one);
- **unavailability**: per market and minute, whether a *new* instance can be obtained there
  (a capacity shortage; after a wave the market usually stays short for a while);
- **provisioning delay**: minutes from a launch until the replica serves (cold start).

``generate_scenario`` draws these from ``ScenarioParams`` with one seeded numpy generator, all
markets at once (no Python loop over markets or minutes). docs/simulation.md justifies the
defaults.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from planner.catalog.locations import regions_of_locations

MINUTES_PER_MONTH: Final = 30 * 24 * 60  # 43,200: the simulated month

# The AWS Spot Advisor buckets (monthly interruption frequency) and the range of true monthly
# rates each one stands for in a generated risk map. The open ">20%" bucket is capped at 40%.
BUCKET_RANGES: Final[dict[str, tuple[float, float]]] = {
    "<5%": (0.0, 0.05),
    "5-10%": (0.05, 0.10),
    "10-15%": (0.10, 0.15),
    "15-20%": (0.15, 0.20),
    ">20%": (0.20, 0.40),
}


@dataclass(frozen=True)
class Market:
    """One pool a replica can be launched into, at its hourly price per replica."""

    provider: str
    region: str
    instance_type: str
    spot: bool
    price: float
    # True monthly interruption probability of one instance (spot only; 0 for on-demand).
    interruption_rate: float = 0.0
    # The Spot Advisor bucket the planner is told (None: the planner is told nothing).
    bucket: str | None = None
    # The accelerator, which SkyServe's locations share (None / 0 for a CPU instance).
    gpu_name: str | None = None
    gpu_count: int = 0

    @property
    def accelerator(self) -> tuple[str, int]:
        return ((self.gpu_name or "").lower(), self.gpu_count)

    @property
    def key(self) -> tuple[str, str, str, bool]:
        return (self.provider.lower(), self.region.lower(), self.instance_type.lower(), self.spot)

    @property
    def label(self) -> str:
        kind = "spot" if self.spot else "on-demand"
        return f"{self.provider}/{self.region}/{self.instance_type} ({kind})"


@dataclass(frozen=True)
class Wave:
    """At ``minute``, ``fraction`` of the spot instances alive in ``market`` are preempted."""

    minute: int
    market: int
    fraction: float

    def victims(self, alive_in_market: int) -> int:
        """How many of ``alive_in_market`` instances this wave takes (at least one if any)."""
        if alive_in_market <= 0:
            return 0
        return min(alive_in_market, max(1, math.ceil(self.fraction * alive_in_market - 1e-9)))


@dataclass(frozen=True, eq=False)
class Scenario:
    """What the clouds do over ``horizon`` minutes, the same for every policy replayed on it."""

    markets: tuple[Market, ...]
    horizon: int
    provisioning_minutes: int
    waves: tuple[Wave, ...]  # sorted by minute, then market
    shortages: Shortages  # when a market cannot provide new instances
    seed: int | None = None

    def available(self, market: int, minute: int) -> bool:
        return self.shortages.available(market, minute)

    @property
    def wave_minutes(self) -> np.ndarray:
        return np.unique(np.fromiter((wave.minute for wave in self.waves), dtype=np.int64))

    def fingerprint(self) -> str:
        """A digest of every event: equal fingerprints = the same scenario."""
        digest = hashlib.sha256()
        digest.update(repr((self.horizon, self.provisioning_minutes, self.waves)).encode())
        digest.update(repr([m.key for m in self.markets]).encode())
        for array in (self.shortages.market, self.shortages.start, self.shortages.end):
            digest.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
        return digest.hexdigest()[:16]

    def unavailable_fraction(self) -> np.ndarray:
        """Per market, the fraction of the horizon in which it cannot provide new instances."""
        return self.shortages.unavailable_minutes(len(self.markets)) / self.horizon

    @classmethod
    def build(
        cls,
        markets: Sequence[Market],
        *,
        horizon: int = MINUTES_PER_MONTH,
        provisioning_minutes: int = 10,
        waves: Iterable[Wave] = (),
        shortages: Iterable[tuple[int, int, int]] = (),
        seed: int | None = None,
    ) -> Scenario:
        """A scenario from explicit events; ``shortages`` are ``(market, start, end)`` (end open)."""
        items = list(shortages)
        for market, _, _ in items:
            if not 0 <= market < len(markets):
                raise ValueError(f"a shortage names no market: {market}")
        intervals = Shortages.of(
            horizon,
            np.array([item[0] for item in items], dtype=np.int64),
            np.array([item[1] for item in items], dtype=np.int64),
            np.array([item[2] for item in items], dtype=np.int64),
        )
        ordered = tuple(sorted(waves, key=lambda wave: (wave.minute, wave.market)))
        for wave in ordered:
            if not (0 <= wave.market < len(markets)) or not markets[wave.market].spot:
                raise ValueError(f"a wave must hit a spot market: {wave}")
            if not (0 <= wave.minute < horizon) or not (0.0 < wave.fraction <= 1.0):
                raise ValueError(f"wave outside the horizon or with a bad fraction: {wave}")
        return cls(
            markets=tuple(markets),
            horizon=horizon,
            provisioning_minutes=provisioning_minutes,
            waves=ordered,
            shortages=intervals,
            seed=seed,
        )


@dataclass(frozen=True)
class ScenarioParams:
    """How scenarios are drawn. Rates are per market per 30-day month. See docs/simulation.md.

    ``rate_multiplier`` scales every market's monthly interruption rate (1 = the Spot Advisor
    figure; GPU spot capacity is preempted far more often than the general-purpose instances the
    buckets describe, hence the stress regime). Wave frequency is derived so that the expected
    fraction of a market's instances interrupted per month equals its (scaled) rate:
    waves/month = rate × multiplier / mean wave fraction.
    """

    horizon: int = MINUTES_PER_MONTH
    rate_multiplier: float = 1.0
    wave_fraction: tuple[float, float] = (0.5, 1.0)  # uniform range of the fraction a wave takes
    # Probability that a wave hits every spot market of its (provider, region) at once — every
    # instance type and, where the catalog lists zones (gcp), every zone of the region: a
    # region-wide reclaim — not only its own market.
    region_wave_probability: float = 0.2
    post_wave_shortage_minutes: float = 120.0  # mean (exponential) time a hit market stays short
    shortage_per_month: float = 1.0  # independent capacity shortages per spot market
    shortage_minutes: float = 240.0  # mean (exponential) shortage duration
    on_demand_shortage_per_month: float = 0.0  # 0: on-demand is always obtainable
    on_demand_shortage_minutes: float = 60.0
    provisioning_minutes: int = 10  # cold start: launch → ready

    def __post_init__(self) -> None:
        low, high = self.wave_fraction
        if not (0.0 < low <= high <= 1.0):
            raise ValueError(f"wave_fraction must satisfy 0 < low ≤ high ≤ 1, got {low, high}")
        if self.horizon <= 0 or self.provisioning_minutes < 0 or self.rate_multiplier < 0:
            raise ValueError("horizon must be > 0, provisioning delay and multiplier ≥ 0")


@dataclass(frozen=True)
class RegimeSummary:
    waves: int
    spot_markets: int
    mean_unavailable_spot: float  # mean fraction of the month a spot market cannot launch


def generate_scenario(markets: Sequence[Market], params: ScenarioParams, seed: int) -> Scenario:
    """Draw one scenario for ``markets``: all markets at once, from one seeded generator."""
    rng = np.random.default_rng(seed)
    n = len(markets)
    horizon = params.horizon
    months = horizon / MINUTES_PER_MONTH
    spot = np.fromiter((market.spot for market in markets), dtype=bool, count=n)
    rates = np.fromiter((market.interruption_rate for market in markets), dtype=float, count=n)
    low, high = params.wave_fraction
    mean_fraction = (low + high) / 2.0
    # Each market originates waves at rate × multiplier / mean fraction (so the expected share
    # of its instances interrupted per month is its rate); a share of them are region-wide and
    # hit every spot market of its (provider, region). A market in a risky region therefore sees
    # more than its own rate: region-wide reclaims are exactly the correlation spreading must
    # survive.
    group = _region_groups(markets)
    wave_rate = np.where(spot, rates * params.rate_multiplier / mean_fraction * months, 0.0)
    own_rate = wave_rate * (1.0 - params.region_wave_probability)
    region_rate = wave_rate * params.region_wave_probability
    own_counts = rng.poisson(own_rate)
    region_counts = rng.poisson(region_rate)

    own_market = np.repeat(np.arange(n), own_counts)
    region_origin = np.repeat(np.arange(n), region_counts)
    own_minute = rng.integers(0, horizon, size=own_market.size)
    own_fraction = rng.uniform(low, high, size=own_market.size)
    region_minute = rng.integers(0, horizon, size=region_origin.size)
    region_fraction = rng.uniform(low, high, size=region_origin.size)
    # Expand each region-wide wave to every spot market of its (provider, region).
    members = _group_members(group, spot)
    expanded_market: list[np.ndarray] = [own_market]
    expanded_minute: list[np.ndarray] = [own_minute]
    expanded_fraction: list[np.ndarray] = [own_fraction]
    if region_origin.size:
        sizes = np.array([members[group[origin]].size for origin in region_origin])
        expanded_market.append(np.concatenate([members[group[o]] for o in region_origin]))
        expanded_minute.append(np.repeat(region_minute, sizes))
        expanded_fraction.append(np.repeat(region_fraction, sizes))
    wave_market = np.concatenate(expanded_market)
    wave_minute = np.concatenate(expanded_minute)
    wave_fraction = np.concatenate(expanded_fraction)

    # A hit market stays short for a while (the capacity was reclaimed).
    post = rng.exponential(params.post_wave_shortage_minutes, size=wave_market.size)
    shortage_rate = np.where(
        spot,
        params.shortage_per_month * months,
        params.on_demand_shortage_per_month * months,
    )
    shortage_counts = rng.poisson(shortage_rate)
    shortage_market = np.repeat(np.arange(n), shortage_counts)
    shortage_start = rng.integers(0, horizon, size=shortage_market.size)
    mean_length = np.where(
        spot[shortage_market], params.shortage_minutes, params.on_demand_shortage_minutes
    )
    shortage_length = rng.exponential(mean_length)
    starts = np.concatenate([wave_minute, shortage_start])
    ends = starts + np.ceil(np.concatenate([post, shortage_length])).astype(np.int64)
    intervals = Shortages.of(horizon, np.concatenate([wave_market, shortage_market]), starts, ends)
    waves = tuple(
        Wave(minute=int(minute), market=int(market), fraction=float(fraction))
        for minute, market, fraction in sorted(
            zip(wave_minute.tolist(), wave_market.tolist(), wave_fraction.tolist(), strict=True)
        )
    )
    return Scenario(
        markets=tuple(markets),
        horizon=horizon,
        provisioning_minutes=params.provisioning_minutes,
        waves=waves,
        shortages=intervals,
        seed=seed,
    )


def summarize(scenario: Scenario) -> RegimeSummary:
    spot = np.fromiter((market.spot for market in scenario.markets), dtype=bool)
    fraction = scenario.unavailable_fraction()
    return RegimeSummary(
        waves=len(scenario.waves),
        spot_markets=int(spot.sum()),
        mean_unavailable_spot=float(fraction[spot].mean()) if spot.any() else 0.0,
    )


def assign_risk(markets: Sequence[Market], seed: int) -> tuple[Market, ...]:
    """A risk map: each spot market gets a Spot Advisor bucket and a true rate inside it.

    Buckets are drawn uniformly (the bundled catalog has no interruption data); the true rate is
    uniform within the bucket, so the planner's assumption (the bucket's upper edge) is
    conservative, as it would be with real Spot Advisor data.
    """
    rng = np.random.default_rng(seed)
    names = list(BUCKET_RANGES)
    chosen = rng.integers(0, len(names), size=len(markets))
    position = rng.uniform(0.0, 1.0, size=len(markets))
    result = []
    for market, index, where in zip(markets, chosen.tolist(), position.tolist(), strict=True):
        if not market.spot:
            result.append(market)
            continue
        bucket = names[index]
        low, high = BUCKET_RANGES[bucket]
        result.append(
            Market(
                provider=market.provider,
                region=market.region,
                instance_type=market.instance_type,
                spot=True,
                price=market.price,
                interruption_rate=low + (high - low) * where,
                bucket=bucket,
                gpu_name=market.gpu_name,
                gpu_count=market.gpu_count,
            )
        )
    return tuple(result)


def markets_from_offers(frame: pd.DataFrame) -> tuple[Market, ...]:
    """One market per (provider, region, instance type, spot) of an offer frame, cheapest price.

    Ordered by price, then key, so market indices are deterministic.
    """
    if frame.empty:
        return ()
    keys = ["provider", "region", "instance_type", "spot"]
    table = pd.DataFrame(
        {
            "provider": frame["provider"].astype(str).to_numpy(),
            "region": frame["region"].astype(str).to_numpy(),
            "instance_type": frame["instance_type"].astype(str).to_numpy(),
            "spot": frame["spot"].to_numpy(dtype=bool),
            "price": frame["price"].to_numpy(dtype=float),
            "gpu_name": frame["gpu_name"].astype(object).to_numpy(),
            "gpu_count": frame["gpu_count"].fillna(0).to_numpy(dtype=np.int64),
        }
    )
    table = table.sort_values(["price", *keys], kind="stable")
    # The cheapest row of each market (an instance type has one accelerator).
    cheapest = table.drop_duplicates(keys, keep="first").reset_index(drop=True)
    columns = {name: cheapest[name].to_numpy() for name in cheapest.columns}
    return tuple(
        Market(
            provider=str(provider),
            region=str(region),
            instance_type=str(instance_type),
            spot=bool(is_spot),
            price=float(price),
            gpu_name=gpu_name if isinstance(gpu_name, str) else None,
            gpu_count=int(gpu_count),
        )
        for provider, region, instance_type, is_spot, price, gpu_name, gpu_count in zip(
            columns["provider"],
            columns["region"],
            columns["instance_type"],
            columns["spot"],
            columns["price"],
            columns["gpu_name"],
            columns["gpu_count"],
            strict=True,
        )
    )


@dataclass(frozen=True)
class MarketIndex:
    """Market lookup by (provider, region, instance type, spot), case-insensitive."""

    markets: tuple[Market, ...]
    _by_key: dict[tuple[str, str, str, bool], int] = field(default_factory=dict)

    @classmethod
    def of(cls, markets: Sequence[Market]) -> MarketIndex:
        by_key: dict[tuple[str, str, str, bool], int] = {}
        for index, market in enumerate(markets):
            by_key.setdefault(market.key, index)
        return cls(markets=tuple(markets), _by_key=by_key)

    def find(self, provider: str, region: str, instance_type: str, spot: bool) -> int | None:
        return self._by_key.get(
            (provider.lower(), region.lower(), instance_type.lower(), bool(spot))
        )


def _region_groups(markets: Sequence[Market]) -> np.ndarray:
    """A group id per market: its (provider, region), a zone counting in its region (gcp
    ``us-central1-a`` is in ``us-central1``), so a region-wide wave hits every zone of it."""
    if not markets:
        return np.zeros(0, dtype=np.int64)
    providers = np.array([market.provider.lower() for market in markets], dtype=object)
    locations = np.array([market.region.lower() for market in markets], dtype=object)
    regions = regions_of_locations(providers, locations)
    keys = np.char.add(np.char.add(providers.astype(str), "\x00"), regions.astype(str))
    _, inverse = np.unique(keys, return_inverse=True)
    return inverse.astype(np.int64)


def _group_members(group: np.ndarray, spot: np.ndarray) -> dict[int, np.ndarray]:
    members: dict[int, np.ndarray] = {}
    order = np.argsort(group, kind="stable")
    for value in np.unique(group):
        chosen = order[group[order] == value]
        members[int(value)] = chosen[spot[chosen]]
    return members


@dataclass(frozen=True, eq=False)
class Shortages:
    """Shortage intervals ``[start, end)`` of all markets, for O(log n) look-ups.

    A dense [market, minute] mask would take ~50 MB for a thousand markets over a month; instead
    the intervals are sorted by (market, start) into one key array, with the running maximum of
    the ends within each market, so "is minute t inside any interval of market m" is one binary
    search: the last interval of m starting at or before t, and whether any interval of m
    started so far ends after t.
    """

    horizon: int
    market: np.ndarray  # int64, sorted with start
    start: np.ndarray  # int64
    end: np.ndarray  # int64, ≤ horizon
    reach: np.ndarray  # int64: max end of this market's intervals up to this one
    keys: np.ndarray  # int64: market × stride + start, ascending

    @classmethod
    def of(cls, horizon: int, market: np.ndarray, start: np.ndarray, end: np.ndarray) -> Shortages:
        start = np.clip(start, 0, horizon)
        end = np.clip(end, 0, horizon)
        keep = end > start
        market, start, end = market[keep], start[keep], end[keep]
        order = np.lexsort((start, market))
        market, start, end = market[order], start[order], end[order]
        stride = horizon + 1
        # Markets ascend and every end < stride, so one global running maximum of
        # market × stride + end is each market's own running maximum of end.
        reach = (
            np.maximum.accumulate(market * stride + end) - market * stride if market.size else end
        )
        return cls(horizon, market, start, end, reach, market * stride + start)

    def available(self, market: int, minute: int) -> bool:
        position = (
            int(np.searchsorted(self.keys, market * (self.horizon + 1) + minute, "right")) - 1
        )
        if position < 0 or int(self.market[position]) != market:
            return True
        return not int(self.reach[position]) > minute

    def unavailable_minutes(self, markets: int) -> np.ndarray:
        """Per market, minutes covered by at least one interval (overlaps counted once)."""
        if self.market.size == 0:
            return np.zeros(markets, dtype=np.int64)
        # Reach of the earlier intervals of the same market (0 for a market's first interval).
        previous = np.zeros_like(self.reach)
        previous[1:] = self.reach[:-1]
        first = np.ones(self.market.size, dtype=bool)
        first[1:] = self.market[1:] != self.market[:-1]
        previous[first] = 0
        covered = np.clip(self.end - np.maximum(self.start, previous), 0, None)
        return np.bincount(self.market, weights=covered, minlength=markets).astype(np.int64)
