"""Rendering a ``Plan`` of a service with replica groups (or planned for ``--rps``): the cost per
group and in total, placements with their group, the cost curve over the traffic level, and the
explanation per group. JSON is ``render.plan.render_plan_json`` (``Plan.to_json`` carries
``groups`` and ``rps_curve``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from planner.placement.result import Placement, Plan
from planner.render.plan import (
    PLACEMENT_HEADERS,
    constraints_block,
    money,
    monthly,
    plan_document,
    resources_text,
)
from planner.render.plan_notes import render_notes
from planner.render.plan_reasons import infeasible_reason
from planner.render.provenance import catalog_lines
from planner.render.table import render_markdown_table, render_text_table
from planner.render.text import printable

if TYPE_CHECKING:
    from planner.match.gpu_default import GpuCountDefault

Table = Callable[[Sequence[str], Sequence[Sequence[str]], Sequence[int]], str]


def _name(name: str | None) -> str:
    return "-" if name is None else name


def _summary(plan: Plan) -> list[str]:
    lines = [f"status: {plan.status}"]
    if plan.rps is not None:
        lines.append(f"traffic: at least {plan.rps:g} requests per second")
    if plan.status == "infeasible":
        lines.append(f"infeasible: {infeasible_reason(plan.infeasible_causes)}")
        return lines
    lines.append(f"replicas: {plan.target_replicas} over {len(plan.groups)} group(s)")
    lines.append(
        f"hourly cost: {money(plan.hourly_cost)}    monthly cost (730 h): {monthly(plan.hourly_cost)}"
    )
    return lines


def _group_rows(plan: Plan) -> list[list[str]]:
    rows = []
    for group in plan.groups:
        count = (
            str(group.replicas_min)
            if group.replicas_min == group.replicas_max
            else f"{group.replicas_min}..{group.replicas_max}"
        )
        rows.append(
            [
                _name(group.name),
                count,
                str(group.replicas),
                str(group.planned_replicas),
                "-" if group.rps_target is None else f"{group.rps_target:g}",
                money(group.hourly_cost if plan.feasible else None),
                monthly(group.hourly_cost if plan.feasible else None),
            ]
        )
    return rows


def _placement_rows(plan: Plan) -> list[list[str]]:
    return [
        [
            str(number),
            _name(placement.group),
            str(placement.count),
            placement.capacity_type,
            str(placement.offer["backend"]),
            str(placement.offer["region"]),
            str(placement.offer["instance_type"]),
            resources_text(placement.offer, plan.sized_disk_gb),
            money(placement.hourly_price),
            money(placement.hourly_cost),
        ]
        for number, placement in enumerate(plan.placements, start=1)
    ]


def _fallback_lines(number: int, placement: Placement) -> list[str]:
    lines = []
    for event in dict.fromkeys(fallback.event for fallback in placement.fallbacks):
        steps = [
            f"{f.offer['backend']} {f.offer['region']} {f.offer['instance_type']} "
            f"{f.capacity_type} {money(f.hourly_price)}"
            for f in placement.fallbacks_for(event)
        ]
        lines.append(f"#{number} {event}: " + " → ".join(steps))
    return lines


def _curve_rows(plan: Plan) -> list[list[str]]:
    return [
        [
            f"{step.rps_from:g}..{step.rps_to:g}",
            money(step.hourly_cost),
            monthly(step.hourly_cost),
            ", ".join(f"{_name(name)}={count}" for name, count in step.replicas),
        ]
        for step in plan.rps_curve
    ]


def _render(
    plan: Plan, table: Table, heading: Callable[[str], str], bullet: str, catalog: Any
) -> str:
    def escaped(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int]) -> str:
        return table(headers, [[printable(cell) for cell in row] for row in rows], right)

    blocks = ["\n".join(bullet + printable(line) for line in _summary(plan))]
    blocks.append(
        heading("Groups")
        + escaped(
            ("GROUP", "COUNT", "TARGET", "PLANNED", "RPS/REPLICA", "COST/H", "COST/MONTH"),
            _group_rows(plan),
            (2, 3, 4, 5, 6),
        )
    )
    if plan.placements:
        headers = ("#", "GROUP", *PLACEMENT_HEADERS[1:])
        blocks.append(heading("Placements") + escaped(headers, _placement_rows(plan), (0, 2, 8, 9)))
        fallbacks = [
            bullet + printable(line)
            for number, placement in enumerate(plan.placements, start=1)
            for line in _fallback_lines(number, placement)
        ]
        if fallbacks:
            blocks.append(heading("Fallbacks (within each group)") + "\n".join(fallbacks))
    if plan.rps_curve:
        blocks.append(
            heading("Cost over the traffic level (requests per second)")
            + escaped(("RPS", "COST/H", "COST/MONTH", "REPLICAS"), _curve_rows(plan), (1, 2))
        )
    exclusions = [
        [_name(group.name), item.reason, str(item.excluded), money(item.cheapest_excluded_price)]
        for group in plan.groups
        for item in group.exclusions
    ]
    if exclusions:
        blocks.append(
            heading("Excluded offers, per group")
            + escaped(("GROUP", "REASON", "EXCLUDED", "CHEAPEST EXCLUDED/H"), exclusions, (2, 3))
        )
    if plan.constraints:
        blocks.append(constraints_block(plan, escaped, heading, bullet))
    if plan.notes:
        blocks.append(
            heading("Notes") + "\n".join(bullet + printable(n) for n in render_notes(plan.notes))
        )
    if catalog is not None:
        blocks.append(
            heading("Catalog") + "\n".join(bullet + line for line in catalog_lines(catalog))
        )
    return "\n\n".join(blocks)


def render_group_plan_table(plan: Plan, catalog: Any | None = None) -> str:
    return _render(plan, render_text_table, lambda title: f"{title}:\n", "", catalog)


def render_group_plan_markdown(plan: Plan, catalog: Any | None = None) -> str:
    title = "## Replica plan (replica groups)\n\n"
    return title + _render(plan, render_markdown_table, lambda t: f"### {t}\n\n", "- ", catalog)


def render_group_plan_json(
    plan: Plan,
    catalog: Any | None = None,
    gpu_defaults: Sequence[GpuCountDefault | None] = (),
) -> str:
    """``planner plan --format json`` of a group plan: ``plan_document``, each group entry with
    ``gpu_count_default`` (what the one-GPU default left out of that group's offers, or null;
    ``gpu_defaults`` aligned with ``plan.groups``)."""
    document = plan_document(plan, catalog)
    defaults = list(gpu_defaults) or [None] * len(plan.groups)
    for entry, default in zip(document.get("groups", []), defaults, strict=True):
        entry["gpu_count_default"] = default.to_json() if default is not None else None
    return json.dumps(document, indent=2)
