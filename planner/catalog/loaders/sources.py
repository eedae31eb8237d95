"""A source string → loaded parts with provenance.

``bundled`` (the snapshot shipped in ``catalogs/snapshot``), ``cache`` (what ``planner catalog
update`` downloaded), an ``http(s)://`` URL (fetched into the cache by the download module), or a
local path whose format is detected from its content.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from planner.catalog.gpus import GpuTable
from planner.catalog.loaders import gpuhunt, skypilot
from planner.catalog.loaders.detect import SKYPILOT_VMS_FILE, Format, detect, skypilot_files_of
from planner.catalog.loaders.part import LoadedSource, Part
from planner.catalog.provenance import CatalogSource
from planner.errors import CatalogError

BUNDLED = "bundled"
CACHE = "cache"
VERSION_FILE = "version"
PROVENANCE_FILE = "provenance.json"
# gpuhunt's published versions: YYYYMMDD-<CI run number>.
_VERSION = re.compile(r"(?<!\d)(?P<date>20\d{6})(?:-(?P<run>\d+))?(?!\d)")


def load_source(source: str | os.PathLike[str], *, cache_dir: Path | None = None) -> LoadedSource:
    text = os.fspath(source)
    if not text.strip():
        raise CatalogError("an empty catalog source (expected a path, a URL, 'bundled' or 'cache')")
    if text == BUNDLED:
        from planner.catalog.bundled import snapshot_dir

        directory = snapshot_dir()
        if not directory.is_dir():
            raise CatalogError(f"the bundled catalog snapshot is missing ({directory})")
        return load_path(directory, location=BUNDLED)
    if text == CACHE:
        from planner.catalog.download import cached_catalog_path

        return load_path(cached_catalog_path(cache_dir), location=CACHE)
    if re.match(r"(?i)^https?://", text):
        from planner.catalog.download import fetch_source
        from planner.catalog.urls import redact_url

        # The real URL is for the request only; provenance and messages get the redacted one.
        return load_path(fetch_source(text, cache_dir), location=redact_url(text))
    return load_path(Path(text), location=text)


def load_path(path: Path, *, location: str) -> LoadedSource:
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
        return _load_arrow(path)
    as_of, as_of_from, version, description = _provenance(path, found)
    providers = tuple(dict.fromkeys(part.provider for part in parts))
    return LoadedSource(
        sources=(
            CatalogSource(
                location=location,
                format=found.value,
                providers=providers,
                as_of=as_of,
                as_of_from=as_of_from,
                rows=sum(part.table.num_rows for part in parts),
                dropped=sum(len(part.issues) for part in parts),
                version=version,
                description=description,
            ),
        ),
        parts=tuple(parts),
    )


def _load_arrow(path: Path) -> LoadedSource:
    """A cache written by write_table keeps the provenance of what it was built from."""
    from planner.catalog.table import read_table

    catalog = read_table(path)
    return LoadedSource(sources=catalog.sources, prebuilt=catalog)


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
        matched = _VERSION.search(version)
        if matched and _is_date(matched.group("date")):
            return _iso_date(matched.group("date")), "version file", version, None
    names = [(path.name, "zip name" if found is Format.GPUHUNT_ZIP else "file name")]
    names.append((directory.name, "directory name"))
    for name, origin in names:
        for matched in _VERSION.finditer(name):
            if _is_date(matched.group("date")):
                return _iso_date(matched.group("date")), origin, matched.group(0), None
    return _mtime(path), "file mtime", None, None


def _is_date(compact: str) -> bool:
    try:
        datetime.strptime(compact, "%Y%m%d")
    except ValueError:
        return False
    return True


def _iso_date(compact: str) -> str:
    return f"{compact[:4]}-{compact[4:6]}-{compact[6:]}"


def _mtime(path: Path) -> str:
    files = [child for child in path.iterdir() if child.is_file()] if path.is_dir() else [path]
    newest = max((child.stat().st_mtime for child in files), default=path.stat().st_mtime)
    return datetime.fromtimestamp(newest, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
