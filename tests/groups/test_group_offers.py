"""``planner offers`` for a service with replica groups: a section per group in the table, a
``group`` field in JSON and CSV, the why-not explanation per group without offers."""

from __future__ import annotations

import csv
import io
import json

from group_catalogs import catalog, cpu_group, gpu_group, row

from planner.match import find_group_offers
from planner.render.group_offers import (
    group_why_not_text,
    render_group_offers_csv,
    render_group_offers_json,
    render_group_offers_table,
)

ROWS = [
    row("aws", "us-east-1", "p5.h100", 3.0, "H100"),
    row("gcp", "us-central1", "a3-h100", 3.2, "H100"),
    row("aws", "us-east-1", "p4.a100", 1.8, "A100"),
    row("aws", "us-east-1", "c5.xlarge", 0.1, None),
]
GROUPS = (
    gpu_group("prefill", "H100", 2),
    gpu_group("decode", "A100", (1, 3)),
    cpu_group("router", 1),
)


def test_each_format_says_which_group_an_offer_is_for() -> None:
    # Made-up instance types: the catalog rows themselves (dstack's family rules would drop them).
    found = find_group_offers(GROUPS, catalog(ROWS), rows=True)
    table = render_group_offers_table(found, None)
    sections = [line for line in table.splitlines() if line.startswith("group ")]
    assert sections == [
        "group prefill (2 replicas, spot_policy on-demand):",
        "group decode (1..3 replicas, spot_policy on-demand):",
        "group router (1 replica, spot_policy on-demand, router: fixed count):",
    ]
    assert table.count("catalog:") == 1 and "p5.h100" in table and "c5.xlarge" in table
    document = json.loads(render_group_offers_json(found, None))
    assert document["total_offers"] == 4
    by_group = {entry["group"]: entry for entry in document["replica_groups"]}
    assert by_group["decode"]["replicas"] == {"min": 1, "max": 3}
    assert [o["instance_type"] for o in by_group["prefill"]["offers"]] == ["p5.h100", "a3-h100"]
    assert all(o["group"] == name for name, e in by_group.items() for o in e["offers"])
    rows = list(csv.DictReader(io.StringIO(render_group_offers_csv(found, None))))
    assert [(r["group"], r["instance_type"]) for r in rows] == [
        ("prefill", "p5.h100"),
        ("prefill", "a3-h100"),
        ("decode", "p4.a100"),
        ("router", "c5.xlarge"),
    ]
    assert group_why_not_text(found) == ""


def test_why_not_is_given_per_group_without_offers() -> None:
    groups = (gpu_group("prefill", "H100", 1), gpu_group("decode", "B200", 1))
    found = find_group_offers(groups, catalog(ROWS), rows=True)
    text = group_why_not_text(found)
    assert text.startswith("group decode: no offer matches all requirements")
    assert "prefill" not in text and "gpu name in [B200]" in text
