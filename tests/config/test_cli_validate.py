"""``planner validate`` through the real CLI: output formats, exit codes, stdin, redaction."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """The fixtures copied next to the CLI's working directory, so messages name short paths."""
    for source in FIXTURES.iterdir():
        shutil.copy(source, tmp_path / source.name)
    return tmp_path


def test_valid_text_says_valid_and_warns_on_stderr(run_cli: RunCli, fixtures: Path) -> None:
    result = run_cli("validate", "valid_full.yml")
    assert result.returncode == 0
    assert result.stdout == "valid_full.yml: valid service configuration\n"
    assert result.stderr.splitlines() == [
        "valid_full.yml:25:1: warning: termination_policy: `termination_policy` is deprecated, "
        "use `idle_duration` (`dont-destroy` is `idle_duration: off`)",
        "valid_full.yml:26:1: warning: termination_idle_time: `termination_idle_time` is "
        "deprecated, use `idle_duration`",
    ]


def test_invalid_text_lists_file_line_column_path_message(run_cli: RunCli, fixtures: Path) -> None:
    result = run_cli("validate", "field_errors.yml")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(": ", 2)[:2] for line in lines] == [
        ["field_errors.yml:7:13", "resources.gpu.memory"],
        ["field_errors.yml:8:8", "resources.cpu"],
        ["field_errors.yml:13:11", "volumes[1].path"],
        ["field_errors.yml:14:1", "replica"],
    ]


@pytest.mark.parametrize(
    ("fixture", "line"),
    [
        ("base60_gpu.yml", 'base60_gpu.yml:5:8: resources.gpu: YAML reads 1:2 as the base-60 number 62; quote it: gpu: "1:2"'),
        ("octal_replicas.yml", 'octal_replicas.yml:4:11: replicas: YAML reads 010 as the octal number 8; write 8 or 10 without the leading zero, or quote it: replicas: "010"'),
        ("duplicate_key.yml", "duplicate_key.yml:7:3: resources.gpu: duplicated key `gpu` (first written at line 5); YAML would silently keep only the last one"),
        ("task.yml", "task.yml:1:7: type: planner plans services; this is a task configuration (`type: task`), not `type: service`"),
        ("syntax_error.yml", 'syntax_error.yml:3:10: YAML syntax error: mapping values are not allowed here (a `: ` or a trailing `:` inside an unquoted value starts a mapping; quote the value, e.g. gpu: "A100:80GB")'),
        ("not_utf8.yml", "not_utf8.yml:4:10: the file is not UTF-8 text (byte 0xe9 cannot be decoded); save it as UTF-8"),
        ("empty.yml", "empty.yml: the file is empty; a service configuration is a mapping that starts with `type: service`"),
    ],
)  # fmt: skip
def test_trap_messages_exactly(run_cli: RunCli, fixtures: Path, fixture: str, line: str) -> None:
    result = run_cli("validate", fixture)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", line + "\n")


@pytest.mark.parametrize(
    "fixture",
    ["alias_bomb.yml", "python_object_tag.yml", "multi_document.yml", "list_document.yml"],
)
def test_hostile_inputs_exit_2_without_traceback(
    run_cli: RunCli, fixtures: Path, fixture: str
) -> None:
    result = run_cli("validate", fixture)
    assert result.returncode == 2
    assert result.stderr.startswith(f"{fixture}:")
    assert "Traceback" not in result.stderr


def test_missing_file_exit_2(run_cli: RunCli) -> None:
    result = run_cli("validate", "absent.yml")
    assert (result.returncode, result.stderr) == (2, "absent.yml: no such file\n")


def test_json_valid_shape(run_cli: RunCli, fixtures: Path) -> None:
    result = run_cli("validate", "valid_full.yml", "--format", "json")
    assert result.returncode == 0
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert set(report) == {"valid", "errors", "warnings", "normalized"}
    assert report["valid"] is True and report["errors"] == []
    assert report["warnings"][0] == {
        "path": "termination_policy",
        "line": 25,
        "column": 1,
        "message": "`termination_policy` is deprecated, use `idle_duration` "
        "(`dont-destroy` is `idle_duration: off`)",
    }
    normalized = report["normalized"]
    assert normalized["replicas"] == {"min": 1, "max": 4}
    assert normalized["resources"]["gpu"]["count"] == {"min": 2, "max": 2}
    assert normalized["resources"]["gpu"]["memory_gb"] == {"min": 80.0, "max": 80.0}
    assert normalized["resources"]["disk_gb"] == {"min": 200.0, "max": None}
    assert normalized["port"] == {"container_port": 8000, "local_port": 80}
    assert normalized["spot_policy"] == "auto"


def test_json_invalid_shape(run_cli: RunCli, fixtures: Path) -> None:
    result = run_cli("validate", "field_errors.yml", "--format", "json")
    assert result.returncode == 2
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["normalized"] is None and report["warnings"] == []
    assert [set(error) for error in report["errors"]] == [{"path", "line", "column", "message"}] * 4
    assert report["errors"][2] == {
        "path": "volumes[1].path",
        "line": 13,
        "column": 11,
        "message": "container path 'relative/path' must be absolute (start with /)",
    }


def test_json_unlocatable_error_still_json(run_cli: RunCli) -> None:
    result = run_cli("validate", "absent.yml", "--format", "json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["errors"] == [
        {"path": None, "line": None, "column": None, "message": "no such file"}
    ]


def test_stdin(run_cli: RunCli) -> None:
    valid = run_cli("validate", "-", input="type: service\nport: 8000\ncommands: [x]\n")
    assert (valid.returncode, valid.stdout) == (0, "<stdin>: valid service configuration\n")
    invalid = run_cli("validate", "-", input="type: service\nport: 8000\ngpu: 1:2\n")
    assert invalid.returncode == 2
    assert invalid.stderr.startswith("<stdin>:3:6: gpu: YAML reads 1:2 as the base-60 number 62")
    as_json = run_cli("validate", "-", "--format", "json", input="type: service\nport: 0\n")
    assert as_json.returncode == 2
    # Both problems in one run: the port, and the missing `commands`/`image` (at the start).
    assert [error["path"] for error in json.loads(as_json.stdout)["errors"]] == ["commands", "port"]


def test_stdin_non_utf8(run_cli: RunCli) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "planner", "validate", "-"],
        input=b"type: service\nname: \xff\n",
        capture_output=True,
    )
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "<stdin>:2:7: the file is not UTF-8 text (byte 0xff cannot be decoded); save it as UTF-8\n"
    )


@pytest.mark.parametrize("output_format", ["text", "json"])
@pytest.mark.parametrize("fixture", ["password_with_errors.yml", "valid_full.yml"])
def test_password_never_printed(
    run_cli: RunCli, fixtures: Path, fixture: str, output_format: str
) -> None:
    secret = "hunter2-Secret" if fixture.startswith("password") else "s3cr3t-Pa55word"
    assert secret in (fixtures / fixture).read_text()
    result = run_cli("validate", fixture, "--format", output_format)
    assert result.returncode in (0, 2)
    assert secret not in result.stdout
    assert secret not in result.stderr


def test_bad_format_is_an_argument_error(run_cli: RunCli, fixtures: Path) -> None:
    result = run_cli("validate", "valid_full.yml", "--format", "yaml")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_validate_does_not_import_heavy_libraries() -> None:
    probe = (
        "import sys; from planner.cli import main; "
        f"code = main(['validate', {str(FIXTURES / 'python_310.yml')!r}]); "
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'numpy', 'ortools'}); "
        "print(code, heavy)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1] == "0 []"


def test_json_reports_every_independent_error_in_one_run(run_cli: RunCli, tmp_path: Path) -> None:
    # A field error does not hide the cross-field rules, nor one bad env entry the others.
    (tmp_path / "four.yml").write_text(
        "type: service\n"
        "port: 0\n"
        "image: vllm/vllm-openai\n"
        "python: '3.11'\n"
        "replicas: 2\n"
        "scaling:\n"
        "  metric: rps\n"
        "  target: 10\n"
        "env:\n"
        "  - HF_TOKEN\n"
        "  - 1BAD=x\n"
    )
    result = run_cli("validate", "four.yml", "--format", "json")
    assert (result.returncode, result.stderr) == (2, "")
    errors = json.loads(result.stdout)["errors"]
    assert [(error["line"], error["column"], error["path"]) for error in errors] == [
        (2, 7, "port"),
        (4, 1, "python"),
        (6, 1, "scaling"),
        (11, 5, "env[1]"),
    ]
    assert errors[0]["message"] == (
        "port 0 is out of range: a port must be greater than 0 and less than or equal to 65535 "
        "(e.g. 8000)"
    )
    assert errors[1]["message"].startswith("`image` and `python` are mutually exclusive fields")
    assert errors[2]["message"].startswith("to use `scaling`, `replicas` must be set to a range")
    assert errors[3]["message"].startswith("invalid environment variable name '1BAD'")
    text = run_cli("validate", "four.yml")
    assert [line.split(": ", 2)[:2] for line in text.stderr.splitlines()] == [
        ["four.yml:2:7", "port"],
        ["four.yml:4:1", "python"],
        ["four.yml:6:1", "scaling"],
        ["four.yml:11:5", "env[1]"],
    ]
