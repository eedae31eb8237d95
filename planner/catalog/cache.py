"""The on-disk catalog cache: its layout, and a state that changes in one atomic step.

Layout under the cache directory::

    catalogs/current.json                            the manifest: the one file that says what
                                                     the cache holds (see ``CacheState``)
    catalogs/current-<digest>.arrow                  every named provider's rows, one table:
                                                     what the ``cache`` keyword loads
    catalogs/<provider>/<version>/<provider>.csv     the published CSV, byte for byte
    catalogs/<provider>/<version>/<provider>.arrow   the same rows parsed (fast to load)
    catalogs/<provider>/<version>/source.json        where it came from and when
    sources/<digest>/<file name>                     files fetched from direct URLs

An update writes only files no manifest names: new version directories (built in a temporary
directory and renamed into place) and a new combined table under a new name, each fsynced. Then
one ``os.replace`` of ``current.json`` publishes them all, and only after that are the files no
manifest names deleted. So a crash, a kill or a full disk at any moment leaves a cache that reads
as the old state or the new one, never a mix; the next update deletes what was left over and
repairs anything the manifest's checksums show damaged.

Caches written before the manifest existed (``catalogs/<provider>/current`` pointers and one
``catalogs/current.arrow``) are read as legacy pointers, and the next update replaces them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from planner.errors import CatalogError

CACHE_DIR_ENV = "PLANNER_CACHE_DIR"

# A version becomes a directory name, so it must not be able to climb out of the cache.
_VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_PARTIAL_PREFIX = ".partial-"
_MANIFEST_FILE = "current.json"
_MANIFEST_FORMAT = 1
_COMBINED_PREFIX = "current-"
_COMBINED_SUFFIX = ".arrow"
# The per-provider pointer and combined table of caches written before the manifest.
_LEGACY_POINTER = "current"
_LEGACY_COMBINED = "current.arrow"
# A manifest is a few hundred bytes; anything much larger is not one.
_MAX_MANIFEST_BYTES = 1 << 20
_HASH_CHUNK = 1 << 20
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


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file, else OSError: a FIFO put in a cache
    file's place must not block the reader (O_NONBLOCK), nor a device be read from."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def sha256_of(path: Path) -> str:
    """The SHA-256 of a regular file (OSError for anything else, see ``open_regular``)."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def publish_file(staged: Path, path: Path) -> None:
    """Move a finished file written elsewhere in the same directory tree to ``path``, durably."""
    fsync_file(staged)
    os.chmod(staged, _FILE_MODE)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, path)
    fsync_directory(path.parent)


@dataclass(frozen=True)
class ProviderState:
    """One provider as the manifest names it: its version and its table's checksum."""

    version: str
    table_sha256: str


@dataclass(frozen=True)
class CacheState:
    """What ``catalogs/current.json`` says the cache holds (one JSON object)."""

    table: str  # the combined table's file name, in ``catalogs/``
    table_bytes: int
    table_sha256: str
    providers: dict[str, ProviderState] = field(default_factory=dict)

    @property
    def versions(self) -> dict[str, str]:
        return {name: entry.version for name, entry in self.providers.items()}

    def to_json(self) -> dict[str, object]:
        return {
            "format": _MANIFEST_FORMAT,
            "table": self.table,
            "table_bytes": self.table_bytes,
            "table_sha256": self.table_sha256,
            "providers": {
                name: {"version": entry.version, "table_sha256": entry.table_sha256}
                for name, entry in sorted(self.providers.items())
            },
        }

    @classmethod
    def from_json(cls, document: object) -> CacheState:
        """Raises ValueError, KeyError or TypeError on anything but a well-formed manifest."""
        if not isinstance(document, dict) or document.get("format") != _MANIFEST_FORMAT:
            raise ValueError(f"not a format-{_MANIFEST_FORMAT} manifest")
        table, size, digest = document["table"], document["table_bytes"], document["table_sha256"]
        if not _is_combined_name(table) or type(size) is not int or size < 0:
            raise ValueError("no valid combined table name and size")
        if not _is_digest(digest):
            raise ValueError("no valid combined table checksum")
        providers: dict[str, ProviderState] = {}
        for name, entry in dict(document["providers"]).items():
            version, sha = entry["version"], entry["table_sha256"]
            if not (is_safe_version(name) and is_safe_version(version) and _is_digest(sha)):
                raise ValueError(f"provider entry {name!r} is not valid")
            providers[name] = ProviderState(version, sha)
        return cls(table, size, digest, providers)


def _is_digest(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) is not None


def _is_combined_name(value: object) -> bool:
    return (
        isinstance(value, str) and re.fullmatch(r"current-[0-9a-f]{16}\.arrow", value) is not None
    )


def combined_table_name(sha256: str) -> str:
    """The file name of a combined table with this checksum (content-named: never rewritten)."""
    return f"{_COMBINED_PREFIX}{sha256[:16]}{_COMBINED_SUFFIX}"


def damaged_cache_message(root: Path, detail: str) -> str:
    return (
        f"the catalog cache in {root} is damaged ({detail}); "
        "run `planner catalog update` to repair it"
    )


@dataclass(frozen=True)
class CatalogCache:
    """One cache directory (see the module docstring for its layout)."""

    root: Path

    @property
    def catalogs_dir(self) -> Path:
        return self.root / "catalogs"

    @property
    def manifest_path(self) -> Path:
        return self.catalogs_dir / _MANIFEST_FILE

    def combined_path(self, state: CacheState) -> Path:
        return self.catalogs_dir / state.table

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

    # ----- the manifest ----------------------------------------------------------------------
    def read_state(self) -> CacheState | None:
        """The manifest's state; None when there is none. CatalogError when it is damaged."""
        path = self.manifest_path
        try:
            with open_regular(path) as handle:
                data = handle.read(_MAX_MANIFEST_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as error:
            # A directory or a FIFO in its place, or unreadable: never block, never guess.
            raise CatalogError(
                damaged_cache_message(self.root, f"{path.name}: {error.strerror or error}")
            ) from error
        try:
            if len(data) > _MAX_MANIFEST_BYTES:
                raise ValueError("too large")
            return CacheState.from_json(json.loads(data))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CatalogError(
                damaged_cache_message(self.root, f"{path.name} is unreadable: {error}")
            ) from error

    def write_state(self, state: CacheState) -> None:
        """Publish ``state`` in one atomic step (everything it names is already on disk)."""
        text = json.dumps(state.to_json(), indent=2) + "\n"
        atomic_write_bytes(self.manifest_path, text.encode())

    def legacy_versions(self) -> dict[str, str]:
        """provider -> version of a cache written before the manifest (its ``current`` files)."""
        if not self.catalogs_dir.is_dir():
            return {}
        found: dict[str, str] = {}
        for entry in sorted(self.catalogs_dir.iterdir()):
            if not entry.is_dir() or entry.name.startswith(".") or not is_safe_version(entry.name):
                continue
            try:
                version = (entry / _LEGACY_POINTER).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                continue
            if is_safe_version(version) and self.table_path(entry.name, version).is_file():
                found[entry.name] = version
        return found

    def collect_garbage(self, state: CacheState) -> None:
        """Delete what no manifest names (call after ``write_state``, with the lock held)."""
        if not self.catalogs_dir.is_dir():
            return
        kept = state.versions
        for entry in self.catalogs_dir.iterdir():
            name = entry.name
            if name.startswith("."):
                continue  # the lock, and partials (remove_partials)
            if entry.is_dir() and not entry.is_symlink():
                for version_dir in entry.iterdir():
                    if version_dir.name != kept.get(name) and not version_dir.name.startswith("."):
                        _remove(version_dir)
                with contextlib.suppress(OSError):
                    entry.rmdir()  # a provider no longer cached
            elif name == _LEGACY_COMBINED or (_is_combined_name(name) and name != state.table):
                _remove(entry)

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
        """Move a fully written staged directory to ``catalogs/<provider>/<version>``.

        Never called for a version directory the manifest names intact (that version is
        "unchanged"), so the published state is never modified in place.
        """
        target = self.version_dir(provider, version)
        for child in staged.iterdir():
            fsync_file(child)
            os.chmod(child, _FILE_MODE)
        os.chmod(staged, _DIR_MODE)
        fsync_directory(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            # Left by an update killed before its manifest was written, or damaged: move it
            # aside first because a rename cannot replace a non-empty directory.
            retired = target.with_name(f"{_PARTIAL_PREFIX}{version}-retired")
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(target, retired)
            os.replace(staged, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staged, target)
        fsync_directory(target.parent)

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


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
