"""`planner plan --fleet` for a service with replica groups (and with `--rps`): each group may
reuse the idle fleet instances that match its own requirements, an instance takes at most one
replica over all groups, `fleets:` is honoured, and reused instances are priced as the inventory
says — checked on the example services through the CLI and against exhaustive enumeration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from brute_force import Group, Pool, cheapest
from group_catalogs import GPU, catalog, row

from planner.config.normalized import IntRange, NormalizedPort, NormalizedService
from planner.placement import PlanOptions, load_fleet
from planner.placement.group_plan import plan_groups
from planner.requirements import GroupRequirements, Requirements

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PD = EXAMPLES / "replica-groups.yml"
TWO_SIZES = EXAMPLES / "replica-groups-rps.yml"


def _instance(gpu: str, price: float, count: int, *, fleet: str = "inference") -> str:
    memory = GPU[gpu]["gpu_memory_gb"]
    return (
        f"  - {{fleet: {fleet}, backend: aws, region: us-east-1, instance_type: {gpu.lower()}-box, "
        f"price: {price}, count: {count},\n"
        f"     resources: {{cpu: 16, memory_gb: 256, gpu_count: 1, gpu_name: {gpu}, "
        f"gpu_memory_gb: {memory}}}}}\n"
    )


def _inventory(tmp_path: Path, *instances: str) -> Path:
    path = tmp_path / "fleet.yml"
    path.write_text("instances:\n" + "".join(instances))
    return path


def _open_ended(tmp_path: Path, example: Path, exact: str) -> Path:
    """``example`` with one group's exact GPU memory (``gpu: 48GB:1``) made a minimum
    (``48GB..``), so a larger GPU satisfies that group too."""
    text = example.read_text()
    assert f"gpu: {exact}:1" in text
    path = tmp_path / example.name
    path.write_text(text.replace(f"gpu: {exact}:1", f"gpu: {exact}..:1"))
    return path


def _plan(run_cli: Any, service: Path, *args: str) -> dict[str, Any]:
    result = run_cli("plan", str(service), "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["status"] == "optimal"
    return document


def _existing(document: dict[str, Any]) -> dict[str, int]:
    used: dict[str, int] = {}
    for placement in document["placements"]:
        if placement["capacity_type"] == "existing":
            used[placement["group"]] = used.get(placement["group"], 0) + placement["count"]
    return used


def _costs_add_up(document: dict[str, Any]) -> None:
    placed = sum(p["hourly_price"] * p["count"] for p in document["placements"])
    per_group = sum(group["hourly_cost"] for group in document["groups"])
    assert document["hourly_cost"] == pytest.approx(placed)
    assert document["hourly_cost"] == pytest.approx(per_group)


def test_an_instance_two_groups_can_use_is_reused_once(run_cli: Any, tmp_path: Path) -> None:
    # An idle 1xH100 instance satisfies prefill (H100:1) and decode (48GB..:1) alike.
    service = _open_ended(tmp_path, PD, "48GB")
    without = _plan(run_cli, service)
    one = _plan(run_cli, service, "--fleet", str(_inventory(tmp_path, _instance("H100", 0.01, 1))))
    assert _existing(one) == {"prefill": 1}  # where it saves most, and only there
    (reused,) = [p for p in one["placements"] if p["capacity_type"] == "existing"]
    assert reused["hourly_price"] == 0.01 and reused["offer"]["instance_type"] == "h100-box"
    groups = {group["group"]: group for group in one["groups"]}
    assert groups["prefill"]["hourly_cost"] == pytest.approx(0.01)
    prefill_before = sum(g["hourly_cost"] for g in without["groups"] if g["group"] == "prefill")
    assert one["hourly_cost"] == pytest.approx(without["hourly_cost"] - prefill_before + 0.01)
    _costs_add_up(one)
    assert "fleet: 1 of 1 idle instance(s) satisfy the configuration" in one["notes"]
    # Two such instances: each group takes one, so either group could use it.
    two = _plan(run_cli, service, "--fleet", str(_inventory(tmp_path, _instance("H100", 0.01, 2))))
    assert _existing(two) == {"prefill": 1, "decode": 1}
    _costs_add_up(two)


def test_instance_records_that_differ_are_capacities_of_their_own(
    run_cli: Any, tmp_path: Path
) -> None:
    # One instance type in one fleet, two records (different disks): two instances, each
    # reused once, so each group gets one.
    service = _open_ended(tmp_path, PD, "48GB")
    first = _instance("H100", 0.01, 1).replace("memory_gb: 256,", "memory_gb: 256, disk_gb: 100,")
    second = first.replace("disk_gb: 100", "disk_gb: 200")
    document = _plan(run_cli, service, "--fleet", str(_inventory(tmp_path, first, second)))
    assert _existing(document) == {"prefill": 1, "decode": 1}
    assert "fleet: 2 of 2 idle instance(s) satisfy the configuration" in document["notes"]
    _costs_add_up(document)


def test_reused_instances_cost_what_a_single_group_plan_says(run_cli: Any, tmp_path: Path) -> None:
    inventory = str(_inventory(tmp_path, _instance("H100", 0.01, 1)))
    single = tmp_path / "single.yml"
    single.write_text("type: service\nport: 8000\ncommands: [serve]\nresources: {gpu: H100:1}\n")
    alone = json.loads(
        run_cli("plan", str(single), "--format", "json", "--fleet", inventory).stdout
    )
    grouped = _plan(run_cli, PD, "--fleet", inventory)
    (single_reused,) = [p for p in alone["placements"] if p["capacity_type"] == "existing"]
    (group_reused,) = [p for p in grouped["placements"] if p["capacity_type"] == "existing"]
    assert group_reused["hourly_price"] == single_reused["hourly_price"] == 0.01
    assert group_reused["offer"] == single_reused["offer"]


def test_fleets_naming_another_fleet_prevents_reuse(run_cli: Any, tmp_path: Path) -> None:
    inventory = str(_inventory(tmp_path, _instance("H100", 0.01, 1)))
    for fleets, reused, matched in (("[batch]", {}, 0), ("[inference]", {"prefill": 1}, 1)):
        service = tmp_path / "pd.yml"
        service.write_text(PD.read_text() + f"fleets: {fleets}\n")
        document = _plan(run_cli, service, "--fleet", inventory)
        assert _existing(document) == reused, fleets
        assert (
            f"fleet: {matched} of 1 idle instance(s) satisfy the configuration"
            in (document["notes"])
        )
        _costs_add_up(document)


def test_rps_with_a_fleet_reuses_the_instance_once(run_cli: Any, tmp_path: Path) -> None:
    # A 48 GB instance fits the 48 GB group and the 24GB.. group of one model.
    service = _open_ended(tmp_path, TWO_SIZES, "24GB")
    inventory = str(_inventory(tmp_path, _instance("L40S", 0.1, 1)))
    without = _plan(run_cli, service, "--rps", "40")
    document = _plan(run_cli, service, "--rps", "40", "--fleet", inventory)
    assert sum(_existing(document).values()) == 1
    served = sum(g["target_replicas"] * g["rps_target"] for g in document["groups"])
    assert served >= 40
    assert document["hourly_cost"] < without["hourly_cost"]
    _costs_add_up(document)
    for step in document["rps_curve"]:
        (before,) = [
            s for s in without["rps_curve"] if s["rps_from"] < step["rps_to"] <= s["rps_to"]
        ]
        assert step["hourly_cost"] <= before["hourly_cost"] + 1e-9


ROWS = [
    row("aws", "us-east-1", "g6e.l40s", 1.0, "L40S"),
    row("gcp", "us-central1", "g2-l40s", 1.1, "L40S"),
    row("aws", "us-east-1", "g6.l4", 0.45, "L4"),
    row("gcp", "us-central1", "g2-l4", 0.5, "L4"),
]
SERVICE = NormalizedService(
    port=NormalizedPort(container_port=8000), replicas=IntRange(min=1, max=1)
)


def _group(name: str, memory: float, replicas: tuple[int, int], target: float) -> GroupRequirements:
    return GroupRequirements(
        name=name,
        requirements=Requirements(min_gpu_memory_gb=memory, min_gpu_count=1, max_gpu_count=1),
        min_replicas=replicas[0],
        max_replicas=replicas[1],
        spot_policy="on-demand",
        scaling_metric="rps",
        scaling_target=target,
    )


@pytest.mark.parametrize("count", [1, 2])
def test_rps_with_a_fleet_is_the_exhaustive_minimum(tmp_path: Path, count: int) -> None:
    """Every traffic level of the cost curve against enumeration of group sizes and pools,
    the fleet instances being one capacity of ``count`` in both groups."""
    big = _group("big", 48, (1, 3), 20)
    small = _group("small", 24, (1, 4), 8)  # a 48 GB GPU serves it too
    fleet = load_fleet(_inventory(tmp_path, _instance("L40S", 0.2, count)))
    result = plan_groups(
        (big, small),
        catalog(ROWS),
        service=SERVICE,
        options=PlanOptions(rps=1, explain=False),
        rows=True,
        fleet=fleet,
    )
    reused = Pool(0.2, "aws/us-east-1", "fleet", capacity=count)
    pools = {
        gpu: tuple(
            Pool(r["price"], f"{r['provider']}/{r['region']}", r["instance_type"])
            for r in ROWS
            if r["gpu_memory_gb"] >= GPU[gpu]["gpu_memory_gb"]
        )
        for gpu in ("L40S", "L4")
    }
    oracle_groups = [
        Group((*pools["L40S"], reused), 1, 3, "rps", rps_target=20),
        Group((*pools["L4"], reused), 1, 4, "rps", rps_target=8),
    ]
    no_fleet = [Group(g.pools[:-1], g.low, g.high, g.role, g.rps_target) for g in oracle_groups]
    curve = result.rps_curve
    assert curve[-1].rps_to == 3 * 20 + 4 * 8
    cheaper = 0
    for level in range(1, 93):
        (step,) = [s for s in curve if s.rps_from < level <= s.rps_to]
        oracle = cheapest(oracle_groups, rps=level)
        assert oracle is not None
        assert step.hourly_cost == pytest.approx(oracle[0]), level
        alone = cheapest(no_fleet, rps=level)
        assert alone is not None
        cheaper += oracle[0] < alone[0] - 1e-9
    assert cheaper > 0  # the fleet instance changes the answer
    reused_count = sum(p.count for p in result.placements if p.capacity_type == "existing")
    assert 1 <= reused_count <= count
