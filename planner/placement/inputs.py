"""The planner's inputs beyond the service file, as values: a fleet inventory and capacity/risk data.

``input_files.py`` reads them from files (a bad value is an ``InputError`` located as
``FILE:LINE: field: message``, exit 2); ``input_models.py`` holds the rules a record must follow.

Fleet inventory (YAML or JSON)::

    instances:
      - name: web-1              # optional
        backend: aws
        region: us-east-1
        instance_type: g5.xlarge
        spot: false              # default false
        price: 1.006             # USD/hour, what the instance costs while kept
        status: idle             # idle | busy (busy instances are never planned on)
        count: 2                 # identical instances, default 1
        resources: {cpu: 4, memory_gb: 16, gpu_count: 1, gpu_name: A10G, gpu_memory_gb: 24,
                    disk_gb: 250, gpu_vendor: nvidia, cpu_arch: x86}

Capacity and risk data (CSV with a header, or YAML ``pools:`` / ``reservations:`` lists): columns
``backend, region, instance_type, spot, capacity, interruption`` and, for a reservation row,
``reservation`` (its id) and ``price``. ``*`` or an empty cell matches anything; the most specific
matching row wins (ties: the later row). ``capacity`` empty or ``unlimited`` means no limit.
``interruption`` is an AWS Spot Advisor bucket (``<5%``, ``5-10%``, ``10-15%``, ``15-20%``,
``>20%``) or a monthly probability between 0 and 1. Defaults: docs/planning.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from planner.errors import InputError, excerpt
from planner.placement.limits import MAX_COUNT, MAX_HOURLY_PRICE

# Monthly interruption probability assumed for each AWS Spot Advisor bucket: the bucket's upper
# edge, so the hedge errs on the safe side; the open ">20%" bucket is taken as 30%.
INTERRUPTION_BUCKETS: Final[dict[str, float]] = {
    "<5%": 0.05,
    "5-10%": 0.10,
    "10-15%": 0.15,
    "15-20%": 0.20,
    ">20%": 0.30,
}
# A spot pool without data is assumed to be in the worst bucket: we never under-hedge by default.
DEFAULT_SPOT_BUCKET: Final = ">20%"
DEFAULT_SPOT_INTERRUPTION_RATE: Final = INTERRUPTION_BUCKETS[DEFAULT_SPOT_BUCKET]

WILDCARD: Final = "*"
UNLIMITED: Final = -1  # a capacity that is explicitly unlimited


@dataclass(frozen=True)
class CapacityRule:
    """Obtainable count and spot risk for the pools a (backend, region, instance type) pattern names."""

    provider: str  # gpuhunt provider name, lower-case; "*" = any
    region: str  # lower-case; "*" = any
    instance_type: str  # lower-case; "*" = any
    spot: bool | None  # None = both
    capacity: int | None  # None = not stated by this row; UNLIMITED = explicitly no limit
    interruption_rate: float | None  # None = not stated by this row
    source: str  # "FILE:LINE"

    def __post_init__(self) -> None:
        if self.capacity is not None and self.capacity != UNLIMITED:
            _check_count(self.capacity, 0, "capacity", self.source)
        if self.interruption_rate is not None and not 0.0 <= self.interruption_rate < 1.0:
            _refuse(
                "interruption",
                f"must be in [0, 1), got {excerpt(self.interruption_rate, as_repr=True)}",
                self.source,
            )

    @property
    def specificity(self) -> int:
        return sum(
            value != WILDCARD for value in (self.provider, self.region, self.instance_type)
        ) + (self.spot is not None)


@dataclass(frozen=True)
class Reservation:
    """Reserved capacity: ``count`` instances of one type in one place, at their own price."""

    reservation_id: str
    provider: str
    region: str
    instance_type: str
    count: int
    price: float
    source: str

    def __post_init__(self) -> None:
        _check_count(self.count, 0, "capacity", self.source)
        _check_price(self.price, self.source)


@dataclass(frozen=True)
class CapacityData:
    rules: tuple[CapacityRule, ...] = ()
    reservations: tuple[Reservation, ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class FleetInstance:
    """Identical existing instances (``count`` of them) in one place."""

    name: str | None
    provider: str
    region: str
    instance_type: str
    spot: bool
    price: float
    idle: bool
    count: int
    cpu: int
    memory_gb: float
    gpu_count: int
    gpu_name: str | None
    gpu_memory_gb: float | None
    disk_gb: float | None
    gpu_vendor: str | None
    cpu_arch: str
    source: str
    fleet: str | None = None  # the dstack fleet these instances belong to, when the file says

    def __post_init__(self) -> None:
        _check_count(self.count, 1, "count", self.source)
        _check_count(self.cpu, 0, "resources.cpu", self.source)
        _check_count(self.gpu_count, 0, "resources.gpu_count", self.source)
        _check_price(self.price, self.source)


@dataclass(frozen=True)
class FleetInventory:
    instances: tuple[FleetInstance, ...] = ()
    source: str | None = None

    @property
    def idle_count(self) -> int:
        return sum(instance.count for instance in self.instances if instance.idle)


def interruption_rate(value: Any) -> float:
    """A Spot Advisor bucket (``<5%`` …) or a probability in [0, 1] → monthly probability."""
    if isinstance(value, bool):
        raise ValueError(f"not an interruption bucket or rate: {excerpt(value, as_repr=True)}")
    if isinstance(value, int) and value not in (0, 1):
        # Not str(value): an integer of more than 4,300 digits cannot be printed.
        raise ValueError(
            f"an interruption rate must be in [0, 1), got {excerpt(value, as_repr=True)}"
        )
    text = str(value).strip().replace(" ", "").replace("–", "-").replace("—", "-")
    if text in INTERRUPTION_BUCKETS:
        return INTERRUPTION_BUCKETS[text]
    try:
        rate = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(
            f"not an interruption bucket ({', '.join(INTERRUPTION_BUCKETS)}) or a rate in [0, 1]: {excerpt(value, as_repr=True)}"
        ) from None
    if not 0.0 <= rate < 1.0:
        raise ValueError(
            f"an interruption rate must be in [0, 1), got {excerpt(value, as_repr=True)}"
        )
    return rate


# The value types check their numbers themselves too (a library caller can build them without a
# file): a count or price beyond the model's limits would overflow its 64-bit integers.
def _check_count(value: int, minimum: int, field: str, source: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_COUNT:
        _refuse(
            field,
            f"must be an integer in {minimum}..{MAX_COUNT}, got {excerpt(value, as_repr=True)}",
            source,
        )


def _check_price(value: float, source: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_HOURLY_PRICE
    ):
        _refuse(
            "price",
            f"must be a number in 0..{MAX_HOURLY_PRICE:.0f} (USD/h), got {excerpt(value, as_repr=True)}",
            source,
        )


def _refuse(field: str, message: str, source: str) -> None:
    raise InputError(f"{source}: {field}: {message}")
