"""A real EC2 emulator for the AWS plugin's tests: moto in server mode, started by the tests as a
subprocess on 127.0.0.1 (a free port), reset between tests, torn down at the end.

What moto does not emulate (capacity reservations, the Pricing API) is tested with botocore's
Stubber instead, in the tests that say so (see docs/backends.md).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aws_files import DUMMY_ENV, free_port

# boto3 and moto[server] are test extras; without them (a bare install) these tests are not
# collected at all, rather than failing on their imports.
if importlib.util.find_spec("boto3") is None or importlib.util.find_spec("moto") is None:
    collect_ignore_glob = ["test_*.py"]

SERVER_START_SECONDS = 30


def moto_command(port: int) -> list[str]:
    """``moto_server`` when installed as a command, else ``python -m moto.server``."""
    found = shutil.which("moto_server")
    base = [found] if found else [sys.executable, "-m", "moto.server"]
    return [*base, "-H", "127.0.0.1", "-p", str(port)]


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer at {url} within {SERVER_START_SECONDS} s")


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a moto server this test session started (terminated at the end)."""
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "server.log").open("wb")
    process = subprocess.Popen(moto_command(port), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def moto(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``moto_url`` with an empty emulated account and dummy credentials in the environment."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    for name, value in DUMMY_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    return moto_url


@pytest.fixture
def backends_file(tmp_path: Path, moto: str) -> Callable[..., Path]:
    """Write a backends file with one ``aws`` backend pointed at the emulator."""

    def write(**settings: object) -> Path:
        values = {
            "regions": ["us-east-1", "us-west-2"],
            "endpoint_url": moto,
            "on_demand_prices": "catalog",
            "image_id": "ami-12345678",
            "poll_seconds": 0.1,
            **settings,
        }
        lines = ["backends:", "  aws:", "    type: aws"]
        for key, value in values.items():
            shown = (
                "[" + ", ".join(str(item) for item in value) + "]"
                if isinstance(value, list)
                else str(value)
            )
            lines.append(f"    {key}: {shown}")
        path = tmp_path / "backends.yml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write
