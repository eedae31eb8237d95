"""normalize(): defaults filled in, ranges explicit, GB and seconds, secrets redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from planner.config.models import ServiceConfiguration
from planner.config.normalize import normalize
from planner.config.normalized import (
    REDACTED,
    GBRange,
    IntRange,
    NormalizedCPU,
    NormalizedGPU,
    NormalizedModel,
    NormalizedPort,
    NormalizedRetry,
    NormalizedScaling,
    NormalizedService,
    NormalizedVolume,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = "type: service\nport: 8000\ncommands: [python serve.py]\n"


def normalized(text: str) -> NormalizedService:
    return normalize(ServiceConfiguration.model_validate(yaml.safe_load(text)))


def test_defaults_of_a_minimal_service() -> None:
    service = normalized(BASE)
    assert service.port == NormalizedPort(container_port=8000, local_port=80)
    assert service.replicas == IntRange(min=1, max=1)
    assert service.https is True and service.auth is True and service.gateway is None
    assert service.spot_policy == "on-demand"
    assert service.creation_policy == "reuse-or-create"
    assert service.idle_duration_seconds == 300
    assert service.max_duration_seconds is None
    assert service.retry is None and service.scaling is None and service.model is None
    assert service.resources.cpu == NormalizedCPU(arch=None, count=IntRange(min=2))
    assert service.resources.memory_gb == GBRange(min=8)
    assert service.resources.disk_gb == GBRange(min=100)
    assert service.resources.gpu == NormalizedGPU(count=IntRange(min=0))
    assert service.resources.shm_size_gb is None
    assert service.backends is None and service.regions is None and service.instance_types is None


def test_seed_example_normalized() -> None:
    service = normalize(
        ServiceConfiguration.model_validate(yaml.safe_load((EXAMPLES / "service.yml").read_text()))
    )
    assert service.image == "ghcr.io/huggingface/text-generation-inference:latest"
    assert service.env == {"MODEL_ID": "TheBloke/Llama-2-13B-chat-GPTQ"}
    # Seed rule: a GPU given without a count means exactly one GPU.
    assert service.resources.gpu == NormalizedGPU(
        count=IntRange(min=1, max=1), memory_gb=GBRange(min=80, max=80), count_defaulted=True
    )
    assert service.model is not None
    assert (service.model.format, service.model.prefix, service.model.eos_token) == (
        "tgi",
        None,
        "</s>",
    )
    assert service.model.chat_template is not None and service.model.chat_template.startswith(
        "{% if"
    )


@pytest.mark.parametrize(
    ("gpu", "expected"),
    [
        ("A100:80GB:2", NormalizedGPU(names=("A100",), count=IntRange(min=2, max=2), memory_gb=GBRange(min=80, max=80))),
        ("'24GB..:1..2'", NormalizedGPU(count=IntRange(min=1, max=2), memory_gb=GBRange(min=24))),
        ("tpu:v5p-1024", NormalizedGPU(vendor="google", names=("v5p-1024",), count=IntRange(min=1, max=1), count_defaulted=True)),
        ("tt:n300", NormalizedGPU(vendor="tenstorrent", names=("n300",), count=IntRange(min=1, max=1), count_defaulted=True)),
        ("0", NormalizedGPU(count=IntRange(min=0, max=0))),
        ("'..1TB'", NormalizedGPU(count=IntRange(min=1, max=1), memory_gb=GBRange(max=1024), count_defaulted=True)),
        (
            "{name: [H100, H200], count: 8.., total_memory: 640GB.., compute_capability: '9.0'}",
            NormalizedGPU(names=("H100", "H200"), count=IntRange(min=8), total_memory_gb=GBRange(min=640), compute_capability=(9, 0)),
        ),
    ],
)  # fmt: skip
def test_gpu_normalized(gpu: str, expected: NormalizedGPU) -> None:
    assert normalized(BASE + f"resources:\n  gpu: {gpu}\n").resources.gpu == expected


def test_resources_in_gb() -> None:
    resources = normalized(
        BASE + "resources:\n  cpu: arm:8\n  memory: 512MB..1TB\n  shm_size: 2048MB\n  disk: null\n"
    ).resources
    assert resources.cpu == NormalizedCPU(arch="arm", count=IntRange(min=8, max=8))
    assert resources.memory_gb == GBRange(min=0.5, max=1024)
    assert resources.shm_size_gb == 2.0
    assert resources.disk_gb is None


def test_setting_a_field_replaces_only_its_default() -> None:
    resources = normalized(BASE + "resources:\n  memory: ..80GB\n").resources
    assert resources.memory_gb == GBRange(max=80)
    assert resources.cpu.count == IntRange(min=2)


def test_model_shorthand_normalized() -> None:
    assert normalized(BASE + "model: m\n").model == NormalizedModel(
        name="m", format="openai", prefix="/v1"
    )


def test_replicas_and_scaling_in_seconds() -> None:
    service = normalized(
        BASE + "replicas: ..4\nscaling:\n  metric: rps\n  target: 2.5\n  scale_up_delay: 1m\n"
    )
    assert service.replicas == IntRange(min=0, max=4)
    assert service.scaling == NormalizedScaling(
        target=2.5, window_seconds=60, scale_up_delay_seconds=60, scale_down_delay_seconds=600
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("retry: true", NormalizedRetry(on_events=("no-capacity", "interruption", "error"), duration_seconds=3600)),
        ("retry: false", None),
        ("retry: {}", NormalizedRetry(on_events=("no-capacity", "interruption", "error"), duration_seconds=3600)),
        ("retry: {on_events: [error, error, interruption], duration: 1d}",
         NormalizedRetry(on_events=("error", "interruption"), duration_seconds=86400)),
    ],
)  # fmt: skip
def test_retry_expanded(text: str, expected: NormalizedRetry | None) -> None:
    assert normalized(BASE + text + "\n").retry == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("", 300),
        ("idle_duration: 1h", 3600),
        ("idle_duration: off", -1),
        ('idle_duration: "off"', -1),
        ("idle_duration: -60", -1),
        ("idle_duration: 0", 0),
        ("termination_policy: dont-destroy", -1),
        ("termination_policy: destroy-after-idle", 300),
        ("termination_idle_time: 30m", 1800),
        ("termination_policy: dont-destroy\ntermination_idle_time: 30m", -1),
        ("termination_policy: dont-destroy\nidle_duration: 10m", 600),
        ("termination_idle_time: 30m\nidle_duration: 10m", 600),
        ("termination_idle_time: 30m\nidle_duration: off", -1),
    ],
)
def test_idle_duration_with_deprecated_aliases(text: str, seconds: int) -> None:
    assert normalized(BASE + text + "\n").idle_duration_seconds == seconds


@pytest.mark.parametrize(
    ("text", "seconds"), [("off", None), ("false", None), ("2h", 7200), ("90", 90)]
)
def test_max_duration_seconds(text: str, seconds: int | None) -> None:
    assert normalized(BASE + f"max_duration: {text}\n").max_duration_seconds == seconds


def test_registry_password_is_always_redacted() -> None:
    service = normalized(BASE + "registry_auth:\n  username: bot\n  password: s3cr3t-token\n")
    assert service.registry_auth is not None
    assert service.registry_auth.username == "bot" and service.registry_auth.password == REDACTED
    assert "s3cr3t-token" not in service.model_dump_json()


def test_volumes_normalized() -> None:
    service = normalized(
        BASE + "volumes:\n  - data:/data/\n  - /mnt/a:/a\n  - {name: [x, y], path: /m}\n"
        "  - {instance_path: /nvme, path: /scratch, optional: true}\n"
    )
    assert service.volumes == (
        NormalizedVolume(kind="network", path="/data", names=("data",)),
        NormalizedVolume(kind="instance", path="/a", instance_path="/mnt/a"),
        NormalizedVolume(kind="network", path="/m", names=("x", "y")),
        NormalizedVolume(kind="instance", path="/scratch", instance_path="/nvme", optional=True),
    )


def test_profile_values_pass_through() -> None:
    service = normalized(
        BASE + "backends: [aws, lambda]\nregions: [US-East-1]\ninstance_types: [P5.48xlarge]\n"
        "reservation: cr-1\nspot_policy: spot\nmax_price: 3\ncreation_policy: reuse\n"
        "gateway: false\nhttps: auto\nauth: false\nenv: [A=1, B]\nuser: '1000:1000'\n"
    )
    assert service.backends == ("aws", "lambda")
    assert service.regions == ("US-East-1",) and service.instance_types == ("P5.48xlarge",)
    assert (service.reservation, service.spot_policy, service.max_price) == ("cr-1", "spot", 3.0)
    assert (service.creation_policy, service.gateway, service.https, service.auth) == (
        "reuse",
        False,
        "auto",
        False,
    )
    assert service.env == {"A": "1", "B": None} and service.user == "1000:1000"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yml")), ids=lambda path: path.name)
def test_examples_normalize_to_json_and_back(path: Path) -> None:
    service = normalize(ServiceConfiguration.model_validate(yaml.safe_load(path.read_text())))
    document = json.loads(service.model_dump_json())
    assert NormalizedService.model_validate(document) == service
    # Replicas are always explicit bounds: written (1..4, 2) or the seed's default of one.
    # With replica groups: the sum of the groups' counts (1 + 1..3 + 1..4).
    expected = {
        "autoscaled.yml": (1, 4),
        "spot-retry.yml": (2, 2),
        "probes-files-rate-limits.yml": (1, 2),
        "replica-groups.yml": (3, 8),
        "replica-groups-rps.yml": (2, 7),
    }.get(path.name, (1, 1))
    assert (document["replicas"]["min"], document["replicas"]["max"]) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", "/workflow"),
        ("working_dir: .\n", "/workflow"),
        ("working_dir: src/app/\n", "/workflow/src/app"),
        ("working_dir: a/../b\n", "/workflow/b"),
        ("working_dir: /opt/app\n", "/opt/app"),
    ],
)
def test_working_dir_resolved_against_the_repository_directory(line: str, expected: str) -> None:
    assert normalized(BASE + line).working_dir == expected
