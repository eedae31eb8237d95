"""CSV bytes → a table of strings (pyarrow, multi-threaded), with the physical line of each row.

Every column is read as text so that validation, not the parser, decides what is malformed, and
so that a bad value costs one row (reported), never the whole file. Rows with too many or too
few fields are read as ``csv.DictReader`` reads them. Line numbers are computed only when a row
needs one.

gpuhunt reads a catalog through ``io.TextIOWrapper(file, "utf-8")``, i.e. with universal newlines:
``\r\n``, ``\n`` and a bare ``\r`` (old Mac files) all end a line, and a line break inside a quoted
value reads as ``\n``. The same holds here. What gpuhunt cannot read at all (a field longer than
Python's default ``csv.field_size_limit``, text that is not UTF-8) is a CatalogError naming the
file and line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterator
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
# Arrow's largest block (a record longer than one block needs a block holding all of it).
_MAX_BLOCK_BYTES = (1 << 31) - 1
# Python's default csv.field_size_limit(): gpuhunt's csv.DictReader fails the whole file on a
# longer field, so such a file is refused (naming the line) rather than read differently.
FIELD_SIZE_LIMIT = 131072
# Universal newlines: what ends a physical line.
_LINE_BREAK = re.compile(rb"\r\n?|\n")


def header_of(data: bytes, name: str, *, partial: bool = False) -> tuple[str, ...]:
    """The header row's column names, read as csv.DictReader reads them; CatalogError for an
    empty or undecodable file.

    ``partial``: ``data`` is only the start of the file (a long first line may be cut anywhere,
    even inside a UTF-8 character).
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.strip():
        raise CatalogError(f"{name}: the file is empty")
    try:
        return tuple(next(csv.reader(_text_lines(data, name, partial=partial)), []))
    except csv.Error as error:
        raise CatalogError(f"{name}:1: the header row is not readable CSV ({error})") from error


def _text_lines(data: bytes, name: str, *, partial: bool) -> Iterator[str]:
    """Decoded lines, with universal newlines, produced only as far as the reader asks."""
    start = 0
    number = 0
    for number, match in enumerate(_LINE_BREAK.finditer(data), start=1):
        yield _decoded(data[start : match.start()], name, number, partial=False) + "\n"
        start = match.end()
    if start < len(data):
        yield _decoded(data[start:], name, number + 1, partial=partial)


def _decoded(line: bytes, name: str, number: int, *, partial: bool) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        if not (partial and error.reason == "unexpected end of data"):
            raise CatalogError(f"{name}:{number}: not a UTF-8 CSV file ({error})") from error
        return line[: error.start].decode("utf-8")  # cut inside a character


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
        return _lines_of_ordinals(self.data, self.ordinals[rows], len(self.ordinals) + 1)


def read_text_table(data: bytes, name: str, fields: Collection[str] = ()) -> TextTable:
    """The file's rows as text; ``fields`` are the columns the caller reads.

    A column named twice is an error (which one was meant? csv.DictReader silently keeps the
    last); only unnamed columns (a trailing comma) may repeat.
    """
    header = header_of(data, name)
    if not header:
        raise CatalogError(f"{name}:1: the first line is blank (expected the header row)")
    _refuse_repeated_columns(header, name)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not _is_utf8(data):
        # gpuhunt's TextIOWrapper fails on it too; checked first because Arrow's handler of
        # uneven rows cannot even be called with such a row.
        raise CatalogError(_unreadable(data, name, None))
    table, rejected = _parse(data, header, name, use_threads=True)
    if any(number is None for number, _ in rejected):
        # The threaded parser does not number the rows it rejects; the serial one does.
        table, rejected = _parse(data, header, name, use_threads=False)
    typed = all(pa.types.is_string(column_type) for column_type in table.schema.types)
    if [_universal(column) for column in table.column_names] != list(header) or not typed:
        # A name the parser read otherwise, or one whose line breaks inside quotes differ from
        # the forms tried in _parse (its column's text was then not kept as text).
        raise CatalogError(
            f"{name}:1: the header row cannot be read unambiguously "
            f"(read as {','.join(table.column_names)[:200]})"
        )
    table = table.rename_columns(list(header))
    ordinals = np.arange(2, table.num_rows + len(rejected) + 2, dtype=np.int64)
    if rejected:
        table, ordinals = _with_uneven_rows(data, name, table, ordinals, rejected, header)
    table = _universal_newlines(table)
    _check_field_sizes(data, name, table, ordinals)
    if len(set(header)) < len(header):
        last = {column: index for index, column in enumerate(header)}
        header = tuple(last)
        table = pa.Table.from_arrays([table.column(last[c]) for c in header], names=list(header))
    return TextTable(name=name, header=header, table=table, data=data, ordinals=ordinals)


def _refuse_repeated_columns(header: tuple[str, ...], name: str) -> None:
    positions: dict[str, list[int]] = {}
    for number, column in enumerate(header, start=1):
        if column.strip():
            positions.setdefault(column, []).append(number)
    repeated = [(column, numbers) for column, numbers in positions.items() if len(numbers) > 1]
    if repeated:
        described = "; ".join(
            f"{column[:80]!r} (columns {', '.join(map(str, numbers))})"
            for column, numbers in repeated[:5]
        )
        raise CatalogError(f"{name}:1: duplicate column name(s) in the header: {described}")


def _with_uneven_rows(
    data: bytes,
    name: str,
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
    parsed = []
    for number, text in rejected:
        try:
            parsed.append(next(csv.reader([text]), []))
        except csv.Error as error:
            line = _lines_of_ordinals(data, np.array([number]), len(ordinals) + 1)[0]
            where = f"{name}:{line}" if line > 0 else name
            raise CatalogError(f"{where}: not readable CSV ({error})") from error
    columns = [
        pa.array([row[index] if index < len(row) else "" for row in parsed], pa.string())
        for index in range(len(header))
    ]
    repaired = pa.Table.from_arrays(columns, names=list(header))  # the table's own columns
    combined = pa.concat_tables([table, repaired])
    all_ordinals = np.concatenate([kept_ordinals, numbers])
    order = np.argsort(all_ordinals, kind="stable")
    return combined.take(pa.array(order)), all_ordinals[order]


def _universal_newlines(table: pa.Table) -> pa.Table:
    """A line break inside a quoted value reads as "\\n", as through io.TextIOWrapper."""
    columns = []
    changed = False
    for column in table.columns:
        if _holds_byte(column, _CARRIAGE_RETURN):
            column = pc.replace_substring(pc.replace_substring(column, "\r\n", "\n"), "\r", "\n")
            changed = True
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names) if changed else table


def _as_written(name: str) -> tuple[str, ...]:
    """The forms a header name read with universal newlines may have in the file: Arrow keeps
    a quoted name's line breaks as written ("\r\n", "\r" or "\n")."""
    if "\n" not in name:
        return (name,)
    return (name, name.replace("\n", "\r\n"), name.replace("\n", "\r"))


def _universal(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _holds_byte(column: pa.ChunkedArray, byte: int) -> bool:
    """Whether any value's bytes contain ``byte`` (a scan of the data buffers, no copies)."""
    for chunk in column.chunks:
        buffers = chunk.buffers()
        data = buffers[2] if len(buffers) > 2 else None
        if data is not None and (np.frombuffer(data, dtype=np.uint8) == byte).any():
            return True
    return False


def _check_field_sizes(data: bytes, name: str, table: pa.Table, ordinals: np.ndarray) -> None:
    """gpuhunt's csv reader fails the whole file on a field over the limit; so does this."""
    for column_name, column in zip(table.column_names, table.columns, strict=True):
        if len(column) == 0:
            continue
        longest = pc.max(pc.binary_length(column)).as_py()
        if longest is None or longest <= FIELD_SIZE_LIMIT:
            continue  # bytes bound characters
        too_long = np.flatnonzero(
            np.asarray(pc.greater(pc.utf8_length(column), FIELD_SIZE_LIMIT), dtype=bool)
        )
        if len(too_long) == 0:
            continue
        line = _lines_of_ordinals(data, ordinals[too_long[:1]], len(ordinals) + 1)[0]
        where = f"{name}:{line}" if line > 0 else name
        raise CatalogError(
            f"{where}: field {column_name!r} is longer than {FIELD_SIZE_LIMIT:,} characters "
            "(Python's csv.field_size_limit; gpuhunt cannot read this file either)"
        )


def _parse(
    data: bytes, header: tuple[str, ...], name: str, *, use_threads: bool
) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    rejected: list[tuple[int | None, str]] = []

    def reject(row: pa_csv.InvalidRow) -> str:
        rejected.append((row.number, row.text))
        return "skip"

    def read(block_size: int, threads: bool) -> pa.Table:
        rejected.clear()
        return pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(use_threads=threads, block_size=block_size),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=reject),
            convert_options=pa_csv.ConvertOptions(
                column_types={
                    variant: pa.string() for column in header for variant in _as_written(column)
                },
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        try:
            table = read(_BLOCK_BYTES, use_threads)
        except pa.ArrowInvalid as error:
            if "straddling" not in str(error):
                raise
            # A record longer than a block (a huge line): read the file as one block.
            table = read(min(len(data) + 1, _MAX_BLOCK_BYTES), False)
    except (pa.ArrowInvalid, pa.ArrowException) as error:
        raise CatalogError(_unreadable(data, name, error)) from error
    return table, rejected


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 (Arrow's validation of the bytes in place: no copy)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        whole.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _unreadable(data: bytes, name: str, error: Exception | None) -> str:
    """Why Arrow could not read the CSV, naming the line of the first non-UTF-8 byte if any."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as decode_error:
        line = _line_number_at(data, decode_error.start)
        return f"{name}:{line}: not a UTF-8 CSV file ({decode_error.reason} at byte {decode_error.start})"
    return f"{name}: not a readable CSV file: {error}"


def _line_number_at(data: bytes, position: int) -> int:
    """The 1-based physical line holding byte ``position``."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    return int(np.searchsorted(_line_breaks(buffer), position)) + 1


def _line_breaks(buffer: np.ndarray) -> np.ndarray:
    """Positions of the bytes that end physical lines: "\\n", and "\\r" not followed by "\\n"."""
    newlines = np.flatnonzero(buffer == _NEWLINE)
    returns = np.flatnonzero(buffer == _CARRIAGE_RETURN)
    if len(returns) == 0:
        return newlines
    following = buffer[np.minimum(returns + 1, len(buffer) - 1)]
    lone = returns[(following != _NEWLINE) | (returns == len(buffer) - 1)]
    if len(lone) == 0:
        return newlines
    return np.union1d(newlines, lone)


def _lines_of_ordinals(data: bytes, ordinals: np.ndarray, records: int) -> np.ndarray:
    """Physical lines where the given records start (-1 where unknown).

    ``records`` is how many records the parser read (the header included); when the fast count
    disagrees (stray quotes inside unquoted fields), Python's csv reader counts them exactly.
    """
    record_lines = _record_start_lines(data)
    if len(record_lines) != records:
        record_lines = _record_start_lines_exactly(data)
    if len(ordinals) == 0:
        return np.empty(0, dtype=np.int64)
    if int(ordinals.max()) > len(record_lines) or int(ordinals.min()) < 1:
        return np.full(len(ordinals), -1, dtype=np.int64)
    lines: np.ndarray = record_lines[ordinals - 1]
    return lines


def _record_start_lines(data: bytes) -> np.ndarray:
    """1-based physical line where each non-blank CSV record starts (the header first).

    A line break ends a record unless it sits inside quotes, i.e. after an odd number of quote
    characters (doubled quotes inside a field count twice, so the parity still holds).
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    breaks = _line_breaks(buffer)
    quotes = np.flatnonzero(buffer == _QUOTE)
    separators = breaks[np.searchsorted(quotes, breaks) % 2 == 0]
    starts = np.concatenate(([0], separators + 1))
    ends = np.concatenate((separators, [len(buffer)]))
    lengths = ends - starts
    # A "\r\n" line ending leaves a lone "\r" in a blank record.
    ends_with_cr = np.zeros(len(ends), dtype=bool)
    nonempty_ends = lengths > 0
    ends_with_cr[nonempty_ends] = buffer[ends[nonempty_ends] - 1] == _CARRIAGE_RETURN
    blank = (lengths == 0) | ((lengths == 1) & ends_with_cr)
    starts = starts[~blank]
    return np.searchsorted(breaks, starts) + 1


def _record_start_lines_exactly(data: bytes) -> np.ndarray:
    """As ``_record_start_lines``, by Python's csv reader (slow: only for files it misreads)."""
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=None))
        starts = []
        previous = 0
        for row in reader:
            if row:
                starts.append(previous + 1)
            previous = reader.line_num
    except (csv.Error, UnicodeDecodeError):
        return np.empty(0, dtype=np.int64)
    return np.array(starts, dtype=np.int64)
