"""What kind of catalog a local path holds, decided from its content (magic bytes, CSV header)."""

from __future__ import annotations

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


def detect(path: Path) -> Format:
    if path.is_dir():
        return _detect_directory(path)
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
    found = csv_format(header_of(head, str(path)))
    if found is None:
        raise CatalogError(
            f"{path}: not a gpuhunt catalog (header with instance_name, location, price, ...) "
            f"nor a SkyPilot vms.csv (InstanceType, AcceleratorName, Price, Region, ...); "
            f"header: {','.join(header_of(head, str(path)))[:200]}"
        )
    return found


def _detect_directory(path: Path) -> Format:
    csv_files = sorted(
        child.name for child in path.iterdir() if child.suffix.lower() == ".csv" and child.is_file()
    )
    if SKYPILOT_VMS_FILE in csv_files:
        if len(csv_files) > 1:
            # Loading either kind alone would silently leave the other files out.
            raise CatalogError(
                f"{path}: a SkyPilot vms.csv next to other CSV files ({', '.join(csv_files)}); "
                "pass the files as separate sources"
            )
        return Format.SKYPILOT
    if csv_files:
        return Format.GPUHUNT_DIR
    if any((child / SKYPILOT_VMS_FILE).is_file() for child in path.iterdir() if child.is_dir()):
        return Format.SKYPILOT_DIR
    raise CatalogError(
        f"{path}: no catalog in this directory (expected <provider>.csv files, a SkyPilot "
        f"vms.csv, or SkyPilot <cloud>/vms.csv subdirectories)"
    )
