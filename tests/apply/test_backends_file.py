"""The backends file, plugin discovery and credentials that never show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apply_files import apply_args, write_inputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.backends.base import Backend
from planner.backends.registry import open_backend
from planner.backends.settings import load_backends
from planner.errors import InputError

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def test_settings_keep_credentials_secret(tmp_path: Path) -> None:
    path = tmp_path / "backends.yml"
    path.write_text(
        "backends:\n  main:\n    type: simulated\n    provides: [aws, gcp]\n"
        f"    region: us-east-1\n    aws_secret_access_key: {SECRET}\n"
    )
    backends = load_backends(path, environ={"MY_API_TOKEN": "tok-0123456789", "HOME": "/root"})
    (config,) = backends.backends
    assert config.provides == ("aws", "gcp") and config.line == 2
    assert backends.for_catalog_backend("GCP") is config
    assert backends.for_catalog_backend("azure") is None
    assert config.settings["region"] == "us-east-1"
    assert SECRET not in repr(config) and SECRET not in str(config.settings)
    assert config.settings["aws_secret_access_key"].get_secret_value() == SECRET
    assert config.scrub(f"denied: key {SECRET} token tok-0123456789 home /root") == (
        "denied: key *** token *** home /root"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("backends:\n  main:\n    aws_secret_access_key: {s}\n", ":2:"),  # no type
        ("backends:\n  main:\n    type: simulated\n    password: [{s}]\n", ":4:"),
        ("backends:\n  main:\n    type: simulated\n    api_token: {s}\n  x: y: z\n", ":5:"),
        ("backends:\n  main:\n    type: simulated\n    api_token: !!python/name {s}\n", ":4:"),
        ("backends:\n  main:\n    type: simulated\n    api_token: {s}\n  main: {{}}\n", ":5:"),
    ],
)
def test_a_bad_backends_file_is_located_and_never_quotes_a_credential(
    run_cli, tmp_path: Path, text: str, where: str
) -> None:
    files = write_inputs(tmp_path, backends=text.format(s=SECRET))
    result = run_cli(*apply_args(files))
    assert result.returncode == 2
    assert f"{files['backends']}{where}" in result.stderr, result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    secret=st.text(
        alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "S")), min_size=6
    ).filter(lambda text: text.strip() == text and "'" not in text),
    key=st.sampled_from(["aws_secret_access_key", "password", "api_token", "private_key"]),
)
def test_no_error_ever_quotes_a_secret_setting(tmp_path: Path, secret: str, key: str) -> None:
    path = tmp_path / "backends.yml"
    # An entry without `type`, an unknown top-level key and the secret written every way.
    path.write_text(f"backends:\n  main:\n    {key}: '{secret}'\nextra: 1\n")
    with pytest.raises(InputError) as raised:
        load_backends(path)
    assert secret not in str(raised.value)


def test_a_setting_the_plugin_does_not_know_is_named_not_quoted(run_cli, tmp_path: Path) -> None:
    backends = f"backends:\n  sim:\n    type: simulated\n    provides: aws\n    api_key: {SECRET}\n"
    files = write_inputs(tmp_path, backends=backends)
    result = run_cli(*apply_args(files))
    assert result.returncode == 2
    assert "backends.sim.api_key" in result.stderr and "unknown setting" in result.stderr
    assert SECRET not in result.stderr


def test_an_unknown_plugin_type_is_an_input_error(run_cli, tmp_path: Path) -> None:
    files = write_inputs(
        tmp_path, backends="backends:\n  x:\n    type: nosuch\n    provides: aws\n"
    )
    result = run_cli(*apply_args(files))
    assert result.returncode == 2
    assert "no backend plugin of type 'nosuch'" in result.stderr and "simulated" in result.stderr


def test_a_plan_on_a_backend_nobody_provides_is_an_input_error(run_cli, tmp_path: Path) -> None:
    files = write_inputs(
        tmp_path, backends="backends:\n  x:\n    type: simulated\n    provides: gcp\n"
    )
    result = run_cli(*apply_args(files))
    assert result.returncode == 2 and "no backend provides aws" in result.stderr


def test_a_credential_in_a_backend_error_is_scrubbed_from_the_output(
    run_cli, tmp_path: Path
) -> None:
    token = "tok-9f8e7d6c5b4a"
    files = write_inputs(
        tmp_path, replicas=1, retry="", scenario=f"pools:\n  - {{error: 'bad token {token}'}}\n"
    )
    result = run_cli(*apply_args(files, "--format", "json"), env={"SIM_API_TOKEN": token})
    assert result.returncode == 1
    assert token not in result.stdout + result.stderr + files["state"].read_text()
    assert "bad token ***" in result.stdout


def test_a_third_party_plugin_is_found_through_its_entry_point(run_cli, tmp_path: Path) -> None:
    # An installed distribution, as pip leaves one: a module and a dist-info with entry points.
    site = tmp_path / "site"
    (site / "acme_cloud.py").parent.mkdir(parents=True)
    (site / "acme_cloud.py").write_text(
        "from planner.backends.simulated import SimulatedBackend\n\n"
        "class AcmeBackend(SimulatedBackend):\n    type = 'acme'\n"
    )
    dist = site / "acme_cloud-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-cloud\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[planner.backends]\nacme = acme_cloud:AcmeBackend\n")
    files = write_inputs(
        tmp_path / "run",
        replicas=1,
        backends="backends:\n  mine:\n    type: acme\n    provides: [aws]\n    store: c.json\n",
    )
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    result = run_cli(*apply_args(files, "--format", "json"), env={"PYTHONPATH": path})
    assert result.returncode == 0, result.stderr
    (slot,) = json.loads(result.stdout)["slots"]
    assert slot["instance"]["backend"] == "mine"
    assert (tmp_path / "run" / "c.json").exists()
    # The same discovery, from the library.
    code = "from planner.backends.registry import available_types; print(available_types())"
    listed = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": path},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "'acme'" in listed.stdout and "'simulated'" in listed.stdout


def test_the_simulated_backend_satisfies_the_protocol(tmp_path: Path) -> None:
    path = tmp_path / "backends.yml"
    path.write_text("backends:\n  sim:\n    type: simulated\n")
    (config,) = load_backends(path).backends
    backend = open_backend(config)
    assert isinstance(backend, Backend)
    assert backend.list_created("web") == ()


def test_a_state_file_of_another_plan_with_live_instances_is_refused(
    run_cli, tmp_path: Path
) -> None:
    files = write_inputs(tmp_path, replicas=1)
    assert run_cli(*apply_args(files)).returncode == 0
    files["service"].write_text(files["service"].read_text().replace("replicas: 1", "replicas: 2"))
    result = run_cli(*apply_args(files))
    assert result.returncode == 2
    assert "planner destroy" in result.stderr and str(files["state"]) in result.stderr
