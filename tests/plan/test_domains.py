"""Failure domains are (backend, region); zones are the second level inside a region.

A gcp catalog location is a zone (``us-central1-a``). A region-wide spot reclaim takes every zone
of the region, so wave survival counts regions; within a region the plan spreads over zones when
that costs nothing. Hand-made offers where every plan can be priced by hand, then the bundled
catalog through the CLI.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from plan_frames import offer_frame, service

from planner.placement import Plan, PlanOptions, plan_offers
from planner.render.plan import render_plan_table

SPOT = ("no-capacity", "interruption")


def _gcp(zone: str, price: float = 1.0, spot: bool = True) -> dict[str, Any]:
    return {"provider": "gcp", "region": zone, "instance_type": "g2", "spot": spot, "price": price}


def _plan(rows: list[dict[str, Any]], replicas: int = 3, **options: Any) -> Plan:
    return plan_offers(
        offer_frame(rows),
        service(replicas, spot_policy="spot", retry_events=SPOT),
        options=PlanOptions(explain=False, **options),
    )


def _by(result: Plan, key: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for placement in result.placements:
        counts[getattr(placement, key)] += placement.count
    return counts


def test_wave_survival_counts_regions_not_zones() -> None:
    # Three zones of us-central1 and one zone each in us-east1 and us-west1, all at $1/h.
    # As zones, five domains: 3 + max 1 = 4 replicas in four zones — three of them in one
    # region, which a region-wide wave takes at once, leaving 1. As regions, three domains:
    # 3 + max 2 = 5 replicas, at most 2 per region.
    zones = ["us-central1-a", "us-central1-b", "us-central1-c", "us-east1-b", "us-west1-a"]
    result = _plan([_gcp(zone) for zone in zones])
    assert result.status == "optimal"
    regions = _by(result, "failure_domain")
    assert set(regions) == {"gcp/us-central1", "gcp/us-east1", "gcp/us-west1"}
    assert result.planned_replicas == 5 and max(regions.values()) == 2
    assert result.planned_replicas - max(regions.values()) >= 3
    # Zones inside a region: us-east1 and us-west1 have one zone each, so one of them holds 2;
    # us-central1's 2 go to two of its zones, not one (4 zones in all, the most possible).
    zones_used = _by(result, "zone")
    assert regions["gcp/us-central1"] == 2 and len(zones_used) == 4
    assert all(count == 1 for zone, count in zones_used.items() if zone.startswith("us-central1"))
    for placement in result.placements:
        assert placement.failure_domain == "gcp/" + placement.offer["region"][:-2]
        assert placement.zone == placement.offer["region"]


def test_a_cheaper_region_with_three_zones_is_still_one_domain() -> None:
    # us-central1's zones are cheaper ($1) than us-east1 and us-west1 ($1.5): as zones the plan
    # would be 2 + 2 + 1 in us-central1's three zones ($5), which one region-wide wave empties.
    # As one region, Σ x − x_region ≥ 3 for every region: 2 + 2 + 1 over the three regions,
    # us-central1 holding 2 ($2 + $1.5 × 3 = $6.5), beats 3 + 3 ($7.5).
    rows = [_gcp(z) for z in ("us-central1-a", "us-central1-b", "us-central1-c")]
    rows += [_gcp("us-east1-b", 1.5), _gcp("us-west1-a", 1.5)]
    result = _plan(rows)
    regions = _by(result, "failure_domain")
    assert all(result.planned_replicas - count >= 3 for count in regions.values())
    assert regions["gcp/us-central1"] == 2 and result.planned_replicas == 5
    assert result.hourly_cost == pytest.approx(2 * 1.0 + 3 * 1.5)
    # The two us-central1 replicas are in two of its zones.
    central = [p for p in result.placements if p.failure_domain == "gcp/us-central1"]
    assert len(central) == 2 and all(p.count == 1 for p in central)


def test_instance_type_domains_keep_the_zone_as_the_market() -> None:
    zones = ["us-central1-a", "us-central1-b", "us-central1-c", "us-east1-b", "us-west1-a"]
    result = _plan([_gcp(zone) for zone in zones], failure_domain="instance-type")
    assert {p.failure_domain for p in result.placements} <= {f"gcp/{z}/g2" for z in zones}
    assert result.planned_replicas == 4


def test_region_providers_have_no_zone() -> None:
    rows = [
        {"provider": "aws", "region": r, "instance_type": "g5", "spot": True, "price": 1.0}
        for r in ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1")
    ]
    result = _plan(rows)
    assert all(p.zone is None for p in result.placements)
    assert {p.failure_domain for p in result.placements} <= {f"aws/{r['region']}" for r in rows}


GCP_L4 = """\
type: service
name: gcp-l4
image: vllm/vllm-openai:v0.6.3
commands: [vllm serve google/gemma-2-9b-it]
port: 8000
replicas: 3
backends: [gcp]
resources:
  gpu: L4:1
spot_policy: spot
retry:
  on_events: [no-capacity, interruption]
"""


def test_bundled_gcp_spot_plan_spreads_over_regions(run_cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "gcp-l4.yml"
    path.write_text(GCP_L4, encoding="utf-8")
    # --rows: placements on zone rows (dstack-level offers are per region, zones listed inside).
    result = run_cli("plan", str(path), "--format", "json", "--no-explain", "--rows")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    placements = data["placements"]
    regions: Counter[str] = Counter()
    for placement in placements:
        zone = placement["offer"]["region"]
        assert placement["zone"] == zone
        assert placement["failure_domain"] == f"gcp/{zone.rsplit('-', 1)[0]}"
        regions[placement["failure_domain"]] += placement["count"]
    # us-central1, us-east1 and us-west1 all offer the cheapest L4 spot: the plan is not all
    # in us-central1's zones (main put 5 replicas in us-central1-a/b/c); a region-wide wave
    # leaves the target.
    assert len(regions) >= 3
    assert data["planned_replicas"] - max(regions.values()) >= 3
    notes = " ".join(data["notes"])
    assert "(backend, region; a zone counts in its region)" in notes


def test_the_table_shows_region_and_zone() -> None:
    zones = ["us-central1-a", "us-central1-b", "us-east1-b", "us-west1-a"]
    result = _plan([_gcp(zone) for zone in zones])
    lines = render_plan_table(result).splitlines()
    header = next(line for line in lines if "COUNT" in line)
    assert header.split()[3:6] == ["BACKEND", "REGION", "ZONE"]
    rows = [line.split() for line in lines[lines.index(header) + 1 :][: len(result.placements)]]
    assert {(row[4], row[5]) for row in rows} == {
        (placement.failure_domain.split("/")[1], placement.zone) for placement in result.placements
    }
    # Without zones there is no ZONE column.
    aws = [{**_gcp(zone), "provider": "aws", "region": zone[:-2]} for zone in zones[1:]]
    assert "ZONE" not in render_plan_table(_plan(aws))
