"""The offer table: the rows every catalog is made of, stored once, as one Arrow table.

``OfferTable`` holds ``columns.COLUMNS`` plus ``row_id`` in one Arrow table (one chunk per column,
dictionary-encoded strings, ascending price, stable), with the provenance, issues and warnings
of its sources. Nothing here knows where rows come from: loaders build the Arrow table
(``sorted_table``), and ``Catalog`` (``planner.catalog.table``) adds the loading.

Readers get numpy arrays straight from the Arrow buffers (``array``), with the dtypes pandas
would give them, so the matcher never imports pandas (~0.3 s of start-up); ``frame`` converts
to pandas on first use. The Arrow IPC file (``write_arrow``/``read_arrow``) is the same table with
the provenance in its schema metadata (docs/catalog-format.md §7).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.ipc as pa_ipc

from planner.catalog.columns import COLUMNS, ROW_ID
from planner.catalog.provenance import CatalogSource, RowIssue
from planner.catalog.row_rules import (
    ALLOWED_VALUES,
    NULLABLE_TEXT,
    QUANTITY_COLUMNS,
    QUANTITY_MAXIMA,
    REQUIRED_TEXT,
    UNKNOWN_ALLOWED,
    number_defects,
    quantities_valid,
)
from planner.errors import CatalogError

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
# Schema metadata key of the Arrow file, and its layout version.
_METADATA_KEY = b"planner.catalog"
_FILE_FORMAT = 1
_CATEGORY_COLUMNS = tuple(name for name, dtype in COLUMNS.items() if dtype == "category")

# Arrow types of the offer columns before category encoding (nullable where NaN is allowed):
# what loaders produce.
ARROW_TYPES: dict[str, pa.DataType] = {
    name: pa.string()
    if dtype == "category"
    else pa.bool_()
    if dtype == "bool"
    else pa.int32()
    if dtype == "int32"
    else pa.float64()
    for name, dtype in COLUMNS.items()
}
# Arrow types of the numeric columns as stored (category columns: a dictionary of strings).
_STORED_TYPES: dict[str, pa.DataType] = {
    **{
        name: arrow_type
        for name, arrow_type in ARROW_TYPES.items()
        if name not in _CATEGORY_COLUMNS
    },
    ROW_ID: pa.int64(),
}


class OfferTable:
    """Immutable rows (``columns.COLUMNS`` plus ``row_id``, ascending price) and their provenance."""

    def __init__(
        self,
        table: pa.Table,
        sources: Sequence[CatalogSource],
        issues: Sequence[RowIssue] = (),
        warnings: Sequence[str] = (),
    ) -> None:
        # ``table`` is as sorted_table or read_arrow give it: every column one chunk, strings
        # dictionary-encoded, integer and bool columns without nulls.
        self._table = table
        self._sources: tuple[CatalogSource, ...] = tuple(sources)
        self._issues: tuple[RowIssue, ...] = tuple(issues)
        self._warnings: tuple[str, ...] = tuple(warnings)
        self._frame: pd.DataFrame | None = None  # converted from the table on first use
        self._arrays: dict[str, np.ndarray] = {}
        self._derived: dict[str, Any] = {}

    @property
    def arrow(self) -> pa.Table:
        """The rows as an Arrow table (immutable, like every Arrow table)."""
        return self._table

    @property
    def sources(self) -> tuple[CatalogSource, ...]:
        """Provenance of each source, in load order."""
        return self._sources

    @property
    def issues(self) -> tuple[RowIssue, ...]:
        """Every malformed row left out, in source and line order."""
        return self._issues

    @property
    def warnings(self) -> tuple[str, ...]:
        """One summary line per file that had malformed rows."""
        return self._warnings

    @property
    def as_of(self) -> str | None:
        """The oldest source date: the whole catalog is at least that fresh."""
        dates = [source.as_of for source in self.sources if source.as_of]
        return min(dates) if dates else None

    def with_provenance(
        self,
        *,
        location: str | None = None,
        as_of: str | None = None,
        as_of_from: str | None = None,
        version: str | None = None,
    ) -> Self:
        """The same rows with every source's location (and as-of date, version) restated.

        For a file fetched into a staging path: the provenance is the URL, not the path.
        ``None`` keeps what the loader found.
        """
        restated = [
            replace(
                source,
                location=location if location is not None else source.location,
                as_of=as_of if as_of is not None else source.as_of,
                as_of_from=(as_of_from or "given") if as_of is not None else source.as_of_from,
                version=version if version is not None else source.version,
            )
            for source in self.sources
        ]
        offers = type(self)(self._table, restated, self.issues, self.warnings)
        offers._arrays = self._arrays  # the same rows: what was read or derived still holds
        offers._derived = self._derived
        return offers

    # ----- reading -----------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """The rows as pandas (a shallow copy: changing it never changes the catalog)."""
        if self._frame is None:
            self._frame = _frame_of(self._table)
        return self._frame.copy(deep=False)

    def __len__(self) -> int:
        return int(self._table.num_rows)

    def __repr__(self) -> str:
        providers = ", ".join(self.providers)
        return f"<{type(self).__name__} {len(self):,} rows; providers: {providers or '-'}; as of {self.as_of or 'unknown'}>"

    @property
    def providers(self) -> tuple[str, ...]:
        names = self.categories("provider")
        present = np.unique(self.array("provider"))
        return tuple(sorted(names[code] if code >= 0 else "nan" for code in present))

    def array(self, name: str) -> np.ndarray:
        """A read-only numpy view of one column, cached; category columns give their codes.

        Codes index ``categories(name)``; -1 is NaN (unknown / CPU row). Read from the Arrow
        buffers with the dtypes ``frame`` has (no copy for a column without nulls).
        """
        cached = self._arrays.get(name)
        if cached is not None:
            return cached
        if name not in self._table.column_names:
            raise KeyError(
                f"no column {name!r} in the catalog (columns: {', '.join(self._table.column_names)})"
            )
        view = _numpy_values(self._table.column(name).chunk(0)).view()
        view.flags.writeable = False
        self._arrays[name] = view
        return view

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, computed once per catalog under ``key`` (e.g. a matcher's lookup table).

        The rows never change, so what is derived from them never goes stale. Callers prefix keys
        with their module ("planner.match:...") so they cannot collide.
        """
        if key not in self._derived:
            self._derived[key] = build()
        value: T = self._derived[key]
        return value

    def categories(self, name: str) -> tuple[str, ...]:
        """The strings that a category column's codes stand for."""
        if name not in _CATEGORY_COLUMNS:
            raise KeyError(f"column {name!r} is not a category column")
        chunk = self._table.column(name).chunk(0)
        return tuple(str(value) for value in chunk.dictionary.to_pylist())


# ----- building the table -------------------------------------------------------------------
def empty_table() -> pa.Table:
    """No rows, typed as loaders type theirs (``ARROW_TYPES``)."""
    return pa.Table.from_arrays(
        [pa.array([], type=arrow_type) for arrow_type in ARROW_TYPES.values()],
        names=list(ARROW_TYPES),
    )


def sorted_table(table: pa.Table) -> pa.Table:
    """Rows typed as ``ARROW_TYPES`` → the stored table: stable price sort, one chunk per
    column, dictionary strings, ``row_id``."""
    price = np.asarray(table.column("price").to_numpy())
    order = np.argsort(price, kind="stable")
    if not np.array_equal(order, np.arange(len(order))):
        table = table.take(pa.array(order))
    arrays = []
    for name in ARROW_TYPES:
        column = table.column(name).combine_chunks()
        arrays.append(_encoded(column) if name in _CATEGORY_COLUMNS else column)
    arrays.append(pa.array(np.arange(table.num_rows, dtype=np.int64)))
    return pa.Table.from_arrays(arrays, names=[*ARROW_TYPES, ROW_ID])


def _encoded(column: pa.Array) -> pa.DictionaryArray:
    """Dictionary strings whose indices have pandas' code dtype: ``array`` reads them as the
    codes without a copy, and the Arrow file is as small as the codes allow."""
    encoded = column.dictionary_encode()
    index_type = pa.from_numpy_dtype(_code_dtype(len(encoded.dictionary)))
    return pa.DictionaryArray.from_arrays(encoded.indices.cast(index_type), encoded.dictionary)


def decoded_table(offers: OfferTable) -> pa.Table:
    """The rows typed as ``ARROW_TYPES`` again (plain strings, no ``row_id``), to combine."""
    table = offers.arrow
    return pa.Table.from_arrays(
        [table.column(name).cast(arrow_type) for name, arrow_type in ARROW_TYPES.items()],
        names=list(ARROW_TYPES),
    )


def _frame_of(table: pa.Table) -> pd.DataFrame:
    # Lazy for start-up time: pandas (~0.3 s) is imported only when a frame is asked for.
    import pandas as pd

    frame = table.to_pandas(split_blocks=True)
    for name, dtype in COLUMNS.items():
        column = frame[name]
        if dtype != "category":
            if column.dtype != np.dtype(dtype):
                frame[name] = column.astype(dtype)
        elif column.cat.categories.dtype != "str":
            # An all-NaN column arrives with object categories; every catalog has str ones.
            categories = pd.Index([str(value) for value in column.cat.categories], dtype="str")
            frame[name] = pd.Categorical.from_codes(column.cat.codes, categories=categories)
    return frame


# ----- numpy views of the Arrow buffers ------------------------------------------------------
# Arrow primitive types → numpy dtypes, for reading buffers directly.
_NUMPY_TYPES = {
    "bool": np.dtype(np.bool_),
    "int8": np.dtype(np.int8),
    "int16": np.dtype(np.int16),
    "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64),
    "double": np.dtype(np.float64),
}


def _code_dtype(categories: int) -> np.dtype:
    """pandas' dtype for the codes of that many categories (``coerce_indexer_dtype``)."""
    for dtype in (np.int8, np.int16, np.int32):
        if categories < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def _bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    """An Arrow bitmap (validity or bool values) as one numpy bool per element."""
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, bitorder="little")[offset : offset + length].astype(bool)


def _primitive(array: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """(values, validity or None) of a primitive array, from its buffers.

    pyarrow's own ``to_numpy`` converts nullable and bool arrays through pandas; reading the
    buffers keeps pandas unimported.
    """
    dtype = _NUMPY_TYPES[str(array.type)]
    length, offset = len(array), array.offset
    if length == 0:
        return np.empty(0, dtype=dtype), None
    validity, data = array.buffers()[:2]
    if dtype == np.bool_:
        values = _bits(data, offset, length)
    else:
        values = np.frombuffer(data, dtype=dtype, count=offset + length)[offset:]
    valid = _bits(validity, offset, length) if array.null_count else None
    return values, valid


def _numpy_values(chunk: pa.Array) -> np.ndarray:
    """What the pandas frame holds for one stored column: values, NaN for null numbers, and
    category codes (-1 for null) in pandas' code dtype."""
    if pa.types.is_dictionary(chunk.type):
        codes, valid = _primitive(chunk.indices)
        dtype = _code_dtype(len(chunk.dictionary))
        if valid is None:
            return codes.astype(dtype, copy=False)
        return np.where(valid, codes, -1).astype(dtype, copy=False)
    values, valid = _primitive(chunk)
    if valid is not None:  # only float columns hold nulls (read_arrow checks)
        values = np.where(valid, values, np.nan)
    return values


# ----- the Arrow IPC file ---------------------------------------------------------------------
def write_arrow(offers: OfferTable, path: str | os.PathLike[str]) -> Path:
    """Write the rows, categories, provenance and issues as an Arrow IPC file, atomically."""
    target = Path(path)
    metadata = {
        "format": _FILE_FORMAT,
        "sources": [source.to_json() for source in offers.sources],
        "issues": [issue.to_json() for issue in offers.issues],
        "warnings": list(offers.warnings),
    }
    table = offers.arrow.replace_schema_metadata(
        {_METADATA_KEY: json.dumps(metadata).encode("utf-8")}
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as sink, pa_ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _stored_type_ok(field: pa.Field) -> bool:
    """Whether a file's column has the Arrow type the offer table stores it as."""
    if field.name in _CATEGORY_COLUMNS:
        return pa.types.is_dictionary(field.type) and (
            pa.types.is_string(field.type.value_type)
            or pa.types.is_large_string(field.type.value_type)
        )
    return bool(field.type == _STORED_TYPES[field.name])


def read_arrow(path: str | os.PathLike[str]) -> OfferTable:
    """An offer table from ``write_arrow``'s file (memory-mapped: fast, small resident memory)."""
    source = Path(path)
    try:
        with pa.memory_map(str(source), "r") as mapped:
            table = pa_ipc.open_file(mapped).read_all()
    except FileNotFoundError as error:
        raise CatalogError(f"{source}: no such file") from error
    except (OSError, pa.ArrowException) as error:  # Arrow's own errors are ArrowException
        raise CatalogError(f"{source}: not a planner catalog cache (Arrow IPC): {error}") from error
    raw = (table.schema.metadata or {}).get(_METADATA_KEY)
    expected = [*COLUMNS, ROW_ID]
    try:
        names = table.column_names
    except UnicodeDecodeError:  # a damaged schema
        names = []
    if raw is None or names != expected:
        raise CatalogError(f"{source}: not a planner catalog cache (missing columns or provenance)")
    wrong = [field.name for field in table.schema if not _stored_type_ok(field)]
    if wrong:
        raise CatalogError(
            f"{source}: not a planner catalog cache (column(s) of the wrong type: {', '.join(wrong)})"
        )
    try:
        # A damaged file can hold offsets or dictionary indices that point outside its buffers;
        # reading through them would crash the process, not raise (~25 ms per million rows).
        table.validate(full=True)
    except pa.ArrowException as error:
        raise CatalogError(f"{source}: a damaged planner catalog cache: {error}") from error
    missing = [name for name in expected if _has_missing_values(table.column(name))]
    if missing:
        raise CatalogError(
            f"{source}: a damaged planner catalog cache (missing values in {', '.join(missing)})"
        )
    try:
        metadata = json.loads(raw)
        if not isinstance(metadata, dict):
            raise TypeError("the metadata is not a JSON object")
        if metadata.get("format") != _FILE_FORMAT:
            raise CatalogError(
                f"{source}: catalog cache format {metadata.get('format')} is not {_FILE_FORMAT}; rebuild it"
            )
        sources = [CatalogSource.from_json(item) for item in metadata["sources"]]
        issues = [RowIssue(**item) for item in metadata.get("issues", [])]
        warnings = [str(item) for item in metadata.get("warnings", [])]
    except (ValueError, KeyError, TypeError) as error:
        raise CatalogError(
            f"{source}: the catalog cache's provenance is unreadable: {error}"
        ) from error
    if any(column.num_chunks != 1 for column in table.columns):
        # One chunk per column, as array() reads them (a file of several record batches).
        table = table.unify_dictionaries()
        table = pa.Table.from_arrays(
            [column.combine_chunks() for column in table.columns], schema=table.schema
        )
    # A file written by write_arrow holds only rows a loader accepted, in order: anything else
    # was damaged or tampered with, and would be planned with ("$nan", "-$1.00", a cheaper row
    # after a dearer one).
    problems = _row_problems(table)
    if problems:
        raise CatalogError(f"{source}: a damaged planner catalog cache: {'; '.join(problems)}")
    return OfferTable(table, sources, issues, warnings)


def _row_problems(table: pa.Table) -> list[str]:
    """The row rules (``row_rules``) the stored rows break, and the table's own invariants
    (ascending price, ``row_id`` the position). A few reductions per column over the Arrow
    buffers (a few ms per million rows); the rows and reasons are worked out only for a bad file."""
    problems = []
    for name in QUANTITY_COLUMNS:
        chunk = table.column(name).chunk(0)
        unknown_allowed = name in UNKNOWN_ALLOWED
        # The buffer as stored: a null's slot holds any value, so the fast test may fail on
        # one (then the exact test below decides) but never passes a bad stated value.
        stored, _ = _primitive(chunk)
        maximum = QUANTITY_MAXIMA[name]
        if (unknown_allowed or not chunk.null_count) and quantities_valid(
            stored, unknown_allowed=unknown_allowed, maximum=maximum
        ):
            continue
        values = _numpy_values(chunk)  # nulls as NaN
        stated = ~np.isnan(values) if unknown_allowed else True
        for reason, bad in number_defects(name, values, maximum):
            rows = np.flatnonzero(bad & stated)
            if len(rows):
                problems.append(f"{reason} in {len(rows):,} rows (first: row {rows[0]})")
    if not problems:  # an order of valid prices
        price, _ = _primitive(table.column("price").chunk(0))
        descents = np.flatnonzero(price[1:] < price[:-1])
        if len(descents):
            problems.append(f"rows are not in ascending price order (first: row {descents[0] + 1})")
    row_id, _ = _primitive(table.column(ROW_ID).chunk(0))
    if not np.array_equal(row_id, np.arange(len(row_id))):
        problems.append(f"{ROW_ID} is not each row's position")
    for name in (*REQUIRED_TEXT, *NULLABLE_TEXT):
        chunk = table.column(name).chunk(0)
        if name in REQUIRED_TEXT and chunk.null_count:
            problems.append(f"{name} is missing in {chunk.null_count:,} rows")
        if name in REQUIRED_TEXT and _holds_empty_string(chunk.dictionary):
            problems.append(f"{name} is empty in some rows")
        allowed = ALLOWED_VALUES.get(name)
        if allowed is not None:
            unknown = sorted({str(v) for v in chunk.dictionary.to_pylist()} - set(allowed))
            if unknown:
                shown = ", ".join(repr(value[:40]) for value in unknown[:5])
                problems.append(f"{name} holds unknown value(s) {shown}")
    return problems


def _holds_empty_string(strings: pa.Array) -> bool:
    """Whether a (large) string array has an empty value, from its offsets (no Python strings)."""
    if len(strings) == 0:
        return False
    dtype = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    offsets = np.frombuffer(
        strings.buffers()[1], dtype=dtype, count=strings.offset + len(strings) + 1
    )
    lengths = np.diff(offsets[strings.offset :])
    return bool((lengths == 0).any())


def _has_missing_values(column: pa.ChunkedArray) -> bool:
    """Nulls where the offer table has none: an integer or bool value, a category's string."""
    if pa.types.is_dictionary(column.type):
        return any(chunk.dictionary.null_count for chunk in column.chunks)
    return bool(column.null_count) and not pa.types.is_floating(column.type)
