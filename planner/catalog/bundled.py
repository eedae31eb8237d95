"""Where the data shipped with planner lives: the GPU table and the offer snapshot.

An installed wheel carries the repository's ``catalogs/`` as ``planner/_catalogs`` (pyproject
force-includes it); an editable install reads the repository's ``catalogs/`` directly.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from planner.errors import CatalogError

GPU_TABLE_FILE = "gpus.csv"
SNAPSHOT_DIR = "snapshot"
PROVENANCE_FILE = "provenance.json"


def data_dir() -> Path:
    """The bundled data directory (the one holding ``gpus.csv`` and ``snapshot/``)."""
    packaged = files("planner") / "_catalogs"
    if isinstance(packaged, Path) and packaged.is_dir():
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
