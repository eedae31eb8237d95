"""HTTP downloads that either deliver the whole body or fail with a message naming the URL.

Retries (with exponential backoff) cover what a later attempt can fix: connection errors, timeouts,
a body cut short, HTTP 5xx and 429. A 4xx other than 429 is the server's final answer and is never
retried. Every transfer is bounded: a connect/read timeout, a cap on bytes, a cap on total time.
"""

from __future__ import annotations

import dataclasses
import io
import sys
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO, TextIO

import requests

from planner.catalog.urls import redact_text, redact_url
from planner.errors import CatalogError, InputError
from planner.version import __version__

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CHUNK_BYTES = 1 << 20
_MAX_RETRY_AFTER_SECONDS = 30.0
_MAX_CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class TransferPolicy:
    timeout: float = 30.0  # seconds to connect, and at most between two received chunks
    retries: int = 3  # attempts after the first one
    backoff: float = 0.5  # pause before the first retry; doubles on each further retry
    max_bytes: int = 512 << 20  # a catalog zip is a few MB; anything this big is not one
    max_seconds: float = 600.0  # one file, all attempts included

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise InputError(f"timeout must be positive, got {self.timeout}")
        if self.retries < 0:
            raise InputError(f"retries must be 0 or more, got {self.retries}")


class Progress:
    """Bytes received across concurrent downloads, drawn on one stderr line when it is a terminal."""

    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self.enabled = self._stream.isatty() if enabled is None else enabled
        self._lock = threading.Lock()
        self._bytes = 0
        self._files = 0
        self._last_draw = 0.0

    def advance(self, received: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._bytes += received
            now = time.monotonic()
            if now - self._last_draw >= 0.1:
                self._last_draw = now
                self._draw()

    def file_done(self) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._files += 1
            self._draw()

    def close(self) -> None:
        if self.enabled and (self._files or self._bytes):
            with self._lock:
                self._draw()
                self._stream.write("\n")
                self._stream.flush()

    def _draw(self) -> None:
        size = (
            f"{self._bytes / 1e6:.1f} MB" if self._bytes >= 1e6 else f"{self._bytes / 1e3:.0f} kB"
        )
        self._stream.write(f"\rdownloading: {self._files} files, {size}")
        self._stream.flush()


def open_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = f"planner/{__version__}"
    # Compressed transfer encodings would make Content-Length useless for spotting a cut body.
    session.headers["Accept-Encoding"] = "identity"
    return session


def download(
    session: requests.Session,
    url: str,
    sink: BinaryIO,
    policy: TransferPolicy,
    progress: Progress | None = None,
    headers: dict[str, str] | None = None,
) -> requests.structures.CaseInsensitiveDict[str] | None:
    """Write the body of ``GET url`` to ``sink`` (rewound on each attempt).

    Returns the response headers, or ``None`` when the server answered 304 Not Modified to a
    conditional request (``sink`` is then left empty). Raises ``CatalogError`` naming the URL
    (redacted: credentials in it are used for the request, never shown).
    """
    shown = redact_url(url)
    started = time.monotonic()
    connect_timeout = min(policy.timeout, _MAX_CONNECT_TIMEOUT_SECONDS)
    failure = "no attempt made"
    retry_after: float | None = None
    attempts = 0
    for attempt in range(policy.retries + 1):
        if attempt:
            pause = _pause_before_retry(policy, attempt, retry_after)
            if time.monotonic() - started + pause > policy.max_seconds:
                break
            time.sleep(pause)
            retry_after = None
        attempts += 1
        sink.seek(0)
        sink.truncate()
        try:
            with session.get(
                url,
                stream=True,
                timeout=(connect_timeout, policy.timeout),
                headers=headers,
                allow_redirects=True,
            ) as response:
                if response.status_code == 304:
                    return None
                if response.status_code in _RETRY_STATUSES:
                    failure = _status_text(response)
                    retry_after = _retry_after_seconds(response)
                    continue
                if response.status_code >= 400:
                    raise CatalogError(f"GET {shown}: {_status_text(response)}")
                failure = _receive(response, sink, policy, started, progress)
                if not failure:
                    return response.headers
        except requests.Timeout:
            failure = f"no answer within {policy.timeout:g} s (timeout)"
        except requests.exceptions.ChunkedEncodingError:
            failure = "the connection was closed before the whole body arrived"
        except requests.ConnectionError as error:
            failure = redact_text(_connection_failure(error, policy), url)
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as error:
            raise CatalogError(
                f"GET {shown}: invalid URL: {redact_text(str(error), url)}"
            ) from None
        except requests.RequestException as error:
            failure = redact_text(f"{type(error).__name__}: {error}", url)
    tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
    raise CatalogError(f"GET {shown}: {failure} (gave up after {tries})")


def download_text(
    session: requests.Session, url: str, policy: TransferPolicy, max_bytes: int = 4096
) -> str:
    """A small text resource (e.g. a version file), decoded as UTF-8."""
    buffer = io.BytesIO()
    download(session, url, buffer, dataclasses.replace(policy, max_bytes=max_bytes))
    try:
        return buffer.getvalue().decode("utf-8")
    except UnicodeDecodeError as error:
        raise CatalogError(f"GET {redact_url(url)}: the body is not UTF-8 text: {error}") from error


def _receive(
    response: requests.Response,
    sink: BinaryIO,
    policy: TransferPolicy,
    started: float,
    progress: Progress | None,
) -> str:
    """Copy the body to ``sink``; return "" when complete, else why the attempt failed."""
    declared = response.headers.get("Content-Length")
    expected = int(declared) if declared and declared.isdigit() else None
    if expected is not None and expected > policy.max_bytes:
        raise CatalogError(
            f"GET {redact_url(response.url)}: the body is {expected} bytes, more than the "
            f"{policy.max_bytes} allowed"
        )
    received = 0
    for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
        received += len(chunk)
        if received > policy.max_bytes:
            raise CatalogError(
                f"GET {redact_url(response.url)}: the body exceeds the {policy.max_bytes} bytes allowed"
            )
        if time.monotonic() - started > policy.max_seconds:
            return f"the transfer took longer than {policy.max_seconds:g} s"
        sink.write(chunk)
        if progress is not None:
            progress.advance(len(chunk))
    if expected is not None and received != expected:
        return f"the connection was closed after {received} of {expected} bytes"
    return ""


def _pause_before_retry(policy: TransferPolicy, attempt: int, retry_after: float | None) -> float:
    pause: float = policy.backoff * 2 ** (attempt - 1)
    if retry_after is not None:
        pause = max(pause, retry_after)
    return min(pause, _MAX_RETRY_AFTER_SECONDS)


def _retry_after_seconds(response: requests.Response) -> float | None:
    """The server's Retry-After in seconds (only the delta-seconds form; dates are ignored)."""
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


def _status_text(response: requests.Response) -> str:
    reason = response.reason or ""
    return f"HTTP {response.status_code} {reason}".rstrip()


def _connection_failure(error: requests.ConnectionError, policy: TransferPolicy) -> str:
    text = str(error)
    if "Read timed out" in text or "timed out" in text:
        return f"no data within {policy.timeout:g} s (timeout)"
    if "IncompleteRead" in text or "Connection broken" in text:
        return "the connection was closed before the whole body arrived"
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host name"
    return f"connection failed ({text})"
