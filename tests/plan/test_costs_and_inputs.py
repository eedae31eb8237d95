"""Regressions found in review: exact costs (six-decimal prices, an inclusive budget, printed
figures that add up), an on-demand floor above the replica count, and inputs users hand over
(a byte-order mark in a capacity CSV, a reservation without a capacity file)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from plan_frames import offer_frame, service

from planner.catalog import Catalog
from planner.errors import InputError
from planner.placement import PlanOptions, load_capacity, plan, plan_offers
from planner.placement.inputs import CapacityData, CapacityRule
from planner.placement.notes import (
    FleetMatched,
    OnDemandFloorAboveReplicas,
    ReservationWithoutCapacityFile,
    ReuseWithoutFleet,
)
from planner.render.plan import render_plan_json, render_plan_markdown, render_plan_table

# gcp prices carry six decimals; these two round to the same 1e-4 USD.
GCP = [
    {"provider": "gcp", "region": "a", "instance_type": "n2", "spot": False, "price": 0.020102},
    {"provider": "gcp", "region": "b", "instance_type": "n2", "spot": False, "price": 0.020098},
]


def test_prices_differing_in_the_sixth_decimal_are_not_a_tie() -> None:
    result = plan_offers(offer_frame(GCP), service(2))
    assert result.status == "optimal"
    assert [(p.offer["region"], p.count) for p in result.placements] == [("b", 2)]
    assert result.hourly_cost == pytest.approx(2 * 0.020098, abs=1e-12)


@pytest.mark.parametrize("price", [0.027193, 1.00015, 31.464])
def test_a_budget_equal_to_the_optimal_cost_is_within_it(price: float) -> None:
    offers = offer_frame(
        [{"provider": "gcp", "region": "a", "instance_type": "n2", "spot": False, "price": price}]
    )
    optimum = float(Decimal(str(price)) * 3)
    exact = plan_offers(offers, service(3), options=PlanOptions(budget_hourly=optimum))
    assert exact.status == "optimal"
    assert exact.hourly_cost == pytest.approx(optimum, abs=1e-12)
    below = plan_offers(offers, service(3), options=PlanOptions(budget_hourly=optimum - 1e-6))
    assert below.status == "infeasible"
    assert below.infeasible_constraints == ("budget",)


def test_printed_prices_times_counts_are_the_printed_costs() -> None:
    rows = [
        {"provider": "gcp", "region": "a", "instance_type": "n2", "spot": False, "price": 0.027193},
        {"provider": "aws", "region": "b", "instance_type": "g5", "spot": False, "price": 1.006},
        {"provider": "aws", "region": "c", "instance_type": "g6", "spot": False, "price": 1.2911},
    ]
    capacity = CapacityData(
        rules=(
            CapacityRule("gcp", "a", "*", None, 3, None, "test"),
            CapacityRule("aws", "b", "*", None, 2, None, "test"),
        )
    )
    result = plan_offers(offer_frame(rows), service(6), capacity=capacity)
    assert [p.count for p in result.placements] == [3, 2, 1]

    def amount(text: str) -> Decimal:
        return Decimal(text.replace("$", "").replace(",", ""))

    for render in (render_plan_table, render_plan_markdown):
        text = render(result)
        rows_seen = re.findall(r"(\d+)\s*\|?\s*on-demand.*?(\$[\d.,]+)\s*\|?\s*(\$[\d.,]+)", text)
        assert len(rows_seen) == 3, text
        total = Decimal(0)
        for count, price, cost in rows_seen:
            assert int(count) * amount(price) == amount(cost), (count, price, cost)
            total += amount(cost)
        summary = re.search(r"hourly cost: (\S+)\s+monthly cost \(730 h\): (\S+)", text)
        assert summary is not None
        hourly, month = summary.groups()
        assert amount(hourly) == total == Decimal("3.384679")
        assert amount(month) == (total * 730).quantize(Decimal("0.01"))
    document = json.loads(render_plan_json(result))
    assert document["hourly_cost"] == 3.384679
    assert document["monthly_cost"] == round(3.384679 * 730, 6)
    assert sum(Decimal(str(p["hourly_cost"])) for p in document["placements"]) == Decimal(
        "3.384679"
    )


@pytest.mark.parametrize("retry", [None, ("no-capacity", "interruption")])
def test_an_on_demand_floor_above_the_replicas_puts_every_replica_on_demand(
    retry: tuple[str, ...] | None,
) -> None:
    rows = [
        {"provider": "aws", "region": "a", "instance_type": "g5", "spot": True, "price": 0.3},
        {"provider": "aws", "region": "b", "instance_type": "g5", "spot": True, "price": 0.3},
        {"provider": "aws", "region": "c", "instance_type": "g5", "spot": True, "price": 0.3},
        {"provider": "aws", "region": "a", "instance_type": "g5", "spot": False, "price": 1.0},
    ]
    result = plan_offers(
        offer_frame(rows),
        service(2, spot_policy="auto", retry_events=retry),
        options=PlanOptions(on_demand_floor=3),
    )
    # Not infeasible without retry, and no third replica billed as a "hedge" with it.
    assert result.status == "optimal"
    assert [(p.capacity_type, p.count) for p in result.placements] == [("on-demand", 2)]
    assert result.hedge_replicas == 0 and result.hourly_cost == pytest.approx(2.0)
    assert result.notes == (OnDemandFloorAboveReplicas(floor=3, replicas=2),)


def test_a_floor_inside_a_replica_range_applies_at_every_count() -> None:
    rows = [
        {"provider": "aws", "region": "a", "instance_type": "g5", "spot": True, "price": 0.3},
        {"provider": "aws", "region": "a", "instance_type": "g5", "spot": False, "price": 1.0},
    ]
    result = plan_offers(
        offer_frame(rows),
        service((1, 4), spot_policy="auto"),
        options=PlanOptions(on_demand_floor=2),
    )
    assert result.status == "optimal"
    # Spot without retry is hedged (issue 9): at 3, 2 on-demand + 2 spot (2 + 2 × 0.7 ≥ 3); at
    # 4, 2 on-demand + 3 spot (2 + 3 × 0.7 ≥ 4).
    assert [step.hourly_cost for step in result.scaling] == pytest.approx([1.0, 2.0, 2.6, 2.9])
    assert result.marginal_costs == pytest.approx((1.0, 0.6, 0.3))


def test_a_capacity_csv_with_a_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "capacity.csv"
    path.write_bytes(
        b"\xef\xbb\xbfbackend,region,instance_type,spot,capacity,interruption\r\n"
        b"aws,*,g5.xlarge,true,3,<5%\r\n"
    )
    data = load_capacity(path)
    assert [(r.provider, r.instance_type, r.capacity, r.interruption_rate) for r in data.rules] == [
        ("aws", "g5.xlarge", 3, 0.05)
    ]
    assert data.rules[0].source == f"{path}:2"


def test_a_reservation_without_a_capacity_file_is_noted() -> None:
    rows = [{"provider": "aws", "region": "a", "instance_type": "g5", "spot": False, "price": 1.0}]
    result = plan_offers(offer_frame(rows), service(1, reservation="cr-0123"))
    assert result.status == "optimal"
    assert result.notes == (ReservationWithoutCapacityFile("cr-0123"),)


def test_count_is_another_name_for_capacity_in_a_pool_row(tmp_path: Path) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text("backend,region,instance_type,spot,count\naws,*,g5.xlarge,true,3\n")
    assert [rule.capacity for rule in load_capacity(path).rules] == [3]
    path.write_text("backend,instance_type,capacity,count\naws,g5.xlarge,2,3\n")
    with pytest.raises(InputError, match=r"capacity.csv:2: count: capacity and count"):
        load_capacity(path)


def test_a_yaml_reservation_without_an_id_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "capacity.yml"
    path.write_text(
        "reservations:\n"
        "  - {backend: aws, region: us-east-1, instance_type: g5.xlarge, count: 1, price: 0.5}\n"
    )
    with pytest.raises(InputError, match=r"capacity.yml:2:5: reservations\[0\].reservation: .*id"):
        load_capacity(path)


def test_a_capacity_csv_without_the_csv_suffix(tmp_path: Path) -> None:
    path = tmp_path / "capacity.txt"
    path.write_text("# limits\nbackend,instance_type,spot,capacity\naws,g5.xlarge,true,2\n")
    assert [(rule.instance_type, rule.capacity) for rule in load_capacity(path).rules] == [
        ("g5.xlarge", 2)
    ]


def test_reuse_notes_a_missing_inventory_and_busy_instances(tmp_path: Path) -> None:
    rows = [{"provider": "aws", "region": "a", "instance_type": "g5", "spot": False, "price": 1.0}]
    catalog = Catalog.from_frame(offer_frame(rows))
    reuse = service(2, creation_policy="reuse")
    # rows=True: the made-up aws row (region "a", type "g5") is no dstack-level offer.
    alone = plan(reuse, catalog, rows=True)
    assert alone.status == "infeasible" and alone.infeasible_constraints == ("creation_policy",)
    assert alone.notes == (ReuseWithoutFleet(),)
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(
        "instances:\n"
        "  - {backend: aws, region: a, instance_type: g5, price: 1.0, status: busy, count: 3,\n"
        "     resources: {cpu: 12, memory_gb: 85, gpu_count: 1, gpu_name: A100,"
        " gpu_memory_gb: 80}}\n"
    )
    busy = plan(reuse, catalog, fleet=fleet, rows=True)
    assert busy.status == "infeasible" and busy.infeasible_constraints == ("creation_policy",)
    assert "no idle fleet instance satisfies" in (busy.infeasible_reason or "")
    assert busy.notes == (FleetMatched(matched=0, idle=0, busy=3),)


def test_an_infeasible_budget_is_written_out_in_full() -> None:
    rows = [{"provider": "aws", "region": "a", "instance_type": "g5", "spot": False, "price": 2000}]
    result = plan_offers(
        offer_frame(rows), service(1), options=PlanOptions(budget_hourly=1234.5678)
    )
    assert result.infeasible_reason == "budget: no plan costs at most $1,234.5678/hour"
