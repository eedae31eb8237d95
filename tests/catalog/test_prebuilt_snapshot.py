"""The bundled snapshot's prebuilt Arrow table, and catalogs read from Arrow without pandas.

``Catalog.load()`` reads ``catalogs/snapshot-<digest>.arrow`` when its digest is the one of the
files in ``catalogs/snapshot/`` now; its arrays come from Arrow with the dtypes and values the
pandas frame gives, and the frame is built only when asked for.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.catalog import Catalog, read_table, write_table
from planner.catalog.bundled import prebuilt_path
from planner.catalog.columns import COLUMNS, ROW_ID
from planner.catalog.prebuilt import prebuilt_problem, write_prebuilt

ALL_COLUMNS = [*COLUMNS, ROW_ID]
CATEGORY_COLUMNS = [name for name, dtype in COLUMNS.items() if dtype == "category"]


def _frame_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """What the pandas frame holds for a column: its values, or a category column's codes."""
    column = frame[name]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(column.cat.codes.to_numpy())
    return np.asarray(column.to_numpy())


def assert_same_rows(lazy: Catalog, built: Catalog) -> None:
    """``lazy``'s arrays (read first, without pandas) have the values and dtypes of ``built``'s
    pandas frame; categories and frames are equal too."""
    lazy_arrays = {name: lazy.array(name) for name in ALL_COLUMNS}
    lazy_categories = {name: lazy.categories(name) for name in CATEGORY_COLUMNS}
    lazy_providers = lazy.providers
    assert len(lazy) == len(built)
    frame = built.frame
    for name in ALL_COLUMNS:
        expected = _frame_values(frame, name)
        assert lazy_arrays[name].dtype == expected.dtype, name
        np.testing.assert_array_equal(lazy_arrays[name], expected, err_msg=name)
        assert not lazy_arrays[name].flags.writeable, name
    for name in CATEGORY_COLUMNS:
        assert lazy_categories[name] == built.categories(name), name
        assert lazy_categories[name] == tuple(str(c) for c in frame[name].cat.categories), name
    assert lazy_providers == built.providers
    pd.testing.assert_frame_equal(lazy.frame, built.frame)


def test_the_committed_prebuilt_table_is_what_the_csvs_give(repo_dir: Path) -> None:
    # On failure: python3 tools/snapshot/build.py (after changing the CSVs or the loaders).
    assert prebuilt_problem(repo_dir / "catalogs" / "snapshot") is None


def test_bundled_load_reads_the_prebuilt_table(repo_dir: Path) -> None:
    snapshot = repo_dir / "catalogs" / "snapshot"
    assert prebuilt_path(snapshot).is_file()
    bundled = Catalog.load()
    parsed = Catalog.load(str(snapshot))
    assert [source.location for source in bundled.sources] == ["bundled"]
    assert [s.providers for s in bundled.sources] == [s.providers for s in parsed.sources]
    assert bundled.as_of == parsed.as_of
    assert bundled.issues == parsed.issues == ()
    assert_same_rows(bundled, parsed)
    # bundled + bundled goes through the CSVs: the same rows twice
    assert len(Catalog.load("bundled", "bundled")) == 2 * len(bundled)


def test_an_edited_snapshot_is_parsed_again_not_read_stale(repo_dir: Path, tmp_path: Path) -> None:
    snapshot = tmp_path / "catalogs" / "snapshot"
    shutil.copytree(repo_dir / "catalogs" / "snapshot", snapshot)
    first = write_prebuilt(snapshot)
    assert first == prebuilt_path(snapshot) and first.is_file()
    assert prebuilt_problem(snapshot) is None

    csv = snapshot / "vastai.csv"
    lines = csv.read_bytes().split(b"\r\n")
    fields = lines[1].split(b",")
    fields[2] = b"0.00001"  # the price of the first row
    lines[1] = b",".join(fields)
    csv.write_bytes(b"\r\n".join(lines))
    assert prebuilt_path(snapshot) != first  # a new digest: the old table no longer answers
    assert not prebuilt_path(snapshot).is_file()
    assert "missing" in (prebuilt_problem(snapshot) or "")

    second = write_prebuilt(snapshot)
    assert not first.exists()  # the stale table is removed
    rebuilt = read_table(second)
    assert float(rebuilt.array("price")[0]) == pytest.approx(0.00001)
    assert prebuilt_problem(snapshot) is None


def _frame(rows: int) -> pd.DataFrame:
    """Rows with many categories (int16 and int32 codes), NaN strings and NaN numbers."""
    index = np.arange(rows)
    gpu = index % 3 != 0
    return pd.DataFrame(
        {
            "provider": np.where(index % 2 == 0, "aws", "gcp"),
            "instance_type": [f"type-{i}" for i in index],
            "region": [f"region-{i % 200}" for i in index],
            "price": (index % 997) / 7.0,
            "cpu": (index % 64) + 1,
            "memory_gb": (index % 512) + 0.5,
            "gpu_count": np.where(gpu, 1 + index % 8, 0),
            "gpu_name": np.where(gpu, np.where(index % 2 == 0, "H100", "a100"), None),
            "gpu_memory_gb": np.where(gpu & (index % 5 != 0), 80.0, np.nan),
            "spot": index % 4 == 0,
            "disk_gb": np.where(index % 7 == 0, np.nan, 100.0),
            "gpu_vendor": np.where(gpu, "nvidia", None),
        }
    )


@pytest.mark.parametrize("rows", [0, 5, 300, 40_000])
def test_arrays_from_arrow_are_the_frames_arrays(rows: int, tmp_path: Path) -> None:
    frame = _frame(rows)
    assert_same_rows(Catalog.from_frame(frame), Catalog.from_frame(frame))
    path = write_table(Catalog.from_frame(frame), tmp_path / "table.arrow")
    assert_same_rows(read_table(path), Catalog.from_frame(frame))


def test_offers_on_the_bundled_snapshot_does_not_import_pandas(repo_dir: Path) -> None:
    code = (
        "import sys, contextlib, io\n"
        "from planner.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main(['offers', {str(repo_dir / 'examples' / 'service.yml')!r}])\n"
        "assert code == 0 and 'shown' in out.getvalue(), out.getvalue()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'ortools'}))\n"
        "print('pyarrow.compute' in sys.modules, 'pyarrow.csv' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=repo_dir
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "False False"]
