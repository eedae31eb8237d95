"""ServiceConfiguration validation: every property, its forms, and the errors located at fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from planner.config.models import (
    InstanceVolumeSpec,
    NetworkVolumeSpec,
    OpenAIChatModel,
    RegistryAuthSpec,
    RetrySpec,
    ServiceConfiguration,
    TGIChatModel,
)
from planner.config.normalized import GBRange, IntRange
from planner.config.schema import json_schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = "type: service\nport: 8000\ncommands: [python serve.py]\n"


def parse(text: str) -> ServiceConfiguration:
    return ServiceConfiguration.model_validate(yaml.safe_load(text))


def errors(text: str) -> dict[str, str]:
    """Field path → message of every validation error of ``text``."""
    with pytest.raises(ValidationError) as caught:
        parse(text)
    return {
        ".".join(str(part) for part in error["loc"]): error["msg"]
        for error in caught.value.errors()
    }


def single_error(text: str) -> tuple[str, str]:
    found = errors(text)
    assert len(found) == 1, found
    return next(iter(found.items()))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yml")), ids=lambda path: path.name)
def test_every_example_validates(path: Path) -> None:
    configuration = ServiceConfiguration.model_validate(yaml.safe_load(path.read_text()))
    assert configuration.type == "service"


def test_examples_are_all_present() -> None:
    names = {path.name for path in EXAMPLES.glob("*.yml")}
    assert names >= {
        "service.yml",
        "vllm-openai.yml",
        "cpu-only.yml",
        "autoscaled.yml",
        "spot-retry.yml",
        "reservation-volumes.yml",
    }


def test_service_example_is_dstacks_verbatim(fixtures_dir: Path) -> None:
    reference = (fixtures_dir / "dstack-docs" / "service-reference-chat-template.txt").read_text()
    assert (EXAMPLES / "service.yml").read_text().strip() in reference


# ----------------------------------------------------------------------------- root


def test_minimal_service() -> None:
    configuration = parse(BASE)
    assert configuration.port.container_port == 8000
    assert configuration.port.local_port == 80
    assert configuration.commands == ("python serve.py",)
    assert configuration.resources.gpu is None


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ("foo: 1\n", "foo", "Extra inputs are not permitted"),
        ("resources:\n  gpus: 1\n", "resources.gpus", "Extra inputs are not permitted"),
        ("resources:\n  gpu:\n    names: [A100]\n", "resources.gpu.names", "Extra inputs"),
        (
            "scaling:\n  metric: rps\n  target: 1\n  extra: 1\nreplicas: 0..2\n",
            "scaling.extra",
            "Extra",
        ),
        (
            "registry_auth:\n  username: u\n  password: p\n  token: t\n",
            "registry_auth.token",
            "Extra",
        ),
        ("retry:\n  on_events: [error]\n  limit: 3\n", "retry.limit", "Extra"),
    ],
)
def test_unknown_keys_are_rejected_at_every_level(extra: str, path: str, message: str) -> None:
    assert message in errors(BASE + extra)[path]


DSTACK_0225_KEYS = [
    "probes: []", "rate_limits: []", "stop_duration: 5m", "strip_prefix: false",
    "availability_zones: [us-east-1a]", "utilization_policy: {min_gpu_utilization: 5, time_window: 1h}",
    "schedule: {cron: '0 8 * * *'}", "fleets: [f, team/g]", "tags: {a: b}", "docker: true",
    "shell: bash", "repos: [.]", "files: [a.txt]", "priority: 50", "single_branch: false",
    "dstack: true", "instances: [i-1]", "backend_options: [{type: vastai, min_score: 5}]",
    "startup_order: master-first", "stop_criteria: master-done", "home_dir: /root", "setup: [x]",
]  # fmt: skip


@pytest.mark.parametrize("key", DSTACK_0225_KEYS)
def test_every_dstack_0225_key_is_read(key: str) -> None:
    name = key.split(":")[0]
    assert name in parse(BASE + key + "\n").model_fields_set


@pytest.mark.parametrize(
    ("key", "gist"),
    [("nodes: 2", "belongs to `type: task`"), ("ide: vscode", "`type: dev-environment`"),
     ("autoscale: true", "no key of the dstack 0.22.5 service format")],
)  # fmt: skip
def test_keys_dstack_0225_does_not_know_for_services_say_why(
    tmp_path: Path, key: str, gist: str
) -> None:
    from planner.config import load_config
    from planner.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(text=BASE + key + "\n")
    (problem,) = caught.value.problems
    assert problem.path == key.split(":")[0] and gist in problem.message


def test_new_keys_do_not_hide_other_problems() -> None:
    found = errors(BASE + "probes: [{}]\nfoo: 1\nresources:\n  memory: 80G\n  gpu: 'A100:'\n")
    assert set(found) == {"probes.0.type", "foo", "resources.memory", "resources.gpu"}
    assert found["foo"] == "Extra inputs are not permitted"


def test_type_must_be_service() -> None:
    assert "type" in errors("type: task\nport: 8000\ncommands: [x]\n")
    assert "type" in errors("port: 8000\ncommands: [x]\n")


def test_commands_or_image_required() -> None:
    path, message = single_error("type: service\nport: 8000\n")
    assert path == "commands" and message.startswith("either `commands` or `image` must be set")
    assert parse("type: service\nport: 8000\nimage: nginx\n").image == "nginx"


def test_image_and_python_are_exclusive() -> None:
    path, message = single_error(BASE + "image: x\npython: '3.11'\n")
    assert path == "python" and "mutually exclusive" in message


def test_image_and_nvcc_are_exclusive_as_the_seed_says() -> None:
    path, message = single_error(BASE + "image: x\nnvcc: true\n")
    assert path == "nvcc" and "mutually exclusive" in message
    assert parse(BASE + "python: '3.12'\nnvcc: true\n").nvcc is True


@pytest.mark.parametrize(
    ("text", "version"), [("3.10", "3.10"), ("'3.10'", "3.10"), ("3.9", "3.9"), ("3.12", "3.12")]
)
def test_python_versions(text: str, version: str) -> None:
    assert parse(BASE + f"python: {text}\n").python == version


def test_python_version_unsupported() -> None:
    path, message = single_error(BASE + "python: 2.7\n")
    assert path == "python" and "3.9" in message


# ----------------------------------------------------------------------------- port


@pytest.mark.parametrize(
    ("text", "local", "container"),
    [
        ("8000", 80, 8000),
        ("'8000'", 80, 8000),
        ("8080:8000", 8080, 8000),
        ("{local_port: 8080, container_port: 8000}", 8080, 8000),
        ("{container_port: 8000}", None, 8000),
    ],
)
def test_port_forms(text: str, local: int | None, container: int) -> None:
    port = parse(f"type: service\nport: {text}\ncommands: [x]\n").port
    assert (port.local_port, port.container_port) == (local, container)


@pytest.mark.parametrize("text", ["0", "-1", "65536", "'*:8000'", "{container_port: 0}", "http"])
def test_port_errors(text: str) -> None:
    assert next(iter(errors(f"type: service\nport: {text}\ncommands: [x]\n"))).startswith("port")


def test_port_is_required() -> None:
    assert errors("type: service\ncommands: [x]\n") == {"port": "Field required"}


# ----------------------------------------------------------------------------- gateway/https/auth


@pytest.mark.parametrize(
    ("text", "value"),
    [("false", False), ("true", True), ("gw", "gw"), ("main/gw", "main/gw")],
)
def test_gateway(text: str, value: Any) -> None:
    assert parse(BASE + f"gateway: {text}\n").gateway == value


def test_gateway_reference_errors() -> None:
    path, message = single_error(BASE + "gateway: a/b/c\n")
    assert path == "gateway" and "invalid entity reference" in message


@pytest.mark.parametrize(("text", "value"), [("false", False), ("auto", "auto"), ("true", True)])
def test_https(text: str, value: Any) -> None:
    assert parse(BASE + f"https: {text}\n").https == value


def test_auth_off_is_false_and_strings_are_not_booleans() -> None:
    assert parse(BASE + "auth: off\n").auth is False
    assert "auth" in errors(BASE + "auth: 'maybe'\n")


# ----------------------------------------------------------------------------- model


def test_model_string_shorthand_is_openai() -> None:
    model = parse(BASE + "model: meta-llama/Llama-3.1-8B\n").model
    assert model == OpenAIChatModel(name="meta-llama/Llama-3.1-8B", format="openai", prefix="/v1")


def test_model_openai_and_tgi_mappings() -> None:
    openai = parse(BASE + "model:\n  name: m\n  format: openai\n  prefix: /api/v1\n").model
    assert isinstance(openai, OpenAIChatModel) and openai.prefix == "/api/v1"
    tgi = parse(BASE + "model:\n  name: m\n  format: tgi\n  eos_token: '</s>'\n").model
    assert isinstance(tgi, TGIChatModel) and tgi.eos_token == "</s>"


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ("name: m\nformat: tgi\nprefix: /v1", "model.prefix", "Extra inputs"),
        ("name: m\nformat: openai\nchat_template: x", "model.chat_template", "Extra inputs"),
        ("name: m", "model.format", "`format` is required"),
        ("name: m\nformat: vllm", "model.format", "expected openai or tgi"),
        ("format: openai", "model.name", "Field required"),
        ("name: m\nformat: openai\ntype: completion", "model.type", "chat"),
    ],
)
def test_model_errors(body: str, path: str, message: str) -> None:
    indented = "".join(f"  {line}\n" for line in body.splitlines())
    assert message in errors(BASE + "model:\n" + indented)[path]


# ----------------------------------------------------------------------------- replicas/scaling

SCALING = "scaling:\n  metric: rps\n  target: 10\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", IntRange(min=2, max=2)),
        ("0", IntRange(min=0, max=0)),
        ("3..3", IntRange(min=3, max=3)),
    ],
)
def test_fixed_replicas(text: str, expected: IntRange) -> None:
    assert parse(BASE + f"replicas: {text}\n").replicas == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0..4", IntRange(min=0, max=4)), ("..4", IntRange(min=0, max=4)), ("1..8", IntRange(min=1, max=8)),
     ("{min: 2, max: 5}", IntRange(min=2, max=5))],
)  # fmt: skip
def test_replica_ranges_with_scaling(text: str, expected: IntRange) -> None:
    configuration = parse(BASE + f"replicas: {text}\n" + SCALING)
    assert configuration.replicas == expected
    assert configuration.scaling is not None and configuration.scaling.target == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2..", "maximum number of replicas is required"),
        ("-1..2", "greater than or equal to 0"),
        ("-1", "greater than or equal to 0"),
        ("4..1", "range order"),
        ("..", "empty range"),
    ],
)
def test_replica_errors(text: str, message: str) -> None:
    assert message in errors(BASE + f"replicas: '{text}'\n" + SCALING)["replicas"]


def test_replica_range_requires_scaling() -> None:
    # Located at `replicas`, the key that is written (`scaling` is not).
    path, message = single_error(BASE + "replicas: 1..4\n")
    assert path == "replicas" and "ensure to specify `scaling`" in message


@pytest.mark.parametrize("replicas", ["replicas: 2\n", "replicas: 3..3\n", ""])
def test_scaling_requires_a_replica_range(replicas: str) -> None:
    path, message = single_error(BASE + replicas + SCALING)
    assert path == "scaling" and "must be set to a range" in message


def test_scaling_fields() -> None:
    scaling = parse(
        BASE
        + "replicas: 0..2\n"
        + SCALING
        + "  window: 5m\n  scale_up_delay: 1m\n  scale_down_delay: 30\n"
    ).scaling
    assert scaling is not None
    assert (scaling.window, scaling.scale_up_delay, scaling.scale_down_delay) == (300, 60, 30)


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ("metric: rps\n  target: 0", "scaling.target", "greater than 0"),
        ("metric: rps\n  target: -1", "scaling.target", "greater than 0"),
        ("metric: cpu\n  target: 1", "scaling.metric", "rps"),
        ("target: 1", "scaling.metric", "Field required"),
        ("metric: rps", "scaling.target", "Field required"),
        ("metric: rps\n  target: 1\n  window: 45", "scaling.window", "30s, 1m, 5m"),
        ("metric: rps\n  target: 1\n  scale_up_delay: 1.5h", "scaling.scale_up_delay", "duration"),
    ],
)
def test_scaling_errors(body: str, path: str, message: str) -> None:
    assert message in errors(BASE + "replicas: 0..2\nscaling:\n  " + body + "\n")[path]


# ----------------------------------------------------------------------------- resources


def test_resource_defaults() -> None:
    resources = parse(BASE).resources
    assert resources.cpu.arch is None and resources.cpu.count == IntRange(min=2)
    assert resources.memory == GBRange(min=8)
    assert resources.disk is not None and resources.disk.size == GBRange(min=100)
    assert resources.gpu is None and resources.shm_size is None


@pytest.mark.parametrize(
    ("text", "arch", "count"),
    [
        ("8", None, IntRange(min=8, max=8)),
        ("2..", None, IntRange(min=2)),
        ("arm:8", "arm", IntRange(min=8, max=8)),
        ("8:arm", "arm", IntRange(min=8, max=8)),
        ("x86", "x86", IntRange(min=2)),
        ("{min: 4}", None, IntRange(min=4)),
        ("{min: 4, max: 16}", None, IntRange(min=4, max=16)),
        ("{}", None, IntRange(min=2)),
        ("{arch: ARM, count: 4..}", "arm", IntRange(min=4)),
    ],
)
def test_cpu_forms(text: str, arch: str | None, count: IntRange) -> None:
    cpu = parse(BASE + f"resources:\n  cpu: {text}\n").resources.cpu
    assert (cpu.arch, cpu.count) == (arch, count)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("'-1'", "invalid CPU architecture"),
        ("arm:x86", "arch conflict"),
        ("{arch: arm, min: 2}", "Extra inputs"),
        ("4..2", "range order"),
    ],
)
def test_cpu_errors(text: str, message: str) -> None:
    found = errors(BASE + f"resources:\n  cpu: {text}\n")
    assert any(message in found_message for found_message in found.values()), found
    assert all(path.startswith("resources.cpu") for path in found)


@pytest.mark.parametrize(
    ("text", "memory"),
    [("16GB..80GB", GBRange(min=16, max=80)), ("..80GB", GBRange(max=80)), ("64", GBRange(min=64, max=64)),
     ("1TB", GBRange(min=1024, max=1024)), ("512MB..", GBRange(min=0.5))],
)  # fmt: skip
def test_memory_forms(text: str, memory: GBRange) -> None:
    assert parse(BASE + f"resources:\n  memory: {text}\n").resources.memory == memory


def test_memory_error_is_located() -> None:
    path, message = single_error(BASE + "resources:\n  memory: 80G\n")
    assert path == "resources.memory" and "invalid memory size" in message


@pytest.mark.parametrize(
    ("text", "size"),
    [("200GB..", GBRange(min=200)), ("{size: 100GB..1TB}", GBRange(min=100, max=1024)), ("500", GBRange(min=500, max=500))],
)  # fmt: skip
def test_disk_forms(text: str, size: GBRange) -> None:
    disk = parse(BASE + f"resources:\n  disk: {text}\n").resources.disk
    assert disk is not None and disk.size == size


def test_disk_null_removes_the_requirement_and_size_is_required() -> None:
    assert parse(BASE + "resources:\n  disk: null\n").resources.disk is None
    assert "resources.disk.size" in errors(BASE + "resources:\n  disk: {}\n")


def test_shm_size_is_one_value() -> None:
    assert parse(BASE + "resources:\n  shm_size: 16GB\n").resources.shm_size == 16
    assert "resources.shm_size" in errors(BASE + "resources:\n  shm_size: 8GB..16GB\n")


@pytest.mark.parametrize(
    ("text", "vendor", "names", "count", "memory"),
    [
        ("A100", None, ("A100",), IntRange(min=1, max=1), None),
        ("80GB", None, None, IntRange(min=1, max=1), GBRange(min=80, max=80)),
        ("A100:80GB:2", None, ("A100",), IntRange(min=2, max=2), GBRange(min=80, max=80)),
        ("2:80GB:A100", None, ("A100",), IntRange(min=2, max=2), GBRange(min=80, max=80)),
        ("24GB..:1..2", None, None, IntRange(min=1, max=2), GBRange(min=24)),
        ("nvidia:2", "nvidia", None, IntRange(min=2, max=2), None),
        ("tpu:v5p-1024", "google", ("v5p-1024",), IntRange(min=1, max=1), None),
        ("tpu-v3-8", None, ("v3-8",), IntRange(min=1, max=1), None),
        ("TPU-v3-8", None, ("TPU-v3-8",), IntRange(min=1, max=1), None),
        ("2", None, None, IntRange(min=2, max=2), None),
        ("0", None, None, IntRange(min=0, max=0), None),
        ("tt:n150", "tenstorrent", ("n150",), IntRange(min=1, max=1), None),
        ("intel:Gaudi2:8", "intel", ("Gaudi2",), IntRange(min=8, max=8), None),
        ("'amd:MI300X:..4'", "amd", ("MI300X",), IntRange(max=4), None),
    ],
)
def test_gpu_string_forms(
    text: str,
    vendor: str | None,
    names: tuple[str, ...] | None,
    count: IntRange,
    memory: GBRange | None,
) -> None:
    gpu = parse(BASE + f"resources:\n  gpu: {text}\n").resources.gpu
    assert gpu is not None
    assert (gpu.vendor, gpu.name, gpu.count, gpu.memory) == (vendor, names, count, memory)


def test_gpu_object_form() -> None:
    gpu = parse(
        BASE
        + "resources:\n  gpu:\n    vendor: TPU\n    name: v5litepod-8\n    count: 1..\n"
        + "    memory: 16GB..\n    total_memory: ..128GB\n    compute_capability: 8.0\n"
    ).resources.gpu
    assert gpu is not None
    assert gpu.vendor == "google" and gpu.name == ("v5litepod-8",)
    assert gpu.count == IntRange(min=1) and gpu.memory == GBRange(min=16)
    assert gpu.total_memory == GBRange(max=128) and gpu.compute_capability == (8, 0)


def test_gpu_object_names_list_and_default_count() -> None:
    gpu = parse(BASE + "resources:\n  gpu:\n    name: [A10G, tpu-v2-8]\n").resources.gpu
    assert gpu is not None and gpu.name == ("A10G", "v2-8") and gpu.count == IntRange(min=1, max=1)


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("1.5", "resources.gpu", "whole GPU count"),
        ("'A100:'", "resources.gpu", "empty token"),
        ("A100,,H100", "resources.gpu", "name can not be empty"),
        ("'2..1'", "resources.gpu", "range order"),
        ("{vendor: qualcomm}", "resources.gpu.vendor", "unknown GPU vendor"),
        ("{compute_capability: '8'}", "resources.gpu.compute_capability", "MAJOR.MINOR"),
        ("{name: []}", "resources.gpu.name", "can not be empty"),
        ("{name: [A100, ' ']}", "resources.gpu.name.1", "GPU name can not be empty"),
        ("{name: [A100, true]}", "resources.gpu.name.1", "expected a GPU name (a string)"),
        ("{count: 1.5}", "resources.gpu.count", "integer"),
    ],
)
def test_gpu_errors(text: str, path: str, message: str) -> None:
    found = errors(BASE + f"resources:\n  gpu: {text}\n")
    assert message in found[path], found


def test_yaml_base60_gpu_is_a_count_not_silently_a_spec() -> None:
    # YAML 1.1 reads `gpu: 1:2` as 62; the model sees the integer (the loader warns about it).
    gpu = parse(BASE + "resources:\n  gpu: 1:2\n").resources.gpu
    assert gpu is not None and gpu.count == IntRange(min=62, max=62)


def test_gpu_null_means_default() -> None:
    assert parse(BASE + "resources:\n  gpu: null\n").resources.gpu is None


# ----------------------------------------------------------------------------- run properties


@pytest.mark.parametrize("text", ["ubuntu", "'1000:1000'", "root:root", "1000"])
def test_user(text: str) -> None:
    assert parse(BASE + f"user: {text}\n").user == str(yaml.safe_load(text))


@pytest.mark.parametrize("text", ["a:b:c", "':1000'", "'-1'"])
def test_user_errors(text: str) -> None:
    path, message = single_error(BASE + f"user: {text}\n")
    assert path == "user" and "invalid user format" in message


def test_working_dir_relative_to_repository_or_absolute() -> None:
    assert parse(BASE + "working_dir: /app\n").working_dir == "/app"
    assert parse(BASE + "working_dir: src/app\n").working_dir == "src/app"
    assert parse(BASE + "working_dir: .\n").working_dir == "."
    path, message = single_error(BASE + "working_dir: ../outside\n")
    assert path == "working_dir" and "leaves the repository directory" in message
    path, message = single_error(BASE + "working_dir: a/../../b\n")
    assert path == "working_dir" and "leaves the repository directory" in message


def test_env_forms() -> None:
    assert parse(BASE + "env:\n  - A=1\n  - B=\n  - HF_TOKEN\n").env == {
        "A": "1",
        "B": "",
        "HF_TOKEN": None,
    }
    assert parse(BASE + "env:\n  PORT: 8000\n  NAME: x\n").env == {"PORT": "8000", "NAME": "x"}


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("['A=1', 'A=2']", "env.1", "duplicate environment variable"),
        ("['B=1', '1A=x']", "env.1", "invalid environment variable name"),
        ("[A=1, 7]", "env.1", "expected a KEY=value string"),
        ("{A: null}", "env.A", "string or number"),
        ("{A: true}", "env.A", 'quote it: A: "true"'),
        ("{B-C: x}", "env.B-C", "invalid environment variable name"),
        ("A=1", "env", "env must be a mapping"),
    ],
)
def test_env_errors_sit_at_the_entry(text: str, path: str, message: str) -> None:
    found_path, found = single_error(BASE + f"env: {text}\n")
    assert found_path == path and message in found


def test_every_bad_env_entry_is_reported() -> None:
    found = errors(BASE + "env: [A=1, 1B=2, A=3, C]\n")
    assert set(found) == {"env.1", "env.2"}


def test_registry_auth_requires_both_fields() -> None:
    auth = parse(BASE + "registry_auth: {username: u, password: p}\n").registry_auth
    assert auth == RegistryAuthSpec(username="u", password="p")
    assert set(errors(BASE + "registry_auth: {username: u}\n")) == {"registry_auth.password"}


def test_numbers_reaching_string_fields_become_strings() -> None:
    configuration = parse(BASE + "entrypoint: 123\nreservation: 42\nregions: [1]\n")
    assert (configuration.entrypoint, configuration.reservation, configuration.regions) == (
        "123",
        "42",
        ("1",),
    )


@pytest.mark.parametrize("name", ["llama-chat", "ab", "a" + "b" * 40, "x86-h100-2"])
def test_run_names(name: str) -> None:
    assert parse(BASE + f"name: {name}\n").name == name


@pytest.mark.parametrize("name", ["My-Service", "a", "a" + "b" * 41, "1run", "my_run", "-x", "123"])
def test_run_names_the_server_would_refuse_are_rejected(name: str) -> None:
    path, message = single_error(BASE + f"name: '{name}'\n")
    assert path == "name" and "invalid run name" in message


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("gpu: '-1'", "resources.gpu.count"),
        ("gpu: {count: -2..}", "resources.gpu.count"),
        ("gpu: {memory: -8GB}", "resources.gpu.memory"),
        ("gpu: {total_memory: ..-1}", "resources.gpu.total_memory"),
        ("cpu: '-2..4'", "resources.cpu.count"),
        ("memory: -8GB", "resources.memory"),
        ("disk: -1..", "resources.disk.size"),
    ],
)
def test_negative_resource_amounts_are_rejected(text: str, path: str) -> None:
    # dstack accepts them and then silently matches nothing; here they are an error.
    assert "cannot be negative" in errors(BASE + f"resources:\n  {text}\n")[path]


def test_negative_shm_size_is_rejected() -> None:
    found = errors(BASE + "resources:\n  shm_size: -1\n")
    assert "greater than or equal to 0" in found["resources.shm_size"]


# ----------------------------------------------------------------------------- volumes


def test_volume_forms() -> None:
    volumes = parse(
        BASE
        + "volumes:\n"
        + "  - name: [v1, v2]\n    path: /data/\n"
        + "  - {name: v3, path: /a}\n"
        + "  - {instance_path: /mnt//x, path: /x, optional: true}\n"
        + "  - cache:/root/.cache\n"
        + "  - /host/logs:/logs\n"
    ).volumes
    assert volumes == (
        NetworkVolumeSpec(name=("v1", "v2"), path="/data"),
        NetworkVolumeSpec(name=("v3",), path="/a"),
        InstanceVolumeSpec(instance_path="/mnt/x", path="/x", optional=True),
        NetworkVolumeSpec(name=("cache",), path="/root/.cache"),
        InstanceVolumeSpec(instance_path="/host/logs", path="/logs"),
    )


@pytest.mark.parametrize(
    ("item", "path", "message"),
    [
        ("vol", "volumes.0", "invalid mount point format"),
        ("vol:data", "volumes.0", "must be absolute"),
        ("/a/../b:/data", "volumes.0", "`..` segments"),
        ("{name: v, path: data}", "volumes.0.path", "must be absolute"),
        ("{name: v}", "volumes.0.path", "Field required"),
        ("{instance_path: rel, path: /x}", "volumes.0.instance_path", "must be absolute"),
        ("{name: v, path: /x, optional: true}", "volumes.0.optional", "Extra inputs"),
        ("{name: [], path: /x}", "volumes.0.name", "can not be empty"),
        ("{name: [v, ''], path: /x}", "volumes.0.name.1", "can not be empty"),
        ("{name: [v, [w]], path: /x}", "volumes.0.name.1", "expected a volume name"),
    ],
)
def test_volume_errors(item: str, path: str, message: str) -> None:
    found = errors(BASE + f"volumes:\n  - {item}\n")
    assert message in found[path], found


# ----------------------------------------------------------------------------- profile keys


def test_profile_keys() -> None:
    configuration = parse(
        BASE
        + "backends: [aws, gcp, lambda]\nregions: [us-east-1]\ninstance_types: [p4d.24xlarge]\n"
        + "reservation: cr-123\nspot_policy: auto\nmax_price: '2.5'\ncreation_policy: reuse\n"
        + "max_duration: 2h\nidle_duration: off\n"
    )
    assert configuration.backends == ("aws", "gcp", "lambda")
    assert configuration.spot_policy == "auto" and configuration.max_price == 2.5
    assert configuration.max_duration == 7200 and configuration.idle_duration == -1


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("backends: [aws, nowhere]", "backends.1", "Input should be"),
        ("backends: aws", "backends", "tuple"),
        ("spot_policy: Spot", "spot_policy", "Input should be"),
        ("creation_policy: always", "creation_policy", "Input should be"),
        ("max_price: 0", "max_price", "greater than 0"),
        ("max_price: -1", "max_price", "greater than 0"),
        ("max_duration: -60", "max_duration", "cannot be negative"),
        ("max_duration: 1.5h", "max_duration", "duration"),
        ("idle_duration: 2H", "idle_duration", "duration"),
        ("termination_policy: never", "termination_policy", "Input should be"),
    ],
)
def test_profile_errors(text: str, path: str, message: str) -> None:
    found = errors(BASE + text + "\n")
    assert message in found[path], found


@pytest.mark.parametrize(
    ("text", "expected"),
    [("off", "off"), ("false", "off"), ("'off'", "off"), ("true", None), ("90", 90)],
)
def test_max_duration_off(text: str, expected: Any) -> None:
    assert parse(BASE + f"max_duration: {text}\n").max_duration == expected


def test_retry_forms() -> None:
    assert parse(BASE + "retry: true\n").retry is True
    assert parse(BASE + "retry: false\n").retry is False
    retry = parse(BASE + "retry:\n  on_events: [interruption]\n  duration: 4h\n").retry
    assert retry == RetrySpec(on_events=("interruption",), duration=14400)
    assert parse(BASE + "retry: {}\n").retry == RetrySpec()


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("{on_events: []}", "retry.on_events", "cannot be empty"),
        ("{on_events: [timeout]}", "retry.on_events.0", "Input should be"),
        ("{duration: -5}", "retry.duration", "cannot be negative"),
        ("{duration: 1.5h}", "retry.duration", "duration"),
        ("sometimes", "retry", "retry must be"),
    ],
)
def test_retry_errors(text: str, path: str, message: str) -> None:
    found = errors(BASE + f"retry: {text}\n")
    assert message in found[path], found


def test_disk_range_mapping_is_refused_by_the_model_and_the_schema_alike() -> None:
    # dstack reads `disk: {min: 100}` as a DiskSpec with unknown keys; `{size: {min: 100}}` is the form.
    validator = Draft202012Validator(json_schema())
    bad = yaml.safe_load(BASE + "resources:\n  disk: {min: 100}\n")
    good = yaml.safe_load(BASE + "resources:\n  disk: {size: {min: 100}}\n")
    assert "resources.disk.min" in errors(BASE + "resources:\n  disk: {min: 100}\n")
    assert not validator.is_valid(bad)
    assert validator.is_valid(good) and parse(BASE + "resources:\n  disk: {size: {min: 100}}\n")


# ------------------------------------------------- found by the dstack differential test
# Each input below was read differently by dstack 0.22.5 (tests/config/test_dstack_differential.py).


@pytest.mark.parametrize("backend", ["crusoe", "jarvislabs", "seeweb", "daytona", "lium", "slurm"])
def test_every_dstack_backend_is_accepted(backend: str) -> None:
    assert parse(BASE + f"backends: [{backend}]\n").backends == (backend,)


def test_a_backend_dstack_removed_is_refused() -> None:
    assert "backends.0" in errors(BASE + "backends: [local]\n")


@pytest.mark.parametrize("text", ["' 5m'", "'5m '", '"5\\tm"', "' off'", "'off '"])
def test_durations_take_no_space_around_the_unit_form(text: str) -> None:
    assert "max_duration" in errors(BASE + f"max_duration: {text}\n")


@pytest.mark.parametrize(("text", "seconds"), [("'1_0'", 10), ("' 90 '", 90), ("'+90'", 90)])
def test_durations_read_integer_text_as_python_int_does(text: str, seconds: int) -> None:
    assert parse(BASE + f"max_duration: {text}\n").max_duration == seconds


def test_env_null_is_refused() -> None:
    assert "env" in errors(BASE + "env:\n")


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("resources: {gpu: 'A100:\uff12'}", "resources.gpu"),
        ("resources: {cpu: '\uff12'}", "resources.cpu"),
        ("port: '\uff18\uff10'", "port"),
        ("port: ' 8080:8000'", "port"),
        ("python: ' 3.11'", "python"),
    ],
)
def test_text_dstack_refuses_is_refused(text: str, path: str) -> None:
    # Full-width digits, spaces around a LOCAL:CONTAINER port, a padded python version.
    port = "" if path == "port" else "port: 8000\n"
    assert path in errors(f"type: service\ncommands: [x]\n{port}{text}\n")


def test_integer_text_is_read_as_dstack_reads_it() -> None:
    configuration = parse(
        BASE + "replicas: '0..2.0'\nscaling: {metric: rps, target: 1}\n"
        "resources: {gpu: 'A100:2.0', cpu: {min: '1_0'}}\n"
    )
    assert configuration.replicas == IntRange(min=0, max=2)
    assert configuration.resources.gpu is not None
    assert configuration.resources.gpu.count == IntRange(min=2, max=2)
    assert configuration.resources.cpu.count == IntRange(min=10)


@pytest.mark.parametrize("port", ["8000.0", "'8000.0'", "'+8000'"])
def test_integral_ports_are_accepted(port: str) -> None:
    configuration = parse(BASE.replace("port: 8000", f"port: {port}"))
    assert configuration.port.container_port == 8000


def test_numbers_are_names_as_they_are_strings_elsewhere() -> None:
    configuration = parse(
        BASE + "resources: {gpu: {name: [4090, L4]}}\nvolumes: [{name: 1, path: /data}]\n"
    )
    assert configuration.resources.gpu is not None
    assert configuration.resources.gpu.name == ("4090", "L4")
    assert configuration.volumes[0] == NetworkVolumeSpec(name=("1",), path="/data")


def test_env_numbers_keep_the_text_dstack_gives_them() -> None:
    configuration = parse(BASE + "env: {RATIO: 2.0, BIG: 1e+20, PORT: 8080, F: 0.5}\n")
    assert configuration.env == {"RATIO": "2.0", "BIG": "1e+20", "PORT": "8080", "F": "0.5"}


def test_an_empty_image_is_no_image() -> None:
    # dstack: `image: ""` neither replaces `commands` nor excludes `python`.
    no_commands = "type: service\nport: 8000\nimage: ''\ncommands: []\n"
    assert "commands" in errors(no_commands)
    assert parse(BASE + "image: ''\npython: '3.11'\n").python == "3.11"


def test_a_padded_gpu_name_or_vendor_is_refused() -> None:
    # dstack keeps ' A100' (which then matches no GPU) and refuses ' nvidia '.
    assert (
        "surrounding spaces"
        in errors(BASE + "resources: {gpu: {name: ' A100'}}\n")["resources.gpu.name"]
    )
    assert "resources.gpu.name.1" in errors(BASE + "resources: {gpu: {name: [L4, 'A100 ']}}\n")
    assert "resources.gpu.vendor" in errors(BASE + "resources: {gpu: {vendor: ' nvidia '}}\n")
    gpu = parse(BASE + "resources: {gpu: ' A100 : 2 '}\n").resources.gpu  # spaces removed first
    assert gpu is not None and gpu.name == ("A100",)
