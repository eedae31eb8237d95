"""Rendering ``planner offers``: a table like ``dstack offer``, JSON per cli.md, CSV, groups, why-not."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from planner.match.offers import OFFER_FIELDS
from planner.render.provenance import catalog_lines
from planner.render.resources import format_resources, gb
from planner.render.table import render_text_table
from planner.render.text import printable
from planner.requirements import sized_disk_gb as sized_disk_for

if TYPE_CHECKING:
    from planner.match import Offers
    from planner.match.whynot import Exclusion


OFFER_HEADERS = ("#", "BACKEND", "REGION", "INSTANCE", "RESOURCES", "SPOT", "PRICE")


def _printable_rows(rows: Sequence[Sequence[str]]) -> list[list[str]]:
    return [[printable(cell) for cell in row] for row in rows]


def format_price(price: float) -> str:
    """``$2.49``, ``$0.7512``: dstack's up-to-6-decimals without trailing zeros."""
    return "$" + f"{price:f}".rstrip("0").rstrip(".")


def sized_disk_gb(offers: Offers) -> float:
    """The size dstack gives a configurable disk of these offers (``requirements.py``)."""
    return sized_disk_for(offers.requirements)


def render_offers_table(offers: Offers, limit: int | None) -> str:
    records = offers.records(limit)
    disk = sized_disk_gb(offers)
    rows = [
        (
            str(number),
            offer["backend"] or "",
            offer["region"] or "",
            offer["instance_type"] or "",
            format_resources(offer, disk),
            "yes" if offer["spot"] else "no",
            format_price(offer["price"]),
        )
        for number, offer in enumerate(records, start=1)
    ]
    table = render_text_table(OFFER_HEADERS, _printable_rows(rows), right_aligned=(0, 6))
    shown = f"shown {len(records)} of {offers.total} offers"
    return "\n".join([f"{table}\n\n{shown}", *catalog_lines(offers.catalog)])


def offers_document(offers: Offers, limit: int | None) -> dict[str, Any]:
    """The ``--format json`` document of cli.md, plus the why-not ``exclusions``.

    dstack-level offers add ``level: "dstack"`` and ``notes`` (offers dstack drops by accident);
    catalog rows say ``level: "rows"``.
    """
    catalog = offers.catalog
    notes = getattr(offers, "notes", None)
    return {
        "level": "rows" if notes is None else "dstack",
        "requirements": offers.requirements.to_json(),
        "total_offers": offers.total,
        "offers": offers.records(limit),
        "catalog": {
            "sources": [source.to_json() for source in catalog.sources],
            "as_of": catalog.as_of,
        },
        "exclusions": [exclusion.to_json() for exclusion in offers.exclusions],
        "notes": [note.to_json() for note in notes or ()],
    }


def note_lines(offers: Offers) -> list[str]:
    """The notes of dstack-level offers, one line each (none for catalog rows)."""
    return [note.text() for note in getattr(offers, "notes", None) or ()]


def render_offers_json(offers: Offers, limit: int | None) -> str:
    return json.dumps(offers_document(offers, limit), indent=2)


def render_offers_csv(offers: Offers, limit: int | None) -> str:
    """One row per offer; dstack-level offers add ``availability_zones`` (space-separated) and
    ``availability``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=offer_csv_fields(offers), lineterminator="\n")
    writer.writeheader()
    for offer in offers.records(limit):
        writer.writerow(offer_csv_row(offer))
    return buffer.getvalue()


def offer_csv_fields(offers: Offers) -> tuple[str, ...]:
    """The CSV columns of ``offers``: dstack-level offers carry their zones and availability."""
    if getattr(offers, "notes", None) is not None:
        return (*OFFER_FIELDS, "availability_zones", "availability")
    return OFFER_FIELDS


def offer_csv_row(offer: Mapping[str, Any]) -> dict[str, Any]:
    """One offer record as CSV cells (lists space-separated, booleans as true/false, None empty)."""
    row = dict(offer)
    row["flags"] = " ".join(offer["flags"])
    if offer.get("availability_zones") is not None:
        row["availability_zones"] = " ".join(offer["availability_zones"])
    row["spot"] = "true" if offer["spot"] else "false"
    return {key: "" if value is None else value for key, value in row.items()}


def exclusion_sentence(exclusion: Exclusion) -> str:
    """One why-not line: ``price ≤ $2: excluded 412 offers; the cheapest was $2.49/h``."""
    text = f"{exclusion.condition}: excluded {exclusion.excluded} offer{'s' if exclusion.excluded != 1 else ''}"
    if exclusion.cheapest_excluded_price is not None:
        text += f"; the cheapest was {format_price(exclusion.cheapest_excluded_price)}/h"
    if exclusion.only_this:
        text += (
            f"; {exclusion.only_this} fail only this requirement"
            f" (cheapest {format_price(exclusion.cheapest_only_this_price or 0.0)}/h)"
        )
    return text


def why_not_text(offers: Offers) -> str:
    """Why nothing (or little) matched: each requirement that excluded offers, worst first."""
    excluding = [exclusion for exclusion in offers.exclusions if exclusion.excluded]
    if not excluding:
        if len(offers.catalog) == 0:
            if getattr(offers, "notes", None) is not None:
                return (
                    "no dstack backend offers any catalog row (their regions and instance "
                    "allowlists exclude every row; --rows lists the rows)"
                )
            return "the catalog is empty"
        return "every offer matched"
    excluding.sort(key=lambda exclusion: -exclusion.only_this)
    offered = getattr(offers, "offered", None)
    if offered is not None:
        where = f"{offered} dstack-level offer{'s' if offered != 1 else ''} from the catalog"
    else:
        rows = len(offers.catalog)
        where = f"{rows} offer{'s' if rows != 1 else ''} in the catalog"
    lines = [f"no offer matches all requirements ({where}):"]
    lines += [f"  {exclusion_sentence(exclusion)}" for exclusion in excluding]
    if offers.total == 0 and not any(exclusion.only_this for exclusion in excluding):
        if all(exclusion.excluded < len(offers.catalog) for exclusion in excluding):
            lines.append(
                "each requirement alone is met by some offer, but no offer meets them together"
            )
        lines.append("every offer fails two or more requirements: relaxing one alone is not enough")
    return "\n".join(lines)


def _range_text(low: float, high: float, formatter: Any) -> str:
    return formatter(low) if low == high else f"{formatter(low)}..{formatter(high)}"


def render_groups_table(groups: Sequence[dict[str, Any]]) -> str:
    """Group rows like ``dstack offer --group-by``: GPU groups or, for CPU-only runs, CPU groups."""
    if groups and "name" not in groups[0]:
        return _render_cpu_groups(groups)
    has_backend = any(group["backend"] for group in groups)
    has_region = any(group["region"] for group in groups)
    headers = ["#", "GPU", "SPOT", "$/GPU", "BACKEND" if has_backend else "BACKENDS"]
    if has_backend:
        headers.append("REGION" if has_region else "REGIONS")
    rows = []
    for number, group in enumerate(groups, start=1):
        count = group["count"]
        memory = f"{int(group['memory_gb'])}GB"
        spec = f"{group['name']}:{memory}:{_range_text(count['min'], count['max'], str)}"
        price = _range_text(
            group["price"]["min"], group["price"]["max"], lambda p: format_price(p)[1:]
        )
        backend = group["backend"] or ", ".join(group["backends"] or ())
        row = [str(number), spec, ", ".join(group["spot"]), price, backend]
        if has_backend:
            regions = group["regions"] or []
            row.append(
                group["region"]
                or (", ".join(regions) if len(regions) <= 3 else f"{len(regions)} regions")
            )
        rows.append(row)
    return render_text_table(headers, _printable_rows(rows), right_aligned=(0,))


def _render_cpu_groups(groups: Sequence[dict[str, Any]]) -> str:
    headers = ["#", "CPU", "MEMORY", "SPOT", "PRICE", "BACKEND"]
    rows = []
    for number, group in enumerate(groups, start=1):
        arch = "/".join(group["cpu_arch"])
        cpus = _range_text(group["count"]["min"], group["count"]["max"], str)
        memory = _range_text(group["memory_gb"]["min"], group["memory_gb"]["max"], gb)
        price = _range_text(group["price"]["min"], group["price"]["max"], format_price)
        where = group["backend"] or ", ".join(group["backends"] or ())
        if group["region"]:
            where += f" ({group['region']})"
        rows.append([str(number), f"{arch}:{cpus}", memory, ", ".join(group["spot"]), price, where])
    return render_text_table(headers, _printable_rows(rows), right_aligned=(0,))
