"""Two `planner apply` (or an apply and a destroy) on one state file at once: the second exits 2
at once, naming the state file and the first run's pid; only the first provisions. A lock left
by a run that has ended (its pid dead) never blocks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from apply_files import apply_args, live_in_cloud, state_records, write_inputs


def _start(files: dict[str, Path], tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PLANNER_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "planner", *apply_args(files, "--format", "json")]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # The state file is written before the first create call: from then on the run is creating.
    deadline = time.monotonic() + 60
    while not files["state"].exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert files["state"].exists() and process.poll() is None
    return process


def test_a_second_apply_and_a_destroy_wait_their_turn(run_cli, tmp_path: Path) -> None:
    # Each create takes 4 s: the first run holds the state file for about 8 s.
    files = write_inputs(tmp_path, replicas=2, scenario="create_delay_seconds: 4\n")
    first = _start(files, tmp_path)
    second = run_cli(*apply_args(files, "--format", "json"))
    destroy = run_cli(
        "destroy", "--state", str(files["state"]), "--backends", str(files["backends"])
    )
    still_running = first.poll() is None
    for result, command in ((second, "apply"), (destroy, "destroy")):
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        message = result.stderr
        assert str(files["state"]) in message and f"pid {first.pid}" in message, message
        assert f"planner {command}" in message and "Traceback" not in message
    assert still_running, "the first apply ended before the others ran: not a race"
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    output = json.loads(out)
    # Only the first run provisioned: one instance per replica, none twice.
    assert [slot["status"] for slot in output["slots"]] == ["created", "created"]
    assert len(live_in_cloud(files)) == 2
    assert [r["status"] for r in state_records(files)] == ["running", "running"]
    # The lock file stays, naming a process that has ended: it blocks nobody.
    lock = files["state"].with_name("state.json.lock")
    assert lock.read_text().strip() == str(first.pid)
    again = run_cli(*apply_args(files, "--format", "json"))
    assert again.returncode == 0, again.stderr
    assert [slot["status"] for slot in json.loads(again.stdout)["slots"]] == ["kept", "kept"]
    gone = run_cli("destroy", "--state", str(files["state"]), "--backends", str(files["backends"]))
    assert gone.returncode == 0, gone.stderr
    assert live_in_cloud(files) == []


def test_a_killed_holder_leaves_no_lock(run_cli, tmp_path: Path) -> None:
    files = write_inputs(tmp_path, replicas=2, scenario="create_delay_seconds: 4\n")
    first = _start(files, tmp_path)
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=30) == -signal.SIGKILL
    lock = files["state"].with_name("state.json.lock")
    assert lock.read_text().strip() == str(first.pid)  # a dead pid, in a lock nobody holds
    # The destroy finds the create that was under way (by its client token) or marks it failed.
    destroy = run_cli(
        "destroy", "--state", str(files["state"]), "--backends", str(files["backends"])
    )
    assert destroy.returncode == 0, destroy.stderr
    assert live_in_cloud(files) == []
