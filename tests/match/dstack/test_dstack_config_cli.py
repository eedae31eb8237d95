"""``--dstack-config`` and ``--rows`` through the real CLI, on the bundled snapshot."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

RunCli = Callable[..., subprocess.CompletedProcess[str]]

SECRET = "AKIA-very-secret-value-0123456789"
SERVICE = "type: service\nport: 8000\ncommands: [python serve.py]\nresources:\n  gpu: 1..\n"
SERVER = f"""\
projects:
  - name: main
    backends:
      - type: lambda
        regions: [us-east-1]
        creds:
          type: api_key
          api_key: {SECRET}
      - type: aws
        regions: [us-west-2]
        vpc_name: my-vpc
        creds:
          type: access_key
          access_key: {SECRET}
          secret_key: {SECRET}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_only_the_configured_backends_and_regions_answer(run_cli: RunCli, tmp_path: Path) -> None:
    service = write(tmp_path, "service.yml", SERVICE)
    server = write(tmp_path, "config.yml", SERVER)
    result = run_cli("offers", str(service), "--dstack-config", str(server), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["level"] == "dstack"
    found = {(offer["backend"], offer["region"]) for offer in document["offers"]}
    assert found == {("lambda", "us-east-1"), ("aws", "us-west-2")}
    assert SECRET not in result.stdout + result.stderr
    default = json.loads(run_cli("offers", str(service), "--format", "json").stdout)
    assert {offer["backend"] for offer in default["offers"]} > {"lambda", "aws"}


def test_credentials_are_never_printed_in_errors(run_cli: RunCli, tmp_path: Path) -> None:
    service = write(tmp_path, "service.yml", SERVICE)
    bad = SERVER.replace("regions: [us-west-2]", "regions: us-west-2")
    # A YAML trap inside the credentials: the value must not be quoted back.
    bad = bad.replace(f"secret_key: {SECRET}", "secret_key: 12:34:56")
    server = write(tmp_path, "config.yml", bad)
    result = run_cli("offers", str(service), "--dstack-config", str(server))
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr
    assert "12:34:56" not in result.stderr
    assert str(server) in result.stderr


def test_a_bad_file_is_a_located_error(run_cli: RunCli, tmp_path: Path) -> None:
    service = write(tmp_path, "service.yml", SERVICE)
    server = write(
        tmp_path,
        "config.yml",
        "projects:\n  - name: main\n    backends:\n      - type: aws\n        regions: us-west-2\n",
    )
    result = run_cli("offers", str(service), "--dstack-config", str(server))
    assert result.returncode == 2
    assert f"{server}:5:" in result.stderr
    assert "projects[0].backends[0].regions" in result.stderr
    unknown = write(tmp_path, "unknown.yml", "projects:\n  - backends:\n      - type: cloudy\n")
    result = run_cli("plan", str(service), "--dstack-config", str(unknown))
    assert result.returncode == 2 and f"{unknown}:3:" in result.stderr
    missing = run_cli("offers", str(service), "--dstack-config", str(tmp_path / "absent.yml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_rows_and_dstack_config_do_not_combine(run_cli: RunCli, tmp_path: Path) -> None:
    service = write(tmp_path, "service.yml", SERVICE)
    server = write(tmp_path, "config.yml", SERVER)
    for command in ("offers", "plan"):
        result = run_cli(command, str(service), "--rows", "--dstack-config", str(server))
        assert result.returncode == 2, result.stderr
        assert "--rows" in result.stderr


def test_rows_answer_with_zones_and_dstack_with_regions(run_cli: RunCli, tmp_path: Path) -> None:
    service = write(
        tmp_path,
        "service.yml",
        SERVICE.replace("1..", "L4") + "backends: [gcp]\nregions: [europe-west4]\n",
    )
    rows = run_cli("offers", str(service), "--rows")
    assert rows.returncode == 1
    assert "region in [europe-west4]" in rows.stderr
    dstack = run_cli("offers", str(service), "--format", "csv")
    assert dstack.returncode == 0, dstack.stderr
    header, first, *_ = dstack.stdout.splitlines()
    assert header.endswith(",availability_zones,availability")
    assert ",europe-west4," in first and "europe-west4-a europe-west4-b" in first


def test_plan_shows_availability_zones(run_cli: RunCli, tmp_path: Path) -> None:
    service = write(
        tmp_path,
        "service.yml",
        SERVICE.replace("1..", "L4") + "backends: [gcp]\nregions: [europe-west4]\n",
    )
    table = run_cli("plan", str(service), "--no-explain")
    assert table.returncode == 0, table.stderr
    assert "europe-west4 (a, b)" in table.stdout
    document = json.loads(run_cli("plan", str(service), "--no-explain", "--format", "json").stdout)
    offers = json.dumps(document)
    assert '"availability_zones": ["europe-west4-a", "europe-west4-b"]' in offers
    rows = run_cli("plan", str(service), "--no-explain", "--rows")
    assert rows.returncode == 1
