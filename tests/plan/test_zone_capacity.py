"""Capacity rows naming GCP zones, planned on region offers (docs/planning.md, "Zones").

A dstack-level GCP offer is a region whose replica may start in any of its zones: zone rows limit
the offer only when every zone has one (the sum of their counts); otherwise the plan says which
zones lack a row instead of silently ignoring the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

import planner
from planner.placement.notes import ZoneCapacityIncomplete

RunCli = Callable[..., CompletedProcess[str]]

SERVICE = """\
type: service
port: 8000
commands: [python serve.py]
resources:
  gpu: L4
backends: [gcp]
regions: [europe-west4]
"""
HEADER = "backend,region,instance_type,spot,capacity\n"


@pytest.fixture
def service(tmp_path: Path) -> Path:
    path = tmp_path / "l4.yml"
    path.write_text(SERVICE)
    return path


def _plan(service: Path, capacity: str, tmp_path: Path, replicas: int = 1) -> planner.Plan:
    capacity_file = tmp_path / "capacity.csv"
    capacity_file.write_text(HEADER + capacity)
    text = service.read_text().replace("port: 8000", f"port: 8000\nreplicas: {replicas}")
    service.write_text(text)
    return planner.plan(
        planner.load_config(service),
        planner.Catalog.load(),
        capacity=capacity_file,
    )


def test_the_region_offer_has_both_zones(service: Path, tmp_path: Path) -> None:
    result = _plan(service, "", tmp_path)
    (placement,) = result.placements
    assert placement.offer["instance_type"] == "g2-standard-4"
    assert placement.offer["region"] == "europe-west4"


def test_a_row_for_one_zone_of_two_is_reported_not_applied(service: Path, tmp_path: Path) -> None:
    result = _plan(service, "gcp,europe-west4-a,g2-standard-4,*,0\n", tmp_path)
    assert [p.offer["instance_type"] for p in result.placements] == ["g2-standard-4"]
    (note,) = [n for n in result.notes if isinstance(n, ZoneCapacityIncomplete)]
    assert note.unstated == ("europe-west4-b",)
    assert note.instance_type == "g2-standard-4"
    assert note.sources[0].endswith("capacity.csv:2")


def test_rows_for_every_zone_limit_the_region_offer(service: Path, tmp_path: Path) -> None:
    rows = "gcp,europe-west4-a,g2-standard-4,*,0\ngcp,europe-west4-b,g2-standard-4,*,0\n"
    result = _plan(service, rows, tmp_path)
    assert [p.offer["instance_type"] for p in result.placements] == ["g2-standard-8"]
    assert not [n for n in result.notes if isinstance(n, ZoneCapacityIncomplete)]


def test_zone_counts_add_up_for_the_region_offer(service: Path, tmp_path: Path) -> None:
    rows = "gcp,europe-west4-a,g2-standard-4,*,1\ngcp,europe-west4-b,g2-standard-4,*,2\n"
    result = _plan(service, rows, tmp_path, replicas=4)
    on_cheapest = sum(
        p.count for p in result.placements if p.offer["instance_type"] == "g2-standard-4"
    )
    assert on_cheapest == 3
    assert sum(p.count for p in result.placements) >= 4


def test_the_cli_prints_the_warning(run_cli: RunCli, service: Path, tmp_path: Path) -> None:
    capacity_file = tmp_path / "zones.csv"
    capacity_file.write_text(HEADER + "gcp,europe-west4-a,g2-standard-4,*,0\n")
    result = run_cli("plan", str(service), "--capacity", str(capacity_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    notes = json.loads(result.stdout)["notes"]
    assert any("europe-west4-b have no row" in str(note) for note in notes), notes


def test_on_catalog_rows_a_zone_row_applies_to_its_zone(service: Path, tmp_path: Path) -> None:
    capacity_file = tmp_path / "capacity.csv"
    capacity_file.write_text(
        HEADER + "gcp,europe-west4-a,g2-standard-4,*,0\ngcp,europe-west4-b,g2-standard-4,*,0\n"
    )
    result = planner.plan(
        planner.load_config(service),
        planner.Catalog.load(),
        capacity=capacity_file,
        rows=True,
    )
    assert all(p.offer["instance_type"] != "g2-standard-4" for p in result.placements)
