"""The bundled snapshot's prebuilt table (``catalogs/snapshot-<digest>.arrow``, see ``bundled.py``):
read on every default ``Catalog.load()``, (re)written and checked by ``tools/snapshot/build.py``."""

from __future__ import annotations

from pathlib import Path

from planner.catalog.assembly import assemble
from planner.catalog.bundled import (
    BUNDLED,
    PREBUILT_PREFIX,
    PREBUILT_SUFFIX,
    prebuilt_path,
    snapshot_dir,
)
from planner.catalog.columns import COLUMNS
from planner.catalog.offer_table import OfferTable, read_arrow, write_arrow
from planner.errors import CatalogError


def read_prebuilt_snapshot() -> OfferTable | None:
    """The bundled snapshot from its prebuilt table; None when there is none for these files.

    None sends the caller to the CSVs (which also reports a missing snapshot properly).
    """
    try:
        path = prebuilt_path(snapshot_dir())
    except (CatalogError, OSError):
        return None
    if not path.is_file():
        return None
    try:
        return read_arrow(path)
    except CatalogError:  # e.g. written in an older file format: parse the CSVs instead
        return None


def write_prebuilt(directory: Path) -> Path:
    """Parse the snapshot CSVs in ``directory`` and write their prebuilt table next to it.

    Prebuilt tables of other digests in the same place are removed. Returns the new table's path.
    """
    target = write_arrow(_parsed(directory), prebuilt_path(directory))
    target.chmod(0o644)  # readable by everyone, like the CSVs (write_arrow's temporary is 0600)
    for stale in directory.parent.glob(f"{PREBUILT_PREFIX}*{PREBUILT_SUFFIX}"):
        if stale != target:
            stale.unlink()
    return target


def prebuilt_problem(directory: Path) -> str | None:
    """Why the prebuilt table of ``directory`` is not exactly what parsing its CSVs gives (None: it is)."""
    path = prebuilt_path(directory)
    if not path.is_file():
        return f"{path.name} is missing (run tools/snapshot/build.py)"
    try:
        prebuilt = read_arrow(path)
    except CatalogError as error:
        return str(error)
    parsed = _parsed(directory)
    category_columns = [name for name, dtype in COLUMNS.items() if dtype == "category"]
    if not prebuilt.frame.equals(parsed.frame) or any(
        prebuilt.categories(name) != parsed.categories(name) for name in category_columns
    ):
        return f"{path.name}: the rows differ from the CSVs' (run tools/snapshot/build.py)"
    if (prebuilt.sources, prebuilt.issues, prebuilt.warnings) != (
        parsed.sources,
        parsed.issues,
        parsed.warnings,
    ):
        return f"{path.name}: the provenance differs from the CSVs' (run tools/snapshot/build.py)"
    return None


def _parsed(directory: Path) -> OfferTable:
    """The snapshot CSVs as ``Catalog.load("bundled")`` parses them when there is no prebuilt table."""
    # Lazy for start-up time: the loaders import pyarrow.compute and pandas (~0.4 s), which the
    # default Catalog.load() avoids by reading the prebuilt table through this module.
    from planner.catalog.loaders.local import load_path

    return assemble([load_path(directory, location=BUNDLED)], strict=False)
