"""Writing a catalog back out in gpuhunt's format (one ``<provider>.csv`` per provider) or as Arrow.

The CSVs are byte-compatible with what gpuhunt's ``storage.dump`` writes: the 14 v2 columns in
order, ``str(float)`` numbers, ``True``/``False``, empty optional fields, ``{}`` for no provider data,
CRLF line ends, minimal quoting. Rows keep the catalog's order (ascending price), as published files do.
Every output appears atomically: a reader never sees a half-written file. Only a new path or a
regular file (or, for a directory, a real directory and regular files in it) is written: a
symbolic link, FIFO, device or socket in the way is refused (``check_output``), never replaced.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Final

import pandas as pd

from planner.catalog.cache import atomic_output, fsync_directory, publish_file
from planner.catalog.columns import GPUHUNT_FIELDS
from planner.catalog.formats import EXPORT_FORMATS
from planner.catalog.offer_table import OfferTable, write_arrow
from planner.catalog.provenance import PROVENANCE_FILE
from planner.errors import InputError

# gpuhunt CSV column <- offer table column
_SOURCE_COLUMNS: Final[dict[str, str]] = {
    "instance_name": "instance_type",
    "location": "region",
    "price": "price",
    "cpu": "cpu",
    "memory": "memory_gb",
    "gpu_count": "gpu_count",
    "gpu_name": "gpu_name",
    "gpu_memory": "gpu_memory_gb",
    "spot": "spot",
    "disk_size": "disk_gb",
    "gpu_vendor": "gpu_vendor",
    "flags": "flags",
    "cpu_arch": "cpu_arch",
    "provider_data": "provider_data",
}


def gpuhunt_csv_bytes(frame: pd.DataFrame) -> bytes:
    """One provider's rows as a gpuhunt CSV."""
    out = pd.DataFrame({name: frame[_SOURCE_COLUMNS[name]] for name in GPUHUNT_FIELDS})
    for name in ("gpu_name", "gpu_vendor", "flags", "cpu_arch", "provider_data"):
        out[name] = out[name].astype("string").fillna("")
    out["provider_data"] = out["provider_data"].mask(out["provider_data"] == "", "{}")
    out["spot"] = out["spot"].map({True: "True", False: "False"})
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\r\n", na_rep="")
    return buffer.getvalue().encode("utf-8")


def check_output(output: Path, to: str) -> None:
    """InputError unless ``output`` may be written in format ``to``: absent, or a regular file
    (a real directory for ``gpuhunt-dir``). Symbolic links are not followed: whatever a link
    points at, replacing the link with a file is not what was asked for."""
    kind = _kind_of(output)
    if kind is None:
        return
    if to == "gpuhunt-dir":
        if kind != "directory":
            raise InputError(
                f"{output}: exists and is {kind}, not a directory (needed for --to gpuhunt-dir)"
            )
    elif kind == "directory":
        raise InputError(f"{output}: is a directory (--to {to} writes a file)")
    elif kind != "a regular file":
        raise InputError(f"{output}: is {kind}; refusing to replace it with a regular file")


def _kind_of(path: Path) -> str | None:
    """What is at ``path`` in words (the link itself, not its target); None: nothing."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None  # nothing there: writing says why it cannot, if it cannot
    except OSError as error:
        raise InputError(f"{path}: cannot write: {error.strerror or error}") from error
    for test, kind in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def export_catalog(catalog: OfferTable, output: Path, to: str) -> list[str]:
    """Write ``catalog`` to ``output`` in format ``to``; returns the providers written.

    InputError when ``output`` (or a file to replace in an existing directory) is not a regular
    file: see ``check_output``.
    """
    check_output(output, to)
    frame = catalog.frame
    providers = sorted(str(p) for p in frame["provider"].unique())
    if to == "arrow":
        staged = output.with_name(f".partial-{output.name}")
        try:
            write_arrow(catalog, staged)
            publish_file(staged, output)
        finally:
            staged.unlink(missing_ok=True)
        return providers
    files = {
        f"{provider}.csv": gpuhunt_csv_bytes(frame[frame["provider"] == provider])
        for provider in providers
    }
    if to == "gpuhunt-zip":
        with (
            atomic_output(output) as handle,
            zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            for name, data in files.items():
                archive.writestr(name, data)
    elif to == "gpuhunt-dir":
        if catalog.as_of:  # a directory can say how fresh it is; the loader reads this file
            files[PROVENANCE_FILE] = _provenance_json(catalog)
        _write_directory(output, files)
    else:
        raise ValueError(f"unknown export format {to!r} (known: {', '.join(EXPORT_FORMATS)})")
    return providers


def _provenance_json(catalog: OfferTable) -> bytes:
    locations = ", ".join(source.location for source in catalog.sources)
    versions = sorted({source.version for source in catalog.sources if source.version})
    document = {
        "as_of": catalog.as_of,
        "version": versions[0] if len(versions) == 1 else None,
        "description": f"imported by planner catalog import from {locations}",
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def _write_directory(output: Path, files: dict[str, bytes]) -> None:
    """A new directory appears whole (renamed into place); an existing one gets each file replaced."""
    if output.is_dir():
        for name in files:  # each file replaced: regular, or absent
            kind = _kind_of(output / name)
            if kind not in (None, "a regular file"):
                raise InputError(
                    f"{output / name}: is {kind}; refusing to replace it with a regular file"
                )
        # Every file is written in full before the first replaces its namesake, so a failure
        # (a full disk) leaves the directory as it was.
        staged: list[tuple[Path, Path]] = []
        try:
            for name, data in files.items():
                fd, partial = tempfile.mkstemp(prefix=f".partial-{name}.", dir=output)
                staged.append((Path(partial), output / name))
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            for staged_file, target in staged:
                publish_file(staged_file, target)
        finally:
            for staged_file, _ in staged:
                staged_file.unlink(missing_ok=True)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".partial-{output.name}.", dir=output.parent))
    try:
        for name, data in files.items():
            with atomic_output(staging / name) as handle:
                handle.write(data)
        os.chmod(staging, 0o755)
        os.replace(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    fsync_directory(output.parent)
