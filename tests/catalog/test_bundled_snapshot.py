"""The bundled offer snapshot (catalogs/snapshot/): format, gpuhunt compatibility, consistency."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import gpuhunt  # type: ignore[import-untyped]
import pytest
from gpuhunt._internal import storage  # type: ignore[import-untyped]

GPUHUNT_HEADER = (
    "instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,"
    "spot,disk_size,gpu_vendor,flags,cpu_arch,provider_data"
)
REQUIRED_PROVIDERS = {
    "aws",
    "gcp",
    "azure",
    "lambdalabs",
    "runpod",
    "oci",
    "nebius",
    "verda",
    "vastai",
}
TPU_NAME = re.compile(r"^(v2|v3|v4|v5p|v5litepod|v6e)-\d+$")

Rows = dict[str, list[dict[str, str]]]


@pytest.fixture(scope="module")
def snapshot_dir(repo_dir: Path) -> Path:
    return repo_dir / "catalogs" / "snapshot"


@pytest.fixture(scope="module")
def rows_by_provider(snapshot_dir: Path) -> Rows:
    rows: Rows = {}
    for path in sorted(snapshot_dir.glob("*.csv")):
        with path.open(newline="") as f:
            rows[path.stem] = list(csv.DictReader(f))
    return rows


def twin_key(row: dict[str, str]) -> tuple[str, ...]:
    """What a spot row shares with its on-demand twin (names repeat: OCI Flex, RunPod counts)."""
    fields = ("instance_name", "location", "cpu", "memory", "gpu_count", "gpu_name", "disk_size")
    return tuple(row[name] for name in fields)


def test_snapshot_covers_the_providers(rows_by_provider: Rows) -> None:
    assert set(rows_by_provider) >= REQUIRED_PROVIDERS
    assert len(rows_by_provider) >= 9
    assert all(rows for rows in rows_by_provider.values())
    total = sum(len(rows) for rows in rows_by_provider.values())
    assert 2_000 <= total <= 20_000


def test_files_are_written_like_csv_dictwriter(snapshot_dir: Path) -> None:
    for path in sorted(snapshot_dir.glob("*.csv")):
        data = path.read_bytes()
        text = data.decode("utf-8")
        assert text.startswith(GPUHUNT_HEADER + "\r\n"), path.name
        assert text.endswith("\r\n"), path.name
        # every line break is CRLF: no bare LF anywhere
        assert text.count("\n") == text.count("\r\n"), path.name
        records = list(csv.reader(io.StringIO(text, newline="")))
        assert all(len(record) == 14 for record in records), path.name


def test_value_forms_parse_as_gpuhunt_expects(rows_by_provider: Rows) -> None:
    for provider, rows in rows_by_provider.items():
        for row in rows:
            assert int(row["cpu"]) >= 1 and str(int(row["cpu"])) == row["cpu"], provider
            assert float(row["price"]) > 0 and float(row["memory"]) > 0
            assert row["spot"] in ("True", "False")
            assert row["cpu_arch"] in ("x86", "arm")
            assert isinstance(json.loads(row["provider_data"]), dict)
            if int(row["gpu_count"]) == 0:
                assert row["gpu_name"] == row["gpu_vendor"] == row["gpu_memory"] == ""
            else:
                assert row["gpu_vendor"] in ("nvidia", "amd", "google", "intel", "tenstorrent")
                assert float(row["gpu_memory"]) > 0


def test_gpuhunt_loads_every_offline_row(
    snapshot_dir: Path,
    rows_by_provider: Rows,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("GPUHUNT_CATALOG_DIR", str(snapshot_dir))
    catalog = gpuhunt.Catalog(balance_resources=False, auto_reload=False)
    offline = list(gpuhunt._internal.catalog.OFFLINE_PROVIDERS)
    with caplog.at_level(logging.WARNING, logger="gpuhunt"):
        items = catalog.query(provider=offline)
    assert not [r for r in caplog.records if "malformed" in r.getMessage()]
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.provider] += 1
    assert counts == {p: len(rows_by_provider[p]) for p in offline}
    # heapq.merge of sorted per-provider lists: the whole result is sorted too
    prices = [item.price for item in items]
    assert prices == sorted(prices)


def test_gpuhunt_storage_loads_every_row_of_every_file(
    snapshot_dir: Path, rows_by_provider: Rows, caplog: pytest.LogCaptureFixture
) -> None:
    # vastai is an online provider in gpuhunt: only its row loader can read a file of it
    with caplog.at_level(logging.WARNING, logger="gpuhunt"):
        for provider, rows in rows_by_provider.items():
            with (snapshot_dir / f"{provider}.csv").open(newline="") as f:
                items = list(storage.load(f, provider=provider))
            assert len(items) == len(rows), provider
            assert [storage.item_to_row(item)["price"] for item in items] == [
                row["price"] for row in rows
            ]
    assert not caplog.records


def test_files_are_ascending_by_price(rows_by_provider: Rows) -> None:
    for provider, rows in rows_by_provider.items():
        prices = [float(row["price"]) for row in rows]
        assert prices == sorted(prices), provider


def test_every_spot_row_has_a_dearer_on_demand_twin(rows_by_provider: Rows) -> None:
    for provider, rows in rows_by_provider.items():
        on_demand = {twin_key(r): float(r["price"]) for r in rows if r["spot"] == "False"}
        for row in (r for r in rows if r["spot"] == "True"):
            twin_price = on_demand.get(twin_key(row))
            assert twin_price is not None, (provider, row)
            if json.loads(row["provider_data"]).get("is_preemptible_flat_rate"):
                assert float(row["price"]) == twin_price, row
            else:
                assert float(row["price"]) < twin_price, row


def test_spot_markets_follow_each_provider(rows_by_provider: Rows) -> None:
    def spot_rows(provider: str) -> int:
        return sum(row["spot"] == "True" for row in rows_by_provider[provider])

    assert spot_rows("lambdalabs") == 0
    for provider in ("aws", "gcp", "azure", "runpod", "oci", "nebius", "verda", "vastai"):
        assert spot_rows(provider) > 0, provider
    flat_rate = [
        r
        for p, rows in rows_by_provider.items()
        for r in rows
        if json.loads(r["provider_data"]).get("is_preemptible_flat_rate")
    ]
    assert flat_rate and {r["gpu_name"] for r in flat_rate} == {"L40S"}
    assert all(r["spot"] == "True" for r in flat_rate)


def test_oci_spot_is_exactly_half_and_flagged(rows_by_provider: Rows) -> None:
    rows = rows_by_provider["oci"]
    on_demand = {twin_key(r): float(r["price"]) for r in rows if r["spot"] == "False"}
    spot = [r for r in rows if r["spot"] == "True"]
    assert spot
    for row in spot:
        assert float(row["price"]) == on_demand[twin_key(row)] * 0.5
        assert row["flags"].split() == ["oci-spot"]
    assert all("oci-spot" not in r["flags"] for r in rows if r["spot"] == "False")
    assert "oci-spot" not in {
        f
        for p, rs in rows_by_provider.items()
        if p != "oci"
        for r in rs
        for f in r["flags"].split()
    }


def test_gpu_names_are_known_to_gpuhunt_with_consistent_memory(rows_by_provider: Rows) -> None:
    known: dict[str, set[tuple[str, float]]] = defaultdict(set)
    for info in gpuhunt.KNOWN_ACCELERATORS:
        known[info.name].add((info.vendor.value, float(info.memory)))
    for provider, rows in rows_by_provider.items():
        for row in (r for r in rows if int(r["gpu_count"]) > 0):
            name, vendor, memory = row["gpu_name"], row["gpu_vendor"], float(row["gpu_memory"])
            if vendor == "google":
                assert provider == "gcp"
                assert TPU_NAME.match(name) and row["instance_name"] == name, row
                assert row["gpu_count"] == "1" and row["disk_size"] == ""
            else:
                assert (vendor, memory) in known.get(name, set()), (provider, name, memory)


def test_superchips_are_arm(rows_by_provider: Rows) -> None:
    for rows in rows_by_provider.values():
        for row in rows:
            superchip = gpuhunt._internal.constraints.is_nvidia_superchip(row["gpu_name"])
            assert (row["cpu_arch"] == "arm") == bool(superchip), row
    gh200 = [r for r in rows_by_provider["lambdalabs"] if r["gpu_name"] == "GH200"]
    assert gh200 and all(r["flags"] == "lambda-arm" for r in gh200)


def test_disk_size_conventions(rows_by_provider: Rows) -> None:
    for provider in ("aws", "gcp", "azure", "oci", "nebius"):
        assert all(r["disk_size"] == "" for r in rows_by_provider[provider]), provider
    runpod_gpu = [r for r in rows_by_provider["runpod"] if int(r["gpu_count"]) > 0]
    assert runpod_gpu and all(r["disk_size"] == "" for r in runpod_gpu)
    for provider in ("lambdalabs", "verda", "vastai", "cloudrift"):
        assert all(float(r["disk_size"]) > 0 for r in rows_by_provider[provider]), provider


def test_major_clouds_sell_small_cpu_only_machines(rows_by_provider: Rows) -> None:
    for provider in ("aws", "gcp", "azure", "oci", "nebius", "runpod", "verda"):
        cpu_rows = [
            r
            for r in rows_by_provider[provider]
            if r["gpu_count"] == "0" and int(r["cpu"]) >= 2 and float(r["memory"]) >= 8
        ]
        assert cpu_rows, provider


def test_major_clouds_have_regional_prices(rows_by_provider: Rows) -> None:
    for provider in ("aws", "gcp", "azure"):
        prices: dict[str, set[str]] = defaultdict(set)
        for row in rows_by_provider[provider]:
            if row["spot"] == "False":
                prices[row["instance_name"]].add(row["price"])
        assert any(len(p) > 1 for p in prices.values()), provider
        assert len({r["location"] for r in rows_by_provider[provider]}) >= 8


def test_a_query_through_gpuhunt_finds_h100_across_providers(
    snapshot_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUHUNT_CATALOG_DIR", str(snapshot_dir))
    catalog = gpuhunt.Catalog(balance_resources=False, auto_reload=False)
    offline = list(gpuhunt._internal.catalog.OFFLINE_PROVIDERS)
    items = catalog.query(provider=offline, gpu_name="H100", min_gpu_count=8, spot=False)
    assert {i.provider for i in items} >= {"aws", "gcp", "azure", "lambdalabs", "oci", "nebius"}
    assert all(i.gpu_count >= 8 and not i.spot for i in items)


def test_provenance_matches_files_and_readme(
    snapshot_dir: Path, rows_by_provider: Rows, repo_dir: Path
) -> None:
    provenance = json.loads((snapshot_dir / "provenance.json").read_text())
    as_of = provenance["as_of"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of)
    assert provenance["description"]
    assert set(provenance["providers"]) == set(rows_by_provider)
    for provider, entry in provenance["providers"].items():
        assert entry["rows"] == len(rows_by_provider[provider])
        assert entry["as_of"] <= "9999" and entry["source"]
    readme = (repo_dir / "catalogs" / "README.md").read_text()
    assert f"as of {as_of}" in readme


def test_build_regenerates_identical_bytes(
    snapshot_dir: Path, repo_dir: Path, tmp_path: Path
) -> None:
    build = repo_dir / "tools" / "snapshot" / "build.py"
    result = subprocess.run(
        [sys.executable, str(build), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    committed = {p.name: p.read_bytes() for p in snapshot_dir.iterdir() if p.is_file()}
    generated = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert generated.keys() == committed.keys()
    for name, data in generated.items():
        assert data == committed[name], name
    check = subprocess.run(
        [sys.executable, str(build), "--check"], capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    ("table", "old", "new", "message"),
    [
        (
            "list_prices.csv",
            "aws,t3.medium,aws-general,",
            "aws,t3.medium,aws-nowhere,",
            "list_prices.csv:6: unknown region set 'aws-nowhere'",
        ),
        (
            "list_prices.csv",
            "aws,t3.medium,aws-general,0.0416,0.31,2,",
            "aws,t3.medium,aws-general,0.0416,0.31,2.0,",
            "list_prices.csv:6: cpu '2.0' is not an integer",
        ),
        (
            "list_prices.csv",
            "aws,t3.medium,aws-general,0.0416,0.31,",
            "aws,t3.medium,aws-general,0.0416,1.31,",
            "list_prices.csv:6: spot_ratio must be in (0, 1]",
        ),
        (
            "list_prices.csv",
            "oci,VM.GPU2.1,oci-all,1.275,0.5,",
            "oci,VM.GPU2.1,oci-all,1.275,0.4,",
            "OCI preemptible is always 0.5x",
        ),
        (
            "list_prices.csv",
            "gcp,v2-8,gcp-tpu-v2-v3,4.5,0.3,96,334.0,1,v2-8,",
            "gcp,v2-8,gcp-tpu-v2-v3,4.5,0.3,96,334.0,1,v2,",
            "a TPU row is one '<version>-<cores>' slice",
        ),
        (
            "regions.csv",
            "aws,aws-general,us-east-2,1.0,0.95",
            "aws,aws-general,us-east-2,1.0,5",
            "spot ratio x factor >= 1 in us-east-2",
        ),
        (
            "vastai_offers.csv",
            "21458301,us-texas,RTX4090,1,24.0,16,64.25,100.0,0.35,0.15,0.22",
            "21458301,us-texas,RTX4090,1,24.0,16,64.25,100.0,0.35,0.15,0.5",
            "vastai_offers.csv:5: spot price 0.52083 not below on-demand 0.37083",
        ),
        (
            "gcp_n1_gpus.csv",
            "1:48:312 2:48:312",
            "1:48 2:48:312",
            "a limit is <count>:<max vCPUs>:<max memory GB>",
        ),
        (
            "providers.csv",
            "provider,as_of,source",
            "provider,source",
            "providers.csv:1: the header",
        ),
    ],
)
def test_build_rejects_inconsistent_tables(
    repo_dir: Path, tmp_path: Path, table: str, old: str, new: str, message: str
) -> None:
    sources = repo_dir / "tools" / "snapshot"
    tables = tmp_path / "tables"
    tables.mkdir()
    for path in sources.glob("*.csv"):
        (tables / path.name).write_bytes(path.read_bytes())
    text = (tables / table).read_text()
    assert old in text
    (tables / table).write_text(text.replace(old, new, 1))
    result = subprocess.run(
        [
            sys.executable,
            str(sources / "build.py"),
            "--tables",
            str(tables),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_planner_loads_the_snapshot_without_dropping_rows(
    snapshot_dir: Path, rows_by_provider: Rows
) -> None:
    from planner.catalog import Catalog

    catalog = Catalog.load()
    provenance = json.loads((snapshot_dir / "provenance.json").read_text())
    assert len(catalog) == sum(len(rows) for rows in rows_by_provider.values())
    assert catalog.issues == ()
    assert [source.dropped for source in catalog.sources] == [0]
    assert catalog.as_of == provenance["as_of"]
    counts = catalog.frame["provider"].value_counts().to_dict()
    assert counts == {p: len(rows) for p, rows in rows_by_provider.items()}


def test_small_cpu_only_services_match_on_the_major_clouds() -> None:
    from planner import Catalog, find_offers, load_config

    config = load_config(
        text=(
            "type: service\nname: cpu-api\ncommands: [python app.py]\nport: 8000\n"
            "resources:\n  cpu: 2..\n  memory: 8GB..\n  gpu: 0\n"
        )
    )
    # The snapshot's rows (dstack's allowlists leave oci no CPU-only shape: its are Flex).
    offers = find_offers(config, Catalog.load(), rows=True)
    frame = offers.frame
    assert (frame["gpu_count"] == 0).all()
    assert set(frame["provider"]) >= {"aws", "gcp", "azure", "oci"}
    dstack = find_offers(config, Catalog.load()).frame
    assert (dstack["gpu_count"] == 0).all()
    assert set(dstack["backend"]) >= {"aws", "gcp", "azure"}


def test_flags_and_provider_data_follow_the_collectors(rows_by_provider: Rows) -> None:
    flags_by_provider = {
        p: {f for r in rows for f in r["flags"].split()} for p, rows in rows_by_provider.items()
    }
    assert flags_by_provider == {
        "aws": set(),
        "azure": set(),
        "cloudrift": set(),
        "gcp": set(),
        "lambdalabs": {"lambda-arm"},
        "nebius": set(),
        "oci": {"oci-spot"},
        "runpod": {"runpod-cluster", "runpod-cpu"},
        "vastai": set(),
        "verda": set(),
    }
    for row in rows_by_provider["gcp"]:
        expected = {} if row["gpu_vendor"] == "google" else {"is_dws_calendar_mode": False}
        assert json.loads(row["provider_data"]) == expected
    for row in rows_by_provider["runpod"]:
        data = json.loads(row["provider_data"])
        if "runpod-cluster" in row["flags"]:
            assert data == {"pod_counts": [2, 3, 4, 5, 6, 7, 8]} and row["gpu_count"] == "8"
        else:
            assert data == {}
        if "runpod-cpu" in row["flags"]:
            assert row["gpu_count"] == "0" and row["instance_name"].endswith(
                f"-{row['cpu']}-{int(float(row['memory']))}"
            )
    for row in rows_by_provider["vastai"]:
        data = json.loads(row["provider_data"])
        assert set(data) == ({"min_bid"} if row["spot"] == "True" else set())
    fabrics = set()
    for row in rows_by_provider["nebius"]:
        data = json.loads(row["provider_data"])
        assert set(data) == {"fabrics", "is_preemptible_flat_rate"}
        if data["fabrics"]:
            assert row["gpu_count"] == "8"
            fabrics.update(data["fabrics"])
    assert {"fabric-2", "fabric-5", "us-central1-a"} <= fabrics
