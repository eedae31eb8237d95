"""The cache is published atomically or not at all (issue 8, item 3; full disk: items 12 and 13).

A real ``planner catalog update`` subprocess, against a real HTTP server on 127.0.0.1, is killed
(SIGKILL, SIGINT) at many moments of its run, or runs out of disk space (a small tmpfs, else
RLIMIT_FSIZE). After each, the ``cache`` keyword must answer the old catalog or the new one,
completely, and a following update must leave the new one in place.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from v3_server import CatalogServer, gpuhunt_csv, offer_row

from planner.catalog import Catalog
from planner.catalog.download import cached_catalog_path, update_catalog
from planner.errors import CatalogError

REPO = Path(__file__).resolve().parents[2]
V1, V2 = "20260101-1", "20260202-2"
PROVIDERS = ("aws", "gcp", "azure")
# Rows per provider in the new version: enough that publishing it takes a while (more moments
# to be killed in) and that it does not fit in the small disk of the fill test.
NEW_ROWS = 2000
KILLS = 10
AFTER_WINDOW = 1.3
FILL_POINTS = 6

Rows = frozenset[tuple[str, str, float, bool]]


def _new_rows(provider: str) -> list[dict[str, str]]:
    return [
        offer_row(f"{provider}-n{i}", round(0.01 * (i % 997) + 0.5, 4), cpu=4 + i % 8)
        for i in range(NEW_ROWS)
    ]


def _rows(catalog: Catalog) -> Rows:
    frame = catalog.frame
    return frozenset(
        zip(
            frame["provider"].astype(str),
            frame["instance_type"].astype(str),
            frame["price"],
            frame["spot"],
            strict=True,
        )
    )


def _of(rows: Rows, provider: str) -> Rows:
    return frozenset(row for row in rows if row[0] == provider)


def _cached_rows(cache: Path) -> Rows | str:
    """The rows the ``cache`` keyword answers, or the error it gives."""
    try:
        catalog = Catalog.load("cache", cache_dir=cache)
    except CatalogError as error:
        return str(error)
    prices = catalog.frame["price"].to_numpy()
    assert (prices[1:] >= prices[:-1]).all(), "cached rows not in price order"
    return _rows(catalog)


def _command(server: CatalogServer, cache: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "planner",
        "catalog",
        "update",
        "--base-url",
        server.base_url,
        "--provider",
        ",".join(PROVIDERS),
        "--cache-dir",
        str(cache),
        "--timeout",
        "5",
    ]


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [environment.get("PYTHONPATH")])]
    )
    return environment


def _old_and_new(server: CatalogServer, tmp_path: Path) -> tuple[Path, Rows, Rows, int]:
    """A cache holding V1 of every provider (the template), V2 published; both row sets, and the
    bytes a cache holding only V2 takes."""
    for provider in PROVIDERS:
        server.publish(provider, V1)
    template = tmp_path / "template"
    update_catalog(server.base_url, PROVIDERS, template, timeout=5).raise_for_failures()
    old = _cached_rows(template)
    assert isinstance(old, frozenset)
    for provider in PROVIDERS:
        server.publish(provider, V2, gpuhunt_csv(_new_rows(provider)))
    fresh = tmp_path / "fresh"
    update_catalog(server.base_url, PROVIDERS, fresh, timeout=5).raise_for_failures()
    new = _cached_rows(fresh)
    assert isinstance(new, frozenset) and new != old
    new_bytes = sum(path.stat().st_size for path in fresh.rglob("*") if path.is_file())
    shutil.rmtree(fresh)
    return template, old, new, new_bytes


def _partial_seen(cache: Path) -> bool:
    """The update has started its work (its staging directory exists)."""
    with contextlib.suppress(OSError):
        return any(entry.name.startswith(".partial-") for entry in (cache / "catalogs").iterdir())
    return False


def _run_until_staging(command: list[str], cache: Path) -> tuple[subprocess.Popen[bytes], float]:
    process = subprocess.Popen(
        command, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not _partial_seen(cache) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    return process, time.monotonic()


def _check_repaired(server: CatalogServer, cache: Path, new: Rows) -> None:
    report = update_catalog(server.base_url, PROVIDERS, cache, timeout=5)
    report.raise_for_failures()
    assert _cached_rows(cache) == new
    leftovers = [p for p in (cache / "catalogs").rglob("*") if ".partial-" in p.name]
    assert leftovers == []
    # A second update finds nothing to do or repair: the first left a consistent cache.
    again = update_catalog(server.base_url, PROVIDERS, cache, timeout=5)
    assert {r.status for r in again.results} == {"unchanged"} and again.repairs == ()


def test_an_update_killed_at_any_moment_leaves_the_old_or_the_new_catalog(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    template, old, new, _ = _old_and_new(catalog_http_server, tmp_path)

    # How long the update works once its staging directory exists: kills are spread over it.
    calibration = tmp_path / "calibration"
    shutil.copytree(template, calibration)
    process, started = _run_until_staging(_command(catalog_http_server, calibration), calibration)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    window = max(time.monotonic() - started, 0.05)

    answers = {"old": 0, "new": 0}
    for kill in range(KILLS):
        cache = tmp_path / f"kill{kill}"
        shutil.copytree(template, cache)
        kind = signal.SIGKILL if kill % 2 == 0 else signal.SIGINT
        process, started = _run_until_staging(_command(catalog_http_server, cache), cache)
        # Past the calibrated window too: a loaded machine may run this update slower.
        moment = window * AFTER_WINDOW * (kill + 0.5) / KILLS
        time.sleep(max(0.0, started + moment - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(kind)
        _, stderr = process.communicate(timeout=60)
        assert b"Traceback" not in stderr, stderr.decode()

        answer = _cached_rows(cache)
        assert answer in (old, new), f"kill {kill} ({kind.name}): {answer!r}"[:500]
        answers["old" if answer == old else "new"] += 1
        _check_repaired(catalog_http_server, cache, new)
    # Spread over the window, the kills land both before and after the switch.
    assert answers["old"] and answers["new"], answers


@contextlib.contextmanager
def _small_disk(path: Path) -> Iterator[str]:
    """A small tmpfs at ``path`` ("tmpfs"), or nothing mounted where that is not permitted
    ("rlimit": the child then gets RLIMIT_FSIZE instead)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        yield "rlimit"
        return
    try:
        yield "tmpfs"
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _limit_file_size(limit: int) -> None:
    # Ignored, SIGXFSZ lets the write fail with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_full_disk_keeps_the_old_catalog_and_says_so(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    template, old, new, new_bytes = _old_and_new(catalog_http_server, tmp_path)
    disk = tmp_path / "disk"
    with _small_disk(disk) as kind:
        cache = disk / "cache"
        needed = 0
        for point in range(FILL_POINTS):
            shutil.rmtree(cache, ignore_errors=True)
            shutil.copytree(template, cache)
            limit = None
            filler = disk / "filler"
            if kind == "tmpfs":
                # Less room than the update needs (the new files next to the old ones, until
                # the switch), from almost none to most of it.
                room = int(new_bytes * point / FILL_POINTS) + 4096
                filler.write_bytes(b"\0" * max(0, shutil.disk_usage(disk).free - room))
            else:
                limit = int(new_bytes * (point + 1) / (2 * FILL_POINTS))
            completed = subprocess.run(
                _command(catalog_http_server, cache),
                env=_environment(),
                capture_output=True,
                text=True,
                timeout=120,
                preexec_fn=(lambda limit=limit: _limit_file_size(limit)) if limit else None,
            )
            filler.unlink(missing_ok=True)

            assert completed.returncode == 2, completed.stderr
            assert "Traceback" not in completed.stderr
            assert "corrupt" not in completed.stderr
            assert "No space left on device" in completed.stderr or (
                kind == "rlimit" and "File too large" in completed.stderr
            ), completed.stderr
            # Providers that fitted are installed (documented: the others keep their copy);
            # each provider answers its old rows or its new ones, completely.
            answer = _cached_rows(cache)
            assert isinstance(answer, frozenset), answer
            for provider in PROVIDERS:
                mine = _of(answer, provider)
                if f"provider {provider}: " in completed.stderr:
                    assert mine == _of(old, provider), f"fill point {point}, {provider}"
                else:
                    assert mine in (_of(old, provider), _of(new, provider))
            needed += 1
        _check_repaired(catalog_http_server, cache, new)
    assert needed == FILL_POINTS


def test_a_failure_while_publishing_keeps_the_old_catalog_and_the_next_update_repairs(
    catalog_http_server: CatalogServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: the combined table's write fails (a full disk at that very step)."""
    import planner.catalog.download as download

    template, old, new, _ = _old_and_new(catalog_http_server, tmp_path)
    cache = tmp_path / "cache"
    shutil.copytree(template, cache)
    write_arrow = download.write_arrow

    def failing_for_the_combined_table(offers: Any, path: Any) -> Path:
        if len(offers.sources) > 1:  # one source per provider table; the combined has all
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return write_arrow(offers, path)

    monkeypatch.setattr(download, "write_arrow", failing_for_the_combined_table)
    with pytest.raises(CatalogError, match="No space left on device"):
        update_catalog(catalog_http_server.base_url, PROVIDERS, cache, timeout=5)
    assert _cached_rows(cache) == old

    monkeypatch.setattr(download, "write_arrow", write_arrow)
    _check_repaired(catalog_http_server, cache, new)


def test_a_replaced_combined_table_is_noticed_and_rebuilt(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    """A combined table that does not match the provider tables (stale, or tampered with) is
    not "unchanged": the update rebuilds it and says so."""
    template, _, new, _ = _old_and_new(catalog_http_server, tmp_path)
    stale = cached_catalog_path(template).read_bytes()
    cache = tmp_path / "cache"
    update_catalog(catalog_http_server.base_url, PROVIDERS, cache, timeout=5).raise_for_failures()
    table = cached_catalog_path(cache)
    table.write_bytes(stale)  # valid Arrow, old rows: size differs, so readers refuse it
    assert "damaged" in str(_cached_rows(cache))

    report = update_catalog(catalog_http_server.base_url, PROVIDERS, cache, timeout=5)

    assert [r.status for r in report.results] == ["unchanged"] * len(PROVIDERS)
    assert any("rebuilt" in repair for repair in report.repairs), report.repairs
    assert _cached_rows(cache) == new


def _small_cache(server: CatalogServer, cache: Path) -> Rows:
    for provider in ("aws", "gcp"):
        server.publish(provider, V1)
    update_catalog(server.base_url, ["aws", "gcp"], cache, timeout=5).raise_for_failures()
    rows = _cached_rows(cache)
    assert isinstance(rows, frozenset)
    return rows


@pytest.mark.parametrize("target", ["current.json", "table", "aws table"])
def test_a_fifo_in_place_of_a_cache_file_blocks_nothing(
    target: str, catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    rows = _small_cache(catalog_http_server, cache)
    path = {
        "current.json": cache / "catalogs" / "current.json",
        "table": cached_catalog_path(cache),
        "aws table": cache / "catalogs" / "aws" / V1 / "aws.arrow",
    }[target]
    path.unlink()
    os.mkfifo(path)

    if target != "aws table":  # the reader reads only the manifest and the combined table
        assert "damaged" in str(_cached_rows(cache))
    report = update_catalog(catalog_http_server.base_url, ["aws", "gcp"], cache, timeout=5)

    report.raise_for_failures()
    assert report.repairs
    assert _cached_rows(cache) == rows


def test_a_manifest_naming_a_file_outside_the_cache_is_damaged(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _small_cache(catalog_http_server, cache)
    manifest_path = cache / "catalogs" / "current.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["table"] = "../../../outside.arrow"
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(CatalogError, match=r"damaged .*run `planner catalog update` to repair"):
        Catalog.load("cache", cache_dir=cache)


def test_a_cache_written_before_the_manifest_is_converted(
    catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    """The layout of earlier versions: catalogs/<provider>/current and catalogs/current.arrow."""
    cache = tmp_path / "cache"
    rows = _small_cache(catalog_http_server, cache)
    catalogs = cache / "catalogs"
    shutil.move(cached_catalog_path(cache), catalogs / "current.arrow")
    (catalogs / "current.json").unlink()
    for provider in ("aws", "gcp"):
        (catalogs / provider / "current").write_text(f"{V1}\n")

    assert _cached_rows(cache) == rows  # read as it is, a manifest written for it
    report = update_catalog(catalog_http_server.base_url, ["aws", "gcp"], cache, timeout=5)

    assert [r.status for r in report.results] == ["unchanged", "unchanged"]
    assert not (catalogs / "current.arrow").exists() and not (catalogs / "aws/current").exists()
    assert _cached_rows(cache) == rows
