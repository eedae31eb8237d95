"""What a value of each offer column may be: the rules every way into the offer table checks.

The CSV loaders apply them while parsing text (``loaders/fields.py``, ``loaders/gpuhunt.py``:
a row that breaks one is left out and reported), a caller's frame (``loaders/frame.py``) and an
Arrow file (``offer_table.read_arrow``, e.g. the cache) apply them to typed columns, where any
break means the file was damaged or tampered with (docs/catalog-format.md §7).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from planner.catalog.columns import CPU_ARCHS, GPU_VENDORS

# Numbers no catalog quantity can be: each is finite, >= 0 and at most its maximum (see
# number_defects).
QUANTITY_COLUMNS: Final = ("price", "cpu", "memory_gb", "gpu_count", "gpu_memory_gb", "disk_gb")
# The largest plausible value of each catalog quantity: far above any real offer, far below where
# arithmetic on them overflows or loses meaning (docs/catalog-format.md §2 lists them).
MAX_PRICE_PER_HOUR: Final = 1e6  # dollars; the dearest cloud machines cost hundreds
MAX_MEMORY_GB: Final = 1e6  # a petabyte of RAM; the largest machines have tens of TB
MAX_GPU_MEMORY_GB: Final = 1e5  # per GPU; today's largest hold a few hundred GB
MAX_DISK_GB: Final = 1e9  # an exabyte
# Counts (vCPUs, GPUs) are bounded by int32, the column type: they do not overflow in conversions.
MAX_COUNT: Final = int(np.iinfo(np.int32).max)
QUANTITY_MAXIMA: Final[dict[str, float]] = {
    "price": MAX_PRICE_PER_HOUR,
    "cpu": MAX_COUNT,
    "memory_gb": MAX_MEMORY_GB,
    "gpu_count": MAX_COUNT,
    "gpu_memory_gb": MAX_GPU_MEMORY_GB,
    "disk_gb": MAX_DISK_GB,
}
# Quantities a catalog may leave unstated (NaN: passes every bound on them).
UNKNOWN_ALLOWED: Final = ("gpu_memory_gb", "disk_gb")
# Strings every row states (never missing, never empty).
REQUIRED_TEXT: Final = ("provider", "instance_type", "region", "cpu_arch")
# Strings missing on CPU rows (NaN); the other string columns hold "" when they have nothing.
NULLABLE_TEXT: Final = ("gpu_name", "gpu_vendor")
# Columns whose values come from a closed list.
ALLOWED_VALUES: Final[dict[str, tuple[str, ...]]] = {
    "gpu_vendor": GPU_VENDORS,
    "cpu_arch": CPU_ARCHS,
}


def too_large(column: str) -> str:
    """The reason for a value over its column's maximum."""
    return f"{column} is too large"


def number_defects(
    column: str, values: np.ndarray, maximum: float = np.inf
) -> list[tuple[str, np.ndarray]]:
    """Why parsed numbers cannot be a catalog quantity, each reason with the rows it holds for,
    in the order they are reported. "inf", "nan" and "1e400" are valid syntax, not quantities."""
    finite = np.isfinite(values)
    over = np.zeros(len(values), dtype=bool)
    over[finite] = values[finite] > maximum
    return [
        (f"{column} is not finite", ~finite),
        (f"{column} is negative", values < 0),
        (too_large(column), over),
    ]


def quantities_valid(values: np.ndarray, *, unknown_allowed: bool, maximum: float = np.inf) -> bool:
    """Whether no value has a ``number_defects`` reason (NaN skipped if ``unknown_allowed``), in
    two reductions without temporary arrays: for reading whole stored columns fast. When it is
    False, ``number_defects`` says which rows and why."""
    if len(values) == 0:
        return True
    if values.dtype.kind != "f":
        return bool(values.min() >= 0) and bool(values.max() <= maximum)
    if unknown_allowed:
        # fmin/fmax skip NaN without a RuntimeWarning; an all-NaN column gives NaN (passes).
        highest = np.fmax.reduce(values)
        return (
            not bool(np.fmin.reduce(values) < 0)
            and not bool(highest == np.inf)
            and not bool(highest > maximum)
        )
    # min/max give NaN if any value is NaN, and NaN fails every comparison.
    highest = values.max()
    return bool(values.min() >= 0) and bool(highest < np.inf) and bool(highest <= maximum)
