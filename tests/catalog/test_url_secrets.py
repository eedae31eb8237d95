"""Credentials in catalog URLs (userinfo, presigned query strings) are used for the request and
never shown: not on stdout or stderr, not in JSON provenance, not in any file or path name under
the cache. Through the real CLI against a local HTTP server, and the public API."""

from __future__ import annotations

# `planner offers --rows`: these tests are about the catalog's rows, not dstack's backend rules
# (made-up rows are often no offer of any dstack backend).
import base64
import json
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from v3_server import CatalogServer, Fault, gpuhunt_csv, sample_rows, zip_bytes

from planner.catalog import Catalog, read_table
from planner.catalog.download import cached_catalog_path, fetch_source, update_catalog
from planner.catalog.urls import redact_text, redact_url
from planner.errors import CatalogError

RunCli = Callable[..., subprocess.CompletedProcess[str]]
V1 = "20260101-1"
FAST = ("--timeout", "0.5", "--retries", "0")
USER, PASSWORD = "alice", "pw-Secret-7781"
SIGNATURE, CREDENTIAL = "sig-9f8e7d6c5b4a", "AKIAEXAMPLE7781%2F20260101"
SECRETS = (PASSWORD, SIGNATURE, CREDENTIAL, "AKIAEXAMPLE7781")


def with_userinfo(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@", 1)


def presigned(url: str, signature: str = SIGNATURE) -> str:
    return f"{url}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={CREDENTIAL}&X-Amz-Signature={signature}"


def assert_no_secret(*texts: str, cache: Path | None = None) -> None:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for secret in (*SECRETS, basic):
        for text in texts:
            assert secret not in text
        if cache is not None and cache.exists():
            for path in cache.rglob("*"):
                assert secret not in path.relative_to(cache).as_posix()
                if path.is_file():
                    assert secret.encode() not in path.read_bytes(), path


def auth_headers(server: CatalogServer) -> set[str | None]:
    with server.lock:
        return {authorization for _, authorization in server.requests}


def targets(server: CatalogServer) -> list[str]:
    with server.lock:
        return [target for target, _ in server.requests]


@pytest.fixture
def service(tmp_path: Path) -> Path:
    path = tmp_path / "service.yml"
    path.write_text("type: service\nport: 8000\ncommands: [python -m http.server 8000]\n")
    return path


@pytest.fixture
def files(catalog_http_server: CatalogServer) -> Path:
    """``<base>/files/``: a gpuhunt zip of aws and gcp, and an aws CSV."""
    folder = catalog_http_server.root / "v3" / "files"
    folder.mkdir()
    archive = zip_bytes({f"{p}.csv": gpuhunt_csv(sample_rows(p)) for p in ("aws", "gcp")})
    (folder / "catalog.zip").write_bytes(archive)
    (folder / "aws.csv").write_bytes(gpuhunt_csv(sample_rows("aws")))
    return folder


# --- the helper -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@host:8443/v3", "https://***@host:8443/v3"),
        ("https://token@host/v3/", "https://***@host/v3/"),
        (
            "https://b.s3.amazonaws.com/x/catalog.zip?X-Amz-Signature=abc&X-Amz-Credential=A%2FB",
            "https://b.s3.amazonaws.com/x/catalog.zip?X-Amz-Signature=***&X-Amz-Credential=***",
        ),
        ("http://host/a.csv?sessiontoken&k=", "http://host/a.csv?***&k=***"),
        ("http://host/a.csv#access_token=xyz", "http://host/a.csv#access_token=***"),
        ("http://u:p@h/a.zip?s=1#f", "http://***@h/a.zip?s=***#***"),
    ],
)
def test_redact_url_masks_userinfo_and_query_values(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "https://dstack-gpu-pricing.s3.eu-west-1.amazonaws.com/v3",
        "http://127.0.0.1:8080/v3/aws/20260101-1/catalog.zip",
        "/tmp/odd?name=x/aws.csv",
        "bundled",
        "catalogs/lambda/vms.csv",
    ],
)
def test_what_holds_no_secret_is_shown_unchanged(url: str) -> None:
    assert redact_url(url) == url


def test_redact_text_cleans_a_library_message() -> None:
    url = presigned("http://127.0.0.1:9/files/catalog.zip")
    message = (
        "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: "
        f"/files/catalog.zip?{url.partition('?')[2]} (Caused by NewConnectionError(...))"
    )
    cleaned = redact_text(message, url)
    assert_no_secret(cleaned)
    assert "/files/catalog.zip?X-Amz-Algorithm=***&X-Amz-Credential=***" in cleaned


# --- success paths --------------------------------------------------------------------------


def test_update_with_userinfo_authenticates_and_shows_none_of_it(
    run_cli: RunCli, catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    server = catalog_http_server
    server.publish("aws", V1)
    server.publish("gcp", V1)
    base = with_userinfo(server.base_url)

    result = run_cli(
        "catalog", "update", "--base-url", base, "--provider", "aws,gcp", *FAST, "--format", "json"
    )

    assert result.returncode == 0, result.stderr
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert auth_headers(server) == {expected}  # the credentials were sent with every request
    document = json.loads(result.stdout)
    shown_base = server.base_url.replace("http://", "http://***@")
    assert document["base_url"] == shown_base
    assert {p["url"] for p in document["providers"]} == {
        f"{shown_base}/{p}/{V1}/catalog.zip" for p in ("aws", "gcp")
    }
    record = json.loads((tmp_path / "cache" / "catalogs" / "aws" / V1 / "source.json").read_text())
    assert record["url"] == f"{shown_base}/aws/{V1}/catalog.zip"
    shown = run_cli("catalog", "show", "--catalog", "cache", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert shown_base in shown.stdout
    assert_no_secret(result.stdout, result.stderr, shown.stdout, cache=tmp_path / "cache")


def test_the_url_from_the_environment_is_redacted_too(
    run_cli: RunCli, catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    catalog_http_server.publish("aws", V1)
    env = {"PLANNER_CATALOG_URL": with_userinfo(catalog_http_server.base_url)}

    result = run_cli("catalog", "update", "--provider", "aws", *FAST, "--format", "json", env=env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["base_url"].startswith("http://***@127.0.0.1:")
    assert_no_secret(result.stdout, result.stderr, cache=tmp_path / "cache")


def test_offers_from_a_presigned_zip(
    run_cli: RunCli, catalog_http_server: CatalogServer, files: Path, service: Path, tmp_path: Path
) -> None:
    url = presigned(f"{catalog_http_server.base_url}/files/catalog.zip")

    result = run_cli("offers", "--rows", str(service), "--catalog", url, "--format", "json")
    show = run_cli("catalog", "show", "--catalog", url)

    assert result.returncode == 0, result.stderr
    assert show.returncode == 0, show.stderr
    query = url.partition("?")[2]
    assert targets(catalog_http_server) == [f"/v3/files/catalog.zip?{query}"] * 2  # sent as given
    sources = json.loads(result.stdout)["catalog"]["sources"]
    assert [source["location"] for source in sources] == [redact_url(url)]
    assert redact_url(url).endswith("X-Amz-Credential=***&X-Amz-Signature=***")
    assert redact_url(url) in show.stdout
    assert_no_secret(
        result.stdout, result.stderr, show.stdout, show.stderr, cache=tmp_path / "cache"
    )


def test_a_url_without_credentials_is_shown_as_given(
    run_cli: RunCli, catalog_http_server: CatalogServer, files: Path, service: Path
) -> None:
    url = f"{catalog_http_server.base_url}/files/aws.csv"

    result = run_cli("offers", "--rows", str(service), "--catalog", url, "--format", "json")

    assert result.returncode == 0, result.stderr
    assert [s["location"] for s in json.loads(result.stdout)["catalog"]["sources"]] == [url]


def test_fetch_source_names_its_cache_entry_without_the_signature(
    catalog_http_server: CatalogServer, files: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = presigned(f"{catalog_http_server.base_url}/files/aws.csv")
    again = presigned(f"{catalog_http_server.base_url}/files/aws.csv", "sig-0000resigned")

    path = fetch_source(first, cache)
    catalog = Catalog.load(first, cache_dir=cache)
    second = fetch_source(again, cache)

    assert second == path  # a URL signed anew is the same entry, revalidated (ETag)
    assert len(list((cache / "sources").iterdir())) == 1
    assert [s.location for s in catalog.sources] == [redact_url(first)]
    assert f"X-Amz-Signature={SIGNATURE}" in targets(catalog_http_server)[0]
    assert "X-Amz-Signature=sig-0000resigned" in targets(catalog_http_server)[-1]
    assert_no_secret("sig-0000resigned", cache=cache)


def test_update_catalog_reports_and_records_redacted_urls(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    catalog_http_server.publish("aws", V1)
    cache = tmp_path / "cache"

    report = update_catalog(with_userinfo(catalog_http_server.base_url), ["aws"], cache)

    assert [r.status for r in report.results] == ["downloaded"]
    assert report.base_url == redact_url(with_userinfo(catalog_http_server.base_url))
    locations = [s.location for s in read_table(cached_catalog_path(cache)).sources]
    assert locations == [f"{report.base_url}/aws/{V1}/catalog.zip"]
    assert_no_secret(repr(report), cache=cache)


# --- failure paths --------------------------------------------------------------------------


def test_a_missing_presigned_file(
    run_cli: RunCli, catalog_http_server: CatalogServer, service: Path, tmp_path: Path
) -> None:
    url = presigned(f"{catalog_http_server.base_url}/files/nothing.zip")

    result = run_cli("offers", "--rows", str(service), "--catalog", url)

    assert result.returncode == 2
    assert f"GET {redact_url(url)}: HTTP 404" in result.stderr
    assert_no_secret(result.stdout, result.stderr, cache=tmp_path / "cache")


def test_a_corrupt_presigned_zip(
    run_cli: RunCli, catalog_http_server: CatalogServer, files: Path, service: Path, tmp_path: Path
) -> None:
    (files / "catalog.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    url = presigned(f"{catalog_http_server.base_url}/files/catalog.zip")

    result = run_cli("offers", "--rows", str(service), "--catalog", url, "--format", "json")

    assert result.returncode == 2
    assert f"{redact_url(url)}: not a valid zip archive" in result.stderr
    assert_no_secret(result.stdout, result.stderr, cache=tmp_path / "cache")


@pytest.mark.parametrize(
    ("path", "fault", "message"),
    [
        ("aws/version", Fault(delay=3.0), "(timeout)"),
        ("aws/version", Fault(status=404), "HTTP 404"),
        (f"aws/{V1}/catalog.zip", Fault(body=b"not a zip at all"), "not a valid zip archive"),
        (f"aws/{V1}/catalog.zip", Fault(drop_after=10), "closed before the whole body"),
    ],
    ids=["timeout", "404", "corrupt-zip", "cut-body"],
)
def test_update_failures_with_userinfo(
    run_cli: RunCli,
    catalog_http_server: CatalogServer,
    tmp_path: Path,
    path: str,
    fault: Fault,
    message: str,
) -> None:
    server = catalog_http_server
    server.publish("aws", V1)
    server.inject(path, fault)
    base = with_userinfo(server.base_url)

    text = run_cli("catalog", "update", "--base-url", base, "--provider", "aws", *FAST)
    server.inject(path, fault)
    as_json = run_cli(
        "catalog", "update", "--base-url", base, "--provider", "aws", *FAST, "--format", "json"
    )

    assert text.returncode == as_json.returncode == 2
    assert message in text.stderr
    assert "http://***@127.0.0.1:" in text.stderr
    failed = json.loads(as_json.stdout)["providers"][0]
    assert failed["status"] == "failed" and failed["url"].startswith("http://***@127.0.0.1:")
    assert_no_secret(
        text.stdout, text.stderr, as_json.stdout, as_json.stderr, cache=tmp_path / "cache"
    )


def test_a_refused_connection_names_no_secret(run_cli: RunCli, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://{USER}:{PASSWORD}@127.0.0.1:{port}/v3"

    result = run_cli("catalog", "update", "--base-url", base, "--provider", "aws", *FAST)

    assert result.returncode == 2
    assert "connection refused" in result.stderr or "connection failed" in result.stderr
    assert_no_secret(result.stdout, result.stderr, cache=tmp_path / "cache")


def test_a_presigned_url_refused_by_the_api(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = presigned(f"http://{USER}:{PASSWORD}@127.0.0.1:{port}/files/catalog.zip")

    with pytest.raises(CatalogError) as raised:
        Catalog.load(url, cache_dir=tmp_path / "cache")

    assert redact_url(url) in str(raised.value)
    assert_no_secret(str(raised.value), cache=tmp_path / "cache")


def test_an_invalid_scheme_is_named_without_its_secret(run_cli: RunCli) -> None:
    result = run_cli("catalog", "update", "--base-url", f"ftp://{USER}:{PASSWORD}@host/v3", *FAST)

    assert result.returncode == 2
    assert "'ftp://***@host/v3' is not an http(s):// URL" in result.stderr
    assert_no_secret(result.stdout, result.stderr)
