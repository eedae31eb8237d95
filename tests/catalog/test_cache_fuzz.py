"""Property-based fuzzing of the cache files (issue 8, acceptance): the combined Arrow table and the
manifest are truncated, bit-flipped, overwritten and extended, and ``planner offers --catalog
cache`` must answer sensibly (exit 0 or 1: only valid rows, cheapest first) or exit 2 with a
message: never a traceback, never "$nan" or a negative price, in bounded time and memory. Then
``catalog update`` must restore the published catalog.

The reader checks the manifest, the table's size, its structure and every row rule (not a
checksum of the whole file: that would slow every load); a change that leaves valid rows is found
by ``update``, which checks the checksums.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from v3_server import CatalogServer

from planner.catalog import Catalog
from planner.catalog.cache import CACHE_DIR_ENV
from planner.catalog.download import cached_catalog_path, update_catalog
from planner.cli import main

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "examples" / "cpu-only.yml"
PROVIDERS = ("aws", "gcp")
EXAMPLES = 120
REPAIR_EXAMPLES = 15
# Per example: one in-process `offers` run on a few rows.
MAX_SECONDS = 10.0
MAX_GROWTH_MB = 300


@pytest.fixture
def pristine(catalog_http_server: CatalogServer, tmp_path: Path) -> Path:
    for provider in PROVIDERS:
        catalog_http_server.publish(provider, "20260101-1")
    cache = tmp_path / "pristine"
    update_catalog(catalog_http_server.base_url, PROVIDERS, cache, timeout=5).raise_for_failures()
    return cache


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, bool, list[tuple[str, int, bytes]]]:
    """(which file, whether the manifest's size is made to match, edits)."""
    target = draw(st.sampled_from(["table", "table", "table", "manifest"]))
    fix_size = draw(st.booleans())
    edits = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["flip", "overwrite", "truncate", "insert", "replace"]),
                st.integers(0, 1 << 20),
                st.binary(min_size=0, max_size=64),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return target, fix_size, edits


def _apply(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    buffer = bytearray(data)
    for kind, position, payload in edits:
        at = position % (len(buffer) + 1)
        if kind == "flip" and buffer:
            index = position % len(buffer)
            buffer[index] ^= 1 << (position % 8)
        elif kind == "overwrite":
            buffer[at : at + len(payload)] = payload
        elif kind == "truncate":
            del buffer[at:]
        elif kind == "insert":
            buffer[at:at] = payload
        elif kind == "replace":
            buffer = bytearray(payload)
    return bytes(buffer)


def _damage(cache: Path, target: str, fix_size: bool, edits: list[tuple[str, int, bytes]]) -> None:
    manifest_path = cache / "catalogs" / "current.json"
    table = cached_catalog_path(cache)
    path = table if target == "table" else manifest_path
    path.write_bytes(_apply(path.read_bytes(), edits))
    if target == "table" and fix_size:
        manifest = json.loads(manifest_path.read_text())
        manifest["table_bytes"] = table.stat().st_size
        manifest_path.write_text(json.dumps(manifest))


@contextlib.contextmanager
def _cache_dir(cache: Path) -> Iterator[None]:
    previous = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = str(cache)
    try:
        yield
    finally:
        if previous is None:
            del os.environ[CACHE_DIR_ENV]
        else:
            os.environ[CACHE_DIR_ENV] = previous


def _offers(cache: Path) -> tuple[int, str, str]:
    """``planner offers --catalog cache`` in this process (the CLI's own entry point)."""
    out, err = io.StringIO(), io.StringIO()
    with _cache_dir(cache), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["offers", str(SERVICE), "--catalog", "cache", "--format", "json"])
    return code, out.getvalue(), err.getvalue()


def _check_answer(code: int, stdout: str, stderr: str) -> None:
    assert code in (0, 1, 2), (code, stderr)
    if code == 2:
        assert stderr.startswith("error:") and len(stderr) < 5000, stderr
        return
    document = json.loads(stdout) if code == 0 else None
    if document is not None:
        prices = [offer["price"] for offer in document["offers"]]
        assert all(isinstance(p, float | int) and p >= 0 for p in prices), prices
        assert prices == sorted(prices)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_damaged_cache_files_answer_sensibly_or_exit_2(pristine: Path, tmp_path: Path) -> None:
    counter = iter(range(1 << 30))
    start_peak = _peak_mb()
    seen = {0: 0, 1: 0, 2: 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,  # bounded below by wall time, generously: the machine is shared
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(mutations())
    def check(mutation: tuple[str, bool, list[tuple[str, int, bytes]]]) -> None:
        cache = tmp_path / f"example{next(counter)}"
        shutil.copytree(pristine, cache)
        _damage(cache, *mutation)
        began = time.monotonic()
        code, stdout, stderr = _offers(cache)
        assert time.monotonic() - began < MAX_SECONDS
        _check_answer(code, stdout, stderr)
        seen[code] += 1
        shutil.rmtree(cache)

    check()
    assert _peak_mb() - start_peak < MAX_GROWTH_MB
    assert seen[2] > 0  # the mutations do reach the checks


def test_update_restores_a_damaged_cache(
    pristine: Path, catalog_http_server: CatalogServer, tmp_path: Path
) -> None:
    expected = Catalog.load("cache", cache_dir=pristine).frame
    counter = iter(range(1 << 30))

    @settings(
        max_examples=REPAIR_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(mutations())
    def check(mutation: tuple[str, bool, list[tuple[str, int, bytes]]]) -> None:
        cache = tmp_path / f"repair{next(counter)}"
        shutil.copytree(pristine, cache)
        _damage(cache, *mutation)
        report = update_catalog(catalog_http_server.base_url, PROVIDERS, cache, timeout=5)
        report.raise_for_failures()
        assert report.repairs or _unchanged_bytes(cache, pristine)
        assert Catalog.load("cache", cache_dir=cache).frame.equals(expected)
        shutil.rmtree(cache)

    check()


def _unchanged_bytes(cache: Path, pristine: Path) -> bool:
    """An edit that changed nothing (bytes overwritten with themselves, the manifest rewritten
    with the same content)."""

    def content(path: Path) -> object:
        data = path.read_bytes()
        return json.loads(data) if path.name == "current.json" else data

    return all(
        content(cache / path.relative_to(pristine)) == content(path)
        for path in pristine.rglob("*")
        if path.is_file() and path.name != ".lock"
    )
