"""Hostile and unlucky service files (issue 8): secrets in YAML errors, files that are not files,
oversized input, huge numbers, many keys, long values, and library calls with the wrong types.

Every case ends in a ``ConfigError`` (a ``PlannerError``; exit 2 from the CLI) with a bounded
message: no traceback, no hang, no secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import planner
from planner.config import load_config
from planner.config.input_file import MAX_FILE_BYTES
from planner.config.yaml_loader import MAX_VALUES
from planner.errors import CatalogError, ConfigError, PlannerError, Problem, excerpt

RunCli = Callable[..., subprocess.CompletedProcess[str]]
BASE = "type: service\nport: 80\ncommands: [python serve.py]\nimage: foo\n"
SECRET = "Hunter2Secret"


def problems_of(text: str) -> tuple[Problem, ...]:
    with pytest.raises(ConfigError) as caught:
        load_config(text=text, name="s.yml")
    return caught.value.problems


def service_with_password(password_text: str) -> str:
    return BASE + f"registry_auth:\n  username: deploy\n  password: {password_text}\n"


# --------------------------------------------------------------------------------------------
# Item 1: a YAML error inside a secret field never quotes it

# How a password can be written so that YAML itself fails (or reads it as something else), and
# the texts that must then never appear: the secret and any reading of it.
SECRET_FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tag": (f"!{SECRET}", (SECRET,)),
    "python tag": (f"!!python/object:{SECRET} x", (SECRET,)),
    "tag with a handle": (f"!{SECRET}!x y", (SECRET,)),
    "undefined alias": (f"*{SECRET}", (SECRET,)),
    "duplicated anchor": (f"&{SECRET} [&{SECRET} a]", (SECRET,)),
    "unclosed double quote": (f'"{SECRET}', (SECRET,)),
    "unclosed single quote": (f"'{SECRET}", (SECRET,)),
    "unknown escape": (f'"{SECRET}\\q"', (SECRET, "'q'")),
    "bad hex escape": (f'"\\xZZ{SECRET}"', (SECRET, "'Z'")),
    "unclosed flow list": (f"[{SECRET}", (SECRET,)),
    "unclosed flow mapping": (f"{{{SECRET}", (SECRET,)),
    "reserved @": (f"@{SECRET}", (SECRET, "'@'")),
    "reserved backquote": (f"`{SECRET}", (SECRET, "'`'")),
    "directive sign": (f"%{SECRET}", (SECRET, "'%'")),
    "block scalar indicator": (f"|{SECRET}", (SECRET, "'H'")),
    "folded scalar indicator": (f">{SECRET}", (SECRET, "'H'")),
    "mapping value inside": (f"pre: {SECRET}", (SECRET, "pre")),
    "sequence entry": (f"- {SECRET}", (SECRET,)),
    "complex key": (f"? {SECRET}", (SECRET,)),
    "duplicated keys": (f"{{{SECRET}: 1, {SECRET}: 2}}", (SECRET,)),
    "tag inside a mapping": (f"{{{SECRET}: !x v}}", (SECRET,)),
    "control character": (f"{SECRET}\x07", (SECRET, "0x07")),
    "base-60 number": ("59:58:57", ("59:58:57", "215937")),
    "octal number": ("0777777", ("777777", "262143")),
    "5,000-digit number": ("7" * 5000, ("7777777",)),
    "5,000-digit base-60": ("7:" * 2500 + "7", ("7:7",)),
}


@pytest.mark.parametrize("form", list(SECRET_FORMS))
def test_yaml_errors_in_a_password_never_quote_it(form: str) -> None:
    written, forbidden = SECRET_FORMS[form]
    problems = problems_of(service_with_password(written))
    for problem in problems:
        text = json.dumps(problem.to_json()) + str(problem)
        for secret in forbidden:
            assert secret not in text, (form, str(problem))
    # The error is located at (or after) the password line: the user can find and fix it.
    assert any(problem.line is not None and problem.line >= 7 for problem in problems), problems


@pytest.mark.parametrize("form", list(SECRET_FORMS))
def test_yaml_errors_in_an_env_value_never_quote_it(form: str) -> None:
    written, forbidden = SECRET_FORMS[form]
    problems = problems_of(BASE + f"env:\n  TOKEN: {written}\n")
    for problem in problems:
        text = str(problem)
        for secret in forbidden:
            assert secret not in text, (form, text)


def test_the_same_forms_outside_a_secret_are_quoted() -> None:
    """The sweep above would catch a leak: outside a secret, YAML's words quote the text."""
    for form in ("tag", "undefined alias", "duplicated keys"):
        written, _ = SECRET_FORMS[form]
        problems = problems_of(BASE.replace("image: foo", f"image: {written}"))
        assert SECRET in " ".join(str(problem) for problem in problems), form


# Through the real CLI: the two forms with every command and format, and one form of each
# other kind (a scanner error, a duplicated key, a control character, a number trap). The sweep
# over every form runs in-process above: every command reads the file with the same load_config.
COMMANDS = [
    ("validate",),
    ("validate", "--format", "json"),
    ("offers",),
    ("offers", "--format", "json"),
    ("plan",),
    ("plan", "--format", "json"),
]
CLI_RUNS = [(form, command) for form in ("tag", "undefined alias") for command in COMMANDS]
CLI_RUNS += [
    ("unclosed double quote", COMMANDS[3]),
    ("duplicated keys", COMMANDS[4]),
    ("control character", COMMANDS[0]),
    ("5,000-digit base-60", COMMANDS[5]),
]


@pytest.mark.parametrize(("form", "command"), CLI_RUNS)
def test_cli_never_prints_a_password_yaml_cannot_read(
    run_cli: RunCli, tmp_path: Path, form: str, command: tuple[str, ...]
) -> None:
    written, forbidden = SECRET_FORMS[form]
    (tmp_path / "s.yml").write_text(service_with_password(written))
    result = run_cli(command[0], "s.yml", *command[1:])
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for secret in forbidden:
        assert secret not in result.stdout + result.stderr, (form, command, result.stderr)
    # Located (FILE:LINE:COL, or "line" in JSON), without the value.
    assert "s.yml:" in result.stderr or '"line": ' in result.stdout


# --------------------------------------------------------------------------------------------
# Item 8: only regular files or stdin, at most MAX_FILE_BYTES, unknown keys cheap


def test_dev_zero_is_refused_at_once(run_cli: RunCli) -> None:
    started = time.monotonic()
    result = run_cli("validate", "/dev/zero", timeout=30)
    assert time.monotonic() - started < 20
    assert (result.returncode, result.stderr) == (
        2,
        "/dev/zero: is a device, not a configuration file; give a regular file, or - to read "
        "stdin\n",
    )


def test_a_fifo_is_refused_without_blocking(run_cli: RunCli, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yml")
    # Nobody ever writes to the FIFO: before the fix, opening it blocked forever.
    result = run_cli("validate", "pipe.yml", timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith("pipe.yml: is a FIFO (named pipe), not a configuration file")


def test_a_fifo_with_a_writer_is_still_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yml"
    os.mkfifo(fifo)

    def write() -> None:
        descriptor = os.open(fifo, os.O_WRONLY)  # blocks until a reader opens, if any does
        os.close(descriptor)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with pytest.raises(ConfigError, match="FIFO"):
        load_config(fifo)
    # Release the writer if planner never opened the FIFO (it must not have).
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    writer.join(timeout=5)
    os.close(reader)
    assert not writer.is_alive()


def test_a_symlink_to_a_device_is_refused_and_to_a_file_followed(tmp_path: Path) -> None:
    (tmp_path / "real.yml").write_text(BASE)
    (tmp_path / "link.yml").symlink_to(tmp_path / "real.yml")
    assert load_config(tmp_path / "link.yml").normalized.port.container_port == 80
    (tmp_path / "zero.yml").symlink_to("/dev/zero")
    with pytest.raises(ConfigError, match="is a device"):
        load_config(tmp_path / "zero.yml")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory, not a configuration file"):
        load_config(tmp_path)


def test_a_file_over_the_cap_is_refused_unread(run_cli: RunCli, tmp_path: Path) -> None:
    big = tmp_path / "big.yml"
    with big.open("w") as handle:  # a valid service followed by 8 MiB of env values
        handle.write(BASE + "env:\n")
        line = "  KEY_{:07d}: " + "v" * 100 + "\n"
        for index in range(8 * 1024 * 1024 // len(line.format(0))):
            handle.write(line.format(index))
    started = time.monotonic()
    result = run_cli("validate", "big.yml", timeout=60)
    assert time.monotonic() - started < 20
    assert result.returncode == 2
    assert result.stderr == (
        f"big.yml: the file is larger than 1 MiB ({MAX_FILE_BYTES} bytes), far more than a "
        "configuration; planner reads no further\n"
    )


def test_stdin_over_the_cap_is_refused(tmp_path: Path) -> None:
    # /dev/zero as stdin: endless, so only a bounded read ends.
    with open("/dev/zero", "rb") as zero:
        result = subprocess.run(
            [sys.executable, "-m", "planner", "validate", "-"],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert result.returncode == 2
    assert result.stderr.startswith("<stdin>: the file is larger than 1 MiB")


def test_a_file_at_the_cap_is_read_within_seconds(tmp_path: Path) -> None:
    """The cap bounds the time: the largest file read (values just under the cap) is quick."""
    line = "  K{:06d}: v\n"
    count = (MAX_FILE_BYTES - len(BASE) - 10) // len(line.format(0))
    path = tmp_path / "at_cap.yml"
    path.write_text(BASE + "env:\n" + "".join(line.format(index) for index in range(count)))
    assert path.stat().st_size <= MAX_FILE_BYTES
    started = time.monotonic()
    (problem,) = problems_of_path(path)
    assert time.monotonic() - started < 30  # about 3 s; generous for a loaded machine
    assert f"the document has more than {MAX_VALUES} values" in problem.message


def problems_of_path(path: Path) -> tuple[Problem, ...]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_a_flow_list_at_the_cap_stops_composing_at_the_value_limit() -> None:
    """500,000 items in one flow list: composing them all took 20 s; composing stops early."""
    text = BASE + "x: [" + "1," * ((MAX_FILE_BYTES - len(BASE) - 10) // 2) + "1]\n"
    started = time.monotonic()
    (problem,) = problems_of(text)
    assert time.monotonic() - started < 15  # about 2 s; generous for a loaded machine
    assert problem.message.startswith(f"the document has more than {MAX_VALUES} values")
    assert (problem.line, problem.path) == (5, None)


def test_four_thousand_unknown_keys_take_well_under_five_seconds() -> None:
    text = BASE + "".join(f"unknown_key_{index}: 1\n" for index in range(4000))
    text += "resources:\n  gpux: 1\n"
    started = time.monotonic()
    problems = problems_of(text)
    assert time.monotonic() - started < 5
    assert len(problems) == 4001
    assert problems[-1].message.endswith("did you mean `gpu`?")
    assert problems[0].message.startswith("unknown field `unknown_key_0`")


# --------------------------------------------------------------------------------------------
# Item 10: bounded excerpts of values in every message

LONG = "x" * 100_000
LONG_VALUES = {
    "name": f"name: {LONG}\n",
    "gateway": f"gateway: a/b/{LONG}\n",
    "python": f"python: '{LONG}'\n",
    "user": f"user: '{LONG}:{LONG}:{LONG}'\n",
    "working_dir": f"working_dir: ../{LONG}\n",
    "spot_policy": f"spot_policy: {LONG}\n",
    "gpu": f"resources:\n  gpu: 'A100::{LONG}'\n",
    "cpu": f"resources:\n  cpu: 'x86:{LONG}'\n",
    "memory": f"resources:\n  memory: {LONG}GB\n",
    "disk range": f"resources:\n  disk: '1..2..{LONG}'\n",
    "compute capability": f"resources:\n  gpu:\n    compute_capability: '{LONG}'\n",
    "gpu name spaces": f"resources:\n  gpu:\n    name: ' {LONG} '\n",
    "env name": f"env:\n  - '1{LONG}=1'\n",
    "volume": f"volumes:\n  - '{LONG}'\n",
    "duration": f"max_duration: '{LONG}'\n",
    "port": f"port: '{LONG}'\n",
    "type": f"type: {LONG}\n",
    # YAML allows keys of at most 1024 characters.
    "unknown key": f"{LONG[:1000]}: 1\n",
    "nested unknown key": f"resources:\n  {LONG[:1000]}: 1\n",
    "duplicated key": f"{LONG[:1000]}: 1\n{LONG[:1000]}: 2\n",
    "tag": f"name: !{LONG} x\n",
    "number": f"replicas: {'9' * 99_999}\n",
    "integer text": f"replicas: '{'9' * 99_999}'\n",
    "model format": f"model:\n  name: m\n  format: {LONG}\n",
}


@pytest.mark.parametrize("field", list(LONG_VALUES))
def test_messages_quote_at_most_an_excerpt_of_a_value(field: str) -> None:
    extra = LONG_VALUES[field]
    base = BASE.replace("port: 80\n", "") if field == "port" else BASE
    if field == "type":
        base = base.replace("type: service\n", "")
    problems = problems_of(base + extra)
    for problem in problems:
        assert len(str(problem)) < 600, (field, str(problem)[:300])
    assert any("characters)" in str(problem) for problem in problems), (field, problems)


def test_excerpt_is_bounded_for_every_kind_of_value() -> None:
    assert excerpt("short") == "short"
    assert excerpt("a" * 81) == "a" * 80 + "… (81 characters)"
    assert excerpt("a\tb", as_repr=True) == "'a\\tb'"
    assert excerpt("b" * 100, as_repr=True) == repr("b" * 80) + "… (100 characters)"
    assert excerpt(10**5000) == "a number of about 5001 digits"
    assert excerpt([10**5000]) == "a list"  # Python refuses to print the integer inside
    assert excerpt(1.5) == "1.5"


def test_a_socket_is_refused(tmp_path: Path) -> None:
    import socket

    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "s.yml"))
        with pytest.raises(ConfigError, match="is a socket, not a configuration file"):
            load_config(tmp_path / "s.yml")
    finally:
        server.close()


def test_cli_prints_an_excerpt_of_a_50_mb_name_capped_file(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "s.yml").write_text(BASE + "name: " + "a" * 900_000 + "\n")
    result = run_cli("validate", "s.yml")
    assert result.returncode == 2
    assert len(result.stderr) < 400
    assert "… (900000 characters)" in result.stderr


def test_offers_quotes_an_excerpt_of_a_long_gpu_name(run_cli: RunCli, tmp_path: Path) -> None:
    """A valid configuration whose long GPU name matches nothing: the exclusion quotes it cut."""
    (tmp_path / "s.yml").write_text(BASE + "resources:\n  gpu: " + "a" * 100_000 + "\n")
    result = run_cli("offers", "s.yml")
    assert result.returncode == 1, result.stderr
    assert len(result.stderr) < 2000
    assert "… (100000 characters)]" in result.stderr


# --------------------------------------------------------------------------------------------
# Item 12: huge numbers end in a located error, never a traceback

HUGE_NUMBERS = {
    "5,000-digit base-60": "replicas: " + "1:" * 2500 + "1\n",
    "5,000-digit octal": "replicas: 0" + "7" * 5000 + "\n",
    "5,000-digit decimal": "replicas: " + "9" * 5000 + "\n",
    "5,000-digit float base-60": "max_price: " + "1:" * 2500 + "1.5\n",
    "5,000-digit integer text": "replicas: '" + "9" * 5000 + "'\n",
    "5,000-digit duration": "max_duration: '" + "9" * 5000 + "s'\n",
    "5,000-digit port pair": "port: '" + "9" * 5000 + ":80'\n",
    "5,000-digit capability": "resources:\n  compute_capability: '" + "9" * 5000 + ".0'\n",
    "5,000-digit gpu count": "resources:\n  gpu: A100:" + "9" * 5000 + "\n",
    "replicas 2^62": f"replicas: {2**62}\n",
    "replicas 2^64": f"replicas: {2**64}\n",
    "replicas range to 2^63": f"replicas: 1..{2**63}\nscaling: {{metric: rps, target: 1}}\n",
    "replicas 10^7": "replicas: 10000000\n",
    "gpu count 2^63": f"resources:\n  gpu: {2**63}\n",
    "cpu count 10^20": "resources:\n  cpu: 100000000000000000000\n",
}


@pytest.mark.parametrize("case", list(HUGE_NUMBERS))
def test_huge_numbers_are_located_errors(case: str) -> None:
    text = HUGE_NUMBERS[case]
    base = BASE.replace("port: 80\n", "") if case.endswith("port pair") else BASE
    problems = problems_of(base + text)
    for problem in problems:
        assert problem.line is not None and problem.line >= 4, (case, problem)
        assert len(str(problem)) < 600, (case, str(problem)[:300])


def test_counts_are_bounded_where_they_feed_arithmetic() -> None:
    (problem,) = problems_of(BASE + f"replicas: {2**62}\n")
    assert (problem.path, problem.message) == (
        "replicas",
        "a count cannot exceed 1,000,000, got 4611686018427387904",
    )
    assert load_config(text=BASE + "replicas: 1000000\n").normalized.replicas.max == 1_000_000


def test_plan_with_replicas_beyond_2_64_exits_2(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "s.yml").write_text(BASE + f"replicas: {2**64}\n")
    result = run_cli("plan", "s.yml")
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "error: s.yml:5:11: replicas: a count cannot exceed 1,000,000, got 18446744073709551616\n"
    )


# --------------------------------------------------------------------------------------------
# Item 13: many plain keys are not aliases; wrong argument types are the project's errors


def test_many_plain_keys_are_not_blamed_on_aliases() -> None:
    text = BASE + "env:\n" + "".join(f"  K{index}: v\n" for index in range(MAX_VALUES + 1))
    (problem,) = problems_of(text)
    assert problem.message == (
        f"the document has more than {MAX_VALUES} values; a configuration file is far smaller"
    )
    assert "alias" not in problem.message


def test_an_alias_bomb_is_blamed_on_aliases() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 6)]
    (problem,) = problems_of(BASE + "\n".join(lines) + "\n")
    assert problem.message == (
        f"the document expands to more than {MAX_VALUES} values through aliases; "
        "a configuration file is far smaller"
    )


def test_deep_nesting_is_not_blamed_on_aliases() -> None:
    (problem,) = problems_of(BASE + "x: " + "[" * 70 + "]" * 70 + "\n")
    assert "nested more than 64 levels deep" in problem.message
    assert "alias" not in problem.message


@pytest.fixture(scope="module")
def catalog() -> planner.Catalog:
    return planner.Catalog.load()


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda catalog: planner.load_config(123), ConfigError, "takes a file path"),
        (lambda catalog: planner.load_config(None), ConfigError, "exactly one source"),
        (lambda catalog: planner.load_config(text=b"type: service"), ConfigError, "not bytes"),
        (lambda catalog: planner.load_config("s.yml", name=5), ConfigError, "not int"),
        (lambda catalog: planner.find_offers(123, catalog), ConfigError, "not int"),
        (lambda catalog: planner.find_offers(["s.yml"], catalog), ConfigError, "not list"),
        (lambda catalog: planner.find_offers("s.yml", "bundled"), CatalogError, "not str"),
        (lambda catalog: planner.Catalog.load(123), CatalogError, "not int"),
        (lambda catalog: planner.Catalog.load("bundled", None), CatalogError, "not NoneType"),
        (lambda catalog: planner.plan(123, catalog), ConfigError, "plan takes"),
    ],
)
def test_wrong_argument_types_raise_the_projects_errors(
    catalog: planner.Catalog,
    call: Callable[[planner.Catalog], object],
    error: type[PlannerError],
    words: str,
) -> None:
    with pytest.raises(error, match=words):
        call(catalog)


def test_find_offers_accepts_a_path_as_plan_does(tmp_path: Path, catalog: planner.Catalog) -> None:
    path = tmp_path / "s.yml"
    path.write_text(BASE + "resources:\n  gpu: 1\n")
    expected = planner.find_offers(load_config(path), catalog).frame
    for given in (path, str(path)):
        assert planner.find_offers(given, catalog).frame.equals(expected)
    with pytest.raises(ConfigError, match="no such file"):
        planner.find_offers(tmp_path / "absent.yml", catalog)
