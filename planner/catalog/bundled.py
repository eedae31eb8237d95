"""Where the data shipped with planner lives: the GPU table and the offer snapshot (``bundled``).

An installed wheel carries the repository's ``catalogs/`` as ``planner/_catalogs`` (pyproject
force-includes it); an editable install reads the repository's ``catalogs/`` directly.

Next to ``snapshot/`` lies the snapshot already loaded, as an Arrow table written by
``write_table``: ``snapshot-<digest>.arrow``, where ``<digest>`` hashes every file of ``snapshot/``
(names and bytes). ``Catalog.load()`` reads it instead of parsing the CSVs only when its digest is
the one of the files there now, so an edited snapshot is never answered from a stale table: it is
parsed again. ``tools/snapshot/build.py`` (re)writes the table with the CSVs (``prebuilt.py``), and
a test checks that it holds exactly what parsing the CSVs gives.

Only paths here (no pyarrow, no pandas): the GPU table is read by the configuration stage.
"""

from __future__ import annotations

from pathlib import Path

from planner.errors import CatalogError

# The catalog source keyword that names the snapshot (``Catalog.load("bundled")``, the default).
BUNDLED = "bundled"
GPU_TABLE_FILE = "gpus.csv"
SNAPSHOT_DIR = "snapshot"
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
    # Lazy for start-up memory: hashlib loads OpenSSL (~3 MB), needed only once a catalog is
    # loaded, not by every module that imports this one.
    import hashlib

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


def snapshot_provider_sources() -> dict[str, str]:
    """Per provider, what the bundled snapshot's rows are and where they come from: the
    ``providers.<name>.source`` of its provenance.json (vastai: "Illustrative vast.ai marketplace
    listings ..."). Empty when the file or the field is missing."""
    import json  # lazy, as hashlib above: only the outputs that name the catalog need it

    from planner.catalog.provenance import PROVENANCE_FILE

    try:
        data = json.loads((snapshot_dir() / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    providers = data.get("providers") if isinstance(data, dict) else None
    if not isinstance(providers, dict):
        return {}
    return {
        str(name): str(entry["source"])
        for name, entry in providers.items()
        if isinstance(entry, dict) and entry.get("source")
    }
