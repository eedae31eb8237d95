"""Differential test: planner's dstack-level offers against dstack 0.22.5's own offer code.

For generated catalogs (``dstack_offer_catalogs``), server configurations and requests, the same
question goes to both sides:

- dstack: ``dstack_offer_oracle.dstack_offers`` runs the backends' compute classes, the server's
  merge, profile filter and availability sort (cloud clients stubbed);
- planner: ``planner.find_offers(config, catalog, dstack_config=...)`` on the same CSVs, a service
  file with the same fields and the same server configuration file.

Required: the same offers (backend, region, instance, spot, price, availability zones, disk) in the
same order. Disks are compared in MiB (dstack's unit), prices to 1e-9. AWS availability zones and
OCI availability domains come from live APIs (DescribeAvailabilityZones, capacity reports) that no
catalog holds, so they are not compared for those two backends.

The requests always write a GPU count: a GPU spec without one is exactly one GPU for planner and
one or more for dstack 0.22.5, a documented difference in parsing the configuration
(docs/configuration.md, §0), not in turning rows into offers.

Without a server configuration, planner answers with one backend per catalog provider in
backend-name order (docs/dstack-offers.md); the oracle is given that same list.

Until planner's ``find_offers`` takes ``dstack_config`` (issue 10), the comparisons skip.
"""

from __future__ import annotations

import inspect
import json
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("dstack")
pytest.importorskip("gpuhunt")

import dstack_offer_catalogs as catalogs
from dstack_offer_oracle import (
    PROVIDER_OF_BACKEND,
    CatalogRows,
    OracleRequest,
    dstack_offers,
    write_catalog,
)

import planner

LIVE_ZONE_BACKENDS = frozenset({"aws", "oci"})
SEEDS = (1, 2)


def _planner_takes_dstack_config() -> bool:
    return "dstack_config" in inspect.signature(planner.find_offers).parameters


requires_planner_dstack_offers = pytest.mark.skipif(
    not _planner_takes_dstack_config(),
    reason="planner.find_offers has no dstack_config parameter yet (issue 10)",
)


# ---------------------------------------------------------------- the questions


REQUESTS: dict[str, OracleRequest] = {
    "defaults": OracleRequest(),
    "auto-any-gpu-small-disk": OracleRequest(
        spot_policy="auto", resources={"gpu": "1..", "disk": "10GB.."}
    ),
    "spot-24GB": OracleRequest(spot_policy="spot", resources={"gpu": "24GB..:1.."}),
    "cpu-only": OracleRequest(
        spot_policy="auto", resources={"gpu": 0, "cpu": "2..", "memory": "4GB.."}
    ),
    "disk-50-80": OracleRequest(spot_policy="auto", resources={"gpu": "0..", "disk": "50GB..80GB"}),
    "disk-200": OracleRequest(resources={"gpu": "1..", "disk": "200GB.."}),
    "max-price": OracleRequest(spot_policy="auto", max_price=1.0, resources={"gpu": "0.."}),
    "europe-west4-gcp": OracleRequest(
        spot_policy="auto", backends=["gcp"], regions=["europe-west4"], resources={"gpu": "1.."}
    ),
    "regions-mixed-case": OracleRequest(
        spot_policy="auto",
        regions=["US-EAST-1", "eu-se-1", "us-central1"],
        resources={"gpu": "0.."},
    ),
    "reservation": OracleRequest(
        spot_policy="auto", reservation="cr-0123456789", resources={"gpu": "0.."}
    ),
    "instance-types": OracleRequest(
        spot_policy="auto",
        instance_types=["g5.xlarge", "N1-STANDARD-4", "gpu_1x_a10", "1V100.6V"],
    ),
    "memory-mib-bound": OracleRequest(
        resources={"memory": "214.8GB..", "gpu": "1.."}, spot_policy="auto"
    ),
    "tpu": OracleRequest(
        spot_policy="auto", resources={"gpu": {"vendor": "google", "count": "1.."}}
    ),
    "nebius-spot": OracleRequest(spot_policy="spot", backends=["nebius"], resources={"gpu": "0.."}),
    "nebius-spot-max-price": OracleRequest(
        spot_policy="spot", max_price=1.5, resources={"gpu": "0.."}, backends=["nebius", "verda"]
    ),
    "reservation-spot": OracleRequest(spot_policy="spot", reservation="cr-0123456789"),
    "privileged": OracleRequest(spot_policy="auto", privileged=True, resources={"gpu": "0.."}),
    "instance-volume-gcp-runpod": OracleRequest(
        instance_volumes=True, backends=["gcp", "runpod"], resources={"gpu": "0.."}
    ),
    "disk-5TB": OracleRequest(spot_policy="auto", resources={"gpu": "0..", "disk": "5TB.."}),
    "total-gpu-memory": OracleRequest(
        spot_policy="auto", resources={"gpu": {"total_memory": "100GB..", "count": "1.."}}
    ),
    "compute-capability": OracleRequest(
        spot_policy="auto", resources={"gpu": {"compute_capability": "8.0", "count": "1.."}}
    ),
    "memory-upper-bound": OracleRequest(
        spot_policy="auto", resources={"gpu": "0..", "memory": "..214.8GB", "cpu": "1.."}
    ),
}

CONFIGS: dict[str, list[dict[str, Any]] | None] = {
    "no-config": None,
    "configured": [
        {
            "type": "gcp",
            "regions": ["europe-west4", "us-central1", "me-central2"],
            "tpu": True,
            "creds": {"type": "default"},
        },
        {"type": "aws", "regions": ["us-east-1", "ap-south-1"]},
        {"type": "runpod", "community_cloud": True},
        {"type": "nebius", "regions": ["eu-north1", "us-central1"]},
        {"type": "oci", "regions": ["ap-tokyo-1", "us-ashburn-1"]},
        {"type": "azure", "regions": ["japaneast", "eastus"]},
        {"type": "lambda", "regions": ["us-east-1"]},
        {"type": "datacrunch", "regions": ["FIN-01", "ICE-01"]},
    ],
    "empty-and-experimental": [
        {"type": "lambda", "regions": []},
        {"type": "runpod", "regions": []},
        {"type": "verda", "regions": []},
        {"type": "gcp", "regions": []},
        {"type": "azure", "regions": []},
        {"type": "aws", "experimental_instance_types": ["p3.2xlarge", "inf2.xlarge"]},
        {"type": "oci", "experimental_instance_types": ["VM.Standard.E4.Flex", "VM.GPU2.1"]},
    ],
    "defaults-listed": [
        {"type": t} for t in ("verda", "runpod", "oci", "nebius", "lambda", "gcp", "azure", "aws")
    ],
}


def _default_backends(catalog: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """planner's answer without a configuration: one backend per provider, by backend name."""
    providers = {p for p, rows in catalog.items() if rows}
    names = {"lambdalabs": "lambda"}
    return [{"type": t} for t in sorted(names.get(p, p) for p in providers)]


# ---------------------------------------------------------------- both sides


def _service_yaml(request: OracleRequest) -> str:
    document: dict[str, Any] = {"type": "service", "port": 8000, "commands": ["serve"]}
    if request.resources:
        document["resources"] = dict(request.resources)
    for name in ("spot_policy", "max_price", "reservation", "image"):
        value = getattr(request, name)
        if value is not None:
            document[name] = value
    for name in ("backends", "regions", "instance_types"):
        value = getattr(request, name)
        if value is not None:
            document[name] = list(value)
    if request.privileged:
        document["privileged"] = True
    if request.instance_volumes:
        document["volumes"] = ["/mnt/data:/data"]
    return yaml.safe_dump(document, sort_keys=False)


def _server_yaml(backends: Sequence[Mapping[str, Any]]) -> str:
    entries = []
    for entry in backends:
        entry = dict(entry)
        entry.setdefault("creds", {"type": "api_key", "api_key": "not-a-secret"})
        entries.append(entry)
    return yaml.safe_dump({"projects": [{"name": "main", "backends": entries}]}, sort_keys=False)


Key = tuple[Any, ...]


def _key(
    backend: str,
    region: str,
    instance: str,
    spot: Any,
    price: Any,
    zones: Any,
    disk_gb: Any,
) -> Key:
    if backend in LIVE_ZONE_BACKENDS:
        zones = "live"
    elif zones is not None:
        zones = tuple(zones)
    disk = None if disk_gb is None else round(float(disk_gb) * 1024)
    return (backend, region, instance, bool(spot), round(float(price), 9), zones, disk)


def _dstack_key(offer: Mapping[str, Any]) -> Key:
    return _key(
        offer["backend"],
        offer["region"],
        offer["instance"],
        offer["spot"],
        offer["price"],
        offer["availability_zones"],
        offer["disk"],
    )


def _planner_key(record: Mapping[str, Any]) -> Key:
    instance = record["instance"] if "instance" in record else record["instance_type"]
    disk = record["disk"] if "disk" in record else record["disk_gb"]
    return _key(
        record["backend"],
        record["region"],
        instance,
        record["spot"],
        record["price"],
        record.get("availability_zones"),
        disk,
    )


@dataclass(frozen=True)
class Generated:
    """One generated catalog: its CSV directory, its rows, and both sides' parsed catalogs."""

    directory: Path
    rows: Mapping[str, Sequence[Any]]
    oracle_rows: CatalogRows
    planner_catalog: Any

    @classmethod
    def write(cls, directory: Path, rows: Mapping[str, Sequence[Any]]) -> Generated:
        write_catalog(directory, rows)
        return cls(
            directory, rows, CatalogRows.from_directory(directory), planner.Catalog.load(directory)
        )


@dataclass(frozen=True)
class Case:
    catalog: Generated
    request: OracleRequest
    backends: list[dict[str, Any]] | None  # None: no server configuration file


def _run_both(case: Case, work: Path) -> tuple[list[Key], list[Key]]:
    generated = case.catalog
    oracle_backends = (
        case.backends if case.backends is not None else _default_backends(generated.rows)
    )
    expected = [
        _dstack_key(o)
        for o in dstack_offers(
            generated.directory, case.request, oracle_backends, rows=generated.oracle_rows
        )
    ]
    service = work / "service.yml"
    service.write_text(_service_yaml(case.request), encoding="utf-8")
    server: Path | None = None
    if case.backends is not None:
        server = work / "server-config.yml"
        server.write_text(_server_yaml(case.backends), encoding="utf-8")
    offers = planner.find_offers(
        planner.load_config(service),
        generated.planner_catalog,
        dstack_config=None if server is None else str(server),
    )
    actual = [_planner_key(r) for r in offers.records()]
    return expected, actual


def _explain(expected: list[Key], actual: list[Key]) -> str:
    """Which backend differs and how: missing / extra offers, then the first order difference."""
    lines = [f"dstack: {len(expected)} offers, planner: {len(actual)}"]
    want, got = Counter(expected), Counter(actual)
    backends = sorted({k[0] for k in expected} | {k[0] for k in actual})
    for backend in backends:
        missing = [k for k in (want - got) if k[0] == backend]
        extra = [k for k in (got - want) if k[0] == backend]
        if missing:
            lines.append(f"  [{backend}] only in dstack ({len(missing)}): {sorted(missing)[:4]}")
        if extra:
            lines.append(f"  [{backend}] only in planner ({len(extra)}): {sorted(extra)[:4]}")
    if want == got:
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            if a != b:
                lines.append(f"  same offers, order differs at #{index}: dstack {a} / planner {b}")
                break
    return "\n".join(lines)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Generated]:
    return {
        seed: Generated.write(tmp_path_factory.mktemp(f"seed{seed}"), catalogs.generate(seed))
        for seed in SEEDS
    }


# ---------------------------------------------------------------- the comparisons


@requires_planner_dstack_offers
@pytest.mark.parametrize("config_name", list(CONFIGS))
@pytest.mark.parametrize("request_name", list(REQUESTS))
def test_same_offers_in_the_same_order(
    generated: dict[int, Generated],
    tmp_path: Path,
    request_name: str,
    config_name: str,
) -> None:
    failures = []
    for seed, catalog in generated.items():
        case = Case(catalog, REQUESTS[request_name], CONFIGS[config_name])
        expected, actual = _run_both(case, tmp_path)
        if expected != actual:
            failures.append(f"seed {seed}: {_explain(expected, actual)}")
    assert not failures, "\n".join(failures)


@requires_planner_dstack_offers
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=100, max_value=10**6),
    request_name=st.sampled_from(sorted(REQUESTS)),
    providers=st.sets(st.sampled_from(sorted(catalogs.SHAPES)), min_size=1, max_size=4),
    spot_share=st.sampled_from((0.0, 0.5, 1.0)),
    config_name=st.sampled_from(sorted(CONFIGS)),
)
def test_random_catalogs(
    seed: int, request_name: str, providers: set[str], spot_share: float, config_name: str
) -> None:
    rows = catalogs.generate(seed, sorted(providers), spot_share=spot_share)
    with tempfile.TemporaryDirectory() as work:
        catalog = Generated.write(Path(work) / "catalog", rows)
        case = Case(catalog, REQUESTS[request_name], CONFIGS[config_name])
        expected, actual = _run_both(case, Path(work))
    assert expected == actual, _explain(expected, actual)


BUNDLED_QUESTIONS = (
    ("defaults", "every-oracle-backend"),
    ("europe-west4-gcp", "every-oracle-backend"),
    ("reservation", "configured"),
    ("tpu", "configured"),
    ("memory-mib-bound", "empty-and-experimental"),
)


@requires_planner_dstack_offers
def test_bundled_snapshot(repo_dir: Path, tmp_path: Path) -> None:
    """The real published catalogs shipped with planner (thousands of offers per question)."""
    directory = repo_dir / "catalogs" / "snapshot"
    rows = {path.stem: [None] for path in directory.glob("*.csv")}
    catalog = Generated(
        directory, rows, CatalogRows.from_directory(directory), planner.Catalog.load(directory)
    )
    configs = {
        **CONFIGS,
        "every-oracle-backend": [{"type": b} for b in sorted(PROVIDER_OF_BACKEND)],
    }
    failures = []
    sizes = []
    for request_name, config_name in BUNDLED_QUESTIONS:
        # (the snapshot also has cloudrift and vastai, which the oracle does not run: the
        # questions name a server configuration of oracle backends)
        backends = configs[config_name]
        expected, actual = _run_both(Case(catalog, REQUESTS[request_name], backends), tmp_path)
        sizes.append(len(expected))
        if expected != actual:
            failures.append(f"{request_name} / {config_name}: {_explain(expected, actual)}")
    assert not failures, "\n".join(failures)
    assert min(sizes) > 10 and max(sizes) > 1000


@requires_planner_dstack_offers
@pytest.mark.parametrize(
    ("request_name", "config_name"),
    [("auto-any-gpu-small-disk", "configured")],
)
def test_cli_json_answers_as_dstack(
    generated: dict[int, Generated],
    tmp_path: Path,
    run_cli: Any,
    request_name: str,
    config_name: str,
) -> None:
    """``planner offers --dstack-config PATH --format json``: the same offers, through the CLI."""
    catalog = generated[SEEDS[0]]
    request, backends = REQUESTS[request_name], CONFIGS[config_name]
    service = tmp_path / "service.yml"
    service.write_text(_service_yaml(request), encoding="utf-8")
    arguments = ["offers", str(service), "--catalog", str(catalog.directory), "--format", "json"]
    if backends is not None:
        server = tmp_path / "server-config.yml"
        server.write_text(_server_yaml(backends), encoding="utf-8")
        arguments += ["--dstack-config", str(server)]
    result = run_cli(*arguments)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    oracle_backends = backends if backends is not None else _default_backends(catalog.rows)
    expected = [
        _dstack_key(o)
        for o in dstack_offers(
            catalog.directory, request, oracle_backends, rows=catalog.oracle_rows
        )
    ]
    actual = [_planner_key(offer) for offer in printed["offers"]]
    assert expected, "a question with offers"
    assert actual == expected, _explain(expected, actual)
    assert printed["total_offers"] == len(expected)
    assert "not-a-secret" not in result.stdout + result.stderr


# ---------------------------------------------------------------- the harness itself


def test_every_oracle_backend_answers_in_the_comparisons(
    generated: dict[int, Generated],
) -> None:
    """The questions above are not vacuous: across them, every backend has offers on dstack's side."""
    seen: set[str] = set()
    catalog = generated[SEEDS[0]]
    for config in CONFIGS.values():
        backends = config if config is not None else _default_backends(catalog.rows)
        for request in REQUESTS.values():
            offers = dstack_offers(catalog.directory, request, backends, rows=catalog.oracle_rows)
            seen |= {o["backend"] for o in offers}
    assert seen == set(PROVIDER_OF_BACKEND), sorted(set(PROVIDER_OF_BACKEND) - seen)


def test_explain_names_the_backend_that_differs() -> None:
    a = _key("gcp", "us-central1", "n1-standard-4", False, 0.5, ["us-central1-a"], 100)
    b = _key("aws", "us-east-1", "g5.xlarge", True, 0.4, [], 100)
    text = _explain([a, b], [b])
    assert "[gcp] only in dstack (1)" in text and "[aws]" not in text
    assert "order differs at #0" in _explain([a, b], [b, a])


def test_service_file_carries_every_field_of_the_request() -> None:
    request = REQUESTS["europe-west4-gcp"]
    document = yaml.safe_load(_service_yaml(request))
    assert document["backends"] == ["gcp"] and document["regions"] == ["europe-west4"]
    assert document["spot_policy"] == "auto" and document["resources"] == {"gpu": "1.."}
    loaded = planner.load_config(text=_service_yaml(REQUESTS["reservation"]))
    assert loaded.configuration.reservation == "cr-0123456789"
