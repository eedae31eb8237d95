"""Rendering a simulated comparison (``planner.simulate``): Markdown tables and one-line plans."""

from __future__ import annotations

import pandas as pd

from planner.placement.result import Plan
from planner.render.table import render_markdown_table


def render_overall(table: pd.DataFrame) -> str:
    """``simulate.compare.overall(...)`` as a Markdown table: per policy, cost and availability."""
    headers = [
        "policy",
        "cells",
        "cost vs all on-demand",
        "saving",
        "availability (mean)",
        "availability (worst seed)",
    ]
    rows = [
        [
            str(row["policy"]),
            str(row["cells"]),
            f"{row['relative_cost']:.3f}",
            f"{1.0 - row['relative_cost']:+.1%}",
            f"{row['availability']:.4%}",
            f"{row['worst_availability']:.4%}",
        ]
        for row in table.to_dict("records")
    ]
    return render_markdown_table(headers, rows, right_aligned=range(1, len(headers)))


def render_summary(summary: pd.DataFrame) -> str:
    """``Comparison.summary()`` as a Markdown table: cost relative to all on-demand, availability."""
    headers = [
        "service",
        "regime",
        "policy",
        "$/h (mean)",
        "cost vs all on-demand",
        "saving",
        "availability (mean)",
        "availability (worst seed)",
        "spot share",
        "interruptions",
    ]
    rows = [
        [
            str(row["service"]),
            str(row["regime"]),
            str(row["policy"]),
            f"{row['hourly_cost']:.3f}",
            f"{row['relative_cost']:.3f}",
            f"{1.0 - row['relative_cost']:+.1%}",
            f"{row['availability']:.4%}",
            f"{row['worst_availability']:.4%}",
            f"{row['spot_share']:.1%}",
            f"{row['interruptions']:.1f}",
        ]
        for row in summary.to_dict("records")
    ]
    return render_markdown_table(headers, rows, right_aligned=range(3, len(headers)))


def render_cells(summary: pd.DataFrame, policies: list[str]) -> str:
    """One row per (service, regime), one column per policy: cost vs all on-demand / mean
    availability / worst seed's availability."""
    values = {
        (str(row["service"]), str(row["regime"]), str(row["policy"])): row
        for row in summary.to_dict("records")
    }
    rows = []
    for service, regime in dict.fromkeys((key[0], key[1]) for key in values):
        row = [service, regime]
        for policy in policies:
            cell = values[(service, regime, policy)]
            row.append(
                f"{cell['relative_cost']:.3f} / {cell['availability']:.4%} / "
                f"{cell['worst_availability']:.4%}"
            )
        rows.append(row)
    return render_markdown_table(
        ["service", "regime", *policies], rows, right_aligned=range(2, 2 + len(policies))
    )


def describe_plan(plan: Plan) -> str:
    """One line per placement: count, capacity type, pool, price, assumed interruption rate."""
    lines = [
        f"{p.count} × {p.capacity_type} {p.offer['provider']}/{p.offer['region']}/"
        f"{p.offer['instance_type']} at ${p.hourly_price:.4f}/h"
        + (f" (assumed {p.interruption_rate:.0%}/month)" if p.capacity_type == "spot" else "")
        for p in plan.placements
    ]
    return "; ".join(lines) + f" — ${plan.hourly_cost:.4f}/h, {plan.hedge_replicas} hedge"
