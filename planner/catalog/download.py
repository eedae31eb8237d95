"""Downloading published gpuhunt catalogs (v3 layout) and remote catalog files into the cache.

v3 layout (docs/catalog-format.md §1)::

    <base>/<provider>/version                 "20260818-42"
    <base>/<provider>/<version>/catalog.zip   one member, "<provider>.csv"

Policy, in the order it is applied to each provider:

- The version file is fetched first; a provider whose cached version equals it is not downloaded.
- Everything is checked in a private staging directory before the cache is touched: the HTTP
  status, the body length, the zip (one member named ``<provider>.csv``, safe member path, size and
  compression-ratio caps, CRC), the CSV header (gpuhunt's required columns), and every row, parsed
  by the project's gpuhunt loader.
- Malformed rows: a file is kept, with a warning counting the skipped rows, as gpuhunt does, unless
  it has no usable row or more malformed rows than good ones; then it is refused as a whole, as a
  sign that the format changed under us.
- A checked provider's staged directory is renamed into place under a name no manifest uses;
  then the combined table is written under a new name, and one atomic replacement of the
  manifest publishes it all (see ``cache.py``). Files no manifest names are deleted only after.
- Before anything is fetched the cache is checked against its manifest's checksums: a damaged
  provider table is downloaded again, a damaged combined table rebuilt, and the report says so.
- When some providers fail, the others are still published, the failed ones keep their previous
  copy, and the report lists every failure (the CLI exits 2). With a pinned ``version`` the update
  is all-or-nothing, as in gpuhunt: a mix of versions is not what was asked for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from planner.catalog.archive import ArchiveLimits, extract_only_member, verify_archive
from planner.catalog.assembly import assemble
from planner.catalog.cache import (
    CacheState,
    CatalogCache,
    ProviderState,
    atomic_write_bytes,
    combined_table_name,
    damaged_cache_message,
    default_cache_dir,
    fsync_file,
    is_safe_version,
    publish_file,
    sha256_of,
)
from planner.catalog.columns import OFFLINE_PROVIDERS, ONLINE_PROVIDERS
from planner.catalog.loaders.detect import Format
from planner.catalog.loaders.gpuhunt import load_csv_file
from planner.catalog.loaders.local import VERSION_FILE, load_path, loaded_parts
from planner.catalog.loaders.part import LoadedSource
from planner.catalog.offer_table import OfferTable, read_arrow, write_arrow
from planner.catalog.provenance import as_of_from_version
from planner.catalog.urls import redact_url, require_http_url
from planner.errors import CatalogError, InputError, Problem

if TYPE_CHECKING:
    from planner.catalog.transfer import Progress, TransferPolicy

DEFAULT_BASE_URL = "https://dstack-gpu-pricing.s3.eu-west-1.amazonaws.com/v3"
BASE_URL_ENV = "PLANNER_CATALOG_URL"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3

_MAX_PARALLEL_DOWNLOADS = 8
# How often a reader follows the manifest again when an update replaced it meanwhile.
_READ_ATTEMPTS = 3

Status = Literal["downloaded", "unchanged", "failed"]


@dataclass(frozen=True)
class ProviderUpdate:
    """What happened to one provider during an update."""

    provider: str
    status: Status
    version: str | None  # the published (or requested) version, when it is known
    previous: str | None  # the version cached before the update
    url: str  # the last URL fetched for this provider (redacted: no credentials, query values)
    rows: int | None = None  # usable rows in the file (downloaded or unchanged)
    dropped: int = 0  # malformed rows skipped
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateReport:
    base_url: str  # redacted (see planner.catalog.urls)
    cache_dir: Path
    results: tuple[ProviderUpdate, ...]
    table: Path | None  # the combined table the ``cache`` keyword loads, if any provider is cached
    repairs: tuple[str, ...] = ()  # what the update found damaged in the cache and repaired

    @property
    def failures(self) -> tuple[ProviderUpdate, ...]:
        return tuple(result for result in self.results if result.status == "failed")

    def raise_for_failures(self) -> None:
        if self.failures:
            # Each message already names the provider and the URL that failed.
            raise CatalogError([Problem(str(failed.error)) for failed in self.failures])


def default_base_url() -> str:
    return (os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def cached_catalog_path(cache_dir: Path | None = None) -> Path:
    """The table the ``cache`` keyword loads (all providers last downloaded).

    Checked against the manifest (present, the recorded size); CatalogError when there is no
    downloaded catalog or the cache is damaged (``planner catalog update`` repairs it).
    """
    cache = CatalogCache(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    # An update running meanwhile may publish a new state and delete the table an older
    # manifest named: read the manifest again then.
    for _ in range(_READ_ATTEMPTS):
        state = cache.read_state()
        if state is None:
            if not cache.legacy_versions():
                raise CatalogError(
                    f"no downloaded catalog in {cache.root}; run `planner catalog update` first"
                )
            with cache.lock("planner converting the cache to the manifest layout"):
                if cache.read_state() is None:
                    try:
                        _publish_state(cache, cache.legacy_versions())
                    except OSError as error:
                        raise CatalogError(
                            f"{cache.root}: cannot convert the catalog cache to this planner's "
                            f"layout: {error.strerror or error}"
                        ) from error
            continue
        path = cache.combined_path(state)
        try:
            status = path.lstat()
        except FileNotFoundError:
            continue
        except OSError as error:
            raise CatalogError(
                damaged_cache_message(cache.root, f"{path.name}: {error}")
            ) from error
        size = status.st_size
        if not stat.S_ISREG(status.st_mode):  # a FIFO would block the reader, a link mislead it
            raise CatalogError(
                damaged_cache_message(cache.root, f"{path.name}: not a regular file")
            )
        if size != state.table_bytes:
            raise CatalogError(
                damaged_cache_message(
                    cache.root,
                    f"{path.name} is {size:,} bytes, the manifest says {state.table_bytes:,}",
                )
            )
        return path
    raise CatalogError(
        damaged_cache_message(cache.root, "the combined table the manifest names is missing")
    )


def read_cached_table(cache_dir: Path | None = None) -> OfferTable:
    """The ``cache`` keyword's rows, read and validated (``read_arrow``), provenance as written."""
    for attempt in range(_READ_ATTEMPTS):
        path = cached_catalog_path(cache_dir)
        try:
            return read_arrow(path)
        except CatalogError:
            if path.exists() or attempt == _READ_ATTEMPTS - 1:
                raise  # damaged, not replaced by an update meanwhile
    raise AssertionError("unreachable")


def update_catalog(
    base_url: str | None = None,
    providers: Sequence[str] | None = None,
    cache_dir: Path | None = None,
    *,
    version: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    deadline: float | None = None,
    progress: bool | None = None,
    backoff: float = 0.5,
    limits: ArchiveLimits | None = None,
) -> UpdateReport:
    """Bring the cache up to date with the published catalog (see the module docstring).

    ``deadline``: seconds each file may take, all attempts included (``None``:
    ``$PLANNER_DOWNLOAD_DEADLINE``, else 600); a server slower than that fails the provider.
    ``progress``: draw a progress line on stderr (``None``: only when stderr is a terminal).
    Returns a report; failures are in it, not raised (``report.raise_for_failures()``).
    Raises ``InputError`` for bad arguments, ``CatalogError`` when the cache is unusable.
    """
    # Lazy for start-up time, here and below: the HTTP client (requests, ~0.1 s) is imported
    # only when something is fetched, not whenever a local catalog is loaded.
    from planner.catalog.transfer import Progress, TransferPolicy, default_deadline

    base = _check_base_url(base_url if base_url is not None else default_base_url())
    names = _check_providers(OFFLINE_PROVIDERS if providers is None else providers)
    if version is not None and not is_safe_version(version):
        raise InputError(f"--version {version!r} is not a catalog version (e.g. 20260818-42)")
    policy = TransferPolicy(
        timeout=timeout,
        retries=retries,
        backoff=backoff,
        max_seconds=deadline if deadline is not None else default_deadline(),
    )
    cache = CatalogCache(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    job = _UpdateJob(base, cache, policy, limits or ArchiveLimits(), version, Progress(progress))
    with cache.lock(f"planner catalog update from {redact_url(base)}"):
        cache.remove_partials()
        results, state = job.run(names)
    return UpdateReport(
        base_url=redact_url(base),
        cache_dir=cache.root,
        results=results,
        table=cache.combined_path(state) if state is not None else None,
        repairs=tuple(job.repairs),
    )


def fetch_source(url: str, cache_dir: Path | None = None) -> Path:
    """A local path ``Catalog.load`` can read for an ``http(s)://`` catalog source.

    A URL whose path ends in ``.zip`` or ``.csv`` is one file: it is downloaded (a conditional
    request when it was fetched before), checked, and kept under ``sources/`` in the cache. Any other
    URL is a v3 base URL: the cache is updated from it and the combined cached table returned;
    a provider failing there is an error. Credentials in ``url`` (``user:password@``, a presigned
    query) are sent with the request only: messages, provenance and cache paths use
    ``planner.catalog.urls.redact_url(url)``.
    """
    url = require_http_url(url)
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if suffix not in (".zip", ".csv"):
        report = update_catalog(url, None, cache_dir)
        report.raise_for_failures()
        return cached_catalog_path(report.cache_dir)
    cache = CatalogCache(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    with cache.lock(f"planner fetching {redact_url(url)}"):
        cache.remove_partials()
        try:
            return _fetch_file(url, cache, ArchiveLimits())
        except OSError as error:  # a full disk, a name the file system refuses: not the URL's fault
            raise CatalogError(
                f"{redact_url(url)}: cannot write the catalog cache {cache.root}: "
                f"{error.strerror or error}"
            ) from error


# --- one provider ---------------------------------------------------------------------------


@dataclass
class _Staged:
    """A provider checked and written to the staging directory, ready to publish."""

    provider: str
    version: str
    directory: Path
    rows: int
    dropped: int
    warnings: tuple[str, ...]


@dataclass
class _UpdateJob:
    base_url: str
    cache: CatalogCache
    policy: TransferPolicy
    limits: ArchiveLimits
    version: str | None
    progress: Progress
    previous: dict[str, str | None] = field(default_factory=dict)
    repairs: list[str] = field(default_factory=list)

    def run(self, providers: Sequence[str]) -> tuple[tuple[ProviderUpdate, ...], CacheState | None]:
        """The results per provider, and the state the cache is left in (None: nothing cached)."""
        state, intact = _inspect(self.cache, self.repairs)
        if state is not None:  # what a killed or failed update left (it may fill the disk)
            self.cache.collect_garbage(state)
        self.previous = {name: intact.get(name) for name in providers}
        with self.cache.staging_dir() as staging:
            workers = min(_MAX_PARALLEL_DOWNLOADS, len(providers))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(lambda name: self._fetch(name, staging), providers))
            self.progress.close()
            failed = [o for o in outcomes if isinstance(o, ProviderUpdate) and o.error]
            if self.version is not None and failed:
                outcomes = [self._withhold(outcome, failed) for outcome in outcomes]
            results = [self._publish(outcome) for outcome in outcomes]
        versions = dict(intact)
        versions.update(
            {r.provider: r.version for r in results if r.status == "downloaded" and r.version}
        )
        dropped = sorted(set(state.versions if state else {}) - set(versions))
        self.repairs.extend(
            f"provider {name}: dropped from the cache (its files are damaged); "
            f"`planner catalog update --provider {name}` downloads it again"
            for name in dropped
        )
        if versions and (state is None or self.repairs or versions != state.versions):
            try:
                state = _publish_state(self.cache, versions)
            except (OSError, CatalogError) as error:
                if state is not None:  # the version directories just added: named by nothing
                    self.cache.collect_garbage(state)
                what = "write" if isinstance(error, OSError) else "rebuild"
                reason = (error.strerror if isinstance(error, OSError) else None) or error
                raise CatalogError(
                    f"{self.cache.root}: cannot {what} the catalog cache: {reason}; "
                    "the cache still holds what it held before this update"
                ) from error
        return tuple(results), state

    def _fetch(self, provider: str, staging: Path) -> _Staged | ProviderUpdate:
        # Lazy for start-up time (see update_catalog).
        from planner.catalog.transfer import download, download_text, open_session

        previous = self.previous[provider]
        url = f"{self.base_url}/{provider}/{VERSION_FILE}"
        version = self.version
        try:
            with open_session() as session:
                if version is None:
                    version = download_text(session, url, self.policy).strip()
                    if not is_safe_version(version):
                        raise CatalogError(
                            f"GET {redact_url(url)}: not a catalog version: {version[:80]!r}"
                        )
                if version == previous:
                    return ProviderUpdate(provider, "unchanged", version, previous, redact_url(url))
                url = f"{self.base_url}/{provider}/{version}/catalog.zip"
                directory = staging / provider
                directory.mkdir()
                zip_path = directory / "catalog.zip"
                with open(zip_path, "wb") as sink:
                    download(session, url, sink, self.policy, self.progress)
            self.progress.file_done()
            csv_path = directory / f"{provider}.csv"
            shown = redact_url(url)
            extract_only_member(zip_path, f"{provider}.csv", csv_path, self.limits, shown)
            zip_path.unlink()
            return self._check_and_stage(provider, version, shown, csv_path)
        except CatalogError as error:
            return _failure(provider, version, previous, url, str(error))
        except OSError as error:
            return _failure(provider, version, previous, url, _write_failure(self.cache, error))

    def _check_and_stage(self, provider: str, version: str, url: str, csv_path: Path) -> _Staged:
        """``url``: the redacted URL, as messages, provenance and ``source.json`` record it."""
        offers = _verified_provider_file(csv_path, provider, url, version)
        rows, issues = len(offers), offers.issues
        if issues and (rows == 0 or len(issues) > rows):
            raise CatalogError(
                f"{url}: unusable catalog: {len(issues)} of {rows + len(issues)} rows are "
                f"malformed (first, line {issues[0].line}: {issues[0].reason})"
            )
        warnings: tuple[str, ...] = ()
        if issues:
            warnings = (
                f"{provider}: skipped {len(issues)} malformed rows of {rows + len(issues)} "
                f"(first, line {issues[0].line}: {issues[0].reason})",
            )
        directory = csv_path.parent
        write_arrow(offers, directory / f"{provider}.arrow")
        record = {
            "provider": provider,
            "version": version,
            "url": url,
            "as_of": as_of_from_version(version),
            "downloaded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "sha256": sha256_of(csv_path),
            "rows": rows,
            "dropped": len(issues),
        }
        (directory / "source.json").write_text(json.dumps(record, indent=2) + "\n")
        return _Staged(provider, version, directory, rows, len(issues), warnings)

    def _withhold(
        self, outcome: _Staged | ProviderUpdate, failures: list[ProviderUpdate]
    ) -> _Staged | ProviderUpdate:
        if not isinstance(outcome, _Staged):
            return outcome
        failed = sorted(failure.provider for failure in failures)
        return _failure(
            outcome.provider,
            outcome.version,
            self.previous[outcome.provider],
            f"{self.base_url}/{outcome.provider}/{outcome.version}/catalog.zip",
            f"provider {outcome.provider}: downloaded but not installed: version "
            f"{outcome.version} is installed for all providers or none, and "
            f"{', '.join(failed)} failed",
        )

    def _publish(self, outcome: _Staged | ProviderUpdate) -> ProviderUpdate:
        if isinstance(outcome, ProviderUpdate):
            if outcome.status == "unchanged" and outcome.version is not None:
                rows = _recorded_rows(self.cache, outcome.provider, outcome.version)
                return dataclasses.replace(outcome, rows=rows)
            return outcome
        provider, version = outcome.provider, outcome.version
        url = f"{self.base_url}/{provider}/{version}/catalog.zip"
        try:
            self.cache.publish_version(provider, version, outcome.directory)
        except OSError as error:
            reason = _write_failure(self.cache, error)
            return _failure(provider, version, self.previous[provider], url, reason)
        return ProviderUpdate(
            provider,
            "downloaded",
            version,
            self.previous[provider],
            redact_url(url),
            rows=outcome.rows,
            dropped=outcome.dropped,
            warnings=outcome.warnings,
        )


def _failure(
    provider: str, version: str | None, previous: str | None, url: str, reason: str
) -> ProviderUpdate:
    kept = f"; keeping cached version {previous}" if previous else "; nothing cached for it"
    message = reason if reason.startswith("provider ") else f"provider {provider}: {reason}"
    shown = redact_url(url)
    return ProviderUpdate(provider, "failed", version, previous, shown, error=message + kept)


# --- checks and helpers ---------------------------------------------------------------------


def _verified_provider_file(csv_path: Path, provider: str, url: str, version: str) -> OfferTable:
    """Parse a staged ``<provider>.csv`` with the gpuhunt loader; provenance names the URL.

    ``url`` (redacted) replaces the staging path in the sources; ``<url>:<provider>.csv`` replaces
    it in messages, issues and warnings, which users read.
    """
    display = f"{url}:{provider}.csv"
    with _shown_as(csv_path, display):
        part = load_csv_file(csv_path, provider)
    offers = assemble(
        [loaded_parts(csv_path, Format.GPUHUNT_CSV, [part], location=url)], strict=False
    )
    staged = str(csv_path)
    issues = [
        dataclasses.replace(issue, source=issue.source.replace(staged, display))
        for issue in offers.issues
    ]
    warnings = [warning.replace(staged, display) for warning in offers.warnings]
    as_of = as_of_from_version(version)
    return OfferTable(offers.arrow, offers.sources, issues, warnings).with_provenance(
        version=version, as_of=as_of, as_of_from="version file" if as_of else None
    )


@contextlib.contextmanager
def _shown_as(path: Path, display: str) -> Iterator[None]:
    """A CatalogError raised inside names ``display`` (a URL) instead of the staging ``path``."""
    try:
        yield
    except CatalogError as error:
        raise CatalogError(str(error).replace(str(path), display)) from error


def _write_failure(cache: CatalogCache, error: OSError) -> str:
    """A write error (a full disk, a quota) in words: what could not be written, and why."""
    return f"cannot write the cache in {cache.root}: {error.strerror or error}"


def _inspect(cache: CatalogCache, repairs: list[str]) -> tuple[CacheState | None, dict[str, str]]:
    """The published state, and provider -> version of the providers whose files are intact.

    Every file the manifest names is checked against its checksum; what does not match is
    noted in ``repairs`` (the update then downloads or rebuilds it).
    """
    try:
        state = cache.read_state()
    except CatalogError as error:
        repairs.append(f"{error}: rebuilt from the published catalog")
        return None, {}
    if state is None:
        return None, cache.legacy_versions()  # a cache written before the manifest
    intact: dict[str, str] = {}
    for provider, entry in state.providers.items():
        if _matches(cache.table_path(provider, entry.version), entry.table_sha256):
            intact[provider] = entry.version
        else:
            repairs.append(
                f"provider {provider}: the cached version {entry.version} is damaged or missing"
            )
    if not _matches(cache.combined_path(state), state.table_sha256):
        repairs.append(
            f"{cache.combined_path(state)}: damaged or missing; rebuilt from the provider tables"
        )
    return state, intact


def _matches(path: Path, sha256: str) -> bool:
    try:
        return sha256_of(path) == sha256
    except OSError:
        return False


def _publish_state(cache: CatalogCache, versions: dict[str, str]) -> CacheState | None:
    """Build the combined table of ``versions`` under a new name, then publish the manifest that
    names it (one atomic step), then delete what no manifest names. None: nothing to publish."""
    if not versions:
        return None
    providers: dict[str, ProviderState] = {}
    tables = []
    for provider, version in sorted(versions.items()):
        path = cache.table_path(provider, version)
        providers[provider] = ProviderState(version, sha256_of(path))
        tables.append(read_arrow(path))
    # Sorted by price (stable: providers in name order, then file order), each provider's
    # provenance, issues and warnings carried over.
    combined = assemble(
        [LoadedSource(sources=table.sources, prebuilt=table) for table in tables], strict=False
    )
    with cache.staging_dir() as staging:
        staged = write_arrow(combined, staging / "combined.arrow")
        fsync_file(staged)
        digest = sha256_of(staged)
        size = staged.stat().st_size
        target = cache.catalogs_dir / combined_table_name(digest)
        publish_file(staged, target)
    state = CacheState(target.name, size, digest, providers)
    cache.write_state(state)
    cache.collect_garbage(state)
    return state


def _recorded_rows(cache: CatalogCache, provider: str, version: str) -> int | None:
    try:
        record = json.loads(cache.source_record_path(provider, version).read_text())
    except (OSError, ValueError):
        return None
    rows = record.get("rows")
    return rows if isinstance(rows, int) else None


def _fetch_file(url: str, cache: CatalogCache, limits: ArchiveLimits) -> Path:
    # Lazy for start-up time (see update_catalog).
    from planner.catalog.transfer import TransferPolicy, download, open_session

    parts = PurePosixPath(urlsplit(url).path)
    shown = redact_url(url)
    # Named after the redacted URL: no credential reaches a path name (not even hashed), and a
    # presigned URL signed anew is the same entry, revalidated rather than stored again.
    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    # The parent folder is kept: a SkyPilot vms.csv takes its provider from it.
    parent = _file_name_part(parts.parent.name) or "source"
    name = (_file_name_part(parts.stem) or "catalog") + parts.suffix.lower()
    target = cache.root / "sources" / digest / parent / name
    meta_path = target.parent / f".{name}.http.json"
    headers = _conditional_headers(meta_path, bool(urlsplit(url).query)) if target.is_file() else {}
    with cache.staging_dir() as staging:
        staged = staging / parent / name
        staged.parent.mkdir()
        with open_session() as session, open(staged, "wb") as sink:
            answer = download(session, url, sink, TransferPolicy(), headers=headers)
        if answer is None:  # 304 Not Modified: the cached copy is current
            return target
        if parts.suffix.lower() == ".zip":
            verify_archive(staged, limits, shown)
        with _shown_as(staged, shown):
            load_path(staged, location=shown)  # every row parsed: a bad file is never kept
        fsync_file(staged)
        publish_file(staged, target)
    validators = {k: answer[k] for k in ("ETag", "Last-Modified") if k in answer}
    atomic_write_bytes(meta_path, json.dumps(validators).encode())
    return target


# Longest name part kept from a URL: file systems allow 255 bytes per name, and the cache adds
# prefixes (".partial-", "." and ".http.json") to it.
_MAX_NAME_PART = 100


def _file_name_part(text: str) -> str:
    """``text`` (from a URL path) as a safe, bounded part of a file name in the cache.

    Characters other than letters, digits, ``.``, ``_``, ``-`` become ``_``; a longer name keeps
    its start and a hash of the whole, so two long names stay two entries.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".")
    if len(safe) <= _MAX_NAME_PART:
        return safe
    return f"{safe[: _MAX_NAME_PART - 9]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _conditional_headers(meta_path: Path, has_query: bool) -> dict[str, str]:
    """Validators from the last fetch of this entry, to send with the next request.

    URLs differing only in query values share an entry (it is named after the redacted URL), so
    with a query only ``If-None-Match`` is sent: an ETag names the content the server has for
    this very URL, whereas ``If-Modified-Since`` could be answered 304 for a different file.
    """
    try:
        validators = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return {}
    headers = {}
    if isinstance(validators.get("ETag"), str):
        headers["If-None-Match"] = validators["ETag"]
    if isinstance(validators.get("Last-Modified"), str) and not has_query:
        headers["If-Modified-Since"] = validators["Last-Modified"]
    return headers


def _check_base_url(url: str) -> str:
    return require_http_url(url).rstrip("/")


def _check_providers(providers: Sequence[str]) -> list[str]:
    names: list[str] = []
    for raw in providers:
        name = raw.strip().lower()
        if name in ONLINE_PROVIDERS:
            raise InputError(
                f"provider {raw!r} is queried live by gpuhunt and has no published catalog; "
                f"published providers: {', '.join(OFFLINE_PROVIDERS)}"
            )
        if name not in OFFLINE_PROVIDERS:
            raise InputError(
                f"unknown provider {raw!r}; published providers: {', '.join(OFFLINE_PROVIDERS)}"
            )
        if name not in names:
            names.append(name)
    if not names:
        raise InputError("no provider to update")
    return names
