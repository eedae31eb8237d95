"""json_schema(): a draft 2020-12 schema generated from the models, agreeing with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from planner.config.models import ServiceConfiguration
from planner.config.schema import json_schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = "type: service\nport: 8000\ncommands: [python serve.py]\n"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def models_accept(document: Any) -> bool:
    try:
        ServiceConfiguration.model_validate(document)
    except ValidationError:
        return False
    return True


def test_schema_declares_draft_2020_12() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["required"]) == {"type", "port"}


def test_every_seed_root_property_is_described() -> None:
    properties = json_schema()["properties"]
    seed_keys = {
        "type", "port", "gateway", "model", "https", "auth", "replicas", "scaling", "name",
        "image", "user", "privileged", "entrypoint", "working_dir", "registry_auth", "python",
        "nvcc", "env", "resources", "volumes", "commands", "backends", "regions",
        "instance_types", "reservation", "spot_policy", "retry", "max_duration", "max_price",
        "creation_policy", "idle_duration", "termination_policy", "termination_idle_time",
    }  # fmt: skip
    assert seed_keys <= set(properties)
    assert properties["termination_policy"]["deprecated"] is True


def test_every_property_at_every_level_has_a_description() -> None:
    schema = json_schema()
    objects = [("", schema), *((f"$defs.{name}", d) for name, d in schema["$defs"].items())]
    missing = [
        f"{where}.{key}"
        for where, definition in objects
        for key, prop in definition.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert not missing


def test_every_nested_object_forbids_unknown_keys() -> None:
    for name, definition in json_schema()["$defs"].items():
        assert definition.get("additionalProperties") is False, name


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yml")), ids=lambda path: path.name)
def test_schema_accepts_every_example(validator: Draft202012Validator, path: Path) -> None:
    assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []


VALID = [
    "port: '8080:8000'",
    "port: {local_port: 8080, container_port: 8000}",
    "resources: {gpu: 'A100:80GB:2', cpu: 'arm:8', memory: ..80GB, disk: 100GB..}",
    "resources: {gpu: 2, cpu: {min: 4}, memory: 64, disk: {size: 1TB..}}",
    "resources: {gpu: {vendor: tpu, name: v5litepod-8, compute_capability: 8.0}}",
    "resources: {gpu: {name: [A10G, L4], count: 1..2, memory: 24GB.., compute_capability: '8.6'}}",
    "resources: {gpu: 'tt:n150', cpu: 8:x86, shm_size: 16GB}",
    "resources: {disk: null, gpu: null}",
    "replicas: 0..4\nscaling: {metric: rps, target: 1.5, window: 1m, scale_up_delay: 5m}",
    "replicas: {min: 1, max: 3}\nscaling: {metric: rps, target: 10}",
    "model: meta-llama/Llama-3.1-8B",
    "model: {name: m, format: tgi, chat_template: x, eos_token: y}",
    "resources: {gpu: {vendor: NVIDIA, name: H100}}",
    "volumes: [{name: v, path: /data}]",
    "env: [A=1, B=, C]",
    "env: {A: 1, B: x}",
    "volumes: [data:/data, /host:/c, {name: [a, b], path: /m}, {instance_path: /i, path: /p, optional: true}]",
    "retry: true",
    "retry: {on_events: [no-capacity], duration: 2h}",
    "max_duration: off",
    "max_duration: 'off'",
    "idle_duration: -1",
    "idle_duration: 1h",
    "termination_policy: dont-destroy\ntermination_idle_time: 30m",
    "gateway: false",
    "gateway: main/gw",
    "https: auto",
    "python: '3.10'\nnvcc: true",
    "backends: [aws, lambda]\nspot_policy: auto\nmax_price: 2.5\ncreation_policy: reuse",
]


@pytest.mark.parametrize("extra", VALID)
def test_schema_and_models_accept_valid_documents(
    validator: Draft202012Validator, extra: str
) -> None:
    document = yaml.safe_load(BASE + extra + "\n")
    assert models_accept(document)
    assert [error.message for error in validator.iter_errors(document)] == []


INVALID = [
    "unknown_key: 1",
    "docker: true\nimage: x",
    "probes: [{type: tcp}]",
    "port: 0",
    "port: 65536",
    "port: '*:8000'",
    "resources: {cpu: '-1'}",
    "resources: {cpu: 'arm:x86'}",
    "resources: {memory: 80G}",
    "resources: {memory: 80GiB}",
    "resources: {gpu: 'A100:'}",
    "resources: {gpu: ':2'}",
    "resources: {gpu: 1.5}",
    "resources: {gpu: {names: [A100]}}",
    "resources: {gpu: {compute_capability: '8'}}",
    "resources: {disk: {}}",
    "resources: {gpu: {name: []}}",
    "resources: {gpu: {vendor: qualcomm}}",
    "resources: {cpu: {arch: risc}}",
    "volumes: [{name: [], path: /x}]",
    "resources: {gpus: 1}",
    "model: {name: m, format: tgi, prefix: /v1}",
    "model: {name: m, format: vllm}",
    "scaling: {metric: rps, target: 1}",
    "replicas: 0..2\nscaling: {metric: cpu, target: 1}",
    "replicas: 0..2\nscaling: {metric: rps, target: 0}",
    "env: ['1A=x']",
    "env: {A-B: x}",
    "retry: {on_events: []}",
    "retry: {on_events: [timeout]}",
    "max_duration: 1.5h",
    "idle_duration: 2H",
    "spot_policy: Spot",
    "creation_policy: always",
    "max_price: 0",
    "backends: [nowhere]",
    "image: x\npython: '3.11'",
    "image: x\nnvcc: true",
    "python: '2.7'",
    "termination_policy: never",
    "name: My_Service",
]


@pytest.mark.parametrize("extra", INVALID)
def test_schema_and_models_reject_invalid_documents(
    validator: Draft202012Validator, extra: str
) -> None:
    document = yaml.safe_load(BASE + extra + "\n")
    assert not models_accept(document)
    assert list(validator.iter_errors(document)), "the schema accepted an invalid document"


def test_commands_or_image_is_expressed() -> None:
    schema = Draft202012Validator(json_schema())
    assert list(schema.iter_errors({"type": "service", "port": 80}))
    assert list(schema.iter_errors({"type": "service", "port": 80, "commands": []}))
    assert not list(schema.iter_errors({"type": "service", "port": 80, "image": "nginx"}))


def test_json_schema_is_a_fresh_copy() -> None:
    first = json_schema()
    first["properties"].clear()
    assert json_schema()["properties"]
