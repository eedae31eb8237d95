"""`planner.report` as a library: what each service costs, which files count, and what is refused."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from report_files import EMBED, chat

import planner
from planner.cost_report import pricing
from planner.errors import ConfigError, InputError


def test_report_is_a_plain_function_exported_by_planner() -> None:
    from planner import Report, report

    assert inspect.isfunction(planner.report)
    assert report is planner.report
    assert report.__module__ == "planner.cost_report.build"
    assert Report is planner.cost_report.Report


def test_costs_per_service_and_total(
    services: Callable[..., Path], catalog: planner.Catalog
) -> None:
    root = services("repo", {"chat.yml": chat("1..3"), "embed.yml": EMBED})
    result = planner.report(root, catalog=catalog)
    chat_cost = result.service("chat.yml")
    # The cheapest L4 is $0.80 in us-east-1; a range is priced at min and at max.
    assert chat_cost.hourly_cost == Decimal("0.800000")
    assert chat_cost.monthly_cost == Decimal("584.000000")  # 0.80 × 730
    assert (chat_cost.cost_at_min, chat_cost.cost_at_max) == (Decimal("0.8"), Decimal("2.4"))
    assert (chat_cost.replicas_min, chat_cost.replicas_max) == (1, 3)
    [placement] = chat_cost.placements
    assert (placement.backend, placement.region, placement.instance_type) == (
        "aws",
        "us-east-1",
        "g6.xlarge",
    )
    assert (placement.capacity_type, placement.count) == ("on-demand", 1)
    assert result.service("embed.yml").hourly_cost == Decimal("0.2")
    assert result.total.hourly_cost == Decimal("1.000000")
    assert result.total.monthly_cost == Decimal("730.000000")
    assert result.passed and result.diff is None
    assert result.catalog.as_of == "2026-01-01"


def test_identical_requirements_are_planned_once(
    services: Callable[..., Path], catalog: planner.Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | None] = []
    real_plan = pricing.plan

    def counting_plan(service, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(service.name)
        return real_plan(service, *args, **kwargs)

    monkeypatch.setattr(pricing, "plan", counting_plan)
    # Three services of one shape (other names, ports, commands, env), and one other service.
    files = {
        f"team{i}/chat.yml": chat()
        .replace("name: chat", f"name: chat{i}")
        .replace("8000", f"80{i}")
        + f"commands: [serve --team {i}]\n"
        for i in range(3)
    }
    root = services("repo", {**files, "embed.yml": EMBED})
    result = planner.report(root, catalog=catalog)
    assert len(result.services) == 4
    assert len(calls) == 2
    assert {service.hourly_cost for service in result.services} == {
        Decimal("0.8"),
        Decimal("0.2"),
    }


def test_directory_skips_non_service_files_with_a_note(
    services: Callable[..., Path], catalog: planner.Catalog
) -> None:
    root = services(
        "repo",
        {
            "chat.yml": chat(),
            "fleet.yml": "instances: []\n",
            "task.yaml": "type: task\ncommands: [echo]\n",
            "README.md": "# services\n",
            ".hidden/broken.yml": "type: service\nport: [\n",
        },
    )
    result = planner.report(root, catalog=catalog)
    assert [service.key for service in result.services] == ["chat.yml"]
    reasons = {Path(item.file).name: item.reason for item in result.skipped}
    assert set(reasons) == {"fleet.yml", "task.yaml", "README.md"}
    assert "type: task" in reasons["task.yaml"]


def test_examples_directory_reports_and_skips_planning_inputs(repo_dir: Path) -> None:
    result = planner.report(repo_dir / "examples")
    keys = {service.key for service in result.services}
    assert keys == {path.name for path in (repo_dir / "examples").glob("*.yml")}
    skipped = {
        Path(item.file).relative_to(repo_dir / "examples").as_posix() for item in result.skipped
    }
    assert {"planning/fleet.yml", "planning/capacity.csv", "ci/github-cost-report.yml"} <= skipped
    assert not any(name.endswith(".yml") and "/" not in name for name in skipped)
    assert all(service.feasible for service in result.services)


def test_broken_service_file_is_an_error_naming_it(
    services: Callable[..., Path], catalog: planner.Catalog
) -> None:
    root = services("repo", {"chat.yml": chat(), "bad.yml": "type: service\nport: eighty\n"})
    with pytest.raises(ConfigError) as caught:
        planner.report(root, catalog=catalog)
    [problem] = [p for p in caught.value.problems if p.path == "port"]
    assert problem.file is not None and problem.file.endswith("bad.yml")
    assert problem.line == 2


def test_globs_key_services_relative_to_the_glob_base(
    services: Callable[..., Path], catalog: planner.Catalog
) -> None:
    root = services("repo", {"a/chat.yml": chat(), "b/embed.yml": EMBED, "b/notes.txt": "x"})
    result = planner.report(str(root / "*" / "*"), catalog=catalog)
    assert [service.key for service in result.services] == ["a/chat.yml", "b/embed.yml"]
    assert [Path(item.file).name for item in result.skipped] == ["notes.txt"]


def test_two_files_with_one_key_are_refused(
    services: Callable[..., Path], catalog: planner.Catalog
) -> None:
    one = services("one", {"chat.yml": chat()})
    two = services("two", {"chat.yml": chat()})
    with pytest.raises(InputError, match=r"two service files have the key 'chat\.yml'"):
        planner.report([one, two], catalog=catalog)


def test_missing_path_and_empty_glob_are_errors(tmp_path: Path, catalog: planner.Catalog) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        planner.report(tmp_path / "nowhere", catalog=catalog)
    with pytest.raises(InputError, match="matches no file"):
        planner.report(str(tmp_path / "*.yml"), catalog=catalog)


def test_infeasible_service_is_reported_and_fails_the_report(
    services: Callable[..., Path], catalog: planner.Catalog
) -> None:
    root = services("repo", {"big.yml": chat(gpu="H100"), "embed.yml": EMBED})
    result = planner.report(root, catalog=catalog)
    big = result.service("big.yml")
    assert big.status == "infeasible" and big.hourly_cost is None
    assert result.total.hourly_cost == Decimal("0.2") and result.total.infeasible == 1
    assert [(f.gate, f.service) for f in result.failures] == [("infeasible", "big.yml")]
    assert not result.passed


def test_config_hash_ignores_env_values_but_not_the_configuration() -> None:
    from planner.config import load_config

    base = load_config(text=chat()).normalized
    other_secret = load_config(text=chat().replace("SECRET_TOKEN", "OTHER")).normalized
    other_gpu = load_config(text=chat(gpu="A100")).normalized
    assert pricing.config_hash(base) == pricing.config_hash(other_secret)
    assert pricing.config_hash(base) != pricing.config_hash(other_gpu)


def test_bad_inputs_fail_before_the_catalog_is_loaded(
    services: Callable[..., Path], tmp_path: Path
) -> None:
    def no_catalog() -> planner.Catalog:
        raise AssertionError("the catalog was loaded before the inputs were checked")

    root = services("repo", {"chat.yml": chat()})
    bad_baseline = tmp_path / "baseline.json"
    bad_baseline.write_text("[]")
    with pytest.raises(InputError, match="not a planner cost report"):
        planner.report(root, catalog=no_catalog, baseline=bad_baseline)
    with pytest.raises(InputError, match="add --baseline"):
        planner.report(root, catalog=no_catalog, max_increase="5%")
    (root / "broken.yml").write_text("type: service\nport: [\n")
    with pytest.raises(ConfigError):
        planner.report(root, catalog=no_catalog)


def test_capacity_and_fleet_files_pass_through_to_every_plan(
    services: Callable[..., Path], catalog: planner.Catalog, tmp_path: Path
) -> None:
    root = services("repo", {"chat.yml": chat("2"), "embed.yml": EMBED})
    capacity = tmp_path / "capacity.csv"
    # Only one L4 can be had in us-east-1 ($0.80): the second replica goes to us-west-2 ($0.90).
    capacity.write_text(
        "backend,region,instance_type,spot,capacity,interruption,reservation,price\n"
        "aws,us-east-1,g6.xlarge,false,1,,,\n"
    )
    with_capacity = planner.report(root, catalog=catalog, capacity=capacity)
    assert with_capacity.service("chat.yml").hourly_cost == Decimal("1.7")
    fleet = tmp_path / "fleet.yml"
    # An idle instance that fits embed, at its own (lower) price.
    fleet.write_text(
        "instances:\n"
        "  - name: spare\n    backend: aws\n    region: us-east-1\n    instance_type: m5.xlarge\n"
        "    spot: false\n    price: 0.05\n    status: idle\n    count: 1\n"
        "    resources: {cpu: 4, memory_gb: 16, gpu_count: 0, cpu_arch: x86}\n"
    )
    with_fleet = planner.report(root, catalog=catalog, fleet=fleet)
    embed = with_fleet.service("embed.yml")
    assert embed.hourly_cost == Decimal("0.05")
    assert embed.placements[0].capacity_type == "existing"
