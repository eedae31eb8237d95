"""`availability_zones` (a row passes when its location is a zone named in the list) and the count
of offers the reference page's one-GPU default leaves out, checked against per-row references."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from match_catalogs import make_catalog

from planner.match import find_offers
from planner.match.gpu_default import gpu_count_default, gpu_spelling
from planner.requirements import Requirements

LOCATIONS = [
    ("gcp", "us-central1-a"),
    ("gcp", "US-CENTRAL1-B"),
    ("gcp", "europe-west4-a"),
    ("aws", "us-east-1"),
    ("aws", "us-east-1a"),  # an AWS region column never names a zone
    ("lambdalabs", "us-central1-a"),
]


@st.composite
def zone_rows(draw: st.DrawFn) -> dict[str, Any]:
    provider, region = draw(st.sampled_from(LOCATIONS))
    return {"provider": provider, "region": region, "price": draw(st.sampled_from([0.5, 1.0, 2.0]))}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(zone_rows(), min_size=1, max_size=12),
    st.lists(st.sampled_from(["us-central1-a", "us-central1-b", "us-east-1a", "x"]), max_size=3),
)
def test_zone_filter_equals_the_per_row_reference(
    rows: list[dict[str, Any]], zones: list[str]
) -> None:
    catalog = make_catalog(rows)
    offers = find_offers(Requirements(availability_zones=tuple(zones)), catalog, rows=True)
    wanted = {zone.lower() for zone in zones}
    expected = sorted(
        (row["provider"], row["region"], row["price"])
        for row in rows
        if row["provider"] == "gcp" and row["region"].lower() in wanted
    )
    got = sorted((r["provider"], r["region"], r["price"]) for r in offers.records())
    assert got == expected


GPU_ROWS = [
    {"gpu_name": "H100", "gpu_count": count, "gpu_memory_gb": 80.0, "gpu_vendor": "nvidia", "price": price}
    for count, price in ((1, 3.0), (2, 5.0), (8, 20.0), (4, 1.5))
] + [{"price": 0.1}]  # fmt: skip


def test_the_one_gpu_default_counts_what_one_or_more_would_keep() -> None:
    catalog = make_catalog(GPU_ROWS)
    strict = Requirements(
        gpu_names=("H100",), min_gpu_count=1, max_gpu_count=1, gpu_count_defaulted=True
    )
    note = gpu_count_default(strict, catalog)
    assert note is not None
    assert (note.excluded, note.cheapest_price, note.spelling) == (3, 1.5, "H100:1..")
    # A written count, or nothing left out: no note.
    assert (
        gpu_count_default(
            Requirements(gpu_names=("H100",), min_gpu_count=1, max_gpu_count=1), catalog
        )
        is None
    )
    only_one = make_catalog(GPU_ROWS[:1])
    assert gpu_count_default(strict, only_one) is None


def test_the_spelling_keeps_memory_and_names() -> None:
    assert (
        gpu_spelling(Requirements(min_gpu_memory_gb=24, max_gpu_memory_gb=24, min_gpu_count=1))
        == "24GB:1.."
    )
    assert (
        gpu_spelling(Requirements(gpu_names=("A10G", "L4"), min_gpu_memory_gb=16, min_gpu_count=1))
        == "A10G,L4:16GB..:1.."
    )


def test_offers_and_plan_say_what_the_default_left_out(
    tmp_path: Path, run_cli: Callable[..., CompletedProcess[str]]
) -> None:
    service = tmp_path / "service.yml"
    service.write_text("type: service\nport: 8000\ncommands: [serve]\nresources: {gpu: H100}\n")
    table = run_cli("offers", str(service), "--max-offers", "1")
    assert table.returncode == 0, table.stderr
    (line,) = [text for text in table.stdout.splitlines() if "H100:1.." in text]
    assert "exactly one" in line and "dstack 0.22.5" in line
    document = json.loads(run_cli("offers", str(service), "--format", "json").stdout)
    assert document["gpu_count_default"]["spelling"] == "H100:1.."
    assert document["gpu_count_default"]["excluded"] > 0
    plan = run_cli("plan", str(service), "--no-explain")
    assert plan.returncode == 0, plan.stderr
    assert "`gpu: H100:1..`" in plan.stdout
    # Written as dstack reads it, there is nothing to say.
    service.write_text(
        "type: service\nport: 8000\ncommands: [serve]\nresources: {gpu: 'H100:1..'}\n"
    )
    assert "H100:1.." not in run_cli("offers", str(service), "--max-offers", "1").stdout
