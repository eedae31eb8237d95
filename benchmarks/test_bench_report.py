"""``planner report`` over 200 service files on the bundled catalog.

The 200 files are 200 different services (name, commands, port, env) over 42 resource shapes
(7 GPUs or CPU-only × 3 replica settings × 2 spot policies), as a repository of many services on
a few instance shapes is: the report plans each shape once (cost_report/pricing.py, PlanCache).
Targets: <= 5 s for the library call on a loaded catalog, <= 8 s end to end as a subprocess
(interpreter start, imports, the 200 files read and validated, the catalog loaded, render).
Each distinct shape costs one plan (~25-60 ms on a shared 2-core machine).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import planner

TARGET_LIBRARY_S = 5.0
TARGET_CLI_S = 8.0
FILES = 200

GPUS = ("L4", "A10G", "A100", "H100", "RTX4090", "T4", None)
REPLICAS = ("1", "2", "1..3")
SPOT = ("on-demand", "auto")
SHAPES = len(GPUS) * len(REPLICAS) * len(SPOT)


def _service(index: int, gpu: str | None, replicas: str, spot: str) -> str:
    resources = f"  gpu: {gpu}\n" if gpu else "  cpu: 4..\n  memory: 16GB..\n"
    scaling = "scaling:\n  metric: rps\n  target: 10\n" if ".." in replicas else ""
    return (
        f"type: service\nname: svc-{index:03d}\nimage: python:3.12\nport: {8000 + index}\n"
        f"env:\n  - SERVICE_ID={index}\n"
        f"commands: [python -m http.server {8000 + index}]\nreplicas: {replicas}\n{scaling}"
        f"spot_policy: {spot}\nresources:\n{resources}"
    )


@pytest.fixture(scope="module")
def services_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("services")
    shapes = itertools.cycle(itertools.product(GPUS, REPLICAS, SPOT))
    for index in range(FILES):
        gpu, replicas, spot = next(shapes)
        team = root / f"team{index % 10}"
        team.mkdir(exist_ok=True)
        (team / f"svc-{index:03d}.yml").write_text(_service(index, gpu, replicas, spot))
    return root


def test_report_200_services_library(benchmark: Any, services_dir: Path) -> None:
    catalog = planner.Catalog.load()

    def run() -> planner.Report:
        return planner.report(services_dir, catalog=catalog)

    result = benchmark.pedantic(run, rounds=3, iterations=1)
    assert len(result.services) == FILES
    assert all(service.feasible for service in result.services)
    assert len({service.config_hash for service in result.services}) == FILES
    assert result.total.hourly_cost > 0
    median = benchmark.stats.stats.median
    assert median <= TARGET_LIBRARY_S, f"report over {FILES} files: {median:.2f} s"


def test_report_200_services_cli(benchmark: Any, services_dir: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PLANNER_CACHE_DIR=str(tmp_path / "cache"), NO_COLOR="1")
    args = [sys.executable, "-m", "planner", "report", str(services_dir), "--format", "json"]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)

    started = time.perf_counter()
    completed = benchmark.pedantic(run, rounds=3, iterations=1)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.count('"config_hash"') == FILES
    median = benchmark.stats.stats.median
    assert median <= TARGET_CLI_S, f"planner report over {FILES} files: {median:.2f} s"
    assert time.perf_counter() - started < 3 * TARGET_CLI_S + 30
