"""What kind of catalog a local path holds, decided from its content (magic bytes, CSV header)."""

from __future__ import annotations

import stat
from enum import StrEnum
from pathlib import Path

from planner.catalog.loaders.csvread import header_of
from planner.errors import CatalogError

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_ARROW_MAGIC = b"ARROW1"
_HEAD_BYTES = 64 * 1024

GPUHUNT_MARKERS = ("instance_name", "location")
SKYPILOT_MARKERS = ("InstanceType", "AcceleratorName", "Price", "Region")
SKYPILOT_VMS_FILE = "vms.csv"


class Format(StrEnum):
    GPUHUNT_ZIP = "gpuhunt-zip"
    GPUHUNT_DIR = "gpuhunt-dir"
    GPUHUNT_CSV = "gpuhunt-csv"
    SKYPILOT = "skypilot"
    SKYPILOT_DIR = "skypilot-dir"
    ARROW = "arrow"


def csv_format(header: tuple[str, ...]) -> Format | None:
    if all(marker in header for marker in GPUHUNT_MARKERS):
        return Format.GPUHUNT_CSV
    if all(marker in header for marker in SKYPILOT_MARKERS):
        return Format.SKYPILOT
    return None


def file_kind(path: Path) -> str:
    """ "file", "directory", or what else ``path`` is; CatalogError when it cannot be examined.

    Symbolic links are followed: a broken one or a loop is an error naming the path.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as error:
        what = "a broken symbolic link" if path.is_symlink() else "no such file or directory"
        raise CatalogError(f"{path}: {what}") from error
    except OSError as error:
        raise CatalogError(f"{path}: cannot read: {error.strerror or error}") from error
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def require_file(path: Path) -> None:
    """CatalogError unless ``path`` is (a link to) a regular file: never block on a FIFO."""
    kind = file_kind(path)
    if kind != "file":
        what = "a directory" if kind == "directory" else kind
        raise CatalogError(f"{path}: not a regular file but {what}")


def list_directory(directory: Path) -> list[Path]:
    """The entries of ``directory`` in name order; CatalogError when it cannot be listed."""
    try:
        return sorted(directory.iterdir(), key=lambda child: child.name)
    except OSError as error:
        raise CatalogError(f"{directory}: cannot list: {error.strerror or error}") from error


def csv_files_of(directory: Path) -> list[Path]:
    """The ``*.csv`` entries of a directory, in name order; each must be a readable file.

    A directory, FIFO, broken link or link loop named ``*.csv`` is an error, not left out:
    leaving it out would silently drop a provider.
    """
    files = [child for child in list_directory(directory) if child.suffix.lower() == ".csv"]
    for child in files:
        require_file(child)
    return files


def has_file(path: Path) -> bool:
    """Whether a catalog file is at ``path`` (False: nothing there; CatalogError: unusable)."""
    if not path.exists() and not path.is_symlink():
        return False
    require_file(path)
    return True


def detect(path: Path) -> Format:
    if file_kind(path) == "directory":
        return _detect_directory(path)
    require_file(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as error:
        raise CatalogError(f"{path}: cannot read: {error.strerror or error}") from error
    if head.startswith(_ZIP_MAGIC):
        return Format.GPUHUNT_ZIP
    if head.startswith(_ARROW_MAGIC):
        return Format.ARROW
    if path.suffix.lower() == ".zip":
        raise CatalogError(f"{path}: not a zip file (truncated or corrupt?)")
    header = header_of(head, str(path), partial=True)
    found = csv_format(header)
    if found is None:
        raise CatalogError(
            f"{path}: not a gpuhunt catalog (header with instance_name, location, price, ...) "
            f"nor a SkyPilot vms.csv (InstanceType, AcceleratorName, Price, Region, ...); "
            f"header: {','.join(header)[:200]}"
        )
    return found


def _detect_directory(path: Path) -> Format:
    csv_files = [child.name for child in csv_files_of(path)]
    if SKYPILOT_VMS_FILE in csv_files:
        if len(csv_files) > 1:
            # Loading either kind alone would silently leave the other files out.
            raise CatalogError(
                f"{path}: a SkyPilot vms.csv next to other CSV files ({', '.join(csv_files)}); "
                "pass the files as separate sources"
            )
        return Format.SKYPILOT
    skypilot_files = skypilot_files_of(path)
    if csv_files and skypilot_files:
        # As above: reading the <provider>.csv files would silently leave the clouds out.
        clouds = ", ".join(f"{vms.parent.name}/{vms.name}" for vms in skypilot_files)
        raise CatalogError(
            f"{path}: SkyPilot {clouds} next to gpuhunt CSV files ({', '.join(csv_files)}); "
            "pass them as separate sources"
        )
    if csv_files:
        return Format.GPUHUNT_DIR
    if skypilot_files:
        return Format.SKYPILOT_DIR
    raise CatalogError(
        f"{path}: no catalog in this directory (expected <provider>.csv files, a SkyPilot "
        f"vms.csv, or SkyPilot <cloud>/vms.csv subdirectories)"
    )


def skypilot_files_of(directory: Path) -> list[Path]:
    """The ``<cloud>/vms.csv`` files under ``directory``, in cloud name order."""
    return [
        child / SKYPILOT_VMS_FILE
        for child in list_directory(directory)
        if child.is_dir() and has_file(child / SKYPILOT_VMS_FILE)
    ]
