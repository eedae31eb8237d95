"""Each requirement's effect on small hand-written catalogs (gpuhunt 0.1.34 semantics).

Rows are named by ``instance_type`` so each expectation reads as "these rows, in this order".
"""

from __future__ import annotations

from typing import Any

import pytest
from match_catalogs import make_catalog

from planner.errors import InputError
from planner.match import find_offers
from planner.requirements import Requirements

CPU_SMALL = {"instance_type": "cpu-small", "price": 0.10, "cpu": 2, "memory_gb": 4.0}
CPU_BIG = {"instance_type": "cpu-big", "price": 0.90, "cpu": 64, "memory_gb": 256.0}
A100 = {
    "instance_type": "a100",
    "price": 1.50,
    "gpu_count": 1,
    "gpu_name": "A100",
    "gpu_memory_gb": 80.0,
    "gpu_vendor": "nvidia",
    "disk_gb": 200.0,
}
H100X8 = {
    "instance_type": "h100x8",
    "provider": "lambdalabs",
    "region": "us-west-1",
    "price": 20.0,
    "cpu": 208,
    "memory_gb": 1800.0,
    "gpu_count": 8,
    "gpu_name": "H100",
    "gpu_memory_gb": 80.0,
    "gpu_vendor": "nvidia",
    "disk_gb": 24000.0,
}
B200 = {
    "instance_type": "b200",
    "provider": "gcp",
    "price": 30.0,
    "gpu_count": 8,
    "gpu_name": "B200",
    "gpu_memory_gb": 180.0,
    "gpu_vendor": "nvidia",
}
MI300X = {
    "instance_type": "mi300x",
    "provider": "runpod",
    "price": 2.5,
    "gpu_count": 1,
    "gpu_name": "MI300X",
    "gpu_memory_gb": 192.0,
    "gpu_vendor": "amd",
}
A800 = {  # an NVIDIA name the knowledge table does not know
    "instance_type": "a800",
    "provider": "vastai",
    "price": 1.2,
    "gpu_count": 1,
    "gpu_name": "A800",
    "gpu_memory_gb": 80.0,
    "gpu_vendor": "nvidia",
}
NO_MEMORY = {  # a GPU row whose gpu_memory is empty
    "instance_type": "t4-nomem",
    "provider": "azure",
    "price": 0.5,
    "gpu_count": 1,
    "gpu_name": "T4",
    "gpu_memory_gb": None,
    "gpu_vendor": "nvidia",
    "disk_gb": 50.0,
}
TPU = {
    "instance_type": "v5litepod-4",
    "provider": "gcp",
    "region": "us-central1-a",
    "price": 4.8,
    "cpu": 112,
    "memory_gb": 192.0,
    "gpu_count": 1,
    "gpu_name": "v5litepod-4",
    "gpu_memory_gb": 64.0,
    "gpu_vendor": "google",
}

ROWS = [CPU_SMALL, CPU_BIG, A100, H100X8, B200, MI300X, A800, NO_MEMORY, TPU]


def matched(requirements: Requirements, rows: list[dict[str, Any]] = ROWS) -> list[str]:
    offers = find_offers(requirements, make_catalog(rows), rows=True)
    names = [record["instance_type"] for record in offers.records()]
    assert offers.total == len(names)
    return names


def by_price(*rows: dict[str, Any]) -> list[str]:
    return [row["instance_type"] for row in sorted(rows, key=lambda row: row["price"])]


ALL = by_price(*ROWS)
CPU_ROWS = by_price(CPU_SMALL, CPU_BIG)
GPU_ROWS = by_price(A100, H100X8, B200, MI300X, A800, NO_MEMORY, TPU)


def test_no_requirements_match_everything_cheapest_first() -> None:
    assert matched(Requirements()) == ALL


# --- likely mistake 1: the GPU block and CPU-only rows -------------------------------------------


def test_min_gpu_count_zero_lets_cpu_rows_bypass_gpu_filters() -> None:
    assert matched(Requirements(gpu_names=("A100",), min_gpu_count=0)) == by_price(
        CPU_SMALL, CPU_BIG, A100
    )


def test_python_equality_zero_float_also_skips_the_gpu_block() -> None:
    requirements = Requirements(gpu_vendor="amd", min_gpu_count=0.0)  # type: ignore[arg-type]
    assert matched(requirements) == by_price(CPU_SMALL, CPU_BIG, MI300X)


def test_unset_gpu_count_treats_cpu_rows_as_zero_gpu_rows() -> None:
    assert matched(Requirements(gpu_names=("A100",))) == ["a100"]
    assert matched(Requirements(gpu_vendor="nvidia")) == by_price(
        A100, H100X8, B200, A800, NO_MEMORY
    )
    assert matched(Requirements(min_compute_capability=(1, 0))) == by_price(
        A100, H100X8, B200, NO_MEMORY
    )
    assert matched(Requirements(min_gpu_memory_gb=1)) == by_price(
        A100, H100X8, B200, MI300X, A800, TPU
    )


def test_unset_gpu_count_cpu_rows_pass_the_maximums() -> None:
    assert matched(Requirements(max_gpu_count=0)) == CPU_ROWS
    assert matched(Requirements(max_gpu_memory_gb=10)) == by_price(CPU_SMALL, CPU_BIG, NO_MEMORY)
    assert matched(Requirements(max_total_gpu_memory_gb=70)) == by_price(
        CPU_SMALL, CPU_BIG, NO_MEMORY, TPU
    )


def test_min_gpu_count_one_drops_cpu_rows() -> None:
    assert matched(Requirements(min_gpu_count=1)) == GPU_ROWS
    assert matched(Requirements(min_gpu_count=2, max_gpu_count=8)) == by_price(H100X8, B200)


# --- likely mistakes 2 and 3: unknown disk and unknown GPU memory --------------------------------


def test_unknown_disk_passes_any_disk_bound() -> None:
    # Stated disks: a100 200, h100x8 24000, t4-nomem 50; every other row states none.
    unknown_disk = [row for row in ALL if row not in ("a100", "h100x8", "t4-nomem")]
    assert matched(Requirements(min_disk_gb=100)) == sorted(
        [*unknown_disk, "a100", "h100x8"], key=ALL.index
    )
    assert matched(Requirements(min_disk_gb=100, max_disk_gb=1000)) == sorted(
        [*unknown_disk, "a100"], key=ALL.index
    )
    assert matched(Requirements(min_disk_gb=10**9)) == unknown_disk


def test_unknown_gpu_memory_counts_as_zero() -> None:
    assert "t4-nomem" not in matched(Requirements(min_gpu_memory_gb=0.5))
    assert "t4-nomem" in matched(Requirements(min_gpu_memory_gb=0))
    assert "t4-nomem" in matched(Requirements(max_gpu_memory_gb=0))
    assert "t4-nomem" not in matched(Requirements(min_total_gpu_memory_gb=1))
    assert "t4-nomem" in matched(Requirements(max_total_gpu_memory_gb=0))


def test_total_gpu_memory_is_count_times_per_gpu() -> None:
    assert matched(Requirements(min_total_gpu_memory_gb=640, max_total_gpu_memory_gb=640)) == [
        "h100x8"
    ]
    assert matched(Requirements(min_total_gpu_memory_gb=641)) == ["b200"]


# --- likely mistake 4: compute capability --------------------------------------------------------


def test_compute_capability_is_an_integer_tuple_from_the_table() -> None:
    # "10.0" < "9.0" as strings, 10.0 > 9.0 as tuples: B200 (10.0) must pass a 9.0 minimum.
    assert matched(Requirements(min_compute_capability=(9, 0))) == by_price(H100X8, B200)
    assert matched(Requirements(max_compute_capability=(9, 0))) == by_price(A100, H100X8, NO_MEMORY)
    assert matched(Requirements(min_compute_capability=(8, 0), max_compute_capability=(8, 0))) == [
        "a100"
    ]


def test_compute_capability_excludes_non_nvidia_and_unknown_names() -> None:
    names = matched(Requirements(min_compute_capability=(0, 0)))
    assert "mi300x" not in names
    assert "v5litepod-4" not in names
    assert "a800" not in names


def test_compute_capability_accepts_a_list_or_text() -> None:
    as_tuple = matched(Requirements(min_compute_capability=(9, 0)))
    as_list = matched(Requirements(min_compute_capability=[9, 0]))  # type: ignore[arg-type]
    as_text = matched(Requirements(min_compute_capability="9.0"))  # type: ignore[arg-type]
    assert as_list == as_text == as_tuple


def test_malformed_compute_capability_is_an_input_error() -> None:
    with pytest.raises(InputError, match="min_compute_capability"):
        matched(Requirements(min_compute_capability="9"))  # type: ignore[arg-type]


# --- likely mistake 5: GPU names -----------------------------------------------------------------


def test_gpu_names_are_exact_and_case_insensitive() -> None:
    assert matched(Requirements(gpu_names=("a100", "H100"))) == ["a100", "h100x8"]
    assert matched(Requirements(gpu_names=("v5litepod",))) == []
    assert matched(Requirements(gpu_names=("V5LITEPOD-4",))) == ["v5litepod-4"]
    assert matched(Requirements(gpu_names=("A10",))) == []


# --- likely mistake 7: order and duplicates ------------------------------------------------------


def test_equal_prices_keep_catalog_order_and_duplicates_are_kept() -> None:
    rows = [
        {"instance_type": "first", "price": 1.0},
        {"instance_type": "second", "price": 0.5},
        {"instance_type": "third", "price": 1.0},
        {"instance_type": "first", "price": 1.0},
    ]
    assert matched(Requirements(), rows) == ["second", "first", "third", "first"]


# --- likely mistake 8: [] excludes, None is any ---------------------------------------------------


@pytest.mark.parametrize("field", ["providers", "gpu_names", "backends", "regions"])
def test_empty_list_excludes_everything(field: str) -> None:
    assert matched(Requirements(**{field: ()})) == []


def test_empty_allowed_flags_drop_only_flagged_rows() -> None:
    rows = [
        {"instance_type": "plain", "price": 1.0},
        {"instance_type": "spot-oci", "price": 0.5, "flags": "oci-spot"},
        {"instance_type": "two-flags", "price": 0.7, "flags": "gcp-g4 gcp-g4-preview"},
    ]
    assert matched(Requirements(allowed_flags=()), rows) == ["plain"]
    assert matched(Requirements(allowed_flags=None), rows) == ["spot-oci", "two-flags", "plain"]
    assert matched(Requirements(allowed_flags=("oci-spot", "gcp-g4")), rows) == [
        "spot-oci",
        "plain",
    ]


# --- likely mistake 9: provider names are validated ----------------------------------------------


def test_unknown_provider_is_an_error_not_an_empty_result() -> None:
    with pytest.raises(InputError, match="unknown provider 'cudo'"):
        matched(Requirements(providers=("cudo",)))


def test_providers_compare_case_insensitively() -> None:
    assert matched(Requirements(providers=("GCP",))) == by_price(B200, TPU)


# --- the remaining clauses -----------------------------------------------------------------------


def test_max_price_and_min_price_are_inclusive() -> None:
    assert matched(Requirements(max_price=1.5)) == by_price(
        CPU_SMALL, CPU_BIG, A100, A800, NO_MEMORY
    )
    assert matched(Requirements(min_price=20.0, max_price=20.0)) == ["h100x8"]
    assert matched(Requirements(min_price=2.0, max_price=1.0)) == []


def test_spot_filter() -> None:
    rows = [
        {"instance_type": "od", "price": 1.0},
        {"instance_type": "sp", "price": 0.3, "spot": True},
    ]
    assert matched(Requirements(spot=True), rows) == ["sp"]
    assert matched(Requirements(spot=False), rows) == ["od"]
    assert matched(Requirements(spot=None), rows) == ["sp", "od"]


def test_cpu_arch_memory_and_cpu_bounds() -> None:
    rows = [
        {"instance_type": "x86", "price": 1.0, "cpu": 4, "memory_gb": 16.0},
        {"instance_type": "arm", "price": 0.8, "cpu": 4, "memory_gb": 16.0, "cpu_arch": "arm"},
    ]
    assert matched(Requirements(cpu_arch="ARM"), rows) == ["arm"]
    assert matched(Requirements(cpu_arch="x86"), rows) == ["x86"]
    assert matched(Requirements(min_cpu=4, max_cpu=4), rows) == ["arm", "x86"]
    assert matched(Requirements(min_cpu=5), rows) == []
    assert matched(Requirements(min_memory_gb=16, max_memory_gb=16), rows) == ["arm", "x86"]
    assert matched(Requirements(max_memory_gb=15.9), rows) == []


def test_vendor_filter_is_case_insensitive_and_validated() -> None:
    assert matched(Requirements(gpu_vendor="AMD")) == ["mi300x"]
    assert matched(Requirements(gpu_vendor="google")) == ["v5litepod-4"]
    with pytest.raises(InputError, match="gpu vendor"):
        matched(Requirements(gpu_vendor="matrox"))


def test_regions_and_instance_types_are_case_insensitive() -> None:
    assert matched(Requirements(regions=("US-WEST-1",))) == ["h100x8"]
    assert matched(Requirements(instance_types=("A100", "B200"))) == ["a100", "b200"]
    assert matched(Requirements(regions=("us-west-2",))) == []


def test_backends_map_to_providers() -> None:
    assert matched(Requirements(backends=("lambda",))) == ["h100x8"]
    assert matched(Requirements(backends=("LAMBDA", "gcp"))) == by_price(H100X8, B200, TPU)
    assert matched(Requirements(backends=("kubernetes",))) == []
    with pytest.raises(InputError, match="unknown backend 'lambdalabs'"):
        matched(Requirements(backends=("lambdalabs",)))


def test_backend_shown_is_the_dstack_name() -> None:
    catalog = make_catalog([H100X8, {"instance_type": "v", "provider": "verda", "price": 1.0}])
    records = find_offers(Requirements(), catalog, rows=True).records()
    assert [(r["backend"], r["provider"]) for r in records] == [
        ("verda", "verda"),
        ("lambda", "lambdalabs"),
    ]
    aliased = find_offers(Requirements(backends=("datacrunch",)), catalog, rows=True).records()
    assert [(r["backend"], r["provider"]) for r in aliased] == [("datacrunch", "verda")]


def test_reservation_keeps_only_backends_that_support_it() -> None:
    assert matched(Requirements(reservation="r-123")) == by_price(
        CPU_SMALL, CPU_BIG, A100, B200, TPU
    )


def test_offer_records_follow_the_contract() -> None:
    records = find_offers(
        Requirements(), make_catalog([CPU_SMALL, A100, NO_MEMORY]), rows=True
    ).records(2)
    assert records == [
        {
            "backend": "aws",
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": "cpu-small",
            "spot": False,
            "price": 0.1,
            "cpu": 2,
            "cpu_arch": "x86",
            "memory_gb": 4.0,
            "disk_gb": None,
            "gpu_vendor": None,
            "gpu_name": None,
            "gpu_count": 0,
            "gpu_memory_gb": None,
            "flags": [],
        },
        {
            "backend": "azure",
            "provider": "azure",
            "region": "us-east-1",
            "instance_type": "t4-nomem",
            "spot": False,
            "price": 0.5,
            "cpu": 8,
            "cpu_arch": "x86",
            "memory_gb": 32.0,
            "disk_gb": 50.0,
            "gpu_vendor": "nvidia",
            "gpu_name": "T4",
            "gpu_count": 1,
            "gpu_memory_gb": None,
            "flags": [],
        },
    ]


def test_offers_frame_holds_the_matching_rows_in_order() -> None:
    offers = find_offers(Requirements(min_gpu_count=1, max_price=2), make_catalog(ROWS), rows=True)
    assert list(offers.frame["instance_type"]) == by_price(A100, A800, NO_MEMORY)
    assert list(offers.frame["row_id"]) == sorted(offers.frame["row_id"])
    assert len(offers) == offers.total == 3


# --- many categories: the lookup-table and "all but a few" selections ----------------------------

MANY_NAMES = [f"GPU{i}" for i in range(14)]
MANY_ROWS = [
    {
        "instance_type": f"i{i}",
        "region": f"Region-{i}",
        "price": 1.0 + i,
        "gpu_count": 1,
        "gpu_name": name,
        "gpu_memory_gb": 16.0,
        "gpu_vendor": "nvidia",
    }
    for i, name in enumerate(MANY_NAMES)
] + [{"instance_type": "cpu", "region": "Region-0", "price": 0.5}]


@pytest.mark.parametrize("wanted", [7, 12, 14])  # a lookup table; all but two; every name
def test_many_wanted_names_select_exactly_those_rows(wanted: int) -> None:
    names = tuple(name.lower() for name in MANY_NAMES[:wanted])
    # The CPU row has no GPU name: it fails unless the GPU block is skipped.
    assert matched(Requirements(gpu_names=names), MANY_ROWS) == [f"i{i}" for i in range(wanted)]
    assert matched(Requirements(gpu_names=names, min_gpu_count=0), MANY_ROWS) == [
        "cpu",
        *(f"i{i}" for i in range(wanted)),
    ]


@pytest.mark.parametrize("wanted", [7, 12, 14])
def test_many_wanted_regions_select_exactly_those_rows(wanted: int) -> None:
    regions = tuple(f"REGION-{i}" for i in range(wanted))
    assert matched(Requirements(regions=regions), MANY_ROWS) == [
        "cpu",
        *(f"i{i}" for i in range(wanted)),
    ]


def test_rows_of_a_provider_gpuhunt_does_not_know_are_never_offered() -> None:
    """gpuhunt's provider=None means the providers it knows: a cudo.csv is never queried.

    Without this, such rows were offered under a made-up backend when no backend was named, and
    dropped when one was (``backends: [cudo]``): the same catalog answered differently.
    """
    catalog = make_catalog(
        [
            {"instance_type": "old", "provider": "cudo", "price": 0.1},
            {"instance_type": "m5", "provider": "aws", "price": 1.0},
        ]
    )
    offers = find_offers(Requirements(), catalog, rows=True)
    assert [r["instance_type"] for r in offers.records()] == ["m5"]
    providers = next(e for e in offers.exclusions if e.requirement == "providers")
    assert (providers.condition, providers.excluded) == ("provider known to gpuhunt (not cudo)", 1)
    assert (
        find_offers(Requirements(backends=("cudo",), providers=()), catalog, rows=True).total == 0
    )
    known_only = make_catalog([{"instance_type": "m5", "provider": "aws", "price": 1.0}])
    requirements = find_offers(Requirements(), known_only, rows=True).exclusions
    assert [e.requirement for e in requirements] == []  # no clause when every provider is known
