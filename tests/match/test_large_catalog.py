"""A catalog larger than one evaluation block: block boundaries and block skipping change nothing.

The matcher evaluates ``planner.match.masks.BLOCK_ROWS`` rows at a time and stops early in a block
once no row survives; here several blocks, some emptied early, are checked against the per-row
reference of the property test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_filter_property import reference_matches

from planner.catalog import Catalog
from planner.match import find_offers
from planner.match.masks import BLOCK_ROWS
from planner.requirements import Requirements

ROWS = 2 * BLOCK_ROWS + 1234
GPUS = [
    ("", ""),
    ("A100", "nvidia"),
    ("H100", "nvidia"),
    ("MI300X", "amd"),
    ("v5litepod-4", "google"),
]


@pytest.fixture(scope="module")
def catalog_and_rows() -> tuple[Catalog, list[dict[str, Any]]]:
    rng = np.random.default_rng(7)
    gpu_kind = rng.integers(0, len(GPUS), ROWS)
    gpu_count = np.where(gpu_kind == 0, 0, rng.choice([1, 2, 8], ROWS)).astype("int32")
    memory = np.where(gpu_kind == 0, np.nan, rng.choice([np.nan, 40.0, 80.0], ROWS))
    frame = pd.DataFrame(
        {
            "provider": pd.Categorical(rng.choice(["aws", "gcp", "lambdalabs"], ROWS)),
            "instance_type": pd.Categorical(rng.choice(["a", "B", "c"], ROWS)),
            "region": pd.Categorical(rng.choice(["us-east-1", "EU-WEST-1"], ROWS)),
            "price": np.round(rng.uniform(0.1, 40.0, ROWS), 2),
            "cpu": rng.integers(1, 64, ROWS).astype("int32"),
            "memory_gb": rng.choice([8.0, 32.0, 256.0], ROWS),
            "gpu_count": gpu_count,
            "gpu_name": pd.Categorical([GPUS[k][0] or None for k in gpu_kind]),
            "gpu_memory_gb": memory,
            "spot": rng.random(ROWS) < 0.3,
            "disk_gb": rng.choice([np.nan, 50.0, 500.0], ROWS),
            "gpu_vendor": pd.Categorical([GPUS[k][1] or None for k in gpu_kind]),
            "flags": pd.Categorical(rng.choice(["", "oci-spot", "gcp-g4-preview"], ROWS)),
            "cpu_arch": pd.Categorical(rng.choice(["x86", "arm"], ROWS, p=[0.9, 0.1])),
            "provider_data": pd.Categorical([""] * ROWS),
        }
    )
    catalog = Catalog.from_frame(frame)
    ordered = catalog.frame
    rows = [
        {
            **record,
            "gpu_name": None if pd.isna(record["gpu_name"]) else record["gpu_name"],
            "gpu_vendor": None if pd.isna(record["gpu_vendor"]) else record["gpu_vendor"],
            "gpu_memory_gb": None if pd.isna(record["gpu_memory_gb"]) else record["gpu_memory_gb"],
            "disk_gb": None if pd.isna(record["disk_gb"]) else record["disk_gb"],
        }
        for record in ordered.to_dict("records")
    ]
    return catalog, rows


@pytest.mark.parametrize(
    "requirements",
    [
        # The cheap half of the catalog only: later blocks empty out on the price clause.
        Requirements(max_price=10.0, min_gpu_count=1, gpu_names=("a100", "H100")),
        # The GPU block skipped for CPU-only rows, with narrow and wide clauses mixed.
        Requirements(
            min_gpu_count=0,
            gpu_vendor="nvidia",
            min_gpu_memory_gb=40,
            min_disk_gb=100,
            spot=False,
            cpu_arch="x86",
            allowed_flags=("oci-spot",),
        ),
        Requirements(min_compute_capability=(9, 0), regions=("eu-west-1",), instance_types=("b",)),
        Requirements(max_gpu_count=0, min_cpu=32, max_memory_gb=32, backends=("lambda", "gcp")),
    ],
)
def test_blocks_equal_the_per_row_reference(
    catalog_and_rows: tuple[Catalog, list[dict[str, Any]]], requirements: Requirements
) -> None:
    catalog, rows = catalog_and_rows
    expected = [row["row_id"] for row in rows if reference_matches(row, requirements)]
    offers = find_offers(requirements, catalog, rows=True)
    assert list(offers.frame["row_id"]) == expected
    assert offers.total == len(expected) > 0


def test_first_records_match_the_full_index_across_blocks(
    catalog_and_rows: tuple[Catalog, list[dict[str, Any]]],
) -> None:
    catalog, _ = catalog_and_rows
    # Matches only in the dearest rows: the first ones lie beyond the first scanned block.
    offers = find_offers(Requirements(min_price=39.9), catalog, rows=True)
    first = offers.records(7)
    full = find_offers(Requirements(min_price=39.9), catalog, rows=True)
    assert [r["price"] for r in first] == [r["price"] for r in full.records()[:7]]
    assert [r["price"] for r in offers.records(10**9)] == [r["price"] for r in full.records()]
    assert offers.records(0) == []
