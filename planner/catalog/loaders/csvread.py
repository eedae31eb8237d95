"""CSV bytes → a table of strings (pyarrow, multi-threaded), with the physical line of each row.

Every column is read as text so that validation, not the parser, decides what is malformed, and
so that a bad value costs one row (reported), never the whole file. Rows with too many or too
few fields are read as ``csv.DictReader`` reads them. Line numbers are computed only when a row
needs one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from planner.errors import CatalogError

_BOM = b"\xef\xbb\xbf"
_NEWLINE = 10
_QUOTE = 34
_CARRIAGE_RETURN = 13
# Parse blocks of this size in parallel (measured: larger blocks parallelize worse).
_BLOCK_BYTES = 4 << 20


def header_of(data: bytes, name: str) -> tuple[str, ...]:
    """The header row's column names; CatalogError for an empty or undecodable file."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.strip():
        raise CatalogError(f"{name}: the file is empty")
    end = data.find(b"\n")
    first_line = data if end < 0 else data[:end]
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CatalogError(f"{name}: not a UTF-8 CSV file ({error})") from error
    return tuple(next(csv.reader([text.rstrip("\r")]), []))


@dataclass
class TextTable:
    """The rows of one CSV file as strings, in file order."""

    name: str
    header: tuple[str, ...]
    table: pa.Table  # one string column per header name; "" for empty (or missing) fields
    data: bytes = field(repr=False)
    # Each row's record ordinal: 1 is the header, blank lines are not counted.
    ordinals: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0, np.int64))

    @property
    def total_rows(self) -> int:
        return int(self.table.num_rows)

    def column(self, name: str) -> pa.ChunkedArray | pa.Array:
        """The column's text; a column the header lacks reads as empty (its default)."""
        if name in self.header:
            return self.table.column(name)
        return pc.fill_null(pa.nulls(self.table.num_rows, pa.string()), "")

    def lines_of(self, rows: np.ndarray) -> np.ndarray:
        """Physical 1-based line numbers of the given row positions (-1 where unknown)."""
        record_lines = _record_start_lines(self.data)
        ordinals = self.ordinals[rows]
        if len(ordinals) and int(ordinals.max()) > len(record_lines):
            return np.full(len(rows), -1, dtype=np.int64)
        return record_lines[ordinals - 1]


def read_text_table(data: bytes, name: str) -> TextTable:
    header = header_of(data, name)
    duplicates = sorted({column for column in header if header.count(column) > 1})
    if duplicates:
        raise CatalogError(f"{name}: duplicate column(s) in the header: {', '.join(duplicates)}")
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    table, rejected = _parse(data, header, name, use_threads=True)
    if any(number is None for number, _ in rejected):
        # The threaded parser does not number the rows it rejects; the serial one does.
        table, rejected = _parse(data, header, name, use_threads=False)
    ordinals = np.arange(2, table.num_rows + len(rejected) + 2, dtype=np.int64)
    if rejected:
        table, ordinals = _with_uneven_rows(table, ordinals, rejected, header)
    return TextTable(name=name, header=header, table=table, data=data, ordinals=ordinals)


def _with_uneven_rows(
    table: pa.Table,
    ordinals: np.ndarray,
    rejected: list[tuple[int | None, str]],
    header: tuple[str, ...],
) -> tuple[pa.Table, np.ndarray]:
    """Put back the rows with too many or too few fields, read as csv.DictReader reads them.

    Extra fields are ignored and missing ones are empty, so a row that lacks only optional
    trailing columns loads, and one lacking a required field is reported by validation. Only
    such rows (rare) go through Python's csv module.
    """
    numbers = np.array([number for number, _ in rejected], dtype=np.int64)
    kept_ordinals = ordinals[~np.isin(ordinals, numbers)]
    parsed = [next(csv.reader([text]), []) for _, text in rejected]
    columns = {
        column: pa.array([row[index] if index < len(row) else "" for row in parsed], pa.string())
        for index, column in enumerate(header)
    }
    repaired = pa.table(columns).select(table.column_names)
    combined = pa.concat_tables([table, repaired])
    all_ordinals = np.concatenate([kept_ordinals, numbers])
    order = np.argsort(all_ordinals, kind="stable")
    return combined.take(pa.array(order)), all_ordinals[order]


def _parse(
    data: bytes, header: tuple[str, ...], name: str, *, use_threads: bool
) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    rejected: list[tuple[int | None, str]] = []

    def reject(row: pa_csv.InvalidRow) -> str:
        rejected.append((row.number, row.text))
        return "skip"

    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(use_threads=use_threads, block_size=_BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=reject),
            convert_options=pa_csv.ConvertOptions(
                column_types={column: pa.string() for column in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as error:
        raise CatalogError(f"{name}: not a readable CSV file: {error}") from error
    return table, rejected


def _record_start_lines(data: bytes) -> np.ndarray:
    """1-based physical line where each non-blank CSV record starts (the header first).

    A newline ends a record unless it sits inside quotes, i.e. after an odd number of quote
    characters (doubled quotes inside a field count twice, so the parity still holds).
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buffer == _NEWLINE)
    quotes = np.flatnonzero(buffer == _QUOTE)
    separators = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    starts = np.concatenate(([0], separators + 1))
    ends = np.concatenate((separators, [len(buffer)]))
    lengths = ends - starts
    # A "\r\n" line ending leaves a lone "\r" in a blank record.
    ends_with_cr = np.zeros(len(ends), dtype=bool)
    nonempty_ends = lengths > 0
    ends_with_cr[nonempty_ends] = buffer[ends[nonempty_ends] - 1] == _CARRIAGE_RETURN
    blank = (lengths == 0) | ((lengths == 1) & ends_with_cr)
    starts = starts[~blank]
    return np.searchsorted(newlines, starts) + 1
