"""Summaries of a loaded catalog, for ``planner catalog show`` and ``planner catalog stats``.

Both are plain JSON-ready dicts (the ``--format json`` output) computed with grouped pandas
operations, and rendered as text by ``render_summary``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from planner.render.table import render_text_table

if TYPE_CHECKING:
    import pandas as pd

    from planner.catalog.table import Catalog

_EXAMPLES_PER_REASON = 5


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped (``\\x1b``, ``\\n``).

    Catalog strings can come from any URL: a newline would break the table's rows and an escape
    sequence would reach the terminal. Machine formats (json, csv) keep the values as they are.
    """
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def _table(headers: list[str], rows: list[list[str]], right_aligned: tuple[int, ...]) -> str:
    """``render_text_table`` with every cell printable (catalog strings can be anything)."""
    cells = [[printable(cell) for cell in row] for row in rows]
    return render_text_table(headers, cells, right_aligned=right_aligned)


def describe_catalog(catalog: Catalog) -> dict[str, Any]:
    """Sources, as-of date, rows per provider, GPU models (``planner catalog show``)."""
    frame = catalog.frame
    per_provider = frame.groupby("provider", observed=True).size().reset_index(name="rows")
    gpu_rows = frame[frame["gpu_count"] > 0]
    per_gpu = (
        gpu_rows.groupby(["gpu_vendor", "gpu_name"], observed=True).size().reset_index(name="rows")
    )
    return {
        "kind": "show",
        "sources": [source.to_json() for source in catalog.sources],
        "as_of": catalog.as_of,
        "rows": len(catalog),
        "dropped": len(catalog.issues),
        "providers": sorted(
            (
                {"provider": str(r["provider"]), "rows": int(r["rows"])}
                for r in _records(per_provider)
            ),
            key=lambda item: item["provider"],
        ),
        "gpus": sorted(
            (
                {"vendor": str(r["gpu_vendor"]), "name": str(r["gpu_name"]), "rows": int(r["rows"])}
                for r in _records(per_gpu)
            ),
            key=lambda item: (item["vendor"], item["name"]),
        ),
    }


def catalog_stats(catalog: Catalog) -> dict[str, Any]:
    """Rows per provider × capacity type, GPU price ranges, CPU-only rows, dropped rows."""
    frame = catalog.frame
    by_type = frame.groupby(["provider", "spot"], observed=True).size()
    counts = {
        (str(r["provider"]), bool(r["spot"])): int(r["rows"])
        for r in _records(by_type.reset_index(name="rows"))
    }
    providers = []
    for name in sorted({provider for provider, _ in counts}):
        on_demand, spot = counts.get((name, False), 0), counts.get((name, True), 0)
        providers.append(
            {"provider": name, "on_demand": on_demand, "spot": spot, "total": on_demand + spot}
        )
    gpu_rows = frame[frame["gpu_count"] > 0]
    gpu_rows = gpu_rows.assign(price_per_gpu=gpu_rows["price"] / gpu_rows["gpu_count"])
    grouped = gpu_rows.groupby(["gpu_vendor", "gpu_name"], observed=True)
    table = grouped.agg(
        rows=("price", "size"),
        spot_rows=("spot", "sum"),
        min_price=("price", "min"),
        max_price=("price", "max"),
        min_price_per_gpu=("price_per_gpu", "min"),
        max_price_per_gpu=("price_per_gpu", "max"),
        gpu_counts=("gpu_count", "unique"),
    ).reset_index()
    gpus = sorted(
        (
            {
                "vendor": str(r["gpu_vendor"]),
                "name": str(r["gpu_name"]),
                "rows": int(r["rows"]),
                "spot_rows": int(r["spot_rows"]),
                "gpu_counts": sorted(int(count) for count in r["gpu_counts"]),
                "min_price": float(r["min_price"]),
                "max_price": float(r["max_price"]),
                "min_price_per_gpu": float(r["min_price_per_gpu"]),
                "max_price_per_gpu": float(r["max_price_per_gpu"]),
            }
            for r in _records(table)
        ),
        key=lambda item: (item["vendor"], item["name"]),
    )
    issues = catalog.issues
    examples: dict[str, list[str]] = {}
    for issue in issues:
        shown = examples.setdefault(issue.reason, [])
        if len(shown) < _EXAMPLES_PER_REASON:
            shown.append(str(issue))
    by_reason = Counter(issue.reason for issue in issues)
    return {
        "kind": "stats",
        "as_of": catalog.as_of,
        "rows": len(catalog),
        "providers": providers,
        "gpus": gpus,
        "cpu_only_rows": int((frame["gpu_count"] == 0).sum()),
        "dropped": {
            "total": len(issues),
            "by_reason": [
                {"reason": reason, "rows": count, "examples": examples[reason]}
                for reason, count in by_reason.most_common()
            ],
        },
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def render_summary(summary: dict[str, Any]) -> str:
    """The text form of either summary."""
    if summary["kind"] == "show":
        return _render_show(summary)
    return _render_stats(summary)


def _render_show(summary: dict[str, Any]) -> str:
    sources = _table(
        ["SOURCE", "FORMAT", "VERSION", "AS OF", "ROWS", "DROPPED", "PROVIDERS"],
        [
            [
                source["location"],
                source["format"],
                source.get("version") or "-",
                source.get("as_of") or "unknown",
                f"{source['rows']:,}",
                f"{source['dropped']:,}",
                ", ".join(source["providers"]),
            ]
            for source in summary["sources"]
        ],
        right_aligned=(4, 5),
    )
    providers = _table(
        ["PROVIDER", "ROWS"],
        [[p["provider"], f"{p['rows']:,}"] for p in summary["providers"]],
        right_aligned=(1,),
    )
    gpus = _table(
        ["VENDOR", "GPU", "ROWS"],
        [[g["vendor"], g["name"], f"{g['rows']:,}"] for g in summary["gpus"]],
        right_aligned=(2,),
    )
    head = (
        f"as of: {summary['as_of'] or 'unknown'}\n"
        f"rows: {summary['rows']:,}; malformed rows dropped: {summary['dropped']:,}\n"
    )
    return f"{sources}\n\n{head}\n{providers}\n\n{gpus}\n"


def _render_stats(summary: dict[str, Any]) -> str:
    providers = _table(
        ["PROVIDER", "ON-DEMAND", "SPOT", "TOTAL"],
        [
            [p["provider"], f"{p['on_demand']:,}", f"{p['spot']:,}", f"{p['total']:,}"]
            for p in summary["providers"]
        ],
        right_aligned=(1, 2, 3),
    )
    gpus = _table(
        ["VENDOR", "GPU", "ROWS", "SPOT", "COUNTS", "PRICE $/H", "PER GPU $/H"],
        [
            [
                g["vendor"],
                g["name"],
                f"{g['rows']:,}",
                f"{g['spot_rows']:,}",
                ",".join(str(count) for count in g["gpu_counts"]),
                f"{g['min_price']:.4g}–{g['max_price']:.4g}",
                f"{g['min_price_per_gpu']:.4g}–{g['max_price_per_gpu']:.4g}",
            ]
            for g in summary["gpus"]
        ],
        right_aligned=(2, 3),
    )
    dropped = summary["dropped"]
    lines = [
        f"as of: {summary['as_of'] or 'unknown'}",
        f"rows: {summary['rows']:,}; CPU-only rows: {summary['cpu_only_rows']:,}",
        "",
        providers,
        "",
        gpus,
        "",
        f"dropped malformed rows: {dropped['total']:,}",
    ]
    for reason in dropped["by_reason"]:
        lines.append(f"  {reason['rows']:,} × {reason['reason']}")
        lines.extend(f"    {example}" for example in reason["examples"])
    return "\n".join(lines) + "\n"
