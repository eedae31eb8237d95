"""Differential test: our loader + matcher against gpuhunt 0.1.34 on the same generated catalog.

gpuhunt loads the catalog through its own download path (``Catalog.load`` over the v3 layout served
from ``file://``, parsed by ``storage.load``); providers that gpuhunt queries live (vastai, crusoe, ...)
are fed to it as added providers built from the same CSVs by the same parser, so ``provider=None``
covers every file, as it would for a user with those providers configured. Our side is
``planner.Catalog.load(<dir of provider CSVs>)`` and ``planner.find_offers(Requirements(...))``.

Compared per query: the multiset of rows, the price sequence, and each provider's own row order
(gpuhunt keeps file order within a provider; only ties across providers are unordered).
"""

from __future__ import annotations

import collections
import csv
import importlib.util
import io
import json
import math
import random
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from planner import Catalog, find_offers
from planner.errors import PlannerError

ROWS = 10_000
MALFORMED = 12
SEED = 20260101
RANDOM_QUERIES = 120  # ~30 ms each on gpuhunt's side
REPO = Path(__file__).resolve().parents[2]


def _load_benchmark_module(name: str) -> ModuleType:
    # benchmarks/ is not an installed package; load the helper from its file.
    spec = importlib.util.spec_from_file_location(
        f"planner_benchmarks_{name}", REPO / "benchmarks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generator = _load_benchmark_module("generate_catalog")
oracle = _load_benchmark_module("oracle")

Key = tuple[Any, ...]


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("generated-catalog")
    return generator.write_catalog(
        out, ROWS, seed=SEED, layouts=("dir", "zip", "v3"), malformed=MALFORMED
    )


@pytest.fixture(scope="session")
def gpuhunt_catalog(written: Any) -> Any:
    # The oracle: only the tests that compare against gpuhunt skip when it is not installed.
    pytest.importorskip("gpuhunt")
    return oracle.load_gpuhunt_catalog(written.v3_base, written.directory, written.providers)


def _raw_rows(written: Any) -> Iterator[tuple[str, dict[str, str]]]:
    for name in written.providers:
        with open(written.directory / f"{name}.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                yield name, row


# ---------------------------------------------------------------- the generator itself


def test_generator_is_deterministic_and_seeded(tmp_path: Path) -> None:
    first = generator.generate_catalog(2_000, seed=7)
    assert first == generator.generate_catalog(2_000, seed=7)
    assert first != generator.generate_catalog(2_000, seed=8)
    assert sum(map(len, first.values())) == 2_000


def test_generated_files_follow_the_published_format(written: Any) -> None:
    gpuhunt = pytest.importorskip("gpuhunt")
    from gpuhunt._internal import storage as gpuhunt_storage

    assert len(written.providers) >= 10
    assert set(gpuhunt._internal.catalog.OFFLINE_PROVIDERS) <= set(written.providers)
    for name in written.providers:
        data = (written.directory / f"{name}.csv").read_bytes()
        assert data.startswith(",".join(generator.FIELDS).encode() + b"\r\n")
        assert data.count(b"\r\n") == data.count(b"\n")
        with zipfile.ZipFile(written.zip_path) as archive:
            assert archive.read(f"{name}.csv") == data
        with zipfile.ZipFile(written.v3_base / name / written.version / "catalog.zip") as archive:
            assert archive.namelist() == [f"{name}.csv"]
        items = list(gpuhunt_storage.load(io.StringIO(data.decode(), newline=""), provider=name))
        prices = [item.price for item in items]
        assert prices == sorted(prices), f"{name}.csv is not ascending by price"


def test_generated_catalog_contains_every_edge_case(written: Any, gpuhunt_catalog: Any) -> None:
    raw = list(_raw_rows(written))
    items = gpuhunt_catalog.query()
    assert len(raw) == ROWS + MALFORMED
    assert len(items) == ROWS, "gpuhunt must skip exactly the malformed rows"
    cpu_rows = sum(1 for item in items if item.gpu_count == 0)
    assert 0.4 * ROWS < cpu_rows < 0.6 * ROWS
    gpu_raw = [row for _, row in raw if row["gpu_count"] not in ("", "0")]
    assert any(row["disk_size"] == "" for _, row in raw)
    assert any(row["disk_size"] != "" for _, row in raw)
    assert any(row["gpu_memory"] == "" for row in gpu_raw)
    assert any(row["gpu_name"].startswith("tpu-") and row["gpu_vendor"] == "" for row in gpu_raw)
    assert any(
        not row["gpu_name"].startswith("tpu-") and row["gpu_vendor"] == "" for row in gpu_raw
    )
    assert {"TRUE", "True", "False", "false", "FALSE"} <= {row["spot"] for _, row in raw}
    assert {"NVIDIA", "AMD"} <= {row["gpu_vendor"] for _, row in raw}
    assert {"", "x86", "arm", "ARM"} <= {row["cpu_arch"] for _, row in raw}
    flags = {flag for item in items for flag in item.flags}
    assert {
        "oci-spot",
        "runpod-cluster",
        "runpod-cpu",
        "lambda-arm",
        "gcp-a4",
        "gcp-g4",
        "gcp-g4-preview",
        "gcp-dws-calendar-mode",
        "hotaisle-bm",
    } <= flags
    assert all(item.flags == ["oci-spot"] for item in items if item.provider == "oci" and item.spot)
    names = {item.gpu_name for item in items if item.gpu_name}
    assert {"A800", "v5litepod-4", "v5p-8", "MI300X", "Gaudi2", "GH200"} <= names
    assert any(
        name != name.upper()
        and name.lower() in {"h100", "a100", "rtx4090", "t4"}
        and name not in ("H100", "A100", "RTX4090", "T4")
        for name in names
    )
    assert {str(item.gpu_vendor.value) for item in items if item.gpu_vendor} == {
        "nvidia",
        "amd",
        "google",
        "intel",
    }
    keys = collections.Counter(_gpuhunt_key(item) for item in items)
    assert any(count > 1 for count in keys.values()), "no duplicate rows"
    price_providers: dict[float, set[str]] = collections.defaultdict(set)
    price_counts: collections.Counter[tuple[str, float]] = collections.Counter()
    for item in items:
        price_providers[item.price].add(item.provider)
        price_counts[item.provider, item.price] += 1
    assert any(len(providers) > 1 for providers in price_providers.values()), (
        "no cross-provider tie"
    )
    assert any(count > 1 for count in price_counts.values()), "no within-provider tie"
    assert {1, 2, 4, 8} <= {item.gpu_count for item in items}
    assert any(item.spot for item in items) and any(not item.spot for item in items)


# ---------------------------------------------------------------- gpuhunt vs planner


def _gpuhunt_key(item: Any) -> Key:
    return (
        item.provider,
        item.instance_name,
        item.location,
        item.price,
        item.cpu,
        item.memory,
        item.gpu_count,
        item.gpu_name or "",
        item.gpu_memory,
        item.spot,
        item.disk_size,
        item.gpu_vendor.value if item.gpu_vendor else None,
        " ".join(item.flags),
        item.cpu_arch.value,
        json.dumps(item.provider_data, sort_keys=True),
    )


def _nan_to_none(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _planner_keys(frame: Any) -> list[Key]:
    columns = [
        "provider",
        "instance_type",
        "region",
        "price",
        "cpu",
        "memory_gb",
        "gpu_count",
        "gpu_name",
        "gpu_memory_gb",
        "spot",
        "disk_gb",
        "gpu_vendor",
        "flags",
        "cpu_arch",
        "provider_data",
    ]
    keys = []
    for values in zip(*(frame[column].tolist() for column in columns), strict=True):
        row = [_nan_to_none(value) for value in values]
        row[7] = row[7] or ""
        row[12] = row[12] or ""
        row[4], row[6] = int(row[4]), int(row[6])
        row[9] = bool(row[9])
        row[14] = json.dumps(json.loads(row[14] or "{}"), sort_keys=True)
        keys.append(tuple(row))
    return keys


# (id, gpuhunt Catalog.query kwargs). Every edge case of docs/catalog-format.md §3 and §5.
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("everything", {}),
    ("a100-with-min-gpu-count-0-adds-cpu-rows", {"gpu_name": "A100", "min_gpu_count": 0}),
    ("a100-min-gpu-count-none", {"gpu_name": "A100"}),
    ("a100-at-least-2", {"gpu_name": "A100", "min_gpu_count": 2}),
    ("cpu-only-is-max-gpu-count-0", {"max_gpu_count": 0}),
    ("cpu-only-8vcpu-32gb", {"max_gpu_count": 0, "min_cpu": 8, "min_memory": 32}),
    (
        "min-gpu-count-0-max-0-vendor-amd",
        {"min_gpu_count": 0, "max_gpu_count": 0, "gpu_vendor": "amd"},
    ),
    ("max-gpu-count-0-vendor-nvidia-is-empty", {"max_gpu_count": 0, "gpu_vendor": "nvidia"}),
    ("empty-disk-passes-min-disk", {"min_disk_size": 500}),
    ("empty-disk-passes-max-disk", {"max_disk_size": 150}),
    ("disk-window", {"min_disk_size": 200, "max_disk_size": 300, "min_gpu_count": 1}),
    ("min-gpu-memory-24", {"min_gpu_memory": 24}),
    ("max-gpu-memory-24-passes-empty-and-cpu", {"max_gpu_memory": 24}),
    ("gpu-memory-exactly-80", {"min_gpu_memory": 80, "max_gpu_memory": 80}),
    ("min-gpu-count-0-min-gpu-memory-40", {"min_gpu_count": 0, "min_gpu_memory": 40}),
    ("cc-min-9.0", {"min_compute_capability": (9, 0)}),
    ("cc-min-10.0", {"min_compute_capability": (10, 0)}),
    ("cc-max-8.0", {"max_compute_capability": (8, 0)}),
    ("cc-max-9.0-excludes-10.0-and-12.0", {"max_compute_capability": (9, 0), "min_gpu_count": 1}),
    ("cc-window-8.0-8.9", {"min_compute_capability": (8, 0), "max_compute_capability": (8, 9)}),
    ("cc-unknown-nvidia-a800", {"gpu_name": "A800", "min_compute_capability": (7, 0)}),
    ("cc-with-min-gpu-count-0", {"min_compute_capability": (9, 0), "min_gpu_count": 0}),
    ("names-case-insensitive", {"gpu_name": ["h100", "RTX4090", "mi300x"]}),
    ("tpu-exact-name", {"gpu_name": "v5litepod-4"}),
    ("tpu-prefix-is-not-a-match", {"gpu_name": "v5litepod"}),
    ("vendor-google", {"gpu_vendor": "google"}),
    ("vendor-amd", {"gpu_vendor": "amd"}),
    ("vendor-intel", {"gpu_vendor": "intel"}),
    ("vendor-nvidia-min-gpu-count-0", {"gpu_vendor": "nvidia", "min_gpu_count": 0}),
    ("arm", {"cpu_arch": "arm"}),
    ("x86-on-demand-aws-gcp", {"cpu_arch": "x86", "spot": False, "provider": ["aws", "gcp"]}),
    ("spot-only", {"spot": True}),
    ("on-demand-gpus", {"spot": False, "min_gpu_count": 1}),
    ("bench-24gb-2usd-spot", {"min_gpu_memory": 24, "max_price": 2.0, "spot": True}),
    ("max-price-equal-to-a-price", {"max_price": "<price>"}),
    ("min-price-equal-to-a-price", {"min_price": "<price>", "gpu_name": "H100"}),
    ("min-price-above-max-price", {"min_price": 5.0, "max_price": 1.0}),
    ("min-cpu-above-max-cpu", {"min_cpu": 64, "max_cpu": 8}),
    ("providers-mixed-case", {"provider": ["AWS", "Gcp", "lambdalabs"]}),
    ("provider-str", {"provider": "runpod"}),
    ("provider-online", {"provider": ["vastai", "Crusoe"], "min_gpu_count": 1}),
    ("providers-empty-list", {"provider": []}),
    ("gpu-name-empty-list", {"gpu_name": []}),
    ("gpu-name-empty-list-min-gpu-count-0", {"gpu_name": [], "min_gpu_count": 0}),
    ("flags-empty-list", {"allowed_flags": []}),
    ("flags-subset", {"allowed_flags": ["oci-spot", "runpod-cluster"], "min_gpu_count": 1}),
    ("total-gpu-memory-min-160", {"min_total_gpu_memory": 160}),
    ("total-gpu-memory-max-48", {"max_total_gpu_memory": 48}),
    ("total-gpu-memory-window", {"min_total_gpu_memory": 640, "max_total_gpu_memory": 1128}),
    ("memory-window", {"min_memory": 64, "max_memory": 256, "min_cpu": 16}),
    ("vendor-upper-case", {"gpu_vendor": "NVIDIA", "max_price": 3.0}),
    ("arch-upper-case", {"cpu_arch": "ARM", "spot": False}),
    ("max-gpu-memory-0-keeps-cpu-and-unknown-memory", {"max_gpu_memory": 0}),
    ("min-gpu-memory-0-amd", {"min_gpu_memory": 0, "gpu_vendor": "amd"}),
    (
        "min-total-gpu-memory-with-min-gpu-count-0",
        {"min_total_gpu_memory": 320, "min_gpu_count": 0},
    ),
    ("allowed-flags-none-spot-none", {"allowed_flags": None, "spot": None, "gpu_name": "H100"}),
    ("tpu-mixed-case-name", {"gpu_name": ["V5P-8", "v5LitePod-8"]}),
    ("amd-eight-gpus", {"gpu_vendor": "amd", "min_gpu_count": 8, "max_gpu_count": 8}),
    ("max-price-below-cheapest", {"max_price": 0.0001}),
    ("min-price-0-cpu-range", {"min_price": 0, "min_cpu": 4, "max_cpu": 4}),
]


@pytest.fixture(scope="session")
def planner_catalog(written: Any) -> Catalog:
    return Catalog.load(written.directory)


def _resolve(kwargs: dict[str, Any], gpuhunt_catalog: Any) -> dict[str, Any]:
    """Replace the "<price>" placeholder by a price that occurs in the catalog (an exact bound)."""
    if "<price>" not in kwargs.values():
        return kwargs
    h100 = [item.price for item in gpuhunt_catalog.query(gpu_name="H100")]
    price = h100[len(h100) // 3]
    return {key: price if value == "<price>" else value for key, value in kwargs.items()}


@pytest.mark.parametrize("kwargs", [q for _, q in QUERIES], ids=[name for name, _ in QUERIES])
def test_same_offers_as_gpuhunt(
    kwargs: dict[str, Any], gpuhunt_catalog: Any, planner_catalog: Catalog
) -> None:
    kwargs = _resolve(kwargs, gpuhunt_catalog)
    expected = [_gpuhunt_key(item) for item in gpuhunt_catalog.query(**kwargs)]
    offers = find_offers(oracle.requirements_from_query(kwargs), planner_catalog, rows=True)
    actual = _planner_keys(offers.frame)

    assert offers.total == len(actual)
    missing = collections.Counter(expected) - collections.Counter(actual)
    extra = collections.Counter(actual) - collections.Counter(expected)
    assert not missing and not extra, (
        f"{len(expected)} rows from gpuhunt, {len(actual)} from planner; "
        f"missing e.g. {list(missing)[:3]}, extra e.g. {list(extra)[:3]}"
    )
    assert [key[3] for key in actual] == [key[3] for key in expected], "price sequences differ"
    for provider in {key[0] for key in expected}:
        ours = [key for key in actual if key[0] == provider]
        theirs = [key for key in expected if key[0] == provider]
        assert ours == theirs, f"{provider}: order within the provider differs"


def test_at_least_thirty_queries_cover_the_edge_cases() -> None:
    assert len(QUERIES) >= 30
    assert len({name for name, _ in QUERIES}) == len(QUERIES)


def test_bounds_hit_existing_prices(gpuhunt_catalog: Any) -> None:
    resolved = _resolve({"max_price": "<price>"}, gpuhunt_catalog)
    rows = gpuhunt_catalog.query(**resolved)
    assert rows and rows[-1].price == resolved["max_price"]


def test_unknown_provider_is_an_error_in_both(
    gpuhunt_catalog: Any, planner_catalog: Catalog
) -> None:
    with pytest.raises(ValueError, match="Unknown provider"):
        gpuhunt_catalog.query(provider=["aws", "cudo"])
    with pytest.raises(PlannerError, match="cudo"):
        find_offers(
            oracle.requirements_from_query({"provider": ["aws", "cudo"]}),
            planner_catalog,
            rows=True,
        )


def test_malformed_rows_are_dropped_and_reported(planner_catalog: Catalog) -> None:
    assert len(planner_catalog) == ROWS
    assert len(planner_catalog.issues) == MALFORMED


def test_zip_and_directory_load_the_same_table(written: Any, planner_catalog: Catalog) -> None:
    from_zip = Catalog.load(written.zip_path)
    columns = [column for column in planner_catalog.frame.columns if column != "row_id"]
    assert from_zip.frame[columns].astype(str).equals(planner_catalog.frame[columns].astype(str))


def test_generator_command_line(tmp_path: Path) -> None:
    code = generator.main(
        [
            "--rows",
            "600",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
            "--layout",
            "zip",
            "--provider",
            "aws",
            "--provider",
            "vastai",
        ]
    )
    assert code == 0
    with zipfile.ZipFile(tmp_path / "catalog.zip") as archive:
        assert sorted(archive.namelist()) == ["aws.csv", "vastai.csv"]
        rows = sum(len(archive.read(name).splitlines()) - 1 for name in archive.namelist())
    assert rows == 600
    assert not (tmp_path / "aws.csv").exists()


# ---------------------------------------------------------------- seeded random queries

_NAMES: tuple[str, ...] = (
    "A100",
    "h100",
    "H200",
    "RTX4090",
    "v5litepod-4",
    "V5P-8",
    "MI300X",
    "Gaudi2",
    "A800",
)
_NAMES += ("GH200", "T4", "L4", "a10g", "B200", "nonexistent")
_PROVIDERS: tuple[str, ...] = (
    "aws",
    "AZURE",
    "gcp",
    "oci",
    "lambdalabs",
    "runpod",
    "nebius",
    "verda",
    "cloudrift",
)
_PROVIDERS += ("vastai", "crusoe", "vultr", "seeweb", "hotaisle", "jarvislabs", "digitalocean")
_FLAGS: tuple[str, ...] = (
    "oci-spot",
    "runpod-cluster",
    "runpod-cpu",
    "lambda-arm",
    "gcp-a4",
    "gcp-g4",
)
_FLAGS += ("gcp-g4-preview", "gcp-dws-calendar-mode", "hotaisle-bm")
_BOUNDS: tuple[tuple[str, str, tuple[float, ...]], ...] = (
    ("min_cpu", "max_cpu", (0, 2, 4, 8, 16, 64, 96)),
    ("min_memory", "max_memory", (0, 8, 16, 32, 64.4, 214.8, 1000)),
    ("min_gpu_count", "max_gpu_count", (0, 1, 2, 4, 8)),
    ("min_gpu_memory", "max_gpu_memory", (0, 16, 24, 48, 80, 96, 141, 192, 380)),
    ("min_total_gpu_memory", "max_total_gpu_memory", (0, 24, 48, 160, 640, 1128, 1536)),
    ("min_disk_size", "max_disk_size", (0, 100, 200, 256, 500, 1000, 8000)),
    ("min_price", "max_price", (0, 0.01, 0.5, 1.0, 2.0, 2.49, 10, 50)),
)


def _random_query(rng: random.Random) -> dict[str, Any]:
    """A random combination of filters, drawn around the values the generator uses."""
    query: dict[str, Any] = {}
    if rng.random() < 0.25:
        query["provider"] = rng.sample(_PROVIDERS, rng.randint(0, 4))
    if rng.random() < 0.15:
        query["cpu_arch"] = rng.choice(["x86", "arm", "ARM"])
    for low, high, values in _BOUNDS:
        if rng.random() < 0.3:
            query[low] = rng.choice(values)
        if rng.random() < 0.3:
            query[high] = rng.choice(values)
    if rng.random() < 0.2:
        query["gpu_vendor"] = rng.choice(["nvidia", "amd", "google", "intel", "NVIDIA"])
    if rng.random() < 0.3:
        query["gpu_name"] = rng.sample(_NAMES, rng.randint(0, 3))
    if rng.random() < 0.15:
        query["min_compute_capability"] = rng.choice([(7, 0), (8, 0), (8, 6), (9, 0), (10, 0)])
    if rng.random() < 0.15:
        query["max_compute_capability"] = rng.choice([(7, 5), (8, 0), (8, 9), (9, 0), (12, 0)])
    if rng.random() < 0.3:
        query["spot"] = rng.choice([True, False, None])
    if rng.random() < 0.2:
        query["allowed_flags"] = rng.sample(_FLAGS, rng.randint(0, 3))
    return query


def test_seeded_random_queries_match_gpuhunt(
    gpuhunt_catalog: Any, planner_catalog: Catalog
) -> None:
    rng = random.Random(SEED)
    mismatches = []
    for _ in range(RANDOM_QUERIES):
        kwargs = _random_query(rng)
        expected = [_gpuhunt_key(item) for item in gpuhunt_catalog.query(**kwargs)]
        requirements = oracle.requirements_from_query(kwargs)
        actual = _planner_keys(find_offers(requirements, planner_catalog, rows=True).frame)
        same_rows = collections.Counter(expected) == collections.Counter(actual)
        if not same_rows or [k[3] for k in expected] != [k[3] for k in actual]:
            mismatches.append(f"{kwargs}: gpuhunt {len(expected)} rows, planner {len(actual)}")
    assert not mismatches, f"{len(mismatches)} of {RANDOM_QUERIES} differ, e.g. " + "; ".join(
        mismatches[:3]
    )
