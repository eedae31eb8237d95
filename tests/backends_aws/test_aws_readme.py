"""The README's `planner apply` walk-through against a local moto server runs as written: the
block after the `aws-moto-steps` marker is executed verbatim by bash, from the repository root,
with only its two overridable variables (MOTO_PORT, DEMO) set to a free port and a temporary
directory."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from aws_files import free_port

REPO = Path(__file__).resolve().parents[2]
MARKER = "<!-- aws-moto-steps -->"


def readme_steps() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    after = text[text.index(MARKER) + len(MARKER) :]
    found = re.match(r"\s*```bash\n(.*?)\n```", after, re.DOTALL)
    assert found, "the README's moto steps are a bash block right after the marker"
    return found.group(1)


def test_readme_moto_steps_run_as_written(tmp_path: Path) -> None:
    for command in ("moto_server", "planner"):
        if shutil.which(command) is None:
            pytest.skip(f"{command} is not on PATH (pip install '.[aws]' 'moto[server]')")
    steps = readme_steps()
    demo = tmp_path / "demo"
    env = {
        **os.environ,
        "MOTO_PORT": str(free_port()),
        "DEMO": str(demo),
        "PLANNER_CACHE_DIR": str(tmp_path / "cache"),
        "NO_COLOR": "1",
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    process = subprocess.Popen(
        ["bash", "-e", "-c", steps],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the server goes with it below
    )
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    assert process.returncode == 0, stderr

    # offers --live: rows of the emulator's API (the A10G instance types).
    assert "g5.xlarge" in stdout and "A10G" in stdout
    # apply: every record of the state file is an instance the emulator created and ran.
    state = json.loads((demo / "state.json").read_text(encoding="utf-8"))
    created = [record for record in state["records"] if record["instance_id"]]
    assert len(created) >= 2
    for record in created:
        assert record["backend"] == "aws"
        assert record["instance_id"].startswith("i-")
        assert record["request"]["tags"]["planner:service"] == "moto-demo"
        assert record["instance_id"] in stdout
    # destroy: it says it terminated each of them.
    for record in created:
        lines = [line for line in stdout.splitlines() if record["instance_id"] in line]
        assert any("terminated" in line.split() for line in lines), lines
    assert "Traceback" not in stderr
