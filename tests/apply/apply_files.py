"""Real input files for the apply tests: a service, a gpuhunt catalog, a backends file, a scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATALOG_HEADER = (
    "instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot,disk_size,"
    "gpu_vendor,flags,cpu_arch,provider_data\n"
)
# (instance type, region, price, spot): three on-demand pools, cheapest first, and spot ones.
OFFERS = [
    ("m5.large", "us-east-1", "0.096", "False"),
    ("m5.large", "us-west-2", "0.100", "False"),
    ("m5.large", "eu-west-1", "0.110", "False"),
    ("m5.large", "us-east-1", "0.030", "True"),
    ("m5.large", "us-west-2", "0.035", "True"),
    ("m5.large", "eu-west-1", "0.040", "True"),
]


def write_inputs(
    directory: Path,
    *,
    replicas: int = 2,
    spot_policy: str = "on-demand",
    retry: str = "retry:\n  on_events: [no-capacity, error]\n  duration: 1h\n",
    scenario: str = "{}\n",
    backends: str | None = None,
) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    service = directory / "service.yml"
    service.write_text(
        "type: service\nname: web\nimage: python:3.12\ncommands: [python -m http.server]\n"
        f"port: 8000\nreplicas: {replicas}\nresources:\n  cpu: 2..\n"
        f"spot_policy: {spot_policy}\n{retry}"
    )
    catalog = directory / "aws.csv"
    catalog.write_text(
        CATALOG_HEADER + "".join(f"{n},{r},{p},2,8.0,0,,,{s},,,,x86,\n" for n, r, p, s in OFFERS)
    )
    (directory / "scenario.yml").write_text(scenario)
    backends_file = directory / "backends.yml"
    backends_file.write_text(
        backends
        or "backends:\n  sim:\n    type: simulated\n    provides: [aws]\n"
        "    scenario: scenario.yml\n    store: cloud.json\n"
    )
    return {
        "service": service,
        "catalog": catalog,
        "backends": backends_file,
        "state": directory / "state.json",
        "cloud": directory / "cloud.json",
    }


def apply_args(files: dict[str, Path], *extra: str) -> list[str]:
    return [
        "apply", str(files["service"]), "--backends", str(files["backends"]),
        "--catalog", str(files["catalog"]), "--state", str(files["state"]), "--time-limit", "5",
        *extra,
    ]  # fmt: skip


def cloud_instances(files: dict[str, Path]) -> list[dict[str, Any]]:
    """Every instance the simulated cloud holds (its store is the provider's truth)."""
    if not files["cloud"].exists():
        return []
    return list(json.loads(files["cloud"].read_text())["instances"].values())


def live_in_cloud(files: dict[str, Path]) -> list[dict[str, Any]]:
    return [item for item in cloud_instances(files) if item["state"] != "terminated"]


def state_records(files: dict[str, Path]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(files["state"].read_text())["records"]
    return records
