"""The offer table: ``Catalog`` (columnar, price-sorted, read-only) and its Arrow IPC cache.

Every way of building a Catalog (loaders, ``from_frame``, ``read_table``) ends in the same Arrow
table (price-sorted, dictionary-encoded strings, ``row_id``) and the same Arrow → pandas
conversion, so dtypes are identical whatever the source: category columns with ``str``
categories, compact numeric columns, ``NaN`` for unknown, and ``row_id`` = position.

The pandas frame is built from the Arrow table on first use (``.frame``): the matcher reads
numpy columns and categories, which come straight from Arrow with the dtypes pandas would give
them, so ``planner offers`` never imports pandas (~0.3 s of start-up).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.ipc as pa_ipc

from planner.catalog.columns import COLUMNS, ROW_ID
from planner.catalog.provenance import CatalogSource, RowIssue
from planner.errors import CatalogError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from planner.catalog.loaders.part import LoadedSource

T = TypeVar("T")
# Schema metadata key of the Arrow cache, and its layout version.
_METADATA_KEY = b"planner.catalog"
_CACHE_FORMAT = 1
# How many malformed rows a strict-mode error lists before summarizing.
_STRICT_SHOWN_ISSUES = 20
# The source keyword of the bundled snapshot (as in planner.catalog.loaders.sources).
_BUNDLED = "bundled"


class Catalog:
    """An immutable offer table: ``columns.COLUMNS`` plus ``row_id``, ascending price (stable)."""

    def __init__(
        self,
        frame: pd.DataFrame | None,
        sources: Sequence[CatalogSource],
        issues: Sequence[RowIssue] = (),
        warnings: Sequence[str] = (),
    ) -> None:
        # Use load/bundled/from_frame/read_table: they guarantee the frame's layout (None: the
        # rows are an Arrow table set by _of_table).
        self._frame: pd.DataFrame | None = frame
        # The Arrow rows the frame is (or will be) converted from; None when given a frame.
        self._table: pa.Table | None = None
        self._sources: tuple[CatalogSource, ...] = tuple(sources)
        self._issues: tuple[RowIssue, ...] = tuple(issues)
        self._warnings: tuple[str, ...] = tuple(warnings)
        self._arrays: dict[str, np.ndarray] = {}
        self._derived: dict[str, Any] = {}

    @classmethod
    def _of_table(
        cls,
        table: pa.Table,
        sources: Sequence[CatalogSource],
        issues: Sequence[RowIssue] = (),
        warnings: Sequence[str] = (),
    ) -> Catalog:
        """A catalog of a sorted, encoded table (``_sorted_table`` or a cache); frame built lazily."""
        catalog = cls(None, sources, issues, warnings)
        catalog._table = table
        return catalog

    def _pandas(self) -> pd.DataFrame:
        """The frame itself (not a copy), converted from the Arrow table on first use."""
        if self._frame is None:
            assert self._table is not None
            self._frame = _frame_of(self._table)
        return self._frame

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

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        *sources: str | os.PathLike[str],
        strict: bool = False,
        cache_dir: Path | None = None,
    ) -> Catalog:
        """Load and concatenate sources in the order given; none = the bundled snapshot.

        A source is a gpuhunt zip, a directory of ``<provider>.csv``, one gpuhunt CSV, a
        SkyPilot ``vms.csv`` (or a directory of ``<cloud>/vms.csv``), an Arrow cache written by
        ``write_table``, an ``http(s)://`` URL, or the keywords ``bundled`` and ``cache``.
        Malformed rows are left out and reported in ``issues``/``warnings``; ``strict=True``
        raises CatalogError instead.
        """
        for source in sources:
            if not isinstance(source, str | os.PathLike):
                raise CatalogError(
                    "Catalog.load takes catalog sources as paths, URLs or keywords (str or "
                    f"os.PathLike), not {type(source).__name__}"
                )
        if len(sources) <= 1 and os.fspath(sources[0] if sources else _BUNDLED) == _BUNDLED:
            from planner.catalog.bundled import prebuilt_snapshot

            prebuilt = prebuilt_snapshot()
            if prebuilt is not None:
                if strict and prebuilt.issues:
                    raise CatalogError(_strict_problems(prebuilt.issues))
                return prebuilt
        from planner.catalog.loaders.sources import load_source

        loaded = [load_source(source, cache_dir=cache_dir) for source in (sources or (_BUNDLED,))]
        return cls._assemble(loaded, strict=strict)

    @classmethod
    def bundled(cls) -> Catalog:
        return cls.load(_BUNDLED)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        sources: Sequence[CatalogSource] | None = None,
    ) -> Catalog:
        """A catalog of ``frame``'s rows (tests, generators), sorted by price like any other.

        Required: provider, instance_type, region, price, cpu, memory_gb, gpu_count, spot.
        Optional columns default as in a gpuhunt file (NaN, "" flags/provider_data, x86).
        Values a gpuhunt loader would reject raise CatalogError.
        """
        from planner.catalog.loaders.part import table_from_frame

        table = table_from_frame(frame)
        rows = table.num_rows
        providers = tuple(
            sorted({str(value) for value in table.column("provider").unique().to_pylist()})
        )
        source = CatalogSource(
            location="<frame>",
            format="frame",
            providers=providers,
            as_of=None,
            as_of_from=None,
            rows=rows,
            dropped=0,
        )
        return cls._of_table(
            _sorted_table(table), tuple(sources) if sources is not None else (source,)
        )

    @classmethod
    def _assemble(cls, loaded: Iterable[LoadedSource], *, strict: bool) -> Catalog:
        loaded = list(loaded)
        issues = [issue for source in loaded for issue in source.issues]
        if strict and issues:
            raise CatalogError(_strict_problems(issues))
        if len(loaded) == 1 and loaded[0].prebuilt is not None:
            return loaded[0].prebuilt  # a cache read whole: nothing to combine
        warnings = [warning for source in loaded for warning in source.warnings]
        tables = [table for source in loaded for table in source.tables()]
        table = pa.concat_tables(tables) if tables else _empty_table()
        sources = [item for source in loaded for item in source.sources]
        warnings += _overlap_warnings(sources)
        return cls._of_table(_sorted_table(table), sources, issues, warnings)

    def with_provenance(
        self,
        *,
        location: str | None = None,
        as_of: str | None = None,
        as_of_from: str | None = None,
        version: str | None = None,
    ) -> Catalog:
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
        catalog = Catalog(self._frame, restated, self.issues, self.warnings)
        catalog._table = self._table
        catalog._arrays = self._arrays
        catalog._derived = self._derived
        return catalog

    # ----- reading -----------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """The rows (a shallow copy: changing it never changes the catalog)."""
        return self._pandas().copy(deep=False)

    def __len__(self) -> int:
        if self._frame is None and self._table is not None:
            return int(self._table.num_rows)
        return len(self._pandas())

    def __repr__(self) -> str:
        providers = ", ".join(self.providers)
        return f"<Catalog {len(self):,} rows; providers: {providers or '-'}; as of {self.as_of or 'unknown'}>"

    @property
    def providers(self) -> tuple[str, ...]:
        if self._frame is None and _arrow_column(self._table, "provider") is not None:
            names = self.categories("provider")
            present = np.unique(self.array("provider"))
            return tuple(sorted(names[code] if code >= 0 else "nan" for code in present))
        return tuple(sorted(str(name) for name in self._pandas()["provider"].unique()))

    @property
    def as_of(self) -> str | None:
        """The oldest source date: the whole catalog is at least that fresh."""
        dates = [source.as_of for source in self.sources if source.as_of]
        return min(dates) if dates else None

    def array(self, name: str) -> np.ndarray:
        """A read-only numpy view of one column, cached; category columns give their codes.

        Codes index ``categories(name)``; -1 is NaN (unknown / CPU row).
        """
        cached = self._arrays.get(name)
        if cached is not None:
            return cached
        values = None if self._frame is not None else _arrow_values(self._table, name)
        if values is None:
            values = self._pandas_values(name)
        view = values.view()
        view.flags.writeable = False
        self._arrays[name] = view
        return view

    def _pandas_values(self, name: str) -> np.ndarray:
        import pandas as pd

        frame = self._pandas()
        if name not in frame.columns:
            raise KeyError(
                f"no column {name!r} in the catalog (columns: {', '.join(frame.columns)})"
            )
        column = frame[name]
        values: np.ndarray = (
            column.cat.codes.to_numpy()
            if isinstance(column.dtype, pd.CategoricalDtype)
            else column.to_numpy()
        )
        return values

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
        import_free = None if self._frame is not None else _arrow_column(self._table, name)
        if import_free is not None and pa.types.is_dictionary(import_free.type):
            return tuple(str(value) for value in import_free.dictionary.to_pylist())
        import pandas as pd

        column = self._pandas()[name]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            raise KeyError(f"column {name!r} is not a category column")
        return tuple(str(value) for value in column.cat.categories)


def _overlap_warnings(sources: Sequence[CatalogSource]) -> list[str]:
    """One line per provider gpuhunt does not know (never offered), and per provider that more
    than one source supplies (e.g. a snapshot plus a fresh file).

    Both sets of rows are kept (no dedup, as gpuhunt), so stale and fresh prices of the same
    instances would compete silently; the warning names the sources.
    """
    locations: dict[str, list[str]] = {}
    for source in sources:
        for provider in dict.fromkeys(source.providers):
            locations.setdefault(provider, []).append(source.location)
    from planner.catalog.columns import OFFLINE_PROVIDERS, ONLINE_PROVIDERS

    known = OFFLINE_PROVIDERS + ONLINE_PROVIDERS
    unknown = [
        f"provider {provider!r} ({', '.join(where)}) is not one gpuhunt knows: its rows are "
        "loaded but never offered (name the file or its directory after the provider, e.g. "
        "lambdalabs.csv or lambda/vms.csv)"
        for provider, where in sorted(locations.items())
        if provider.lower() not in known
    ]
    return unknown + [
        f"provider {provider} comes from {len(where)} sources ({', '.join(where)}): the rows "
        "of all of them are offered, so the same instance may be listed at several prices"
        for provider, where in sorted(locations.items())
        if len(where) > 1
    ]


# ----- building frames ----------------------------------------------------------------------
def _empty_table() -> pa.Table:
    from planner.catalog.loaders.part import ARROW_TYPES

    return pa.Table.from_arrays(
        [pa.array([], type=arrow_type) for arrow_type in ARROW_TYPES.values()],
        names=list(ARROW_TYPES),
    )


def _sorted_table(table: pa.Table) -> pa.Table:
    """Typed Arrow rows → the catalog's table: stable price sort, dictionary strings, row_id."""
    from planner.catalog.loaders.part import ARROW_TYPES

    price = np.asarray(table.column("price").to_numpy())
    order = np.argsort(price, kind="stable")
    if not np.array_equal(order, np.arange(len(order))):
        table = table.take(pa.array(order))
    arrays = []
    for name in ARROW_TYPES:
        column = table.column(name)
        if COLUMNS[name] == "category":
            column = column.combine_chunks().dictionary_encode()
        arrays.append(column)
    arrays.append(pa.array(np.arange(table.num_rows, dtype=np.int64)))
    return pa.Table.from_arrays(arrays, names=[*ARROW_TYPES, ROW_ID])


def _frame_of(table: pa.Table) -> pd.DataFrame:
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


def _arrow_column(table: pa.Table | None, name: str) -> pa.Array | None:
    """One column of a catalog table as a single Arrow array (None: absent or chunked)."""
    if table is None or name not in table.column_names:
        return None
    column = table.column(name)
    if column.num_chunks != 1:
        return None
    chunk: pa.Array = column.chunk(0)
    if pa.types.is_dictionary(chunk.type) and chunk.dictionary.null_count:
        return None
    return chunk


def _code_dtype(categories: int) -> np.dtype:
    """pandas' dtype for the codes of that many categories (``coerce_indexer_dtype``)."""
    for dtype in (np.int8, np.int16, np.int32):
        if categories < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


# Arrow primitive types → numpy dtypes, for reading buffers directly.
_NUMPY_TYPES = {
    "bool": np.dtype(np.bool_),
    "int8": np.dtype(np.int8),
    "int16": np.dtype(np.int16),
    "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64),
    "float": np.dtype(np.float32),
    "double": np.dtype(np.float64),
}


def _bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    """An Arrow bitmap (validity or bool values) as one numpy bool per element."""
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, bitorder="little")[offset : offset + length].astype(bool)


def _primitive(array: pa.Array) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(values, validity or None) of a primitive array, from its buffers.

    pyarrow's own ``to_numpy`` converts nullable and bool arrays through pandas; reading the
    buffers keeps pandas unimported. None for a type this does not handle.
    """
    dtype = _NUMPY_TYPES.get(str(array.type))
    if dtype is None:
        return None
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


def _arrow_values(table: pa.Table | None, name: str) -> np.ndarray | None:
    """What ``Catalog.array`` gives for the pandas frame, read from Arrow without pandas.

    None when the column is not exactly as the frame conversion would keep it (then the frame
    is built and read instead): only the common, exactly reproducible cases are handled here.
    """
    chunk = _arrow_column(table, name)
    expected = COLUMNS.get(name, "int64" if name == ROW_ID else None)
    if chunk is None or expected is None:
        return None
    if expected == "category":
        if not pa.types.is_dictionary(chunk.type):
            return None
        read = _primitive(chunk.indices)
        if read is None:
            return None
        codes, valid = read
        dtype = _code_dtype(len(chunk.dictionary))
        if valid is None:
            return codes.astype(dtype, copy=False)
        return np.where(valid, codes, -1).astype(dtype, copy=False)  # pandas: -1 = NaN
    read = _primitive(chunk)
    if read is None:
        return None
    values, valid = read
    if values.dtype != np.dtype(expected):
        return None
    if valid is not None:
        if values.dtype.kind != "f":
            return None  # e.g. an integer column with nulls: let the frame conversion decide
        values = np.where(valid, values, np.nan)
    return values


def _strict_problems(issues: Sequence[RowIssue]) -> list[Problem]:
    problems = [
        Problem(
            f"{issue.reason}" + (f" ({issue.value!r})" if issue.value is not None else ""),
            file=issue.source,
            line=issue.line,
            path=issue.column,
        )
        for issue in issues[:_STRICT_SHOWN_ISSUES]
    ]
    if len(issues) > _STRICT_SHOWN_ISSUES:
        problems.append(
            Problem(
                f"… and {len(issues) - _STRICT_SHOWN_ISSUES:,} more malformed rows (--strict refuses them all)"
            )
        )
    return problems


# ----- the Arrow IPC cache -----------------------------------------------------------------
def write_table(catalog: Catalog, path: str | os.PathLike[str]) -> Path:
    """Write ``catalog`` (rows, categories, provenance, issues) as an Arrow IPC file, atomically."""
    target = Path(path)
    table = pa.Table.from_pandas(catalog._pandas(), preserve_index=False)
    metadata = {
        "format": _CACHE_FORMAT,
        "sources": [source.to_json() for source in catalog.sources],
        "issues": [issue.to_json() for issue in catalog.issues],
        "warnings": list(catalog.warnings),
    }
    table = table.replace_schema_metadata({_METADATA_KEY: json.dumps(metadata).encode("utf-8")})
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


_CACHE_TYPES = {"float64": pa.float64(), "int32": pa.int32(), "bool": pa.bool_()}


def _cache_type_ok(field: pa.Field) -> bool:
    """Whether a cache column has the Arrow type write_table gives it."""
    if field.name == ROW_ID:
        return bool(field.type == pa.int64())
    dtype = COLUMNS[field.name]
    if dtype == "category":
        return pa.types.is_dictionary(field.type) and (
            pa.types.is_string(field.type.value_type)
            or pa.types.is_large_string(field.type.value_type)
        )
    return bool(field.type == _CACHE_TYPES[dtype])


def read_table(path: str | os.PathLike[str]) -> Catalog:
    """A Catalog from ``write_table``'s file (memory-mapped: fast, small resident memory)."""
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
    wrong = [field.name for field in table.schema if not _cache_type_ok(field)]
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
    try:
        metadata = json.loads(raw)
        if not isinstance(metadata, dict):
            raise TypeError("the metadata is not a JSON object")
        if metadata.get("format") != _CACHE_FORMAT:
            raise CatalogError(
                f"{source}: catalog cache format {metadata.get('format')} is not {_CACHE_FORMAT}; rebuild it"
            )
        sources = [CatalogSource.from_json(item) for item in metadata["sources"]]
        issues = [RowIssue(**item) for item in metadata.get("issues", [])]
        warnings = [str(item) for item in metadata.get("warnings", [])]
    except (ValueError, KeyError, TypeError) as error:
        raise CatalogError(
            f"{source}: the catalog cache's provenance is unreadable: {error}"
        ) from error
    return Catalog._of_table(table, sources, issues, warnings)
