"""Replica groups (dstack 0.22.5): `groups:` or `replicas:` as a list, their rules, their
normalized view with what each group inherits from the service, and the CLI's located errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from planner.config import load_config
from planner.errors import ConfigError

HEAD = "type: service\nport: 8000\n"
TWO_GROUPS = """
  - name: prefill
    count: 1..3
    scaling: {metric: rps, target: 20}
    resources: {gpu: H100}
    commands: [prefill]
  - count: 2
    resources: {gpu: 48GB}
    spot_policy: auto
    commands: [decode]
"""


def problems(text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_config(text=text)
    return {problem.path or "": problem.message for problem in caught.value.problems}


@pytest.mark.parametrize("key", ["replicas", "groups"])
def test_both_spellings_give_the_same_groups(key: str) -> None:
    service = load_config(text=f"{HEAD}{key}:{TWO_GROUPS}").normalized
    assert service.groups is not None
    prefill, decode = service.groups
    assert (prefill.name, decode.name) == ("prefill", "1")  # an unnamed group: its position
    assert (prefill.replicas.min, prefill.replicas.max) == (1, 3)
    assert prefill.scaling is not None and prefill.scaling.target == 20
    assert prefill.resources.gpu.names == ("H100",)
    # The reference page's rule: a GPU without a count is exactly one.
    assert (prefill.resources.gpu.count.min, prefill.resources.gpu.count.max) == (1, 1)
    assert decode.resources.gpu.memory_gb is not None and decode.resources.gpu.memory_gb.min == 48
    assert (prefill.spot_policy, decode.spot_policy) == ("on-demand", "auto")
    assert decode.scaling is None and decode.commands == ("decode",)
    # The service's replica count is the sum of its groups'.
    assert (service.replicas.min, service.replicas.max) == (3, 5)


def test_groups_inherit_the_service_level_values_they_do_not_set() -> None:
    text = (
        f"{HEAD}image: lmsysorg/sglang\nspot_policy: spot\nreservation: r-1\nprivileged: true\n"
        "groups:\n  - {name: a, count: 1, commands: [x]}\n"
    )
    (group,) = load_config(text=text).normalized.groups or ()
    assert group.image == "lmsysorg/sglang"
    assert (group.spot_policy, group.reservation, group.privileged) == ("spot", "r-1", True)


def test_docker_in_a_group_runs_privileged() -> None:
    text = f"{HEAD}groups:\n  - {{count: 1, commands: [x], docker: true}}\n"
    (group,) = load_config(text=text).normalized.groups or ()
    assert group.docker is True and group.privileged is True


def test_router_type_and_its_former_name() -> None:
    text = (
        f"{HEAD}groups:\n  - {{name: r, count: 1, commands: [x], router: {{type: sglang}}}}\n"
        "  - {name: w, count: 1, commands: [y], router: null}\n"
    )
    router, worker = load_config(text=text).normalized.groups or ()
    assert router.router is not None and router.router.type == "smg"
    assert worker.router is None


def test_count_and_replicas_inside_a_group() -> None:
    text = f"{HEAD}groups:\n  - {{replicas: 2, commands: [x]}}\n"
    (group,) = load_config(text=text).normalized.groups or ()
    assert (group.replicas.min, group.replicas.max) == (2, 2)
    # As dstack 0.22.5: `replicas` wins and `count` is not read at all.
    both = f"{HEAD}groups:\n  - {{replicas: 2, count: nonsense, commands: [x]}}\n"
    (group,) = load_config(text=both).normalized.groups or ()
    assert group.replicas.max == 2


BAD = [
    ("replicas: []", "replicas", "cannot be an empty list"),
    ("groups: [{count: 1, commands: [a]}]\nreplicas: 2", "replicas", "mutually exclusive"),
    ("replicas: [{count: 1..2, commands: [a]}]", "replicas[0].count", "ensure to specify `scaling`"),
    ("replicas: [{count: 2, commands: [a], scaling: {metric: rps, target: 1}}]", "replicas[0].scaling", "must be set to a range"),
    ("replicas: [{commands: [a]}]", "replicas[0]", "needs `count`"),
    ("replicas: [{count: 2.., commands: [a], scaling: {metric: rps, target: 1}}]", "replicas[0].count", "maximum number of replicas is required"),
    ("replicas: [{count: 1}]", "replicas[0]", "either `commands` or `image`"),
    ("replicas: [{name: a, count: 1, commands: [x]}, {name: a, count: 1, commands: [y]}]", "replicas[1].name", "duplicate replica group name"),
    ("replicas: [{count: 1, commands: [x]}, {name: '0', count: 1, commands: [y]}]", "replicas[1].name", "duplicate replica group name"),
    ("replicas: [{name: Prefill, count: 1, commands: [x]}]", "replicas[0].name", "invalid replica group name"),
    ("replicas: [{count: 2, commands: [x], router: {}}]", "replicas[0].count", "exactly one replica"),
    ("replicas: [{count: 1, commands: [x], router: {}}, {count: 1, commands: [y], router: {}}]", "replicas[1].router", "at most one"),
    ("replicas: [{count: 1, commands: [x], router: {type: nginx}}]", "replicas[0].router.type", "smg"),
    ("replicas: [{count: 1, image: x, python: '3.11'}]", "replicas[0].python", "mutually exclusive within a replica group"),
    ("replicas: [{count: 1, image: x, docker: true}]", "replicas[0].docker", "mutually exclusive within a replica group"),
    ("replicas: [{count: 1, commands: [a], docker: true, privileged: false}]", "replicas[0].privileged", "incompatible with `docker: true`"),
    ("scaling: {metric: rps, target: 1}\nreplicas: [{count: 1, commands: [a]}]", "scaling", "top-level `scaling` is not allowed"),
    ("commands: [a]\nreplicas: [{count: 1, commands: [a]}]", "commands", "top-level `commands` is not allowed"),
    ("spot_policy: spot\ncommands: []\nreplicas: [{count: 1, commands: [a], spot_policy: auto}]", "replicas[0].spot_policy", "both the service level and"),
    ("image: x\nreplicas: [{count: 1, python: '3.11'}]", "replicas[0].python", "conflicts with group-level `python`"),
    ("docker: true\nreplicas: [{count: 1, commands: [a], nvcc: true}]", "replicas[0].nvcc", "conflicts with group-level `nvcc`"),
    ("replicas: [{count: 1, commands: [a], resources: {gpu: 'A100:'}}]", "replicas[0].resources.gpu", "empty token"),
    ("replicas: [{count: 1, commands: [a], foo: 1}]", "replicas[0].foo", "unknown field `foo`"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "path", "gist"), BAD, ids=[b for b, _, _ in BAD])
def test_group_rules(body: str, path: str, gist: str) -> None:
    found = problems(f"{HEAD}{body}\n")
    assert path in found, found
    assert gist in found[path]


def test_errors_are_located_at_the_key_the_file_wrote(
    tmp_path: Path, run_cli: Callable[..., CompletedProcess[str]]
) -> None:
    path = tmp_path / "service.yml"
    path.write_text(f"{HEAD}replicas:\n  - count: 1\n    commands: [a]\n  - count: x\n")
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert f"{path}:6:12: replicas[1].count: expected an integer" in result.stderr


def test_validate_json_shows_the_groups(
    tmp_path: Path, run_cli: Callable[..., CompletedProcess[str]]
) -> None:
    path = tmp_path / "service.yml"
    path.write_text(f"{HEAD}replicas:{TWO_GROUPS}")
    result = run_cli("validate", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    groups = json.loads(result.stdout)["normalized"]["groups"]
    assert [group["name"] for group in groups] == ["prefill", "1"]
    assert groups[0]["replicas"] == {"min": 1, "max": 3}
    assert groups[1]["spot_policy"] == "auto"


def test_count_beside_replicas_is_ignored_with_a_warning() -> None:
    loaded = load_config(text=f"{HEAD}groups:\n  - replicas: 1\n    count: 3\n    commands: [x]\n")
    (group,) = loaded.normalized.groups or ()
    assert group.replicas.max == 1
    (warning,) = loaded.warnings
    assert warning.path == "groups[0].count" and warning.line == 5
    assert "`count` is ignored" in warning.message
