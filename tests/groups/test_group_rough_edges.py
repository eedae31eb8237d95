"""Replica groups, the rough edges (issue 11, points 3 and 5): the one-GPU default's note per
group, explain of a group plan adding up to what the printed flags re-plan to, and the scope of
--max-per-domain (service-wide) and --on-demand-floor (per group), through the CLI."""

from __future__ import annotations

import collections
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from planner.cli import main
from planner.render.plan import CONSTRAINT_LEGEND

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PD = EXAMPLES / "replica-groups.yml"
TWO_SIZES = EXAMPLES / "replica-groups-rps.yml"

# Two stages of one CPU service, each sized for the whole traffic, spot allowed.
TWO_STAGES = """\
type: service
name: two-stages
port: 8000
image: python:3.11
spot_policy: auto
groups:
  - name: first
    count: 1..4
    scaling: {metric: rps, target: 10}
    commands: [python first.py]
    resources: {cpu: 4, memory: 16GB, gpu: 0}
  - name: second
    count: 1..4
    scaling: {metric: rps, target: 10}
    commands: [python second.py]
    resources: {cpu: 4, memory: 16GB, gpu: 0}
"""
AWS_CSV = """\
instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot,disk_size,gpu_vendor,flags,cpu_arch,provider_data
m5.xlarge,us-east-1,0.20,4,16.0,0,,,False,,,,x86,
m5.xlarge,us-west-2,0.21,4,16.0,0,,,False,,,,x86,
m5.xlarge,us-east-1,0.05,4,16.0,0,,,True,,,,x86,
m5.xlarge,us-west-2,0.06,4,16.0,0,,,True,,,,x86,
"""


def _two_stages(tmp_path: Path) -> tuple[Path, Path]:
    service = tmp_path / "two-stages.yml"
    service.write_text(TWO_STAGES)
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "aws.csv").write_text(AWS_CSV)
    return service, catalog / "aws.csv"


def _main_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """``planner plan ... --format json`` through the CLI's own entry point, in this process."""
    capsys.readouterr()
    code = main(["plan", *args, "--format", "json"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    document: dict[str, Any] = json.loads(out)
    return document


# --------------------------------------------------------------------------------------------
# 1. The one-GPU default, per group.


def _uncounted(tmp_path: Path) -> Path:
    """The prefill/decode service with the prefill GPU written without a count."""
    service = tmp_path / "pd-uncounted.yml"
    text = PD.read_text()
    assert "gpu: H100:1\n" in text
    service.write_text(text.replace("gpu: H100:1\n", "gpu: H100\n"))
    return service


def test_the_gpu_default_note_is_given_per_group_in_offers(run_cli: Any, tmp_path: Path) -> None:
    service = str(_uncounted(tmp_path))
    table = run_cli("offers", service, "--max-offers", "1")
    assert table.returncode == 0, table.stderr
    # In the prefill section: after its title, before the decode group's.
    prefill = table.stdout.split("group prefill (")[1].split("group decode (")[0]
    notes = [line for line in prefill.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1, table.stdout
    assert "replica group 'prefill'" in notes[0] and "`gpu: H100:1..`" in notes[0]
    assert table.stdout.count("a GPU without a count means exactly one") == 1
    document = json.loads(run_cli("offers", service, "--format", "json").stdout)
    defaults = {e["group"]: e["gpu_count_default"] for e in document["replica_groups"]}
    assert defaults["router"] is None and defaults["decode"] is None
    assert defaults["prefill"]["spelling"] == "H100:1.."
    assert defaults["prefill"]["excluded"] > 0 and defaults["prefill"]["cheapest_price"] > 0
    csv_run = run_cli("offers", service, "--format", "csv")
    assert "replica group 'prefill'" in csv_run.stderr
    assert "a GPU without a count" not in csv_run.stdout
    # The written count (the example as shipped) gets no note.
    written = run_cli("offers", str(PD), "--format", "json")
    assert all(e["gpu_count_default"] is None for e in json.loads(written.stdout)["replica_groups"])


@pytest.mark.parametrize("output", ["table", "markdown", "json"])
def test_the_gpu_default_note_is_given_per_group_in_plan(
    run_cli: Any, tmp_path: Path, output: str
) -> None:
    service = str(_uncounted(tmp_path))
    result = run_cli("plan", service, "--no-explain", "--format", output)
    assert result.returncode == 0, result.stderr
    if output == "json":
        document = json.loads(result.stdout)
        defaults = {entry["group"]: entry["gpu_count_default"] for entry in document["groups"]}
        assert defaults["router"] is None and defaults["decode"] is None
        assert defaults["prefill"]["spelling"] == "H100:1.."
        offers = json.loads(run_cli("offers", service, "--format", "json").stdout)
        assert defaults["prefill"] == offers["replica_groups"][1]["gpu_count_default"]
    else:
        assert "replica group 'prefill': a GPU without a count means exactly one" in result.stdout
        assert "`gpu: H100:1..`" in result.stdout


# --------------------------------------------------------------------------------------------
# 2. Explain of a group plan adds up.


def _replan_args(flags: Sequence[str], changes: Sequence[str]) -> list[str]:
    args = list(flags)
    for change in changes:
        if change.startswith("without --"):
            at = args.index(change.removeprefix("without "))
            del args[at : at + 2]
        else:
            assert change.startswith("--"), change  # a group plan relaxes by flags only
            args.append(change)
    return [*args, "--no-explain"]


@pytest.mark.parametrize(
    ("name", "flags"),
    [
        pytest.param("pd", (), id="prefill-decode"),
        pytest.param("pd", ("--max-per-domain", "1", "--on-demand-floor", "1"), id="pd-spread"),
        pytest.param("two-sizes", ("--rps", "50"), id="two-sizes-rps"),
        pytest.param("two-stages", ("--rps", "30", "--on-demand-floor", "2"), id="two-stages"),
    ],
)
def test_every_group_saving_is_what_the_printed_flags_produce(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, flags: tuple[str, ...]
) -> None:
    if name == "two-stages":
        service, catalog = _two_stages(tmp_path)
        flags = (*flags, "--catalog", str(catalog))
    else:
        service = PD if name == "pd" else TWO_SIZES
    document = _main_json(capsys, str(service), *flags)
    assert document["status"] != "infeasible"
    reports = [entry for entry in document["explain"] if entry["kind"] == "constraint"]
    names = {report["constraint"] for report in reports}
    assert "group_domain_survival" in names or name == "pd-spread", names
    if "--on-demand-floor" in flags:
        assert "on_demand_floor" in names
    for report in reports:
        assert report["changes"], report
        again = _main_json(capsys, str(service), *_replan_args(flags, report["changes"]))
        assert again["status"] == report["relaxed_status"], report
        assert again["hourly_cost"] == report["relaxed_hourly_cost"], report
        assert report["saving_hourly"] == pytest.approx(
            document["hourly_cost"] - again["hourly_cost"], abs=1e-6
        )
    survival = next(r for r in reports if r["constraint"] == "group_domain_survival")
    assert survival["changes"] == ["--no-group-survival"]


@pytest.mark.parametrize("output", ["table", "markdown"])
def test_the_group_explain_table_has_the_re_plan_column_and_legend(
    run_cli: Any, output: str
) -> None:
    result = run_cli("plan", str(PD), "--format", output)
    assert result.returncode == 0, result.stderr
    bullet = "- " if output == "markdown" else ""
    assert "RE-PLAN WITH" in result.stdout
    for column, meaning in CONSTRAINT_LEGEND:
        assert f"\n{bullet}{column}: {meaning}" in result.stdout, column
    row = next(line for line in result.stdout.splitlines() if "group_domain_survival" in line)
    assert "--no-group-survival" in row


def test_no_group_survival_drops_the_rule_and_its_note(capsys: pytest.CaptureFixture[str]) -> None:
    kept = _main_json(capsys, str(PD), "--no-explain")
    off = _main_json(capsys, str(PD), "--no-explain", "--no-group-survival")
    assert kept["settings"]["group_survival"] is True and off["settings"]["group_survival"] is False
    assert off["hourly_cost"] < kept["hourly_cost"]
    assert not any("one replica each" in note for note in off["notes"])
    assert any("one replica each" in note for note in kept["notes"])


# --------------------------------------------------------------------------------------------
# 3. --max-per-domain is service-wide, --on-demand-floor per group.


@pytest.mark.parametrize("limit", [1, 2])
def test_max_per_domain_counts_every_group_in_a_domain(
    capsys: pytest.CaptureFixture[str], limit: int
) -> None:
    document = _main_json(capsys, str(PD), "--no-explain", "--max-per-domain", str(limit))
    assert document["status"] == "optimal"
    settings = document["settings"]
    assert settings["max_per_domain"] == limit and settings["max_per_domain_scope"] == "service"
    per_domain = collections.Counter()
    for placement in document["placements"]:
        per_domain[placement["failure_domain"]] += placement["count"]
    assert max(per_domain.values()) <= limit, per_domain
    # Without the limit the cheapest plan puts two groups in one domain: the limit binds.
    free = _main_json(capsys, str(PD), "--no-explain")
    free_domains = collections.Counter()
    for placement in free["placements"]:
        free_domains[placement["failure_domain"]] += placement["count"]
    assert max(free_domains.values()) > 1


def test_the_on_demand_floor_holds_in_every_group_at_its_target(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    service, catalog = _two_stages(tmp_path)
    args = (str(service), "--catalog", str(catalog), "--rps", "30", "--no-explain")
    document = _main_json(capsys, *args, "--on-demand-floor", "2")
    assert document["settings"]["on_demand_floor_scope"] == "group"
    targets = {group["group"]: group["target_replicas"] for group in document["groups"]}
    assert targets == {"first": 3, "second": 3}
    steady = collections.Counter()
    for placement in document["placements"]:
        if placement["capacity_type"] != "spot":
            steady[placement["group"]] += placement["count"]
    # The floor, capped at each group's target (3 here, above its minimum of 1).
    assert steady == {"first": 2, "second": 2}
    # A floor above a group's target means every replica of it.
    every = _main_json(capsys, *args, "--on-demand-floor", "9")
    for group in every["groups"]:
        on_demand = sum(
            p["count"]
            for p in every["placements"]
            if p["group"] == group["group"] and p["capacity_type"] != "spot"
        )
        assert on_demand >= group["target_replicas"]
