"""A service without replica groups is one unnamed group carrying its replicas and scaling."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.config import load_config
from planner.errors import ConfigError
from planner.requirements import group_requirements, requirements_from_config


def test_a_service_without_groups_is_one_group(tmp_path: Path) -> None:
    path = tmp_path / "service.yml"
    path.write_text(
        "type: service\nport: 8000\nimage: vllm/vllm-openai\ncommands: [serve]\n"
        "replicas: 1..4\nscaling: {metric: rps, target: 10}\nspot_policy: auto\n"
        "resources: {gpu: 24GB}\n"
    )
    config = load_config(path)
    (group,) = group_requirements(config)
    assert group.name is None
    assert (group.min_replicas, group.max_replicas) == (1, 4)
    assert group.scaling_metric == "rps" and group.scaling_target == 10
    assert group.spot_policy == "auto" and not group.fixed_count
    assert group.requirements == requirements_from_config(config)


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_one_group_requirements_per_replica_group() -> None:
    config = load_config(EXAMPLES / "replica-groups.yml")
    router, prefill, decode = group_requirements(config)
    assert [group.name for group in (router, prefill, decode)] == ["router", "prefill", "decode"]
    # The router group keeps its count; the workers scale on their own targets.
    assert router.fixed_count and (router.min_replicas, router.max_replicas) == (1, 1)
    assert router.requirements.max_gpu_count == 0 and router.requirements.min_cpu == 4
    assert not prefill.fixed_count and (prefill.min_replicas, prefill.max_replicas) == (1, 3)
    assert prefill.scaling_metric == "rps" and prefill.scaling_target == 20
    assert prefill.requirements.gpu_names == ("H100",)
    assert (prefill.requirements.min_gpu_count, prefill.requirements.max_gpu_count) == (1, 1)
    assert prefill.spot_policy == "on-demand" and prefill.requirements.spot is False
    assert decode.spot_policy == "auto" and decode.requirements.spot is None
    assert decode.requirements.min_gpu_memory_gb == 48
    # No group named: the first group's requirements, for callers that do not know groups.
    assert requirements_from_config(config) == router.requirements
    assert requirements_from_config(config, "decode") == decode.requirements


def test_groups_inherit_service_filters_and_narrow_by_their_own_features(tmp_path: Path) -> None:
    path = tmp_path / "service.yml"
    path.write_text(
        "type: service\nport: 8000\nbackends: [aws, gcp]\nregions: [us-east-1]\nmax_price: 9\n"
        "groups:\n"
        "  - {name: dind, count: 1, commands: [x], docker: true, resources: {gpu: 2}}\n"
        "  - {name: plain, count: 1, commands: [y], reservation: cr-1, resources: {gpu: 2}}\n"
    )
    dind, plain = group_requirements(load_config(path))
    for group in (dind, plain):
        assert group.requirements.backends == ("aws", "gcp")
        assert group.requirements.regions == ("us-east-1",)
        assert group.requirements.max_price == 9
    # Docker in Docker runs privileged, and its image is not the NVIDIA default: no vendor implied.
    assert dind.requirements.privileged and dind.requirements.gpu_vendor is None
    assert not plain.requirements.privileged and plain.requirements.gpu_vendor == "nvidia"
    assert plain.requirements.reservation == "cr-1" and dind.requirements.reservation is None


def test_an_image_rule_broken_in_a_group_is_located_in_that_group(tmp_path: Path) -> None:
    path = tmp_path / "service.yml"
    path.write_text(
        "type: service\nport: 8000\nreplicas:\n  - count: 1\n    commands: [x]\n"
        "  - count: 1\n    commands: [y]\n    resources: {gpu: MI300X}\n"
    )
    with pytest.raises(ConfigError) as caught:
        group_requirements(load_config(path))
    (problem,) = caught.value.problems
    assert problem.path == "replicas[1].resources.gpu" and problem.line == 8
    assert "`image` must be set" in problem.message


def test_an_unknown_group_name_is_refused() -> None:
    config = load_config(EXAMPLES / "replica-groups.yml")
    with pytest.raises(ConfigError, match="no replica group named 'nope'"):
        requirements_from_config(config, "nope")
