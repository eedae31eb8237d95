"""Where the data shipped with planner lives: the GPU table and the offer snapshot.

An installed wheel carries the repository's ``catalogs/`` as ``planner/_catalogs`` (pyproject
force-includes it); an editable install reads the repository's ``catalogs/`` directly.

Next to ``snapshot/`` lies the snapshot already loaded, as an Arrow table written by
``write_table``: ``snapshot-<digest>.arrow``, where ``<digest>`` hashes every file of ``snapshot/``
(names and bytes). ``Catalog.load()`` reads it instead of parsing the CSVs only when its digest is
the one of the files there now, so an edited snapshot is never answered from a stale table: it is
parsed again. ``tools/snapshot/build.py`` (re)writes the table with the CSVs, and a test checks
that it holds exactly what parsing the CSVs gives.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from planner.errors import CatalogError

if TYPE_CHECKING:
    from planner.catalog.table import Catalog

GPU_TABLE_FILE = "gpus.csv"
SNAPSHOT_DIR = "snapshot"
PROVENANCE_FILE = "provenance.json"
PREBUILT_PREFIX = "snapshot-"
PREBUILT_SUFFIX = ".arrow"
# Hex digits of the snapshot digest in the prebuilt table's name.
_DIGEST_CHARS = 32


def data_dir() -> Path:
    """The bundled data directory (the one holding ``gpus.csv`` and ``snapshot/``)."""
    # The package directory, as importlib.resources.files("planner") gives it for an installed
    # package (not imported: ~10 ms of start-up where nothing else imports it).
    packaged = Path(__file__).parent.parent / "_catalogs"
    if packaged.is_dir():
        return packaged
    repository = Path(__file__).resolve().parent.parent.parent / "catalogs"
    if repository.is_dir():
        return repository
    raise CatalogError(
        f"the bundled catalog data is missing: neither {packaged} nor {repository} exists "
        "(a broken installation?)"
    )


def gpu_table_path() -> Path:
    return data_dir() / GPU_TABLE_FILE


def snapshot_dir() -> Path:
    return data_dir() / SNAPSHOT_DIR


def snapshot_digest(directory: Path) -> str:
    """SHA-256 over the directory's files (name, size and bytes of each, in name order)."""
    digest = hashlib.sha256()
    for path in sorted((p for p in directory.iterdir() if p.is_file()), key=lambda p: p.name):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def prebuilt_path(directory: Path) -> Path:
    """Where the prebuilt table of the snapshot ``directory`` (as it is now) lives."""
    name = f"{PREBUILT_PREFIX}{snapshot_digest(directory)[:_DIGEST_CHARS]}{PREBUILT_SUFFIX}"
    return directory.parent / name


def prebuilt_snapshot() -> Catalog | None:
    """The bundled snapshot from its prebuilt table; None when there is none for these files.

    None sends the caller to the CSVs (which also reports a missing snapshot properly).
    """
    try:
        directory = snapshot_dir()
        path = prebuilt_path(directory)
    except (CatalogError, OSError):
        return None
    if not path.is_file():
        return None
    from planner.catalog.table import read_table

    try:
        return read_table(path)
    except CatalogError:  # e.g. written in an older cache format: parse the CSVs instead
        return None


def write_prebuilt(directory: Path) -> Path:
    """Parse the snapshot CSVs in ``directory`` and write their prebuilt table next to it.

    Prebuilt tables of other digests in the same place are removed. Returns the new table's path.
    """
    from planner.catalog.loaders.sources import BUNDLED, load_path
    from planner.catalog.table import Catalog, write_table

    catalog = Catalog._assemble([load_path(directory, location=BUNDLED)], strict=False)
    target = write_table(catalog, prebuilt_path(directory))
    target.chmod(0o644)  # readable by everyone, like the CSVs (write_table's temporary is 0600)
    for stale in directory.parent.glob(f"{PREBUILT_PREFIX}*{PREBUILT_SUFFIX}"):
        if stale != target:
            stale.unlink()
    return target


def prebuilt_problem(directory: Path) -> str | None:
    """Why the prebuilt table of ``directory`` is not exactly what parsing its CSVs gives (None: it is)."""
    from planner.catalog.columns import COLUMNS
    from planner.catalog.loaders.sources import BUNDLED, load_path
    from planner.catalog.table import Catalog, read_table

    path = prebuilt_path(directory)
    if not path.is_file():
        return f"{path.name} is missing (run tools/snapshot/build.py)"
    try:
        prebuilt = read_table(path)
    except CatalogError as error:
        return str(error)
    parsed = Catalog._assemble([load_path(directory, location=BUNDLED)], strict=False)
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
