"""A service without replica groups is one unnamed group carrying its replicas and scaling."""

from __future__ import annotations

from pathlib import Path

from planner.config import load_config
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
