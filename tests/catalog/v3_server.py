"""A v3 catalog tree for tests: generated gpuhunt CSVs and zips, and an HTTP handler that serves
them with injectable faults (status codes, delays, bodies cut short, replaced bodies)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import threading
import zipfile
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from planner.catalog.columns import GPUHUNT_FIELDS

_MAX_FAULT_DELAY_SECONDS = 5.0


def gpuhunt_csv(rows: list[dict[str, str]], fields: tuple[str, ...] = GPUHUNT_FIELDS) -> bytes:
    """Rows written the way gpuhunt writes them (csv.DictWriter, CRLF line ends)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(fields))
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in fields})
    return text.getvalue().encode()


def offer_row(
    instance: str,
    price: float,
    *,
    location: str = "us-east-1",
    cpu: int = 8,
    memory: float = 32.0,
    gpu_count: int = 0,
    gpu_name: str = "",
    gpu_memory: str = "",
    spot: bool = False,
    gpu_vendor: str = "",
    disk_size: str = "",
    flags: str = "",
) -> dict[str, str]:
    return {
        "instance_name": instance,
        "location": location,
        "price": str(price),
        "cpu": str(cpu),
        "memory": str(memory),
        "gpu_count": str(gpu_count),
        "gpu_name": gpu_name,
        "gpu_memory": gpu_memory,
        "spot": str(spot),
        "disk_size": disk_size,
        "gpu_vendor": gpu_vendor,
        "flags": flags,
        "cpu_arch": "x86",
        "provider_data": "{}",  # what gpuhunt's json.dumps writes for no data
    }


def sample_rows(provider: str, price_scale: float = 1.0) -> list[dict[str, str]]:
    """A small provider catalog: CPU and GPU rows, on-demand and spot, ascending by price."""
    rows = [
        offer_row(f"{provider}-cpu-small", 0.1 * price_scale),
        offer_row(f"{provider}-cpu-small", 0.05 * price_scale, spot=True),
        offer_row(
            f"{provider}-l4",
            0.8 * price_scale,
            gpu_count=1,
            gpu_name="L4",
            gpu_memory="24.0",
            gpu_vendor="nvidia",
        ),
        offer_row(
            f"{provider}-h100x8",
            30.0 * price_scale,
            cpu=96,
            memory=1024.0,
            gpu_count=8,
            gpu_name="H100",
            gpu_memory="80.0",
            gpu_vendor="nvidia",
        ),
        offer_row(
            f"{provider}-h100x8",
            12.5 * price_scale,
            cpu=96,
            memory=1024.0,
            gpu_count=8,
            gpu_name="H100",
            gpu_memory="80.0",
            gpu_vendor="nvidia",
            spot=True,
        ),
    ]
    return sorted(rows, key=lambda row: float(row["price"]))


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass(frozen=True)
class Fault:
    """What the server does instead of serving a path normally (once per queued fault)."""

    status: int | None = None  # answer with this status and a short body
    delay: float = 0.0  # wait this long before answering (bounded; cut short at shutdown)
    drop_after: int | None = None  # announce the full length, send this many bytes, hang up
    body: bytes | None = None  # serve these bytes instead of the file
    headers: tuple[tuple[str, str], ...] = ()  # extra response headers (with ``status``)


@dataclass
class CatalogServer:
    """The served tree lives in ``root``; ``base_url`` is its ``/v3`` folder."""

    root: Path
    base_url: str = ""
    hits: list[str] = field(default_factory=list)
    # Each request as received: the target with its query, and the Authorization header.
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def publish(
        self,
        provider: str,
        version: str,
        csv_data: bytes | None = None,
        *,
        archive: bytes | None = None,
        set_version: bool = True,
    ) -> None:
        """Put ``<provider>/<version>/catalog.zip`` (and the ``version`` file) in the tree."""
        folder = self.root / "v3" / provider
        (folder / version).mkdir(parents=True, exist_ok=True)
        if archive is None:
            data = csv_data if csv_data is not None else gpuhunt_csv(sample_rows(provider))
            archive = zip_bytes({f"{provider}.csv": data})
        (folder / version / "catalog.zip").write_bytes(archive)
        if set_version:
            (folder / "version").write_text(f"{version}\n")

    def inject(self, path: str, *faults: Fault) -> None:
        """Queue faults for ``path`` relative to the base URL, e.g. ``aws/version``."""
        with self.lock:
            self.faults.setdefault(f"/v3/{path}", deque()).extend(faults)

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.count(f"/v3/{path}")

    def next_fault(self, path: str) -> Fault | None:
        with self.lock:
            self.hits.append(path)
            queue = self.faults.get(path)
            return queue.popleft() if queue else None


def handler_for(server: CatalogServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            # The client may give up first (a timeout test): then there is no one to answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._serve()

        def _serve(self) -> None:
            with server.lock:
                server.requests.append((self.path, self.headers.get("Authorization")))
            path = self.path.split("?", 1)[0]
            fault = server.next_fault(path)
            if fault is not None and fault.delay:
                server.stopping.wait(min(fault.delay, _MAX_FAULT_DELAY_SECONDS))
            if fault is not None and fault.status is not None:
                injected = f"injected {fault.status}\n".encode()
                self._answer(fault.status, injected, dict(fault.headers))
                return
            body = fault.body if fault is not None and fault.body is not None else self._read(path)
            if body is None:
                self._answer(404, b"not found\n")
                return
            if fault is not None and fault.drop_after is not None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: fault.drop_after])
                self.wfile.flush()
                self.close_connection = True
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self._answer(200, body, {"ETag": etag})

        def _read(self, path: str) -> bytes | None:
            target = (server.root / path.lstrip("/")).resolve()
            if server.root.resolve() not in target.parents or not target.is_file():
                return None
            return target.read_bytes()

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output readable

    return Handler


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with a hash of its bytes (folders: "dir")."""
    if not root.exists():
        return {}
    digest: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        digest[relative] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return digest
