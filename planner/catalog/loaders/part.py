"""What every loader produces: typed rows of one file, plus the rows it had to leave out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from planner.catalog.offer_table import ARROW_TYPES, OfferTable, decoded_table
from planner.catalog.provenance import CatalogSource, RowIssue, summarize_dropped


@dataclass(frozen=True)
class Part:
    """The rows of one file (a provider CSV, a zip member, a SkyPilot vms.csv), in file order."""

    name: str  # the file or member, as issues name it
    provider: str
    table: pa.Table  # columns.COLUMNS, in order, as ARROW_TYPES
    issues: tuple[RowIssue, ...]
    total_rows: int  # rows read, kept or not

    @property
    def warning(self) -> str | None:
        return summarize_dropped(self.name, self.total_rows, self.issues)


@dataclass(frozen=True)
class LoadedSource:
    """One source as loaded: its provenance and rows, or an offer table read whole from a file."""

    sources: tuple[CatalogSource, ...]
    parts: tuple[Part, ...] = ()
    prebuilt: OfferTable | None = None  # an Arrow file: rows, provenance and issues as written

    @property
    def issues(self) -> tuple[RowIssue, ...]:
        if self.prebuilt is not None:
            return self.prebuilt.issues
        return tuple(issue for part in self.parts for issue in part.issues)

    @property
    def warnings(self) -> tuple[str, ...]:
        if self.prebuilt is not None:
            return self.prebuilt.warnings
        return tuple(warning for part in self.parts if (warning := part.warning))

    def tables(self) -> list[pa.Table]:
        if self.prebuilt is not None:
            return [decoded_table(self.prebuilt)]
        return [part.table for part in self.parts]


def build_table(columns: dict[str, pa.Array | np.ndarray], keep: np.ndarray) -> pa.Table:
    """The offer columns of the kept rows, typed as ARROW_TYPES."""
    arrays = []
    mask = None if keep.all() else pa.array(keep)
    for name, arrow_type in ARROW_TYPES.items():
        values = columns[name]
        array = (
            pa.array(values, type=arrow_type)
            if isinstance(values, np.ndarray)
            else values.cast(arrow_type)
        )
        arrays.append(array if mask is None else array.filter(mask))
    return pa.Table.from_arrays(arrays, names=list(ARROW_TYPES))


def repeated(value: str, rows: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), rows)


def float_with_nulls(values: np.ndarray) -> pa.Array:
    """NaN → null, so a missing number stays missing through Arrow and back."""
    return pa.array(values, type=pa.float64(), from_pandas=True)
