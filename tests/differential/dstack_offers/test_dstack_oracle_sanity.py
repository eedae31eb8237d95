"""The oracle itself: it reproduces behaviours of dstack 0.22.5 known from reading its source.

Each test states a rule of dstack's backends (the places in its source are in the oracle's module
docstring and in docs/dstack-offers.md) and checks that running dstack's code through the oracle
shows it, on a small hand-written catalog — and, where a rule removes something, that the thing is
there without the rule, so no test passes on an empty answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dstack")
pytest.importorskip("gpuhunt")

import dstack_offer_catalogs as catalogs
from dstack_offer_oracle import OracleRequest, dstack_offers, write_catalog

AUTO = "auto"


def _row(
    name: str,
    location: str,
    price: float,
    *,
    cpu: int = 8,
    memory: float = 32,
    gpus: int = 0,
    gpu: str = "",
    gpu_memory: float | None = None,
    vendor: str = "",
    spot: bool = False,
    disk: float | None = None,
    flags: str = "",
    arch: str = "x86",
    data: dict[str, Any] | None = None,
) -> dict[str, str]:
    return {
        "instance_name": name,
        "location": location,
        "price": repr(price),
        "cpu": str(cpu),
        "memory": str(memory),
        "gpu_count": str(gpus),
        "gpu_name": gpu,
        "gpu_memory": "" if gpu_memory is None else str(gpu_memory),
        "spot": str(spot),
        "disk_size": "" if disk is None else str(disk),
        "gpu_vendor": vendor or ("nvidia" if gpus and not gpu.startswith("tpu-") else ""),
        "flags": flags,
        "cpu_arch": arch,
        "provider_data": json.dumps(data) if data else "",
    }


def _offers(
    tmp_path: Path,
    rows: dict[str, list[dict[str, str]]],
    request: OracleRequest | None = None,
    backends: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    for provider_rows in rows.values():
        provider_rows.sort(key=lambda r: float(r["price"]))
    directory = write_catalog(tmp_path / "catalog", rows)
    return dstack_offers(directory, request or OracleRequest(spot_policy=AUTO), backends)


def _t4(zone: str, count: int, price: float, spot: bool = False) -> dict[str, str]:
    return _row(
        "n1-standard-4",
        zone,
        price,
        cpu=4,
        memory=15,
        gpus=count,
        gpu="T4",
        gpu_memory=16.0,
        spot=spot,
    )


def _l4(zone: str, price: float = 0.7) -> dict[str, str]:
    return _row("g2-standard-4", zone, price, cpu=4, memory=16, gpus=1, gpu="L4", gpu_memory=24.0)


def test_gcp_zones_of_a_region_are_one_offer_with_availability_zones(tmp_path: Path) -> None:
    rows = {"gcp": [_l4("europe-west4-a"), _l4("europe-west4-b", 0.71), _l4("europe-west4-c", 0.8)]}
    offers = _offers(tmp_path, rows, OracleRequest(regions=["europe-west4"]), [{"type": "gcp"}])
    assert [(o["region"], o["instance"], o["price"]) for o in offers] == [
        ("europe-west4", "g2-standard-4", 0.7)
    ]
    assert offers[0]["availability_zones"] == ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
    # a zone given as a region matches nothing: the offer's region is the region
    zoned = _offers(tmp_path, rows, OracleRequest(regions=["europe-west4-a"]), [{"type": "gcp"}])
    assert zoned == []


def test_gcp_merge_key_drops_the_2xT4_and_4xT4_variants(tmp_path: Path) -> None:
    rows = {
        "gcp": [
            _t4("us-central1-a", 1, 0.54),
            _t4("us-central1-a", 2, 0.89),
            _t4("us-central1-b", 2, 0.89),
            _t4("us-central1-c", 4, 1.59),
        ]
    }
    offers = _offers(tmp_path, rows, backends=[{"type": "gcp"}])
    assert [(o["instance"], o["gpu_count"], o["price"]) for o in offers] == [
        ("n1-standard-4", 1, 0.54)
    ]
    # zones of every variant are merged, repeats included
    assert offers[0]["availability_zones"] == [
        "us-central1-a",
        "us-central1-a",
        "us-central1-b",
        "us-central1-c",
    ]
    # a request for 2 GPUs finds nothing: the 2xT4 rows did not survive the merge
    two = _offers(
        tmp_path,
        rows,
        OracleRequest(resources={"gpu": "T4:2"}, spot_policy=AUTO),
        [{"type": "gcp"}],
    )
    assert two == []


def test_gcp_dws_twin_hides_the_on_demand_offer(tmp_path: Path) -> None:
    dws = {"is_dws_calendar_mode": True}
    h100 = {"cpu": 208, "memory": 1872.0, "gpus": 8, "gpu": "H100", "gpu_memory": 80.0}
    rows = {
        "gcp": [
            _row(
                "a3-highgpu-8g",
                "us-central1-a",
                40.0,
                flags="gcp-dws-calendar-mode",
                data=dws,
                **h100,
            ),
            _row("a3-highgpu-8g", "us-central1-a", 88.0, **h100),
            _row("a3-highgpu-8g", "us-central1-b", 88.0, **h100),
        ]
    }
    assert _offers(tmp_path, rows, backends=[{"type": "gcp"}]) == []
    without_dws = {"gcp": rows["gcp"][1:]}
    assert len(_offers(tmp_path, without_dws, backends=[{"type": "gcp"}])) == 1


def test_gcp_tpus_only_when_enabled_and_single_host(tmp_path: Path) -> None:
    tpu = {"vendor": "google", "cpu": 112, "memory": 192.0}
    rows = {
        "gcp": [
            _row(
                "v5litepod-4", "us-central1-a", 4.8, gpus=4, gpu="v5litepod", gpu_memory=16.0, **tpu
            ),
            _row(
                "v5litepod-16",
                "us-central1-a",
                19.2,
                gpus=16,
                gpu="v5litepod",
                gpu_memory=16.0,
                **tpu,
            ),
            _row("v4-8", "us-central1-a", 12.9, gpus=4, gpu="v4", gpu_memory=32.0, **tpu),
        ]
    }
    scratch = OracleRequest(resources={"gpu": "1.."}, image="scratch", spot_policy=AUTO)
    assert _offers(tmp_path, rows, scratch, [{"type": "gcp"}]) == []
    enabled = _offers(tmp_path, rows, scratch, [{"type": "gcp", "tpu": True}])
    assert [o["instance"] for o in enabled] == ["v5litepod-4"]


def test_aws_reservation_never_yields_spot_and_only_reservation_backends(tmp_path: Path) -> None:
    rows = catalogs.generate(3)
    directory = write_catalog(tmp_path / "catalog", rows)
    free = dstack_offers(directory, OracleRequest(spot_policy=AUTO))
    assert any(o["spot"] for o in free) and any(o["backend"] == "azure" for o in free)
    reserved = dstack_offers(directory, OracleRequest(spot_policy=AUTO, reservation="cr-0123"))
    assert reserved, "the stubbed reservation matches every type: on-demand offers remain"
    assert not any(o["spot"] for o in reserved)
    assert {o["backend"] for o in reserved} <= {"aws", "gcp"}
    spot_only = dstack_offers(directory, OracleRequest(spot_policy="spot", reservation="cr-0123"))
    assert spot_only == []


def test_runpod_community_regions_need_community_cloud(tmp_path: Path) -> None:
    a40 = {"cpu": 9, "memory": 50.0, "gpus": 1, "gpu": "A40", "gpu_memory": 48.0}
    rows = {
        "runpod": [
            _row("NVIDIA A40", "CA", 0.35, **a40),
            _row("NVIDIA A40", "EU-SE-1", 0.4, **a40),
        ]
    }
    default = _offers(tmp_path, rows, backends=[{"type": "runpod"}])
    assert [o["region"] for o in default] == ["EU-SE-1"]
    community = _offers(tmp_path, rows, backends=[{"type": "runpod", "community_cloud": True}])
    assert [o["region"] for o in community] == ["CA", "EU-SE-1"]


def test_runpod_cpu_flavours_fit_the_disk_and_cluster_rows_need_multinode(tmp_path: Path) -> None:
    cpu = {"flags": "runpod-cpu", "cpu": 8, "memory": 32.0}
    rows = {
        "runpod": [
            _row("cpu3c-8-32", "EU-SE-1", 0.2, disk=20.0, **cpu),
            _row("cpu3g-8-32", "EU-SE-1", 0.24, disk=160.0, **cpu),
            _row(
                "NVIDIA H100 80GB HBM3",
                "EU-SE-1",
                20.0,
                gpus=8,
                gpu="H100",
                gpu_memory=80.0,
                flags="runpod-cluster",
                data={"pod_counts": [2, 4]},
            ),
        ]
    }
    offers = _offers(tmp_path, rows, backends=[{"type": "runpod"}])
    assert [(o["instance"], o["disk"]) for o in offers] == [("cpu3g-8-32", 100.0)]


def test_disk_fitting_per_backend(tmp_path: Path) -> None:
    cpu = {"cpu": 4, "memory": 16.0}
    rows = {
        "aws": [_row("m5.xlarge", "us-east-1", 0.19, **cpu)],
        "gcp": [_row("e2-standard-4", "us-central1-a", 0.13, **cpu)],
        "lambdalabs": [
            _row(
                "gpu_1x_a100_sxm4",
                "us-east-1",
                1.29,
                cpu=30,
                memory=214.8,
                gpus=1,
                gpu="A100",
                gpu_memory=40.0,
                disk=53.7,
            )
        ],
    }
    backends = [{"type": "aws"}, {"type": "gcp"}, {"type": "lambda"}]
    small = _offers(tmp_path, rows, OracleRequest(resources={"disk": "10GB.."}), backends)
    # offers carry disks in MiB: the fixed 53.7 GB disk is round(53.7 * 1024) MiB
    assert {(o["backend"], o["disk"]) for o in small} == {
        ("aws", 100.0),
        ("gcp", 20.0),
        ("lambda", round(53.7 * 1024) / 1024),
    }
    # default 100GB..: the fixed 53.7 GB Lambda disk is hidden
    default = _offers(tmp_path, rows, OracleRequest(), backends)
    assert {o["backend"] for o in default} == {"aws", "gcp"}
    # 50..80 GB: no AWS disk is that small (100 GB minimum), the fixed Lambda disk fits
    narrow = _offers(tmp_path, rows, OracleRequest(resources={"disk": "50GB..80GB"}), backends)
    assert {(o["backend"], round(o["disk"], 1)) for o in narrow} == {
        ("gcp", 50.0),
        ("lambda", 53.7),
    }


def test_nebius_spot_prices_round_up_per_gpu(tmp_path: Path) -> None:
    h100 = {"gpu": "H100", "gpu_memory": 80.0, "spot": True}
    rows = {
        "nebius": [
            _row(
                "gpu-h100-sxm 1gpu-16vcpu-200gb",
                "eu-north1",
                1.23456,
                cpu=16,
                memory=200.0,
                gpus=1,
                **h100,
            ),
            _row(
                "gpu-h100-sxm 8gpu-128vcpu-1600gb",
                "eu-north1",
                11.0001,
                cpu=128,
                memory=1600.0,
                gpus=8,
                **h100,
            ),
            _row(
                "gpu-l40s-a 1gpu-8vcpu-32gb",
                "eu-north1",
                0.72345,
                memory=32.0,
                gpus=1,
                gpu="L40S",
                gpu_memory=48.0,
                spot=True,
                data={"is_preemptible_flat_rate": True},
            ),
        ]
    }
    offers = _offers(tmp_path, rows, OracleRequest(spot_policy="spot"), [{"type": "nebius"}])
    assert sorted((o["instance"].split()[0], o["price"]) for o in offers) == [
        ("gpu-h100-sxm", 1.235),
        ("gpu-h100-sxm", 11.008),
        ("gpu-l40s-a", 0.72345),
    ]


def test_family_allowlists_and_default_regions(tmp_path: Path) -> None:
    rows = catalogs.generate(5, regions_per_shape=(99, 99), skip_share=0.0)
    directory = write_catalog(tmp_path / "catalog", rows)
    offers = dstack_offers(directory, OracleRequest(spot_policy=AUTO, image="scratch"))
    names = {(o["backend"], o["instance"]) for o in offers}
    regions = {(o["backend"], o["region"]) for o in offers}
    for backend, name in [
        ("aws", "p3.2xlarge"),
        ("aws", "t2.micro"),
        ("azure", "Standard_NC6"),
        ("azure", "Standard_D4s_v5"),
        ("oci", "VM.Standard.E4.Flex"),
        ("oci", "VM.GPU2.1"),
        ("nebius", "cpu-e1 4vcpu-16gb"),
        ("gcp", "n1-standard-1"),
        ("gcp", "c2-standard-4"),
    ]:
        assert catalogs.rows_of(rows, backend, name)
        assert (backend, name) not in names
    for backend, region in [
        ("aws", "ap-south-1"),
        ("gcp", "me-central2"),
        ("azure", "japaneast"),
        ("oci", "ap-tokyo-1"),
    ]:
        assert any(r["location"].startswith(region) for r in rows[backend])
        assert (backend, region) not in regions
    assert ("aws", "g5.xlarge") in names and ("oci", "VM.GPU.A10.1") in names


def test_order_is_by_price_with_ties_in_project_order(tmp_path: Path) -> None:
    cpu = {"cpu": 4, "memory": 16.0}
    rows = {
        "aws": [_row("m5.xlarge", "us-east-1", 0.2, **cpu)],
        "azure": [_row("Standard_D4s_v6", "eastus", 0.2, **cpu)],
        "verda": [_row("CPU.4V.16G", "FIN-01", 0.1, **cpu)],
    }
    first = _offers(tmp_path, rows, None, [{"type": "azure"}, {"type": "aws"}, {"type": "verda"}])
    assert [o["backend"] for o in first] == ["verda", "azure", "aws"]
    second = _offers(tmp_path, rows, None, [{"type": "aws"}, {"type": "azure"}, {"type": "verda"}])
    assert [o["backend"] for o in second] == ["verda", "aws", "azure"]


def test_oracle_has_every_backend_and_is_fast(tmp_path: Path) -> None:
    import time

    rows = catalogs.generate(11)
    directory = write_catalog(tmp_path / "catalog", rows)
    backends = [
        {"type": t}
        for t in ("aws", "gcp", "azure", "oci", "lambda", "runpod", "nebius", "verda", "datacrunch")
    ]
    dstack_offers(directory, OracleRequest(), backends)  # imports
    start = time.perf_counter()
    offers = dstack_offers(
        directory,
        OracleRequest(spot_policy=AUTO, image="scratch", resources={"cpu": "1..", "memory": "0.."}),
        backends,
    )
    assert time.perf_counter() - start < 2.0
    assert {o["backend"] for o in offers} == {b["type"] for b in backends}
    verda = [o for o in offers if o["backend"] == "verda"]
    datacrunch = [o for o in offers if o["backend"] == "datacrunch"]
    assert [(o["instance"], o["price"]) for o in verda] == [
        (o["instance"], o["price"]) for o in datacrunch
    ]


def test_generated_catalogs_exercise_every_rule() -> None:
    """The comparison's seeded catalogs have rows on both sides of every rule."""
    from collections import Counter

    seeds = [catalogs.generate(seed) for seed in (1, 2)]

    def rows(provider: str) -> list[dict[str, str]]:
        return [row for catalog in seeds for row in catalog[provider]]

    def data(row: dict[str, str]) -> dict[str, Any]:
        return json.loads(row["provider_data"]) if row["provider_data"] else {}

    gcp = rows("gcp")
    per_region = Counter((r["instance_name"], r["spot"], r["location"][:-2]) for r in gcp)
    assert max(per_region.values()) >= 3, "zones of one region share a merge key"
    n1 = {
        (r["location"][:-2], r["gpu_count"]) for r in gcp if r["instance_name"] == "n1-standard-4"
    }
    assert any((region, "2") in n1 and (region, "1") in n1 for region, _ in n1)
    names = {r["instance_name"] for r in gcp}
    assert {"v5litepod-4", "v5litepod-16", "v4-8", "n1-standard-1", "n1-standard-8"} <= names
    assert any(data(r).get("is_dws_calendar_mode") for r in gcp)
    assert any(r["flags"] == "gcp-g4-preview" for r in gcp)
    runpod = rows("runpod")
    assert {"CA", "US", "NL"} & {r["location"] for r in runpod}
    assert {"EU-SE-1", "US-TX-3", "CA-MTL-1"} & {r["location"] for r in runpod}
    assert any(data(r).get("pod_counts") for r in runpod)
    assert {"20.0", "160.0"} <= {r["disk_size"] for r in runpod if r["flags"] == "runpod-cpu"}
    lam = rows("lambdalabs")
    assert any(float(r["disk_size"]) < 100 for r in lam) and any(
        r["cpu_arch"] == "arm" for r in lam
    )
    oci = rows("oci")
    assert any("Flex" in r["instance_name"] for r in oci)
    assert any(r["flags"] == "oci-spot" for r in oci)
    nebius = [r for r in rows("nebius") if r["spot"] == "True"]
    per_gpu = [float(r["price"]) / max(1, int(r["gpu_count"])) for r in nebius]
    assert any(round(p, 3) != p for p in per_gpu), "spot prices with more than 3 decimals per GPU"
    assert any(data(r).get("is_preemptible_flat_rate") for r in nebius)
    assert {r["spot"] for r in rows("verda")} == {"True", "False"}
    for provider, region in [
        ("aws", "ap-south-1"),
        ("gcp", "me-central2"),
        ("azure", "japaneast"),
        ("oci", "ap-tokyo-1"),
    ]:
        assert any(r["location"].startswith(region) for r in rows(provider))
    for catalog in seeds:
        prices = Counter(
            (provider, r["price"])
            for provider, provider_rows in catalog.items()
            for r in provider_rows
        )
        assert any(count > 1 for count in prices.values()), "a tie inside a provider"
        across = Counter(price for _, price in prices)
        assert any(count > 1 for count in across.values()), "a tie across providers"


def test_a_backend_whose_offer_code_fails_answers_nothing(tmp_path: Path) -> None:
    """dstack's Nebius filter splits the name into platform and preset: a name without a preset
    raises, and the server then skips the whole backend (no Nebius offers at all)."""
    h100 = {"cpu": 16, "memory": 200.0, "gpus": 1, "gpu": "H100", "gpu_memory": 80.0}
    rows = {
        "nebius": [
            _row("gpu-h100-sxm 1gpu-16vcpu-200gb", "eu-north1", 2.95, **h100),
            _row("gpu-h100-sxm", "eu-north1", 3.0, **h100),
        ],
        "verda": [_row("1H100.80S.30V", "FIN-01", 2.0, **h100)],
    }
    backends = [{"type": "nebius"}, {"type": "verda"}]
    with pytest.raises(ValueError):
        _offers(tmp_path, rows, None, backends)
    directory = tmp_path / "catalog"
    skipped = dstack_offers(
        directory, OracleRequest(spot_policy=AUTO), backends, skip_failing_backends=True
    )
    assert [o["backend"] for o in skipped] == ["verda"]


def test_privileged_and_instance_volumes_gate_runpod_out(tmp_path: Path) -> None:
    rows = catalogs.generate(2)
    directory = write_catalog(tmp_path / "catalog", rows)
    anything = {"gpu": "0.."}
    free = dstack_offers(directory, OracleRequest(spot_policy=AUTO, resources=anything))
    assert "runpod" in {o["backend"] for o in free}
    privileged = dstack_offers(
        directory, OracleRequest(spot_policy=AUTO, resources=anything, privileged=True)
    )
    assert {o["backend"] for o in privileged} == {o["backend"] for o in free} - {"runpod"}
    mounted = dstack_offers(
        directory,
        OracleRequest(resources=anything, instance_volumes=True, backends=["gcp", "runpod"]),
    )
    assert {o["backend"] for o in mounted} == {"gcp"}
