"""``load_config``: every failure is a located ``ConfigError``; valid files load and normalize."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planner.config import LoadedConfig, ServiceConfiguration, load_config
from planner.config.normalized import REDACTED, NormalizedService
from planner.errors import ConfigError, Problem

FIXTURES = Path(__file__).parent / "fixtures"
MINIMAL = "type: service\nport: 8000\ncommands: [python serve.py]\n"


def problems_of(source: str | Path | None = None, *, text: str | None = None) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        if text is not None:
            load_config(text=text, name="s.yml")
        else:
            assert source is not None
            load_config(source)
    return list(caught.value.problems)


def located(problems: list[Problem]) -> list[tuple[int | None, int | None, str | None]]:
    return [(problem.line, problem.column, problem.path) for problem in problems]


def test_valid_file_loads_with_model_normalized_view_and_warnings() -> None:
    loaded = load_config(FIXTURES / "valid_full.yml")
    assert isinstance(loaded, LoadedConfig)
    assert loaded.source == str(FIXTURES / "valid_full.yml")
    assert isinstance(loaded.configuration, ServiceConfiguration)
    assert isinstance(loaded.normalized, NormalizedService)
    assert loaded.normalized.replicas.min == 1 and loaded.normalized.replicas.max == 4
    assert loaded.normalized.resources.gpu.names == ("A100",)
    assert loaded.normalized.resources.gpu.count.min == 2
    assert loaded.normalized.registry_auth is not None
    assert loaded.normalized.registry_auth.password == REDACTED
    assert [(w.line, w.column, w.path) for w in loaded.warnings] == [
        (25, 1, "termination_policy"),
        (26, 1, "termination_idle_time"),
    ]
    assert all("deprecated, use `idle_duration`" in w.message for w in loaded.warnings)


def test_text_source_and_names() -> None:
    assert load_config(text=MINIMAL).source == "<text>"
    assert load_config(text=MINIMAL, name="inline.yml").source == "inline.yml"
    assert load_config(str(FIXTURES / "python_310.yml")).normalized.python == "3.10"


def test_exactly_one_source_is_required() -> None:
    with pytest.raises(ConfigError, match="exactly one source"):
        load_config()
    with pytest.raises(ConfigError, match="exactly one source"):
        load_config(FIXTURES / "valid_full.yml", text=MINIMAL)


@pytest.mark.parametrize(
    ("fixture", "where", "words"),
    [
        ("base60_gpu.yml", (5, 8, "resources.gpu"), 'base-60 number 62; quote it: gpu: "1:2"'),
        ("base60_port.yml", (3, 7, "port"), "base-60 number 484850"),
        ("octal_replicas.yml", (4, 11, "replicas"), "octal number 8"),
        ("duplicate_key.yml", (7, 3, "resources.gpu"), "first written at line 5"),
        ("python_object_tag.yml", (3, 11, "commands"), "is not allowed"),
        ("multi_document.yml", (5, 1, None), "more than one YAML document"),
        ("list_document.yml", (1, 1, None), "not a list"),
        ("task.yml", (1, 7, "type"), "planner plans services; this is a task configuration"),
        ("missing_type.yml", (1, 1, "type"), "`type` is missing"),
        ("not_utf8.yml", (4, 10, None), "not UTF-8"),
        ("syntax_error.yml", (3, 10, None), "YAML syntax error: mapping values are not allowed"),
        ("alias_bomb.yml", None, "expands to more than"),
        ("yaml11_words.yml", (4, 7, "name"), 'boolean false; quote it if you meant the word: name: "no"'),
    ],
)  # fmt: skip
def test_each_trap_is_one_located_error(
    fixture: str, where: tuple[int, int, str | None] | None, words: str
) -> None:
    (problem,) = problems_of(FIXTURES / fixture)
    assert problem.file == str(FIXTURES / fixture)
    if where is not None:
        assert (problem.line, problem.column, problem.path) == where
    assert words in problem.message


@pytest.mark.parametrize("fixture", ["empty.yml", "comments_only.yml"])
def test_empty_file(fixture: str) -> None:
    (problem,) = problems_of(FIXTURES / fixture)
    assert problem.file == str(FIXTURES / fixture)
    assert "the file is empty" in problem.message


@pytest.mark.parametrize("kind", ["task", "dev-environment", "fleet", "gateway", "volume"])
def test_other_dstack_types_are_named(kind: str) -> None:
    (problem,) = problems_of(text=f"name: x\ntype: {kind}\n")
    assert (problem.line, problem.column, problem.path) == (2, 7, "type")
    assert f"this is a {kind} configuration" in problem.message


def test_type_in_the_wrong_case() -> None:
    (problem,) = problems_of(text="type: Service\n")
    assert (problem.line, problem.column, problem.path) == (1, 7, "type")
    assert problem.message == "the type is written `service` (lower case), not `Service`"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("services", "unknown configuration type `services`; planner reads service configurations"),
        ("[1]", "`type` must be `service`, not a list"),
        ("", "`type` must be `service`, not an empty value"),
    ],
)
def test_unknown_type(value: str, message: str) -> None:
    (problem,) = problems_of(text=f"type: {value}\n")
    assert problem.message.startswith(message)


def test_every_field_error_is_located_and_ordered() -> None:
    problems = problems_of(FIXTURES / "field_errors.yml")
    assert located(problems) == [
        (7, 13, "resources.gpu.memory"),
        (8, 8, "resources.cpu"),
        (13, 11, "volumes[1].path"),
        (14, 1, "replica"),
    ]
    assert "80G" in problems[0].message
    assert "did you mean `replicas`?" in problems[3].message


def test_union_fields_give_one_message_each() -> None:
    problems = problems_of(
        text=MINIMAL + "resources:\n  gpu: [1]\nretry:\n  on_events: [sometimes]\n"
    )
    assert located(problems) == [(5, 8, "resources.gpu"), (7, 15, "retry.on_events[0]")]
    assert problems[0].message == "expected a mapping, got a list"
    assert "no-capacity" in problems[1].message


def test_missing_fields_point_at_their_parent() -> None:
    problems = problems_of(
        text="type: service\ncommands: [x]\nmodel:\n  format: openai\nport: 80\nscaling: {}\nreplicas: 1..2\n"
    )
    assert located(problems) == [
        (3, 1, "model.name"),
        (6, 1, "scaling.metric"),
        (6, 1, "scaling.target"),
    ]
    assert problems[0].message == "`name` is required"


def test_missing_top_level_field_points_at_document_start() -> None:
    (problem,) = problems_of(text="# my service\n\ntype: service\ncommands: [x]\n")
    assert (problem.line, problem.column, problem.path) == (3, 1, "port")


def test_cross_field_rule_is_located_at_the_field() -> None:
    (problem,) = problems_of(text=MINIMAL + "image: python:3.12\npython: '3.11'\n")
    assert (problem.line, problem.column, problem.path) == (5, 1, "python")
    assert "mutually exclusive" in problem.message


def test_python_310_is_read_back_as_310() -> None:
    loaded = load_config(FIXTURES / "python_310.yml")
    assert loaded.configuration.python == "3.10"


def test_replicas_and_yaml_booleans_the_model_accepts() -> None:
    loaded = load_config(text=MINIMAL + "replicas: 3\ngateway: off\nauth: no\n")
    assert loaded.normalized.replicas.min == 3 and loaded.normalized.replicas.max == 3
    assert loaded.normalized.gateway is False
    assert loaded.normalized.auth is False


def test_yaml11_boolean_in_a_list_of_strings_is_explained() -> None:
    (problem,) = problems_of(text=MINIMAL + "regions: [us-east-1, no]\n")
    assert (problem.line, problem.column, problem.path) == (4, 22, "regions[1]")
    assert problem.message == (
        "expected a string, got the boolean false (YAML reads the unquoted `no` as the boolean "
        'false; quote it if you meant the word: "no")'
    )


def test_empty_value_where_text_is_needed_gets_a_null_hint() -> None:
    (problem,) = problems_of(text=MINIMAL + "registry_auth:\n  username:\n  password: x\n")
    assert (problem.line, problem.column, problem.path) == (5, 12, "registry_auth.username")
    assert "an empty value" in problem.message


def test_password_never_appears_in_errors() -> None:
    problems = problems_of(FIXTURES / "password_with_errors.yml")
    assert located(problems) == [
        (2, 7, "port"),
        (7, 3, "registry_auth.token"),
        (11, 1, "python"),
        (12, 10, "gateway"),
    ]
    for problem in problems:
        assert "hunter2" not in str(problem)
    assert REDACTED in problems[3].message


@pytest.mark.parametrize(
    "password_line",
    ["password: [hunter2-Secret]", "password: {a: hunter2-Secret}", "password: 12:34"],
)
def test_badly_typed_password_is_not_echoed(password_line: str) -> None:
    problems = problems_of(text=MINIMAL + f"registry_auth:\n  username: u\n  {password_line}\n")
    assert [problem.path for problem in problems] == ["registry_auth.password"]
    assert "hunter2" not in str(problems[0]) and "12:34" not in str(problems[0])


def test_short_password_is_redacted_without_mangling_messages() -> None:
    problems = problems_of(
        text=MINIMAL + "registry_auth: {username: u, password: abc}\ngateway: a/b/abc\n"
    )
    assert problems[0].message.startswith("invalid entity reference")
    assert "/abc" not in problems[0].message


def test_unreadable_paths(tmp_path: Path) -> None:
    (missing,) = problems_of(tmp_path / "nope.yml")
    assert missing.file == str(tmp_path / "nope.yml") and "no such file" in missing.message
    (directory,) = problems_of(tmp_path)
    assert "is a directory" in directory.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path: Path) -> None:
    target = tmp_path / "locked.yml"
    target.write_text(MINIMAL)
    target.chmod(0)
    (problem,) = problems_of(target)
    assert "permission denied" in problem.message


# ----------------------------------------------------------------------------- cross-field rules


def test_cross_field_rule_runs_with_a_field_error() -> None:
    problems = problems_of(text="type: service\nport: 0\n")
    assert located(problems) == [(1, 1, "commands"), (2, 7, "port")]
    assert problems[0].message.startswith("either `commands` or `image` must be set: add")


def test_every_cross_field_rule_with_field_errors_in_one_run() -> None:
    text = (
        "type: service\n"  # 1
        "port: 70000\n"  # 2
        "image: nginx\n"  # 3
        "python: '3.11'\n"  # 4
        "nvcc: true\n"  # 5
        "replicas: 1..3\n"  # 6
        "resources:\n"  # 7
        "  memory: 80G\n"  # 8
    )
    problems = problems_of(text=text)
    assert located(problems) == [
        (2, 7, "port"),
        (4, 1, "python"),
        (5, 1, "nvcc"),
        (6, 1, "replicas"),
        (8, 11, "resources.memory"),
    ]
    assert "`image` and `python` are mutually exclusive fields: remove" in problems[1].message
    assert "`image` and `nvcc` are mutually exclusive fields" in problems[2].message
    assert problems[3].message.startswith(
        "when you set `replicas` to a range, ensure to specify `scaling` (e.g. scaling:"
    )


@pytest.mark.parametrize(
    ("replicas", "reason"),
    [("", "`replicas` is not set"), ("replicas: 2\n", "`replicas` is the fixed number 2")],
)
def test_scaling_without_a_range_is_located_at_scaling_with_its_own_errors(
    replicas: str, reason: str
) -> None:
    problems = problems_of(text=MINIMAL + replicas + "scaling:\n  metric: rps\n  target: 0\n")
    line = 4 + bool(replicas)
    assert located(problems) == [(line, 1, "scaling"), (line + 2, 11, "scaling.target")]
    assert problems[0].message.startswith("to use `scaling`, `replicas` must be set to a range")
    assert reason in problems[0].message


def test_an_invalid_field_and_a_rule_on_it_are_both_reported() -> None:
    problems = problems_of(text=MINIMAL + "image: nginx\npython: 2.7\n")
    assert located(problems) == [(5, 1, "python"), (5, 9, "python")]
    assert "mutually exclusive" in problems[0].message
    assert "unsupported python version" in problems[1].message


def test_unreadable_replicas_skip_the_scaling_pairing() -> None:
    (problem,) = problems_of(text=MINIMAL + "replicas: '2..'\n")
    assert (problem.line, problem.column, problem.path) == (4, 11, "replicas")
    assert "maximum number of replicas is required" in problem.message


def test_a_rule_alone_is_reported_once() -> None:
    problems = problems_of(text=MINIMAL + "image: nginx\nnvcc: false\n")
    assert located(problems) == [(5, 1, "nvcc")]


def test_empty_commands_without_image_is_located_at_commands() -> None:
    (problem,) = problems_of(text="type: service\nport: 80\ncommands: []\n")
    assert (problem.line, problem.column, problem.path) == (3, 1, "commands")


# ----------------------------------------------------------------------------- errors at entries


def test_env_list_errors_sit_at_each_entry() -> None:
    problems = problems_of(text=MINIMAL + "env:\n  - A=1\n  - 1BAD=x\n  - A=2\n  - B\n  - 3\n")
    assert located(problems) == [(6, 5, "env[1]"), (7, 5, "env[2]"), (9, 5, "env[4]")]
    assert problems[0].message.startswith("invalid environment variable name '1BAD': use letters")
    assert problems[1].message == (
        "duplicate environment variable 'A': entry 1 of the list already sets it; keep only one"
    )
    assert problems[2].message.startswith("expected a KEY=value string, got a number")


def test_env_mapping_errors_sit_at_each_key() -> None:
    problems = problems_of(
        text=MINIMAL + "env:\n  GOOD: 1\n  BAD-KEY: v\n  EMPTY: null\n  FLAG: true\n"
    )
    assert located(problems) == [
        (6, 3, "env.BAD-KEY"),
        (7, 10, "env.EMPTY"),
        (8, 9, "env.FLAG"),
    ]
    assert "invalid environment variable name 'BAD-KEY'" in problems[0].message
    assert 'write EMPTY: "" for an empty string' in problems[1].message
    assert problems[2].message == (
        'env FLAG: expected a string or number value, got the boolean true; quote it: FLAG: "true"'
    )


def test_env_values_are_never_echoed() -> None:
    problems = problems_of(text=MINIMAL + "env:\n  - TOKEN=s3cr3t-value\n  - TOKEN=s3cr3t-value\n")
    assert located(problems) == [(6, 5, "env[1]")]
    assert "s3cr3t" not in problems[0].message


def test_list_item_errors_sit_at_the_item() -> None:
    text = (
        MINIMAL  # lines 1-3
        + "volumes:\n"  # 4
        + "  - vol\n"  # 5
        + "  - {name: [v1, ''], path: /data}\n"  # 6
        + "  - /a/../b:/data\n"  # 7
        + "backends: [aws, nowhere]\n"  # 8
        + "regions: [us-east-1, [x]]\n"  # 9
        + "instance_types: [p4d.24xlarge, {a: 1}]\n"  # 10
        + "retry:\n  on_events: [error, timeout]\n"  # 11-12
        + "resources:\n  gpu:\n    name: [A100, '']\n"  # 13-15
    )
    problems = problems_of(text=text)
    assert located(problems) == [
        (5, 5, "volumes[0]"),
        (6, 17, "volumes[1].name[1]"),
        (7, 5, "volumes[2]"),
        (8, 17, "backends[1]"),
        (9, 22, "regions[1]"),
        (10, 32, "instance_types[1]"),
        (12, 22, "retry.on_events[1]"),
        (15, 18, "resources.gpu.name[1]"),
    ]
    assert "invalid mount point format 'vol'" in problems[0].message
    assert problems[1].message == "volume name can not be empty"
    assert "`..` segments are not allowed" in problems[2].message
    assert problems[7].message == "GPU name can not be empty"


def test_range_mapping_errors_sit_at_the_bound() -> None:
    text = (
        MINIMAL  # lines 1-3
        + "replicas: {min: 1, max: x}\n"  # 4
        + "scaling: {metric: rps, target: 1}\n"  # 5
        + "resources:\n"  # 6
        + "  memory: {min: 80G, mx: 9}\n"  # 7
        + "  cpu: {max: many}\n"  # 8
        + "  disk: {size: {max: 1XB}}\n"  # 9
        + "  gpu:\n"  # 10
        + "    count: {min: 1.5}\n"  # 11
        + "    compute_capability: [8, x]\n"  # 12
    )
    problems = problems_of(text=text)
    assert located(problems) == [
        (4, 25, "replicas.max"),
        (7, 17, "resources.memory.min"),
        (7, 22, "resources.memory.mx"),
        (8, 14, "resources.cpu.max"),
        (9, 22, "resources.disk.size.max"),
        (11, 18, "resources.gpu.count.min"),
        (12, 29, "resources.gpu.compute_capability[1]"),
    ]
    assert problems[1].message.startswith("invalid memory size '80G': expected a number")
    assert problems[2].message == "a range mapping takes only `min` and `max`, not `mx`"
    assert problems[6].message == (
        "invalid compute capability: the minor version must be a whole number, got 'x' (e.g. [8, 0])"
    )


# ------------------------------------------------------------------------ dstack's messages

# Every client-side message of docs/configuration.md §10 (0.22.5 gist → cause), as this planner words
# it: the gist, then what is expected or how to fix it. Keys that exist only in dstack 0.19+
# (`docker`, `groups`, `stop_duration`) are rejected as such, so their rules cannot arise.
DSTACK_MESSAGES = [
    ("foo: 1", "foo", "extra inputs are not permitted", "remove it or check its spelling"),
    ("replica: 2", "replica", "extra inputs are not permitted", "did you mean `replicas`?"),
    ("resources: {disk: {min: 8}}", "resources.disk.min", "extra inputs are not permitted", "the fields here are: size"),
    ("resources: {memory: '..'}", "resources.memory", "invalid empty range", "give at least one bound"),
    ("resources: {cpu: 4..2}", "resources.cpu", "invalid range order", "write 2..4"),
    ("resources: {memory: 8GB..2GB}", "resources.memory", "invalid range order", "write 2GB..8GB"),
    ("resources: {memory: {min: 8, max: 2}}", "resources.memory", "invalid range order", "swap `min` and `max`"),
    ("resources: {gpu: 80GB..40GB}", "resources.gpu", "invalid range order", "write 40GB..80GB"),
    ("resources: {gpu: {count: 4..2}}", "resources.gpu.count", "invalid range order", "write 2..4"),
    ("resources: {memory: 80GiB}", "resources.memory", "invalid memory size", "e.g. 16GB"),
    ("resources: {gpu: 'A100:'}", "resources.gpu", "GPU spec contains empty token", "A100:80GB:2"),
    ("resources: {gpu: 'A100,:2'}", "resources.gpu", "GPU name can not be empty", "A100,H100:2"),
    ("resources: {gpu: 'nvidia:amd'}", "resources.gpu", "GPU spec vendor conflict", "twice"),
    ("resources: {gpu: 'A100:H100'}", "resources.gpu", "GPU spec name conflict", "twice"),
    ("resources: {gpu: '80GB:40GB'}", "resources.gpu", "GPU spec memory conflict", "twice"),
    ("resources: {gpu: '2:4'}", "resources.gpu", "GPU spec count conflict", "twice"),
    ("resources: {cpu: 'arm:'}", "resources.cpu", "CPU spec contains empty token", "arm:8"),
    ("resources: {cpu: '2:4'}", "resources.cpu", "CPU spec count conflict", "twice"),
    ("resources: {cpu: 'arm:x86'}", "resources.cpu", "CPU spec arch conflict", "twice"),
    ("resources: {cpu: 'risc:4'}", "resources.cpu", "invalid CPU architecture", "expected x86 or arm"),
    ("resources: {gpu: {compute_capability: '8'}}", "resources.gpu.compute_capability", "invalid compute capability", "e.g. 8.0"),
    ("replicas: 2..\nscaling: {metric: rps, target: 1}", "replicas", "the maximum number of replicas is required", "e.g. 0..4"),
    ("replicas: -1..2\nscaling: {metric: rps, target: 1}", "replicas", "the minimum number of replicas must be greater than or equal to 0", ""),
    ("replicas: 1..2", "replicas", "when you set `replicas` to a range, ensure to specify `scaling`", "e.g. scaling:"),
    ("scaling: {metric: rps, target: 1}", "scaling", "to use `scaling`, `replicas` must be set to a range", "e.g. replicas: 1..4"),
    ("replicas: 1..2\nscaling: {metric: rps, target: 1, window: 45}", "scaling.window", "window must be one of", "30s, 1m, 5m"),
    ("image: x\npython: '3.11'", "python", "`image` and `python` are mutually exclusive fields", "remove `python`"),
    ("image: x\nnvcc: true", "nvcc", "`image` and `nvcc` are mutually exclusive fields", "remove `nvcc`"),
    ("image: x\ndocker: true", "docker", "`image` and `docker` are mutually exclusive fields", "remove `image` or `docker`"),
    ("groups: []", "groups", "`groups` cannot be an empty list", "at least one replica group"),
    ("user: a:b:c", "user", "invalid user format", "expected USER or USER:GROUP"),
    ("env: [A=1, A=2]", "env[1]", "duplicate environment variable", "keep only one"),
    ("env: [1A=x]", "env[0]", "invalid environment variable name", "e.g. HF_TOKEN"),
    ("volumes: ['a:b:c']", "volumes[0]", "invalid mount point format", "NAME:/container/path"),
    ("volumes: ['v:data']", "volumes[0]", "must be absolute", "start with /"),
    ("volumes: ['v:/a/../b']", "volumes[0]", "`..` segments are not allowed", ""),
    ("volumes: ['v:']", "volumes[0]", "empty path", "such as /data"),
    ("gateway: a/b/c", "gateway", "invalid entity reference", "NAME or PROJECT/NAME"),
    ("max_duration: 1h30m", "max_duration", "cannot parse the duration", "30s, 5m, 2h"),
    ("max_duration: -5", "max_duration", "duration cannot be negative", "use `off`"),
    ("retry: {on_events: []}", "retry.on_events", "`on_events` cannot be empty", "omit it"),
    ("spot_policy: Spot", "spot_policy", "expected one of spot, on-demand, auto", "did you mean `spot`?"),
    ("creation_policy: always", "creation_policy", "expected one of reuse, reuse-or-create", "got 'always'"),
    ("retry: {on_events: [timeout]}", "retry.on_events[0]", "expected one of no-capacity, interruption, error", "got 'timeout'"),
    ("backends: [lamda]", "backends[0]", "expected one of amddevcloud, aws, azure", "did you mean `lambda`?"),
    ("python: '2.7'", "python", "unsupported python version", "expected one of 3.9"),
    ("model: {name: m, format: vllm}", "model.format", "unsupported model format", "expected openai or tgi"),
    ("model: {name: m, format: openai, type: completion}", "model.type", "expected `chat`", "got 'completion'"),
    ("max_price: 0", "max_price", "greater than 0", "got the number 0"),
    ("replicas: 1..2\nscaling: {metric: rps, target: 0}", "scaling.target", "greater than 0", "got the number 0"),
    ("name: My_Run", "name", "invalid run name", "e.g. llama-chat"),
    ("retry: {duration: -5}", "retry.duration", "cannot be negative", "got -5"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "path", "gist", "fix"), DSTACK_MESSAGES)
def test_dstack_messages_say_what_is_expected(body: str, path: str, gist: str, fix: str) -> None:
    problems = problems_of(text=MINIMAL + body + "\n")
    (problem,) = [problem for problem in problems if problem.path == path]
    assert problem.line is not None and problem.line >= 4 and problem.column is not None
    assert gist.lower() in problem.message.lower(), problem.message
    assert fix in problem.message, problem.message


@pytest.mark.parametrize(
    ("port", "column"), [("0", 7), ("65536", 7), ("'8080:70000'", 7), ("-1", 7)]
)
def test_port_out_of_range_says_the_bounds(port: str, column: int) -> None:
    (problem,) = problems_of(text=f"type: service\nport: {port}\ncommands: [x]\n")
    assert (problem.line, problem.column, problem.path) == (2, column, "port")
    assert "must be greater than 0 and less than or equal to 65535" in problem.message


def test_port_mapping_bound_names_the_value() -> None:
    (problem,) = problems_of(text="type: service\nport: {container_port: 0}\ncommands: [x]\n")
    assert (problem.line, problem.column, problem.path) == (2, 24, "port.container_port")
    assert problem.message == "expected a value greater than or equal to 1, got the number 0"


def test_a_choice_or_a_boolean_names_both() -> None:
    (problem,) = problems_of(text=MINIMAL + "https: maybe\n")
    assert (problem.line, problem.column, problem.path) == (4, 8, "https")
    assert problem.message == "expected true or false or `auto`; got 'maybe'"
