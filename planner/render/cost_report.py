"""Rendering a cost `Report`: Markdown for a pull-request comment, a terminal table, and JSON.

The Markdown starts with a hidden marker (``COMMENT_MARKER``) so a CI job can find and update its
own comment, then the gate result when a gate failed, then one summary line (the monthly total,
and against a baseline the change and its direction), a table of services, a table per service,
and the rest folded in ``<details>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal

from planner.cost_report.envelope import ServiceEnvelope
from planner.cost_report.model import (
    Diff,
    GateFailure,
    PlacementLine,
    Report,
    ServiceChange,
    ServiceCost,
)
from planner.cost_report.money import monthly_usd
from planner.render.plan import money
from planner.render.plan_reasons import infeasible_reason
from planner.render.table import render_markdown_table, render_text_table

COMMENT_MARKER = "<!-- planner-cost-report -->"

_GATE_WORDS = {
    "budget-hourly": "hourly budget",
    "budget-monthly": "monthly budget",
    "max-increase": "maximum increase",
    "infeasible": "no feasible plan",
}


def usd(amount: Decimal | None, *, cents: bool = False) -> str:
    """USD as printed elsewhere (render/plan.py ``money``): hourly exact, monthly to cents."""
    return money(None if amount is None else float(amount), cents=cents)


def signed_usd(amount: Decimal | None, *, cents: bool = False) -> str:
    if amount is None:
        return "-"
    text = usd(abs(amount), cents=cents)
    if text in ("$0.00", "$0.000000"):
        return "$0.00"
    return ("-" if amount < 0 else "+") + text


def percent_text(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{'+' if value > 0 else ''}{value}%"


def direction(delta: Decimal | None) -> str:
    if delta is None:
        return "changed"
    if delta > 0:
        return "up"
    if delta < 0:
        return "down"
    return "unchanged"


_ARROW = {"up": "↑", "down": "↓", "unchanged": "→", "changed": "↕"}


def render_report_json(report: Report) -> str:
    document = report.to_json()
    for service, entry in zip(report.services, document["services"], strict=True):
        entry["infeasible_reason"] = _reason_words(service)
    return json.dumps(document, indent=2, ensure_ascii=False)


def _reason_words(service: ServiceCost) -> str | None:
    """Why the service has no plan, in words (its typed causes; else the constraint names)."""
    return infeasible_reason(service.infeasible_causes) or service.infeasible_reason


# --- Markdown -----------------------------------------------------------------------------------


def render_report_markdown(report: Report, plots: Mapping[str, str] | None = None) -> str:
    """The pull-request comment; ``plots``: service key → the link of its traffic plot (PNG)."""
    plots = plots or {}
    parts = [COMMENT_MARKER, "### planner cost report", ""]
    if report.failures:
        parts += [_failures_markdown(report), ""]
    parts += [_summary_line(report), ""]
    if report.services or (report.diff and report.diff.changes):
        parts += [_overview_markdown(report), ""]
    for service in report.services:
        parts += [_service_markdown(service, plots.get(service.key)), ""]
    parts += [_details_markdown(report)]
    return "\n".join(parts).rstrip() + "\n"


def _summary_line(report: Report) -> str:
    total = report.total
    services = f"{total.services} service{'s' if total.services != 1 else ''}"
    monthly = usd(total.monthly_cost, cents=True)
    if report.diff is None:
        line = f"**Monthly cost: {monthly}** ({usd(total.hourly_cost)}/h), {services}"
    else:
        diff = report.diff
        delta = diff.delta_hourly
        way = direction(delta)
        change = (
            "no change"
            if way == "unchanged"
            else f"{way} {usd(_monthly(abs(delta)), cents=True)}/month "
            f"({percent_text(diff.percent)})"
        )
        counts = ", ".join(
            f"{len(diff.of_kind(kind))} {kind}" for kind in ("added", "removed", "changed")
        )
        old = usd(_monthly(diff.old_total_hourly), cents=True)
        line = f"**Monthly cost {_ARROW[way]} {change}: {old} → {monthly}**, {services} ({counts})"
    if total.infeasible:
        line += f"; {total.infeasible} without a feasible plan"
    return line + "."


def _failures_markdown(report: Report) -> str:
    names = _failure_subjects(report.failures)
    lines = [f"> **Budget check failed**: over the line: {names}."]
    lines += [f"> - {_failure_text(report, failure)}" for failure in report.failures]
    return "\n".join(lines)


def _subject(failure: GateFailure, *, markdown: bool) -> str:
    if failure.service is None:
        return "the total"
    return f"`{failure.service}`" if markdown else failure.service


def _failure_subjects(failures: Sequence[GateFailure], *, markdown: bool = True) -> str:
    return ", ".join(dict.fromkeys(_subject(failure, markdown=markdown) for failure in failures))


def _failure_text(report: Report, failure: GateFailure, *, markdown: bool = True) -> str:
    subject = _subject(failure, markdown=markdown)
    words = _GATE_WORDS[failure.gate]
    if failure.gate == "infeasible":
        reason = _service_reason(report, failure.service)
        return f"{subject}: {words}" + (f" ({reason})" if reason else "")
    if failure.gate == "max-increase":
        assert failure.limit is not None and failure.actual is not None
        if failure.limit.endswith("%"):
            return f"{subject}: up {failure.actual}, over the {words} of {failure.limit}"
        return (
            f"{subject}: up {usd(Decimal(failure.actual), cents=True)}/month, over the {words} "
            f"of {usd(Decimal(failure.limit), cents=True)}/month"
        )
    assert failure.limit is not None and failure.actual is not None
    cents = failure.gate == "budget-monthly"
    unit = "month" if cents else "h"
    return (
        f"{subject}: {usd(Decimal(failure.actual), cents=cents)}/{unit}, over the {words} of "
        f"{usd(Decimal(failure.limit), cents=cents)}/{unit}"
    )


def _service_reason(report: Report, key: str | None) -> str | None:
    for service in report.services:
        if service.key == key:
            return _reason_words(service)
    return None


def _overview_markdown(report: Report) -> str:
    changes = {change.key: change for change in report.diff.changes} if report.diff else {}
    envelopes = _has_envelopes(report)
    headers = ["Service", "File", "Replicas", "Hourly", "Monthly"]
    right = [3, 4]
    if envelopes:
        # The plan's cost stays the reference (the total and the gates); the expected cost under
        # the trace sits next to it.
        headers.append("Expected monthly (trace)")
        right.append(5)
    if report.diff is not None:
        offset = len(headers)
        headers += ["Change", "Monthly change", "%", "Cause"]
        right += [offset + 1, offset + 2]
    rows = []
    for service in report.services:
        row = [
            service.title,
            f"`{service.key}`",
            _replicas(service),
            usd(service.hourly_cost) if service.feasible else "infeasible",
            usd(service.monthly_cost, cents=True) if service.feasible else "-",
        ]
        if envelopes:
            row.append(_expected_cell(service.envelope))
        if report.diff is not None:
            row += _change_cells(changes.get(service.key))
        rows.append(row)
    blanks = ["-"] if envelopes else []
    if report.diff is not None:
        for change in report.diff.of_kind("removed"):
            rows.append(
                [change.title, f"`{change.key}`", "-", "-", "-", *blanks, *_change_cells(change)]
            )
    total_row = [
        "**Total**",
        "",
        "",
        f"**{usd(report.total.hourly_cost)}**",
        f"**{usd(report.total.monthly_cost, cents=True)}**",
        *([""] if envelopes else []),
    ]
    if report.diff is not None:
        diff = report.diff
        total_row += [
            direction(diff.delta_hourly),
            signed_usd(_monthly(diff.delta_hourly), cents=True),
            percent_text(diff.percent),
            "",
        ]
    rows.append(total_row)
    return render_markdown_table(headers, rows, right_aligned=right)


def _change_cells(change: ServiceChange | None) -> list[str]:
    if change is None:
        return ["-", "-", "-", "-"]
    kind: str
    if change.change in ("added", "removed"):
        kind = change.change
    else:
        kind = direction(change.delta) if change.change == "changed" else "unchanged"
    return [
        kind,
        signed_usd(_monthly(change.delta), cents=True),
        percent_text(change.percent),
        _cause_text(change),
    ]


def _cause_text(change: ServiceChange) -> str:
    if change.change in ("added", "removed", "unchanged"):
        return "-" if change.change == "unchanged" else "configuration"
    if change.cause == "configuration and prices":
        if change.configuration_delta is None or change.price_delta is None:
            return "configuration and prices (not separable without the baseline catalog)"
        return (
            f"configuration {signed_usd(_monthly(change.configuration_delta), cents=True)}, "
            f"prices {signed_usd(_monthly(change.price_delta), cents=True)}"
        )
    return change.cause


def _service_markdown(service: ServiceCost, plot: str | None = None) -> str:
    title = f"#### {service.title}" + (f" (`{service.key}`)" if service.name else "")
    if not service.feasible:
        reason = _reason_words(service) or "no feasible plan"
        text = f"{title}\n\nNo feasible plan: {reason}"
        if service.envelope_note:
            text += f"\n\nNo autoscaling cost envelope: {service.envelope_note}."
        return text
    lines = [title, "", _placements_markdown(service.placements)]
    if service.envelope is not None:
        lines += ["", *_envelope_markdown(service.envelope, plot)]
    elif service.envelope_note:
        lines += ["", f"No autoscaling cost envelope: {service.envelope_note}."]
    if service.replicas_min != service.replicas_max:
        lines += [
            "",
            f"Replicas {service.replicas_min}..{service.replicas_max}: "
            f"{usd(service.cost_at_min)}/h ({usd(_monthly(service.cost_at_min), cents=True)}/month) "
            f"at {service.replicas_min}, "
            f"{usd(service.cost_at_max)}/h ({usd(_monthly(service.cost_at_max), cents=True)}/month) "
            f"at {service.replicas_max}.",
        ]
    return "\n".join(lines)


def _has_envelopes(report: Report) -> bool:
    return any(service.envelope is not None for service in report.services)


def _expected_cell(envelope: ServiceEnvelope | None) -> str:
    return "-" if envelope is None else usd(envelope.expected_monthly, cents=True)


def _trace_words(envelope: ServiceEnvelope) -> str:
    figures = envelope.figures
    kind = "shared trace" if envelope.shared_trace else "trace"
    events = figures.scaling_events
    return (
        f"{kind} `{envelope.trace_file}`, {_hours(figures.trace_hours)} h, "
        f"{events} scaling event{'s' if events != 1 else ''}, "
        f"{figures.replicas_min_seen}..{figures.replicas_max_seen} replicas"
    )


def _hours(value: float) -> str:
    return f"{value:,.1f}"


def _envelope_markdown(envelope: ServiceEnvelope, plot: str | None) -> list[str]:
    window = _hours(envelope.figures.window_hours)
    costs = render_markdown_table(
        ["Autoscaling", "Monthly"],
        [
            ["Expected", usd(envelope.expected_monthly, cents=True)],
            [f"P95 ({window} h windows)", usd(envelope.p95_monthly, cents=True)],
            [f"Worst ({window} h windows)", usd(envelope.worst_monthly, cents=True)],
        ],
        right_aligned=(1,),
    )
    hours = render_markdown_table(
        ["Capacity", "Replica-hours (trace)", "Replica-hours per month"],
        [
            [kind, _hours(total), _hours(envelope.figures.replica_hours_monthly[kind])]
            for kind, total in envelope.figures.replica_hours.items()
        ],
        right_aligned=(1, 2),
    )
    lines = [f"Autoscaling cost envelope ({_trace_words(envelope)}):", "", costs, "", hours]
    if plot is not None:
        lines += ["", f"![traffic, replicas and cost]({plot})"]
    return lines


PLACEMENT_HEADERS = (
    "Count",
    "Capacity",
    "Backend",
    "Region",
    "Instance",
    "GPU",
    "Price/h",
    "Cost/h",
)


def _placement_cells(placement: PlacementLine) -> list[str]:
    gpu = f"{placement.gpu_count}x{placement.gpu_name}" if placement.gpu_count else "-"
    return [
        str(placement.count),
        placement.capacity_type,
        placement.backend,
        placement.region,
        placement.instance_type,
        gpu,
        usd(placement.hourly_price),
        usd(placement.hourly_cost),
    ]


def _placements_markdown(placements: Sequence[PlacementLine]) -> str:
    rows = [_placement_cells(placement) for placement in placements]
    return render_markdown_table(PLACEMENT_HEADERS, rows, right_aligned=(0, 6, 7))


def _details_markdown(report: Report) -> str:
    lines = ["<details>", "<summary>Details</summary>", ""]
    catalog = report.catalog
    sources = ", ".join(source.location for source in catalog.sources) or "-"
    lines += [
        f"- Catalog: {sources}, as of {catalog.as_of or 'unknown'} (`{catalog.fingerprint}`)",
        f"- Report time: {report.generated_at.isoformat().replace('+00:00', 'Z')}, "
        f"planner {report.planner_version}",
        "- Money in USD; a month is 730 hours.",
    ]
    if report.gates:
        verdict = "passed" if report.passed else "failed"
        lines.append(f"- Gates checked: {', '.join(report.gates)} ({verdict})")
    if report.diff is not None:
        lines += _diff_details(report.diff)
    for skipped in report.skipped:
        lines.append(f"- Skipped `{skipped.file}`: {skipped.reason}")
    lines += ["", "</details>"]
    return "\n".join(lines)


def _diff_details(diff: Diff) -> list[str]:
    where = "a previous report" if diff.baseline_kind == "report" else "service files"
    lines = [f"- Baseline: {where} at `{diff.baseline_location}`"]
    if diff.catalog_changed and diff.baseline_catalog is not None:
        lines.append(
            f"- The catalog changed since the baseline (as of "
            f"{diff.baseline_catalog.as_of or 'unknown'} → now): same configurations may cost "
            "otherwise (price drift)"
        )
    return lines


def _replicas(service: ServiceCost) -> str:
    if service.replicas_min == service.replicas_max:
        return str(service.replicas_min)
    return f"{service.replicas_min}..{service.replicas_max}"


def _monthly(hourly: Decimal | None) -> Decimal | None:
    return monthly_usd(hourly)


# --- terminal table -----------------------------------------------------------------------------


def _envelope_text(report: Report) -> list[str]:
    rows = [
        [
            service.key,
            usd(service.envelope.expected_monthly, cents=True),
            usd(service.envelope.p95_monthly, cents=True),
            usd(service.envelope.worst_monthly, cents=True),
            ", ".join(
                f"{kind} {_hours(hours)}"
                for kind, hours in service.envelope.figures.replica_hours_monthly.items()
            ),
        ]
        for service in report.services
        if service.envelope is not None
    ]
    lines = []
    if rows:
        lines += [
            "",
            render_text_table(
                ["FILE", "EXPECTED/MONTH", "P95/MONTH", "WORST/MONTH", "REPLICA-HOURS/MONTH"],
                rows,
                right_aligned=(1, 2, 3),
            ),
        ]
    notes = [
        f"{service.key}: no autoscaling cost envelope: {service.envelope_note}"
        for service in report.services
        if service.envelope_note
    ]
    if notes:
        lines += ["", *notes]
    return lines


def render_report_table(report: Report) -> str:
    changes = {change.key: change for change in report.diff.changes} if report.diff else {}
    headers = [
        "SERVICE",
        "FILE",
        "STATUS",
        "REPLICAS",
        "COST/H",
        "COST/MONTH",
        "AT MIN/H",
        "AT MAX/H",
    ]
    right = [4, 5, 6, 7]
    if report.diff is not None:
        headers += ["CHANGE", "CHANGE/MONTH", "%", "CAUSE"]
        right += [9, 10]
    rows = []
    for service in report.services:
        row = [
            service.title,
            service.key,
            service.status,
            _replicas(service),
            usd(service.hourly_cost),
            usd(service.monthly_cost, cents=True),
            usd(service.cost_at_min),
            usd(service.cost_at_max),
        ]
        if report.diff is not None:
            row += _change_cells(changes.get(service.key))
        rows.append(row)
    if report.diff is not None:
        for change in report.diff.of_kind("removed"):
            rows.append(
                [
                    change.title,
                    change.key,
                    "removed",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    *_change_cells(change),
                ]
            )
    total = [
        "TOTAL",
        "",
        "",
        "",
        usd(report.total.hourly_cost),
        usd(report.total.monthly_cost, cents=True),
        "",
        "",
    ]
    if report.diff is not None:
        diff = report.diff
        total += [
            direction(diff.delta_hourly),
            signed_usd(_monthly(diff.delta_hourly), cents=True),
            percent_text(diff.percent),
            "",
        ]
    rows.append(total)
    lines = [render_text_table(headers, rows, right_aligned=right)]
    lines += _envelope_text(report)
    placement_rows = [
        [service.key, *_placement_cells(placement)]
        for service in report.services
        for placement in service.placements
    ]
    if placement_rows:
        lines += [
            "",
            render_text_table(
                ["FILE", *(header.upper() for header in PLACEMENT_HEADERS)],
                placement_rows,
                right_aligned=(1, 7, 8),
            ),
        ]
    for service in report.services:
        if not service.feasible:
            lines.append(f"{service.key}: infeasible: {_reason_words(service)}")
    if report.failures:
        subjects = _failure_subjects(report.failures, markdown=False)
        lines += ["", f"Budget check failed: over the line: {subjects}"]
        lines += [
            f"  {_failure_text(report, failure, markdown=False)}" for failure in report.failures
        ]
    return "\n".join(lines)
