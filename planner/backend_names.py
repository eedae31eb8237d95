"""dstack 0.22.5's backend names (BackendType values): the one list, shared by the configuration
model and the matcher. A plain module so the matcher does not import pydantic to read it."""

from __future__ import annotations

from typing import Final

DSTACK_BACKENDS: Final[tuple[str, ...]] = (
    "amddevcloud",
    "aws",
    "azure",
    "cloudrift",
    "crusoe",
    "cudo",
    "datacrunch",
    "daytona",
    "digitalocean",
    "dstack",
    "gcp",
    "hotaisle",
    "jarvislabs",
    "kubernetes",
    "lambda",
    "lium",
    "remote",
    "nebius",
    "oci",
    "runpod",
    "seeweb",
    "tensordock",
    "vastai",
    "verda",
    "vultr",
    "slurm",
)
