"""The matcher's read-only view of a catalog: numpy columns and per-category lookups.

Every string column of the offer table is a category (Arrow dictionary / pandas category); the
matcher never compares strings per row. It decides per *category* (a few to a few tens of thousands of values) and then selects
rows by their integer codes, so the per-row work is a handful of integer comparisons.

Lookups derived from a catalog (lower-cased names, compute capability per GPU name) are memoized
on the catalog itself when it offers ``derived(key, build)``, so repeated queries against one
catalog pay for them once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from planner.catalog import Catalog

T = TypeVar("T")

# Category codes: at most this many codes are compared one by one; beyond it a lookup table indexed
# by the codes is cheaper (one gather instead of many comparisons over the whole column).
_MAX_CODE_COMPARISONS = 6
# Up to this many categories a plain loop over them is cheaper than a vectorized comparison.
_PYTHON_CATEGORY_LIMIT = 512


class CatalogView:
    """Arrays of one catalog, as the matcher needs them."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.rows = len(catalog)

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, memoized on the catalog when it supports it (it is immutable)."""
        derived: Any = getattr(self.catalog, "derived", None)
        if derived is None:
            return build()
        result: T = derived(f"planner.match:{key}", build)
        return result

    def values(self, column: str) -> np.ndarray:
        return self.catalog.array(column)

    def codes(self, column: str) -> np.ndarray:
        """Category codes of a string column; -1 where the value is missing."""
        return self.catalog.array(column)

    def categories(self, column: str) -> tuple[str, ...]:
        """The column's categories as Python strings (for the small category columns)."""
        return self.memo(f"categories:{column}", lambda: tuple(self.catalog.categories(column)))

    def category_array(self, column: str) -> np.ndarray:
        """The column's categories as a numpy array of Python strings (vectorized gathers)."""
        return self.memo(f"objects:{column}", lambda: _object_array(self.categories(column)))

    def accepted_categories(self, column: str, accept: Callable[[str], bool]) -> np.ndarray:
        """One bool per category: ``accept(category)`` (runs per category, never per row)."""
        return np.fromiter((accept(c) for c in self.categories(column)), dtype=bool)

    def accepted_lower_names(self, column: str, wanted: tuple[str, ...]) -> np.ndarray:
        """One bool per category: equal to one of ``wanted``, ignoring case."""
        wanted_lower = {value.lower() for value in wanted}
        if len(self.categories(column)) <= _PYTHON_CATEGORY_LIMIT:
            return self.accepted_categories(column, lambda c: c.lower() in wanted_lower)
        lowered = self.memo(
            f"lower:{column}",
            lambda: _object_array(tuple(c.lower() for c in self.categories(column))),
        )
        return np.isin(lowered, _object_array(tuple(wanted_lower)))

    def strings(self, column: str, rows: np.ndarray) -> list[str | None]:
        """The column's values at the given row positions (None where missing)."""
        codes = self.codes(column)[rows]
        result = np.full(len(codes), None, dtype=object)
        known = codes >= 0
        result[known] = self.category_array(column)[codes[known]]
        values: list[str | None] = result.tolist()
        return values


def _object_array(values: tuple[str, ...]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


class CodeSelector:
    """Marks rows whose category code is accepted: ``out[i] = accepted[codes[i]]``, vectorized.

    ``missing`` is the answer for code -1. The cheapest exact formulation is chosen once: a few
    equality comparisons when few categories are accepted (or few rejected), otherwise one
    gather from a lookup table.
    """

    def __init__(self, codes_dtype: np.dtype, accepted: np.ndarray, missing: bool) -> None:
        # Codes as the column's own integer type: comparing int8 codes with an int64 scalar
        # would first widen the whole column.
        code_type = codes_dtype.type
        accepted_codes = np.flatnonzero(accepted)
        rejected_codes = np.flatnonzero(~accepted)
        self.missing = missing
        self.missing_code = code_type(-1)
        self.equal_to: list[Any] | None = None
        self.not_equal_to: list[Any] | None = None
        self.lookup: np.ndarray | None = None
        if len(accepted_codes) <= _MAX_CODE_COMPARISONS and len(accepted_codes) <= len(
            rejected_codes
        ):
            self.equal_to = [code_type(code) for code in accepted_codes]
        elif len(rejected_codes) <= _MAX_CODE_COMPARISONS:
            self.not_equal_to = [code_type(code) for code in rejected_codes]
        else:
            # The last entry answers code -1 (numpy's negative indexing).
            self.lookup = np.append(accepted, missing)

    def select(self, codes: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> None:
        # The first comparison writes ``out`` directly: each pass over the rows counts.
        if self.equal_to is not None:
            compared = [*self.equal_to, *([self.missing_code] if self.missing else [])]
            if not compared:
                out[:] = False
                return
            np.equal(codes, compared[0], out=out)
            for code in compared[1:]:
                np.equal(codes, code, out=scratch)
                out |= scratch
        elif self.not_equal_to is not None:
            compared = [*self.not_equal_to, *([] if self.missing else [self.missing_code])]
            if not compared:
                out[:] = True
                return
            np.not_equal(codes, compared[0], out=out)
            for code in compared[1:]:
                np.not_equal(codes, code, out=scratch)
                out &= scratch
        else:
            assert self.lookup is not None
            np.take(self.lookup, codes, out=out)
