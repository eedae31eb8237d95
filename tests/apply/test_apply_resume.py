"""An apply killed halfway, then run again, ends with exactly the planned instances."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from apply_files import apply_args, live_in_cloud, state_records, write_inputs

from planner.backends.simulated import CRASH_EXIT_CODE


def _assert_exactly_the_plan(files: dict[str, Path], output: dict, replicas: int) -> None:
    assert output["complete"] is True
    slots = {slot["slot"]: slot["instance"]["instance_id"] for slot in output["slots"]}
    assert len(slots) == replicas
    live = live_in_cloud(files)
    # One instance per planned replica in the cloud — none twice, no orphan.
    assert sorted(item["tags"]["planner:replica"] for item in live) == sorted(slots)
    assert {item["instance_id"] for item in live} == set(slots.values())
    running = [r for r in state_records(files) if r["status"] == "running"]
    assert {r["instance_id"] for r in running} == set(slots.values())
    assert not [r for r in state_records(files) if r["status"] == "creating"]


def test_a_crash_right_after_a_create_then_a_rerun(run_cli, tmp_path: Path) -> None:
    # The crash-injection hook ends the process after the 2nd instance exists at the provider
    # and before apply hears of it: the state file has that create as "creating".
    files = write_inputs(tmp_path, replicas=3, scenario="crash_after_creates: 2\n")
    crashed = run_cli(*apply_args(files))
    assert crashed.returncode == CRASH_EXIT_CODE
    statuses = [(r["slot"], r["status"]) for r in state_records(files)]
    assert statuses == [("p0r0", "running"), ("p0r1", "creating")]
    assert len(live_in_cloud(files)) == 2
    rerun = run_cli(*apply_args(files, "--format", "json"))
    assert rerun.returncode == 0, rerun.stderr
    output = json.loads(rerun.stdout)
    assert [slot["status"] for slot in output["slots"]] == ["kept", "kept", "created"]
    _assert_exactly_the_plan(files, output, 3)
    # A third run changes nothing.
    third = json.loads(run_cli(*apply_args(files, "--format", "json")).stdout)
    assert [slot["status"] for slot in third["slots"]] == ["kept"] * 3
    _assert_exactly_the_plan(files, third, 3)


def test_a_real_kill_halfway_then_a_rerun(tmp_path: Path) -> None:
    # Each create takes 0.8 s; the process is killed (SIGKILL) once the state file shows the
    # first instance running, while the second create is under way.
    files = write_inputs(tmp_path, replicas=4, scenario="create_delay_seconds: 0.8\n")
    env = {**os.environ, "PLANNER_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "planner", *apply_args(files)]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if files["state"].exists() and any(r["status"] == "running" for r in state_records(files)):
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    before = live_in_cloud(files)
    assert 1 <= len(before) < 4
    rerun = subprocess.run(
        [*command, "--format", "json"], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    output = json.loads(rerun.stdout)
    _assert_exactly_the_plan(files, output, 4)
    # What existed before the kill is part of the result, not replaced by a second instance.
    final = {slot["instance"]["instance_id"] for slot in output["slots"]}
    assert {item["instance_id"] for item in before} <= final
    assert "created" in {slot["status"] for slot in output["slots"]}
