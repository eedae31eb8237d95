"""`planner report --traffic`: the autoscaling cost envelope per service, in every format.

Prices are hand-set (report_files.ROWS): one chat replica is a g6.xlarge at $0.80/h (on-demand),
embed is fixed at $0.20/h; chat's scaling target is 10 rps per replica, with dstack's default
delays (scale up 300 s, scale down 600 s).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from markdown_it import MarkdownIt
from report_files import EMBED, SECRETS, chat

import planner
from planner.cost_report import SCHEMA_PATH
from planner.errors import InputError
from planner.simulate import load_traffic

FIXED_TIME = {"SOURCE_DATE_EPOCH": "1767225600"}
HOUR = 3600

# chat: 46 h at 5 rps (1 replica), then 2 h at 35 rps (4 replicas) until the trace ends at 48 h.
# cost: 46 × 0.80 + 2 × 3.20 = 43.20 over 48 h = $0.90/h → $657.00/month expected.
# 24 h windows from 0 h to 24 h in 1 h steps (25): 23 windows miss the spike ($0.80/h), the one
# from 23 h holds 1 h of it ($0.90/h), the one from 24 h both hours ($1.00/h).
# P95 = sorted[22.8] = 0.80 + 0.8 × 0.10 = $0.88/h → $642.40; worst $1.00/h → $730.00.
# replica-hours: 46 + 8 = 54 on-demand; per month 54 × 730 / 48 = 821.25.
# summarize: 15 rps for 1 h → 2 replicas throughout: $1.60/h → $1,168.00, no scaling event.
PER_SERVICE_TRACE = f"""\
service,timestamp,rps
chat,0,5
chat,{46 * HOUR},35
chat,{48 * HOUR},35
summarize,0,15
summarize,{HOUR},15
"""

# Shared: 1 h at 5 rps, 1 h at 35 rps, 1 h at 5 rps.
# chat (1..4): 1, 4, 1 replicas → (0.8 + 3.2 + 0.8) / 3 = $1.60/h → $1,168.00; 6 replica-hours.
# summarize (1..2): clamped at 2 in the middle hour → (0.8 + 1.6 + 0.8) / 3 = $1.066667/h
# → 1.066667 × 730 = $778.666910 (the hourly amount as written, × 730).
SHARED_TRACE = f"timestamp,rps\n0,5\n{HOUR},35\n{2 * HOUR},5\n{3 * HOUR},5\n"


def _summarize(replicas: str) -> str:
    return chat(replicas).replace("name: chat", "name: summarize")


@pytest.fixture
def repo(services: Callable[..., Path]) -> Path:
    return services(
        "repo",
        {
            "chat.yml": chat("1..4"),
            "summarize.yml": _summarize("1..3"),
            "embed.yml": EMBED,
        },
    )


def _report(run_cli: Any, catalog_dir: Path, *args: str, **kwargs: Any) -> Any:
    env = {**FIXED_TIME, **kwargs.pop("env", {})}
    return run_cli("report", *args, "--catalog", str(catalog_dir), env=env, **kwargs)


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def _by_key(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {service["key"]: service for service in document["services"]}


def test_per_service_trace_hand_computed_and_schema_valid(
    run_cli: Any, catalog_dir: Path, repo: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text(PER_SERVICE_TRACE)
    result = _report(run_cli, catalog_dir, str(repo), "--traffic", str(trace), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    validator = _validator()
    validator.validate(document)
    services = _by_key(document)
    chat_envelope = services["chat.yml"]["envelope"]
    assert chat_envelope["trace_file"] == str(trace)
    assert chat_envelope["shared_trace"] is False
    assert chat_envelope["expected_hourly_cost"] == "0.900000"
    assert chat_envelope["expected_monthly_cost"] == "657.000000"
    assert chat_envelope["p95_monthly_cost"] == "642.400000"
    assert chat_envelope["worst_monthly_cost"] == "730.000000"
    assert chat_envelope["replica_hours"] == {"on-demand": 54.0}
    assert chat_envelope["replica_hours_monthly"] == {"on-demand": 821.25}
    assert chat_envelope["windows"] == 25 and chat_envelope["window_hours"] == 24.0
    assert chat_envelope["scaling_events"] == 1
    assert chat_envelope["replicas_seen"] == {"min": 1, "max": 4}
    summarize = services["summarize.yml"]["envelope"]
    assert summarize["expected_monthly_cost"] == "1168.000000"
    assert summarize["p95_monthly_cost"] == summarize["worst_monthly_cost"] == "1168.000000"
    assert summarize["scaling_events"] == 0 and summarize["replicas_seen"] == {"min": 2, "max": 2}
    assert services["chat.yml"]["envelope_note"] is None

    # No envelope, and a note saying why.
    assert services["embed.yml"]["envelope"] is None
    assert "fixed replica count" in services["embed.yml"]["envelope_note"]

    # The plan's cost (and so the total) is untouched by the trace.
    assert services["chat.yml"]["monthly_cost"] == "584.000000"
    assert document["total"]["monthly_cost"] == "1314.000000"  # 0.8 × 2 + 0.2 = 1.8/h

    # The schema is not vacuous about the envelope: a float where money is a string is refused.
    chat_envelope["expected_monthly_cost"] = 657.0
    assert not validator.is_valid(document)
    chat_envelope["expected_monthly_cost"] = "657.000000"
    del chat_envelope["replica_hours"]
    assert not validator.is_valid(document)


def test_shared_trace_hand_computed(
    run_cli: Any, catalog_dir: Path, services: Callable[..., Path], tmp_path: Path
) -> None:
    root = services("shared", {"chat.yml": chat("1..4"), "summarize.yml": _summarize("1..2")})
    trace = tmp_path / "shared.csv"
    trace.write_text(SHARED_TRACE)
    result = _report(run_cli, catalog_dir, str(root), "--traffic", str(trace), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    _validator().validate(document)
    services_doc = _by_key(document)
    chat_envelope = services_doc["chat.yml"]["envelope"]
    assert chat_envelope["shared_trace"] is True
    assert chat_envelope["expected_monthly_cost"] == "1168.000000"
    assert chat_envelope["replica_hours"] == {"on-demand": 6.0}
    assert chat_envelope["scaling_events"] == 2
    summarize = services_doc["summarize.yml"]["envelope"]
    assert summarize["expected_hourly_cost"] == "1.066667"
    assert summarize["expected_monthly_cost"] == "778.666910"
    assert summarize["replicas_seen"] == {"min": 1, "max": 2}  # clamped at max


def test_per_service_trace_without_rows_for_a_service_notes_it(
    run_cli: Any, catalog_dir: Path, services: Callable[..., Path], tmp_path: Path
) -> None:
    root = services("two", {"chat.yml": chat("1..4"), "summarize.yml": _summarize("1..3")})
    trace = tmp_path / "chat-only.csv"
    trace.write_text(f"service,timestamp,rps\nchat.yml,0,5\nchat.yml,{HOUR},5\n")  # by key
    result = _report(run_cli, catalog_dir, str(root), "--traffic", str(trace), "--format", "json")
    assert result.returncode == 0, result.stderr
    services_doc = _by_key(json.loads(result.stdout))
    assert services_doc["chat.yml"]["envelope"]["expected_monthly_cost"] == "584.000000"
    assert services_doc["summarize.yml"]["envelope"] is None
    assert services_doc["summarize.yml"]["envelope_note"] == (
        "the trace has no rows for this service"
    )


def test_without_a_trace_a_range_is_reported_at_min_and_max_only(
    run_cli: Any, catalog_dir: Path, repo: Path
) -> None:
    result = _report(run_cli, catalog_dir, str(repo), "--format", "json")
    assert result.returncode == 0, result.stderr
    for service in json.loads(result.stdout)["services"]:
        assert service["envelope"] is None and service["envelope_note"] is None
    chat_doc = _by_key(json.loads(result.stdout))["chat.yml"]
    assert chat_doc["cost_at_max"]["hourly_cost"] == "3.200000"


def _tokens(text: str) -> list[Any]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def test_markdown_tables_details_and_plot_link(
    run_cli: Any, catalog_dir: Path, repo: Path, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    trace = tmp_path / "trace.csv"
    trace.write_text(PER_SERVICE_TRACE)
    result = _report(
        run_cli, catalog_dir, str(repo), "--traffic", str(trace), "--plot-dir", "plots",
        "--format", "markdown",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    tokens = _tokens(text)
    # The overview, 3 placement tables, and two (costs, replica-hours) per envelope (2).
    tables = [token for token in tokens if token.type == "table_open"]
    assert len(tables) == 1 + 3 + 2 * 2
    # Well-formed: every row of a table has as many cells as its header.
    for start in (index for index, token in enumerate(tokens) if token.type == "table_open"):
        widths = []
        cells = 0
        for token in tokens[start:]:
            if token.type in ("th_open", "td_open"):
                cells += 1
            elif token.type == "tr_close":
                widths.append(cells)
                cells = 0
            elif token.type == "table_close":
                break
        assert len(set(widths)) == 1, widths
    html = "".join(token.content for token in tokens if token.type == "html_block")
    assert html.count("<details>") == html.count("</details>") == 1
    header = next(
        [child.content for child in tokens[index + 1 :] if child.type == "inline"][:6]
        for index, token in enumerate(tokens)
        if token.type == "thead_open"
    )
    assert header[5] == "Expected monthly (trace)"
    assert "| chat | `chat.yml` | 1..4 | $0.80 | $584.00 | $657.00 |" in text
    assert "| P95 (24.0 h windows) | $642.40 |" in text
    assert "| Worst (24.0 h windows) | $730.00 |" in text
    assert "| on-demand | 54.0 | 821.2 |" in text or "| on-demand | 54.0 | 821.3 |" in text
    assert "No autoscaling cost envelope: a fixed replica count" in text
    # The image links are relative to the working directory, and the files are PNGs.
    images = [
        child.attrs["src"]
        for token in tokens
        if token.type == "inline"
        for child in token.children or []
        if child.type == "image"
    ]
    assert sorted(images) == ["plots/chat.yml.png", "plots/summarize.yml.png"]
    for image in images:
        assert not os.path.isabs(image)
        assert (tmp_path / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "plots" / "embed.yml.png").exists()


def test_table_format_shows_the_envelope_and_the_notes(
    run_cli: Any, catalog_dir: Path, repo: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text(PER_SERVICE_TRACE)
    result = _report(run_cli, catalog_dir, str(repo), "--traffic", str(trace))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("FILE") and "EXPECTED" in line)
    assert header.split() == ["FILE", "EXPECTED/MONTH", "P95/MONTH", "WORST/MONTH",
                              "REPLICA-HOURS/MONTH"]  # fmt: skip
    chat_row = next(line for line in lines if line.startswith("chat.yml ") and "$657.00" in line)
    assert chat_row.split()[1:4] == ["$657.00", "$642.40", "$730.00"]
    assert "embed.yml: no autoscaling cost envelope: a fixed replica count" in result.stdout


def test_budget_gates_stay_on_the_plans_cost(
    run_cli: Any, catalog_dir: Path, services: Callable[..., Path], tmp_path: Path
) -> None:
    # The plan: $0.80/h = $584/month; the trace's expected cost: $1,168/month.
    root = services("gate", {"chat.yml": chat("1..4")})
    trace = tmp_path / "shared.csv"
    trace.write_text(SHARED_TRACE)
    passing = _report(run_cli, catalog_dir, str(root), "--traffic", str(trace),
                      "--budget-monthly", "1000")  # fmt: skip
    assert passing.returncode == 0, passing.stderr
    failing = _report(run_cli, catalog_dir, str(root), "--traffic", str(trace),
                      "--budget-monthly", "500")  # fmt: skip
    assert failing.returncode == 1, failing.stderr


@pytest.mark.parametrize(
    ("content", "location", "message"),
    [
        ("timestamp,rps\n0,5\n60,fast\n", ":3:4:", "rps 'fast' is not a number"),
        ("timestamp,rps\n0,5\n60,-1\n", ":3:4:", "negative"),
        ("timestamp,rps\n0,5\n0,6\n", ":3:1:", "does not increase"),
        ("timestamp,rps,region\n0,5,x\n60,5,x\n", ":1:15:", "unknown column 'region'"),
        ("timestamp,rps\n0,5\n2026-01-01T00:00:00Z,5\n", ":3:1:", "timestamps are numbers"),
        ("timestamp,rps\n0,5\n", ":2:", "at least two rows"),
        ("rps\n5\n", ":1:1:", "missing column 'timestamp'"),
        ("timestamp,rps\n0,5,9\n60,5\n", ":2:1:", "expected 2 fields, found 3"),
    ],
)
def test_bad_trace_files_exit_2_with_file_line_column(
    run_cli: Any,
    catalog_dir: Path,
    repo: Path,
    tmp_path: Path,
    content: str,
    location: str,
    message: str,
) -> None:
    trace = tmp_path / "bad.csv"
    trace.write_text(content)
    result = _report(run_cli, catalog_dir, str(repo), "--traffic", str(trace))
    assert result.returncode == 2, result.stderr
    assert f"{trace}{location}" in result.stderr and message in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_trace_rows_for_an_unknown_service_exit_2(
    run_cli: Any, catalog_dir: Path, repo: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "typo.csv"
    trace.write_text("service,timestamp,rps\nchta,0,5\nchta,60,5\n")
    result = _report(run_cli, catalog_dir, str(repo), "--traffic", str(trace))
    assert result.returncode == 2
    assert f"{trace}: service: the trace has rows for 'chta'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_trace_file_and_plot_dir_without_trace_exit_2(
    run_cli: Any, catalog_dir: Path, repo: Path, tmp_path: Path
) -> None:
    missing = _report(run_cli, catalog_dir, str(repo), "--traffic", str(tmp_path / "no.csv"))
    assert missing.returncode == 2 and "no such traffic file" in missing.stderr
    alone = _report(run_cli, catalog_dir, str(repo), "--plot-dir", "plots")
    assert alone.returncode == 2 and "--plot-dir plots a traffic replay: add --traffic" in (
        alone.stderr
    )
    assert "Traceback" not in missing.stderr + alone.stderr


def test_plot_dir_without_matplotlib_exits_2_naming_the_extra(
    run_cli: Any, catalog_dir: Path, repo: Path, tmp_path: Path
) -> None:
    # A matplotlib that cannot be imported, first on the path: as if the extra were missing.
    fake = tmp_path / "no-matplotlib" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('matplotlib is not installed')\n")
    trace = tmp_path / "trace.csv"
    trace.write_text(SHARED_TRACE)
    path = os.pathsep.join(filter(None, [str(fake.parent), os.environ.get("PYTHONPATH")]))
    result = _report(
        run_cli, catalog_dir, str(repo), "--traffic", str(trace), "--plot-dir", "plots",
        env={"PYTHONPATH": path},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "pip install 'planner[plot]'" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "plots").exists()


@pytest.mark.parametrize("output", ["json", "markdown", "table"])
def test_secrets_never_appear_with_a_trace(
    run_cli: Any, catalog_dir: Path, repo: Path, tmp_path: Path, output: str
) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text(PER_SERVICE_TRACE)
    result = _report(run_cli, catalog_dir, str(repo), "--traffic", str(trace), "--format", output)
    assert result.returncode == 0, result.stderr
    assert "657.00" in result.stdout
    for secret in SECRETS:
        assert secret not in result.stdout and secret not in result.stderr


def test_library_report_with_traffic(repo: Path, catalog: planner.Catalog, tmp_path: Path) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text(PER_SERVICE_TRACE)
    from_path = planner.report(repo, catalog=catalog, traffic=trace)
    envelope = from_path.service("chat.yml").envelope
    assert envelope is not None
    assert envelope.expected_monthly == Decimal("657.000000")
    assert envelope.p95_monthly == Decimal("642.400000")
    assert envelope.worst_monthly == Decimal("730.000000")
    assert envelope.figures.replica_hours == {"on-demand": pytest.approx(54.0)}
    assert envelope.timeline.replicas.tolist() == [1, 4]
    assert from_path.service("embed.yml").envelope_note is not None
    # Already-loaded traces work the same.
    loaded = planner.report(repo, catalog=catalog, traffic=load_traffic(trace))
    assert loaded.to_json()["services"] == from_path.to_json()["services"]
    # A bad trace is an InputError before any planning (no catalog is loaded).
    trace.write_text("timestamp,rps\n0,x\n")

    def no_catalog() -> planner.Catalog:
        raise AssertionError("the catalog was loaded before the trace was checked")

    with pytest.raises(InputError, match="rps 'x' is not a number"):
        planner.report(repo, catalog=no_catalog, traffic=trace)
