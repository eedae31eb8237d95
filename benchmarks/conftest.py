"""Session fixtures of the benchmarks: a 1M-row generated catalog, cached between sessions.

Run: ``python3 -m pytest benchmarks --benchmark-only`` (not part of the default test run).
The catalog is generated once into ``benchmarks/.data/`` (gitignored; override the place with
``PLANNER_BENCH_DATA``), keyed by row count, seed and a hash of the generator's source, so editing
the generator regenerates it. Generation is atomic (temporary directory, then rename), so two
sessions started at once do not see a half-written catalog.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(REPO) not in sys.path:  # `python3 -m pytest` adds the cwd; plain `pytest` may not
    sys.path.insert(0, str(REPO))

from benchmarks import generate_catalog  # noqa: E402
from benchmarks.oracle import load_gpuhunt_catalog  # noqa: E402

BIG_ROWS = 1_000_000
SEED = 0


@dataclass(frozen=True)
class GeneratedCatalog:
    root: Path
    csv_dir: Path  # <provider>.csv files: what planner.Catalog.load reads
    v3_base: Path  # the v3 layout: what gpuhunt.Catalog.load reads
    providers: tuple[str, ...]
    rows: int


def _data_dir() -> Path:
    return Path(os.environ.get("PLANNER_BENCH_DATA", BENCH_DIR / ".data"))


def cached_catalog(rows: int, seed: int = SEED) -> GeneratedCatalog:
    source_hash = hashlib.sha256(Path(generate_catalog.__file__).read_bytes()).hexdigest()[:10]
    root = _data_dir() / f"catalog-{rows}-seed{seed}-{source_hash}"
    if not (root / "COMPLETE").is_file():
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
        generate_catalog.write_catalog(staging, rows, seed=seed, layouts=("dir", "v3"))
        (staging / "COMPLETE").write_text(f"{rows} rows, seed {seed}\n")
        try:
            staging.rename(root)
        except OSError:  # another session got there first
            shutil.rmtree(staging, ignore_errors=True)
    providers = tuple(sorted(path.stem for path in root.glob("*.csv")))
    return GeneratedCatalog(root, root, root / "v3", providers, rows)


@pytest.fixture(scope="session")
def big_catalog_files() -> GeneratedCatalog:
    return cached_catalog(BIG_ROWS)


@pytest.fixture(scope="session")
def big_planner_catalog(big_catalog_files: GeneratedCatalog) -> Any:
    from planner import Catalog

    catalog = Catalog.load(big_catalog_files.csv_dir)
    assert len(catalog) == BIG_ROWS
    return catalog


@pytest.fixture(scope="session")
def big_arrow_table(big_planner_catalog: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 1M-row catalog in the project's own cache format (written by write_table)."""
    from planner.catalog.table import write_table

    path = tmp_path_factory.mktemp("arrow") / "catalog-1m.arrow"
    write_table(big_planner_catalog, path)
    return path


@pytest.fixture(scope="module")
def big_gpuhunt_catalog(big_catalog_files: GeneratedCatalog) -> Any:
    """gpuhunt's in-memory catalog of the same rows (about 0.8 GB; module-scoped so it is freed)."""
    return load_gpuhunt_catalog(
        big_catalog_files.v3_base, big_catalog_files.csv_dir, big_catalog_files.providers
    )
