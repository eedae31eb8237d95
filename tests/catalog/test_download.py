"""The download API (update_catalog, fetch_source, cached_catalog_path) against a local server."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from v3_server import CatalogServer, Fault, gpuhunt_csv, sample_rows, tree_digest, zip_bytes

from planner.catalog import Catalog, read_table
from planner.catalog.archive import ArchiveLimits
from planner.catalog.columns import OFFLINE_PROVIDERS
from planner.catalog.download import (
    UpdateReport,
    cached_catalog_path,
    fetch_source,
    update_catalog,
)
from planner.errors import CatalogError, InputError

V1, V2 = "20260101-1", "20260202-2"


def fast_update(
    server: CatalogServer, providers: list[str], cache: Path, **options: Any
) -> UpdateReport:
    return update_catalog(
        server.base_url, providers, cache, timeout=0.5, retries=1, backoff=0.01, **options
    )


def test_update_reports_each_provider(catalog_http_server: CatalogServer, tmp_path: Path) -> None:
    catalog_http_server.publish("aws", V1)
    catalog_http_server.publish("azure", V1)
    cache = tmp_path / "cache"

    first = fast_update(catalog_http_server, ["aws", "azure"], cache)
    second = fast_update(catalog_http_server, ["azure", "aws"], cache)

    assert [(r.provider, r.status, r.version, r.rows) for r in first.results] == [
        ("aws", "downloaded", V1, 5),
        ("azure", "downloaded", V1, 5),
    ]
    assert [(r.provider, r.status, r.previous, r.rows) for r in second.results] == [
        ("azure", "unchanged", V1, 5),
        ("aws", "unchanged", V1, 5),
    ]
    assert first.failures == () and second.table == cached_catalog_path(cache)
    second.raise_for_failures()


def test_the_cache_keyword_loads_what_was_downloaded(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    catalog_http_server.publish("aws", V1)
    cache = tmp_path / "cache"
    fast_update(catalog_http_server, ["aws"], cache)

    catalog = Catalog.load("cache", cache_dir=cache)
    table = read_table(cached_catalog_path(cache))

    assert len(catalog) == len(table) == 5
    assert catalog.as_of == table.as_of == "2026-01-01"
    [source] = table.sources  # what the cache recorded for each provider
    assert source.version == V1
    assert source.location == f"{catalog_http_server.base_url}/aws/{V1}/catalog.zip"
    assert catalog.frame["price"].tolist() == sorted(
        float(row["price"]) for row in sample_rows("aws")
    )


def test_no_download_yet(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"no downloaded catalog .*run `planner catalog update`"):
        cached_catalog_path(tmp_path / "empty")


def test_client_errors_are_not_retried(catalog_http_server: CatalogServer, tmp_path: Path) -> None:
    catalog_http_server.publish("aws", V1)
    catalog_http_server.inject("aws/version", Fault(status=403))

    report = fast_update(catalog_http_server, ["aws"], tmp_path / "cache")

    [failure] = report.failures
    assert failure.error is not None and "HTTP 403" in failure.error
    assert catalog_http_server.count("aws/version") == 1
    with pytest.raises(CatalogError, match="HTTP 403"):
        report.raise_for_failures()


def test_retry_after_is_honoured(catalog_http_server: CatalogServer, tmp_path: Path) -> None:
    catalog_http_server.publish("aws", V1)
    catalog_http_server.inject("aws/version", Fault(status=429, headers=(("Retry-After", "1"),)))

    started = time.monotonic()
    report = fast_update(catalog_http_server, ["aws"], tmp_path / "cache")  # backoff: 0.01 s

    assert report.failures == ()
    assert catalog_http_server.count("aws/version") == 2
    assert time.monotonic() - started >= 1.0


def test_member_size_cap(catalog_http_server: CatalogServer, tmp_path: Path) -> None:
    catalog_http_server.publish("aws", V1)
    report = fast_update(
        catalog_http_server, ["aws"], tmp_path / "cache", limits=ArchiveLimits(max_member_bytes=100)
    )
    [failure] = report.failures
    assert failure.error is not None and "expands beyond 100 bytes" in failure.error


@pytest.mark.parametrize(
    ("providers", "message"),
    [(["cudo"], "unknown provider"), (["vastai"], "queried live"), ([], "no provider")],
)
def test_bad_providers(providers: list[str], message: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=message):
        update_catalog("http://127.0.0.1:9/v3", providers, tmp_path)


def test_a_pinned_version_some_providers_already_have(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    catalog_http_server.publish("aws", V1)
    catalog_http_server.publish("gcp", V1)
    cache = tmp_path / "cache"
    fast_update(catalog_http_server, ["aws"], cache)

    report = fast_update(catalog_http_server, ["aws", "gcp"], cache, version=V1)

    assert [(r.provider, r.status) for r in report.results] == [
        ("aws", "unchanged"),
        ("gcp", "downloaded"),
    ]
    assert catalog_http_server.count("aws/version") == 1  # a pinned version needs no lookup


def test_a_version_that_is_not_a_directory_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a catalog version"):
        update_catalog("http://127.0.0.1:9/v3", ["aws"], tmp_path, version="../x")


def test_progress_is_drawn_only_when_asked(
    catalog_http_server: CatalogServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog_http_server.publish("aws", V1)
    catalog_http_server.publish("gcp", V1)
    fast_update(catalog_http_server, ["aws"], tmp_path / "a")  # capsys' stderr is not a terminal
    assert capsys.readouterr().err == ""
    fast_update(catalog_http_server, ["gcp"], tmp_path / "b", progress=True)
    assert "downloading: 1 files" in capsys.readouterr().err


def test_fetch_a_csv_url_then_revalidate_it(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    files = catalog_http_server.root / "v3" / "files"
    files.mkdir()
    (files / "aws.csv").write_bytes(gpuhunt_csv(sample_rows("aws")))
    url = f"{catalog_http_server.base_url}/files/aws.csv?token=1"
    cache = tmp_path / "cache"

    path = fetch_source(url, cache)
    snapshot = tree_digest(cache)
    again = fetch_source(url, cache)

    assert again == path and path.name == "aws.csv"
    assert tree_digest(cache) == snapshot  # answered 304 Not Modified: nothing rewritten
    assert catalog_http_server.count("files/aws.csv") == 2
    catalog = Catalog.load(path)
    assert len(catalog) == 5 and catalog.sources[0].providers == ("aws",)


def test_fetch_a_zip_url_with_several_providers(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    archive = zip_bytes({f"{p}.csv": gpuhunt_csv(sample_rows(p)) for p in ("aws", "gcp", "runpod")})
    files = catalog_http_server.root / "v3" / "files"
    files.mkdir()
    (files / "catalog.zip").write_bytes(archive)

    path = fetch_source(f"{catalog_http_server.base_url}/files/catalog.zip", tmp_path / "cache")

    assert path.read_bytes() == archive
    assert sorted(Catalog.load(path).frame["provider"].unique()) == ["aws", "gcp", "runpod"]


def test_fetch_refuses_an_unsafe_zip_and_keeps_nothing(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    files = catalog_http_server.root / "v3" / "files"
    files.mkdir()
    (files / "catalog.zip").write_bytes(zip_bytes({"/etc/aws.csv": b"x"}))
    cache = tmp_path / "cache"

    with pytest.raises(CatalogError, match=r"unsafe member path '/etc/aws\.csv'"):
        fetch_source(f"{catalog_http_server.base_url}/files/catalog.zip", cache)
    assert not (cache / "sources").exists()


def test_fetch_a_v3_base_url(catalog_http_server: CatalogServer, tmp_path: Path) -> None:
    for provider in OFFLINE_PROVIDERS:
        catalog_http_server.publish(provider, V1)

    path = fetch_source(catalog_http_server.base_url, tmp_path / "cache")

    catalog = Catalog.load(path)
    assert sorted(catalog.frame["provider"].unique()) == sorted(OFFLINE_PROVIDERS)
    assert len(catalog) == 5 * len(OFFLINE_PROVIDERS)


def test_gpuhunt_reads_the_served_tree_like_we_do(
    catalog_http_server: CatalogServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Differential: gpuhunt 0.1.34 downloading the same tree sees the same rows, in order."""
    import gpuhunt

    for provider in OFFLINE_PROVIDERS:
        catalog_http_server.publish(provider, V1)
    monkeypatch.setenv("GPUHUNT_CATALOG_URL", catalog_http_server.base_url)
    logging.getLogger("gpuhunt").setLevel(logging.CRITICAL)
    oracle = gpuhunt.Catalog(balance_resources=False, auto_reload=False)
    oracle.load()
    fast_update(catalog_http_server, list(OFFLINE_PROVIDERS), tmp_path / "cache")

    ours = Catalog.load("cache", cache_dir=tmp_path / "cache").frame
    for provider in OFFLINE_PROVIDERS:
        theirs = [(i.instance_name, i.price, i.spot) for i in oracle.query(provider=provider)]
        rows = ours[ours["provider"] == provider]
        mine = list(
            zip(rows["instance_type"].astype(str), rows["price"], rows["spot"], strict=True)
        )
        assert mine == theirs, provider


def test_a_second_update_waits_for_the_first(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    """Two concurrent updates of one cache: both succeed, one download, a consistent cache."""
    from concurrent.futures import ThreadPoolExecutor

    catalog_http_server.publish("aws", V1)
    catalog_http_server.inject("aws/version", Fault(delay=0.2))
    cache = tmp_path / "cache"
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: fast_update(catalog_http_server, ["aws"], cache), [1, 2]))

    assert sorted(r.results[0].status for r in reports) == ["downloaded", "unchanged"]
    assert catalog_http_server.count(f"aws/{V1}/catalog.zip") == 1
    assert len(Catalog.load(cached_catalog_path(cache))) == 5


def test_a_bad_remote_csv_is_named_by_its_url(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    files = catalog_http_server.root / "v3" / "files"
    files.mkdir()
    (files / "aws.csv").write_bytes(b"name,cost\r\nx,1\r\n")
    url = f"{catalog_http_server.base_url}/files/aws.csv"
    cache = tmp_path / "cache"

    with pytest.raises(CatalogError) as raised:
        fetch_source(url, cache)

    assert str(raised.value).startswith(url)
    assert ".partial" not in str(raised.value)
    assert not (cache / "sources").exists()


def test_leftovers_of_a_killed_update_are_cleaned(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    catalog_http_server.publish("aws", V1)
    cache = tmp_path / "cache"
    fast_update(catalog_http_server, ["aws"], cache)
    (cache / "catalogs/.partial-abc/aws").mkdir(parents=True)
    (cache / "catalogs/aws/.partial-current.xyz").write_text("half")
    before = {path for path in tree_digest(cache) if ".partial" not in path}

    report = fast_update(catalog_http_server, ["aws"], cache)

    assert report.results[0].status == "unchanged"
    assert set(tree_digest(cache)) == before


def test_an_unusable_cache_directory(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    with pytest.raises(CatalogError, match="cannot use the catalog cache"):
        update_catalog("http://127.0.0.1:9/v3", ["aws"], not_a_directory)
