"""`planner catalog update|show|stats|import` through the real CLI, against a local HTTP server."""

from __future__ import annotations

# `planner offers --rows`: these tests are about the catalog's rows, not dstack's backend rules
# (made-up rows are often no offer of any dstack backend).
import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from v3_server import (
    CatalogServer,
    Fault,
    gpuhunt_csv,
    offer_row,
    sample_rows,
    tree_digest,
    zip_bytes,
)

from planner.catalog import Catalog, read_table
from planner.catalog.columns import COLUMNS, GPUHUNT_FIELDS
from planner.catalog.download import cached_catalog_path, update_catalog

RunCli = Callable[..., subprocess.CompletedProcess[str]]
V1, V2 = "20260101-1", "20260202-2"
CATEGORIES = [name for name, dtype in COLUMNS.items() if dtype == "category"]
FAST = ("--timeout", "0.5", "--retries", "1")


def update(run_cli: RunCli, server: CatalogServer, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "catalog", "update", "--base-url", server.base_url, "--provider", "aws,gcp", *FAST, *args
    )


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"  # what run_cli sets PLANNER_CACHE_DIR to


@pytest.fixture
def cached_v1(catalog_http_server: CatalogServer, cache_dir: Path) -> Path:
    """A cache holding V1 of aws and gcp, downloaded by a successful update (in-process: faster)."""
    catalog_http_server.publish("aws", V1)
    catalog_http_server.publish("gcp", V1)
    report = update_catalog(catalog_http_server.base_url, ["aws", "gcp"], cache_dir)
    assert [r.status for r in report.results] == ["downloaded", "downloaded"]
    return cache_dir


def cached_versions(cache_dir: Path) -> dict[str, str | None]:
    """provider -> version, as recorded in the table the `cache` keyword loads."""
    sources = read_table(cached_catalog_path(cache_dir)).sources
    return {source.providers[0]: source.version for source in sources}


# --- success paths --------------------------------------------------------------------------


def test_first_update_caches_each_provider_byte_for_byte(
    run_cli: RunCli, catalog_http_server: CatalogServer, cache_dir: Path
) -> None:
    served = gpuhunt_csv(sample_rows("aws"))
    catalog_http_server.publish("aws", V1, served)
    catalog_http_server.publish("gcp", V1)

    result = update(run_cli, catalog_http_server)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        "PROVIDER  VERSION     STATUS      ROWS  REPLACED",
        f"aws       {V1}  downloaded     5",
        f"gcp       {V1}  downloaded     5",
    ]
    assert (cache_dir / "catalogs/aws" / V1 / "aws.csv").read_bytes() == served
    assert cached_versions(cache_dir)["aws"] == V1
    assert cached_versions(cache_dir)["gcp"] == V1
    assert result.stderr == ""  # not a terminal: no progress bar, no warnings


def test_unchanged_version_is_not_downloaded_again(
    run_cli: RunCli, catalog_http_server: CatalogServer, cached_v1: Path
) -> None:
    before = tree_digest(cached_v1)

    result = update(run_cli, catalog_http_server)

    assert result.returncode == 0, result.stderr
    assert [line.split()[2] for line in result.stdout.splitlines()[1:3]] == ["unchanged"] * 2
    assert catalog_http_server.count(f"aws/{V1}/catalog.zip") == 1
    assert catalog_http_server.count("aws/version") == 2
    assert tree_digest(cached_v1) == before


def test_new_version_replaces_the_old_one(
    run_cli: RunCli, catalog_http_server: CatalogServer, cached_v1: Path
) -> None:
    catalog_http_server.publish("aws", V2, gpuhunt_csv(sample_rows("aws", price_scale=2.0)))

    result = update(run_cli, catalog_http_server, "--format", "json")

    assert result.returncode == 0, result.stderr
    statuses = {p["provider"]: p for p in json.loads(result.stdout)["providers"]}
    assert statuses["aws"]["status"] == "downloaded"
    assert statuses["aws"]["previous_version"] == V1
    assert statuses["gcp"]["status"] == "unchanged"
    assert cached_versions(cached_v1)["aws"] == V2
    assert not (cached_v1 / "catalogs/aws" / V1).exists()
    assert cached_versions(cached_v1) == {"aws": V2, "gcp": V1}


def test_a_server_error_is_retried(
    run_cli: RunCli, catalog_http_server: CatalogServer, cache_dir: Path
) -> None:
    catalog_http_server.publish("aws", V1)
    catalog_http_server.publish("gcp", V1)
    catalog_http_server.inject(f"aws/{V1}/catalog.zip", Fault(status=500))
    catalog_http_server.inject("gcp/version", Fault(status=503))

    result = update(run_cli, catalog_http_server)

    assert result.returncode == 0, result.stderr
    assert catalog_http_server.count(f"aws/{V1}/catalog.zip") == 2
    assert catalog_http_server.count("gcp/version") == 2
    assert "aws" in cached_versions(cache_dir)


def test_base_url_from_the_environment(
    run_cli: RunCli, catalog_http_server: CatalogServer, cache_dir: Path
) -> None:
    catalog_http_server.publish("oci", V1)
    result = run_cli(
        "catalog",
        "update",
        "--provider",
        "oci",
        env={"PLANNER_CATALOG_URL": catalog_http_server.base_url},
    )
    assert result.returncode == 0, result.stderr
    assert catalog_http_server.count("oci/version") == 1


def test_some_malformed_rows_are_skipped_with_a_warning(
    run_cli: RunCli, catalog_http_server: CatalogServer, cache_dir: Path
) -> None:
    rows = sample_rows("aws")
    rows.append({**offer_row("aws-bad", 99.0), "cpu": "8.0"})
    catalog_http_server.publish("aws", V1, gpuhunt_csv(rows))
    catalog_http_server.publish("gcp", V1)

    result = update(run_cli, catalog_http_server)

    assert result.returncode == 0, result.stderr
    assert "warning: aws: skipped 1 malformed rows of 6" in result.stderr
    assert "line 7" in result.stderr
    stats = run_cli("catalog", "stats", "--catalog", "cache", "--format", "json")
    assert stats.returncode == 0, stats.stderr
    document = json.loads(stats.stdout)
    assert document["rows"] == 10
    assert document["dropped"]["total"] == 1


def test_offers_read_the_cache(
    run_cli: RunCli, catalog_http_server: CatalogServer, cached_v1: Path, tmp_path: Path
) -> None:
    service = tmp_path / "service.yml"
    service.write_text(
        "type: service\nimage: nginx\nport: 80\nresources:\n  gpu: H100:8\nspot_policy: auto\n"
    )
    result = run_cli("offers", "--rows", str(service), "--catalog", "cache", "--format", "json")
    assert result.returncode == 0, result.stderr
    offers = json.loads(result.stdout)["offers"]
    assert [(o["provider"], o["price"]) for o in offers] == [
        ("aws", 12.5),
        ("gcp", 12.5),
        ("aws", 30.0),
        ("gcp", 30.0),
    ]


# --- failures: exit 2, a message naming provider and URL, the cache left byte-identical --------


def _member_bytes(provider: str) -> bytes:
    return gpuhunt_csv(sample_rows(provider, price_scale=3.0))


def _stored_zip_with_bad_crc(provider: str) -> bytes:
    good = zip_bytes({f"{provider}.csv": _member_bytes(provider)}, compression=zipfile.ZIP_STORED)
    position = good.index(b"instance_name")  # inside the stored member data
    return good[:position] + b"X" + good[position + 1 :]


def _zip_needing_a_newer_version(provider: str) -> bytes:
    """A zip whose central directory asks for extractor version 10.0 (zipfile supports 6.3)."""
    good = zip_bytes({f"{provider}.csv": _member_bytes(provider)})
    entry = good.index(b"PK\x01\x02")  # central directory header; "version needed" at +6
    return good[: entry + 6] + bytes([100, 0]) + good[entry + 8 :]


def _zip_bomb(provider: str) -> bytes:
    header = ",".join(GPUHUNT_FIELDS).encode() + b"\r\n"
    return zip_bytes({f"{provider}.csv": header + b"0" * (8 << 20)})


def _version_only(server: CatalogServer) -> None:
    """The version file names V2, but V2 was never uploaded."""
    (server.root / "v3/gcp/version").write_text(f"{V2}\n")


FAILURES: dict[str, tuple[Callable[[CatalogServer], None], str]] = {
    "404": (_version_only, "HTTP 404 Not Found"),
    "persistent 500": (
        lambda s: (
            s.publish("gcp", V2),
            s.inject(f"gcp/{V2}/catalog.zip", *[Fault(status=500)] * 2),
        ),
        "HTTP 500",
    ),
    "truncated zip": (
        lambda s: s.publish("gcp", V2, archive=zip_bytes({"gcp.csv": _member_bytes("gcp")})[:-40]),
        "not a valid zip",
    ),
    "not a zip": (
        lambda s: s.publish("gcp", V2, archive=b"<html><body>Access Denied</body></html>"),
        "not a valid zip",
    ),
    "zip slip": (
        lambda s: s.publish("gcp", V2, archive=zip_bytes({"../evil.csv": _member_bytes("gcp")})),
        "unsafe member path '../evil.csv'",
    ),
    "two members": (
        lambda s: s.publish(
            "gcp", V2, archive=zip_bytes({"gcp.csv": _member_bytes("gcp"), "aws.csv": b"x"})
        ),
        "expected exactly one member 'gcp.csv'",
    ),
    "other member": (
        lambda s: s.publish("gcp", V2, archive=zip_bytes({"prices.csv": _member_bytes("gcp")})),
        "expected exactly one member 'gcp.csv', found 'prices.csv'",
    ),
    "zip bomb": (lambda s: s.publish("gcp", V2, archive=_zip_bomb("gcp")), "zip bomb"),
    "unsupported zip version": (
        lambda s: s.publish("gcp", V2, archive=_zip_needing_a_newer_version("gcp")),
        "unsupported zip archive",
    ),
    "bad crc": (lambda s: s.publish("gcp", V2, archive=_stored_zip_with_bad_crc("gcp")), "corrupt"),
    "wrong header": (
        lambda s: s.publish(
            "gcp", V2, b"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price\r\n"
        ),
        "not a gpuhunt catalog CSV: the header lacks instance_name",
    ),
    "every row malformed": (
        lambda s: s.publish(
            "gcp", V2, gpuhunt_csv([{**row, "spot": "maybe"} for row in sample_rows("gcp")])
        ),
        "unusable catalog: 5 of 5 rows are malformed",
    ),
    "slow server": (
        lambda s: (s.publish("gcp", V2), s.inject("gcp/version", *[Fault(delay=2.0)] * 2)),
        "timeout",
    ),
    "connection dropped mid-body": (
        lambda s: (
            s.publish("gcp", V2),
            s.inject(f"gcp/{V2}/catalog.zip", *[Fault(drop_after=100)] * 2),
        ),
        "closed",
    ),
    "version escaping the cache": (
        lambda s: (s.root / "v3/gcp/version").write_text("../../../tmp/x\n"),
        "not a catalog version",
    ),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failed_provider_keeps_its_cached_copy(
    failure: str, run_cli: RunCli, catalog_http_server: CatalogServer, cached_v1: Path
) -> None:
    arrange, expected = FAILURES[failure]
    arrange(catalog_http_server)
    before = tree_digest(cached_v1)

    result = update(run_cli, catalog_http_server)

    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert "provider gcp" in result.stderr
    assert f"{catalog_http_server.base_url}/gcp/" in result.stderr
    assert f"keeping cached version {V1}" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_digest(cached_v1) == before


def test_partial_failure_installs_the_providers_that_succeeded(
    run_cli: RunCli, catalog_http_server: CatalogServer, cached_v1: Path
) -> None:
    catalog_http_server.publish("aws", V2)
    catalog_http_server.publish("gcp", V2, archive=b"not a zip")

    result = update(run_cli, catalog_http_server)

    assert result.returncode == 2
    assert "provider gcp" in result.stderr and "provider aws" not in result.stderr
    assert cached_versions(cached_v1)["aws"] == V2
    assert cached_versions(cached_v1)["gcp"] == V1
    assert cached_versions(cached_v1) == {"aws": V2, "gcp": V1}


def test_a_pinned_version_is_installed_for_all_providers_or_none(
    run_cli: RunCli, catalog_http_server: CatalogServer, cached_v1: Path
) -> None:
    catalog_http_server.publish("aws", V2, set_version=False)  # gcp has no V2
    before = tree_digest(cached_v1)

    result = update(run_cli, catalog_http_server, "--version", V2)

    assert result.returncode == 2
    assert f"{catalog_http_server.base_url}/gcp/{V2}/catalog.zip: HTTP 404" in result.stderr
    assert "provider aws: downloaded but not installed" in result.stderr
    assert tree_digest(cached_v1) == before


def test_first_update_failing_leaves_no_partial_files(
    run_cli: RunCli, catalog_http_server: CatalogServer, cache_dir: Path
) -> None:
    catalog_http_server.publish("aws", V1, archive=b"garbage")
    result = run_cli(
        "catalog", "update", "--base-url", catalog_http_server.base_url, "--provider", "aws", *FAST
    )
    assert result.returncode == 2
    assert "nothing cached for it" in result.stderr
    leftovers = [p for p in tree_digest(cache_dir) if p not in ("catalogs", "catalogs/.lock")]
    assert leftovers == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--provider", "cudo"), "unknown provider 'cudo'"),
        (("--base-url", "ftp://example.com/v3"), "is not an http(s):// URL"),
    ],
)
def test_bad_arguments_exit_2(run_cli: RunCli, arguments: tuple[str, ...], message: str) -> None:
    result = run_cli("catalog", "update", "--base-url", "http://127.0.0.1:9/v3", *arguments)
    assert result.returncode == 2
    assert message in result.stderr


def test_unreachable_server_exit_2(run_cli: RunCli) -> None:
    result = run_cli(
        "catalog",
        "update",
        "--base-url",
        "http://127.0.0.1:9/v3",
        "--provider",
        "aws",
        "--retries",
        "0",
    )
    assert result.returncode == 2
    assert "http://127.0.0.1:9/v3/aws/version: connection refused" in result.stderr


def test_show_a_remote_csv(run_cli: RunCli, catalog_http_server: CatalogServer) -> None:
    files = catalog_http_server.root / "v3" / "files"
    files.mkdir()
    (files / "runpod.csv").write_bytes(gpuhunt_csv(sample_rows("runpod")))
    url = f"{catalog_http_server.base_url}/files/runpod.csv"

    result = run_cli("catalog", "show", "--catalog", url, "--format", "json")

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["sources"][0]["location"] == url
    assert document["providers"] == [{"provider": "runpod", "rows": 5}]


def test_cache_keyword_without_a_download(run_cli: RunCli) -> None:
    result = run_cli("catalog", "show", "--catalog", "cache")
    assert result.returncode == 2
    assert "run `planner catalog update`" in result.stderr


# --- show, stats, import --------------------------------------------------------------------


def test_show_describes_sources_providers_and_gpus(run_cli: RunCli, cached_v1: Path) -> None:
    result = run_cli("catalog", "show", "--catalog", "cache", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["rows"] == 10
    assert document["as_of"] == "2026-01-01"
    assert document["providers"] == [
        {"provider": "aws", "rows": 5},
        {"provider": "gcp", "rows": 5},
    ]
    assert document["gpus"] == [
        {"vendor": "nvidia", "name": "H100", "rows": 4},
        {"vendor": "nvidia", "name": "L4", "rows": 2},
    ]
    text = run_cli("catalog", "show", "--catalog", "cache")
    assert text.returncode == 0, text.stderr
    assert "as of: 2026-01-01" in text.stdout
    assert "H100" in text.stdout


def test_stats_counts_capacity_types_and_price_ranges(run_cli: RunCli, cached_v1: Path) -> None:
    result = run_cli("catalog", "stats", "--catalog", "cache", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["providers"] == [
        {"provider": "aws", "on_demand": 3, "spot": 2, "total": 5},
        {"provider": "gcp", "on_demand": 3, "spot": 2, "total": 5},
    ]
    assert document["cpu_only_rows"] == 4
    h100 = next(g for g in document["gpus"] if g["name"] == "H100")
    assert h100["rows"] == 4 and h100["spot_rows"] == 2 and h100["gpu_counts"] == [8]
    assert (h100["min_price"], h100["max_price"]) == (12.5, 30.0)
    assert h100["min_price_per_gpu"] == pytest.approx(12.5 / 8)
    assert document["dropped"] == {"total": 0, "by_reason": []}
    text = run_cli("catalog", "stats", "--catalog", "cache")
    assert "ON-DEMAND" in text.stdout and "dropped malformed rows: 0" in text.stdout


def test_import_skypilot_to_a_gpuhunt_zip_gpuhunt_can_read(
    run_cli: RunCli, fixtures_dir: Path, tmp_path: Path
) -> None:
    """The real SkyPilot samples (lambda, vast) become one gpuhunt CSV per provider."""
    import io

    import gpuhunt._internal.storage as gpuhunt_storage

    source = fixtures_dir / "skypilot-catalog-v7"
    output = tmp_path / "out" / "skypilot.zip"
    result = run_cli("catalog", "import", str(source), "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert "(lambdalabs, vastai)" in result.stdout
    expected = Catalog.load(source).frame
    with zipfile.ZipFile(output) as archive:
        assert archive.namelist() == ["lambdalabs.csv", "vastai.csv"]
        for provider in ("lambdalabs", "vastai"):
            data = archive.read(f"{provider}.csv")
            assert data.startswith(",".join(GPUHUNT_FIELDS).encode() + b"\r\n")
            text = io.StringIO(data.decode(), newline="")
            items = list(gpuhunt_storage.load(text, provider=provider))
            rows = expected[expected["provider"] == provider]
            assert len(items) == len(rows) > 0
            assert [
                (i.instance_name, i.location, i.price, i.gpu_name, i.gpu_count, i.memory)
                for i in items
            ] == [
                (
                    row.instance_type,
                    row.region,
                    row.price,
                    None if row.gpu_count == 0 else row.gpu_name,
                    row.gpu_count,
                    row.memory_gb,
                )
                for row in rows.itertuples()
            ]


@pytest.mark.parametrize(
    ("to", "name"), [("gpuhunt-dir", "dir"), ("gpuhunt-zip", "c.zip"), ("arrow", "c.arrow")]
)
def test_import_round_trips(
    to: str, name: str, run_cli: RunCli, cached_v1: Path, tmp_path: Path
) -> None:
    output = tmp_path / name
    if to == "gpuhunt-dir":  # an existing directory: its provider files are replaced
        output.mkdir()
        (output / "aws.csv").write_text("stale")
    result = run_cli("catalog", "import", "cache", "--output", str(output), "--to", to)
    assert result.returncode == 0, result.stderr
    original = Catalog.load("cache", cache_dir=cached_v1).frame
    written = Catalog.load(output)
    if to != "gpuhunt-zip":  # a zip has no room for provenance
        assert written.as_of == "2026-01-01"
    pd.testing.assert_frame_equal(
        written.frame.astype({c: str for c in CATEGORIES}),
        original.astype({c: str for c in CATEGORIES}),
    )
    if to == "gpuhunt-dir":  # the CSVs gpuhunt published come back byte for byte
        assert sorted(p.name for p in output.iterdir()) == ["aws.csv", "gcp.csv", "provenance.json"]
        for provider in ("aws", "gcp"):
            assert (output / f"{provider}.csv").read_bytes() == (
                cached_v1 / "catalogs" / provider / V1 / f"{provider}.csv"
            ).read_bytes()


def test_import_to_an_unwritable_place_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory is needed")
    result = run_cli("catalog", "import", "bundled", "--output", str(blocker / "out.zip"))
    assert result.returncode == 2
    assert f"{blocker / 'out.zip'}: cannot write" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_of_an_unreadable_source_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "aws.csv"
    bad.write_text("nothing,useful\n1,2\n")
    result = run_cli("catalog", "import", str(bad), "--output", str(tmp_path / "x.zip"))
    assert result.returncode == 2
    assert str(bad) in result.stderr
    assert not (tmp_path / "x.zip").exists()
