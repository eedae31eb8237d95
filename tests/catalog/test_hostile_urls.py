"""Issue 8, item 2: a secret in a catalog URL stays secret however the URL is written.

Each variant (surrounding whitespace or control characters, a mixed-case scheme, userinfo with
only a user, percent-encoded userinfo, query tokens) goes through every command that takes a
catalog URL — through the real CLI against a local HTTP server — and no secret may appear on
stdout, stderr, or in any file (name or content) the run leaves behind: the cache, an import's
output.
"""

from __future__ import annotations

# `planner offers --rows`: these tests are about the catalog's rows, not dstack's backend rules
# (made-up rows are often no offer of any dstack backend).
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest
from v3_server import CatalogServer, gpuhunt_csv, sample_rows, zip_bytes

from planner.catalog.urls import redact_text, redact_url, require_http_url, url_of
from planner.cli import main
from planner.errors import InputError

RunCli = Callable[..., subprocess.CompletedProcess[str]]
V1 = "20260101-1"
FAST = ("--timeout", "2", "--retries", "0")
SECRET = "pw-Secret-7781"
ENCODED_SECRET = "pw%40Secret%2F7781"  # "pw@Secret/7781" once decoded
TOKEN = "tok-Query-55aa"

# Each variant turns a plain ``http://127.0.0.1:port/v3/...`` URL into one carrying a secret.
VARIANTS: dict[str, Callable[[str], str]] = {
    "leading space": lambda url: " " + url.replace("http://", f"http://alice:{SECRET}@"),
    "tab and newline": lambda url: "\t" + url.replace("http://", f"http://alice:{SECRET}@") + "\n",
    "mixed-case scheme": lambda url: url.replace("http://", f"HtTp://alice:{SECRET}@"),
    "user only": lambda url: "  " + url.replace("http://", f"http://{SECRET}@"),
    "percent-encoded": lambda url: url.replace("http://", f"http://alice:{ENCODED_SECRET}@"),
    "query token": lambda url: f" {url}?X-Amz-Signature={TOKEN}&token={TOKEN}\r\n",
}
SECRETS = (SECRET, unquote(ENCODED_SECRET), ENCODED_SECRET, TOKEN)


def assert_no_secret(texts: list[str], root: Path) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, text
    for path in root.rglob("*"):
        for secret in SECRETS:
            assert secret not in path.relative_to(root).as_posix()
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    "url",
    [
        " http://u:hunter22@h/v3",
        "\thttp://u:hunter22@h/v3\n",
        "\x00http://u:hunter22@h/v3",
        "\u00a0http://u:hunter22@h/v3\u2003",
        "HTTP://hunter22@h/v3",
        " https://h/x.zip?sig=hunter22",
    ],
)
def test_redact_url_sees_a_url_through_surrounding_whitespace(url: str) -> None:
    assert "hunter22" not in redact_url(url)
    assert url_of(url) == url.strip(" \t\n\x00\u00a0\u2003")


def test_a_url_with_whitespace_inside_is_refused_without_its_secret() -> None:
    with pytest.raises(InputError) as raised:
        require_http_url("http://u:hunter22@h/v3 /x")
    assert "hunter22" not in str(raised.value)
    assert "whitespace" in str(raised.value)


def test_redact_text_masks_decoded_secrets_and_other_urls() -> None:
    url = "http://alice:pw%40Secret%2F7781@h/v3"
    message = "auth failed for alice:pw@Secret/7781; redirected to https://bob:zz9-hidden@other/x"
    cleaned = redact_text(message, url)
    assert "pw@Secret/7781" not in cleaned
    assert "zz9-hidden" not in cleaned


@pytest.fixture
def served(catalog_http_server: CatalogServer) -> CatalogServer:
    catalog_http_server.publish("aws", V1)
    folder = catalog_http_server.root / "v3" / "files"
    folder.mkdir()
    archive = zip_bytes({f"{p}.csv": gpuhunt_csv(sample_rows(p)) for p in ("aws", "gcp")})
    (folder / "catalog.zip").write_bytes(archive)
    return catalog_http_server


def run_in_process(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI's own entry point in this process (a subprocess per run would take minutes)."""
    code = main(list(args))
    out, err = capfd.readouterr()
    return code, out, err


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_command_keeps_the_secret(
    variant: str,
    served: CatalogServer,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make = VARIANTS[variant]
    base, archive = make(served.base_url), make(f"{served.base_url}/files/catalog.zip")
    service = tmp_path / "service.yml"
    service.write_text("type: service\nport: 8000\ncommands: [python -m http.server 8000]\n")
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(tmp_path / "cache"))
    # A base URL with a query cannot name the files below it: the update fails (still secretly).
    base_ok = "?" not in base
    runs = [
        ("catalog", "update", "--base-url", base, "--provider", "aws", *FAST),
        ("catalog", "update", "--base-url", base, "--provider", "aws", "--format", "json"),
        *([("catalog", "show", "--catalog", "cache", "--format", "json")] if base_ok else []),
        ("catalog", "show", "--catalog", archive),
        ("catalog", "stats", "--catalog", archive),
        ("catalog", "import", archive, "-o", str(tmp_path / "out.arrow")),
        ("catalog", "show", "--catalog", str(tmp_path / "out.arrow")),
        ("offers", "--rows", str(service), "--catalog", archive, "--format", "json"),
        ("plan", "--rows", str(service), "--catalog", archive, "--format", "json", "--no-explain"),
    ]
    texts = []
    for args in runs:
        code, out, err = run_in_process(capfd, *args)
        assert code == (0 if base_ok or "update" not in args else 2), (args, err)
        texts += [out, err]
    assert "***" in "".join(texts)  # the URLs are shown, redacted
    # Failures name the URL too: a missing file, a base URL without the provider.
    for args in [
        ("catalog", "show", "--catalog", make(f"{served.base_url}/nope.zip")),
        ("catalog", "update", "--base-url", make(f"{served.base_url}/x"), "--provider", "gcp"),
    ]:
        code, out, err = run_in_process(capfd, *args)
        assert code == 2, (args, err)
        assert "HTTP 404" in err
        texts += [out, err]
    assert_no_secret(texts, tmp_path)


def test_the_cli_refuses_whitespace_inside_a_url(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("catalog", "show", "--catalog", f" http://alice:{SECRET}@127.0.0.1:9/a b.zip")
    assert result.returncode == 2
    assert "contains whitespace" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret([result.stdout, result.stderr], tmp_path)
