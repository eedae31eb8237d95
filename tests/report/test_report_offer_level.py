"""`planner report --rows / --dstack-config`: the report plans on the same offers as `plan` would."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import planner

RunCli = Callable[..., CompletedProcess[str]]

GCP_L4 = """\
type: service
port: 8000
commands: [python serve.py]
resources:
  gpu: L4
backends: [gcp]
regions: [europe-west4]
"""
A100 = """\
type: service
port: 8000
commands: [python serve.py]
resources:
  gpu: A100:1..
"""
SERVER = """\
projects:
- name: main
  backends:
  - type: datacrunch
    creds: {type: api_key, client_id: id-123, client_secret: secret-456}
"""


def _regions(report: planner.Report) -> set[str]:
    return {line.region for service in report.services for line in service.placements}


def test_report_plans_on_region_offers_by_default_and_on_rows_on_request(tmp_path: Path) -> None:
    (tmp_path / "l4.yml").write_text(GCP_L4)
    assert _regions(planner.report([tmp_path])) == {"europe-west4"}
    # On catalog rows a gcp location is a zone, and `regions` compares it as gpuhunt does.
    (tmp_path / "l4.yml").write_text(GCP_L4.replace("regions: [europe-west4]\n", ""))
    regions = _regions(planner.report([tmp_path]))
    zones = _regions(planner.report([tmp_path], rows=True))
    assert regions and not any(region[-2:-1] == "-" for region in regions)
    assert zones and all(zone[-2:-1] == "-" for zone in zones)


def test_report_with_a_server_config_uses_only_its_backends(
    run_cli: RunCli, tmp_path: Path
) -> None:
    services = tmp_path / "services"
    services.mkdir()
    (services / "a100.yml").write_text(A100)
    server = tmp_path / "server.yml"
    server.write_text(SERVER)
    result = run_cli("report", str(services), "--dstack-config", str(server), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    (service,) = document["services"]
    assert {line["backend"] for line in service["placements"]} == {"datacrunch"}
    assert "secret-456" not in result.stdout + result.stderr


def test_rows_and_a_server_config_are_refused_together(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "a100.yml").write_text(A100)
    server = tmp_path / "server.yml"
    server.write_text(SERVER)
    result = run_cli("report", str(tmp_path / "a100.yml"), "--rows", "--dstack-config", str(server))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
