"""Why-not exclusions and ``--group-by`` aggregation, through ``find_offers``/``Offers``."""

from __future__ import annotations

from typing import Any

import pytest
from match_catalogs import make_catalog

from planner.errors import InputError
from planner.match import find_offers
from planner.render.offers import exclusion_sentence
from planner.requirements import Requirements

ROWS: list[dict[str, Any]] = [
    {"instance_type": "cpu", "price": 0.2},
    {
        "instance_type": "a10g-spot",
        "price": 0.45,
        "spot": True,
        "gpu_count": 1,
        "gpu_name": "A10G",
        "gpu_memory_gb": 24.0,
        "gpu_vendor": "nvidia",
    },
    {
        "instance_type": "a10g",
        "price": 1.2,
        "gpu_count": 1,
        "gpu_name": "A10G",
        "gpu_memory_gb": 24.0,
        "gpu_vendor": "nvidia",
    },
    {
        "instance_type": "a10g-big",  # same GPU config, dearer: dstack keeps the cheaper one
        "price": 2.0,
        "cpu": 32,
        "gpu_count": 1,
        "gpu_name": "A10G",
        "gpu_memory_gb": 24.0,
        "gpu_vendor": "nvidia",
    },
    {
        "instance_type": "a10g-x4",
        "price": 5.6,
        "region": "eu-west-1",
        "gpu_count": 4,
        "gpu_name": "A10G",
        "gpu_memory_gb": 24.0,
        "gpu_vendor": "nvidia",
    },
    {
        "instance_type": "h100",
        "provider": "lambdalabs",
        "region": "us-west-1",
        "price": 2.49,
        "gpu_count": 1,
        "gpu_name": "H100",
        "gpu_memory_gb": 80.0,
        "gpu_vendor": "nvidia",
    },
    {
        "instance_type": "h100-gcp",
        "provider": "gcp",
        "region": "us-central1",
        "price": 3.0,
        "gpu_count": 1,
        "gpu_name": "H100",
        "gpu_memory_gb": 80.0,
        "gpu_vendor": "nvidia",
    },
]


def exclusions_of(requirements: Requirements) -> dict[str, Any]:
    offers = find_offers(requirements, make_catalog(ROWS), rows=True)
    return {exclusion.requirement: exclusion for exclusion in offers.exclusions}


def test_each_requirement_counts_what_it_excluded_and_the_cheapest() -> None:
    found = exclusions_of(Requirements(max_price=2.0, min_gpu_count=1, spot=False))
    assert list(found) == ["price", "spot", "gpu_count"]
    assert (found["price"].excluded, found["price"].cheapest_excluded_price) == (3, 2.49)
    assert (found["spot"].excluded, found["spot"].cheapest_excluded_price) == (1, 0.45)
    assert (found["gpu_count"].excluded, found["gpu_count"].cheapest_excluded_price) == (1, 0.2)


def test_near_misses_fail_only_that_requirement() -> None:
    found = exclusions_of(Requirements(max_price=1.0, gpu_names=("H100",)))
    # Rows failing only max_price: the two H100 rows; the cheapest is $2.49.
    assert (found["price"].only_this, found["price"].cheapest_only_this_price) == (2, 2.49)
    # Rows failing only gpu_names: the cpu row and the A10G spot row, both within $1.
    assert (found["gpu_names"].only_this, found["gpu_names"].cheapest_only_this_price) == (
        2,
        0.2,
    )
    assert exclusion_sentence(found["price"]) == (
        "price ≤ $1: excluded 5 offers; the cheapest was $1.2/h; "
        "2 fail only this requirement (cheapest $2.49/h)"
    )


def test_gpu_block_skip_is_reflected_in_exclusions() -> None:
    found = exclusions_of(Requirements(gpu_names=("H100",), min_gpu_count=0))
    # The CPU-only row passes the skipped GPU block; every A10G row is excluded by the name.
    assert found["gpu_names"].excluded == 4
    assert found["gpu_names"].cheapest_excluded_price == 0.45


def test_no_requirements_no_exclusions() -> None:
    assert find_offers(Requirements(), make_catalog(ROWS), rows=True).exclusions == ()


# Every Requirements field, a value that sets it, and the requirement why-not reports it under.
EACH_FIELD: dict[str, tuple[Any, str, str]] = {
    "providers": (("aws",), "providers", "provider in [aws]"),
    "cpu_arch": ("ARM", "cpu_arch", "cpu arch arm"),
    "min_cpu": (4, "cpu", "cpus ≥ 4"),
    "max_cpu": (4, "cpu", "cpus ≤ 4"),
    "min_memory_gb": (16.0, "memory", "memory ≥ 16GB"),
    "max_memory_gb": (16.0, "memory", "memory ≤ 16GB"),
    "min_gpu_count": (1, "gpu_count", "gpu count ≥ 1"),
    "max_gpu_count": (1, "gpu_count", "gpu count ≤ 1"),
    "gpu_vendor": ("AMD", "gpu_vendor", "gpu vendor amd"),
    "gpu_names": (("A10G", "h100"), "gpu_names", "gpu name in [A10G, h100]"),
    "min_gpu_memory_gb": (24.0, "gpu_memory", "gpu memory ≥ 24GB"),
    "max_gpu_memory_gb": (24.0, "gpu_memory", "gpu memory ≤ 24GB"),
    "min_total_gpu_memory_gb": (48.0, "total_gpu_memory", "total gpu memory ≥ 48GB"),
    "max_total_gpu_memory_gb": (48.0, "total_gpu_memory", "total gpu memory ≤ 48GB"),
    "min_disk_gb": (100.0, "disk", "disk ≥ 100GB (when stated)"),
    "max_disk_gb": (100.0, "disk", "disk ≤ 100GB (when stated)"),
    "min_price": (1.5, "price", "price ≥ $1.5"),
    "max_price": (1.5, "price", "price ≤ $1.5"),
    "min_compute_capability": ("8.6", "compute_capability", "compute capability ≥ 8.6"),
    "max_compute_capability": ([8, 0], "compute_capability", "compute capability ≤ 8.0"),
    "spot": (True, "spot", "spot"),
    "allowed_flags": ((), "flags", "flags within []"),
    "backends": (("lambda",), "backends", "backend in [lambda]"),
    "regions": (("us-east-1",), "regions", "region in [us-east-1]"),
    "instance_types": (("cpu",), "instance_types", "instance type in [cpu]"),
    "reservation": ("r-1", "reservation", "reservation 'r-1' (backends [aws, gcp] only)"),
    "privileged": (True, "privileged", "privileged (backends [aws, azure, cloudrift, "),
    "instance_volumes": (True, "instance_volumes", "instance volumes (backends [aws, azure, "),
}


def test_every_requirement_field_is_one_why_not_requirement() -> None:
    # A field added to Requirements without a clause (or a clause without its text) fails here.
    assert set(EACH_FIELD) == set(Requirements.__dataclass_fields__)
    catalog = make_catalog(ROWS)
    for field, (value, name, condition) in EACH_FIELD.items():
        exclusions = find_offers(Requirements(**{field: value}), catalog, rows=True).exclusions
        assert [exclusion.requirement for exclusion in exclusions] == [name], field
        assert exclusions[0].condition.startswith(condition), (field, exclusions[0].condition)


def grouped(keys: str, **requirements: Any) -> list[dict[str, Any]]:
    return find_offers(Requirements(**requirements), make_catalog(ROWS), rows=True).grouped(keys)


def test_group_by_gpu_aggregates_per_gpu_price_over_cheapest_configs() -> None:
    groups = grouped("gpu")
    assert [(g["name"], g["count"], g["backends"]) for g in groups] == [
        ("A10G", {"min": 1, "max": 4}, ["aws"]),
        ("H100", {"min": 1, "max": 1}, ["lambda", "gcp"]),
    ]
    a10g = groups[0]
    assert a10g["spot"] == ["spot", "on-demand"]
    # Per GPU: 0.45 (spot x1), 1.2 (x1; the $2 twin of the same config is not counted), 5.6/4.
    assert a10g["price"] == {"min": 0.45, "max": 1.4}
    assert a10g["offer_price"] == {"min": 0.45, "max": 5.6}
    assert a10g["memory_gb"] == 24.0 and a10g["vendor"] == "nvidia"


def test_group_by_gpu_backend_region_count() -> None:
    groups = grouped("gpu,backend,region,count", spot=False)
    keys = [(g["name"], g["backend"], g["region"], g["count"]["min"]) for g in groups]
    assert keys == [
        ("A10G", "aws", "us-east-1", 1),
        ("A10G", "aws", "eu-west-1", 4),
        ("H100", "lambda", "us-west-1", 1),
        ("H100", "gcp", "us-central1", 1),
    ]


def test_group_by_gpu_backend_lists_all_regions_of_the_backend() -> None:
    groups = grouped("gpu,backend")
    aws = next(group for group in groups if group["backend"] == "aws")
    assert aws["regions"] == ["eu-west-1", "us-east-1"]
    assert aws["region"] is None and aws["backends"] is None


def test_cpu_only_requirements_give_cpu_groups() -> None:
    groups = grouped("gpu,backend", max_gpu_count=0)
    assert groups == [
        {
            "cpu_arch": ["x86"],
            "count": {"min": 8, "max": 8},
            "memory_gb": {"min": 32.0, "max": 32.0},
            "price": {"min": 0.2, "max": 0.2},
            "spot": ["on-demand"],
            "backend": "aws",
            "backends": None,
            "region": None,
            "regions": ["us-east-1"],
        }
    ]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("backend", "without also grouping by 'gpu'"),
        ("gpu,region", "'region' without also grouping by 'backend'"),
        ("gpu,zone", "invalid value 'zone'"),
    ],
)
def test_invalid_group_by(keys: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        grouped(keys)


def test_why_not_prices_keep_every_digit_the_table_shows() -> None:
    """Was ``$3.67339`` for a $3.673385 offer and ``price ≤ $123457`` for a bound (``%g``: six
    digits, and an exponent from a million on: ``$1e+06`` for the dearest offer a catalog may hold,
    row_rules.MAX_PRICE_PER_HOUR)."""
    catalog = make_catalog(
        [
            {"instance_type": "a", "price": 3.673385},
            {"instance_type": "b", "price": 999_999.25},
        ]
    )
    offers = find_offers(Requirements(max_price=123_456.75, max_cpu=4), catalog, rows=True)
    price = next(e for e in offers.exclusions if e.requirement == "price")
    assert price.condition == "price ≤ $123456.75"
    assert exclusion_sentence(price) == (
        "price ≤ $123456.75: excluded 1 offer; the cheapest was $999999.25/h"
    )
    cpu = next(e for e in offers.exclusions if e.requirement == "cpu")
    assert exclusion_sentence(cpu) == (
        "cpus ≤ 4: excluded 2 offers; the cheapest was $3.673385/h; "
        "1 fail only this requirement (cheapest $3.673385/h)"
    )


def test_why_not_text_counts_one_offer_in_the_singular() -> None:
    from planner.render.offers import why_not_text

    offers = find_offers(Requirements(max_cpu=4), make_catalog([{"instance_type": "a"}]), rows=True)
    assert why_not_text(offers).splitlines()[0] == (
        "no offer matches all requirements (1 offer in the catalog):"
    )
