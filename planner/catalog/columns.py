"""The offer table's columns: names, dtypes and meaning. The contract between loaders and matcher.

One row is one offer: an instance type, in one location, at one price, spot or on-demand.
String columns are pandas ``category`` (their ``.cat.codes`` are what the matcher compares);
numeric columns are numpy dtypes with ``NaN`` for "unknown" where the format allows empty values.

Row order: ascending ``price``, stable (equal prices keep load order: sources in the order given,
rows in file order). ``row_id`` is the row's position in that order and is the final tie-break.
"""

from __future__ import annotations

from typing import Final

# name -> dtype (as understood by pandas)
COLUMNS: Final[dict[str, str]] = {
    "provider": "category",  # gpuhunt provider name, lower-case: aws, gcp, lambdalabs, verda, ...
    "instance_type": "category",  # the catalog's instance_name
    "region": "category",  # the catalog's location (region or zone)
    "price": "float64",  # USD per hour for the whole instance
    "cpu": "int32",  # vCPUs
    "memory_gb": "float64",  # RAM, GB
    "gpu_count": "int32",  # 0: CPU-only
    "gpu_name": "category",  # canonical short name (H100, A100, v5litepod-8); NaN for CPU rows
    "gpu_memory_gb": "float64",  # per GPU (a TPU row: the whole slice); NaN when empty
    "spot": "bool",
    "disk_gb": "float64",  # NaN: not stated by the catalog (passes every disk bound)
    "gpu_vendor": "category",  # nvidia | amd | google | intel | tenstorrent; NaN for CPU rows
    "flags": "category",  # space-separated hide-by-default flags; "" when none
    "cpu_arch": "category",  # x86 | arm
    "provider_data": "category",  # JSON text, "" when none
}

# The row's position in the price-sorted table (int64): the last, deterministic tie-break.
ROW_ID: Final = "row_id"

# gpuhunt's CSV header (storage.CATALOG_V2_FIELDS), in order.
GPUHUNT_FIELDS: Final[tuple[str, ...]] = (
    "instance_name",
    "location",
    "price",
    "cpu",
    "memory",
    "gpu_count",
    "gpu_name",
    "gpu_memory",
    "spot",
    "disk_size",
    "gpu_vendor",
    "flags",
    "cpu_arch",
    "provider_data",
)

GPU_VENDORS: Final[tuple[str, ...]] = ("nvidia", "amd", "google", "intel", "tenstorrent")
CPU_ARCHS: Final[tuple[str, ...]] = ("x86", "arm")

# gpuhunt 0.1.34's provider lists (a name outside both is an error, as in gpuhunt).
OFFLINE_PROVIDERS: Final[tuple[str, ...]] = (
    "aws",
    "azure",
    "verda",
    "gcp",
    "lambdalabs",
    "nebius",
    "oci",
    "runpod",
    "cloudrift",
)
ONLINE_PROVIDERS: Final[tuple[str, ...]] = (
    "crusoe",
    "daytona",
    "digitalocean",
    "hotaisle",
    "jarvislabs",
    "lium",
    "seeweb",
    "vastai",
    "vultr",
)
# Providers whose catalog rows are individual marketplace listings: one row is one host, so it
# can be rented once (the planner gives each such row a capacity of 1 unless a capacity file
# says otherwise; docs/planning.md).
LISTING_PROVIDERS: Final[tuple[str, ...]] = ("vastai",)
