"""The matcher's read-only view of a catalog: numpy columns and category lookups.

Every string column of the offer table is a pandas category; the matcher never compares strings
per row. It decides per *category* (a few dozen to a few thousand values) and then selects rows by
their integer codes, so the per-row work is a handful of integer comparisons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from planner.catalog import Catalog

# Category codes: at most this many codes are compared one by one; beyond it a lookup table indexed
# by the codes is cheaper (one gather instead of many comparisons over the whole column).
_MAX_CODE_COMPARISONS = 6


class CatalogView:
    """Arrays of one catalog, as the matcher needs them (the catalog caches the arrays)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.rows = len(catalog)
        self._categories: dict[str, list[str]] = {}

    def values(self, column: str) -> np.ndarray:
        return self.catalog.array(column)

    def codes(self, column: str) -> np.ndarray:
        """Category codes of a string column; -1 where the value is missing."""
        return self.catalog.array(column)

    def categories(self, column: str) -> list[str]:
        if column not in self._categories:
            self._categories[column] = list(self.catalog.categories(column))
        return self._categories[column]

    def lower_categories(self, column: str) -> list[str]:
        return [category.lower() for category in self.categories(column)]

    def category_mask(
        self,
        column: str,
        accept: Callable[[str], bool],
        out: np.ndarray,
        missing: bool = False,
    ) -> None:
        """``out[row] = accept(category of row)``; rows with a missing value get ``missing``.

        ``accept`` runs once per category, never per row.
        """
        accepted = np.fromiter(
            (accept(category) for category in self.categories(column)), dtype=bool
        )
        rows_in_codes(self.codes(column), accepted, missing, out)


def rows_in_codes(codes: np.ndarray, accepted: np.ndarray, missing: bool, out: np.ndarray) -> None:
    """``out[row] = accepted[codes[row]]`` (``missing`` where the code is -1), vectorized.

    Picks the cheapest exact formulation: a few equality comparisons when few categories are
    accepted (or few rejected), otherwise one gather from a lookup table.
    """
    accepted_codes = np.flatnonzero(accepted)
    rejected_codes = np.flatnonzero(~accepted)
    scratch = np.empty_like(out)
    if len(accepted_codes) <= _MAX_CODE_COMPARISONS and len(accepted_codes) <= len(rejected_codes):
        out[:] = False
        for code in accepted_codes:
            np.equal(codes, code, out=scratch)
            out |= scratch
        if missing:
            np.equal(codes, -1, out=scratch)
            out |= scratch
    elif len(rejected_codes) <= _MAX_CODE_COMPARISONS:
        out[:] = True
        for code in rejected_codes:
            np.not_equal(codes, code, out=scratch)
            out &= scratch
        if not missing:
            np.not_equal(codes, -1, out=scratch)
            out &= scratch
    else:
        # The last entry answers code -1 (numpy's negative indexing).
        lookup = np.append(accepted, missing)
        np.take(lookup, codes, out=out)
