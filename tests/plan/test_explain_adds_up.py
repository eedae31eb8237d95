"""`planner plan` explain adds up (issue 9, point 6).

Every saving explain reports is re-checked by running the CLI again with the flags (or the
service-file edits) that explain says relax the constraint: the re-plan's hourly cost must be the
relaxed cost explain printed. Interacting protections are relaxed in pairs too (on spot-retry.yml
wave survival alone and the hedge alone save $0.00, both together 33%); BINDING is "yes" for a
constraint whose removal makes an infeasible plan feasible; the table has a legend; an infeasible
plan carries typed causes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from plan_frames import offer_frame, service

from planner.cli import main
from planner.placement import CapacityData, PlanOptions, plan_offers
from planner.placement.inputs import CapacityRule
from planner.placement.reasons import BudgetTooLow
from planner.render.plan import (
    CONSTRAINT_LEGEND,
    money,
    render_plan_json,
    render_plan_markdown,
    render_plan_table,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CAPACITY = str(EXAMPLES / "planning" / "capacity.csv")

L4_SPOT = """\
type: service
name: l4-spot
image: vllm/vllm-openai:v0.6.3
commands: [vllm serve model]
port: 8000
replicas: 4
resources:
  gpu: L4:1
spot_policy: auto
retry:
  on_events: [no-capacity, interruption]
max_price: 2
"""
# One spot region: wave survival, a default, cannot be met and is dropped (status feasible).
EU_SPOT = """\
type: service
name: eu-spot
image: vllm/vllm-openai:v0.6.3
commands: [vllm serve model]
port: 8000
replicas: 2
resources:
  gpu: 24GB..80GB:1
backends: [aws]
regions: [eu-central-1]
spot_policy: spot
retry:
  on_events: [interruption]
"""
INLINE = {"l4-spot.yml": L4_SPOT, "eu-spot.yml": EU_SPOT}


def _plan_json(run_cli: Callable[..., Any], *args: str) -> dict[str, Any]:
    result = run_cli("plan", *args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _main_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """``planner plan ... --format json`` through the CLI's own entry point, in this process
    (the same argument parsing as a subprocess run, without paying the start-up each time)."""
    capsys.readouterr()
    code = main(["plan", *args, "--format", "json"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    document: dict[str, Any] = json.loads(out)
    return document


def _constraints(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for entry in document["explain"] if entry["kind"] == "constraint"]


def _replan_args(
    file: Path, flags: Sequence[str], changes: Sequence[str], tmp_path: Path
) -> list[str]:
    """The command line explain's ``changes`` describe: flags added or dropped, file edits."""
    args = list(flags)
    edits: dict[str, Any] = {}
    for change in changes:
        if change.startswith("without --"):
            flag = change.removeprefix("without ")
            at = args.index(flag)
            del args[at : at + 2]  # the flag and its value
        elif change.startswith("--"):
            args.append(change)
        elif change == "without max_price":
            edits["max_price"] = None
        else:
            key, _, value = change.partition(": ")
            assert key in ("spot_policy", "creation_policy"), change
            edits[key] = value
    if edits:
        config = yaml.safe_load(file.read_text())
        for key, value in edits.items():
            if value is None:
                config.pop(key)
            else:
                config[key] = value
        file = tmp_path / f"edited-{len(list(tmp_path.iterdir()))}.yml"
        file.write_text(yaml.safe_dump(config))
    return [str(file), *args, "--no-explain"]


CASES = [
    # Wave survival and the hedge: $0 each alone, 33% together.
    pytest.param("spot-retry.yml", (), id="spot-retry"),
    # The default spread (--no-default-spread) and the hedge.
    pytest.param("spot-retry.yml", ("--no-wave-survival",), id="spot-retry-default-spread"),
    # Capacity limits, max_price (a file edit), the floor and the hedge, in pairs.
    pytest.param(
        "l4-spot.yml",
        ("--capacity", CAPACITY, "--on-demand-floor", "1", "--no-wave-survival"),
        id="l4-spot-capacity-floor",
    ),
    # A dropped default: spot_policy: auto (a file edit) regains wave survival with on-demand
    # replicas, so its "saving" is negative; --no-hedge re-plans to status feasible.
    pytest.param("eu-spot.yml", (), id="eu-spot-default-dropped"),
    # An infeasible plan: the budget makes it so; spot_policy: auto (a file edit) does not help.
    pytest.param("vllm-openai.yml", ("--budget-hourly", "0.01"), id="vllm-openai-infeasible"),
]


@pytest.mark.parametrize(("name", "flags"), CASES)
def test_every_relaxed_cost_is_what_the_flags_produce(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, flags: tuple[str, ...]
) -> None:
    file = EXAMPLES / name
    if name in INLINE:
        file = tmp_path / name
        file.write_text(INLINE[name])
    document = _main_json(capsys, str(file), *flags)
    reports = _constraints(document)
    assert reports
    if name == "eu-spot.yml":
        assert document["status"] == "feasible"
        assert any(report["saving_hourly"] < 0 for report in reports)
    edits = tmp_path / "edits"
    edits.mkdir()
    for report in reports:
        assert report["changes"], report
        again = _main_json(capsys, *_replan_args(file, flags, report["changes"], edits))
        assert again["hourly_cost"] == report["relaxed_hourly_cost"], (report, again["status"])
        assert again["status"] == report["relaxed_status"], report
        if document["status"] != "infeasible" and again["status"] != "infeasible":
            assert report["saving_hourly"] == pytest.approx(
                document["hourly_cost"] - again["hourly_cost"], abs=1e-6
            )
        assert report["makes_feasible"] == (
            document["status"] == "infeasible" and again["status"] != "infeasible"
        )


def test_wave_survival_and_hedge_save_only_together(run_cli: Callable[..., Any]) -> None:
    document = _plan_json(run_cli, str(EXAMPLES / "spot-retry.yml"))
    by_name = {report["constraint"]: report for report in _constraints(document)}
    # Each forces the same third replica: alone, neither saves anything.
    assert by_name["wave_survival"]["saving_hourly"] == 0.0
    assert by_name["availability_hedge"]["saving_hourly"] == 0.0
    assert not by_name["wave_survival"]["binding"]
    pair = by_name["wave_survival + availability_hedge"]
    assert pair["constraints"] == ["wave_survival", "availability_hedge"]
    assert pair["changes"] == ["--no-wave-survival", "--no-hedge"]
    assert pair["binding"] and pair["saving_hourly"] > 0
    assert pair["saving_hourly"] == pytest.approx(document["hourly_cost"] / 3, abs=1e-6)


def test_dropping_wave_survival_reports_the_default_spread_it_brings() -> None:
    # Two low-risk spot domains at $1/h and on-demand at $3/h, 4 replicas: wave survival needs
    # 4 + 4 spot ($8). Without it the hedge alone would take 5 spot in one domain ($5), but
    # --no-wave-survival brings the default spread (≤ 2 spot per domain): 2 + 2 spot + 1
    # on-demand ($7). Explain reports the $7, not the $5 no flag gives.
    offers = offer_frame(
        [
            {"provider": "aws", "region": "r1", "instance_type": "t", "spot": True, "price": 1.0},
            {"provider": "aws", "region": "r2", "instance_type": "t", "spot": True, "price": 1.0},
            {"provider": "aws", "region": "r1", "instance_type": "t", "spot": False, "price": 3.0},
        ]
    )
    config = service(4, spot_policy="auto", retry_events=("no-capacity", "interruption"))
    capacity = CapacityData(rules=(CapacityRule("aws", "*", "t", True, None, 0.05, "test:1"),))
    result = plan_offers(offers, config, capacity=capacity)
    without = plan_offers(
        offers, config, capacity=capacity, options=PlanOptions(wave_survival=False)
    )
    wave = next(report for report in result.constraints if report.name == "wave_survival")
    assert result.hourly_cost == pytest.approx(8.0)
    assert without.hourly_cost == pytest.approx(7.0)
    assert wave.relaxed_hourly_cost == pytest.approx(without.hourly_cost)
    assert wave.saving_hourly == pytest.approx(1.0)
    # Relaxing the default spread with it is the pair (what --no-default-spread adds).
    assert "failure_domain_spread" not in {r.name for r in result.constraints}
    both = plan_offers(
        offers,
        config,
        capacity=capacity,
        options=PlanOptions(wave_survival=False, default_spread=False),
    )
    assert both.hourly_cost == pytest.approx(5.0)


def test_binding_when_relaxing_makes_an_infeasible_plan_feasible(
    run_cli: Callable[..., Any],
) -> None:
    path = str(EXAMPLES / "vllm-openai.yml")
    document = _plan_json(run_cli, path, "--budget-hourly", "0.01")
    assert document["status"] == "infeasible"
    budget = next(r for r in _constraints(document) if r["constraint"] == "budget")
    assert budget["binding"] and budget["makes_feasible"]
    assert budget["relaxed_status"] == "optimal" and budget["saving_hourly"] is None
    # Typed cause, with the words kept in infeasible_reason.
    assert document["infeasible_causes"] == [{"kind": "budget", "budget_hourly": 0.01}]
    assert document["infeasible_reason"] == "budget: no plan costs at most $0.01/hour"
    table = run_cli("plan", path, "--budget-hourly", "0.01")
    assert table.returncode == 1
    row = next(line for line in table.stdout.splitlines() if line.startswith("budget "))
    assert "yes (makes feasible)" in row
    assert "without --budget-hourly" in row


def test_the_typed_cause_is_on_the_plan(tmp_path: Path) -> None:
    import planner

    result = planner.plan(
        EXAMPLES / "vllm-openai.yml", options=planner.PlanOptions(budget_hourly=0.01)
    )
    assert result.infeasible_causes == (BudgetTooLow(budget_hourly=0.01),)
    assert result.infeasible_constraints == ("budget",)
    assert result.to_json()["infeasible_causes"] == [{"kind": "budget", "budget_hourly": 0.01}]


@pytest.mark.parametrize("output", ["table", "markdown", "json"])
def test_the_explain_table_has_a_legend(run_cli: Callable[..., Any], output: str) -> None:
    result = run_cli("plan", str(EXAMPLES / "spot-retry.yml"), "--format", output)
    assert result.returncode == 0, result.stderr
    if output == "json":
        assert json.loads(result.stdout)["explain_legend"] == dict(CONSTRAINT_LEGEND)
        return
    bullet = "- " if output == "markdown" else ""
    headers = ("CONSTRAINT", "BINDING", "TIGHT", "RELAXED", "SAVING/H", "RE-PLAN WITH")
    for column in headers:
        assert column in result.stdout
        assert f"\n{bullet}{column}: " in result.stdout, column


def test_new_switches_turn_each_protection_off(run_cli: Callable[..., Any]) -> None:
    path = str(EXAMPLES / "spot-retry.yml")
    base = _plan_json(run_cli, path, "--no-explain", "--no-wave-survival")
    assert base["settings"]["max_per_domain"] == 1 and base["settings"]["hedge"] is True
    off = _plan_json(
        run_cli, path, "--no-explain", "--no-wave-survival", "--no-hedge", "--no-default-spread"
    )
    assert off["settings"]["max_per_domain"] is None and off["settings"]["hedge"] is False
    assert off["settings"]["default_spread"] is False
    assert off["planned_replicas"] == 2 and off["hourly_cost"] < base["hourly_cost"]
    limits = _plan_json(run_cli, path, "--no-explain", "--no-capacity-limits")
    assert limits["settings"]["capacity_limits"] is False


def test_the_cli_takes_every_switch_explain_relaxes_with(run_cli: Callable[..., Any]) -> None:
    from planner.placement.relaxations import SWITCHES

    help_text = run_cli("plan", "--help").stdout
    for switch in SWITCHES:
        assert switch.flag in help_text, switch
        assert getattr(PlanOptions(), switch.field) is True, switch


# max_price below every offer: the plan is infeasible before any solve (no pool is allowed), so
# only the re-plans without max_price reach the solver — and at 1e-6 s CP-SAT stops before it
# has any plan (it honours the limit: it answers UNKNOWN at once, however small the model).
PRICED_OUT = """\
type: service
name: priced-out
image: vllm/vllm-openai:v0.6.3
commands: [vllm serve model]
port: 8000
replicas: 4
resources:
  gpu: 24GB..80GB:1
spot_policy: auto
max_price: 0.0001
"""


def test_a_replan_stopped_by_the_time_limit_is_unknown_not_infeasible(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    file = tmp_path / "priced-out.yml"
    file.write_text(PRICED_OUT)
    document = _plan_json(run_cli, str(file), "--time-limit", "1e-6")
    assert document["status"] == "infeasible"
    by_name = {report["constraint"]: report for report in _constraints(document)}
    price = by_name["max_price"]
    assert price["relaxed_status"] == "time-limit"
    assert price["binding"] is None and not price["makes_feasible"]
    assert price["saving_hourly"] is None and price["relaxed_hourly_cost"] is None
    # The diagnosis does not blame the replica total: it says the time limit stopped it.
    assert document["infeasible_causes"] == [{"kind": "time-limit", "time_limit_seconds": 1e-6}]
    # With time, the same relaxation is solved and binding (makes feasible), proven optimal.
    solved = _plan_json(run_cli, str(file))
    price = next(r for r in _constraints(solved) if r["constraint"] == "max_price")
    assert price["relaxed_status"] == "optimal" and price["binding"] is True
    assert price["relaxed_cost_proven_optimal"] is True
    for fmt in ("table", "markdown"):
        text = run_cli("plan", str(file), "--time-limit", "1e-6", "--format", fmt).stdout
        row = next(line for line in text.splitlines() if "without max_price" in line)
        assert "unknown" in row and "time-limit" in row, row


def test_a_relaxed_cost_found_at_the_time_limit_is_marked_not_proven(tmp_path: Path) -> None:
    import dataclasses

    import planner

    file = tmp_path / "priced-out.yml"
    file.write_text(PRICED_OUT)
    result = planner.plan(file)
    (price,) = [report for report in result.constraints if report.name == "max_price"]
    assert price.relaxed_status == "optimal" and not price.relaxed_time_limit
    assert price.to_json()["relaxed_cost_proven_optimal"] is True
    # The same re-plan as a solver stopped by the time limit with a plan reports it (the cost of
    # a CP-SAT FEASIBLE answer); which solves stop there depends on the machine's speed.
    stopped = dataclasses.replace(price, relaxed_status="feasible", relaxed_time_limit=True)
    marked = dataclasses.replace(result, constraints=(stopped,))
    cost = money(price.relaxed_hourly_cost) + "*"
    for text in (render_plan_table(marked), render_plan_markdown(marked)):
        row = next(line for line in text.splitlines() if "without max_price" in line)
        assert cost in row and "feasible" in row, row
        assert "* not proven optimal" in text
    (entry,) = _constraints(json.loads(render_plan_json(marked)))
    assert entry["relaxed_cost_proven_optimal"] is False and entry["binding"] is True
