"""Spot interruptions with replacement: the share of the month an interrupted replica is missing.

With ``retry.on_events`` containing ``interruption``, dstack replaces an interrupted replica: it is
missing from the interruption until its replacement serves, the *replacement time* (provisioning:
VM start, image pull, model load — or the launch down the fallback chain). A spot replica of a pool
interrupted ``r`` times a month (its assumed monthly interruption rate) is then missing for
``r × replacement time`` of the month: its expected *unavailability* is ``r × minutes / month``.
Without retry an interrupted replica is lost for the rest of the month: its unavailability is ``r``
itself (the model before replacement, still right for that case).

The availability hedge asks the expected ready replicas, Σ count × (1 − unavailability), to reach
the availability target × the replica target; correlated interruptions (a preemption wave that
takes a whole region) are what wave survival guards against (docs/planning.md). CP-SAT needs
integers: unavailabilities are put on a grid of ``UNAVAILABILITY_SCALE`` units (1e-9), fine enough
for a minute-long replacement at a 0.1% monthly rate (2.3e-8).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from planner.placement.inputs import DEFAULT_SPOT_INTERRUPTION_RATE

# The month the planner prices (730 hours), in minutes.
MINUTES_PER_MONTH: Final = 730 * 60
# The assumed time from an interruption until the replacement replica serves (VM start, image
# pull and model load of an 8-70B model), as in the simulation's cold start.
DEFAULT_REPLACEMENT_MINUTES: Final = 10.0
# The assumed monthly interruption rate of a spot pool the capacity file says nothing about.
DEFAULT_INTERRUPTION_RATE: Final = DEFAULT_SPOT_INTERRUPTION_RATE
# The largest replacement time taken (a month: beyond it a replica is simply lost).
MAX_REPLACEMENT_MINUTES: Final = float(MINUTES_PER_MONTH)
# One CP-SAT unit of availability: 1e-9 of a replica.
UNAVAILABILITY_SCALE: Final = 1_000_000_000


def unavailability(
    rates: npt.ArrayLike, *, replaced: bool, replacement_minutes: float
) -> npt.NDArray[np.float64]:
    """The expected share of the month each replica is missing, from its monthly interruption rate.

    ``replaced``: interruptions are retried (the replica comes back after ``replacement_minutes``).
    """
    rate = np.clip(np.asarray(rates, dtype=np.float64), 0.0, 1.0)
    if not replaced:
        return rate
    return np.clip(rate * replacement_minutes / MINUTES_PER_MONTH, 0.0, 1.0)


def available_units(unavailable: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """(1 − unavailability) on the integer grid of the model."""
    share = 1.0 - np.asarray(unavailable, dtype=np.float64)
    return np.rint(share * UNAVAILABILITY_SCALE).astype(np.int64)


def needed_units(availability_target: float, replicas: int) -> int:
    """The hedge's right-hand side: target × replicas ready replicas, on the grid, rounded up."""
    exact = availability_target * replicas * UNAVAILABILITY_SCALE
    return math.ceil(exact - max(1e-6, exact * 1e-12))


def hedge_size(availability_target: float, replicas: int, unavailable: float) -> int:
    """Replicas beyond the target that pools of this unavailability need to meet the target."""
    available = int(available_units(unavailable))
    if available <= 0:
        raise ValueError("a pool that is never available cannot carry the hedge")
    return max(0, -(-needed_units(availability_target, replicas) // available) - replicas)
