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

# Numbers no catalog quantity can be: each is finite and >= 0 (see number_defects).
QUANTITY_COLUMNS: Final = ("price", "cpu", "memory_gb", "gpu_count", "gpu_memory_gb", "disk_gb")
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


def number_defects(column: str, values: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Why parsed numbers cannot be a catalog quantity, each reason with the rows it holds for,
    in the order they are reported. "inf", "nan" and "1e400" are valid syntax, not quantities."""
    return [
        (f"{column} is not finite", ~np.isfinite(values)),
        (f"{column} is negative", values < 0),
    ]


def quantities_valid(values: np.ndarray, *, unknown_allowed: bool) -> bool:
    """Whether no value has a ``number_defects`` reason (NaN skipped if ``unknown_allowed``), in
    two reductions without temporary arrays: for reading whole stored columns fast. When it is
    False, ``number_defects`` says which rows and why."""
    if len(values) == 0:
        return True
    if values.dtype.kind != "f":
        return bool(values.min() >= 0)
    if unknown_allowed:
        # fmin/fmax skip NaN without a RuntimeWarning; an all-NaN column gives NaN (passes).
        return not bool(np.fmin.reduce(values) < 0) and not bool(np.fmax.reduce(values) == np.inf)
    # min/max give NaN if any value is NaN, and NaN fails both comparisons.
    return bool(values.min() >= 0) and bool(values.max() < np.inf)
