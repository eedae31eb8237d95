"""`planner plan` end to end: real subprocess, real example files, the bundled catalog.

Assertions are about properties the planning spec promises (capacity types, spread, hedge,
reservation first, reuse only, filters honoured, scaling costs), cross-checked against the
library's own offer matcher where a number is involved, so a catalog refresh does not break them.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.config import load_config

SERVICE_HEADER = """type: service
image: vllm/vllm-openai:v0.6.3
commands: [vllm serve model]
port: 8000
"""


def _config(tmp_path: Path, body: str, name: str = "service.yml") -> Path:
    path = tmp_path / name
    path.write_text(SERVICE_HEADER + body)
    return path


def _plan_json(run_cli: Any, *args: str, expect: int = 0) -> dict[str, Any]:
    result = run_cli("plan", *args, "--format", "json")
    assert result.returncode == expect, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture(scope="module")
def catalog() -> Any:
    return planner.Catalog.load()


def test_all_on_demand_takes_the_cheapest_matching_offer(
    run_cli: Any, repo_dir: Path, catalog: Any
) -> None:
    path = repo_dir / "examples" / "vllm-openai.yml"
    document = _plan_json(run_cli, str(path))
    assert document["status"] == "optimal"
    assert document["replicas"] == {"min": 1, "max": 1}
    [placement] = document["placements"]
    assert placement["capacity_type"] == "on-demand" and placement["count"] == 1
    cheapest = planner.find_offers(load_config(path), catalog).records(1)[0]
    assert document["hourly_cost"] == pytest.approx(cheapest["price"])
    assert document["monthly_cost"] == pytest.approx(cheapest["price"] * 730)
    for key in ("backend", "region", "instance_type", "spot", "price", "gpu_name", "gpu_count"):
        assert key in placement["offer"]
    assert placement["fallbacks"] == []  # no retry configured: no fallback chain


def test_spot_with_interruption_retry_spreads_and_hedges(run_cli: Any, tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        """replicas: 4
resources:
  gpu: 24GB..80GB:1
spot_policy: spot
retry:
  on_events: [no-capacity, interruption]
""",
    )
    document = _plan_json(run_cli, str(path))
    assert document["status"] == "optimal"
    placements = document["placements"]
    assert all(p["capacity_type"] == "spot" for p in placements)
    # Default spread: at most half of the 4 replicas per failure domain.
    per_domain = Counter()
    for placement in placements:
        per_domain[placement["failure_domain"]] += placement["count"]
    assert len(per_domain) >= 2 and max(per_domain.values()) <= 2
    # Hedge: unknown spot pools are assumed 30%/month, so 4 / 0.7 → 6 replicas.
    assert document["planned_replicas"] == 6 and document["hedge_replicas"] == 2
    surviving = sum(p["count"] * (1 - p["interruption_rate"]) for p in placements)
    assert surviving >= 4 - 1e-9
    constraints = {
        item["constraint"]: item for item in document["explain"] if item["kind"] == "constraint"
    }
    assert constraints["availability_hedge"]["binding"] is True
    assert constraints["availability_hedge"]["saving_hourly"] > 0
    # Each placement has chains for both events; interruption moves to another failure domain.
    for placement in placements:
        events = {fallback["event"] for fallback in placement["fallbacks"]}
        assert events <= {"no-capacity", "interruption"}
        for fallback in placement["fallbacks"]:
            if fallback["event"] == "interruption":
                domain = "/".join(fallback[key] for key in ("provider", "region", "instance_type"))
                assert domain != placement["failure_domain"]
                assert fallback["spot"] is True  # spot_policy: spot never falls back to on-demand


def test_capacity_file_interruption_buckets_change_the_hedge(
    run_cli: Any, tmp_path: Path, repo_dir: Path
) -> None:
    path = _config(
        tmp_path,
        """replicas: 2
resources:
  gpu: L4:1
backends: [aws]
regions: [us-east-1, us-west-2, us-east-2]
spot_policy: spot
retry: true
""",
    )
    capacity = repo_dir / "examples" / "capacity.csv"
    document = _plan_json(run_cli, str(path), "--capacity", str(capacity))
    assert document["status"] == "optimal"
    for placement in document["placements"]:
        offer = placement["offer"]
        assert offer["backend"] == "aws" and offer["region"] in (
            "us-east-1",
            "us-west-2",
            "us-east-2",
        )
        if offer["instance_type"] == "g6.xlarge":
            expected = 0.15 if offer["region"] == "us-west-2" else 0.10
            assert placement["interruption_rate"] == expected
            assert placement["count"] <= (2 if offer["region"] == "us-west-2" else 4)
    # 2 / (1 - 0.10) → 3 replicas when the 5-10% pools carry the plan.
    assert document["planned_replicas"] == 3


def test_spot_policy_auto_mixes_with_an_on_demand_floor(run_cli: Any, tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        """replicas: 3
resources:
  gpu: 24GB..80GB:1
spot_policy: auto
""",
    )
    document = _plan_json(run_cli, str(path), "--on-demand-floor", "1")
    types = Counter(p["capacity_type"] for p in document["placements"])
    for p in document["placements"]:
        types[p["capacity_type"]] += p["count"] - 1
    assert types["on-demand"] == 1 and types["spot"] == 2
    assert document["settings"]["on_demand_floor"] == 1
    floor = next(
        item for item in document["explain"] if item.get("constraint") == "on_demand_floor"
    )
    assert floor["binding"] is True and floor["relaxed_hourly_cost"] < document["hourly_cost"]


def test_reservation_is_consumed_first(run_cli: Any, tmp_path: Path, repo_dir: Path) -> None:
    path = _config(
        tmp_path,
        """replicas: 3
resources:
  gpu: H100:8
backends: [aws]
regions: [us-east-1]
reservation: cr-0123456789abcdef0
""",
    )
    capacity = repo_dir / "examples" / "capacity.csv"
    document = _plan_json(run_cli, str(path), "--capacity", str(capacity))
    assert document["status"] == "optimal"
    reserved = [p for p in document["placements"] if p["capacity_type"] == "reserved"]
    others = [p for p in document["placements"] if p["capacity_type"] != "reserved"]
    assert len(reserved) == 1 and reserved[0]["count"] == 2
    assert reserved[0]["hourly_price"] == 31.464
    assert reserved[0]["offer"]["reservation"] == "cr-0123456789abcdef0"
    assert sum(p["count"] for p in others) == 1
    assert all(p["hourly_price"] > 31.464 for p in others)
    assert document["hourly_cost"] == pytest.approx(
        2 * 31.464 + sum(p["count"] * p["hourly_price"] for p in others)
    )


def test_creation_policy_reuse_uses_only_idle_inventory(
    run_cli: Any, tmp_path: Path, repo_dir: Path
) -> None:
    fleet = repo_dir / "examples" / "fleet.yml"
    body = """resources:
  gpu: A10G:1
  cpu: 4..
  memory: 16GB..
  disk: null
creation_policy: reuse
"""
    two = _config(tmp_path, "replicas: 2\n" + body, "two.yml")
    document = _plan_json(run_cli, str(two), "--fleet", str(fleet))
    assert document["status"] == "optimal"
    [placement] = document["placements"]
    assert placement["capacity_type"] == "existing" and placement["count"] == 2
    assert placement["offer"]["instance_type"] == "g5.xlarge"
    assert document["hourly_cost"] == pytest.approx(2 * 1.006)

    # Three replicas, two idle A10G instances: infeasible, and creation_policy is the reason.
    three = _config(tmp_path, "replicas: 3\n" + body, "three.yml")
    result = run_cli("plan", str(three), "--fleet", str(fleet), "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["status"] == "infeasible"
    assert document["infeasible_constraints"] == ["creation_policy"]
    assert "only 2 satisfy" in document["infeasible_reason"]

    # No inventory at all: infeasible with that reason, in every format.
    result = run_cli("plan", str(two))
    assert result.returncode == 1
    assert "no idle fleet instance satisfies the configuration" in result.stdout
    assert "infeasible" in result.stderr


def test_reuse_or_create_prefers_cheaper_idle_instances(
    run_cli: Any, tmp_path: Path, repo_dir: Path
) -> None:
    path = _config(
        tmp_path,
        """replicas: 2
resources:
  gpu: A10:1
  disk: null
backends: [lambda]
""",
    )
    document = _plan_json(run_cli, str(path), "--fleet", str(repo_dir / "examples" / "fleet.yml"))
    by_type = {p["capacity_type"]: p for p in document["placements"]}
    # The idle Lambda A10 costs what a new one costs; one replica reuses it, one is created.
    assert by_type["existing"]["count"] == 1
    assert by_type["on-demand"]["count"] == 1


def test_max_price_backends_and_regions_are_honoured(
    run_cli: Any, tmp_path: Path, catalog: Any
) -> None:
    path = _config(
        tmp_path,
        """replicas: 3
resources:
  gpu: 24GB..:1
backends: [aws, gcp]
regions: [us-east-1, us-central1-a, us-central1-b]
spot_policy: auto
max_price: 0.9
""",
    )
    document = _plan_json(run_cli, str(path))
    assert document["status"] == "optimal"
    for placement in document["placements"]:
        offer = placement["offer"]
        assert offer["backend"] in ("aws", "gcp")
        assert offer["region"] in ("us-east-1", "us-central1-a", "us-central1-b")
        assert offer["price"] <= 0.9
    exclusions = {item["reason"] for item in document["explain"] if item["kind"] == "exclusion"}
    assert "max_price" in exclusions
    # Three replicas, no retry: the cheapest matching offer repeated (no capacity limits).
    cheapest = planner.find_offers(load_config(path), catalog).records(1)[0]["price"]
    assert document["hourly_cost"] == pytest.approx(3 * cheapest)


def test_replica_range_reports_min_max_and_marginal_costs(
    run_cli: Any, repo_dir: Path, tmp_path: Path
) -> None:
    document = _plan_json(run_cli, str(repo_dir / "examples" / "autoscaled.yml"))
    assert document["replicas"] == {"min": 1, "max": 4}
    steps = document["scaling"]
    assert [step["replicas"] for step in steps] == [1, 2, 3, 4]
    assert document["cost_at_min"] == pytest.approx(steps[0]["hourly_cost"])
    assert document["cost_at_max"] == pytest.approx(steps[-1]["hourly_cost"])
    assert document["hourly_cost"] == pytest.approx(document["cost_at_min"])
    marginals = [step["marginal_hourly_cost"] for step in steps[1:]]
    assert steps[0]["marginal_hourly_cost"] is None
    assert sum(marginals) == pytest.approx(document["cost_at_max"] - document["cost_at_min"])
    assert all(m > 0 for m in marginals)

    # With capacity limits, later replicas cost more: marginal costs are non-decreasing.
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("backend,region,instance_type,spot,capacity\n*,*,*,*,1\n")
    limited = _plan_json(
        run_cli, str(repo_dir / "examples" / "autoscaled.yml"), "--capacity", str(capacity)
    )
    limited_marginals = [step["marginal_hourly_cost"] for step in limited["scaling"][1:]]
    assert limited_marginals == sorted(limited_marginals)
    assert len(limited["placements"]) == 1


def test_budget_makes_the_plan_infeasible_with_exit_1(run_cli: Any, repo_dir: Path) -> None:
    path = repo_dir / "examples" / "vllm-openai.yml"
    result = run_cli("plan", str(path), "--budget-hourly", "0.01")
    assert result.returncode == 1
    assert "budget" in result.stdout and "infeasible" in result.stdout


def test_markdown_and_table_formats(run_cli: Any, repo_dir: Path) -> None:
    path = repo_dir / "examples" / "spot-retry.yml"
    markdown = run_cli("plan", str(path), "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("## Replica plan")
    assert "| # | COUNT | CAPACITY |" in markdown.stdout
    assert "### Fallbacks" in markdown.stdout
    table = run_cli("plan", str(path), "--no-explain")
    assert table.returncode == 0
    assert "status: optimal" in table.stdout and "monthly cost (730 h)" in table.stdout
    assert "Constraints" not in table.stdout


def test_same_input_gives_the_same_plan(run_cli: Any, repo_dir: Path) -> None:
    path = repo_dir / "examples" / "spot-retry.yml"
    first = _plan_json(run_cli, str(path), "--no-explain")
    second = _plan_json(run_cli, str(path), "--no-explain")
    for document in (first, second):
        document.pop("solve_seconds")
    assert first == second


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fleet", "FLEET"), "fleet.yml:5: instances[0].price: must be a number"),
        (("--capacity", "CAPACITY"), "capacity.csv:2: capacity: must be an integer"),
        (("--availability-target", "1.5"), "expected a fraction in (0, 1]"),
        (("--max-per-domain", "0"), "expected a positive integer"),
        (("--time-limit", "-1"), "expected a positive number"),
    ],
)
def test_bad_inputs_exit_2_with_location(
    run_cli: Any, repo_dir: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(
        "instances:\n  - backend: aws\n    region: us-east-1\n    instance_type: g5.xlarge\n"
        "    price: lots\n    resources: {cpu: 4, memory_gb: 16, gpu_count: 0}\n"
    )
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("backend,capacity\naws,some\n")
    resolved = [
        str(fleet) if arg == "FLEET" else str(capacity) if arg == "CAPACITY" else arg
        for arg in args
    ]
    result = run_cli("plan", str(repo_dir / "examples" / "service.yml"), *resolved)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "example",
    sorted(
        path.name
        for path in (Path(__file__).parents[2] / "examples").glob("*.yml")
        if path.name != "fleet.yml"
    ),
)
def test_every_example_plans_on_the_bundled_catalog(
    run_cli: Any, repo_dir: Path, example: str
) -> None:
    args = ["plan", str(repo_dir / "examples" / example), "--no-explain"]
    if example.startswith("reservation"):
        args += ["--capacity", str(repo_dir / "examples" / "capacity.csv")]
    result = run_cli(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "status: optimal" in result.stdout
    cost_line = next(line for line in result.stdout.splitlines() if line.startswith("hourly cost"))
    assert math.isfinite(float(cost_line.split("$")[1].split()[0].replace(",", "")))
