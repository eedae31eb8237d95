"""Property-based tests of loading.

(a) Generated valid service documents load, and their normalized view says what was written;
re-loading the validated model's explicit form normalizes to the same thing.
(b) Generated and mutated documents never make ``load_config`` raise anything but ``ConfigError``
(with located problems), and the CLI exits 0 or 2 without a traceback.
(c) Huge numbers, huge scalars and many keys anywhere (the limits of docs/configuration.md §1) end
in a ``ConfigError`` in bounded time with bounded messages, never quoting a password.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.config import LoadedConfig, load_config
from planner.config.normalized import REDACTED, NormalizedService
from planner.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures"
VALID_TEXTS = [
    (FIXTURES / name).read_text()
    for name in ("valid_full.yml", "python_310.yml", "field_errors.yml", "password_with_errors.yml")
]
RunCli = Callable[..., subprocess.CompletedProcess[str]]

# --------------------------------------------------------------------------------------------
# (a) valid documents with what their normalized view must say


@dataclass
class Expected:
    """The normalized values a generated document implies (only what the generator chose)."""

    checks: dict[str, Any] = field(default_factory=dict)


GPU_NAMES = ["A100", "H100", "L4", "T4", "A10G", "MI300X", "L40S"]
safe_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20
)


@st.composite
def gpu_specs(draw: st.DrawFn) -> tuple[Any, dict[str, Any]]:
    """A ``resources.gpu`` value and the normalized GPU fields it implies."""
    form = draw(st.sampled_from(["count", "string", "mapping"]))
    if form == "count":
        count = draw(st.integers(0, 8))
        return count, {"count": {"min": count, "max": count}}
    name = draw(st.sampled_from(GPU_NAMES))
    memory = draw(st.none() | st.integers(8, 192))
    low = draw(st.none() | st.integers(1, 4))
    high = None if low is None else draw(st.none() | st.integers(low, 8))
    count_text = None if low is None else (f"{low}" if high == low else f"{low}..{high or ''}")
    expected_count = {"min": 1, "max": 1} if low is None else {"min": low, "max": high}
    if high is None and low is not None:
        expected_count = {"min": low, "max": None}
    expected: dict[str, Any] = {"names": [name], "count": expected_count}
    if memory is not None:
        expected["memory_gb"] = {"min": float(memory), "max": float(memory)}
    if form == "string":
        tokens = [name] + ([f"{memory}GB"] if memory else []) + ([count_text] if count_text else [])
        order = draw(st.permutations(tokens))
        return ":".join(order), expected
    mapping: dict[str, Any] = {"name": name}
    if memory is not None:
        mapping["memory"] = f"{memory}GB"
    if count_text is not None:
        mapping["count"] = count_text
    return mapping, expected


@st.composite
def memory_ranges(draw: st.DrawFn) -> tuple[Any, dict[str, float | None]]:
    low = draw(st.integers(1, 512))
    high = draw(st.none() | st.integers(low, 2048))
    unit = draw(st.sampled_from(["GB", "gb", " GB", ""]))
    if draw(st.booleans()) and high is not None and high == low:
        return low, {"min": float(low), "max": float(low)}
    text = f"{low}{unit}.." + (f"{high}{unit}" if high is not None else "")
    return text, {"min": float(low), "max": None if high is None else float(high)}


@st.composite
def services(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid service document and {dotted normalized path: expected value}."""
    document: dict[str, Any] = {"type": "service"}
    expected: dict[str, Any] = {}

    port = draw(st.integers(1, 65535))
    if draw(st.booleans()):
        local = draw(st.integers(1, 65535))
        document["port"] = f"{local}:{port}"
        expected["port.local_port"] = local
    else:
        document["port"] = port
    expected["port.container_port"] = port

    if draw(st.booleans()):
        document["image"] = draw(st.sampled_from(["python:3.12", "ghcr.io/org/app:latest"]))
    if "image" not in document or draw(st.booleans()):
        commands = draw(st.lists(safe_text, min_size=1, max_size=3))
        document["commands"] = commands
        expected["commands"] = commands

    replicas = draw(st.sampled_from(["absent", "fixed", "range"]))
    if replicas == "fixed":
        count = draw(st.integers(0, 20))
        document["replicas"] = count
        expected["replicas"] = {"min": count, "max": count}
    elif replicas == "range":
        low = draw(st.integers(0, 5))
        high = draw(st.integers(low + 1, 10))
        document["replicas"] = f"{low}..{high}" if low or draw(st.booleans()) else f"..{high}"
        document["scaling"] = {"metric": "rps", "target": draw(st.integers(1, 100))}
        expected["replicas"] = {"min": low, "max": high}
    else:
        expected["replicas"] = {"min": 1, "max": 1}

    resources: dict[str, Any] = {}
    if draw(st.booleans()):
        gpu, gpu_expected = draw(gpu_specs())
        resources["gpu"] = gpu
        for key, value in gpu_expected.items():
            expected[f"resources.gpu.{key}"] = value
    if draw(st.booleans()):
        memory, memory_expected = draw(memory_ranges())
        resources["memory"] = memory
        expected["resources.memory_gb"] = memory_expected
    if draw(st.booleans()):
        cpus = draw(st.integers(1, 64))
        resources["cpu"] = f"{cpus}.." if draw(st.booleans()) else cpus
        expected["resources.cpu.count.min"] = cpus
    if draw(st.booleans()):
        disk, disk_expected = draw(memory_ranges())
        resources["disk"] = disk
        expected["resources.disk_gb"] = disk_expected
    if resources:
        document["resources"] = resources

    policy = draw(st.sampled_from([None, "spot", "on-demand", "auto"]))
    if policy is not None:
        document["spot_policy"] = policy
    expected["spot_policy"] = policy or "on-demand"

    if draw(st.booleans()):
        price = draw(st.floats(0.01, 100, allow_nan=False))
        document["max_price"] = price
        expected["max_price"] = price

    idle = draw(st.sampled_from([None, ("5m", 300), ("off", -1), (90, 90), ("2h", 7200)]))
    if idle is not None:
        document["idle_duration"] = idle[0]
        expected["idle_duration_seconds"] = idle[1]

    if draw(st.booleans()):
        env = draw(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True),
                                   st.integers(-5, 5) | safe_text, max_size=3))  # fmt: skip
        document["env"] = env
        expected["env"] = {key: str(value) for key, value in env.items()}

    if draw(st.booleans()):
        document["registry_auth"] = {"username": "deploy", "password": draw(safe_text)}
        expected["registry_auth.password"] = REDACTED

    if draw(st.booleans()):
        document["retry"] = True
        expected["retry.duration_seconds"] = 3600
    return document, expected


def normalized_value(loaded: LoadedConfig, dotted: str) -> Any:
    value: Any = loaded.normalized.model_dump(mode="json")
    for part in dotted.split("."):
        value = value[part]
    return value


@settings(max_examples=60, deadline=None)
@given(services())
def test_generated_valid_services_load_and_normalize_as_written(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    document, expected = case
    loaded = load_config(text=yaml.safe_dump(document, sort_keys=False), name="gen.yml")
    for dotted, value in expected.items():
        assert normalized_value(loaded, dotted) == value, dotted

    # The validated model's explicit form is itself a valid document that normalizes the same,
    # except that its GPU count is written out (so it no longer counts as defaulted).
    explicit = loaded.configuration.model_dump(mode="json", exclude_none=True)
    reloaded = load_config(text=yaml.safe_dump(explicit), name="explicit.yml")
    assert _without_count_defaulted(reloaded.normalized) == _without_count_defaulted(
        loaded.normalized
    )


def _without_count_defaulted(service: NormalizedService) -> dict[str, Any]:
    dumped = service.model_dump()
    dumped["resources"]["gpu"].pop("count_defaulted")
    for group in dumped["groups"] or ():
        group["resources"]["gpu"].pop("count_defaulted")
    return dumped


# --------------------------------------------------------------------------------------------
# (b) hostile and mutated input: ConfigError or success, never anything else

yaml_noise = st.text(alphabet=":-[]{}&*!|>'\"#%@`,? \n\t0123456789abcyesno.~=/", max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True)
    | st.text(max_size=15)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID_TEXTS))
    mutation = draw(st.sampled_from(["truncate", "delete_line", "insert_line", "splice", "data"]))
    lines = text.splitlines(keepends=True)
    if mutation == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if mutation == "delete_line":
        del lines[draw(st.integers(0, len(lines) - 1))]
        return "".join(lines)
    if mutation == "insert_line":
        indent = " " * draw(st.integers(0, 6))
        line = f"{indent}{draw(yaml_noise)}: {draw(yaml_noise)}\n"
        lines.insert(draw(st.integers(0, len(lines))), line)
        return "".join(lines)
    if mutation == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(yaml_noise) + text[at + draw(st.integers(0, 5)) :]
    data = yaml.safe_load(text)
    keys = list(data)
    key = draw(st.sampled_from(keys))
    action = draw(st.sampled_from(["delete", "swap", "add"]))
    if action == "delete":
        del data[key]
    elif action == "swap":
        data[key] = draw(values)
    else:
        data[draw(st.text(min_size=1, max_size=12))] = draw(values)
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()))


def assert_loads_or_config_error(load: Callable[[], LoadedConfig], name: str, text: str) -> None:
    try:
        load()
    except ConfigError as error:
        assert error.problems
        # YAML's line breaks: a lone \r, NEL and the Unicode separators end a line too.
        line_count = len(re.findall("\r\n|[\r\n\x85\u2028\u2029]", text)) + 1
        for problem in error.problems:
            assert problem.file == name
            assert problem.message.strip()
            if problem.line is not None:
                assert 1 <= problem.line <= line_count + 1
                assert problem.column is not None and problem.column >= 1


@settings(max_examples=150, deadline=None)
@given(mutated_texts() | yaml_noise | st.text(max_size=200))
def test_mutated_text_only_ever_raises_config_error(text: str) -> None:
    assert_loads_or_config_error(lambda: load_config(text=text, name="m.yml"), "m.yml", text)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300) | mutated_texts().map(lambda text: text.encode("utf-8")))
def test_random_bytes_only_ever_raise_config_error(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    target = tmp_path_factory.mktemp("bytes") / "b.yml"
    target.write_bytes(raw)
    text = raw.decode("utf-8", errors="replace")
    assert_loads_or_config_error(lambda: load_config(target), str(target), text)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mutated_texts() | st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")))
def test_cli_exits_0_or_2_without_traceback(run_cli: RunCli, text: str) -> None:
    for output_format in ("text", "json"):
        result = run_cli("validate", "-", "--format", output_format, input=text)
        assert result.returncode in (0, 2), result.stderr
        assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------------------------
# (c) The limits of issue 8: huge numbers, huge scalars, many keys, anywhere in a document.
# Only ever a ConfigError, in bounded time, with bounded messages, never quoting a password.

HOSTILE_SECRET = "Hunter2Secret"
# Where a hostile value goes: (path to its mapping, key). The password is one of them.
HOSTILE_PLACES = [
    ((), "name"),
    ((), "replicas"),
    ((), "port"),
    ((), "max_price"),
    ((), "max_duration"),
    ((), "unknown_field"),
    (("resources",), "gpu"),
    (("resources",), "memory"),
    (("resources",), "cpu"),
    (("env",), "KEY"),
    (("registry_auth",), "password"),
]


@st.composite
def huge_numbers(draw: st.DrawFn) -> str:
    """A number as YAML text, 20 to 6,000 digits long, in every notation YAML reads."""
    digits = draw(st.integers(20, 6000))
    form = draw(
        st.sampled_from(["decimal", "octal", "base-60", "float", "text", "unit", "negative"])
    )
    run = draw(st.sampled_from("123456789")) * digits
    return {
        "decimal": run,
        "octal": "0" + "7" * digits,
        "base-60": "1:" * (digits // 2) + "1",
        "float": f"1.{run}e5",
        "text": f"'{run}'",
        "unit": f"{run}GB",
        "negative": f"-{run}",
    }[form]


@st.composite
def huge_scalars(draw: st.DrawFn) -> str:
    length = draw(st.integers(1_000, 300_000))
    character = draw(st.sampled_from("ax9:/ .é"))
    quote = draw(st.sampled_from(["'", '"', ""]))
    return f"{quote}{HOSTILE_SECRET}{character * length}{quote}"


@st.composite
def many_keys(draw: st.DrawFn) -> str:
    count = draw(st.integers(100, 25_000))
    flow = draw(st.booleans())
    if flow:
        return "{" + ", ".join(f"k{index}: {index}" for index in range(count)) + "}"
    return "[" + ", ".join(str(index) for index in range(count)) + "]"


@st.composite
def hostile_documents(draw: st.DrawFn) -> tuple[str, bool]:
    """A valid service with one hostile value; True when it is written as the password."""
    parent, key = draw(st.sampled_from(HOSTILE_PLACES))
    value = draw(huge_numbers() | huge_scalars() | many_keys())
    document = (
        "type: service\nport: 80\ncommands: [python serve.py]\nregistry_auth:\n  username: deploy\n"
    )
    if parent == ("registry_auth",):
        return document + f"  {key}: {value}\n", True
    document += "  password: plain\n"
    if parent:
        document += f"{parent[0]}:\n  {key}: {value}\n"
    else:
        document = document.replace("port: 80\n", "") if key == "port" else document
        document += f"{key}: {value}\n"
    return document, False


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_documents())
def test_hostile_values_end_in_bounded_config_errors(case: tuple[str, bool]) -> None:
    text, in_password = case
    started = time.monotonic()
    try:
        load_config(text=text, name="h.yml")
    except ConfigError as error:
        assert error.problems
        for problem in error.problems:
            assert len(str(problem)) < 1000, str(problem)[:300]
            if in_password:
                assert HOSTILE_SECRET not in str(problem)
    # Generous for a loaded CI machine: the slowest inputs (25,000 keys) take about a second.
    assert time.monotonic() - started < 15
