"""The offer table: ``Catalog`` (columnar, price-sorted, read-only) and its Arrow IPC cache.

Every way of building a Catalog (loaders, ``from_frame``, ``read_table``) ends in the same Arrow
→ pandas conversion, so dtypes are identical whatever the source: category columns with ``str``
categories, compact numeric columns, ``NaN`` for unknown, and ``row_id`` = position.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as pa_ipc

from planner.catalog.columns import COLUMNS, ROW_ID
from planner.catalog.loaders.part import ARROW_TYPES, LoadedSource, table_from_frame
from planner.catalog.provenance import CatalogSource, RowIssue
from planner.errors import CatalogError, Problem

T = TypeVar("T")
# Schema metadata key of the Arrow cache, and its layout version.
_METADATA_KEY = b"planner.catalog"
_CACHE_FORMAT = 1
# How many malformed rows a strict-mode error lists before summarizing.
_STRICT_SHOWN_ISSUES = 20


class Catalog:
    """An immutable offer table: ``columns.COLUMNS`` plus ``row_id``, ascending price (stable)."""

    def __init__(
        self,
        frame: pd.DataFrame,
        sources: Sequence[CatalogSource],
        issues: Sequence[RowIssue] = (),
        warnings: Sequence[str] = (),
    ) -> None:
        # Use load/bundled/from_frame/read_table: they guarantee the frame's layout.
        self._frame = frame
        self._sources: tuple[CatalogSource, ...] = tuple(sources)
        self._issues: tuple[RowIssue, ...] = tuple(issues)
        self._warnings: tuple[str, ...] = tuple(warnings)
        self._arrays: dict[str, np.ndarray] = {}
        self._derived: dict[str, Any] = {}

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
        from planner.catalog.loaders.sources import load_source

        loaded = [load_source(source, cache_dir=cache_dir) for source in (sources or ("bundled",))]
        return cls._assemble(loaded, strict=strict)

    @classmethod
    def bundled(cls) -> Catalog:
        return cls.load("bundled")

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
        frame_out = _to_frame(table)
        return cls(frame_out, tuple(sources) if sources is not None else (source,))

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
        return cls(_to_frame(table), sources, issues, warnings)

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
        catalog._arrays = self._arrays
        catalog._derived = self._derived
        return catalog

    # ----- reading -----------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """The rows (a shallow copy: changing it never changes the catalog)."""
        return self._frame.copy(deep=False)

    def __len__(self) -> int:
        return len(self._frame)

    def __repr__(self) -> str:
        providers = ", ".join(self.providers)
        return f"<Catalog {len(self):,} rows; providers: {providers or '-'}; as of {self.as_of or 'unknown'}>"

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(sorted(str(name) for name in self._frame["provider"].unique()))

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
        if name not in self._frame.columns:
            raise KeyError(
                f"no column {name!r} in the catalog (columns: {', '.join(self._frame.columns)})"
            )
        column = self._frame[name]
        values = (
            column.cat.codes.to_numpy()
            if isinstance(column.dtype, pd.CategoricalDtype)
            else column.to_numpy()
        )
        view = values.view()
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
        column = self._frame[name]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            raise KeyError(f"column {name!r} is not a category column")
        return tuple(str(value) for value in column.cat.categories)


# ----- building frames ----------------------------------------------------------------------
def _empty_table() -> pa.Table:
    return pa.Table.from_arrays(
        [pa.array([], type=arrow_type) for arrow_type in ARROW_TYPES.values()],
        names=list(ARROW_TYPES),
    )


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """Typed Arrow rows → the catalog frame: stable price sort, categories, row_id."""
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
    return _frame_of(pa.Table.from_arrays(arrays, names=[*ARROW_TYPES, ROW_ID]))


def _frame_of(table: pa.Table) -> pd.DataFrame:
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
    table = pa.Table.from_pandas(catalog._frame, preserve_index=False)
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


def read_table(path: str | os.PathLike[str]) -> Catalog:
    """A Catalog from ``write_table``'s file (memory-mapped: fast, small resident memory)."""
    source = Path(path)
    try:
        with pa.memory_map(str(source), "r") as mapped:
            table = pa_ipc.open_file(mapped).read_all()
    except FileNotFoundError as error:
        raise CatalogError(f"{source}: no such file") from error
    except (OSError, pa.ArrowInvalid) as error:
        raise CatalogError(f"{source}: not a planner catalog cache (Arrow IPC): {error}") from error
    raw = (table.schema.metadata or {}).get(_METADATA_KEY)
    expected = [*COLUMNS, ROW_ID]
    if raw is None or table.column_names != expected:
        raise CatalogError(f"{source}: not a planner catalog cache (missing columns or provenance)")
    try:
        metadata = json.loads(raw)
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
    return Catalog(_frame_of(table), sources, issues, warnings)
