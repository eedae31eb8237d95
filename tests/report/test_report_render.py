"""The renderers on a report with an infeasible service, a removed one and crossed gates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from markdown_it import MarkdownIt
from report_files import EMBED, chat

import planner
from planner.render.cost_report import (
    COMMENT_MARKER,
    render_report_markdown,
    render_report_table,
)


def _report(services: Callable[..., Path], catalog: planner.Catalog) -> planner.Report:
    new = services("new", {"big.yml": chat(gpu="H100"), "embed.yml": EMBED})
    old = services("old", {"big.yml": chat(), "gone.yml": EMBED})
    # old: 0.80 + 0.20 = 1.00/h; new: big has no plan (no H100 in the catalog), embed 0.20/h.
    return planner.report(new, catalog=catalog, baseline=old, budget_hourly=0.1)


def test_markdown_names_every_failure_at_the_top(
    services: Callable[..., Path], catalog: planner.Catalog
) -> None:
    text = render_report_markdown(_report(services, catalog))
    lines = text.splitlines()
    assert lines[0] == COMMENT_MARKER
    assert lines[3] == "> **Budget check failed**: over the line: `big.yml`, the total."
    assert lines[4].startswith("> - `big.yml`: no feasible plan (")
    assert lines[5] == "> - the total: $0.20/h, over the hourly budget of $0.10/h"
    summary = next(line for line in lines if line.startswith("**Monthly cost"))
    assert summary.startswith("**Monthly cost ↓ down $584.00/month (-80.00%): $730.00 → $146.00**")
    assert "1 added, 1 removed, 1 changed" in summary and "1 without a feasible plan" in summary
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    assert [token.type for token in tokens].count("table_open") == 2  # overview + embed
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 1 + 4 + 1 + 1  # overview: header, big, embed, gone, total; embed: 2
    cells = [t.content for t in tokens if t.type == "inline"]
    assert "infeasible" in cells and "removed" in cells


def test_table_lists_failures_without_markdown(
    services: Callable[..., Path], catalog: planner.Catalog
) -> None:
    text = render_report_table(_report(services, catalog))
    assert "`" not in text
    assert "Budget check failed: over the line: big.yml, the total" in text
    assert "big.yml: infeasible:" in text
    [gone] = [line for line in text.splitlines() if "gone.yml" in line]
    assert gone.split()[2] == "removed" and "-$146.00" in gone
