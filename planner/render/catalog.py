"""Rendering ``planner catalog show|stats|update``: text tables of a catalog's summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.render.table import render_text_table
from planner.render.text import printable

if TYPE_CHECKING:
    from planner.catalog.describe import CatalogStats, CatalogSummary
    from planner.catalog.download import UpdateReport


def _table(headers: list[str], rows: list[list[str]], right_aligned: tuple[int, ...]) -> str:
    """``render_text_table`` with every cell printable (catalog strings can be anything)."""
    cells = [[printable(cell) for cell in row] for row in rows]
    return render_text_table(headers, cells, right_aligned=right_aligned)


def render_show(summary: CatalogSummary) -> str:
    """The text form of ``planner catalog show``."""
    sources = _table(
        ["SOURCE", "FORMAT", "VERSION", "AS OF", "ROWS", "DROPPED", "PROVIDERS"],
        [
            [
                source.location,
                source.format,
                source.version or "-",
                source.as_of or "unknown",
                f"{source.rows:,}",
                f"{source.dropped:,}",
                ", ".join(source.providers),
            ]
            for source in summary.sources
        ],
        right_aligned=(4, 5),
    )
    providers = _table(
        ["PROVIDER", "ROWS"],
        [[p.provider, f"{p.rows:,}"] for p in summary.providers],
        right_aligned=(1,),
    )
    gpus = _table(
        ["VENDOR", "GPU", "ROWS"],
        [[g.vendor, g.name, f"{g.rows:,}"] for g in summary.gpus],
        right_aligned=(2,),
    )
    head = (
        f"as of: {summary.as_of or 'unknown'}\n"
        f"rows: {summary.rows:,}; malformed rows dropped: {summary.dropped:,}\n"
    )
    return f"{sources}\n\n{head}\n{providers}\n\n{gpus}\n"


def render_stats(stats: CatalogStats) -> str:
    """The text form of ``planner catalog stats``."""
    providers = _table(
        ["PROVIDER", "ON-DEMAND", "SPOT", "TOTAL"],
        [[p.provider, f"{p.on_demand:,}", f"{p.spot:,}", f"{p.total:,}"] for p in stats.providers],
        right_aligned=(1, 2, 3),
    )
    gpus = _table(
        ["VENDOR", "GPU", "ROWS", "SPOT", "COUNTS", "PRICE $/H", "PER GPU $/H"],
        [
            [
                g.vendor,
                g.name,
                f"{g.rows:,}",
                f"{g.spot_rows:,}",
                ",".join(str(count) for count in g.gpu_counts),
                f"{g.min_price:.4g}–{g.max_price:.4g}",
                f"{g.min_price_per_gpu:.4g}–{g.max_price_per_gpu:.4g}",
            ]
            for g in stats.gpus
        ],
        right_aligned=(2, 3),
    )
    lines = [
        f"as of: {stats.as_of or 'unknown'}",
        f"rows: {stats.rows:,}; CPU-only rows: {stats.cpu_only_rows:,}",
        "",
        providers,
        "",
        gpus,
        "",
        f"dropped malformed rows: {stats.dropped:,}",
    ]
    for reason in stats.dropped_by_reason:
        lines.append(f"  {reason.rows:,} × {reason.reason}")
        lines.extend(f"    {example}" for example in reason.examples)
    return "\n".join(lines) + "\n"


def render_update(report: UpdateReport) -> str:
    """The text form of ``planner catalog update``: installed providers, then the cache used."""
    lines = []
    installed = [r for r in report.results if r.status != "failed"]
    if installed:
        table = [
            [
                r.provider,
                r.version or "",
                r.status,
                f"{r.rows:,}" if r.rows is not None else "?",
                r.previous if r.status == "downloaded" and r.previous else "",
            ]
            for r in installed
        ]
        headers = ["PROVIDER", "VERSION", "STATUS", "ROWS", "REPLACED"]
        lines.append(render_text_table(headers, table, right_aligned=(3,)))
    if len(report.failures) < len(report.results):
        lines.append(f"cache: {report.cache_dir}")
    return "".join(f"{line}\n" for line in lines)
