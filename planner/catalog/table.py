"""``Catalog``: the offer table users load, by source name, and its Arrow IPC files.

The top of the catalog package: ``Catalog.load`` resolves each source (``sources.py``: a path, a
URL, ``bundled`` or ``cache``) and assembles their rows (``assembly.py``) into an offer table
(``offer_table.py``, where the rows, their accessors and the Arrow file format live). The formats
a source may have are described in docs/catalog-format.md (§1, §2, §6, §7).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from planner.catalog.assembly import assemble
from planner.catalog.bundled import BUNDLED
from planner.catalog.loaders.part import LoadedSource
from planner.catalog.offer_table import OfferTable, read_arrow, sorted_table, write_arrow
from planner.catalog.prebuilt import read_prebuilt_snapshot
from planner.catalog.provenance import CatalogSource
from planner.errors import CatalogError

if TYPE_CHECKING:
    import pandas as pd


class Catalog(OfferTable):
    """An immutable offer table: ``columns.COLUMNS`` plus ``row_id``, ascending price (stable)."""

    @classmethod
    def load(
        cls,
        *sources: str | os.PathLike[str],
        strict: bool = False,
        cache_dir: Path | None = None,
        backends_file: str | os.PathLike[str] | None = None,
    ) -> Catalog:
        """Load and concatenate sources in the order given; none = the bundled snapshot.

        A source is a gpuhunt zip, a directory of ``<provider>.csv``, one gpuhunt CSV, a
        SkyPilot ``vms.csv`` (or a directory of ``<cloud>/vms.csv``), an Arrow file written by
        ``write_table``, an ``http(s)://`` URL, the keywords ``bundled`` and ``cache``, or
        ``live:NAME``: the offers backend NAME of ``backends_file`` lists now (a backend plugin).
        Malformed rows are left out and reported in ``issues``/``warnings``; ``strict=True``
        raises CatalogError instead.
        """
        for source in sources:
            if not isinstance(source, str | os.PathLike):
                raise CatalogError(
                    "Catalog.load takes catalog sources as paths, URLs or keywords (str or "
                    f"os.PathLike), not {type(source).__name__}"
                )
        names = [os.fspath(source) for source in sources] or [BUNDLED]
        prebuilt = read_prebuilt_snapshot() if names == [BUNDLED] else None
        if prebuilt is not None:
            loaded = [LoadedSource(sources=prebuilt.sources, prebuilt=prebuilt)]
        else:
            # Lazy for start-up time: resolving sources imports the loaders (pyarrow.compute,
            # pandas: ~0.4 s), which the bundled snapshot's prebuilt table needs neither of.
            from planner.catalog.sources import load_source

            loaded = [
                load_source(name, cache_dir=cache_dir, backends_file=backends_file)
                for name in names
            ]
        return cls._of(assemble(loaded, strict=strict))

    @classmethod
    def bundled(cls) -> Catalog:
        return cls.load(BUNDLED)

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
        # Lazy for start-up time: the frame loader imports pandas (the caller has, anyway).
        from planner.catalog.loaders.frame import table_from_frame

        table = table_from_frame(frame)
        providers = tuple(
            sorted({str(value) for value in table.column("provider").unique().to_pylist()})
        )
        source = CatalogSource(
            location="<frame>",
            format="frame",
            providers=providers,
            as_of=None,
            as_of_from=None,
            rows=table.num_rows,
            dropped=0,
        )
        return cls(sorted_table(table), tuple(sources) if sources is not None else (source,))

    @classmethod
    def _of(cls, offers: OfferTable) -> Catalog:
        """``offers`` as a Catalog (the same rows and provenance, nothing copied)."""
        if isinstance(offers, cls):
            return offers
        return cls(offers.arrow, offers.sources, offers.issues, offers.warnings)


def write_table(catalog: OfferTable, path: str | os.PathLike[str]) -> Path:
    """Write ``catalog`` (rows, categories, provenance, issues) as an Arrow IPC file, atomically."""
    return write_arrow(catalog, path)


def read_table(path: str | os.PathLike[str]) -> Catalog:
    """A Catalog from ``write_table``'s file (memory-mapped: fast, small resident memory)."""
    return Catalog._of(read_arrow(path))
