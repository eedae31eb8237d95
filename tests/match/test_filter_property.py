"""Property: the vectorized filter equals a plain per-row reference of gpuhunt's ``matches``.

The reference below loops over rows on purpose: it is the oracle, written from docs/catalog-format.md §3
(and dstack's backend/region/instance-type filters), independent of planner.match. Compute
capabilities come from gpuhunt's own table, not from planner's.
"""

from __future__ import annotations

import math
from typing import Any

import gpuhunt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from match_catalogs import ROW_DEFAULTS, make_catalog

from planner.match import find_offers
from planner.requirements import Requirements

GPU_KINDS = [
    ("A100", "nvidia"),
    ("a100", "nvidia"),
    ("H100", "nvidia"),
    ("B200", "nvidia"),
    ("T4", "nvidia"),
    ("A800", "nvidia"),  # unknown to the table
    ("MI300X", "amd"),
    ("v5litepod-4", "google"),
    ("Gaudi2", "intel"),
]
PROVIDERS = ["aws", "gcp", "lambdalabs", "verda", "runpod", "digitalocean"]
FLAGS = ["", "oci-spot", "gcp-g4 gcp-g4-preview", "runpod-cpu"]
PRICES = [0.1, 0.5, 1.0, 1.0, 2.49, 2.5, 10.0]


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    gpu_count = draw(st.sampled_from([0, 0, 1, 2, 8]))
    row: dict[str, Any] = {
        "provider": draw(st.sampled_from(PROVIDERS)),
        "instance_type": draw(st.sampled_from(["m5.large", "M5.LARGE", "g5.xlarge", "n1"])),
        "region": draw(st.sampled_from(["us-east-1", "US-EAST-1", "eu-west-1"])),
        "price": draw(st.sampled_from(PRICES)),
        "cpu": draw(st.integers(1, 16)),
        "memory_gb": draw(st.sampled_from([1.0, 8.0, 16.0, 64.0])),
        "gpu_count": gpu_count,
        "spot": draw(st.booleans()),
        "disk_gb": draw(st.sampled_from([None, 50.0, 100.0, 200.0])),
        "flags": draw(st.sampled_from(FLAGS)),
        "cpu_arch": draw(st.sampled_from(["x86", "x86", "arm"])),
    }
    if gpu_count:
        name, vendor = draw(st.sampled_from(GPU_KINDS))
        row.update(
            gpu_name=name,
            gpu_vendor=vendor,
            gpu_memory_gb=draw(st.sampled_from([None, 0.0, 16.0, 80.0])),
        )
    return row


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def sublists(values: list[str]) -> st.SearchStrategy[tuple[str, ...] | None]:
    return maybe(st.lists(st.sampled_from(values), max_size=3).map(tuple))


CAPABILITIES = st.sampled_from([(0, 0), (7, 5), (8, 0), (9, 0), (10, 0), (12, 0)])

REQUIREMENTS = st.builds(
    Requirements,
    providers=sublists([*PROVIDERS, "AWS"]),
    cpu_arch=maybe(st.sampled_from(["x86", "arm", "ARM"])),
    min_cpu=maybe(st.integers(0, 16)),
    max_cpu=maybe(st.integers(0, 16)),
    min_memory_gb=maybe(st.sampled_from([0.0, 8.0, 16.0, 100.0])),
    max_memory_gb=maybe(st.sampled_from([0.0, 8.0, 16.0, 100.0])),
    min_gpu_count=maybe(st.sampled_from([0, 0, 1, 2])),
    max_gpu_count=maybe(st.sampled_from([0, 1, 8])),
    gpu_vendor=maybe(st.sampled_from(["nvidia", "amd", "google", "INTEL"])),
    gpu_names=sublists(["A100", "h100", "B200", "v5litepod-4", "v5litepod", "MI300X"]),
    min_gpu_memory_gb=maybe(st.sampled_from([0.0, 16.0, 40.0])),
    max_gpu_memory_gb=maybe(st.sampled_from([0.0, 16.0, 80.0])),
    min_total_gpu_memory_gb=maybe(st.sampled_from([0.0, 80.0, 160.0])),
    max_total_gpu_memory_gb=maybe(st.sampled_from([0.0, 80.0, 640.0])),
    min_disk_gb=maybe(st.sampled_from([0.0, 100.0, 150.0])),
    max_disk_gb=maybe(st.sampled_from([50.0, 100.0, 1000.0])),
    min_price=maybe(st.sampled_from(PRICES)),
    max_price=maybe(st.sampled_from(PRICES)),
    min_compute_capability=maybe(CAPABILITIES),
    max_compute_capability=maybe(CAPABILITIES),
    spot=maybe(st.booleans()),
    allowed_flags=sublists(["oci-spot", "gcp-g4", "gcp-g4-preview", "runpod-cpu"]),
    backends=sublists(["aws", "lambda", "datacrunch", "amddevcloud", "gcp", "kubernetes"]),
    regions=sublists(["us-east-1", "EU-WEST-1", "ap-south-1"]),
    instance_types=sublists(["m5.large", "G5.XLARGE"]),
    reservation=maybe(st.just("r-1")),
)

BACKEND_PROVIDER = {"lambda": "lambdalabs", "datacrunch": "verda", "amddevcloud": "digitalocean"}


def capability(name: str) -> tuple[int, int] | None:
    for gpu in gpuhunt.KNOWN_NVIDIA_GPUS:
        if gpu.name.lower() == name.lower():
            return gpu.compute_capability
    return None


def between(value: Any, low: Any, high: Any) -> bool:
    return (low is None or low <= value) and (high is None or value <= high)


def reference_matches(row: dict[str, Any], q: Requirements) -> bool:
    """gpuhunt 0.1.34 ``constraints.matches`` plus dstack's offer filters, one row at a time."""
    if q.providers is not None and row["provider"] not in [p.lower() for p in q.providers]:
        return False
    if not between(row["price"], q.min_price, q.max_price):
        return False
    if q.spot is not None and row["spot"] != q.spot:
        return False
    if q.cpu_arch and q.cpu_arch.lower() != row["cpu_arch"]:
        return False
    if not between(row["cpu"], q.min_cpu, q.max_cpu):
        return False
    if not between(row["memory_gb"], q.min_memory_gb, q.max_memory_gb):
        return False
    count, name, memory = row["gpu_count"], row["gpu_name"], row["gpu_memory_gb"]
    if not (q.min_gpu_count == 0 and count == 0):
        if q.gpu_vendor and q.gpu_vendor.lower() != row["gpu_vendor"]:
            return False
        if not between(count, q.min_gpu_count, q.max_gpu_count):
            return False
        if q.gpu_names is not None and (
            name is None or name.lower() not in [n.lower() for n in q.gpu_names]
        ):
            return False
        if q.min_compute_capability is not None or q.max_compute_capability is not None:
            if row["gpu_vendor"] != "nvidia" or not name:
                return False
            cc = capability(name)
            if not cc or not between(cc, q.min_compute_capability, q.max_compute_capability):
                return False
        per_gpu = memory if count > 0 and memory is not None else 0
        if not between(per_gpu, q.min_gpu_memory_gb, q.max_gpu_memory_gb):
            return False
        total = count * memory if count > 0 and memory is not None else 0
        if not between(total, q.min_total_gpu_memory_gb, q.max_total_gpu_memory_gb):
            return False
    if row["disk_gb"] is not None and not between(row["disk_gb"], q.min_disk_gb, q.max_disk_gb):
        return False
    if q.allowed_flags is not None and any(
        flag not in q.allowed_flags for flag in row["flags"].split()
    ):
        return False
    if q.backends is not None:
        providers = [BACKEND_PROVIDER.get(b, b) for b in q.backends]
        if row["provider"] not in providers:
            return False
    if q.reservation is not None and row["provider"] not in ("aws", "gcp"):
        return False
    if q.regions is not None and row["region"].lower() not in [r.lower() for r in q.regions]:
        return False
    return not (
        q.instance_types is not None
        and row["instance_type"].lower() not in [t.lower() for t in q.instance_types]
    )


def row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    full = {**ROW_DEFAULTS, **row}
    return (
        full["provider"],
        full["instance_type"],
        full["region"],
        full["price"],
        full["cpu"],
        full["gpu_count"],
        full["spot"],
        -1.0 if full["disk_gb"] is None else full["disk_gb"],
        full["flags"],
    )


def record_key(record: dict[str, Any]) -> tuple[Any, ...]:
    return (
        record["provider"],
        record["instance_type"],
        record["region"],
        record["price"],
        record["cpu"],
        record["gpu_count"],
        record["spot"],
        -1.0 if record["disk_gb"] is None else record["disk_gb"],
        " ".join(record["flags"]),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog_rows=st.lists(rows(), max_size=25), requirements=REQUIREMENTS)
def test_vectorized_filter_equals_the_per_row_reference(
    catalog_rows: list[dict[str, Any]], requirements: Requirements
) -> None:
    full_rows = [{**ROW_DEFAULTS, **row} for row in catalog_rows]
    # The catalog is price-sorted and stable: the reference keeps that order too.
    ordered = sorted(full_rows, key=lambda row: row["price"])
    expected = [row_key(row) for row in ordered if reference_matches(row, requirements)]

    offers = find_offers(requirements, make_catalog(catalog_rows), rows=True)
    assert [record_key(record) for record in offers.records()] == expected
    assert offers.total == len(expected)
    prices = [record["price"] for record in offers.records()]
    assert prices == sorted(prices)
    assert all(not math.isnan(price) for price in prices)
