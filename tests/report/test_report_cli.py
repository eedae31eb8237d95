"""`planner report` as CI runs it: real subprocesses, every format, each gate's exit code.

Prices are hand-set (report_files.ROWS): the chat service is $0.80/h ($584/month), embed $0.20/h
($146/month); the total $1.00/h, $730/month.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from markdown_it import MarkdownIt
from report_files import EMBED, SECRETS, chat, write_catalog

from planner.cost_report import SCHEMA_PATH

FIXED_TIME = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01T00:00:00Z


@pytest.fixture
def repo(services: Callable[..., Path]) -> Path:
    return services("repo", {"chat.yml": chat("1..2"), "embed.yml": EMBED, "fleet.yml": "x: 1\n"})


def _report(run_cli: Any, catalog_dir: Path, *args: str, **kwargs: Any) -> Any:
    return run_cli("report", *args, "--catalog", str(catalog_dir), env=FIXED_TIME, **kwargs)


def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_json_validates_against_the_published_schema(
    run_cli: Any, catalog_dir: Path, repo: Path, tmp_path: Path
) -> None:
    result = _report(run_cli, catalog_dir, str(repo), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    validator = _schema_validator()
    validator.validate(document)
    assert document["generated_at"] == "2026-01-01T00:00:00Z"
    assert document["total"] == {
        "hourly_cost": "1.000000",
        "monthly_cost": "730.000000",
        "services": 2,
        "infeasible": 0,
    }
    assert document["catalog"]["as_of"] == "2026-01-01"
    assert document["catalog"]["sources"][0]["location"] == str(catalog_dir)
    chat_doc = next(item for item in document["services"] if item["key"] == "chat.yml")
    assert chat_doc["cost_at_max"] == {"hourly_cost": "1.600000", "monthly_cost": "1168.000000"}
    assert chat_doc["envelope"] is None
    assert "note: skipped" in result.stderr and "fleet.yml" in result.stderr

    # The same report again as the baseline of a pricier catalog: the diff validates too, and
    # the schema is not vacuous (a float where money is a string is refused).
    baseline = tmp_path / "before.json"
    baseline.write_text(result.stdout)
    pricier = write_catalog(tmp_path / "pricier", price_factor=1.5)
    again = run_cli(
        "report", str(repo), "--catalog", str(pricier), "--baseline", str(baseline),
        "--format", "json", env=FIXED_TIME,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    diffed = json.loads(again.stdout)
    validator.validate(diffed)
    assert diffed["baseline"]["catalog_changed"] is True
    assert {item["cause"] for item in diffed["baseline"]["services"]} == {"prices"}
    assert diffed["baseline"]["total"]["delta_monthly_cost"] == "365.000000"
    diffed["total"]["hourly_cost"] = 1.5
    assert not validator.is_valid(diffed)


def test_the_report_time_is_reproducible(run_cli: Any, catalog_dir: Path, repo: Path) -> None:
    first = _report(run_cli, catalog_dir, str(repo), "--format", "json")
    second = _report(run_cli, catalog_dir, str(repo), "--format", "json")
    assert first.returncode == 0 and first.stdout == second.stdout


def test_the_report_time_option_and_epoch() -> None:
    from datetime import UTC, datetime

    from planner.cli.report import _report_time
    from planner.errors import InputError

    assert _report_time("2025-06-01T08:00:00+02:00", "1") == datetime(2025, 6, 1, 6, tzinfo=UTC)
    assert _report_time(None, "1767225600") == datetime(2026, 1, 1, tzinfo=UTC)
    assert _report_time(None, None) is None
    with pytest.raises(InputError, match="--time: expected an ISO 8601 time"):
        _report_time("yesterday", None)
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH: expected whole seconds"):
        _report_time(None, "soon")


def _markdown_tokens(text: str) -> list[Any]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def test_markdown_renders_tables_and_balanced_details(
    run_cli: Any, catalog_dir: Path, repo: Path, services: Callable[..., Path]
) -> None:
    old = services("old", {"chat.yml": chat("1"), "gone.yml": EMBED})
    result = _report(
        run_cli, catalog_dir, str(repo), "--baseline", str(old), "--format", "markdown"
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("<!-- planner-cost-report -->\n")
    tokens = _markdown_tokens(text)
    tables = [token for token in tokens if token.type == "table_open"]
    assert len(tables) == 3  # the overview and one per service
    header_cells = [
        [child.content for child in _inline_cells(tokens, index)]
        for index, token in enumerate(tokens)
        if token.type == "thead_open"
    ]
    assert header_cells[0][:5] == ["Service", "File", "Replicas", "Hourly", "Monthly"]
    html = "".join(token.content for token in tokens if token.type == "html_block")
    assert html.count("<details>") == html.count("</details>") == 1
    assert "<summary>" in html
    # The one-line summary: old → new with the change and its direction.
    # old: 0.8 + 0.2 = 1.0/h = $730; new: 0.8 + 0.2 = 1.0/h; chat gained a range, gone removed,
    # embed added: same total, so "no change" is the honest line.
    summary = next(line for line in text.splitlines() if line.startswith("**Monthly cost"))
    assert "no change" in summary and "1 added, 1 removed, 0 changed" in summary


def _inline_cells(tokens: list[Any], start: int) -> list[Any]:
    cells = []
    for token in tokens[start:]:
        if token.type == "thead_close":
            break
        if token.type == "inline":
            cells.append(token)
    return cells


def test_markdown_summary_says_up_and_names_failures_at_the_top(
    run_cli: Any, catalog_dir: Path, repo: Path, services: Callable[..., Path]
) -> None:
    old = services("old", {"chat.yml": chat("1"), "embed.yml": EMBED})
    (repo / "chat.yml").write_text(chat("2..3"))
    result = _report(
        run_cli, catalog_dir, str(repo), "--baseline", str(old), "--format", "markdown",
        "--max-increase", "10%",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[3].startswith("> **Budget check failed**") and "the total" in lines[3]
    summary = next(line for line in lines if line.startswith("**Monthly cost"))
    # 1.0/h → 1.8/h: up $584.00/month (+80.00%)
    assert "↑ up $584.00/month (+80.00%)" in summary and "$730.00 → $1,314.00" in summary
    assert len([t for t in _markdown_tokens(result.stdout) if t.type == "table_open"]) == 3


def test_table_format(run_cli: Any, catalog_dir: Path, repo: Path) -> None:
    result = _report(run_cli, catalog_dir, str(repo))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["SERVICE", "FILE", "STATUS", "REPLICAS"]
    chat_line = next(line for line in lines if line.startswith("chat "))
    assert chat_line.split()[2:8] == ["optimal", "1..2", "$0.80", "$584.00", "$0.80", "$1.60"]
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert total.split()[1:] == ["$1.00", "$730.00"]


@pytest.mark.parametrize(
    ("flags", "code", "named"),
    [
        (("--budget-hourly", "0.99"), 1, "the total: $1.00/h, over the hourly budget of $0.99/h"),
        (("--budget-monthly", "730", "--budget-hourly", "1"), 0, None),
    ],
)
def test_budget_gates_exit_codes(
    run_cli: Any,
    catalog_dir: Path,
    repo: Path,
    flags: tuple[str, ...],
    code: int,
    named: str | None,
) -> None:
    """The boundaries of every gate are in test_report_gates.py; here the exit codes."""
    result = _report(run_cli, catalog_dir, str(repo), *flags)
    assert result.returncode == code, result.stderr
    if named:
        assert named in result.stdout
        assert "Budget check failed: over the line: the total" in result.stdout


def test_max_increase_gate_exit_codes(
    run_cli: Any, catalog_dir: Path, repo: Path, services: Callable[..., Path]
) -> None:
    old = services("old", {"chat.yml": chat("1"), "embed.yml": EMBED})
    (repo / "chat.yml").write_text(chat("2..3"))  # +$0.80/h = +$584/month on a $730 total
    over = _report(run_cli, catalog_dir, str(repo), "--baseline", str(old), "--max-increase", "583")
    assert over.returncode == 1, over.stderr
    assert "the total: up $584.00/month, over the maximum increase of $583.00/month" in over.stdout
    without = _report(run_cli, catalog_dir, str(repo), "--max-increase", "10%")
    assert without.returncode == 2 and "add --baseline" in without.stderr


def test_policy_file_gates_name_the_services(
    run_cli: Any, catalog_dir: Path, repo: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "services:\n  chat:\n    budget_hourly: 0.5\n  embed.yml:\n    budget_monthly: 200\n"
    )
    result = _report(run_cli, catalog_dir, str(repo), "--policy", str(policy), "--format", "json")
    assert result.returncode == 1, result.stderr
    failures = json.loads(result.stdout)["gates"]["failures"]
    assert failures == [
        {"gate": "budget-hourly", "service": "chat.yml", "limit": "0.5", "actual": "0.800000"}
    ]
    policy.write_text("services:\n  chat.yml:\n    budget_hourly: -1\n")
    negative = _report(run_cli, catalog_dir, str(repo), "--policy", str(policy))
    assert negative.returncode == 2
    assert f'{policy}:3:20: services["chat.yml"].budget_hourly:' in negative.stderr
    assert "Traceback" not in negative.stderr


def test_bad_input_exits_2_naming_the_file(run_cli: Any, catalog_dir: Path, repo: Path) -> None:
    (repo / "broken.yml").write_text("type: service\nport: 80\nreplicas: many\n")
    result = _report(run_cli, catalog_dir, str(repo))
    assert result.returncode == 2
    assert f"{repo / 'broken.yml'}:3:11: replicas:" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


@pytest.mark.parametrize("output", ["json", "markdown", "table"])
def test_secrets_never_appear(
    run_cli: Any, catalog_dir: Path, services: Callable[..., Path], output: str
) -> None:
    root = services("repo", {"chat.yml": chat("1..2"), "embed.yml": EMBED})
    old = services("old", {"chat.yml": chat("1")})
    result = _report(
        run_cli, catalog_dir, str(root), "--baseline", str(old), "--format", output,
        "--budget-hourly", "0.1",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "chat" in result.stdout
    for secret in SECRETS:
        assert secret not in result.stdout and secret not in result.stderr


def test_examples_directory_on_the_bundled_catalog(run_cli: Any, repo_dir: Path) -> None:
    result = run_cli("report", str(repo_dir / "examples"), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert "autoscaled.yml" in result.stdout
    assert "Skipped" in result.stdout and "capacity.csv" in result.stdout
