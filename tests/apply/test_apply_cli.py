"""`planner apply` / `planner destroy` end to end on the simulated backend, as real subprocesses."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from apply_files import apply_args, cloud_instances, live_in_cloud, state_records, write_inputs


def _json(result) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(result.stdout)


def test_no_capacity_on_the_first_choice_moves_to_the_next_fallback(
    run_cli, tmp_path: Path
) -> None:
    files = write_inputs(
        tmp_path,
        replicas=2,
        scenario="pools:\n  - {instance_type: m5.large, region: us-east-1, capacity: 1}\n",
    )
    result = run_cli(*apply_args(files, "--format", "json"))
    assert result.returncode == 0, result.stderr
    output = _json(result)
    first, second = output["slots"]
    assert (first["status"], first["instance"]["region"]) == ("created", "us-east-1")
    # The pool had room for one: the second replica got "no capacity" there, then the next
    # cheapest pool of its fallback chain.
    assert second["status"] == "created"
    assert second["events"] == ["no-capacity"]
    assert [a["request"]["region"] for a in second["attempts"]] == ["us-east-1", "us-west-2"]
    assert [a["event"] for a in second["attempts"]] == ["no-capacity", None]
    assert second["instance"]["region"] == "us-west-2"
    assert output["hourly_cost"] == 0.196 and output["complete"] is True
    # Every created instance is in the result, the state file and the cloud, and nothing else.
    created = {slot["instance"]["instance_id"] for slot in output["slots"]}
    running = {r["instance_id"] for r in state_records(files) if r["status"] == "running"}
    assert created == running == {item["instance_id"] for item in live_in_cloud(files)}
    assert len(created) == 2
    # The table names the event and where the replica went.
    table = run_cli(*apply_args(files))
    assert table.returncode == 0
    assert "kept" in table.stdout and "us-west-2" in table.stdout


def test_an_event_the_retry_policy_does_not_list_stops_the_replica(run_cli, tmp_path: Path) -> None:
    files = write_inputs(
        tmp_path,
        replicas=1,
        retry="retry:\n  on_events: [no-capacity]\n  duration: 1h\n",
        scenario="pools:\n  - {region: us-east-1, error: 'InternalError: try later'}\n",
    )
    result = run_cli(*apply_args(files, "--format", "json"))
    assert result.returncode == 1, result.stderr
    (slot,) = _json(result)["slots"]
    assert slot["status"] == "failed" and slot["stop_reason"] == "event-not-retried"
    assert [a["event"] for a in slot["attempts"]] == ["error"]
    assert "InternalError: try later" in slot["attempts"][0]["message"]
    assert live_in_cloud(files) == []
    # The same error with `error` listed goes on to the fallback.
    files = write_inputs(
        tmp_path / "listed",
        replicas=1,
        retry="retry:\n  on_events: [no-capacity, error]\n  duration: 1h\n",
        scenario="pools:\n  - {region: us-east-1, error: 'InternalError: try later'}\n",
    )
    result = run_cli(*apply_args(files, "--format", "json"))
    assert result.returncode == 0, result.stderr
    (slot,) = _json(result)["slots"]
    assert [a["event"] for a in slot["attempts"]] == ["error", None]
    assert slot["instance"]["region"] == "us-west-2"


def test_without_retry_no_capacity_ends_at_the_first_choice(run_cli, tmp_path: Path) -> None:
    files = write_inputs(tmp_path, replicas=1, retry="", scenario="default_capacity: 0\n")
    result = run_cli(*apply_args(files))
    assert result.returncode == 1
    assert "no-capacity" in result.stdout
    assert "retry policy does not list this event" in result.stdout


def test_retry_stops_when_the_duration_has_passed(run_cli, tmp_path: Path) -> None:
    # No pool has capacity and each create takes 0.7 s: with `duration: 1s` the first attempt
    # ends at 0.7 s (go on), the second at 1.4 s (stop) — the third pool is never tried.
    scenario = "default_capacity: 0\ncreate_delay_seconds: 0.7\n"
    files = write_inputs(
        tmp_path,
        replicas=1,
        retry="retry:\n  on_events: [no-capacity]\n  duration: 1s\n",
        scenario=scenario,
    )
    result = run_cli(*apply_args(files, "--format", "json"))
    assert result.returncode == 1, result.stderr
    (slot,) = _json(result)["slots"]
    assert slot["stop_reason"] == "duration-exceeded"
    assert [a["request"]["region"] for a in slot["attempts"]] == ["us-east-1", "us-west-2"]
    assert slot["seconds"] >= 1.4
    # With an hour, the whole chain is tried and it ends because the chain does.
    files = write_inputs(
        tmp_path / "hour",
        replicas=1,
        retry="retry:\n  on_events: [no-capacity]\n  duration: 1h\n",
        scenario="default_capacity: 0\n",
    )
    (slot,) = _json(run_cli(*apply_args(files, "--format", "json")))["slots"]
    assert slot["stop_reason"] == "fallbacks-exhausted"
    assert [a["request"]["region"] for a in slot["attempts"]] == [
        "us-east-1",
        "us-west-2",
        "eu-west-1",
    ]


def test_destroy_leaves_nothing_and_a_second_destroy_has_nothing_to_do(
    run_cli, tmp_path: Path
) -> None:
    files = write_inputs(tmp_path, replicas=3)
    assert run_cli(*apply_args(files)).returncode == 0
    assert len(live_in_cloud(files)) == 3
    destroyed = run_cli(
        "destroy", "--state", str(files["state"]), "--backends", str(files["backends"]),
        "--format", "json",
    )  # fmt: skip
    assert destroyed.returncode == 0, destroyed.stderr
    output = _json(destroyed)
    assert output["terminated"] == 3 and output["complete"] is True
    assert live_in_cloud(files) == []
    assert len(cloud_instances(files)) == 3
    assert {r["status"] for r in state_records(files)} == {"terminated"}
    again = run_cli("destroy", "--state", str(files["state"]), "--backends", str(files["backends"]))
    assert again.returncode == 0 and "nothing to terminate" in again.stdout
    # Applying again after destroy creates the plan anew (new client tokens, new instances).
    assert run_cli(*apply_args(files)).returncode == 0
    assert len(live_in_cloud(files)) == 3 and len(cloud_instances(files)) == 6


def test_dry_run_prints_the_calls_and_creates_nothing(run_cli, tmp_path: Path) -> None:
    files = write_inputs(tmp_path, replicas=2)
    result = run_cli(*apply_args(files, "--dry-run"))
    assert result.returncode == 0, result.stderr
    calls = [line for line in result.stdout.splitlines() if line.strip().startswith("create(")]
    assert len(calls) == 2
    assert "backend=sim" in calls[0] and "market=on-demand" in calls[0]
    assert "planner:service=web" in calls[0] and "client_token=plnr-" in calls[0]
    assert not files["cloud"].exists() and not files["state"].exists()
    # The dry run's client tokens are the ones the real run then uses.
    real = _json(run_cli(*apply_args(files, "--format", "json")))
    tokens = [slot["instance"]["client_token"] for slot in real["slots"]]
    assert all(f"client_token={token}" in result.stdout for token in tokens)


def test_an_interrupted_spot_instance_is_replaced_in_another_domain(
    run_cli, tmp_path: Path
) -> None:
    files = write_inputs(
        tmp_path,
        replicas=1,
        spot_policy="auto",
        retry="retry:\n  on_events: [no-capacity, interruption]\n  duration: 1h\n",
        scenario="interruptions:\n  - {region: us-east-1, after_seconds: 1}\n",
    )
    first = _json(run_cli(*apply_args(files, "--format", "json")))
    assert first["complete"], first
    placed = {(s["instance"]["region"], s["market"]) for s in first["slots"]}
    assert ("us-east-1", "spot") in placed
    time.sleep(1.1)  # the scenario interrupts us-east-1's spot instances after a second
    second = run_cli(*apply_args(files, "--format", "json"))
    assert second.returncode == 0, second.stderr
    replaced = [s for s in _json(second)["slots"] if s["events"] == ["interruption"]]
    assert len(replaced) == 1 and replaced[0]["status"] == "created"
    assert replaced[0]["instance"]["region"] != "us-east-1"
    statuses = [r["status"] for r in state_records(files)]
    assert statuses.count("interrupted") == 1


def test_the_readme_example_runs(run_cli, repo_dir: Path, tmp_path: Path) -> None:
    demo = tmp_path / "apply-demo"
    shutil.copytree(repo_dir / "examples" / "apply", demo)
    service = str(repo_dir / "examples" / "spot-retry.yml")
    backends = str(demo / "backends.yml")
    state = str(demo / "state.json")
    dry = run_cli("apply", service, "--backends", backends, "--dry-run")
    assert dry.returncode == 0 and dry.stdout.count("create(") == 3
    applied = run_cli(
        "apply", service, "--backends", backends, "--state", state, "--format", "json"
    )
    assert applied.returncode == 0, applied.stderr
    slots = json.loads(applied.stdout)["slots"]
    # The scenario has no spot capacity in FIN-01: that replica went down its chain.
    assert [slot["events"] for slot in slots] == [["no-capacity"], [], []]
    destroyed = run_cli("destroy", "--state", state, "--backends", backends)
    assert destroyed.returncode == 0 and "3 of 3 instance(s) terminated" in destroyed.stdout
