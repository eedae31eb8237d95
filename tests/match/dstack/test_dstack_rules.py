"""dstack-level offers on the bundled snapshot: one test per rule of docs/dstack-offers.md.

Each test compares the default (dstack-level) answer of ``planner.find_offers`` with the catalog
rows (``rows=True``) of the same request, so the rule shows as the difference.
"""

from __future__ import annotations

import itertools
import math
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.config.dstack_settings import BackendSettings, DstackServerSettings

AWS_DEFAULT_REGIONS = {
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-southeast-1",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
}
AWS_FAMILIES = (
    "m7i.", "c7i.", "r7i.", "t3.", "t2.small", "c5.", "m5.", "p6-b300.", "p6-b200.", "p5.",
    "p5e.", "p5en.", "p4d.", "p4de.", "g7.", "g7e.", "g6.", "g6e.", "gr6.", "g5.", "g4dn.",
)  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> planner.Catalog:
    return planner.Catalog.load()


def service(tmp_path: Path, body: str, name: str = "service.yml") -> Path:
    path = tmp_path / name
    path.write_text(
        "type: service\nport: 8000\ncommands: [python serve.py]\n" + body, encoding="utf-8"
    )
    return path


def offers(
    tmp_path: Path, catalog: planner.Catalog, body: str, **options: Any
) -> list[dict[str, Any]]:
    return planner.find_offers(service(tmp_path, body), catalog, **options).records()


def test_gcp_zones_become_one_region_offer_with_its_zones(
    tmp_path: Path, catalog: planner.Catalog
) -> None:
    body = "resources:\n  gpu: L4\nregions: [europe-west4]\nbackends: [gcp]\n"
    found = offers(tmp_path, catalog, body)
    assert found, "the L4 offers of europe-west4 (the issue's example)"
    assert all(offer["region"] == "europe-west4" for offer in found)
    assert offers(tmp_path, catalog, body, rows=True) == []  # rows are zones: nothing matches
    zone_rows = offers(tmp_path, catalog, body.replace("[europe-west4]", "[europe-west4-a, europe-west4-b, europe-west4-c]"), rows=True)  # fmt: skip
    for offer in found:
        same = [
            row["region"]
            for row in zone_rows
            if (row["instance_type"], row["spot"]) == (offer["instance_type"], offer["spot"])
        ]
        assert offer["availability_zones"] == same  # every zone of the key, in catalog order
        assert offer["price"] == min(
            row["price"]
            for row in zone_rows
            if (row["instance_type"], row["spot"]) == (offer["instance_type"], offer["spot"])
        )
    # One offer per (instance, spot) in the region.
    keys = [(offer["instance_type"], offer["spot"]) for offer in found]
    assert len(keys) == len(set(keys))


def test_gcp_merge_ignores_the_gpu_count_and_says_so(
    tmp_path: Path, catalog: planner.Catalog
) -> None:
    """n1-standard-4 with 1/2/4/8 T4: dstack 0.22.5 keeps the cheapest (1×T4) per region."""
    one = offers(tmp_path, catalog, "resources:\n  gpu: T4:1\nbackends: [gcp]\n")
    assert any(offer["instance_type"] == "n1-standard-4" for offer in one)
    path = service(tmp_path, "resources:\n  gpu: T4:2\nbackends: [gcp]\n")
    two = planner.find_offers(path, catalog)
    assert not any(offer["instance_type"] == "n1-standard-4" for offer in two.records())
    assert any(
        offer["instance_type"] == "n1-standard-4"
        for offer in planner.find_offers(path, catalog, rows=True).records()
    )
    (note,) = [note for note in two.notes if note.kind == "gcp_gpu_count_merge"]
    assert note.hidden > 0 and "2xT4" in note.text()
    merge = next(item for item in two.exclusions if item.requirement == "dstack_merge")
    assert merge.excluded > 0


def test_default_regions_and_family_allowlist_of_aws(
    tmp_path: Path, catalog: planner.Catalog
) -> None:
    body = (
        "resources:\n  gpu: 0..\n  memory: 0GB..\n  cpu: 1..\nbackends: [aws]\nspot_policy: auto\n"
    )
    found = offers(tmp_path, catalog, body)
    rows = offers(tmp_path, catalog, body, rows=True)
    assert {offer["region"] for offer in found} <= AWS_DEFAULT_REGIONS
    assert {row["region"] for row in rows} - AWS_DEFAULT_REGIONS  # e.g. ap-northeast-1
    assert all(offer["instance_type"].startswith(AWS_FAMILIES) for offer in found)
    assert any(not row["instance_type"].startswith(AWS_FAMILIES) for row in rows)
    kept = [
        row
        for row in rows
        if row["region"] in AWS_DEFAULT_REGIONS and row["instance_type"].startswith(AWS_FAMILIES)
    ]
    assert len(found) == len(kept)  # nothing else is dropped: aws has no merge


def test_runpod_community_regions_only_when_enabled(
    tmp_path: Path, catalog: planner.Catalog
) -> None:
    body = "resources:\n  gpu: 1..\nbackends: [runpod]\n"
    default = offers(tmp_path, catalog, body)
    assert default and all("-" in offer["region"] for offer in default)
    assert any("-" not in row["region"] for row in offers(tmp_path, catalog, body, rows=True))
    community = DstackServerSettings(
        backends=(BackendSettings(type="runpod", community_cloud=True),)
    )
    enabled = offers(tmp_path, catalog, body, dstack_config=community)
    assert any("-" not in offer["region"] for offer in enabled)


def test_runpod_multi_pod_offers_are_not_for_a_service(
    tmp_path: Path, catalog: planner.Catalog
) -> None:
    body = "resources:\n  gpu: 1..\nbackends: [runpod]\n"
    rows = planner.find_offers(service(tmp_path, body), catalog, rows=True).frame
    cluster = set(rows.loc[rows["flags"] == "runpod-cluster", "instance_type"].astype(str))
    assert cluster
    found = offers(tmp_path, catalog, body)
    assert not [offer for offer in found if "runpod-cluster" in offer["flags"]]


def test_gcp_tpus_only_when_enabled(tmp_path: Path, catalog: planner.Catalog) -> None:
    body = "image: python:3.11\nresources:\n  gpu: v5litepod-1\nbackends: [gcp]\n"
    assert offers(tmp_path, catalog, body, rows=True)
    assert offers(tmp_path, catalog, body) == []
    tpu = DstackServerSettings(backends=(BackendSettings(type="gcp", tpu=True),))
    enabled = offers(tmp_path, catalog, body, dstack_config=tpu)
    assert enabled and all(offer["availability_zones"] for offer in enabled)


def test_disk_fitting(tmp_path: Path, catalog: planner.Catalog) -> None:
    # A configurable disk gets the smallest size the request and the backend allow.
    small = offers(tmp_path, catalog, "resources:\n  gpu: L4\n  disk: 10GB..\nbackends: [gcp]\n")
    assert small and {offer["disk_gb"] for offer in small} == {20.0}  # gcp's minimum
    default = offers(tmp_path, catalog, "resources:\n  gpu: L4\nbackends: [gcp]\n")
    assert {offer["disk_gb"] for offer in default} == {100.0}  # dstack's 100GB.. default
    # An empty intersection drops the backend: aws disks are 100 GB..16 TB.
    assert offers(tmp_path, catalog, "resources:\n  gpu: 1..\n  disk: 50GB..80GB\nbackends: [aws]\n") == []  # fmt: skip
    # A fixed disk (lambda) is the catalog's, and is only checked against the request.
    fixed = offers(tmp_path, catalog, "resources:\n  gpu: A10\nbackends: [lambda]\n")
    assert fixed and all(offer["disk_gb"] > 100 for offer in fixed)


def test_aws_reservation_never_offers_spot(tmp_path: Path, catalog: planner.Catalog) -> None:
    body = "resources:\n  gpu: 1..\nbackends: [aws]\nspot_policy: auto\nreservation: cr-0123\n"
    found = offers(tmp_path, catalog, body)
    assert found and not any(offer["spot"] for offer in found)
    assert any(row["spot"] for row in offers(tmp_path, catalog, body, rows=True))
    plan = planner.plan(
        service(tmp_path, body + "replicas: 3\nretry:\n  on_events: [interruption]\n"),
        catalog,
        options=planner.PlanOptions(explain=False),
    )
    assert plan.placements
    assert all(placement.capacity_type != "spot" for placement in plan.placements)
    assert all(not placement.offer["spot"] for placement in plan.placements)


def test_nebius_spot_prices_rounded_up_per_gpu(tmp_path: Path, catalog: planner.Catalog) -> None:
    body = "resources:\n  gpu: 0..\n  memory: 0GB..\nbackends: [nebius]\nspot_policy: spot\n"
    found = offers(tmp_path, catalog, body)
    rows = {
        (row["instance_type"], row["region"]): row
        for row in offers(tmp_path, catalog, body, rows=True)
    }
    assert found
    changed = 0
    for offer in found:
        row = rows[(offer["instance_type"], offer["region"])]
        units = max(row["gpu_count"], 1)
        per_unit = (Decimal(str(row["price"])) / units).quantize(
            Decimal("0.001"), rounding=ROUND_CEILING
        )
        # gpuhunt marks Nebius's L40S spot prices flat-rate: those are not rounded.
        expected = row["price"] if offer["gpu_name"] == "L40S" else float(per_unit * units)
        assert offer["price"] == expected
        changed += offer["price"] != row["price"]
    assert changed  # the snapshot has prices with more than 3 decimals per GPU


def test_memory_compared_in_mib_as_dstack_does(tmp_path: Path, catalog: planner.Catalog) -> None:
    # gpu_1x_a10 on lambda has 214.8 GB: 219955 MiB = 214.7998 GB, below a 214.8 GB minimum.
    body = "resources:\n  gpu: A10\n  memory: 214.8GB..\nbackends: [lambda]\n"
    assert any(row["memory_gb"] == 214.8 for row in offers(tmp_path, catalog, body, rows=True))
    found = offers(tmp_path, catalog, body)
    assert not any(offer["instance_type"] == "gpu_1x_a10" for offer in found)
    shown = offers(tmp_path, catalog, body.replace("214.8GB", "214GB"))
    memory = next(offer["memory_gb"] for offer in shown if offer["instance_type"] == "gpu_1x_a10")
    assert memory == round(214.8 * 1024) / 1024


def test_order_is_price_then_backend_order_of_the_server(
    tmp_path: Path, catalog: planner.Catalog
) -> None:
    body = "resources:\n  gpu: 1..\nspot_policy: auto\n"
    names = ("verda", "runpod", "lambda", "gcp", "aws", "azure", "oci", "nebius", "vastai")
    settings = DstackServerSettings(backends=tuple(BackendSettings(type=name) for name in names))
    found = offers(tmp_path, catalog, body, dstack_config=settings)
    prices = [offer["price"] for offer in found]
    assert prices == sorted(prices)
    rank = {name: position for position, name in enumerate(names)}
    ties = 0
    for first, second in itertools.pairwise(found):
        if first["price"] == second["price"] and first["backend"] != second["backend"]:
            assert rank[first["backend"]] < rank[second["backend"]]
            ties += 1
    assert ties  # the snapshot has equal prices across backends
    assert all(offer["availability"] == "unknown" for offer in found)


def test_only_configured_backends_answer_with_their_regions(
    tmp_path: Path, catalog: planner.Catalog
) -> None:
    settings = DstackServerSettings(
        backends=(
            BackendSettings(type="aws", regions=("us-east-1",)),
            BackendSettings(type="gcp", regions=("us-central1",)),
        )
    )
    found = offers(tmp_path, catalog, "resources:\n  gpu: 1..\n", dstack_config=settings)
    assert {offer["backend"] for offer in found} == {"aws", "gcp"}
    assert {offer["region"] for offer in found} == {"us-east-1", "us-central1"}
    gcp_zones = {zone for offer in found for zone in offer["availability_zones"] or ()}
    assert gcp_zones and all(zone.startswith("us-central1-") for zone in gcp_zones)


def test_rows_keep_the_catalog_rows(tmp_path: Path, catalog: planner.Catalog) -> None:
    path = service(tmp_path, "resources:\n  gpu: A100\n")
    rows = planner.find_offers(path, catalog, rows=True)
    assert "availability_zones" not in rows.records(1)[0]
    with pytest.raises(planner.InputError):
        planner.find_offers(path, catalog, rows=True, dstack_config=DstackServerSettings(()))


def test_plan_places_on_regions_with_their_zones(tmp_path: Path, catalog: planner.Catalog) -> None:
    body = "resources:\n  gpu: L4\nregions: [europe-west4]\nbackends: [gcp]\n"
    plan = planner.plan(
        service(tmp_path, body), catalog, options=planner.PlanOptions(explain=False)
    )
    assert plan.status == "optimal"
    (placement,) = plan.placements
    assert placement.offer["region"] == "europe-west4"
    assert placement.offer["availability_zones"] == ["europe-west4-a", "europe-west4-b"]
    rows_plan = planner.plan(
        service(tmp_path, body), catalog, rows=True, options=planner.PlanOptions(explain=False)
    )
    assert rows_plan.status == "infeasible"  # rows are zones: no row is in "europe-west4"
    assert not math.isnan(placement.hourly_price)


def test_capacity_rows_may_name_a_gcp_region(tmp_path: Path, catalog: planner.Catalog) -> None:
    capacity = tmp_path / "capacity.csv"
    capacity.write_text(
        "backend,region,instance_type,spot,capacity,interruption\n"
        "gcp,europe-west4,g2-standard-4,false,1,\n"
        "gcp,europe-west9,g2-standard-4,false,1,\n",
        encoding="utf-8",
    )
    body = "resources:\n  gpu: L4\nregions: [europe-west4]\nbackends: [gcp]\n"
    plan = planner.plan(
        service(tmp_path, body),
        catalog,
        capacity=capacity,
        options=planner.PlanOptions(explain=False),
    )
    flagged = [getattr(note, "value", None) for note in plan.notes]
    assert "europe-west9" in flagged and "europe-west4" not in flagged


def test_availability_zones_narrow_a_region_offer(tmp_path: Path, catalog: planner.Catalog) -> None:
    body = "resources:\n  gpu: L4\nbackends: [gcp]\navailability_zones: [EUROPE-WEST4-B]\n"
    found = offers(tmp_path, catalog, body)
    assert found and {offer["region"] for offer in found} == {"europe-west4"}
    assert all(offer["availability_zones"] == ["europe-west4-b"] for offer in found)
    # Backends whose offers list no zones (lambda, ...) are dropped, as in dstack.
    assert offers(tmp_path, catalog, body.replace("[gcp]", "[lambda]")) == []


@pytest.mark.parametrize(("alias", "provider"), [("datacrunch", "verda")])
def test_a_backend_type_the_service_names_answers_without_a_server_config(
    tmp_path: Path, catalog: planner.Catalog, alias: str, provider: str
) -> None:
    # `backends: [datacrunch]` is a valid dstack 0.22.5 file: the server it runs on has a
    # datacrunch backend (over verda's catalog rows), so the assumed default server has it too.
    named = offers(tmp_path, catalog, f"resources:\n  gpu: A100:1..\nbackends: [{alias}]\n")
    assert named, "the alias found no offers"
    assert {record["backend"] for record in named} == {alias}
    default = offers(tmp_path, catalog, f"resources:\n  gpu: A100:1..\nbackends: [{provider}]\n")
    assert {record["backend"] for record in default} == {provider}
    key = ("region", "instance_type", "spot", "price")
    assert [[r[k] for k in key] for r in named] == [[r[k] for k in key] for r in default]
    # Without a `backends` list the default type answers, not both (no doubled offers).
    everything = offers(tmp_path, catalog, "resources:\n  gpu: A100:1..\n")
    assert alias not in {record["backend"] for record in everything}
