"""Wave survival: losing every spot replica of any one failure domain leaves the replica target.

Small hand-made offer tables where every plan can be priced by hand: two cheap, low-risk spot
domains and a pricier on-demand pool, 4 replicas; then regions holding several instance types,
where the default failure domain (backend, region) and the finer instance-type domain differ.
Exhaustive optimality over random instances (wave survival included) is test_optimality.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plan_frames import offer_frame, service

from planner.placement import CapacityData, Plan, PlanOptions, plan_offers
from planner.placement.inputs import CapacityRule
from planner.placement.notes import HedgeReplicas, SpotAssumptions

OFFERS = [
    {"provider": "aws", "region": "r1", "instance_type": "t", "spot": True, "price": 1.0},
    {"provider": "aws", "region": "r2", "instance_type": "t", "spot": True, "price": 1.0},
    {"provider": "aws", "region": "r1", "instance_type": "t", "spot": False, "price": 3.0},
]
LOW_RISK = CapacityData(rules=(CapacityRule("aws", "*", "t", True, None, 0.05, "test:1"),))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _plan(policy: str = "auto", **options: Any) -> Plan:
    return plan_offers(
        offer_frame(OFFERS),
        service(4, spot_policy=policy, retry_events=("no-capacity", "interruption")),
        capacity=LOW_RISK,
        options=PlanOptions(**options),
    )


def _counts(result: Plan) -> list[tuple[str, str, int]]:
    return [(p.capacity_type, p.offer["region"], p.count) for p in result.placements]


def _report(result: Plan, name: str) -> Any:
    return next(report for report in result.constraints if report.name == name)


def test_each_domain_alone_must_hold_the_target() -> None:
    result = _plan()
    # Σ x − x_d ≥ 4 for both spot domains: 4 + 4 spot ($8) beats 3 + 3 spot + 1 on-demand
    # ($9), 2 + 2 + 2 ($10) and 4 on-demand ($12).
    assert result.status == "optimal"
    assert _counts(result) == [("spot", "r1", 4), ("spot", "r2", 4)]
    assert result.hourly_cost == pytest.approx(8.0)
    assert result.hedge_replicas == 4
    assert result.notes[0] == HedgeReplicas(extra=4, expected_survival=True, wave_domain="region")
    # The hedge's assumptions: replaced after 10 min at the capacity file's 5%/month.
    assert result.notes[1] == SpotAssumptions(
        replaced=True,
        replacement_minutes=10.0,
        default_rate=0.3,
        default_rate_replicas=0,
        expected_ready=round(8 * (1 - 0.05 * 10 / 43_800), 6),
        target=4,
    )
    assert len(result.notes) == 2
    # Explain prices it by re-planning as --no-wave-survival does: the default spread (at most
    # 2 spot per domain) then applies (not the cheapest plan without any spread, which no flag
    # gives).
    wave = _report(result, "wave_survival")
    assert wave.binding and wave.tight
    assert wave.changes == ("--no-wave-survival",)
    assert wave.relaxed_hourly_cost == pytest.approx(7.0)
    assert wave.relaxed_hourly_cost == pytest.approx(_plan(wave_survival=False).hourly_cost)
    assert wave.saving_hourly == pytest.approx(1.0)
    # Both guarantees hold: without the expected-survival hedge the plan is the same.
    hedge = _report(result, "availability_hedge")
    assert hedge.relaxed_hourly_cost == pytest.approx(8.0) and not hedge.binding


def test_turning_it_off_restores_the_half_spread() -> None:
    result = _plan(wave_survival=False)
    # The previous default: at most ⌈4/2⌉ = 2 spot per domain, the hedge needs 5 replicas.
    assert result.settings["wave_survival"] is False
    assert result.settings["max_per_domain"] == 2
    assert "wave_survival" not in {report.name for report in result.constraints}
    assert _counts(result) == [("spot", "r1", 2), ("spot", "r2", 2), ("on-demand", "r1", 1)]
    assert result.hourly_cost == pytest.approx(7.0)


def test_an_explicit_spread_applies_on_top() -> None:
    on_demand_r3 = {**OFFERS[2], "region": "r3"}
    result = plan_offers(
        offer_frame([*OFFERS, on_demand_r3]),
        service(4, spot_policy="auto", retry_events=("no-capacity", "interruption")),
        capacity=LOW_RISK,
        options=PlanOptions(max_per_domain=2),
    )
    # x_d ≤ 2 (every replica of a domain) and Σ x − x_d ≥ 4: 2 + 2 spot need 2 on-demand
    # replicas beside them, in a third domain (r1 already holds 2).
    assert result.status == "optimal"
    assert _counts(result) == [("spot", "r1", 2), ("spot", "r2", 2), ("on-demand", "r3", 2)]
    assert result.hourly_cost == pytest.approx(10.0)
    assert {"failure_domain_spread", "wave_survival"} <= {r.name for r in result.constraints}


def test_spot_only_in_one_domain_drops_it_with_a_warning() -> None:
    # A default is best-effort (issue 9): the cheapest plan without it, status feasible.
    result = plan_offers(
        offer_frame(OFFERS[:1]),
        service(2, spot_policy="spot", retry_events=("interruption",)),
        capacity=LOW_RISK,
    )
    assert result.status == "feasible"
    assert result.settings["wave_survival"] is False
    assert "default-protection-dropped" in {note.kind for note in result.notes}


def test_without_retry_on_interruption_it_does_not_apply() -> None:
    result = plan_offers(
        offer_frame(OFFERS),
        service(4, spot_policy="auto", retry_events=("no-capacity",)),
        capacity=LOW_RISK,
    )
    assert result.settings["wave_survival"] is False
    # The hedge still applies (an interrupted replica is not replaced): 4 / 0.95 → 5.
    assert _counts(result) == [("spot", "r1", 5)]


def test_cli_flag_turns_it_off(run_cli: Any) -> None:
    path = str(EXAMPLES / "spot-retry.yml")
    on = run_cli("plan", path, "--no-explain", "--format", "json")
    off = run_cli("plan", path, "--no-explain", "--no-wave-survival", "--format", "json")
    assert on.returncode == 0 and off.returncode == 0, (on.stderr, off.stderr)
    settings_on = json.loads(on.stdout)["settings"]
    settings_off = json.loads(off.stdout)["settings"]
    assert settings_on["wave_survival"] is True and settings_on["max_per_domain"] is None
    assert settings_off["wave_survival"] is False and settings_off["max_per_domain"] == 1


def test_equal_cost_plans_prefer_the_lower_assumed_risk() -> None:
    offers = offer_frame(
        [
            {"provider": "aws", "region": region, "instance_type": "t", "spot": True, "price": 1.0}
            for region in ("r1", "r2", "r3")
        ]
    )
    rules = tuple(
        CapacityRule("aws", region, "t", True, None, rate, f"test:{region}")
        for region, rate in (("r1", 0.30), ("r2", 0.10), ("r3", 0.05))
    )
    results = [
        plan_offers(
            offers,
            service(1, spot_policy="spot", retry_events=("interruption",)),
            capacity=CapacityData(rules=rules),
            options=PlanOptions(explain=False, availability_target=0.5),
        )
        for _ in range(2)
    ]
    # One replica plus a spare in another domain, $2 whichever two domains: the two with the
    # lowest assumed rates, rather than the first two in key order (r1, r2).
    for result in results:
        assert result.hourly_cost == pytest.approx(2.0)
        assert [(p.offer["region"], p.count) for p in result.placements] == [("r2", 1), ("r3", 1)]


# Two instance types in region r1, one in r2 and one in r3: a region-wide wave in r1 takes
# every spot replica of both r1 types at once.
REGIONAL = [
    {"provider": "aws", "region": "r1", "instance_type": "t1", "spot": True, "price": 1.0},
    {"provider": "aws", "region": "r1", "instance_type": "t2", "spot": True, "price": 1.0},
    {"provider": "aws", "region": "r2", "instance_type": "t1", "spot": True, "price": 1.5},
    {"provider": "aws", "region": "r3", "instance_type": "t1", "spot": True, "price": 2.0},
    {"provider": "aws", "region": "r1", "instance_type": "t1", "spot": False, "price": 5.0},
]
REGIONAL_RISK = CapacityData(rules=(CapacityRule("aws", "*", "*", True, None, 0.05, "test:1"),))


def _regional(**options: Any) -> Plan:
    return plan_offers(
        offer_frame(REGIONAL),
        service(2, spot_policy="auto", retry_events=("no-capacity", "interruption")),
        capacity=REGIONAL_RISK,
        options=PlanOptions(**options),
    )


def _by_region(result: Plan) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for placement in result.placements:
        if placement.capacity_type == "spot":
            key = (placement.offer["provider"], placement.offer["region"])
            counts[key] = counts.get(key, 0) + placement.count
    return counts


def test_default_domain_is_the_region_so_one_regions_wave_leaves_the_target() -> None:
    result = _regional()
    assert result.status == "optimal"
    assert result.settings["failure_domain"] == "region"
    by_region = _by_region(result)
    # Losing every spot replica of any one (backend, region) leaves ≥ 2 replicas.
    assert all(result.planned_replicas - count >= 2 for count in by_region.values())
    # Cheapest such plan: one replica in each of r1, r2, r3 ($1 + $1.5 + $2), not the two
    # cheap r1 types together (a wave in r1 would take both).
    assert by_region == {("aws", "r1"): 1, ("aws", "r2"): 1, ("aws", "r3"): 1}
    assert result.hourly_cost == pytest.approx(4.5)
    assert [p.failure_domain for p in result.placements] == ["aws/r1", "aws/r2", "aws/r3"]
    # An interrupted replica never falls back into its own region, under another type.
    for placement in result.placements:
        for fallback in placement.fallbacks_for("interruption"):
            if fallback.capacity_type == "spot":
                assert fallback.offer["region"] != placement.offer["region"]


def test_instance_type_domains_are_the_finer_opt_in() -> None:
    result = _regional(failure_domain="instance-type")
    assert result.settings["failure_domain"] == "instance-type"
    # Each spot market is its own domain: the two r1 types count as two domains, so the
    # plan is cheaper ($1 + $1 + $1.5) but a region-wide wave in r1 leaves only 1 of 2.
    assert [(p.offer["region"], p.offer["instance_type"], p.count) for p in result.placements] == [
        ("r1", "t1", 1),
        ("r1", "t2", 1),
        ("r2", "t1", 1),
    ]
    assert result.hourly_cost == pytest.approx(3.5)
    assert [p.failure_domain for p in result.placements] == ["aws/r1/t1", "aws/r1/t2", "aws/r2/t1"]
    assert result.planned_replicas - _by_region(result)[("aws", "r1")] < 2


def test_cli_failure_domain_default_and_opt_in(run_cli: Any) -> None:
    path = str(EXAMPLES / "spot-retry.yml")
    default = run_cli("plan", path, "--no-explain", "--format", "json")
    finer = run_cli(
        "plan", path, "--no-explain", "--failure-domain", "instance-type", "--format", "json"
    )
    assert default.returncode == 0 and finer.returncode == 0, (default.stderr, finer.stderr)
    document = json.loads(default.stdout)
    assert document["settings"]["failure_domain"] == "region"
    assert json.loads(finer.stdout)["settings"]["failure_domain"] == "instance-type"
    for placement in document["placements"]:
        offer = placement["offer"]
        assert placement["failure_domain"] == f"{offer['provider']}/{offer['region']}"
    help_text = " ".join(run_cli("plan", "--help").stdout.split())
    assert "a whole (backend, region), a zone counting in its region (default" in help_text
