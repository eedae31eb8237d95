"""Words for ``planner apply`` and ``planner destroy``: tables, one-line calls, JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from planner.apply.result import ApplyResult, Attempt, DestroyResult, SlotResult
from planner.render.plan_reasons import infeasible_reason
from planner.render.table import render_markdown_table, render_text_table

STOP_WORDS = {
    "event-not-retried": "the service's retry policy does not list this event",
    "duration-exceeded": "the retry duration has passed",
    "fallbacks-exhausted": "every fallback for this event was tried",
}
_HEADERS = ("replica", "status", "backend", "instance", "type", "region", "market", "$/h", "events")


def render_apply_json(result: ApplyResult) -> str:
    return json.dumps(result.to_json(), indent=2)


def render_destroy_json(result: DestroyResult) -> str:
    return json.dumps(result.to_json(), indent=2)


def _row(slot: SlotResult) -> list[str]:
    last = slot.attempts[-1] if slot.attempts else None
    instance = slot.instance
    price = slot.hourly_price if slot.hourly_price is not None else slot.offer.get("price")
    return [
        slot.slot,
        slot.status,
        (instance.backend if instance else (last.backend if last else None)) or "-",
        instance.instance_id if instance else "-",
        str(slot.offer.get("instance_type", "-")),
        str(slot.offer.get("region", "-")),
        slot.market or "-",
        "-" if price is None else f"{float(price):.4f}",
        " → ".join(slot.events) or "-",
    ]


def _call(attempt: Attempt) -> str:
    request = attempt.request
    parts = [
        f"backend={attempt.backend}",
        f"instance_type={request.instance_type}",
        f"region={request.region}",
        f"market={request.market}",
    ]
    if request.reservation:
        parts.append(f"reservation={request.reservation}")
    if request.max_price is not None:
        parts.append(f"max_price={request.max_price}")
    parts.append(f"client_token={request.client_token}")
    tags = ",".join(f"{key}={value}" for key, value in request.tags.items())
    return f"create({', '.join(parts)}, tags={{{tags}}})"


def _details(result: ApplyResult) -> list[str]:
    lines: list[str] = []
    for slot in result.slots:
        for attempt in slot.attempts:
            if attempt.event is not None:
                where = f"{attempt.request.instance_type} {attempt.request.market} in "
                lines.append(
                    f"{slot.slot}: {attempt.event} on {attempt.backend or '-'} "
                    f"({where}{attempt.request.region}): {attempt.message or '-'}"
                )
        if slot.stop_reason is not None:
            lines.append(f"{slot.slot}: gave up: {STOP_WORDS[slot.stop_reason]}")
    return lines


def _summary(result: ApplyResult) -> str:
    counts = {status: 0 for status in ("created", "kept", "failed", "existing", "planned")}
    for slot in result.slots:
        counts[slot.status] += 1
    shown = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
    head = "dry run: " if result.dry_run else ""
    cost = (
        f"planned ${result.plan.hourly_cost:.4f}/h"
        if result.dry_run
        else f"${result.hourly_cost:.4f}/h now running (planned ${result.plan.hourly_cost:.4f}/h)"
    )
    return f"{head}service {result.service}, plan {result.plan_id}: {shown or 'nothing'}; {cost}"


def render_apply_table(result: ApplyResult, *, markdown: bool = False) -> str:
    if not result.plan.feasible:
        return f"no plan: {infeasible_reason(result.plan.infeasible_causes) or 'infeasible'}"
    rows = [_row(slot) for slot in result.slots]
    table = (render_markdown_table if markdown else render_text_table)(
        _HEADERS, rows, right_aligned=(7,)
    )
    lines = [_summary(result), "", table]
    if result.dry_run:
        calls = [_call(a) for slot in result.slots for a in slot.attempts]
        lines += ["", "calls it would make:", *(f"  {call}" for call in calls)]
        if not calls:
            lines.append("  none")
    details = _details(result)
    if details:
        lines += ["", *details]
    return "\n".join(lines)


def render_destroy_table(result: DestroyResult, *, markdown: bool = False) -> str:
    rows: Sequence[Sequence[str]] = [
        [
            t.slot,
            t.backend,
            t.instance_id or "-",
            "terminated" if t.ok else "FAILED",
            t.message or "",
        ]
        for t in result.terminations
    ]
    done = sum(1 for t in result.terminations if t.ok)
    head = f"{done} of {len(result.terminations)} instance(s) terminated ({result.state_path})"
    if not rows:
        return f"nothing to terminate ({result.state_path})"
    table = (render_markdown_table if markdown else render_text_table)(
        ["replica", "backend", "instance", "result", "message"], rows
    )
    return f"{head}\n\n{table}"
