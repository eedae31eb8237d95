"""The YAML layer: positions of every key and value, and the YAML 1.1 traps it refuses."""

from __future__ import annotations

import pytest

from planner.config.yaml_loader import (
    MAX_VALUES,
    Mark,
    decode_yaml_bytes,
    format_path,
    parse_yaml,
)
from planner.errors import ConfigError, Problem


def parse(text: str) -> object:
    document = parse_yaml(text, "s.yml")
    assert document is not None
    return document.data


def single_problem(text: str) -> Problem:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, "s.yml")
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def test_plain_data_and_every_position_recorded() -> None:
    text = "type: service\nresources:\n  gpu: A100\nvolumes:\n  - a:/b\n  - {name: x, path: /y}\n"
    document = parse_yaml(text, "s.yml")
    assert document is not None
    assert document.data == {
        "type": "service",
        "resources": {"gpu": "A100"},
        "volumes": ["a:/b", {"name": "x", "path": "/y"}],
    }
    assert document.value_marks[("type",)] == Mark(1, 7)
    assert document.key_marks[("resources", "gpu")] == Mark(3, 3)
    assert document.value_marks[("resources", "gpu")] == Mark(3, 8)
    assert document.value_marks[("volumes", 0)] == Mark(5, 5)
    assert document.key_marks[("volumes", 1, "path")] == Mark(6, 15)
    assert document.value_marks[("volumes", 1, "path")] == Mark(6, 21)


def test_locate_falls_back_to_nearest_written_ancestor() -> None:
    document = parse_yaml("# header\nmodel:\n  format: openai\n", "s.yml")
    assert document is not None
    assert document.start == Mark(2, 1)
    assert document.locate(("model", "name")) == Mark(2, 1)  # the `model:` key
    assert document.locate(("port",)) == Mark(2, 1)  # the document start
    assert document.locate(("model", "format"), key=True) == Mark(3, 3)
    assert document.locate(("model", "format")) == Mark(3, 11)


def test_alias_values_are_located_at_the_alias_not_the_anchor() -> None:
    document = parse_yaml("a: &x [1, 2]\nb: *x\n", "s.yml")
    assert document is not None
    assert document.data == {"a": [1, 2], "b": [1, 2]}
    assert document.value_marks[("b",)] == Mark(2, 4)


def test_merge_keys_are_supported_and_explicit_keys_win() -> None:
    data = parse("base: &base {cpu: 4, memory: 16GB}\nresources:\n  <<: *base\n  cpu: 8\n")
    assert data == {
        "base": {"cpu": 4, "memory": "16GB"},
        "resources": {"cpu": 8, "memory": "16GB"},
    }


def test_duplicated_key_names_both_lines() -> None:
    problem = single_problem("type: service\nresources:\n  gpu: A100\n  gpu: H100\n")
    assert (problem.line, problem.column, problem.path) == (4, 3, "resources.gpu")
    assert "duplicated key `gpu`" in problem.message
    assert "line 3" in problem.message


@pytest.mark.parametrize(
    ("text", "number", "quoted"),
    [
        ("gpu: 1:2\n", "62", 'gpu: "1:2"'),
        ("port: 8080:50\n", "484850", 'port: "8080:50"'),
        ("x: 1:30.5\n", "90.5", 'x: "1:30.5"'),
        ("x: -1:00\n", "-60", 'x: "-1:00"'),
    ],
)
def test_base60_numbers_are_refused(text: str, number: str, quoted: str) -> None:
    problem = single_problem(text)
    key = text.split(":")[0]
    assert (problem.line, problem.column, problem.path) == (1, len(key) + 3, key)
    assert f"as the base-60 number {number}" in problem.message
    assert f"quote it: {quoted}" in problem.message


def test_base60_in_a_list_item_shows_the_list_quoting() -> None:
    problem = single_problem("ports:\n  - 1:2\n")
    assert (problem.line, problem.column, problem.path) == (2, 5, "ports[0]")
    assert 'quote it: "1:2"' in problem.message


@pytest.mark.parametrize("text", ["8080:8000", "A100:80GB:2", "1:60", '"1:2"', "'8080:50'"])
def test_colon_values_that_yaml_keeps_as_strings_pass(text: str) -> None:
    assert parse(f"x: {text}\n") == {"x": text.strip("\"'")}


def test_leading_zero_octal_is_refused_with_both_readings() -> None:
    problem = single_problem("type: service\nreplicas: 010\n")
    assert (problem.line, problem.column, problem.path) == (2, 11, "replicas")
    assert "octal number 8" in problem.message
    assert "write 8 or 10" in problem.message
    assert 'replicas: "010"' in problem.message


def test_leading_zero_octal_equal_to_its_decimal_offers_one_number() -> None:
    problem = single_problem("type: service\nreplicas: 07\n")
    assert "write 7 without the leading zero" in problem.message


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("10", 10), ("0x1F", 31), ("1_000", 1000), ('"010"', "010"), ("08", "08")],
)
def test_other_numbers_read_as_written(text: str, value: object) -> None:
    assert parse(f"x: {text}\n") == {"x": value}


def test_yaml11_readings_are_kept_and_their_text_recorded() -> None:
    document = parse_yaml("a: no\nb: 3.10\nc: on\nd:\n", "s.yml")
    assert document is not None
    assert document.data == {"a": False, "b": 3.1, "c": True, "d": None}
    assert document.scalar_sources[("a",)].text == "no"
    assert document.scalar_sources[("b",)].text == "3.10"
    assert document.scalar_sources[("d",)].tag == "null"


def test_keys_are_the_text_written() -> None:
    assert parse("yes: 1\n1: 2\nnull: 3\n") == {"yes": 1, "1": 2, "null": 3}


def test_timestamps_stay_text() -> None:
    assert parse("name: 2024-01-01\n") == {"name": "2024-01-01"}


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("x: !!python/object/apply:os.system [ls]\n", 4, "`!!python/object/apply:os.system`"),
        ("x: !!binary aGVsbG8=\n", 4, "`!!binary` is not supported"),
        ("x: !custom value\n", 4, "`!custom` is not supported"),
        ("x: !!set {a, b}\n", 4, "`!!set` is not supported"),
    ],
)
def test_unsafe_and_unknown_tags_are_refused(text: str, column: int, words: str) -> None:
    problem = single_problem(text)
    assert (problem.line, problem.column, problem.path) == (1, column, "x")
    assert words in problem.message


def test_non_scalar_keys_are_refused() -> None:
    problem = single_problem("? [a, b]\n: 1\n")
    assert (problem.line, problem.column) == (1, 3)
    assert "a key must be a plain name" in problem.message


def test_unreadable_number_is_an_error_not_a_crash() -> None:
    problem = single_problem("x: 0x_\n")
    assert (problem.line, problem.column) == (1, 4)
    assert "cannot read `0x_` as a number" in problem.message


def test_alias_bomb_is_capped() -> None:
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        levels.append(f"a{level}: &a{level} [{refs}]")
    problem = single_problem("\n".join(levels) + "\n")
    assert f"more than {MAX_VALUES} values" in problem.message
    # Located where the expansion passes the cap: inside a1's list, reached through the aliases.
    assert (problem.line, problem.column, problem.path) == (2, 25, "a4[1][5][2][3]")


def test_recursive_alias_is_refused() -> None:
    problem = single_problem("a: &a [1, *a]\n")
    assert (problem.line, problem.column, problem.path) == (1, 11, "a[1]")
    assert "cycle" in problem.message


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(ConfigError, match="nested"):
        parse_yaml("x: " + "[" * 3000 + "]" * 3000 + "\n", "s.yml")


def test_syntax_error_carries_the_parser_position() -> None:
    problem = single_problem("type: service\nport: 8000\n commands: [x]\n")
    assert (problem.file, problem.line, problem.column) == ("s.yml", 3, 10)
    assert problem.message.startswith("YAML syntax error: mapping values are not allowed here")


def test_trailing_colon_in_a_value_explains_the_mapping_reading() -> None:
    problem = single_problem("resources:\n  gpu: A100:\n")
    assert (problem.line, problem.column) == (2, 12)
    assert "trailing `:` inside an unquoted value starts a mapping" in problem.message


def test_control_character_is_located() -> None:
    problem = single_problem("type: service\nname: a\x07b\n")
    assert (problem.line, problem.column) == (2, 8)
    assert "control character 0x07" in problem.message


def test_several_documents_are_refused_at_the_second() -> None:
    problem = single_problem("a: 1\n---\nb: 2\n")
    assert (problem.line, problem.column) == (3, 1)
    assert "more than one YAML document" in problem.message


def test_trailing_document_marker_is_tolerated() -> None:
    assert parse("---\na: 1\n---\n") == {"a": 1}


@pytest.mark.parametrize("text", ["", "# nothing\n", "\n\n"])
def test_no_document_gives_none(text: str) -> None:
    assert parse_yaml(text, "s.yml") is None


def test_secret_values_are_not_echoed_in_trap_messages() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(
            "registry_auth:\n  password: 12:34\n", "s.yml", secret_paths=[("registry_auth",)]
        )
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2, 13)
    assert "12:34" not in problem.message and "754" not in problem.message
    assert "base-60" in problem.message


def test_decode_rejects_non_utf8_at_the_bad_byte() -> None:
    with pytest.raises(ConfigError) as caught:
        decode_yaml_bytes(b"a: 1\nname: caf\xe9\n", "s.yml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2, 10)
    assert "not UTF-8" in problem.message and "0xe9" in problem.message


def test_decode_drops_a_utf8_bom() -> None:
    assert decode_yaml_bytes("\ufeffa: é\n".encode(), "s.yml") == "a: é\n"


def test_format_path() -> None:
    assert format_path(("volumes", 1, "path")) == "volumes[1].path"
    assert format_path(("env", "A.B")) == 'env["A.B"]'
    assert format_path(()) == ""
