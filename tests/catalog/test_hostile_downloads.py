"""Issue 8, items 6 and 13 (downloads): a server that drips bytes is cut at the download deadline,
a writer waiting on the cache lock says what it waits for, and a compressed body the server sends
anyway is decoded under the same caps. Real servers on 127.0.0.1, the real CLI."""

from __future__ import annotations

import gzip
import io
import resource
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from raw_server import answer, drip, raw_server
from v3_server import CatalogServer, gpuhunt_csv, offer_row, sample_rows, zip_bytes

from planner.catalog.cache import CatalogCache
from planner.catalog.transfer import TransferPolicy, download, open_session
from planner.errors import CatalogError, InputError

RunCli = Callable[..., subprocess.CompletedProcess[str]]
V1 = "20260101-1"
ARCHIVE = zip_bytes({"aws.csv": gpuhunt_csv(sample_rows("aws"))})
ROOT = Path(__file__).resolve().parents[2]


def big_csv_bytes() -> bytes:
    """A CSV that does not compress well (so its zip is larger than a few kB)."""
    return gpuhunt_csv(
        [offer_row(f"aws-{n}-{n * 7919 % 1013}", 0.01 * (n + 1)) for n in range(3000)]
    )


def version_then(zip_answer: Callable[[Callable[[bytes], None], threading.Event], None]):  # type: ignore[no-untyped-def]
    def respond(path: str, send: Callable[[bytes], None], stopping: threading.Event) -> None:
        if path.endswith("/version"):
            send(answer("200 OK", f"{V1}\n".encode()))
        elif path.endswith("/catalog.zip"):
            zip_answer(send, stopping)
        else:
            send(answer("404 Not Found", b"no\n"))

    return respond


def test_a_dripping_body_is_cut_at_the_deadline(run_cli: RunCli, tmp_path: Path) -> None:
    def dripping(send: Callable[[bytes], None], stopping: threading.Event) -> None:
        send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        drip(ARCHIVE, send, stopping, every=0.05)  # 20 bytes a second: hours for the whole

    with raw_server(version_then(dripping)) as url:
        started = time.monotonic()
        result = run_cli(
            "catalog", "update", "--base-url", f"{url}/v3", "--provider", "aws",
            "--deadline", "1.5", "--timeout", "5", "--retries", "3", timeout=60,
        )  # fmt: skip
        elapsed = time.monotonic() - started

    assert result.returncode == 2, result.stderr
    assert "within the download deadline of 1.5 s" in result.stderr
    assert "--deadline" in result.stderr and "Traceback" not in result.stderr
    assert elapsed < 15  # the deadline plus start-up on a loaded machine
    assert not (tmp_path / "cache" / "catalogs" / "aws").exists()


def test_dripping_headers_are_cut_at_the_deadline_from_the_environment(
    run_cli: RunCli,
) -> None:
    def respond(path: str, send: Callable[[bytes], None], stopping: threading.Event) -> None:
        drip(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 60000, send, stopping, every=0.05)

    with raw_server(respond) as url:
        started = time.monotonic()
        result = run_cli(
            "catalog", "show", "--catalog", f"{url}/files/aws.zip",
            env={"PLANNER_DOWNLOAD_DEADLINE": "1"}, timeout=60,
        )  # fmt: skip
        elapsed = time.monotonic() - started

    assert result.returncode == 2, result.stderr
    assert "within the download deadline of 1 s" in result.stderr
    assert elapsed < 15


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf"])
def test_a_bad_deadline_in_the_environment_is_named(run_cli: RunCli, value: str) -> None:
    result = run_cli(
        "catalog", "show", "--catalog", "http://127.0.0.1:9/x.zip",
        env={"PLANNER_DOWNLOAD_DEADLINE": value},
    )  # fmt: skip
    assert result.returncode == 2
    assert "$PLANNER_DOWNLOAD_DEADLINE" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_deadline_argument_is_checked() -> None:
    with pytest.raises(InputError):
        TransferPolicy(max_seconds=float("nan"))


def test_a_writer_waiting_for_the_lock_says_for_what(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env_path = str(ROOT)
    holder = CatalogCache(cache)
    with holder.lock("planner catalog update from http://***@mirror.example/v3"):
        waiter = subprocess.Popen(
            [sys.executable, "-m", "planner", "catalog", "update", "--base-url",
             "http://127.0.0.1:9/v3", "--provider", "aws", "--retries", "0"],
            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={"PLANNER_CACHE_DIR": str(cache), "PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert waiter.stderr is not None
        guard = threading.Timer(30, waiter.kill)  # a silent waiter would block readline forever
        guard.start()
        line = waiter.stderr.readline()  # printed while the lock is still held here
        guard.cancel()
    _, rest = waiter.communicate(timeout=60)

    assert "waiting for another planner process (pid " in line
    assert "planner catalog update from http://***@mirror.example/v3" in line
    assert str(cache) in line
    assert waiter.returncode == 2  # then it ran: port 9 refuses the connection
    assert "connection refused" in rest


# --- Content-Encoding -------------------------------------------------------------------------


def serve_encoded(body: bytes, encoding: str):  # type: ignore[no-untyped-def]
    def zip_answer(send: Callable[[bytes], None], stopping: threading.Event) -> None:
        send(answer("200 OK", body, {"Content-Encoding": encoding}))

    return version_then(zip_answer)


def test_a_gzip_encoded_body_is_decoded(run_cli: RunCli) -> None:
    with raw_server(serve_encoded(gzip.compress(ARCHIVE), "gzip")) as url:
        result = run_cli("catalog", "update", "--base-url", f"{url}/v3", "--provider", "aws")
    assert result.returncode == 0, result.stderr
    assert "downloaded" in result.stdout


@pytest.mark.parametrize(
    ("body", "encoding", "expected"),
    [
        (gzip.compress(ARCHIVE)[:-20], "gzip", "ends before its end marker"),
        (b"\x1f\x8b\x08\x00garbage-garbage", "gzip", "gzip-encoded body is corrupt"),
        (ARCHIVE, "br", "only gzip and deflate are decoded"),
    ],
    ids=["truncated", "corrupt", "brotli"],
)
def test_a_bad_encoding_is_named(
    run_cli: RunCli, body: bytes, encoding: str, expected: str
) -> None:
    with raw_server(serve_encoded(body, encoding)) as url:
        result = run_cli(
            "catalog", "update", "--base-url", f"{url}/v3", "--provider", "aws", "--retries", "0"
        )
    assert result.returncode == 2
    assert expected in result.stderr
    assert "connection was closed" not in result.stderr and "Traceback" not in result.stderr


def test_a_gzip_bomb_is_capped_on_its_decoded_size() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    body = bomb.compress(b"\0" * (8 << 20)) + bomb.flush()  # 8 MB from ~8 kB

    def respond(path: str, send: Callable[[bytes], None], stopping: threading.Event) -> None:
        send(answer("200 OK", body, {"Content-Encoding": "gzip"}))

    with raw_server(respond) as url, open_session() as session:
        sink = io.BytesIO()
        with pytest.raises(CatalogError, match="decodes to more than the 1000000 bytes"):
            download(session, f"{url}/x.zip", sink, TransferPolicy(max_bytes=1_000_000, retries=0))
    assert len(sink.getvalue()) <= 1_000_000


def test_a_full_disk_while_downloading_is_named_as_such(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE stands in for a full disk (no tmpfs mount here): writes past it fail EFBIG."""
    catalog_http_server.publish("aws", V1, archive=zip_bytes({"aws.csv": big_csv_bytes()}))

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = subprocess.run(
        [sys.executable, "-m", "planner", "catalog", "update", "--base-url",
         catalog_http_server.base_url, "--provider", "aws", "--retries", "2"],
        capture_output=True, text=True, timeout=60, preexec_fn=limit_file_size,
        env={"PLANNER_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip

    assert result.returncode == 2, result.stderr
    assert "cannot write the cache" in result.stderr and "File too large" in result.stderr
    assert "corrupt" not in result.stderr and "Traceback" not in result.stderr
    assert catalog_http_server.count(f"aws/{V1}/catalog.zip") == 1  # a disk error is no retry
