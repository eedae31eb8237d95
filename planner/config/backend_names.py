"""dstack 0.22.5's backend names (BackendType values): the one list, shared by the configuration
model, the requirements and the matcher. Free of pydantic so the matcher can read it cheaply."""

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
