"""Rendering ``planner offers`` for a service with replica groups: one section per group.

The table prints a section per group; JSON and CSV carry a ``group`` field on every offer (and
JSON a document per group); the why-not explanation is given for each group without offers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from planner.match.offers import OFFER_FIELDS
from planner.render.gpu_default import gpu_count_default_line
from planner.render.offers import (
    offer_csv_fields,
    offer_csv_row,
    offers_document,
    render_groups_table,
    render_offers_table,
    why_not_text,
)
from planner.render.provenance import catalog_lines
from planner.render.text import printable

if TYPE_CHECKING:
    from planner.match import GroupOffers
    from planner.match.gpu_default import GpuCountDefault

# Per group (aligned with the groups): what the one-GPU default left out, or None.
GpuDefaults = Sequence["GpuCountDefault | None"]


def group_title(group: GroupOffers) -> str:
    """``group decode (2..4 replicas, spot_policy auto)``."""
    spec = group.group
    count = (
        str(spec.min_replicas)
        if spec.min_replicas == spec.max_replicas
        else f"{spec.min_replicas}..{spec.max_replicas}"
    )
    words = [f"{count} replica{'' if spec.max_replicas == 1 else 's'}"]
    words.append(f"spot_policy {spec.spot_policy}")
    if spec.scaling_metric is not None and spec.scaling_target is not None:
        words.append(f"{spec.scaling_metric} target {spec.scaling_target:g}")
    if spec.fixed_count:
        words.append("router: fixed count")
    return printable(f"group {spec.name}") + f" ({', '.join(words)})"


def _defaults(groups: Sequence[GroupOffers], gpu_defaults: GpuDefaults) -> GpuDefaults:
    return list(gpu_defaults) or [None] * len(groups)


def render_group_offers_table(
    groups: Sequence[GroupOffers],
    limit: int | None,
    group_by: tuple[str, ...] = (),
    gpu_defaults: GpuDefaults = (),
) -> str:
    """A section per group: its title, then its offers (or offer groups) as ``planner offers``
    prints them, or that none match, then the one-GPU default's line where it removed offers
    of the group (``gpu_defaults``: ``gpu_count_default`` per group); the catalog lines once at
    the end."""
    sections = []
    for group, gpu_default in zip(groups, _defaults(groups, gpu_defaults), strict=True):
        offers = group.offers
        if offers.total == 0:
            body = "no offer matches this group (why: see stderr)"
        elif group_by:
            rows = offers.grouped(group_by)
            shown = rows[:limit]
            body = render_groups_table(shown) + (
                f"\n\nshown {len(shown)} of {len(rows)} groups ({offers.total} offers)"
            )
        else:
            # render_offers_table ends with the catalog lines: printed once, below.
            lines = render_offers_table(offers, limit).split("\n")
            body = "\n".join(lines[: len(lines) - len(catalog_lines(offers.catalog))])
        if gpu_default is not None:
            body += "\n" + gpu_count_default_line(gpu_default, group.name)
        sections.append(f"{group_title(group)}:\n{body}")
    catalog = groups[0].offers.catalog
    return "\n\n".join([*sections, "\n".join(catalog_lines(catalog))]).rstrip("\n")


def group_offers_document(
    groups: Sequence[GroupOffers],
    limit: int | None,
    group_by: tuple[str, ...] = (),
    gpu_defaults: GpuDefaults = (),
) -> dict[str, Any]:
    """The JSON document: one entry per group (its ``group`` name, replica range, the
    ``planner offers`` document of its offers, each offer carrying ``group``, and
    ``gpu_count_default``: what the one-GPU default left out, or null), the total."""
    entries = []
    for group, gpu_default in zip(groups, _defaults(groups, gpu_defaults), strict=True):
        document = offers_document(group.offers, 0 if group_by else limit)
        catalog = document.pop("catalog")
        document["offers"] = [{"group": group.name, **offer} for offer in document["offers"]]
        if group_by:
            rows = group.offers.grouped(group_by)
            del document["offers"]
            document["group_by"] = list(group_by)
            document["total_groups"] = len(rows)
            document["groups"] = [{"group": group.name, **row} for row in rows[:limit]]
        spec = group.group
        entries.append(
            {
                "group": spec.name,
                "replicas": {"min": spec.min_replicas, "max": spec.max_replicas},
                "spot_policy": spec.spot_policy,
                "scaling": None
                if spec.scaling_metric is None
                else {"metric": spec.scaling_metric, "target": spec.scaling_target},
                "fixed_count": spec.fixed_count,
                **document,
                "gpu_count_default": gpu_default.to_json() if gpu_default else None,
            }
        )
    return {
        "total_offers": sum(group.offers.total for group in groups),
        "replica_groups": entries,
        "catalog": catalog,
    }


def render_group_offers_json(
    groups: Sequence[GroupOffers],
    limit: int | None,
    group_by: tuple[str, ...] = (),
    gpu_defaults: GpuDefaults = (),
) -> str:
    return json.dumps(group_offers_document(groups, limit, group_by, gpu_defaults), indent=2)


def render_group_offers_csv(groups: Sequence[GroupOffers], limit: int | None) -> str:
    """The offers CSV with a first ``group`` column; each group's offers in turn."""
    buffer = io.StringIO()
    fields = offer_csv_fields(groups[0].offers) if groups else OFFER_FIELDS
    writer = csv.DictWriter(buffer, fieldnames=("group", *fields), lineterminator="\n")
    writer.writeheader()
    for group in groups:
        for offer in group.offers.records(limit):
            writer.writerow({"group": group.name, **offer_csv_row(offer)})
    return buffer.getvalue()


def group_why_not_text(groups: Sequence[GroupOffers]) -> str:
    """Why each group without offers has none (the group named on the first line)."""
    return "\n".join(
        printable(f"group {group.name}: ") + why_not_text(group.offers)
        for group in groups
        if group.offers.total == 0
    )
