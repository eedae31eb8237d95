"""Checks on downloaded zip archives, made before anything from them reaches the cache.

An archive is refused when it is not a readable zip, when a member name could escape a directory
(absolute, ``..``, backslashes, drive letters), when a member is encrypted, when two members
have the same name, when it expands beyond ``ArchiveLimits`` (a zip bomb is small on disk), or
when its data is corrupt or fails the CRC check. Member sizes are counted while decompressing:
the sizes the zip declares are not trusted. Downloaded and local zips are read through the same
functions, so the same caps hold for both (docs/catalog-format.md).
"""

from __future__ import annotations

import contextlib
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from planner.errors import CatalogError

_CHUNK_BYTES = 1 << 20


class _Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


@dataclass(frozen=True)
class ArchiveLimits:
    """How far a zip member may expand: the one home of these caps, downloads and local files."""

    max_member_bytes: int = 2 << 30  # the largest published CSV is tens of MB
    max_ratio: float = 200.0  # CSV text compresses 5-30x; a zip bomb, ~1000x
    ratio_floor_bytes: int = 1 << 20  # tiny members may compress better than max_ratio

    def member_cap(self, info: zipfile.ZipInfo) -> int:
        by_ratio = max(self.ratio_floor_bytes, int(info.compress_size * self.max_ratio))
        return min(self.max_member_bytes, by_ratio)


def unsafe_member_reason(name: str) -> str | None:
    """Why a member name could write outside the directory it is extracted to, or None."""
    if not name:
        return "is empty"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/"):
        return "is an absolute path"
    if len(name) >= 2 and name[1] == ":":
        return "starts with a drive letter"
    if ".." in PurePosixPath(name).parts:
        return "contains '..'"
    if "\x00" in name:
        return "contains a NUL character"
    return None


def open_archive(path: Path, label: str) -> zipfile.ZipFile:
    """Open a zip, refusing unsafe or encrypted members (``label`` names it in messages)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise CatalogError(f"{label}: not a valid zip archive ({error})") from error
    except OSError as error:
        raise CatalogError(f"{label}: unreadable zip archive ({error})") from error
    except (NotImplementedError, ValueError, zipfile.LargeZipFile) as error:
        # zipfile refuses archives needing a newer extractor or with impossible headers this way.
        raise CatalogError(f"{label}: unsupported zip archive ({error})") from error
    try:
        seen: set[str] = set()
        for info in archive.infolist():
            reason = unsafe_member_reason(info.filename)
            if reason is not None:
                raise CatalogError(f"{label}: unsafe member path {info.filename!r} ({reason})")
            if info.flag_bits & 0x1:
                raise CatalogError(f"{label}: member {info.filename!r} is encrypted")
            if info.filename in seen:
                # zipfile would read the last one for the name: which copy was meant?
                raise CatalogError(f"{label}: member {info.filename!r} is in the zip twice")
            seen.add(info.filename)
    except BaseException:
        archive.close()
        raise
    return archive


def copy_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    sink: _Writable,
    limits: ArchiveLimits,
    label: str,
) -> int:
    """Decompress one member into ``sink``, enforcing the size caps; returns its size in bytes."""
    cap = limits.member_cap(info)
    if info.file_size > cap:
        raise CatalogError(_too_big(label, info, cap))
    written = 0
    with _reading(label, info):
        member = archive.open(info)
    with member:
        while True:
            with _reading(label, info):
                chunk = member.read(_CHUNK_BYTES)
            if not chunk:
                return written
            written += len(chunk)
            if written > cap:
                raise CatalogError(_too_big(label, info, cap))
            # Outside _reading: a write error (a full disk) is the caller's to name, not the
            # member's ("corrupt").
            sink.write(chunk)


@contextlib.contextmanager
def _reading(label: str, info: zipfile.ZipInfo) -> Iterator[None]:
    """Errors reading a member's data, as CatalogErrors naming it."""
    try:
        yield
    except zipfile.BadZipFile as error:
        raise CatalogError(f"{label}: member {info.filename!r} is corrupt ({error})") from error
    except (EOFError, OSError, ValueError, zlib.error, lzma.LZMAError) as error:
        # Garbled compressed data (zlib, bz2 and lzma each say so differently) or truncated data.
        # Not OSError for the sink: a write error is the caller's (a full disk is not corrupt).
        if isinstance(error, OSError) and error.errno is not None:
            raise
        raise CatalogError(f"{label}: member {info.filename!r} is corrupt ({error})") from error
    except (NotImplementedError, RuntimeError) as error:
        # An unsupported compression method, or a password the member needs.
        raise CatalogError(f"{label}: member {info.filename!r}: {error}") from error


def extract_only_member(
    path: Path, member_name: str, target: Path, limits: ArchiveLimits, label: str
) -> int:
    """Extract the archive's single member, which must be called ``member_name``, to ``target``."""
    with open_archive(path, label) as archive:
        names = [info.filename for info in archive.infolist()]
        if names != [member_name]:
            listed = ", ".join(repr(name) for name in names) or "none"
            raise CatalogError(
                f"{label}: expected exactly one member {member_name!r}, found {listed}"
            )
        with open(target, "wb") as sink:
            return copy_member(archive, archive.infolist()[0], sink, limits, label)


def verify_archive(path: Path, limits: ArchiveLimits, label: str) -> list[str]:
    """Read every member through the caps and CRC checks without keeping the data; the names."""
    with open_archive(path, label) as archive:
        infos = archive.infolist()
        if not infos:
            raise CatalogError(f"{label}: the zip archive is empty")
        for info in infos:
            if not info.filename.endswith("/"):  # is_dir() fails on an empty name
                copy_member(archive, info, _Discard(), limits, label)
        return [info.filename for info in infos]


def _too_big(label: str, info: zipfile.ZipInfo, cap: int) -> str:
    return (
        f"{label}: member {info.filename!r} expands beyond {cap} bytes from "
        f"{info.compress_size} compressed bytes; refusing a possible zip bomb"
    )


class _Discard:
    """A write-only sink that keeps nothing (for verifying members)."""

    def write(self, data: bytes) -> int:
        return len(data)
