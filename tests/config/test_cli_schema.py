"""``planner schema``: a valid JSON Schema that agrees with the validator on real files."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def schema(run_cli: RunCli) -> dict[str, object]:
    result = run_cli("schema")
    assert result.returncode == 0
    assert result.stderr == ""
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_schema_is_a_draft_2020_12_schema(schema: dict[str, object]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    properties = schema["properties"]
    assert isinstance(properties, dict)
    assert {"type", "port", "resources", "replicas", "registry_auth"} <= set(properties)


@pytest.mark.parametrize("fixture", ["valid_full.yml", "python_310.yml"])
def test_valid_fixtures_satisfy_the_schema(schema: dict[str, object], fixture: str) -> None:
    document = yaml.safe_load((FIXTURES / fixture).read_text())
    jsonschema.Draft202012Validator(schema).validate(document)


@pytest.mark.parametrize(
    "document",
    [
        {"type": "service", "commands": ["x"]},  # no port
        {"type": "task", "port": 80, "commands": ["x"]},
        {"type": "service", "port": 80, "commands": ["x"], "replica": 2},
    ],
)
def test_schema_rejects_invalid_documents(
    schema: dict[str, object], document: dict[str, object]
) -> None:
    assert not jsonschema.Draft202012Validator(schema).is_valid(document)


def test_output_file_matches_stdout(
    run_cli: RunCli, schema: dict[str, object], tmp_path: Path
) -> None:
    target = tmp_path / "schema.json"
    written = run_cli("schema", "--output", str(target))
    assert (written.returncode, written.stdout, written.stderr) == (0, "", "")
    assert json.loads(target.read_text()) == schema


def test_output_to_missing_directory_is_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "schema.json"
    result = run_cli("schema", "--output", str(target))
    assert result.returncode == 2
    assert str(target) in result.stderr and "cannot write the schema" in result.stderr
    assert "Traceback" not in result.stderr
    assert not target.exists()
