"""``planner offers`` through the real CLI, against a small gpuhunt-format catalog directory."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., subprocess.CompletedProcess[str]]

HEADER = (
    "instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot,disk_size,"
    "gpu_vendor,flags,cpu_arch,provider_data"
)
CATALOG = {
    "aws.csv": [
        "m5.2xlarge,us-east-1,0.384,8,32.0,0,,,False,,,,x86,",
        "g5.2xlarge,us-east-1,1.212,8,32.0,1,A10G,24.0,False,,nvidia,,x86,",
        "g5.2xlarge,us-east-1,0.45,8,32.0,1,A10G,24.0,True,,nvidia,,x86,",
        "g5.2xlarge,eu-west-1,1.3,8,32.0,1,A10G,24.0,False,,nvidia,,x86,",
        "p4d.24xlarge,us-east-1,32.7726,96,1152.0,8,A100,40.0,False,,nvidia,,x86,",
    ],
    "lambdalabs.csv": [
        "gpu_1x_a10,us-east-1,0.75,30,200.0,1,A10,24.0,False,1400.0,nvidia,,x86,",
        "gpu_8x_h100_sxm5,us-west-1,23.92,208,1800.0,8,H100,80.0,False,24000.0,nvidia,,x86,",
        "gpu_1x_gh200,us-east-3,1.49,64,432.0,1,GH200,96.0,False,4000.0,nvidia,lambda-arm,arm,",
    ],
    "gcp.csv": [
        "g2-standard-8,us-central1-a,0.85,8,32.0,1,L4,24.0,False,,nvidia,,x86,",
        "g4-standard-48,us-central1-b,4.5,48,180.0,1,RTXPRO6000,96.0,False,,nvidia,gcp-g4-preview,x86,",
    ],
}
SERVICE = """\
type: service
port: 8000
commands: [python serve.py]
resources:
  gpu: 24GB..:1
"""


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "catalog"
    directory.mkdir()
    for name, rows in CATALOG.items():
        (directory / name).write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    return directory


def write_service(tmp_path: Path, text: str = SERVICE) -> Path:
    path = tmp_path / "service.yml"
    path.write_text(text, encoding="utf-8")
    return path


def offers_json(run_cli: RunCli, *args: str) -> dict:
    result = run_cli("offers", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    document: dict = json.loads(result.stdout)
    return document


def test_table_lists_matching_offers_cheapest_first(
    run_cli: RunCli, tmp_path: Path, catalog_dir: Path
) -> None:
    result = run_cli("offers", str(write_service(tmp_path)), "--catalog", str(catalog_dir))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "BACKEND", "REGION", "INSTANCE", "RESOURCES", "SPOT", "PRICE"]
    rows = lines[1:-3]  # the table ends with a blank line, the count, and the catalog line
    # 1 GPU with >= 24 GB, on-demand, NVIDIA, x86, no unsupported flags; cheapest first.
    assert [row.split()[3] for row in rows] == [
        "gpu_1x_a10",
        "g2-standard-8",
        "g5.2xlarge",
        "g5.2xlarge",
    ]
    assert rows[0].split()[1] == "lambda"  # the dstack backend name, not "lambdalabs"
    assert "30xCPU, 200GB, 1xA10 (24GB), 1400.0GB (disk)" in rows[0]
    assert "8xCPU, 32GB, 1xL4 (24GB), 100.0GB (disk)" in rows[1]  # sized like dstack
    assert rows[0].rstrip().endswith("$0.75")
    assert lines[-2] == "shown 4 of 4 offers"
    assert lines[-1].startswith(f"catalog: {catalog_dir}, as of ")


def test_json_document(run_cli: RunCli, tmp_path: Path, catalog_dir: Path) -> None:
    document = offers_json(run_cli, str(write_service(tmp_path)), "--catalog", str(catalog_dir))
    assert set(document) >= {"requirements", "total_offers", "offers", "catalog", "exclusions"}
    assert document["total_offers"] == 4
    assert document["requirements"]["min_gpu_memory_gb"] == 24.0
    assert document["requirements"]["spot"] is False
    first = document["offers"][0]
    assert first == {
        "backend": "lambda",
        "provider": "lambdalabs",
        "region": "us-east-1",
        "instance_type": "gpu_1x_a10",
        "spot": False,
        "price": 0.75,
        "cpu": 30,
        "cpu_arch": "x86",
        "memory_gb": 200.0,
        "disk_gb": 1400.0,
        "gpu_vendor": "nvidia",
        "gpu_name": "A10",
        "gpu_count": 1,
        "gpu_memory_gb": 24.0,
        "flags": [],
        # dstack-level offers (the default) add zones (when the backend lists them) and
        # availability, which only live APIs know
        "availability_zones": None,
        "availability": "unknown",
    }
    # gcp states no disk: dstack fits its configurable disk to the request (100 GB by default)
    assert document["offers"][1]["disk_gb"] == 100.0
    assert len(document["catalog"]["sources"]) == 1
    assert "as_of" in document["catalog"]
    by_requirement = {item["requirement"]: item for item in document["exclusions"]}
    assert by_requirement["spot"]["excluded"] == 1
    assert by_requirement["spot"]["cheapest_excluded_price"] == 0.45


def test_max_offers_limits_the_list_not_the_total(
    run_cli: RunCli, tmp_path: Path, catalog_dir: Path
) -> None:
    service = str(write_service(tmp_path))
    document = offers_json(run_cli, service, "--catalog", str(catalog_dir), "--max-offers", "1")
    assert document["total_offers"] == 4
    assert [offer["instance_type"] for offer in document["offers"]] == ["gpu_1x_a10"]
    table = run_cli("offers", service, "--catalog", str(catalog_dir), "--max-offers", "2")
    assert table.stdout.splitlines()[-2] == "shown 2 of 4 offers"
    bad = run_cli("offers", service, "--catalog", str(catalog_dir), "--max-offers", "0")
    assert bad.returncode == 2
    assert "positive integer" in bad.stderr


def test_csv_output(run_cli: RunCli, tmp_path: Path, catalog_dir: Path) -> None:
    result = run_cli(
        "offers", str(write_service(tmp_path)), "--catalog", str(catalog_dir), "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["instance_type"] for row in rows] == [
        "gpu_1x_a10",
        "g2-standard-8",
        "g5.2xlarge",
        "g5.2xlarge",
    ]
    # dstack fits a configurable disk (gcp) to the request: 100 GB by default.
    assert rows[1]["disk_gb"] == "100.0"
    assert rows[0]["spot"] == "false"
    assert rows[0]["price"] == "0.75"


def test_spot_auto_and_backends_from_the_configuration(
    run_cli: RunCli, tmp_path: Path, catalog_dir: Path
) -> None:
    service = write_service(tmp_path, SERVICE + "spot_policy: auto\nbackends: [aws]\n")
    document = offers_json(run_cli, str(service), "--catalog", str(catalog_dir))
    assert [(o["instance_type"], o["spot"], o["price"]) for o in document["offers"]] == [
        ("g5.2xlarge", True, 0.45),
        ("g5.2xlarge", False, 1.212),
        ("g5.2xlarge", False, 1.3),
    ]


def test_group_by_gpu_and_backend(run_cli: RunCli, tmp_path: Path, catalog_dir: Path) -> None:
    service = write_service(tmp_path, SERVICE + "spot_policy: auto\n")
    args = ("offers", str(service), "--catalog", str(catalog_dir), "--group-by", "gpu,backend")
    table = run_cli(*args)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == [
        "#",
        "GPU",
        "SPOT",
        "$/GPU",
        "BACKEND",
        "REGIONS",
    ]
    assert "A10G:24GB:1" in table.stdout
    document = json.loads(run_cli(*args, "--format", "json").stdout)
    assert document["group_by"] == ["gpu", "backend"]
    a10g = next(group for group in document["groups"] if group["name"] == "A10G")
    assert a10g["backend"] == "aws"
    assert a10g["spot"] == ["spot", "on-demand"]
    assert a10g["price"] == {"min": 0.45, "max": 1.3}
    assert a10g["regions"] == ["eu-west-1", "us-east-1"]


def test_group_by_needs_gpu(run_cli: RunCli, tmp_path: Path, catalog_dir: Path) -> None:
    result = run_cli(
        "offers",
        str(write_service(tmp_path)),
        "--catalog",
        str(catalog_dir),
        "--group-by",
        "backend",
    )
    assert result.returncode == 2
    assert "without also grouping by 'gpu'" in result.stderr
    assert "Traceback" not in result.stderr


def test_nothing_matches_exits_1_with_the_reason(
    run_cli: RunCli, tmp_path: Path, catalog_dir: Path
) -> None:
    service = write_service(tmp_path, SERVICE + "max_price: 0.5\n")
    result = run_cli("offers", str(service), "--catalog", str(catalog_dir))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "price ≤ $0.5: excluded" in result.stderr
    assert "the cheapest was $0.75/h" in result.stderr


def test_malformed_rows_warn_on_stderr_and_strict_refuses_them(
    run_cli: RunCli, tmp_path: Path, catalog_dir: Path
) -> None:
    with (catalog_dir / "aws.csv").open("a", encoding="utf-8") as handle:
        handle.write("broken,us-east-1,1.0,8.0,32.0,0,,,False,,,,x86,\r\n")
    service = str(write_service(tmp_path))
    result = run_cli("offers", service, "--catalog", str(catalog_dir), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr and "aws.csv" in result.stderr
    json.loads(result.stdout)  # stdout stays pure JSON
    strict = run_cli("offers", service, "--catalog", str(catalog_dir), "--strict")
    assert strict.returncode == 2
    assert "aws.csv" in strict.stderr


def test_bad_configuration_is_exit_2(run_cli: RunCli, tmp_path: Path, catalog_dir: Path) -> None:
    service = write_service(tmp_path, SERVICE + "resources_typo: 1\n")
    result = run_cli("offers", str(service), "--catalog", str(catalog_dir))
    assert result.returncode == 2
    assert "service.yml" in result.stderr
    assert "Traceback" not in result.stderr


def test_amd_without_image_is_exit_2(run_cli: RunCli, tmp_path: Path, catalog_dir: Path) -> None:
    service = write_service(tmp_path, SERVICE.replace("24GB..:1", "MI300X"))
    result = run_cli("offers", str(service), "--catalog", str(catalog_dir))
    assert result.returncode == 2
    assert "`image` must be set" in result.stderr


def test_json_with_no_match_still_prints_the_document_and_exits_1(
    run_cli: RunCli, tmp_path: Path, catalog_dir: Path
) -> None:
    service = write_service(tmp_path, SERVICE + "backends: [kubernetes]\n")
    # Catalog rows: every one of the 10 is excluded by the backend (dstack-level: 9 offers).
    result = run_cli(
        "offers", str(service), "--catalog", str(catalog_dir), "--format", "json", "--rows"
    )
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["total_offers"] == 0
    assert document["offers"] == []
    backends = next(e for e in document["exclusions"] if e["requirement"] == "backends")
    assert backends["excluded"] == 10
    assert "backend in [kubernetes]: excluded 10 offers" in result.stderr


def test_group_table_says_how_many_groups_the_limit_left_out(
    run_cli: RunCli, tmp_path: Path, catalog_dir: Path
) -> None:
    """The table's default limit applies to groups too; the footer must say so, not hide them."""
    service = write_service(tmp_path, SERVICE + "spot_policy: auto\n")
    args = ("offers", str(service), "--catalog", str(catalog_dir), "--group-by", "gpu,backend")
    everything = json.loads(run_cli(*args, "--format", "json").stdout)
    assert everything["total_groups"] == len(everything["groups"]) > 1
    table = run_cli(*args, "--max-offers", "1")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[-2] == (
        f"shown 1 of {everything['total_groups']} groups ({everything['total_offers']} offers)"
    )
    assert len(lines) == 5  # header, one group, blank line, footer, the catalog line
    limited = json.loads(run_cli(*args, "--format", "json", "--max-offers", "1").stdout)
    assert limited["total_groups"] == everything["total_groups"]
    assert limited["groups"] == everything["groups"][:1]


def test_group_table_with_offers_but_no_gpu_group_is_not_silent(
    run_cli: RunCli, tmp_path: Path, catalog_dir: Path
) -> None:
    """`gpu: 0..1` with only CPU rows matching: GPU groups are empty, and the output says so."""
    service = write_service(
        tmp_path,
        SERVICE.replace("gpu: 24GB..:1", "gpu: 0..1\n  cpu: 8\n  memory: 32GB")
        + "max_price: 0.4\n",
    )
    args = ("offers", str(service), "--catalog", str(catalog_dir), "--group-by", "gpu")
    offers = json.loads(
        run_cli("offers", str(service), "--catalog", str(catalog_dir), "--format", "json").stdout
    )
    assert [offer["gpu_count"] for offer in offers["offers"]] == [0]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "shown 0 of 0 groups (1 offer)"
    assert result.stdout.splitlines()[1].startswith("catalog: ")


def test_why_not_when_requirements_pass_alone_but_not_together(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """Each row fails two requirements: no near miss to name, and the output says so."""
    directory = tmp_path / "conflict"
    directory.mkdir()
    rows = [
        "a,us-east-1,3.0,8,32.0,1,A100,40.0,True,,nvidia,,x86,",  # spot, dear
        "b,us-east-1,3.0,8,32.0,1,H100,80.0,False,,nvidia,,x86,",  # wrong GPU, dear
        "c,us-east-1,1.0,8,32.0,1,H100,80.0,True,,nvidia,,x86,",  # wrong GPU, spot
    ]
    (directory / "aws.csv").write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    service = write_service(tmp_path, SERVICE.replace("24GB..:1", "A100") + "max_price: 2\n")
    # --rows: the made-up aws instance names are not in dstack's aws allowlist.
    result = run_cli("offers", str(service), "--catalog", str(directory), "--rows")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "fail only this requirement" not in result.stderr
    assert "each requirement alone is met by some offer" in result.stderr
    assert "relaxing one alone is not enough" in result.stderr


def test_control_characters_in_catalog_strings_are_escaped_in_tables(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """A catalog from anywhere: a newline must not break the table, ESC must not reach the tty."""
    directory = tmp_path / "odd"
    directory.mkdir()
    name = "evil\x1b[31mred\nline"
    rows = [f'"{name}",us-east-1,1.0,8,32.0,1,A10G,24.0,False,,nvidia,,x86,']
    (directory / "aws.csv").write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    service = write_service(tmp_path)
    # --rows: the made-up aws instance name is not in dstack's aws allowlist.
    table = run_cli("offers", str(service), "--catalog", str(directory), "--rows")
    assert table.returncode == 0, table.stderr
    assert "\x1b" not in table.stdout
    assert table.stdout.splitlines()[1].split()[3] == "evil\\x1b[31mred\\nline"
    groups = run_cli(
        "offers", str(service), "--catalog", str(directory), "--group-by", "gpu", "--rows"
    )
    assert groups.returncode == 0 and "\x1b" not in groups.stdout
    shown = run_cli("catalog", "show", "--catalog", str(directory))
    assert shown.returncode == 0 and "\x1b" not in shown.stdout
    # Machine formats keep the value as the catalog has it.
    document = json.loads(
        run_cli(
            "offers", str(service), "--catalog", str(directory), "--format", "json", "--rows"
        ).stdout
    )
    assert document["offers"][0]["instance_type"] == name
    csv_out = run_cli(
        "offers", str(service), "--catalog", str(directory), "--format", "csv", "--rows"
    ).stdout
    assert next(csv.DictReader(io.StringIO(csv_out)))["instance_type"] == name
