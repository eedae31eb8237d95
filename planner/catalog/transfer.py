"""HTTP downloads that either deliver the whole body or fail with a message naming the URL.

Retries (with exponential backoff) cover what a later attempt can fix: connection errors, timeouts,
a body cut short, HTTP 5xx and 429. A 4xx other than 429 is the server's final answer and is never
retried. Every transfer is bounded: a connect/read timeout, a cap on bytes, and a deadline on total
time (``TransferPolicy.max_seconds``, all attempts included; ``$PLANNER_DOWNLOAD_DEADLINE``, or
``--deadline``). The read timeout alone bounds nothing against a server that sends a byte every
second, so the deadline is a timer that shuts the session's sockets down, whatever the transfer is
blocked in (connecting, reading the headers, reading the body).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import socket
import sys
import threading
import time
import weakref
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from planner.catalog.urls import redact_text, redact_url
from planner.errors import CatalogError, InputError
from planner.version import __version__

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CHUNK_BYTES = 1 << 20
_MAX_RETRY_AFTER_SECONDS = 30.0
_MAX_CONNECT_TIMEOUT_SECONDS = 10.0
DEADLINE_ENV = "PLANNER_DOWNLOAD_DEADLINE"
DEFAULT_DEADLINE_SECONDS = 600.0


def default_deadline() -> float:
    """Seconds one download may take, all attempts included: ``$PLANNER_DOWNLOAD_DEADLINE`` or
    600 (a catalog zip is a few MB: minutes on the slowest link that is still useful)."""
    text = os.environ.get(DEADLINE_ENV, "").strip()
    if not text:
        return DEFAULT_DEADLINE_SECONDS
    return check_deadline(text, f"${DEADLINE_ENV}")


def check_deadline(value: float | str, name: str = "the download deadline") -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise InputError(f"{name}: expected a number of seconds, got {str(value)[:40]!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise InputError(f"{name}: expected a positive number of seconds, got {str(value)[:40]}")
    return seconds


@dataclass(frozen=True)
class TransferPolicy:
    timeout: float = 30.0  # seconds to connect, and at most between two received chunks
    retries: int = 3  # attempts after the first one
    backoff: float = 0.5  # pause before the first retry; doubles on each further retry
    max_bytes: int = 512 << 20  # a catalog zip is a few MB; anything this big is not one
    # One file, all attempts included (the deadline).
    max_seconds: float = field(default_factory=default_deadline)

    def __post_init__(self) -> None:
        if not self.timeout > 0 or not math.isfinite(self.timeout):
            raise InputError(f"timeout must be positive, got {self.timeout}")
        if self.retries < 0:
            raise InputError(f"retries must be 0 or more, got {self.retries}")
        check_deadline(self.max_seconds)


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


class _Sockets:
    """The sockets a session opened, so that a deadline can cut a transfer blocked in a read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self.cut = False

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._open.add(sock)
            cut = self.cut
        if cut:  # connected after the deadline passed
            _shut_down(sock)

    def cut_all(self) -> None:
        with self._lock:
            self.cut = True
            sockets = list(self._open)
        for sock in sockets:
            _shut_down(sock)

    def rearm(self) -> None:
        with self._lock:
            self.cut = False


def _shut_down(sock: socket.socket) -> None:
    # shutdown(), not close(): it wakes a thread blocked in recv() on the socket.
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter, with every socket it connects registered in ``sockets``."""

    def __init__(self, sockets: _Sockets) -> None:
        self.sockets = sockets
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        sockets = self.sockets

        class Connection(HTTPConnection):
            def connect(self) -> None:
                super().connect()
                sockets.add(self.sock)

        class SecureConnection(HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                sockets.add(self.sock)

        class Pool(HTTPConnectionPool):
            ConnectionCls = Connection

        class SecurePool(HTTPSConnectionPool):
            ConnectionCls = SecureConnection

        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": SecurePool}


def open_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = f"planner/{__version__}"
    # Asked for so that Content-Length counts the bytes stored; a server that compresses anyway
    # is decoded under the same caps (see _receive).
    session.headers["Accept-Encoding"] = "identity"
    adapter = _DeadlineAdapter(_Sockets())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _Deadline:
    """A timer that cuts the session's sockets when ``seconds`` have passed."""

    def __init__(self, session: requests.Session, url: str, seconds: float) -> None:
        adapter = session.get_adapter(url)
        self._sockets = adapter.sockets if isinstance(adapter, _DeadlineAdapter) else None
        self._started = time.monotonic()
        self._seconds = seconds
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._expired = threading.Event()

    def __enter__(self) -> _Deadline:
        if self._sockets is not None:
            self._sockets.rearm()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        self._expired.set()
        if self._sockets is not None:
            self._sockets.cut_all()

    @property
    def expired(self) -> bool:
        return self._expired.is_set() or time.monotonic() - self._started > self._seconds

    def left(self) -> float:
        return self._seconds - (time.monotonic() - self._started)

    def message(self, shown: str) -> str:
        return (
            f"GET {shown}: no complete answer within the download deadline of "
            f"{self._seconds:g} s (set it with --deadline or ${DEADLINE_ENV})"
        )


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
    with _Deadline(session, url, policy.max_seconds) as deadline:
        try:
            answer = _attempts(session, url, sink, policy, progress, headers, deadline)
        except CatalogError:
            if deadline.expired:
                raise CatalogError(deadline.message(shown)) from None
            raise
        # A cut socket can also look like a short, complete answer (headers ended by EOF).
        if deadline.expired:
            raise CatalogError(deadline.message(shown))
        return answer


def _attempts(
    session: requests.Session,
    url: str,
    sink: BinaryIO,
    policy: TransferPolicy,
    progress: Progress | None,
    headers: dict[str, str] | None,
    deadline: _Deadline,
) -> requests.structures.CaseInsensitiveDict[str] | None:
    shown = redact_url(url)
    connect_timeout = min(policy.timeout, _MAX_CONNECT_TIMEOUT_SECONDS)
    failure = "no attempt made"
    retry_after: float | None = None
    attempts = 0
    for attempt in range(policy.retries + 1):
        if attempt:
            pause = _pause_before_retry(policy, attempt, retry_after)
            if pause >= deadline.left():
                break
            time.sleep(pause)
            retry_after = None
        if deadline.expired:
            break
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
                failure = _receive(response, sink, policy, deadline, progress)
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
        # Any other OSError is the sink's (a full disk): the caller's to report, not a retry.
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
    deadline: _Deadline,
    progress: Progress | None,
) -> str:
    """Copy the body to ``sink``; return "" when complete, else why the attempt failed.

    The bytes on the wire are read undecoded and counted against Content-Length; a body the
    server compressed although it was asked not to (Content-Encoding: gzip or deflate) is then
    decoded here, with ``policy.max_bytes`` applied to the decoded bytes (a gzip bomb is small
    on the wire).
    """
    shown = redact_url(response.url)
    declared = response.headers.get("Content-Length", "").strip()
    expected = int(declared) if declared.isdigit() else None
    if expected is not None and expected > policy.max_bytes:
        raise CatalogError(
            f"GET {shown}: the body is {expected} bytes, more than the {policy.max_bytes} allowed"
        )
    decoder = _Decoder(response.headers.get("Content-Encoding", ""), shown, policy.max_bytes)
    received = 0
    try:
        for chunk in response.raw.stream(_CHUNK_BYTES, decode_content=False):
            received += len(chunk)
            if received > policy.max_bytes:
                raise CatalogError(
                    f"GET {shown}: the body exceeds the {policy.max_bytes} bytes allowed"
                )
            if deadline.expired:
                return "the download deadline passed"
            sink.write(decoder.decode(chunk))
            if progress is not None:
                progress.advance(len(chunk))
    except urllib3.exceptions.ReadTimeoutError:
        return f"no data within {policy.timeout:g} s (timeout)"
    except urllib3.exceptions.ProtocolError:
        return "the connection was closed before the whole body arrived"
    except urllib3.exceptions.HTTPError as error:
        return redact_text(f"{type(error).__name__}: {error}", response.url)
    if expected is not None and received != expected:
        return f"the connection was closed after {received} of {expected} bytes"
    sink.write(decoder.finish())
    return ""


class _Decoder:
    """Content-Encoding undone chunk by chunk, the decoded size capped as the body's is."""

    def __init__(self, encoding: str, shown: str, max_bytes: int) -> None:
        self._name = encoding.strip().lower()
        self._shown = shown
        self._max_bytes = max_bytes
        self._decoded = 0
        self._inflate: zlib._Decompress | None = None
        if self._name in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._name == "deflate":
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS)
        elif self._name not in ("", "identity"):
            raise CatalogError(
                f"GET {shown}: the body is encoded as {encoding.strip()[:40]!r} "
                "(Content-Encoding); only gzip and deflate are decoded"
            )

    def decode(self, chunk: bytes) -> bytes:
        if self._inflate is None:
            return chunk
        if self._inflate.eof:
            if chunk:
                raise CatalogError(
                    f"GET {self._shown}: data after the end of the {self._name} body"
                )
            return b""
        pieces = []
        data = chunk
        try:
            while data and not self._inflate.eof:
                # Never more than one byte past the cap in memory: a bomb is refused, not inflated.
                piece = self._inflate.decompress(data, self._max_bytes - self._decoded + 1)
                self._count(piece)
                pieces.append(piece)
                data = self._inflate.unconsumed_tail
        except zlib.error as error:
            raise CatalogError(
                f"GET {self._shown}: the {self._name}-encoded body is corrupt ({error})"
            ) from None
        if self._inflate.unused_data:
            raise CatalogError(f"GET {self._shown}: data after the end of the {self._name} body")
        return b"".join(pieces)

    def finish(self) -> bytes:
        if self._inflate is None:
            return b""
        if not self._inflate.eof:
            raise CatalogError(
                f"GET {self._shown}: the {self._name}-encoded body ends before its end marker"
            )
        return b""

    def _count(self, piece: bytes) -> None:
        self._decoded += len(piece)
        if self._decoded > self._max_bytes:
            raise CatalogError(
                f"GET {self._shown}: the {self._name}-encoded body decodes to more than the "
                f"{self._max_bytes} bytes allowed"
            )


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
