"""The Catalog object: construction, immutability, arrays, and the Arrow IPC cache."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from catalog_files import row, write_csv

from planner.catalog import Catalog, CatalogSource, read_table, write_table
from planner.catalog.columns import COLUMNS, ROW_ID
from planner.errors import CatalogError


def _frame(**columns: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "provider": ["aws", "gcp", "aws"],
        "instance_type": ["a", "b", "c"],
        "region": ["r1", "r2", "r1"],
        "price": [3.0, 1.0, 1.0],
        "cpu": [4, 8, 2],
        "memory_gb": [16.0, 32.0, 8.0],
        "gpu_count": [1, 0, 0],
        "spot": [False, True, False],
    }
    return pd.DataFrame({**base, **columns})


@pytest.fixture
def loaded(tmp_path: Path) -> Catalog:
    rows = [
        row(instance_name="cpu", price="0.5"),
        row(
            instance_name="gpu",
            price="4.0",
            gpu_count="2",
            gpu_name="H100",
            gpu_memory="80.0",
            disk_size="200.0",
            flags="x y",
        ),
        row(instance_name="bad", cpu="8.0"),
        row(
            instance_name="tpu",
            price="1.0",
            gpu_count="1",
            gpu_name="v5p-8",
            gpu_vendor="google",
            provider_data='{"a": 1}',
        ),
    ]
    return Catalog.load(write_csv(tmp_path / "src" / "gcp.csv", rows))


def test_from_frame_defaults_sorts_and_types_like_a_loader(loaded: Catalog) -> None:
    catalog = Catalog.from_frame(_frame())
    frame = catalog.frame
    assert list(frame.columns) == [*COLUMNS, ROW_ID]
    assert frame["instance_type"].astype(str).tolist() == ["b", "c", "a"]  # stable by price
    assert frame[ROW_ID].tolist() == [0, 1, 2]
    assert frame["cpu_arch"].astype(str).tolist() == ["x86"] * 3
    assert frame["flags"].astype(str).tolist() == [""] * 3
    assert frame["gpu_name"].isna().all() and frame["disk_gb"].isna().all()
    assert frame.dtypes.astype(str).to_dict() == loaded.frame.dtypes.astype(str).to_dict()
    for name in COLUMNS:
        if COLUMNS[name] == "category":
            assert frame[name].cat.categories.dtype == loaded.frame[name].cat.categories.dtype
    (source,) = catalog.sources
    assert (source.format, source.providers, source.rows) == ("frame", ("aws", "gcp"), 3)


def test_a_catalogs_own_frame_round_trips_through_from_frame(loaded: Catalog) -> None:
    again = Catalog.from_frame(loaded.frame)
    pd.testing.assert_frame_equal(again.frame, loaded.frame, check_categorical=False)
    assert (
        again.frame["gpu_name"].astype(object).tolist()
        == loaded.frame["gpu_name"].astype(object).tolist()
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"price": [1.0, -1.0, 2.0]}, "price"),
        ({"price": [1.0, float("nan"), 2.0]}, "price"),
        ({"cpu": [1, -2, 3]}, "cpu"),
        ({"gpu_vendor": ["nvidia", None, "ibm"]}, "ibm"),
        ({"cpu_arch": ["x86", "arm", "riscv"]}, "riscv"),
        ({"provider": ["aws", None, "gcp"]}, "provider"),
        ({"cpu": ["four", 8, 2]}, "cpu"),
        # Beyond the maxima the CSV loaders and Arrow reads apply (catalog/row_rules.py).
        ({"price": [1.0, 2.0, 1e12]}, "price must be at most 1e\\+06"),
        ({"memory_gb": [8.0, 16.0, 1.7e308]}, "memory_gb must be at most"),
    ],
)
def test_from_frame_refuses_values_no_loader_would_produce(
    change: dict[str, list[object]], message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        Catalog.from_frame(_frame(**change))


def test_from_frame_needs_the_required_columns() -> None:
    with pytest.raises(CatalogError, match="price"):
        Catalog.from_frame(_frame().drop(columns=["price"]))


def test_the_frame_is_a_copy_that_cannot_change_the_catalog(loaded: Catalog) -> None:
    frame = loaded.frame
    frame["price"] = 0.0
    frame.loc[0, "cpu"] = 999
    assert loaded.frame["price"].tolist() == [0.5, 1.0, 4.0]
    assert loaded.frame["cpu"].tolist() == [2, 2, 2]


def test_arrays_are_read_only_cached_views(loaded: Catalog) -> None:
    price = loaded.array("price")
    assert price is loaded.array("price")
    assert not price.flags.writeable
    with pytest.raises(ValueError):
        price[0] = 1.0
    assert price.dtype == np.float64 and price.tolist() == [0.5, 1.0, 4.0]
    assert loaded.array("cpu").dtype == np.int32
    assert loaded.array("spot").dtype == np.bool_
    codes = loaded.array("gpu_name")
    names = loaded.categories("gpu_name")
    assert [names[code] if code >= 0 else None for code in codes] == [None, "v5p-8", "H100"]
    assert not codes.flags.writeable
    assert loaded.array(ROW_ID).tolist() == [0, 1, 2]
    with pytest.raises(KeyError):
        loaded.array("nope")


def test_provenance_and_issues_are_kept(loaded: Catalog) -> None:
    (source,) = loaded.sources
    assert (source.format, source.providers, source.rows, source.dropped) == (
        "gpuhunt-csv",
        ("gcp",),
        3,
        1,
    )
    (issue,) = loaded.issues
    assert (issue.line, issue.column) == (4, "cpu")
    assert loaded.warnings and "dropped 1 of 4 rows" in loaded.warnings[0]
    assert len(loaded) == 3 and "3 rows" in repr(loaded)


def test_the_arrow_cache_round_trips_everything(loaded: Catalog, tmp_path: Path) -> None:
    path = write_table(loaded, tmp_path / "cache" / "catalog.arrow")
    assert [p.name for p in path.parent.iterdir()] == ["catalog.arrow"]  # no temporary left
    again = read_table(path)
    pd.testing.assert_frame_equal(again.frame, loaded.frame)
    assert again.frame.dtypes.to_dict() == loaded.frame.dtypes.to_dict()
    assert (again.sources, again.issues, again.warnings, again.as_of) == (
        loaded.sources,
        loaded.issues,
        loaded.warnings,
        loaded.as_of,
    )
    assert not again.array("price").flags.writeable
    assert math.isnan(again.frame["disk_gb"][0])


def test_an_arrow_cache_is_a_source_like_any_other(loaded: Catalog, tmp_path: Path) -> None:
    path = write_table(loaded, tmp_path / "catalog.arrow")
    alone = Catalog.load(path)
    pd.testing.assert_frame_equal(alone.frame, loaded.frame)
    # The cache keeps the provenance of what it was built from, not its own file name.
    assert (alone.sources, alone.issues, alone.warnings) == (
        loaded.sources,
        loaded.issues,
        loaded.warnings,
    )
    other = Catalog.from_frame(_frame())
    combined = Catalog.load(path, write_table(other, tmp_path / "other.arrow"))
    assert len(combined) == len(loaded) + len(other)
    assert combined.sources == loaded.sources + other.sources
    assert combined.issues == loaded.issues
    prices = combined.array("price")
    assert np.all(prices[:-1] <= prices[1:])
    with pytest.raises(CatalogError, match="cpu is not an integer"):
        Catalog.load(path, strict=True)


def test_an_empty_catalog_round_trips(tmp_path: Path) -> None:
    empty = Catalog.from_frame(_frame().iloc[0:0])
    again = read_table(write_table(empty, tmp_path / "empty.arrow"))
    assert len(again) == 0 and list(again.frame.columns) == [*COLUMNS, ROW_ID]


def test_reading_something_else_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such file"):
        read_table(tmp_path / "missing.arrow")
    garbage = tmp_path / "garbage.arrow"
    garbage.write_bytes(b"ARROW1" + b"\x00" * 100)
    with pytest.raises(CatalogError, match=r"garbage\.arrow"):
        read_table(garbage)
    import pyarrow as pa
    import pyarrow.ipc as ipc

    foreign = tmp_path / "foreign.arrow"
    table = pa.table({"x": [1, 2]})
    with pa.OSFile(str(foreign), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(CatalogError, match="not a planner catalog cache"):
        read_table(foreign)


def _rewritten(path: Path, target: Path, change: object) -> Path:
    """``path``'s Arrow file with its table changed by ``change`` (metadata kept)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    table = ipc.open_file(pa.memory_map(str(path))).read_all()
    changed = change(table)  # type: ignore[operator]
    with pa.OSFile(str(target), "wb") as sink, ipc.new_file(sink, changed.schema) as writer:
        for batch in changed.to_batches(max_chunksize=2):
            writer.write_batch(batch)
    return target


def test_a_file_of_several_record_batches_reads_as_one_table(
    loaded: Catalog, tmp_path: Path
) -> None:
    written = write_table(loaded, tmp_path / "one.arrow")
    several = _rewritten(written, tmp_path / "several.arrow", lambda table: table)
    again = read_table(several)
    for name in [*COLUMNS, ROW_ID]:
        np.testing.assert_array_equal(again.array(name), loaded.array(name), err_msg=name)
    pd.testing.assert_frame_equal(again.frame, loaded.frame)


@pytest.mark.parametrize("column", ["cpu", "spot", ROW_ID])
def test_a_file_with_a_missing_integer_or_bool_is_refused(
    loaded: Catalog, tmp_path: Path, column: str
) -> None:
    import pyarrow as pa

    def blank_first(table: pa.Table) -> pa.Table:
        values = table.column(column).to_pylist()
        array = pa.array([None, *values[1:]], type=table.schema.field(column).type)
        return table.set_column(table.column_names.index(column), column, array)

    written = write_table(loaded, tmp_path / "one.arrow")
    damaged = _rewritten(written, tmp_path / "damaged.arrow", blank_first)
    with pytest.raises(CatalogError, match=f"missing values in {column}"):
        read_table(damaged)


def test_with_provenance_restates_the_origin(loaded: Catalog) -> None:
    restated = loaded.with_provenance(location="https://example.com/gcp.csv", as_of="2026-01-02")
    (source,) = restated.sources
    assert (source.location, source.as_of, source.rows) == (
        "https://example.com/gcp.csv",
        "2026-01-02",
        3,
    )
    assert restated.as_of == "2026-01-02" and len(restated) == len(loaded)
    assert loaded.sources[0].location != source.location


def test_as_of_is_the_oldest_source(tmp_path: Path) -> None:
    for name, as_of in (("new", "20260301-1"), ("old", "20250101-1")):
        write_csv(tmp_path / name / "aws.csv", [row()])
        (tmp_path / name / "version").write_text(as_of)
    assert Catalog.load(tmp_path / "new", tmp_path / "old").as_of == "2025-01-01"


def test_the_bundled_snapshot_is_the_default(repo_dir: Path) -> None:
    assert (repo_dir / "catalogs" / "snapshot").is_dir()  # in the repository: never skipped
    default = Catalog.load()
    assert len(default) == default.sources[0].rows > 0
    assert [source.location for source in default.sources] == ["bundled"]
    assert default.sources[0].format == "gpuhunt-dir"
    assert Catalog.bundled().frame.equals(default.frame)


def test_source_json_round_trip() -> None:
    source = CatalogSource(
        "x", "gpuhunt-dir", ("aws",), "2026-01-01", "version file", 3, 1, "20260101-1"
    )
    assert CatalogSource.from_json(source.to_json()) == source


@pytest.mark.slow
def test_an_installed_wheel_finds_its_bundled_data(repo_dir: Path, tmp_path: Path) -> None:
    """pyproject force-includes catalogs/ as planner/_catalogs: the wheel must use it."""
    import subprocess
    import sys
    import zipfile

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(repo_dir)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    # hatchling comes with the test extras, so a failed build is a real failure.
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("planner-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    probe = (
        "from planner.catalog.bundled import data_dir; from planner.catalog import GpuTable, Catalog;"
        "print(data_dir()); print(len(GpuTable.load().entries)); print(len(Catalog.load()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    location, entries, offers = result.stdout.split()
    assert Path(location) == tmp_path / "site" / "planner" / "_catalogs"
    assert int(entries) > 90
    assert int(offers) == len(Catalog.load())  # the whole bundled snapshot ships in the wheel


def test_derived_data_is_built_once_per_catalog(loaded: Catalog) -> None:
    calls: list[int] = []

    def build() -> int:
        calls.append(1)
        return len(calls)

    assert loaded.derived("tests:count", build) == 1
    assert loaded.derived("tests:count", build) == 1
    assert loaded.with_provenance(location="x").derived("tests:count", build) == 1
    assert Catalog.from_frame(loaded.frame).derived("tests:count", build) == 2
