"""`planner apply` / `planner destroy` through the AWS plugin against the EC2 emulator (moto
server): a plan with spot and on-demand placements creates exactly those instances, with the right
types, markets and tags; destroy terminates them; a retried create with the same client token
creates one instance."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

from planner.backends.base import (
    TAG_CLIENT_TOKEN,
    TAG_PLAN,
    TAG_REPLICA,
    TAG_SERVICE,
    InstanceRequest,
)
from planner.backends.registry import open_backend
from planner.backends.settings import load_backends

SERVICE = """\
type: service
name: moto-mix
image: vllm/vllm-openai:v0.6.3
commands: [vllm serve Qwen/Qwen2.5-1.5B-Instruct]
port: 8000
replicas: 2
backends: [aws]
regions: [us-east-1, us-west-2]
resources:
  gpu: A10G:1
spot_policy: auto
retry:
  on_events: [no-capacity, interruption, error]
  duration: 1h
"""
# One spot instance per region at most: the plan then mixes spot and on-demand placements.
CAPACITY = """\
backend,region,instance_type,spot,capacity,interruption,reservation,price
aws,*,*,true,0,,,
aws,us-west-2,g5.xlarge,true,2,<5%,,
aws,us-east-1,g5.xlarge,true,1,<5%,,
"""
REGIONS = ("us-east-1", "us-west-2")


def emulated_instances(moto: str) -> list[dict[str, Any]]:
    """Every instance the emulator holds, read with plain boto3 (the provider's truth)."""
    found = []
    for region in REGIONS:
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=moto)
        for reservation in ec2.describe_instances()["Reservations"]:
            for instance in reservation["Instances"]:
                found.append({**instance, "_region": region})
    return found


def _live(instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in instances if item["State"]["Name"] != "terminated"]


def _tags(instance: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in instance.get("Tags", ())}


def _inputs(tmp_path: Path, backends_file) -> dict[str, Path]:
    service = tmp_path / "service.yml"
    service.write_text(SERVICE, encoding="utf-8")
    capacity = tmp_path / "capacity.csv"
    capacity.write_text(CAPACITY, encoding="utf-8")
    return {
        "service": service,
        "capacity": capacity,
        "backends": backends_file(),
        "state": tmp_path / "state.json",
    }


def _planned(run_cli, files: dict[str, Path]) -> Counter[tuple[str, str, bool]]:
    """(instance type, region, spot) of every instance `planner plan` places, with counts."""
    result = run_cli(
        "plan", str(files["service"]), "--capacity", str(files["capacity"]), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    planned: Counter[tuple[str, str, bool]] = Counter()
    for placement in json.loads(result.stdout)["placements"]:
        offer = placement["offer"]
        planned[(offer["instance_type"], offer["region"], bool(offer["spot"]))] += placement[
            "count"
        ]
    return planned


def _apply(run_cli, files: dict[str, Path]) -> Any:
    return run_cli(
        "apply", str(files["service"]), "--backends", str(files["backends"]),
        "--capacity", str(files["capacity"]), "--state", str(files["state"]),
        "--wait-timeout", "60", "--format", "json",
    )  # fmt: skip


def test_apply_creates_the_planned_spot_and_on_demand_instances(run_cli, moto, backends_file,
                                                                tmp_path) -> None:  # fmt: skip
    files = _inputs(tmp_path, backends_file)
    planned = _planned(run_cli, files)
    markets = {spot for (_, _, spot) in planned}
    assert markets == {True, False}, f"the plan must mix spot and on-demand: {planned}"

    result = _apply(run_cli, files)
    assert result.returncode == 0, result.stderr

    live = _live(emulated_instances(moto))
    created = Counter(
        (item["InstanceType"], item["_region"], item.get("InstanceLifecycle") == "spot")
        for item in live
    )
    assert created == planned
    state = json.loads(files["state"].read_text(encoding="utf-8"))
    for item in live:
        tags = _tags(item)
        assert tags[TAG_SERVICE] == "moto-mix"
        assert tags[TAG_PLAN] == state["plan_id"]
        assert tags[TAG_CLIENT_TOKEN].startswith("plnr-")
        assert item["State"]["Name"] == "running"
        if item.get("InstanceLifecycle") == "spot":
            assert item["Placement"]["AvailabilityZone"].startswith(item["_region"])
    replicas = [_tags(item)[TAG_REPLICA] for item in live]
    assert len(set(replicas)) == len(replicas) == sum(planned.values())
    recorded = {record["instance_id"] for record in state["records"] if record["instance_id"]}
    assert recorded == {item["InstanceId"] for item in live}

    # Applying again creates nothing more (the state and the client-token tags find them).
    again = _apply(run_cli, files)
    assert again.returncode == 0, again.stderr
    assert len(_live(emulated_instances(moto))) == len(live)

    # Destroy terminates every instance the state lists; the emulator keeps none running.
    destroyed = run_cli(
        "destroy", "--state", str(files["state"]), "--backends", str(files["backends"])
    )
    assert destroyed.returncode == 0, destroyed.stderr
    after = emulated_instances(moto)
    assert {item["InstanceId"] for item in after} == {item["InstanceId"] for item in live}
    assert _live(after) == []
    backend = open_backend(load_backends(files["backends"]).backends[0])
    assert backend.list_created("moto-mix") == ()


def test_a_retried_create_with_the_same_client_token_creates_one_instance(moto, backends_file):
    config = load_backends(backends_file()).backends[0]
    request = InstanceRequest(
        instance_type="g5.xlarge",
        region="us-west-2",
        market="on-demand",
        client_token="retry-token-1",
        tags={TAG_SERVICE: "retry", TAG_REPLICA: "r0", TAG_PLAN: "p"},
    )
    # Two backend objects: the second knows nothing of the first (as after a crash).
    first = open_backend(config).create(request)
    second = open_backend(config).create(request)
    assert second.instance_id == first.instance_id
    tagged = [
        item for item in _live(emulated_instances(moto))
        if _tags(item).get(TAG_CLIENT_TOKEN) == "retry-token-1"
    ]  # fmt: skip
    assert [item["InstanceId"] for item in tagged] == [first.instance_id]
    assert tagged[0]["ClientToken"] == "retry-token-1"
    assert first.market == "on-demand" and "InstanceLifecycle" not in tagged[0]
    # Another token is another instance.
    other = open_backend(config).create(
        InstanceRequest(**{**request.__dict__, "client_token": "retry-token-2"})
    )
    assert other.instance_id != first.instance_id


def test_wait_terminate_and_list_created(moto, backends_file) -> None:
    backend = open_backend(load_backends(backends_file()).backends[0])
    request = InstanceRequest(
        instance_type="g4dn.xlarge",
        region="us-east-1",
        market="spot",
        client_token="spot-1",
        tags={TAG_SERVICE: "lister", TAG_REPLICA: "r0", TAG_PLAN: "p"},
        offer={"price": 0.2, "provider_data": json.dumps({"zone": "us-east-1c"})},
    )
    created = backend.create(request)
    running = backend.wait_until_running(created.instance_id, timeout_seconds=30)
    assert (running.state, running.market, running.hourly_price) == ("running", "spot", 0.2)
    (described,) = [
        item for item in emulated_instances(moto) if item["InstanceId"] == created.instance_id
    ]
    assert described["Placement"]["AvailabilityZone"] == "us-east-1c"
    assert [item.instance_id for item in backend.list_created("lister")] == [created.instance_id]
    assert backend.terminate(created.instance_id).state == "terminated"
    assert backend.list_created("lister") == ()
    assert backend.terminate(created.instance_id).state == "terminated"  # idempotent
