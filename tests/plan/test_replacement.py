"""The spot hedge with replacement: an interrupted replica under retry comes back after the
replacement time, so a spot replica is missing for rate × replacement time of the month.

Ten replicas on $1 spot pools in four regions (on-demand $3): every hedge can be counted by hand.
Wave survival is off here (it is tested in test_wave_survival.py and test_domains.py), so the
default spread — at most 5 spot replicas per region — and the hedge are the only constraints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plan_frames import offer_frame, service

from planner.cli import plan as plan_cli
from planner.errors import InputError
from planner.placement import CapacityData, Plan, PlanOptions, plan_offers
from planner.placement.inputs import CapacityRule
from planner.placement.notes import SpotAssumptions
from planner.placement.replacement import (
    DEFAULT_INTERRUPTION_RATE,
    DEFAULT_REPLACEMENT_MINUTES,
    MINUTES_PER_MONTH,
    hedge_size,
    unavailability,
)

ROWS = [
    {"provider": "aws", "region": r, "instance_type": "g5", "spot": True, "price": 1.0}
    for r in ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1")
] + [{"provider": "aws", "region": "us-east-1", "instance_type": "g5", "spot": False, "price": 3.0}]


def _plan(
    retry: bool = True, capacity: CapacityData | None = None, replicas: int = 10, **options: Any
) -> Plan:
    events = ("no-capacity", "interruption") if retry else ("no-capacity",)
    return plan_offers(
        offer_frame(ROWS),
        service(replicas, spot_policy="auto", retry_events=events),
        capacity=capacity,
        options=PlanOptions(explain=False, wave_survival=False, **options),
    )


def _assumptions(result: Plan) -> SpotAssumptions:
    return next(note for note in result.notes if isinstance(note, SpotAssumptions))


def test_with_retry_an_interruption_costs_minutes_not_the_month() -> None:
    replaced = _plan()
    # 10 replicas at 30%/month, each missing 0.3 × 10 min of 43,800: 9.9993 expected ready, so
    # one hedge replica meets the target (lost for the month instead, 10 / 0.7 → 15).
    assert replaced.planned_replicas == 11
    assert replaced.hourly_cost == pytest.approx(11.0)
    lost = _plan(retry=False)
    assert lost.planned_replicas == 15
    note = _assumptions(replaced)
    assert note.replaced and note.replacement_minutes == DEFAULT_REPLACEMENT_MINUTES == 10.0
    assert note.default_rate == DEFAULT_INTERRUPTION_RATE == 0.30
    assert note.default_rate_replicas == 11
    assert note.expected_ready == pytest.approx(11 * (1 - 0.3 * 10 / MINUTES_PER_MONTH))
    assert not _assumptions(lost).replaced
    assert replaced.settings["replacement_minutes"] == 10.0
    assert replaced.settings["interruption_rate"] == 0.30


def test_the_availability_target_sizes_the_hedge() -> None:
    # 99.9% of 10 replicas = 9.99 ≤ 10 × (1 − 6.8e-5): no hedge replica at all.
    assert _plan(availability_target=0.999).planned_replicas == 10
    # A day to replace a replica: each is missing 0.3 × 1440 / 43,800 ≈ 0.99% of the month.
    # Target 1: 11 × 0.9901 ≥ 10 still; a month-long replacement is the old "lost" model.
    assert _plan(replacement_minutes=1440).planned_replicas == 11
    assert _plan(replacement_minutes=MINUTES_PER_MONTH).planned_replicas == 15
    assert hedge_size(1.0, 10, 0.3) == 5 and hedge_size(1.0, 10, 0.3 * 10 / 43_800) == 1
    assert hedge_size(0.999, 10, 0.3 * 10 / 43_800) == 0


def test_the_default_rate_applies_only_where_the_capacity_file_is_silent() -> None:
    # Without retry: 10 / (1 − 0.05) → 11 at a 5% default rate.
    assert _plan(retry=False, interruption_rate=0.05).planned_replicas == 11
    # A capacity row for us-east-1 says 1%/month: that pool keeps its own rate.
    rule = CapacityRule("aws", "us-east-1", "g5", True, None, 0.01, "cap.csv:2")
    result = _plan(retry=False, capacity=CapacityData(rules=(rule,)), interruption_rate=0.5)
    rates = {p.offer["region"]: p.interruption_rate for p in result.placements}
    assert rates.pop("us-east-1") == pytest.approx(0.01)
    assert all(rate == pytest.approx(0.5) for rate in rates.values())


def test_tiny_unavailabilities_are_not_rounded_away() -> None:
    # 0.1%/month, replaced in a minute: 2.3e-8 of the month per replica. On a coarse grid
    # (1e-4) that is zero and 10 spot replicas would "meet" target 1; on 1e-9 it is not.
    missing = float(unavailability([0.001], replaced=True, replacement_minutes=1.0)[0])
    assert missing == pytest.approx(0.001 / MINUTES_PER_MONTH)
    result = _plan(interruption_rate=0.001, replacement_minutes=1.0)
    assert result.planned_replicas == 11


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"replacement_minutes": -1.0}, "replacement time"),
        ({"replacement_minutes": float("nan")}, "replacement time"),
        ({"interruption_rate": 1.0}, "interruption rate"),
        ({"interruption_rate": -0.1}, "interruption rate"),
    ],
)
def test_bad_assumptions_are_input_errors(options: dict[str, float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _plan(**options)


def test_cli_flags(run_cli: Any, repo_dir: Path) -> None:
    # The CLI's defaults are the library's (it does not import the library to print --help).
    assert plan_cli.DEFAULT_REPLACEMENT_MINUTES == DEFAULT_REPLACEMENT_MINUTES
    assert plan_cli.DEFAULT_INTERRUPTION_RATE == DEFAULT_INTERRUPTION_RATE
    args = (
        "plan",
        str(repo_dir / "examples" / "spot-retry.yml"),
        "--format",
        "json",
        "--no-explain",
    )
    slow = run_cli(*args, "--replacement-minutes", "43800", "--interruption-rate", "0.2")
    assert slow.returncode == 0, slow.stderr
    data = json.loads(slow.stdout)
    assert data["settings"]["replacement_minutes"] == 43800.0
    assert data["settings"]["interruption_rate"] == 0.2
    assert any("replaced after 43800 min" in note for note in data["notes"])
    bad = run_cli(*args, "--interruption-rate", "1.5")
    assert bad.returncode == 2 and "probability in [0, 1)" in bad.stderr
    assert "Traceback" not in bad.stderr
