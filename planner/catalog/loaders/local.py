"""A local path → its rows and provenance, whatever format its content shows (``detect``).

A gpuhunt zip, a directory of ``<provider>.csv``, one gpuhunt CSV, a SkyPilot ``vms.csv`` (or a
directory of ``<cloud>/vms.csv``), or an Arrow file written by ``write_arrow`` (read whole, with
the provenance it was written with). The as-of date of the other formats comes, in this order,
from a ``provenance.json`` next to them, a ``version`` file, a gpuhunt version in the file or
directory name, else the newest file's modification time (docs/catalog-format.md §8).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from planner.catalog.gpus import GpuTable
from planner.catalog.loaders import gpuhunt, skypilot
from planner.catalog.loaders.detect import SKYPILOT_VMS_FILE, Format, detect, skypilot_files_of
from planner.catalog.loaders.part import LoadedSource, Part
from planner.catalog.offer_table import read_arrow
from planner.catalog.provenance import PROVENANCE_FILE, CatalogSource, find_version
from planner.errors import CatalogError

# The v3 layout's file holding a provider's gpuhunt version ("20260818-42"); next to a local
# catalog, it dates it.
VERSION_FILE = "version"


def load_path(path: Path, *, location: str) -> LoadedSource:
    """The catalog at ``path``; ``location`` is what provenance and messages call it."""
    try:
        return _load_path(path, location=location)
    except OSError as error:
        # A file that changed or vanished while being read (each reader names its own errors).
        where = error.filename or location
        raise CatalogError(f"{where}: cannot read: {error.strerror or error}") from error


def _load_path(path: Path, *, location: str) -> LoadedSource:
    if not path.exists() and not path.is_symlink():
        raise CatalogError(f"{location}: no such file or directory")
    found = detect(path)
    parts: list[Part]
    if found is Format.GPUHUNT_ZIP:
        parts = gpuhunt.load_zip(path)
    elif found is Format.GPUHUNT_DIR:
        parts = gpuhunt.load_directory(path)
    elif found is Format.GPUHUNT_CSV:
        parts = [gpuhunt.load_csv_file(path)]
    elif found is Format.SKYPILOT:
        vms = path / SKYPILOT_VMS_FILE if path.is_dir() else path
        parts = [skypilot.load_vms_csv(vms, GpuTable.load())]
    elif found is Format.SKYPILOT_DIR:
        gpus = GpuTable.load()
        parts = [skypilot.load_vms_csv(vms, gpus) for vms in skypilot_files_of(path)]
    else:
        offers = read_arrow(path)
        return LoadedSource(sources=offers.sources, prebuilt=offers)
    return loaded_parts(path, found, parts, location=location)


def loaded_parts(path: Path, found: Format, parts: list[Part], *, location: str) -> LoadedSource:
    """The parts loaded from ``path`` (of format ``found``), with the provenance of a local file."""
    as_of, as_of_from, version, description = _provenance(path, found)
    providers = tuple(dict.fromkeys(part.provider for part in parts))
    source = CatalogSource(
        location=location,
        format=found.value,
        providers=providers,
        as_of=as_of,
        as_of_from=as_of_from,
        rows=sum(part.table.num_rows for part in parts),
        dropped=sum(len(part.issues) for part in parts),
        version=version,
        description=description,
    )
    return LoadedSource(sources=(source,), parts=tuple(parts))


def _provenance(path: Path, found: Format) -> tuple[str | None, str | None, str | None, str | None]:
    """(as_of, how it was found, version, description) for a local source."""
    directory = path if path.is_dir() else path.parent
    provenance = directory / PROVENANCE_FILE
    if provenance.is_file():
        try:
            data = json.loads(provenance.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CatalogError(f"{provenance}: unreadable provenance: {error}") from error
        if not isinstance(data, dict) or not data.get("as_of"):
            raise CatalogError(f'{provenance}: expected a JSON object with an "as_of" field')
        description = data.get("description")
        return (
            str(data["as_of"]),
            PROVENANCE_FILE,
            data.get("version"),
            str(description) if description else None,
        )
    version_file = directory / VERSION_FILE
    if version_file.is_file():
        try:
            version = version_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise CatalogError(f"{version_file}: unreadable: {error}") from error
        found_version = find_version(version)
        if found_version is not None:
            return found_version[1], "version file", version, None
    names = [(path.name, "zip name" if found is Format.GPUHUNT_ZIP else "file name")]
    names.append((directory.name, "directory name"))
    for name, origin in names:
        in_name = find_version(name)
        if in_name is not None:
            return in_name[1], origin, in_name[0], None
    return _mtime(path), "file mtime", None, None


def _mtime(path: Path) -> str:
    files = [child for child in path.iterdir() if child.is_file()] if path.is_dir() else [path]
    newest = max((child.stat().st_mtime for child in files), default=path.stat().st_mtime)
    return datetime.fromtimestamp(newest, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
