"""Issue 9: plans an SRE would deploy (marketplace listings, the spread flag, best-effort defaults,
spot without retry, capacity and fleet rows that match nothing) and outputs that do not mislead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plan_frames import offer_frame, service

from planner.catalog import Catalog
from planner.config import load_config
from planner.match import find_offers
from planner.placement import PlanOptions, plan, plan_offers
from planner.placement.inputs import UNLIMITED, CapacityData, CapacityRule
from planner.placement.notes import (
    DefaultProtectionDropped,
    RowMatchesNoOffer,
    SpotWithoutRetry,
    TimeLimitReached,
)
from planner.render.offers import render_offers_table, sized_disk_gb
from planner.render.plan import render_plan_markdown, render_plan_table
from planner.render.plan_notes import render_note
from planner.render.resources import format_resources

VAST = [
    {
        "provider": "vastai",
        "region": "us-california",
        "instance_type": "21560777",
        "spot": False,
        "price": 1.0,
    },
    {
        "provider": "vastai",
        "region": "us-texas",
        "instance_type": "21560778",
        "spot": False,
        "price": 1.5,
    },
    {"provider": "runpod", "region": "CA", "instance_type": "A100", "spot": False, "price": 2.0},
]


def test_a_marketplace_listing_is_rented_once() -> None:
    result = plan_offers(offer_frame(VAST), service(3))
    assert result.status == "optimal"
    by_type = {p.offer["instance_type"]: p.count for p in result.placements}
    assert by_type == {"21560777": 1, "21560778": 1, "A100": 1}
    assert result.hourly_cost == 4.5


def test_a_capacity_file_can_say_a_listing_has_more_hosts() -> None:
    capacity = CapacityData(
        rules=(
            CapacityRule(
                provider="vastai",
                region="*",
                instance_type="*",
                spot=None,
                capacity=UNLIMITED,
                interruption_rate=None,
                source="capacity.csv:2",
            ),
        )
    )
    result = plan_offers(offer_frame(VAST), service(3), capacity=capacity)
    assert [(p.offer["instance_type"], p.count) for p in result.placements] == [("21560777", 3)]


ON_DEMAND = [
    {"provider": "aws", "region": "us-east-1", "instance_type": "g5", "spot": False, "price": 1.0},
    {"provider": "aws", "region": "us-west-2", "instance_type": "g5", "spot": False, "price": 1.2},
    {"provider": "gcp", "region": "us-east1-b", "instance_type": "g2", "spot": False, "price": 1.4},
]


def test_max_per_domain_applies_to_on_demand_replicas() -> None:
    result = plan_offers(offer_frame(ON_DEMAND), service(2), options=PlanOptions(max_per_domain=1))
    assert result.status == "optimal"
    assert sorted((p.failure_domain, p.count) for p in result.placements) == [
        ("aws/us-east-1", 1),
        ("aws/us-west-2", 1),
    ]
    assert result.to_json()["settings"]["max_per_domain"] == 1
    assert result.to_json()["settings"]["max_per_domain_counts"] == "every replica"
    too_tight = plan_offers(
        offer_frame(ON_DEMAND), service(4), options=PlanOptions(max_per_domain=1)
    )
    assert too_tight.status == "infeasible"
    assert too_tight.infeasible_constraints == ("failure_domain_spread",)


def test_max_per_domain_counts_reserved_and_spot_replicas_of_a_domain_together() -> None:
    rows = [
        {
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": "g5",
            "spot": True,
            "price": 0.5,
        },
        {
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": "g5",
            "spot": False,
            "price": 1.0,
        },
        {
            "provider": "aws",
            "region": "us-west-2",
            "instance_type": "g5",
            "spot": False,
            "price": 1.2,
        },
    ]
    result = plan_offers(
        offer_frame(rows), service(2, spot_policy="auto"), options=PlanOptions(max_per_domain=1)
    )
    assert sorted((p.failure_domain, p.count) for p in result.placements) == [
        ("aws/us-east-1", 1),
        ("aws/us-west-2", 1),
    ]


ONE_REGION_SPOT = [
    {
        "provider": "aws",
        "region": "eu-central-1",
        "instance_type": "g6",
        "spot": True,
        "price": 0.4,
    },
    {
        "provider": "aws",
        "region": "eu-central-1",
        "instance_type": "g5",
        "spot": True,
        "price": 0.5,
    },
]


def test_a_default_protection_that_cannot_be_met_gives_a_feasible_plan_and_a_warning() -> None:
    spot_retry = service(2, spot_policy="spot", retry_events=("no-capacity", "interruption"))
    result = plan_offers(offer_frame(ONE_REGION_SPOT), spot_retry)
    assert result.status == "feasible"
    assert result.placements and result.planned_replicas >= 2
    assert result.settings["wave_survival"] is False
    [dropped] = [note for note in result.notes if isinstance(note, DefaultProtectionDropped)]
    assert (dropped.protection, dropped.spot_domains, dropped.replica_counts) == (
        "wave_survival",
        1,
        (2,),
    )
    words = render_note(dropped)
    assert "does not survive a preemption wave" in words
    assert "another failure domain" in words
    assert not any(isinstance(note, TimeLimitReached) for note in result.notes)
    assert "time limit" not in render_plan_table(result)


def test_the_default_spread_is_best_effort_too() -> None:
    spot_retry = service(4, spot_policy="spot", retry_events=("interruption",))
    result = plan_offers(
        offer_frame(ONE_REGION_SPOT), spot_retry, options=PlanOptions(wave_survival=False)
    )
    assert result.status == "feasible"
    assert [n.protection for n in result.notes if isinstance(n, DefaultProtectionDropped)] == [
        "failure_domain_spread"
    ]


def test_only_the_users_own_constraints_make_a_plan_infeasible() -> None:
    spot_retry = service(2, spot_policy="spot", retry_events=("interruption",))
    result = plan_offers(
        offer_frame(ONE_REGION_SPOT), spot_retry, options=PlanOptions(budget_hourly=0.5)
    )
    assert result.status == "infeasible"
    assert result.infeasible_constraints == ("budget",)
    # An explicit spread is the user's: it is never dropped.
    spread = plan_offers(
        offer_frame(ONE_REGION_SPOT), spot_retry, options=PlanOptions(max_per_domain=1)
    )
    assert spread.status == "infeasible"
    assert "failure_domain_spread" in spread.infeasible_constraints


def test_spot_without_retry_is_warned_about_and_hedged() -> None:
    rows = [
        {
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": "g6",
            "spot": True,
            "price": 0.3,
        },
        {
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": "g6",
            "spot": False,
            "price": 1.0,
        },
    ]
    result = plan_offers(offer_frame(rows), service(3, spot_policy="spot"))
    # The default 30% monthly interruption rate, not replaced: 3 / 0.7 → 5 replicas.
    assert result.planned_replicas == 5
    [warning] = [note for note in result.notes if isinstance(note, SpotWithoutRetry)]
    assert warning == SpotWithoutRetry(spot_replicas=5, expected_lost=1.5, hedge_replicas=2)
    assert "is not replaced" in render_note(warning)
    # With retry on interruption there is no such warning.
    retried = plan_offers(
        offer_frame(rows), service(3, spot_policy="spot", retry_events=("interruption",))
    )
    assert not any(isinstance(note, SpotWithoutRetry) for note in retried.notes)


def test_capacity_and_fleet_rows_naming_no_catalog_place_are_warned_about(
    tmp_path: Path, repo_dir: Path
) -> None:
    capacity = tmp_path / "capacity.csv"
    capacity.write_text(
        "backend,region,instance_type,spot,capacity\n"
        "aws,us-westt-2,*,*,2\n"
        "aws,us-west-2,g6.xlarg,*,2\n"
        "aws,*,*,*,8\n"
        "nosuchcloud,*,*,*,1\n"
    )
    fleet_text = (repo_dir / "examples" / "planning" / "fleet.yml").read_text()
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(fleet_text.replace("instance_type: g5.xlarge", "instance_type: g5.xlarg", 1))
    catalog = Catalog.load()
    result = plan(repo_dir / "examples" / "service.yml", catalog, capacity=capacity, fleet=fleet)
    rows = [note for note in result.notes if isinstance(note, RowMatchesNoOffer)]
    assert [
        (n.file_kind, n.source.rsplit(":", 1)[1], n.field, n.value, n.suggestion) for n in rows
    ] == [
        ("capacity", "2", "region", "us-westt-2", "us-west-2"),
        ("capacity", "3", "instance_type", "g6.xlarg", "g6.xlarge"),
        ("capacity", "5", "provider", "nosuchcloud", None),
        ("fleet", rows[3].source.rsplit(":", 1)[1], "instance_type", "g5.xlarg", "g5.xlarge"),
    ]
    words = render_note(rows[0])
    assert str(capacity) in words and "did you mean 'us-west-2'?" in words


def test_offers_and_plan_print_resources_with_one_formatter(repo_dir: Path) -> None:
    path = repo_dir / "examples" / "autoscaled.yml"
    catalog = Catalog.load()
    result = plan(path, catalog, options=PlanOptions(explain=False))
    [placement] = result.placements
    offer = placement.offer
    # The catalog states no disk; dstack fits RunPod's configurable disk to 100 GB.
    assert offer["provider"] == "runpod" and offer["disk_gb"] == 100.0
    offers = find_offers(load_config(path), catalog)
    offers_table = render_offers_table(offers, None)
    resources = format_resources(offer, sized_disk_gb(offers))
    assert resources.endswith("100.0GB (disk)")  # RunPod's disk, sized as dstack does
    assert resources in offers_table
    assert resources in render_plan_table(result)
    assert resources in render_plan_markdown(result)


def test_a_replica_range_from_zero_headlines_the_cost_at_min_and_at_max() -> None:
    result = plan_offers(offer_frame(ON_DEMAND), service((0, 3)))
    table = render_plan_table(result)
    assert "cost at min (0 replicas): $0.00/h, $0.00/month" in table
    assert "at max (3 replicas): $3.00/h, $2,190.00/month" in table
    assert "hourly cost: $0.00" not in table
    assert "at max (3 replicas)" in render_plan_markdown(result)


def test_offers_and_plan_outputs_say_which_catalog_answered(repo_dir: Path, run_cli: Any) -> None:
    path = repo_dir / "examples" / "service.yml"
    catalog = Catalog.load()
    offers_table = render_offers_table(find_offers(load_config(path), catalog), 3)
    result = plan(path, catalog, options=PlanOptions(explain=False))
    for text in (
        offers_table,
        render_plan_table(result, catalog),
        render_plan_markdown(result, catalog),
    ):
        assert "catalog: the bundled snapshot, as of 2025-07-01" in text
        assert "prices are approximate" in text
        assert "vastai listings are illustrative" in text
    # Another catalog is named by its location, without the snapshot's caveats.
    frame_catalog = Catalog.from_frame(offer_frame(ON_DEMAND))
    other = render_plan_table(plan_offers(offer_frame(ON_DEMAND), service(1)), frame_catalog)
    assert "catalog: " in other and "illustrative" not in other
    # The CLI's table and Markdown carry it (and stdout stays one format).
    for output_format in ("table", "markdown"):
        shown = run_cli("plan", str(path), "--no-explain", "--format", output_format)
        assert shown.returncode == 0, shown.stderr
        assert "catalog: the bundled snapshot, as of 2025-07-01" in shown.stdout
