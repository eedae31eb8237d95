"""boto3 and the AWS plugin are loaded only when an AWS backend is used: `planner offers`,
`planner plan` and `planner report` import neither (checked in a fresh interpreter's
sys.modules after the real CLI ran)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SERVICE = REPO / "examples" / "service.yml"
PROBE = """
import json, sys
from planner.cli import main
code = main(sys.argv[1:])
loaded = sorted(name for name in ("boto3", "botocore", "planner.backends.aws") if name in sys.modules)
print("LOADED " + json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def _loaded(*args: str, cwd: Path) -> tuple[int, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**_env(cwd), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    line = next(line for line in result.stderr.splitlines() if line.startswith("LOADED "))
    found = json.loads(line.removeprefix("LOADED "))
    return found["code"], found["loaded"]


def _env(cwd: Path) -> dict[str, str]:
    import os

    return {**os.environ, "PLANNER_CACHE_DIR": str(cwd / "cache"), "NO_COLOR": "1"}


@pytest.mark.parametrize(
    "args",
    [
        ("offers", str(SERVICE), "--max-offers", "3"),
        ("plan", str(SERVICE), "--time-limit", "5"),
        ("report", str(SERVICE), "--format", "json"),
    ],
    ids=["offers", "plan", "report"],
)
def test_offers_plan_and_report_never_import_boto3(args: tuple[str, ...], tmp_path: Path) -> None:
    code, loaded = _loaded(*args, cwd=tmp_path)
    assert code == 0
    assert loaded == []


def test_the_probe_sees_boto3_when_an_aws_backend_is_used(tmp_path: Path) -> None:
    pytest.importorskip("boto3")
    with socket.socket() as probe:  # a port nothing listens on: the query fails fast
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backends = tmp_path / "backends.yml"
    backends.write_text(
        f"backends:\n  aws:\n    type: aws\n    endpoint_url: http://127.0.0.1:{port}\n",
        encoding="utf-8",
    )
    code, loaded = _loaded(
        "offers", str(SERVICE), "--live", "--backends", str(backends), cwd=tmp_path
    )
    assert code == 2
    assert "boto3" in loaded and "planner.backends.aws" in loaded
