"""`fleets:` (dstack 0.22.5): only instances of the named fleets are reused; without a fleet
inventory the plan says that it cannot check them."""

from __future__ import annotations

from pathlib import Path

import planner
from planner.placement import load_fleet
from planner.placement.notes import FleetMatched, FleetsUnchecked

SERVICE = "type: service\nport: 8000\ncommands: [serve]\nresources: {gpu: A10G:1}\n"
INVENTORY = """instances:
  - {fleet: inference, backend: aws, region: us-east-1, instance_type: g5.xlarge, price: 1.0, count: 2,
     resources: {cpu: 4, memory_gb: 16, gpu_count: 1, gpu_name: A10G, gpu_memory_gb: 24}}
  - {fleet: batch, backend: aws, region: us-west-2, instance_type: g5.xlarge, price: 0.5, count: 3,
     resources: {cpu: 4, memory_gb: 16, gpu_count: 1, gpu_name: A10G, gpu_memory_gb: 24}}
"""  # fmt: skip


def _plan(tmp_path: Path, extra: str, inventory: bool) -> planner.placement.Plan:
    service = tmp_path / "service.yml"
    service.write_text(SERVICE + extra)
    fleet = None
    if inventory:
        path = tmp_path / "fleet.yml"
        path.write_text(INVENTORY)
        fleet = load_fleet(path)
    return planner.plan(
        planner.load_config(service),
        planner.Catalog.load(),
        fleet=fleet,
        options=planner.PlanOptions(explain=False),
    )


def test_only_the_named_fleets_are_reused(tmp_path: Path) -> None:
    anywhere = _plan(tmp_path, "creation_policy: reuse\n", inventory=True)
    assert anywhere.placements[0].offer["region"] == "us-west-2"  # the cheaper batch fleet
    named = _plan(tmp_path, "creation_policy: reuse\nfleets: [inference]\n", inventory=True)
    assert [p.offer["region"] for p in named.placements] == ["us-east-1"]
    (matched,) = [note for note in named.notes if isinstance(note, FleetMatched)]
    assert matched.matched == 2


def test_without_an_inventory_the_fleets_cannot_be_checked(tmp_path: Path) -> None:
    result = _plan(
        tmp_path,
        "fleets: [inference, team/gpu]\n",
        inventory=False,
    )
    (note,) = [note for note in result.notes if isinstance(note, FleetsUnchecked)]
    assert note.fleets == ("inference", "team/gpu")
