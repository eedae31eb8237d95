"""Live AWS offers from the EC2 emulator (moto server) enter the offer table like any catalog's:
instance types with their GPUs, spot prices from the spot price history per zone, on-demand prices
(from the bundled catalog: moto has no Pricing API), with their provenance."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3

import planner
from planner.backends.aws.backend import AwsBackend
from planner.backends.registry import open_backend
from planner.backends.settings import load_backends
from planner.requirements import Requirements

A10G_SERVICE = """\
type: service
name: a10g
image: vllm/vllm-openai:v0.6.3
commands: [vllm serve x]
port: 8000
resources:
  gpu: A10G:1
spot_policy: auto
"""


def _zones_and_prices(moto: str, region: str, instance_type: str) -> dict[str, float]:
    """What the emulator's own spot price history says, read with plain boto3."""
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=moto)
    rows = ec2.describe_spot_price_history(InstanceTypes=[instance_type])["SpotPriceHistory"]
    return {row["AvailabilityZone"]: float(row["SpotPrice"]) for row in rows}


def test_catalog_load_live_gives_gpu_rows_with_provenance(backends_file, moto) -> None:
    path = backends_file()
    before = datetime.now(UTC).replace(microsecond=0)
    catalog = planner.Catalog.load("live:aws", backends_file=path)
    after = datetime.now(UTC) + timedelta(seconds=1)

    frame = catalog.frame
    assert len(frame) > 50
    assert set(frame["provider"].astype(str)) == {"aws"}
    assert set(frame["region"].astype(str)) == {"us-east-1", "us-west-2"}
    assert frame["gpu_count"].min() >= 1  # gpu_only: the default, as the catalog snapshot
    g5 = frame[(frame["instance_type"] == "g5.xlarge") & (frame["region"] == "us-east-1")]
    assert sorted(g5["spot"].tolist()) == [False, True]
    first = g5.iloc[0]
    assert (first["gpu_name"], first["gpu_count"], first["gpu_memory_gb"]) == ("A10G", 1, 24.0)
    assert (first["cpu"], first["memory_gb"], first["gpu_vendor"]) == (4, 16.0, "nvidia")
    p4d = frame[frame["instance_type"] == "p4d.24xlarge"].iloc[0]
    assert (p4d["gpu_name"], p4d["gpu_count"], p4d["gpu_memory_gb"]) == ("A100", 8, 40.0)

    # The spot row: the cheapest zone of the emulator's spot price history, that zone recorded.
    history = _zones_and_prices(moto, "us-east-1", "g5.xlarge")
    spot = g5[g5["spot"]].iloc[0]
    zone = json.loads(spot["provider_data"])["zone"]
    assert spot["price"] == min(history.values()) == history[zone]
    # The on-demand row: the bundled catalog's AWS price for the same type and region.
    bundled = planner.Catalog.load().frame
    listed = bundled[
        (bundled["provider"] == "aws")
        & (bundled["instance_type"] == "g5.xlarge")
        & (bundled["region"] == "us-east-1")
        & ~bundled["spot"]
    ]
    assert g5[~g5["spot"]].iloc[0]["price"] == listed.iloc[0]["price"]

    (source,) = catalog.sources
    assert (source.location, source.format, source.providers) == ("live:aws", "live", ("aws",))
    assert source.rows == len(frame)
    assert "aws plugin" in str(source.as_of_from)
    assert before <= datetime.fromisoformat(str(source.as_of)) <= after


def test_matching_and_planning_work_on_live_rows(backends_file, tmp_path) -> None:
    service = tmp_path / "a10g.yml"
    service.write_text(A10G_SERVICE, encoding="utf-8")
    catalog = planner.Catalog.load("live:aws", backends_file=backends_file())
    offers = planner.find_offers(service, catalog)
    records = offers.records()
    assert offers.total == len(records) > 0
    assert {record["gpu_name"] for record in records} == {"A10G"}
    assert {record["spot"] for record in records} == {True, False}
    result = planner.plan(service, catalog)
    assert result.status in ("optimal", "feasible")
    assert result.placements[0].offer["gpu_name"] == "A10G"


def test_requirements_narrow_the_query(backends_file) -> None:
    config = load_backends(backends_file()).named("aws")
    assert config is not None
    backend = open_backend(config)
    assert isinstance(backend, AwsBackend)
    offers = backend.live_offers(Requirements(gpu_names=("L4",), regions=("us-west-2",), spot=True))
    frame = offers.frame
    assert len(frame) > 0
    assert set(frame["gpu_name"]) == {"L4"}
    assert set(frame["region"]) == {"us-west-2"}
    assert frame["spot"].all()


def test_offers_live_cli(run_cli, backends_file, tmp_path) -> None:
    service = tmp_path / "a10g.yml"
    service.write_text(A10G_SERVICE, encoding="utf-8")
    path = backends_file(regions=["us-west-2"])
    result = run_cli("offers", str(service), "--live", "--backends", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    offers = document["offers"]
    assert offers and {offer["region"] for offer in offers} == {"us-west-2"}
    assert {offer["provider"] for offer in offers} == {"aws"}
    assert {offer["instance_type"] for offer in offers} >= {"g5.xlarge", "g5.2xlarge"}
    text = json.dumps(document)
    assert "live:aws" in text  # the provenance the document reports


def test_live_needs_a_backends_file(run_cli, tmp_path) -> None:
    service = tmp_path / "a10g.yml"
    service.write_text(A10G_SERVICE, encoding="utf-8")
    result = run_cli("offers", str(service), "--live")
    assert result.returncode == 2
    assert "--backends" in result.stderr and "Traceback" not in result.stderr


def test_an_endpoint_without_the_pricing_api_is_a_clear_error(run_cli, backends_file, tmp_path):
    # moto answers the Pricing API with HTTP 500: the plugin says so, exit 2, no traceback.
    service = tmp_path / "a10g.yml"
    service.write_text(A10G_SERVICE, encoding="utf-8")
    path = backends_file(on_demand_prices="pricing-api")
    result = run_cli("offers", str(service), "--live", "--backends", str(path))
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("error: live:aws: AWS")
    assert "Traceback" not in result.stderr


def test_nothing_listed_is_an_empty_table(backends_file) -> None:
    config = load_backends(backends_file()).named("aws")
    assert config is not None
    backend = open_backend(config)
    empty = backend.live_offers(Requirements(gpu_names=("NO-SUCH-GPU",)))
    assert len(empty.frame) == 0
    catalog = planner.Catalog.from_frame(empty.frame, sources=[empty.catalog_source()])
    assert len(catalog) == 0 and catalog.sources[0].location == "live:aws"
    # A service restricted to other providers asks AWS nothing and gets nothing.
    assert len(backend.live_offers(Requirements(providers=("gcp",))).frame) == 0


def test_credentials_from_a_named_profile(backends_file, tmp_path, monkeypatch) -> None:
    config_file = tmp_path / "aws-config"
    config_file.write_text(
        "[profile demo]\naws_access_key_id = AKIAPROFILEEXAMPLE01\n"
        "aws_secret_access_key = profile/secret/EXAMPLEKEY0123456789\nregion = us-west-2\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    backend = open_backend(load_backends(backends_file(profile="demo")).backends[0])
    assert isinstance(backend, AwsBackend)
    frozen = backend.clients.session.get_credentials().get_frozen_credentials()
    assert frozen.access_key == "AKIAPROFILEEXAMPLE01"
    offers = backend.live_offers(Requirements(instance_types=("g5.xlarge",), spot=True))
    assert set(offers.frame["instance_type"]) == {"g5.xlarge"}


def test_an_unknown_profile_names_the_setting(run_cli, backends_file, tmp_path) -> None:
    service = tmp_path / "a10g.yml"
    service.write_text(A10G_SERVICE, encoding="utf-8")
    path = backends_file(profile="no-such-profile")
    result = run_cli(
        "offers", str(service), "--live", "--backends", str(path),
        env={"AWS_CONFIG_FILE": str(tmp_path / "empty-config")},
    )  # fmt: skip
    assert result.returncode == 2
    assert "backends.aws.profile" in result.stderr and "no-such-profile" in result.stderr
    assert "Traceback" not in result.stderr
