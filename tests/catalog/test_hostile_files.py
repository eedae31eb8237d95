"""Issue 8, items 9, 12, 13 and 14 (catalog files): a local zip has the download's expansion cap,
corrupt or doubled zip members and doubled CSV columns are refused with a clear error, a long URL
file name is no traceback, and absurd numbers are malformed rows, without a numpy warning."""

from __future__ import annotations

import subprocess
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from v3_server import CatalogServer, Fault, gpuhunt_csv, offer_row, sample_rows, zip_bytes

from planner.catalog import Catalog
from planner.catalog.archive import ArchiveLimits
from planner.catalog.columns import GPUHUNT_FIELDS
from planner.catalog.loaders.gpuhunt import load_zip
from planner.errors import CatalogError

RunCli = Callable[..., subprocess.CompletedProcess[str]]
V1 = "20260101-1"
HEADER = ",".join(GPUHUNT_FIELDS)


def corrupt_deflate(data: bytes) -> bytes:
    """A zip whose first member's deflate stream is garbled (CRC and sizes left as they were)."""
    raw = bytearray(data)
    start = raw.index(b".csv") + len(".csv") + 20
    raw[start : start + 8] = b"\xff" * 8
    return bytes(raw)


def big_csv(provider: str, rows: int = 3000) -> bytes:
    return gpuhunt_csv(
        [offer_row(f"{provider}-{n}-{n * 7919 % 1013}", 0.01 * (n + 1)) for n in range(rows)]
    )


# --- item 9: one expansion cap for downloaded and local zips ---------------------------------


def test_a_local_zip_bomb_is_refused_quickly(run_cli: RunCli, tmp_path: Path) -> None:
    # 64 MB of blank lines (skipped by CSV readers) after a valid header: ~1000x compression.
    member = (HEADER + "\n").encode() + b"\n" * (64 << 20)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("aws.csv", member)
    assert path.stat().st_size < 200_000

    started = time.monotonic()
    result = run_cli("catalog", "show", "--catalog", str(path))

    assert result.returncode == 2, result.stderr
    assert "refusing a possible zip bomb" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30


def test_local_zips_use_the_download_limits(tmp_path: Path) -> None:
    path = tmp_path / "catalog.zip"
    path.write_bytes(zip_bytes({"aws.csv": big_csv("aws")}))
    with pytest.raises(CatalogError, match="possible zip bomb"):
        load_zip(path, limits=ArchiveLimits(max_ratio=1.5, ratio_floor_bytes=1000))
    assert len(load_zip(path)[0].table) == 3000


# --- item 12: corrupt deflate data, long URL file names -------------------------------------


def test_corrupt_deflate_in_a_local_zip_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "catalog.zip"
    path.write_bytes(corrupt_deflate(zip_bytes({"aws.csv": big_csv("aws")})))
    with pytest.raises(CatalogError, match="is corrupt"):
        Catalog.load(path)


def test_a_corrupt_provider_does_not_keep_the_good_ones_out(
    run_cli: RunCli, catalog_http_server: CatalogServer
) -> None:
    server = catalog_http_server
    server.publish("aws", V1)
    server.publish("gcp", V1, archive=corrupt_deflate(zip_bytes({"gcp.csv": big_csv("gcp")})))
    server.publish("azure", V1)

    result = run_cli(
        "catalog", "update", "--base-url", server.base_url, "--provider", "aws,gcp,azure",
        "--retries", "0", "--format", "json",
    )  # fmt: skip
    show = run_cli("catalog", "show", "--catalog", "cache", "--format", "json")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "provider gcp:" in result.stderr and "'gcp.csv' is corrupt" in result.stderr
    assert '"status": "downloaded"' in result.stdout
    assert show.returncode == 0, show.stderr
    assert '"aws"' in show.stdout and '"azure"' in show.stdout and '"gcp"' not in show.stdout


@pytest.mark.parametrize("length", [300, 5000])
def test_a_long_url_file_name_is_fetched(
    run_cli: RunCli, catalog_http_server: CatalogServer, tmp_path: Path, length: int
) -> None:
    name = "a" * length + ".csv"
    # Served from memory: no file system here holds a name that long either.
    catalog_http_server.inject(f"files/{name}", Fault(body=gpuhunt_csv(sample_rows("aws"))))

    result = run_cli("catalog", "show", "--catalog", f"{catalog_http_server.base_url}/files/{name}")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    names = [path.name for path in (tmp_path / "cache").rglob("*")]
    assert names and all(len(name) < 200 for name in names)


# --- item 14: a provider twice in a zip, a column twice in a header -------------------------


@pytest.mark.parametrize(
    "names", [("aws.csv", "aws.csv"), ("aws.csv", "AWS.csv")], ids=["same", "case"]
)
def test_a_zip_holding_a_provider_twice_is_refused(
    tmp_path: Path, run_cli: RunCli, names: tuple[str, str]
) -> None:
    path = tmp_path / "catalog.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it writes
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(names[0], gpuhunt_csv(sample_rows("aws")))
            archive.writestr(names[1], gpuhunt_csv(sample_rows("aws", price_scale=2.0)))

    result = run_cli("catalog", "show", "--catalog", str(path))

    assert result.returncode == 2, result.stderr
    assert "provider 'aws' is in the zip twice" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("header", "column"),
    [
        (HEADER + ",price", "price"),  # a column the loader reads
        (HEADER + ",note,note", "note"),  # one it does not
    ],
    ids=["read", "unread"],
)
def test_a_column_named_twice_is_refused(tmp_path: Path, header: str, column: str) -> None:
    extra = header.count(",") - HEADER.count(",")
    row = ",".join(offer_row("m5", 1.0)[name] for name in GPUHUNT_FIELDS) + ",x" * extra
    path = tmp_path / "aws.csv"
    path.write_text(f"{header}\n{row}\n")
    with pytest.raises(CatalogError, match=rf"aws.csv:1: duplicate column.*'{column}' \(columns"):
        Catalog.load(path)


def test_unnamed_columns_may_repeat(tmp_path: Path) -> None:
    row = ",".join(offer_row("m5", 1.0)[name] for name in GPUHUNT_FIELDS)
    path = tmp_path / "aws.csv"
    path.write_text(f"{HEADER},,\n{row},,\n")
    assert len(Catalog.load(path)) == 1


# --- item 13: absurd numbers are malformed rows, and numpy stays quiet -----------------------

SKYPILOT = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region"
)
GPU_INFO = "\"{'Gpus': [{'Name': 'H100', 'Count': 1, 'MemoryInfo': {'SizeInMiB': %s}}]}\""


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (f"big,H100,1.0,26.0,1.7e308,{GPU_INFO % 81920},2.49,,us", "MemoryGiB is too large"),
        (f"big,H100,1.0,26.0,200,{GPU_INFO % 81920},1e300,,us", "Price is too large"),
        (f"big,H100,1.0,26.0,200,{GPU_INFO % 81920},2.0,1e308,us", "SpotPrice is too large"),
        (f"big,H100,1e30,26.0,200,{GPU_INFO % 81920},2.0,,us", "AcceleratorCount is too large"),
        (f"big,H100,1.0,26.0,200,{GPU_INFO % ('9' * 400)},2.0,,us", "GPU memory"),
        (f"big,H100,1.0,26.0,200,{GPU_INFO % ('9' * 12)},2.0,,us", "GPU memory"),
        ("big,,,1e300,200,,2.0,,us", "vCPUs is too large"),
        ("big,,,8,200,,inf,,us", "Price is not finite"),
    ],
    ids=[
        "memory",
        "price",
        "spot",
        "count",
        "gpu-mib-400-digits",
        "gpu-mib-12-digits",
        "cpus",
        "inf",
    ],
)
def test_an_absurd_skypilot_number_is_a_malformed_row(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = tmp_path / "aws" / "vms.csv"
    path.parent.mkdir()
    path.write_text(f"{SKYPILOT}\nok,,,8,32,,1.0,,us\n{line}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow) fails the test
        catalog = Catalog.load(path)
    assert len(catalog) == 1
    (issue,) = catalog.issues
    assert issue.line == 3 and reason in issue.reason, issue


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("memory", "1.7e308"),
        ("price", "1e13"),
        ("gpu_memory", "1e300"),
        ("disk_size", "1.7e308"),
        ("cpu", "2147483648"),
        ("gpu_count", "99999999999"),
    ],
)
def test_an_absurd_gpuhunt_number_is_a_malformed_row(
    tmp_path: Path, column: str, value: str
) -> None:
    good = offer_row("ok", 1.0, gpu_count=1, gpu_name="H100", gpu_memory="80", gpu_vendor="nvidia")
    bad = {**good, column: value}
    path = tmp_path / "aws.csv"
    path.write_bytes(gpuhunt_csv([good, bad]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        catalog = Catalog.load(path)
    assert len(catalog) == 1
    (issue,) = catalog.issues
    assert (issue.line, issue.column) == (3, column)
    assert f"{column} is too large" in issue.reason


def test_the_cli_prints_no_numpy_warning(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "aws" / "vms.csv"
    path.parent.mkdir()
    path.write_text(f"{SKYPILOT}\nok,,,8,32,,1.0,,us\nbig,,,8,1.7e308,,1.0,,us\n")
    result = run_cli("catalog", "stats", "--catalog", str(path))
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr
    assert "vms.csv:3: MemoryGiB is too large" in result.stdout


def test_a_zip_member_with_an_empty_name_is_an_error(run_cli: RunCli, tmp_path: Path) -> None:
    # zipfile's ZipInfo.is_dir() raised IndexError on such a member (found by the fuzz test).
    path = tmp_path / "empty-name.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo(""), b"provider\n")
    result = run_cli("catalog", "show", "--catalog", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "empty name" in result.stderr
