"""Rendering a `Plan`: a text table, Markdown (for CI comments), and the JSON of the CLI contract."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from planner.catalog.locations import region_of_location
from planner.placement.notes import DefaultProtectionDropped, TimeLimitReached
from planner.placement.result import HOURS_PER_MONTH, ConstraintReport, Placement, Plan
from planner.render.plan_notes import render_notes
from planner.render.plan_reasons import infeasible_reason
from planner.render.provenance import catalog_lines
from planner.render.resources import format_resources
from planner.render.table import render_markdown_table, render_text_table
from planner.render.text import printable

PLACEMENT_HEADERS = (
    "#",
    "COUNT",
    "CAPACITY",
    "BACKEND",
    "REGION",
    "INSTANCE",
    "RESOURCES",
    "PRICE/H",
    "COST/H",
)


def money(value: float | None, *, cents: bool = False) -> str:
    """USD as printed: hourly amounts exactly (up to six decimals, as catalog prices carry,
    at least two), so a count × the printed price is the printed cost; ``cents``: rounded to
    cents (monthly amounts)."""
    if value is None:
        return "-"
    rounded = round(value, 2 if cents else 6)
    sign = "-" if rounded < 0 else ""
    text = f"{abs(rounded):,.{2 if cents else 6}f}"
    whole, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0").ljust(2, "0")
    return f"{sign}${whole}.{decimals}"


def monthly(hourly: float | None) -> str:
    """730 × the hourly amount as printed, rounded to cents once."""
    return money(None if hourly is None else round(hourly, 6) * HOURS_PER_MONTH, cents=True)


def _delta(value: float) -> str:
    return ("-" if round(value, 6) < 0 else "+") + money(abs(value))


def resources_text(offer: dict[str, Any], sized_disk_gb: float | None = None) -> str:
    """The offer's resources as ``planner offers`` prints them (one formatter for both)."""
    return format_resources(offer, sized_disk_gb)


def region_text(offer: dict[str, Any]) -> str:
    """The offer's region, with its availability zones when known: ``us-central1 (a, b, c)``.

    Zones named after their region are shortened to their suffix; repeats are shown once.
    """
    region = str(offer["region"])
    zones = offer.get("availability_zones")
    if not zones:
        return region
    shown = [zone.removeprefix(f"{region}-") for zone in dict.fromkeys(zones)]
    return f"{region} ({', '.join(shown)})"


def _zoned(plan: Plan) -> bool:
    return any(placement.zone is not None for placement in plan.placements)


def _placement_headers(plan: Plan) -> tuple[str, ...]:
    """The placement columns; a ZONE column after REGION when some placement is in a zone."""
    if not _zoned(plan):
        return PLACEMENT_HEADERS
    at = PLACEMENT_HEADERS.index("REGION") + 1
    return (*PLACEMENT_HEADERS[:at], "ZONE", *PLACEMENT_HEADERS[at:])


def _placement_rows(plan: Plan) -> list[list[str]]:
    zoned = _zoned(plan)
    rows = []
    for number, placement in enumerate(plan.placements, start=1):
        backend, location = str(placement.offer["backend"]), str(placement.offer["region"])
        # REGION is the failure domain's region (a zone's region); ZONE the zone inside it.
        # A dstack-level offer lists its availability zones after its region.
        region = region_of_location(backend, location)
        place = [region_text({**placement.offer, "region": region})]
        if zoned:
            place.append(placement.zone or "-")
        rows.append(
            [
                str(number),
                str(placement.count),
                placement.capacity_type,
                backend,
                *place,
                str(placement.offer["instance_type"]),
                resources_text(placement.offer, plan.sized_disk_gb),
                money(placement.hourly_price),
                money(placement.hourly_cost),
            ]
        )
    return rows


def _right_aligned(plan: Plan) -> tuple[int, ...]:
    headers = _placement_headers(plan)
    return tuple(headers.index(name) for name in ("#", "COUNT", "PRICE/H", "COST/H"))


def _fallback_lines(placement: Placement) -> list[str]:
    lines = []
    events: list[str] = []
    for fallback in placement.fallbacks:
        if fallback.event not in events:
            events.append(fallback.event)
    for event in events:
        steps = [
            f"{f.offer['backend']} {f.offer['region']} {f.offer['instance_type']} "
            f"{f.capacity_type} {money(f.hourly_price)} ({_delta(f.hourly_price_delta)})"
            for f in placement.fallbacks_for(event)
        ]
        lines.append(f"{event}: " + " → ".join(steps))
    return lines


def _summary_lines(plan: Plan) -> list[str]:
    replicas = (
        f"{plan.replicas_min}"
        if plan.replicas_min == plan.replicas_max
        else f"{plan.replicas_min}..{plan.replicas_max} (planned at the minimum)"
    )
    lines = [f"status: {plan.status}", f"replicas: {replicas}"]
    if plan.status == "infeasible":
        lines.append(f"infeasible: {infeasible_reason(plan.infeasible_causes)}")
        return lines
    planned = f"planned replicas: {plan.planned_replicas}"
    if plan.hedge_replicas:
        planned += f" ({plan.hedge_replicas} hedge)"
    lines.append(planned)
    at_min = plan.scaling[0] if plan.scaling else None
    at_max = plan.scaling[-1] if plan.scaling else None
    if plan.replicas_min > 0 or at_max is None:
        lines.append(
            f"hourly cost: {money(plan.hourly_cost)}    "
            f"monthly cost (730 h): {monthly(plan.hourly_cost)}"
        )
    if at_min is not None and at_max is not None:
        # A range's cost is a span: at the minimum (what the plan above places) and at the
        # maximum. For a range from 0 the minimum costs nothing, so the span is the headline.
        lines.append(
            f"cost at min ({_replicas(at_min.replicas)}): {money(at_min.hourly_cost)}/h, "
            f"{monthly(at_min.hourly_cost)}/month    "
            f"at max ({_replicas(at_max.replicas)}): {money(at_max.hourly_cost)}/h, "
            f"{monthly(at_max.hourly_cost)}/month"
        )
    if any(isinstance(note, TimeLimitReached) for note in plan.notes):
        lines.append(
            "the solver's time limit was hit: this plan is valid but not proven the cheapest"
        )
    dropped = [n.protection for n in plan.notes if isinstance(n, DefaultProtectionDropped)]
    if dropped:
        lines.append(
            f"warning: default protection not met: {', '.join(dropped)} (see Notes for what "
            "would protect it)"
        )
    return lines


def _replicas(count: int) -> str:
    return f"{count} replica" + ("" if count == 1 else "s")


def _scaling_rows(plan: Plan) -> list[list[str]]:
    return [
        [
            str(step.replicas),
            step.status,
            money(step.hourly_cost),
            monthly(step.hourly_cost),
            "-" if step.marginal_hourly_cost is None else _delta(step.marginal_hourly_cost),
        ]
        for step in plan.scaling
    ]


def _explain_rows(plan: Plan) -> tuple[list[list[str]], list[list[str]]]:
    exclusions = [
        [exclusion.reason, str(exclusion.excluded), money(exclusion.cheapest_excluded_price)]
        for exclusion in plan.exclusions
    ]
    constraints = [
        [
            report.name,
            _binding(report),
            "yes" if report.tight else "no",
            report.relaxed_status or "-",
            _relaxed_cost(report),
            "-" if report.saving_hourly is None else _saving(report.saving_hourly),
            _share(report.saving_hourly, plan),
            " ".join(report.changes) or "-",
        ]
        for report in plan.constraints
    ]
    return exclusions, constraints


def _binding(report: ConstraintReport) -> str:
    if not report.binding_known:
        return "unknown"
    if report.makes_feasible:
        return "yes (makes feasible)"
    return "yes" if report.binding else "no"


def _relaxed_cost(report: ConstraintReport) -> str:
    """The re-plan's cost; marked ``*`` when the time limit stopped it before proving it optimal."""
    cost = money(report.relaxed_hourly_cost)
    return (
        cost + "*" if report.relaxed_time_limit and report.relaxed_hourly_cost is not None else cost
    )


def _saving(value: float) -> str:
    return money(value) if round(value, 6) >= 0 else "-" + money(-value)


def _share(saving: float | None, plan: Plan) -> str:
    """The saving as a share of the plan's hourly cost."""
    if saving is None or not plan.feasible or plan.hourly_cost <= 0:
        return "-"
    return f"{100.0 * saving / plan.hourly_cost:.0f}%"


# The explain table's columns, in words (printed under the table; the JSON's explain_legend).
CONSTRAINT_HEADERS = (
    "CONSTRAINT",
    "BINDING",
    "TIGHT",
    "RELAXED",
    "RELAXED COST/H",
    "SAVING/H",
    "SAVING",
    "RE-PLAN WITH",
)
CONSTRAINT_LEGEND = (
    (
        "CONSTRAINT",
        "a named constraint (docs/planning.md), or two relaxed together (a + b): wave "
        "survival, the hedge, the spread and the on-demand floor can each force the same extra "
        "replicas, so one alone may save nothing where both do",
    ),
    (
        "BINDING",
        "yes when relaxing it lowers the cost, or makes an infeasible plan feasible "
        "(makes feasible); unknown when the re-plan stopped at --time-limit without a plan",
    ),
    ("TIGHT", "it holds with equality in this plan (no room for one more replica under it)"),
    (
        "RELAXED",
        "the status of the plan re-planned with the RE-PLAN WITH changes (time-limit: none "
        "found within --time-limit; raise it to know)",
    ),
    (
        "RELAXED COST/H",
        "that plan's hourly cost (* not proven optimal: the re-plan stopped at --time-limit)",
    ),
    (
        "SAVING/H",
        "this plan's cost minus that one's; negative when the re-plan can meet a default "
        "protection this plan had to drop",
    ),
    ("SAVING", "the saving as a share of this plan's hourly cost"),
    (
        "RE-PLAN WITH",
        "the flags or service-file edits that give exactly that plan (planner plan FILE ...)",
    ),
)


def constraints_block(
    plan: Plan,
    table: Callable[[Sequence[str], Sequence[Sequence[str]], Sequence[int]], str],
    heading: Callable[[str], str],
    bullet: str,
) -> str:
    """The explain table (every relaxation with its RE-PLAN WITH changes) and its legend; the
    same for a service with replica groups."""
    _, constraints = _explain_rows(plan)
    return (
        heading("Constraints (each relaxed and re-planned; interacting ones also in pairs)")
        + table(CONSTRAINT_HEADERS, constraints, (4, 5, 6))
        + "\n\n"
        + "\n".join(f"{bullet}{column}: {meaning}" for column, meaning in CONSTRAINT_LEGEND)
    )


def _render(
    plan: Plan,
    table: Callable[[Sequence[str], Sequence[Sequence[str]], Sequence[int]], str],
    heading: Callable[[str], str],
    bullet: str,
    catalog: Any | None = None,
) -> str:
    """Every block of the plan; each cell and line escaped with ``printable``, as the ``offers``
    tables are: offer names, fleet names and reasons come from files and catalogs, and a
    control character would break a row or reach the terminal as an escape sequence."""
    table = _printable_table(table)
    blocks = ["\n".join(bullet + printable(line) for line in _summary_lines(plan))]
    if plan.placements:
        blocks.append(
            heading("Placements")
            + table(_placement_headers(plan), _placement_rows(plan), _right_aligned(plan))
        )
        fallback_lines = []
        for number, placement in enumerate(plan.placements, start=1):
            for line in _fallback_lines(placement):
                fallback_lines.append(f"{bullet}#{number} {printable(line)}")
        if fallback_lines:
            blocks.append(heading("Fallbacks") + "\n".join(fallback_lines))
    if plan.scaling:
        blocks.append(
            heading("Cost per replica count")
            + table(
                ("REPLICAS", "STATUS", "COST/H", "COST/MONTH", "MARGINAL/H"),
                _scaling_rows(plan),
                (0, 2, 3, 4),
            )
        )
    exclusions, constraints = _explain_rows(plan)
    if exclusions:
        blocks.append(
            heading("Excluded offers")
            + table(("REASON", "EXCLUDED", "CHEAPEST EXCLUDED/H"), exclusions, (1, 2))
        )
    if constraints:
        blocks.append(constraints_block(plan, table, heading, bullet))
    if plan.notes:
        blocks.append(
            heading("Notes")
            + "\n".join(bullet + printable(note) for note in render_notes(plan.notes))
        )
    if catalog is not None:
        # Which catalog answered and how far its prices can be trusted, in every format.
        blocks.append(
            heading("Catalog") + "\n".join(bullet + line for line in catalog_lines(catalog))
        )
    return "\n\n".join(blocks)


def _printable_table(
    table: Callable[[Sequence[str], Sequence[Sequence[str]], Sequence[int]], str],
) -> Callable[[Sequence[str], Sequence[Sequence[str]], Sequence[int]], str]:
    def escaped(
        headers: Sequence[str], rows: Sequence[Sequence[str]], right_aligned: Sequence[int]
    ) -> str:
        return table(headers, [[printable(cell) for cell in row] for row in rows], right_aligned)

    return escaped


def infeasible_line(plan: Plan) -> str:
    """The line ``planner plan`` writes to stderr for an infeasible plan (escaped as the table)."""
    return printable(f"infeasible: {infeasible_reason(plan.infeasible_causes)}")


def render_plan_table(plan: Plan, catalog: Any | None = None) -> str:
    """The text table; with ``catalog``, a last block says which catalog answered."""
    return _render(plan, render_text_table, lambda title: f"{title}:\n", "", catalog)


def render_plan_markdown(plan: Plan, catalog: Any | None = None) -> str:
    title = "## Replica plan\n\n"
    return title + _render(plan, render_markdown_table, lambda t: f"### {t}\n\n", "- ", catalog)


def plan_document(plan: Plan, catalog: Any | None = None) -> dict[str, Any]:
    """The JSON document of ``planner plan --format json`` (docs/cli.md): the plan's values, its
    notes in words."""
    document = plan.to_json()
    document["notes"] = render_notes(plan.notes)
    document["infeasible_reason"] = infeasible_reason(plan.infeasible_causes)
    document["explain_legend"] = dict(CONSTRAINT_LEGEND)
    if catalog is not None:
        document["catalog"] = {
            "sources": [source.to_json() for source in catalog.sources],
            "as_of": catalog.as_of,
        }
    return document


def render_plan_json(plan: Plan, catalog: Any | None = None) -> str:
    return json.dumps(plan_document(plan, catalog), indent=2)
