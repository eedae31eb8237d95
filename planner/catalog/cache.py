"""The on-disk catalog cache: its layout, and writes that are never seen half-done.

Layout under the cache directory::

    catalogs/<provider>/<version>/<provider>.csv     the published CSV, byte for byte
    catalogs/<provider>/<version>/<provider>.arrow   the same rows parsed (fast to load)
    catalogs/<provider>/<version>/source.json        where it came from and when
    catalogs/<provider>/current                      the version in use (one line)
    catalogs/current.arrow                           every provider's current rows, one table:
                                                     what the ``cache`` keyword loads
    sources/<digest>/<file name>                     files fetched from direct URLs

A version directory is built in a temporary directory next to it and renamed into place, so it is
either complete or absent. The ``current`` pointers and ``current.arrow`` are replaced with
``os.replace`` after the data they point to is on disk, so a crash at any moment leaves a cache
that reads as either the old state or the new one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from planner.errors import CatalogError

CACHE_DIR_ENV = "PLANNER_CACHE_DIR"

# A version becomes a directory name, so it must not be able to climb out of the cache.
_VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_PARTIAL_PREFIX = ".partial-"
_FILE_MODE = 0o644
_DIR_MODE = 0o755


def default_cache_dir() -> Path:
    """``$PLANNER_CACHE_DIR``, else ``$XDG_CACHE_HOME/planner``, else ``~/.cache/planner``."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "planner"
    return Path.home() / ".cache" / "planner"


def is_safe_version(version: str) -> bool:
    return _VERSION_PATTERN.fullmatch(version) is not None and ".." not in version


def fsync_directory(path: Path) -> None:
    """Make a rename inside ``path`` durable (no-op where directories cannot be opened)."""
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` complete, or not at all (on any exception)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f"{_PARTIAL_PREFIX}{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_output(path) as handle:
        handle.write(data)


def publish_file(staged: Path, path: Path) -> None:
    """Move a finished file written elsewhere in the same directory tree to ``path``, durably."""
    fsync_file(staged)
    os.chmod(staged, _FILE_MODE)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, path)
    fsync_directory(path.parent)


@dataclass(frozen=True)
class CatalogCache:
    """One cache directory (see the module docstring for its layout)."""

    root: Path

    @property
    def catalogs_dir(self) -> Path:
        return self.root / "catalogs"

    @property
    def combined_table(self) -> Path:
        return self.catalogs_dir / "current.arrow"

    def provider_dir(self, provider: str) -> Path:
        return self.catalogs_dir / provider

    def version_dir(self, provider: str, version: str) -> Path:
        if not is_safe_version(version):
            raise CatalogError(f"refusing unsafe catalog version {version!r} for {provider}")
        return self.provider_dir(provider) / version

    def csv_path(self, provider: str, version: str) -> Path:
        return self.version_dir(provider, version) / f"{provider}.csv"

    def table_path(self, provider: str, version: str) -> Path:
        return self.version_dir(provider, version) / f"{provider}.arrow"

    def source_record_path(self, provider: str, version: str) -> Path:
        return self.version_dir(provider, version) / "source.json"

    def pointer_path(self, provider: str) -> Path:
        return self.provider_dir(provider) / "current"

    def current_version(self, provider: str) -> str | None:
        """The version the pointer names, if it names a complete version directory."""
        try:
            version = self.pointer_path(provider).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise CatalogError(f"{self.pointer_path(provider)}: unreadable: {error}") from error
        if not is_safe_version(version):
            return None
        complete = self.table_path(provider, version).is_file()
        return version if complete else None

    def current_providers(self) -> dict[str, str]:
        """provider -> current version, for every provider with a usable pointer (sorted)."""
        if not self.catalogs_dir.is_dir():
            return {}
        found: dict[str, str] = {}
        for entry in sorted(self.catalogs_dir.iterdir()):
            if entry.is_dir() and not entry.name.startswith("."):
                version = self.current_version(entry.name)
                if version is not None:
                    found[entry.name] = version
        return found

    @contextlib.contextmanager
    def staging_dir(self) -> Iterator[Path]:
        """A private directory inside the cache (same file system), removed on the way out."""
        self.catalogs_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=_PARTIAL_PREFIX, dir=self.catalogs_dir))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def publish_version(self, provider: str, version: str, staged: Path) -> None:
        """Move a fully written staged directory to ``catalogs/<provider>/<version>``."""
        target = self.version_dir(provider, version)
        for child in staged.iterdir():
            fsync_file(child)
            os.chmod(child, _FILE_MODE)
        os.chmod(staged, _DIR_MODE)
        fsync_directory(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            # Only reached when the directory is not the current one (or is incomplete): move
            # it aside first because a rename cannot replace a non-empty directory.
            retired = target.with_name(f"{_PARTIAL_PREFIX}{version}-retired")
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(target, retired)
            os.replace(staged, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staged, target)
        fsync_directory(target.parent)

    def set_current(self, provider: str, version: str) -> None:
        atomic_write_bytes(self.pointer_path(provider), f"{version}\n".encode())

    def prune(self, provider: str) -> None:
        """Delete version directories the pointer no longer names (after it moved)."""
        current = self.current_version(provider)
        if current is None:
            return
        for entry in self.provider_dir(provider).iterdir():
            if entry.is_dir() and entry.name != current:
                shutil.rmtree(entry, ignore_errors=True)

    def remove_partials(self) -> None:
        """Delete what a killed writer left half-done (call with the lock held: none is running)."""
        if not self.catalogs_dir.is_dir():
            return
        folders = [self.catalogs_dir, *(p for p in self.catalogs_dir.iterdir() if p.is_dir())]
        for folder in folders:
            for entry in folder.glob(f"{_PARTIAL_PREFIX}*"):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)

    @contextlib.contextmanager
    def lock(self, purpose: str = "a catalog cache update") -> Iterator[None]:
        """Serialize writers (two concurrent `catalog update` runs); readers never wait.

        The holder writes who it is (pid, ``purpose``, start time) into the lock file, so that a
        writer that has to wait says on stderr what it is waiting for (``purpose`` must hold no
        secret: it is written to disk).
        """
        try:
            self.catalogs_dir.mkdir(parents=True, exist_ok=True)
            handle = open(self.catalogs_dir / ".lock", "a+b")  # noqa: SIM115 (closed below)
        except OSError as error:
            raise CatalogError(f"{self.root}: cannot use the catalog cache: {error}") from error
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; writes are still atomic
            with handle:
                yield
            return
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(
                    f"waiting for {_lock_holder(handle)} to finish: it holds the lock of the "
                    f"catalog cache {self.root} (downloads end within their deadline)",
                    file=sys.stderr,
                    flush=True,
                )
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            _write_lock_holder(handle, purpose)
            try:
                yield
            finally:
                with contextlib.suppress(OSError):  # no holder any more: no note
                    handle.truncate(0)
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write_lock_holder(handle: BinaryIO, purpose: str) -> None:
    started = time.strftime("%H:%M:%S UTC", time.gmtime())
    with contextlib.suppress(OSError):  # the note is for people; the lock works without it
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}: {purpose}, since {started}\n".encode())
        handle.flush()


def _lock_holder(handle: BinaryIO) -> str:
    """Who holds the lock, as its note says (bounded, control characters escaped)."""
    try:
        handle.seek(0)
        note = handle.read(300).decode("utf-8", "replace").strip()
    except OSError:
        note = ""
    if not note:
        return "another planner process"
    shown = note[:200].encode("unicode_escape").decode("ascii")
    return f"another planner process ({shown})"
