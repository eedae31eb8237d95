"""gpuhunt catalogs (directory, zip, single CSV) load exactly as gpuhunt 0.1.34 loads them."""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from catalog_files import BASE_ROW, csv_text, row, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.catalog import Catalog
from planner.catalog.columns import COLUMNS, GPUHUNT_FIELDS, OFFLINE_PROVIDERS, ROW_ID


def _gpuhunt() -> ModuleType:
    """gpuhunt, the oracle: only the tests that compare with it skip without it."""
    return pytest.importorskip("gpuhunt")


@pytest.fixture(scope="module")
def gpuhunt_storage() -> ModuleType:
    """gpuhunt's own CSV reader (``gpuhunt._internal.storage``), the oracle."""
    _gpuhunt()
    from gpuhunt._internal import storage

    return storage


Offer = tuple[Any, ...]

# Every fix-up and accepted oddity of gpuhunt's item_from_row, one row each.
EDGE_ROWS = [
    row(instance_name="cpu-plain", price="0.5"),
    row(
        instance_name="gpu-no-vendor",
        price="3.0",
        gpu_count="8",
        gpu_name="A100",
        gpu_memory="40.0",
    ),
    row(
        instance_name="tpu-old",
        price="1.2",
        gpu_count="1",
        gpu_name="tpu-v5litepod-8",
        gpu_memory="128.0",
    ),
    row(
        instance_name="tpu-vendor",
        price="1.3",
        gpu_count="1",
        gpu_name="tpu-v2-8",
        gpu_vendor="Google",
    ),
    row(instance_name="tpu-cpu", price="1.4", gpu_count="0", gpu_name="tpu-v4-8"),
    row(
        instance_name="amd-upper",
        price="6.0",
        gpu_count="8",
        gpu_name="MI300X",
        gpu_memory="192.0",
        gpu_vendor="AMD",
    ),
    row(instance_name="arm-upper", price="0.7", cpu_arch="ARM"),
    row(instance_name="arch-empty", price="0.7", cpu_arch=""),
    row(instance_name="spot-upper", price="0.2", spot="TRUE"),
    row(instance_name="spot-lower", price="0.2", spot="false"),
    row(
        instance_name="gpu-no-memory",
        price="2.0",
        gpu_count="1",
        gpu_name="H100",
        gpu_vendor="nvidia",
    ),
    row(instance_name="disk", price="1.1", disk_size="100.0"),
    row(instance_name="flags", price="0.9", flags="gcp-g4  gcp-g4-preview"),
    row(instance_name="data", price="0.9", provider_data='{"pod_counts": [2, 8], "x": "a,b"}'),
    row(instance_name="data-empty-object", price="0.9", provider_data="{}"),
    row(instance_name="int-spaces", price=" 0.8 ", cpu=" 8 ", memory=" 32 "),
    row(instance_name="underscores", price="1_0.5", cpu="1_6", memory="6_4.0"),
    row(instance_name="exponent", price="1e-3", memory="1.6E1"),
    row(instance_name="zero-vendor", price="0.4", gpu_count="0", gpu_vendor="nvidia"),
    row(instance_name="tie-a", price="5.0"),
    row(instance_name="tie-b", price="5.0"),
    row(instance_name="tie-c", price="5.0", spot="True"),
]


def offer_tuples(catalog: Catalog) -> list[Offer]:
    columns = [name for name in COLUMNS if name != "provider_data"]
    frame = catalog.frame
    data = [json.loads(text) if text else {} for text in frame["provider_data"].astype(str)]
    return [
        (*tuple(None if isinstance(v, float) and math.isnan(v) else v for v in values), pd)
        for values, pd in zip(
            frame[columns].astype(object).itertuples(index=False, name=None), data, strict=True
        )
    ]


def gpuhunt_tuples(items: Iterable[Any]) -> list[Offer]:
    """gpuhunt items as our row tuples, in our order: stable by price (the published order)."""
    return [
        (
            item.provider,
            item.instance_name,
            item.location,
            item.price,
            item.cpu,
            item.memory,
            item.gpu_count,
            item.gpu_name or None,  # "tpu-" becomes "": an empty name is our NaN
            item.gpu_memory,
            item.spot,
            item.disk_size,
            item.gpu_vendor.value if item.gpu_vendor else None,
            " ".join(item.flags),
            item.cpu_arch.value,
            item.provider_data,
        )
        for item in sorted(items, key=lambda item: item.price)
    ]


def gpuhunt_query(directory: Path, provider: str, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """gpuhunt's own reader over a directory (GPUHUNT_CATALOG_DIR needs every offline provider)."""
    for name in OFFLINE_PROVIDERS:
        if not (directory / f"{name}.csv").exists():
            write_csv(directory / f"{name}.csv", [])
    monkeypatch.setenv("GPUHUNT_CATALOG_DIR", str(directory))
    catalog = _gpuhunt().Catalog(balance_resources=False, auto_reload=False)
    return list(catalog.query(provider=[provider]))


@pytest.fixture
def edge_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "catalog"
    write_csv(directory / "aws.csv", EDGE_ROWS)
    # gcp: an extra column, columns in another order, an LF-only file, rows with too few
    # (optional columns missing) and too many fields, as csv.DictReader tolerates.
    header = [
        "price",
        "instance_name",
        "comment",
        *[f for f in GPUHUNT_FIELDS if f not in ("price", "instance_name")],
    ]
    short_header = header[: header.index("disk_size")]
    rows: list[Any] = [
        {**row(instance_name="g-1", price="0.3"), "comment": "ignored"},
        {
            **row(
                instance_name="g-2",
                price="0.1",
                gpu_count="1",
                gpu_name="L4",
                gpu_memory="24.0",
                gpu_vendor="nvidia",
                flags="gcp-a4",
            ),
            "comment": "x",
        },
        [
            {**BASE_ROW, "instance_name": "g-short", "price": "0.2", "comment": ""}[f]
            for f in short_header
        ],
        [
            *[
                {**BASE_ROW, "instance_name": "g-long", "price": "0.25", "comment": ""}[f]
                for f in header
            ],
            "surplus",
        ],
    ]
    write_csv(directory / "gcp.csv", rows, header=header, line_end="\n")
    return directory


def test_every_fix_up_matches_gpuhunt(edge_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog.load(edge_dir)
    assert not catalog.issues and not catalog.warnings
    ours = offer_tuples(catalog)
    for provider in ("aws", "gcp"):
        theirs = gpuhunt_tuples(gpuhunt_query(edge_dir, provider, monkeypatch))
        assert [offer for offer in ours if offer[0] == provider] == theirs
    assert len(ours) == len(EDGE_ROWS) + 4


def test_fix_up_values(edge_dir: Path) -> None:
    frame = Catalog.load(edge_dir / "aws.csv").frame.set_index("instance_type")
    assert frame.loc["gpu-no-vendor", "gpu_vendor"] == "nvidia"
    assert (frame.loc["tpu-old", "gpu_name"], frame.loc["tpu-old", "gpu_vendor"]) == (
        "v5litepod-8",
        "google",
    )
    assert (frame.loc["tpu-vendor", "gpu_name"], frame.loc["tpu-vendor", "gpu_vendor"]) == (
        "v2-8",
        "google",
    )
    assert (frame.loc["tpu-cpu", "gpu_name"], frame.loc["tpu-cpu", "gpu_vendor"]) == (
        "v4-8",
        "google",
    )
    assert frame.loc["amd-upper", "gpu_vendor"] == "amd"
    assert frame.loc["arm-upper", "cpu_arch"] == "arm"
    assert frame.loc["arch-empty", "cpu_arch"] == "x86"
    assert bool(frame.loc["spot-upper", "spot"]) and not bool(frame.loc["spot-lower", "spot"])
    assert math.isnan(frame.loc["gpu-no-memory", "gpu_memory_gb"])
    assert math.isnan(frame.loc["cpu-plain", "disk_gb"]) and frame.loc["disk", "disk_gb"] == 100
    assert frame.loc["flags", "flags"] == "gcp-g4 gcp-g4-preview"
    assert json.loads(frame.loc["data", "provider_data"]) == {"pod_counts": [2, 8], "x": "a,b"}
    assert frame.loc["data-empty-object", "provider_data"] == ""
    assert (frame.loc["int-spaces", "cpu"], frame.loc["int-spaces", "price"]) == (8, 0.8)
    assert (frame.loc["underscores", "cpu"], frame.loc["underscores", "price"]) == (16, 10.5)
    assert frame.loc["exponent", "price"] == 0.001 and frame.loc["exponent", "memory_gb"] == 16
    cpu_row = frame.loc["cpu-plain"]
    assert isinstance(cpu_row["gpu_name"], float) and math.isnan(cpu_row["gpu_name"])
    assert isinstance(cpu_row["gpu_vendor"], float) and math.isnan(cpu_row["gpu_vendor"])
    assert frame.loc["zero-vendor", "gpu_vendor"] == "nvidia"


def test_dtypes_order_and_row_id(edge_dir: Path) -> None:
    frame = Catalog.load(edge_dir).frame
    assert list(frame.columns) == [*COLUMNS, ROW_ID]
    for name, dtype in COLUMNS.items():
        assert str(frame[name].dtype) == dtype, name
    assert str(frame[ROW_ID].dtype) == "int64"
    assert np.array_equal(frame[ROW_ID].to_numpy(), np.arange(len(frame)))
    prices = frame["price"].to_numpy()
    assert np.all(prices[:-1] <= prices[1:])
    ties = frame[frame["price"] == 5.0]["instance_type"].astype(str).tolist()
    assert ties == ["tie-a", "tie-b", "tie-c"]


def test_v1_files_without_the_last_three_columns_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1_header = GPUHUNT_FIELDS[:11]
    rows = [
        row(instance_name="a", price="1.0", gpu_count="1", gpu_name="tpu-v3-8"),
        row(instance_name="b", price="0.5", gpu_count="2", gpu_name="V100", gpu_memory="16.0"),
        row(instance_name="c", price="0.1"),
    ]
    write_csv(tmp_path / "v1" / "azure.csv", rows, header=v1_header)
    catalog = Catalog.load(tmp_path / "v1" / "azure.csv")
    frame = catalog.frame
    assert frame["instance_type"].astype(str).tolist() == ["c", "b", "a"]
    assert frame["cpu_arch"].astype(str).tolist() == ["x86"] * 3
    assert frame["flags"].astype(str).tolist() == [""] * 3
    assert frame["provider_data"].astype(str).tolist() == [""] * 3
    assert frame["gpu_vendor"].astype(object).tolist()[1:] == ["nvidia", "google"]
    assert offer_tuples(catalog) == gpuhunt_tuples(
        gpuhunt_query(tmp_path / "v1", "azure", monkeypatch)
    )


def test_zip_directory_and_files_give_the_same_rows(edge_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "catalog.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for name in ("gcp.csv", "aws.csv"):  # stored out of order: members load sorted by name
            handle.write(edge_dir / name, arcname=name)
    from_dir = Catalog.load(edge_dir)
    from_zip = Catalog.load(archive)
    from_files = Catalog.load(edge_dir / "aws.csv", edge_dir / "gcp.csv")
    assert offer_tuples(from_zip) == offer_tuples(from_dir) == offer_tuples(from_files)
    assert from_zip.sources[0].format == "gpuhunt-zip"
    assert from_zip.sources[0].providers == ("aws", "gcp")
    assert from_dir.sources[0].format == "gpuhunt-dir"
    assert [source.format for source in from_files.sources] == ["gpuhunt-csv"] * 2


def test_sources_concatenate_in_the_order_given(tmp_path: Path) -> None:
    write_csv(tmp_path / "one" / "aws.csv", [row(instance_name="aws-1", price="1.0")])
    write_csv(tmp_path / "two" / "runpod.csv", [row(instance_name="runpod-1", price="1.0")])
    forward = Catalog.load(tmp_path / "one", tmp_path / "two").frame
    backward = Catalog.load(tmp_path / "two", tmp_path / "one").frame
    assert forward["instance_type"].astype(str).tolist() == ["aws-1", "runpod-1"]
    assert backward["instance_type"].astype(str).tolist() == ["runpod-1", "aws-1"]


def test_provider_is_the_file_stem_lower_cased(tmp_path: Path) -> None:
    write_csv(tmp_path / "LambdaLabs.csv", [row()])
    catalog = Catalog.load(tmp_path / "LambdaLabs.csv")
    assert catalog.providers == ("lambdalabs",)
    assert catalog.sources[0].providers == ("lambdalabs",)


def test_provenance_from_a_version_file(tmp_path: Path) -> None:
    write_csv(tmp_path / "aws.csv", [row()])
    (tmp_path / "version").write_text("20260818-42\n")
    source = Catalog.load(tmp_path).sources[0]
    assert (source.as_of, source.as_of_from, source.version) == (
        "2026-08-18",
        "version file",
        "20260818-42",
    )
    assert (source.rows, source.dropped, source.location) == (1, 0, str(tmp_path))


def test_provenance_from_the_zip_name_or_its_directory(tmp_path: Path) -> None:
    archive = tmp_path / "catalog-20250102-7.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("aws.csv", csv_text([row()]))
    source = Catalog.load(archive).sources[0]
    assert (source.as_of, source.as_of_from, source.version) == (
        "2025-01-02",
        "zip name",
        "20250102-7",
    )
    layout = tmp_path / "aws" / "20260301-3"
    layout.mkdir(parents=True)
    (layout / "catalog.zip").write_bytes(archive.read_bytes())
    source = Catalog.load(layout / "catalog.zip").sources[0]
    assert (source.as_of, source.as_of_from) == ("2026-03-01", "directory name")


def test_provenance_from_a_provenance_file(tmp_path: Path) -> None:
    write_csv(tmp_path / "aws.csv", [row()])
    (tmp_path / "provenance.json").write_text(
        json.dumps({"as_of": "2026-11-01", "description": "test data"})
    )
    catalog = Catalog.load(tmp_path)
    source = catalog.sources[0]
    assert (source.as_of, source.as_of_from, source.description) == (
        "2026-11-01",
        "provenance.json",
        "test data",
    )
    assert catalog.as_of == "2026-11-01"


def test_provenance_falls_back_to_the_file_time_and_says_so(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "aws.csv", [row()])
    os.utime(path, (1_700_000_000, 1_700_000_000))
    source = Catalog.load(path).sources[0]
    assert (source.as_of, source.as_of_from) == ("2023-11-14T22:13:20Z", "file mtime")


def test_a_header_only_file_is_an_empty_provider(tmp_path: Path) -> None:
    write_csv(tmp_path / "oci.csv", [])
    catalog = Catalog.load(tmp_path / "oci.csv")
    assert len(catalog) == 0 and catalog.sources[0].providers == ("oci",)
    assert list(catalog.frame.columns) == [*COLUMNS, ROW_ID]


def test_a_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "aws.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text([row(instance_name="bom")]).encode())
    assert Catalog.load(path).frame["instance_type"].astype(str).tolist() == ["bom"]


def test_quoted_newlines_keep_line_numbers_right(tmp_path: Path) -> None:
    rows = [
        row(instance_name="a", flags="gcp-a4\ngcp-g4"),
        row(instance_name="b", cpu="8.0"),
    ]
    catalog = Catalog.load(write_csv(tmp_path / "aws.csv", rows))
    assert len(catalog) == 1 and catalog.frame["flags"][0] == "gcp-a4 gcp-g4"
    assert [(issue.line, issue.column) for issue in catalog.issues] == [(4, "cpu")]


# ---------------------------------------------------------------- property: gpuhunt's reader

_FIELD_VALUES: dict[str, list[str]] = {
    "location": ["us-east-1", "", "a,b"],
    "price": ["0.5", "1e-3", " 2 ", "1_0", "nan", "-1", "abc", "", "inf", "3"],
    "cpu": ["8", "8.0", " 4", "1_6", "-2", "", "x", "0x10", "+4", "99999999999"],
    "memory": ["16.0", "16", "", "x", "-1.0", "1e400"],
    "gpu_count": ["0", "1", "8", "8.0", "", "-1"],
    "gpu_name": ["", "A100", "tpu-v3-8", "tpu-", "H100"],
    "gpu_memory": ["", "80.0", "x", "NaN"],
    "spot": ["True", "FALSE", "yes", "", "true"],
    "disk_size": ["", "100.0", "-5", "x"],
    "gpu_vendor": ["", "nvidia", "NVIDIA", "amd", "foo", "Google", " nvidia"],
    "flags": ["", "a b", "a  b", " x "],
    "cpu_arch": ["", "x86", "ARM", "sparc"],
    "provider_data": ["", "{}", '{"a": 1}', "[1]", "{bad", '{"a": "b,c"}', "null"],
}
# Defects gpuhunt lets through and we report (no quantity is negative, non-finite or beyond int32).
_STRICTER = ("is negative", "is not finite", "is too large", "provider_data is not a JSON object")


@given(
    rows=st.lists(
        st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _FIELD_VALUES.items()}),
        min_size=1,
        max_size=15,
    )
)
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_rows_load_as_gpuhunt_reads_them(
    gpuhunt_storage: ModuleType, rows: list[dict[str, str]], tmp_path: Path
) -> None:
    named = [{**fields, "instance_name": f"row-{index}"} for index, fields in enumerate(rows)]
    text = csv_text(named)
    path = tmp_path / "aws.csv"
    path.write_text(text, newline="")
    theirs = {
        item.instance_name: offer
        for item, offer in zip(
            *(lambda items: (items, [gpuhunt_tuples([i])[0] for i in items]))(
                list(gpuhunt_storage.load(io.StringIO(text, newline=""), provider="aws"))
            ),
            strict=True,
        )
    }
    catalog = Catalog.load(path)
    ours = {offer[1]: offer for offer in offer_tuples(catalog)}
    issues = {f"row-{issue.line - 2}": issue for issue in catalog.issues if issue.line}
    assert len(issues) == len(catalog.issues) == len(rows) - len(ours)
    for name, offer in ours.items():
        assert theirs.get(name) == offer
    for name in theirs.keys() - ours.keys():
        assert any(marker in issues[name].reason for marker in _STRICTER), issues[name]
    assert not (ours.keys() & issues.keys())


def test_every_file_names_its_provider_even_when_empty(tmp_path: Path) -> None:
    write_csv(tmp_path / "aws.csv", [row()])
    write_csv(tmp_path / "oci.csv", [])
    write_csv(tmp_path / "azure.csv", [row(cpu="8.0")])  # its only row is malformed
    (source,) = Catalog.load(tmp_path).sources
    assert source.providers == ("aws", "azure", "oci")
    assert (source.rows, source.dropped) == (1, 1)


def test_a_header_longer_than_the_detection_window_loads(tmp_path: Path) -> None:
    # Format detection reads the first 64 KiB; this header is cut there inside a character.
    header = [*GPUHUNT_FIELDS, "é" * 40_000]
    rows = [{**row(instance_name="wide"), header[-1]: "ignored"}]
    catalog = Catalog.load(write_csv(tmp_path / "aws.csv", rows, header=header))
    assert catalog.frame["instance_type"].astype(str).tolist() == ["wide"]


def test_old_mac_line_endings_load_as_gpuhunt_reads_them(
    gpuhunt_storage: ModuleType, tmp_path: Path
) -> None:
    text = csv_text(EDGE_ROWS, line_end="\r")
    path = tmp_path / "aws.csv"
    path.write_text(text, newline="")
    theirs = gpuhunt_tuples(
        gpuhunt_storage.load(io.TextIOWrapper(io.BytesIO(text.encode()), "utf-8"), provider="aws")
    )
    assert offer_tuples(Catalog.load(path)) == theirs
