"""Malformed rows are dropped and reported (never silently); unreadable sources are errors."""

from __future__ import annotations

# `planner offers --rows`: these tests are about the catalog's rows, not dstack's backend rules
# (made-up rows are often no offer of any dstack backend).
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from catalog_files import GPUHUNT_FIELDS, csv_text, row, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.catalog import Catalog
from planner.catalog.archive import ArchiveLimits
from planner.catalog.loaders.gpuhunt import load_zip
from planner.errors import CatalogError

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def _gpuhunt_storage() -> ModuleType:
    """gpuhunt's own CSV reader, the oracle: only the tests that compare with it skip without it."""
    pytest.importorskip("gpuhunt")
    from gpuhunt._internal import storage

    return storage


@pytest.fixture(scope="module")
def gpuhunt_storage() -> ModuleType:
    return _gpuhunt_storage()


GOOD = [row(instance_name="good-1", price="1.0"), row(instance_name="good-2", price="2.0")]

# (field, bad value, reported column, reason); gpuhunt skips every one of these rows too.
GPUHUNT_SKIPS = [
    ("instance_name", "", "instance_name", "instance_name is empty"),
    ("location", "", "location", "location is empty"),
    ("price", "", "price", "price is empty"),
    ("price", "abc", "price", "price is not a number"),
    ("cpu", "8.0", "cpu", "cpu is not an integer"),
    ("cpu", "eight", "cpu", "cpu is not an integer"),
    ("cpu", "0x10", "cpu", "cpu is not an integer"),
    ("cpu", "", "cpu", "cpu is empty"),
    ("memory", "16GB", "memory", "memory is not a number"),
    ("gpu_count", "", "gpu_count", "gpu_count is empty"),
    ("gpu_count", "1.5", "gpu_count", "gpu_count is not an integer"),
    ("gpu_memory", "lots", "gpu_memory", "gpu_memory is not a number"),
    ("spot", "yes", "spot", "spot is not True or False"),
    ("spot", "", "spot", "spot is empty"),
    ("disk_size", "big", "disk_size", "disk_size is not a number"),
    ("gpu_vendor", "nvidiaa", "gpu_vendor", "gpu_vendor is unknown"),
    ("cpu_arch", "sparc", "cpu_arch", "cpu_arch is unknown"),
    ("provider_data", "{bad", "provider_data", "provider_data is not a JSON object"),
]
# Rows gpuhunt keeps although no catalog quantity can be like this: we drop and report them.
STRICTER = [
    ("price", "nan", "price", "price is not finite"),
    ("price", "inf", "price", "price is not finite"),
    ("price", "-0.5", "price", "price is negative"),
    ("memory", "1e400", "memory", "memory is not finite"),
    ("cpu", "-4", "cpu", "cpu is negative"),
    ("gpu_count", "-1", "gpu_count", "gpu_count is negative"),
    ("gpu_memory", "-80", "gpu_memory", "gpu_memory is negative"),
    ("disk_size", "-1.0", "disk_size", "disk_size is negative"),
    ("cpu", "99999999999", "cpu", "cpu is too large"),
    ("provider_data", "[1, 2]", "provider_data", "provider_data is not a JSON object"),
]


@pytest.mark.parametrize(("field", "value", "column", "reason"), GPUHUNT_SKIPS + STRICTER)
def test_a_malformed_row_is_dropped_and_reported(
    tmp_path: Path, field: str, value: str, column: str, reason: str
) -> None:
    rows = [GOOD[0], row(**{"instance_name": "bad", "price": "1.5", field: value}), GOOD[1]]
    path = write_csv(tmp_path / "aws.csv", rows)
    catalog = Catalog.load(path)
    assert catalog.frame["instance_type"].astype(str).tolist() == ["good-1", "good-2"]
    (issue,) = catalog.issues
    assert (issue.source, issue.line, issue.column, issue.reason) == (str(path), 3, column, reason)
    assert issue.value == (value if value else None) or reason.endswith("is empty")
    assert catalog.sources[0].dropped == 1 and catalog.sources[0].rows == 2
    assert catalog.warnings == (f"dropped 1 of 3 rows of {path}: 1 × {reason} (line 3)",)


# Where planner differs from gpuhunt on purpose (catalogs/README.md): gpuhunt keeps these rows,
# we drop each with a RowIssue saying why. (field, value, reason)
ON_PURPOSE = [
    ("price", "nan", "price is not finite"),
    ("price", "-inf", "price is not finite"),
    ("price", "-0.5", "price is negative"),
    ("disk_size", "nan", "disk_size is not finite"),
    ("disk_size", "inf", "disk_size is not finite"),
    ("disk_size", "-1.0", "disk_size is negative"),
    ("cpu", "2147483648", "cpu is too large"),  # int32 max + 1
    ("gpu_count", "99999999999", "gpu_count is too large"),
    ("provider_data", "[1]", "provider_data is not a JSON object"),
    ("provider_data", "null", "provider_data is not a JSON object"),
    ("provider_data", '"text"', "provider_data is not a JSON object"),
    ("cpu", "\u0668", "cpu is not an integer"),  # ARABIC-INDIC DIGIT EIGHT: int() reads 8
    ("cpu", "\uff18", "cpu is not an integer"),  # FULLWIDTH DIGIT EIGHT
    ("price", "\u0661.\u0665", "price is not a number"),  # float() reads 1.5
    ("memory", "\xa016.0", "memory is not a number"),  # float() strips Unicode spaces
    ("cpu", "8\x0b", "cpu is not an integer"),  # int() strips a vertical tab too
]


@pytest.mark.parametrize(("field", "value", "reason"), ON_PURPOSE)
def test_rows_gpuhunt_keeps_and_we_drop_on_purpose_are_reported(
    gpuhunt_storage: ModuleType, tmp_path: Path, field: str, value: str, reason: str
) -> None:
    rows = [GOOD[0], row(**{"instance_name": "odd", "price": "1.5", field: value}), GOOD[1]]
    text = csv_text(rows)
    kept = [
        item.instance_name
        for item in gpuhunt_storage.load(io.StringIO(text, newline=""), provider="aws")
    ]
    assert kept == ["good-1", "odd", "good-2"]  # gpuhunt keeps the row
    catalog = Catalog.load(_write(tmp_path / "aws.csv", text.encode()))
    assert catalog.frame["instance_type"].astype(str).tolist() == ["good-1", "good-2"]
    (issue,) = catalog.issues
    assert (issue.line, issue.column, issue.reason, issue.value) == (3, field, reason, value)
    assert reason in catalog.warnings[0]


def test_int32_max_is_still_a_cpu_count(tmp_path: Path) -> None:
    catalog = Catalog.load(write_csv(tmp_path / "aws.csv", [row(cpu="2147483647")]))
    assert catalog.frame["cpu"].tolist() == [2147483647] and not catalog.issues


def test_a_utf8_bom_loads_every_row_where_gpuhunt_drops_them_all(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + csv_text(GOOD).encode()
    assert _gpuhunt_reads(data) == []  # its header's first name is "\ufeffinstance_name"
    catalog = Catalog.load(_write(tmp_path / "aws.csv", data))
    assert catalog.frame["instance_type"].astype(str).tolist() == ["good-1", "good-2"]
    assert not catalog.issues


@pytest.mark.parametrize(("field", "value"), [(f, v) for f, v, _, _ in GPUHUNT_SKIPS])
def test_gpuhunt_skips_the_same_rows(gpuhunt_storage: ModuleType, field: str, value: str) -> None:
    text = csv_text([GOOD[0], row(**{"instance_name": "bad", field: value}), GOOD[1]])
    kept = [
        item.instance_name
        for item in gpuhunt_storage.load(io.StringIO(text, newline=""), provider="aws")
    ]
    assert kept == ["good-1", "good-2"]


def test_a_row_missing_a_required_field_is_reported(tmp_path: Path) -> None:
    short = ["short", "us-east-1", "0.5", "2", "8.0", "0"]  # ends before spot
    path = write_csv(tmp_path / "aws.csv", [GOOD[0], short, GOOD[1]])
    catalog = Catalog.load(path)
    assert len(catalog) == 2
    assert [(issue.line, issue.column, issue.reason) for issue in catalog.issues] == [
        (3, "spot", "spot is empty")
    ]


def test_the_summary_counts_reasons_and_names_lines(tmp_path: Path) -> None:
    rows = [row(instance_name=f"r{index}", price=f"{index}.0") for index in range(10)]
    rows[1] = row(instance_name="r1", cpu="8.0")
    rows[5] = row(instance_name="r5", cpu="16.0")
    rows[7] = row(instance_name="r7", price="-1")
    path = write_csv(tmp_path / "aws.csv", rows)
    catalog = Catalog.load(path)
    assert len(catalog) == 7 and len(catalog.issues) == 3
    assert catalog.warnings == (
        f"dropped 3 of 10 rows of {path}: 2 × cpu is not an integer (line 3, 7), "
        "1 × price is negative (line 9)",
    )
    assert [str(issue) for issue in catalog.issues] == [
        f"{path}:3: cpu is not an integer ('8.0')",
        f"{path}:7: cpu is not an integer ('16.0')",
        f"{path}:9: price is negative ('-1')",
    ]


def test_strict_refuses_a_malformed_row_naming_file_and_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "aws.csv", [GOOD[0], row(cpu="8.0"), GOOD[1]])
    with pytest.raises(CatalogError) as raised:
        Catalog.load(path, strict=True)
    (problem,) = raised.value.problems
    assert (problem.file, problem.line, problem.path) == (str(path), 3, "cpu")
    assert "cpu is not an integer" in problem.message


def test_strict_accepts_a_clean_catalog(tmp_path: Path) -> None:
    assert len(Catalog.load(write_csv(tmp_path / "aws.csv", GOOD), strict=True)) == 2


def test_only_the_first_defect_of_a_row_is_reported_in_gpuhunts_order(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "aws.csv", [row(gpu_count="x", cpu="8.0", spot="maybe")])
    (issue,) = Catalog.load(path).issues
    assert issue.column == "gpu_count"


# ---------------------------------------------------------------- whole-source errors


def _raises(path: Path | str, *fragments: str) -> None:
    with pytest.raises(CatalogError) as raised:
        Catalog.load(path)
    message = str(raised.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_a_foreign_header_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "aws.csv"
    path.write_text("name,cost\nx,1\n")
    _raises(path, "not a gpuhunt catalog", "nor a SkyPilot vms.csv")


def test_a_gpuhunt_header_without_a_required_column_is_an_error(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "aws.csv", [row()], header=[f for f in GPUHUNT_FIELDS if f != "price"]
    )
    _raises(path, "lacks price")


def test_a_header_name_quoted_across_lines_is_a_catalog_error(tmp_path: Path) -> None:
    # The quote opened before "price" closes in a data row: one long name with "\r\n" in it,
    # which the CSV parser keeps as written (found by the fuzzer below; it crashed in Arrow).
    header = _HEADER.replace(b"price", b'"price', 1)
    rows = [
        _ROW,
        _ROW[:-1] + b'"{""pod_counts"": [2, 8], ""x"": ""a,b""}"',
        _ROW.replace(b"False", b"True"),
    ]
    _raises(_write(tmp_path / "aws.csv", b"\r\n".join([header, *rows, b""])), "header")


@pytest.mark.parametrize("content", [b"", b"\n\r\n  \n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "aws.csv"
    path.write_bytes(content)
    _raises(path, "empty")


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "aws.csv"
    path.write_bytes(csv_text([row(location="S\xe3o Paulo")]).encode("latin-1"))
    _raises(path)


def test_a_duplicate_header_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "aws.csv"
    path.write_text(",".join([*GPUHUNT_FIELDS, "price"]) + "\n")
    _raises(path, "duplicate", "price")


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    _raises(tmp_path / "nope.csv", "no such file")


def test_a_directory_without_catalogs_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    _raises(tmp_path, "no catalog")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_truncated_zip_is_an_error(tmp_path: Path) -> None:
    whole = _zip(tmp_path / "whole.zip", {"aws.csv": csv_text([row()] * 50).encode()})
    path = tmp_path / "catalog.zip"
    path.write_bytes(whole.read_bytes()[:-40])
    _raises(path, "zip")


def test_a_file_named_zip_that_is_not_one_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "catalog.zip"
    path.write_bytes(b"<html>not found</html>")
    _raises(path, "not a zip file")


def test_a_corrupt_zip_member_is_an_error(tmp_path: Path) -> None:
    data = csv_text([row(instance_name=f"i{n}") for n in range(200)]).encode()
    path = _zip(tmp_path / "catalog.zip", {"aws.csv": data})
    raw = bytearray(path.read_bytes())
    start = raw.index(b"aws.csv") + len("aws.csv") + 20  # inside the compressed data
    raw[start : start + 8] = b"\x00" * 8
    path.write_bytes(bytes(raw))
    _raises(path)


@pytest.mark.parametrize("member", ["../aws.csv", "sub/aws.csv", "/etc/aws.csv", "..\\aws.csv"])
def test_a_zip_member_with_a_path_is_refused(tmp_path: Path, member: str) -> None:
    path = _zip(tmp_path / "catalog.zip", {member: csv_text([row()]).encode()})
    _raises(path, "refusing zip member")


def test_an_oversized_zip_member_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "catalog.zip", {"aws.csv": csv_text([row()] * 100).encode()})
    with pytest.raises(CatalogError, match="over the 1,000-byte limit"):
        load_zip(path, limits=ArchiveLimits(max_member_bytes=1000))
    assert len(load_zip(path)[0].table) == 100


def test_a_zip_without_csv_members_is_an_error(tmp_path: Path) -> None:
    _raises(_zip(tmp_path / "catalog.zip", {"readme.txt": b"hi"}), "no <provider>.csv")


# ---------------------------------------------------------------- through the real CLI


def _service(tmp_path: Path) -> Path:
    path = tmp_path / "service.yml"
    path.write_text("type: service\nport: 8000\ncommands: [python -m http.server 8000]\n")
    return path


def test_cli_names_a_bad_catalog_file_without_a_traceback(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "aws.csv"
    bad.write_text("name,cost\nx,1\n")
    result = run_cli("offers", "--rows", str(_service(tmp_path)), "--catalog", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "Traceback" not in result.stderr


def test_cli_strict_names_the_malformed_line(run_cli: RunCli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "aws.csv", [GOOD[0], row(cpu="8.0"), GOOD[1]])
    result = run_cli(
        "offers", "--rows", str(_service(tmp_path)), "--catalog", str(path), "--strict"
    )
    assert result.returncode == 2
    assert f"{path}:3" in result.stderr and "cpu is not an integer" in result.stderr


def test_cli_warns_about_dropped_rows(run_cli: RunCli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "aws.csv", [GOOD[0], row(cpu="8.0"), GOOD[1]])
    result = run_cli(
        "offers", "--rows", str(_service(tmp_path)), "--catalog", str(path), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    assert "dropped 1 of 3 rows" in result.stderr and "cpu is not an integer" in result.stderr


# ---------------------------------------------------------------- no input crashes the loader

_HEADERS = [
    ",".join(GPUHUNT_FIELDS),
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region",
]
_ALPHABET = st.sampled_from(
    [*list(",\"\r\n{}[]:.-+eE_ x0189tTrRuUfFaAlLsS'\\"), "é", "\x00", "nan", "inf", "tpu-"]
)


@given(header=st.sampled_from(_HEADERS), body=st.lists(_ALPHABET, max_size=200).map("".join))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_after_a_valid_header_loads_or_is_a_catalog_error(
    tmp_path: Path, header: str, body: str
) -> None:
    directory = tmp_path / "aws"
    directory.mkdir(exist_ok=True)
    path = directory / ("aws.csv" if header.startswith("instance_name") else "vms.csv")
    path.write_bytes((header + "\r\n" + body).encode("utf-8", errors="surrogatepass"))
    try:
        catalog = Catalog.load(path)
    except CatalogError as error:
        assert str(path) in str(error)
        return
    assert len(catalog) + len(catalog.issues) >= 0
    for issue in catalog.issues:
        assert issue.source == str(path) and issue.reason
    prices = catalog.array("price")
    assert np.all(np.isfinite(prices)) and np.all(prices >= 0)


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    text = csv_text([row(instance_name="multi\nline")])  # record spans lines 2-3
    text += "\r\n\r\n"  # blank lines 4-5 (skipped, as csv.DictReader skips them)
    text += csv_text([row(instance_name="short", price="1")], header=GPUHUNT_FIELDS[:3]).split(
        "\r\n", 1
    )[1]
    text += csv_text([row(cpu="8.0")]).split("\r\n", 1)[1]  # line 7
    path = tmp_path / "aws.csv"
    path.write_text(text, newline="")
    catalog = Catalog.load(path)
    assert catalog.frame["instance_type"].astype(str).tolist() == ["multi\nline"]
    assert [(issue.line, issue.reason) for issue in catalog.issues] == [
        (6, "gpu_count is empty"),  # a short row: gpuhunt's first check fails first
        (7, "cpu is not an integer"),
    ]


def test_a_directory_mixing_a_skypilot_file_with_others_is_ambiguous(tmp_path: Path) -> None:
    write_csv(tmp_path / "aws.csv", [row()])
    (tmp_path / "vms.csv").write_text(
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region\n"
    )
    _raises(tmp_path, "aws.csv, vms.csv", "separate sources")


# ---------------------------------------------------------------- raw bytes, as gpuhunt reads them

_HEADER = ",".join(GPUHUNT_FIELDS).encode()
_ROW = b"a,r,1.0,8,16.0,0,,,False,,,,x86,"  # the differential tester's minimal row


def _gpuhunt_reads(data: bytes) -> list[tuple[object, ...]]:
    """What gpuhunt's loader keeps of a file (it opens catalogs with io.TextIOWrapper(f, 'utf-8'))."""
    items = _gpuhunt_storage().load(io.TextIOWrapper(io.BytesIO(data), "utf-8"), provider="aws")
    return [
        (item.instance_name, item.location, item.price, item.cpu, item.memory, " ".join(item.flags))
        for item in items
    ]


def _planner_reads(path: Path) -> list[tuple[object, ...]]:
    frame = Catalog.load(path).frame.sort_values("row_id")
    columns = ["instance_type", "region", "price", "cpu", "memory_gb", "flags"]
    return [tuple(values) for values in frame[columns].astype(object).itertuples(index=False)]


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


RAW_FILES = {
    "old Mac line endings": _HEADER + b"\r" + _ROW + b"\r",
    "old Mac, no final line end": _HEADER + b"\r" + _ROW + b"\r" + _ROW.replace(b"a,", b"b,"),
    "mixed line endings": _HEADER + b"\r\n" + _ROW + b"\r" + _ROW.replace(b"a,", b"b,") + b"\n",
    "CRLF inside quotes": _HEADER + b"\r\n" + _ROW.replace(b"a,", b'"a\r\nb",') + b"\r\n",
    "CR inside quotes": _HEADER + b"\r" + _ROW.replace(b"a,", b'"a\rb",') + b"\r",
    "CR inside an unquoted field": _HEADER + b"\n" + _ROW.replace(b"a,", b"x\ra,") + b"\n",
    "NUL bytes": _HEADER + b"\r\n" + _ROW.replace(b"a,", b"a\x00b,") + b"\r\n",
    "quote never closed": _HEADER + b"\n" + _ROW + b"\n" + b'"b,r,1.0' + b"\n" + _ROW + b"\n",
    "stray quotes": _HEADER + b"\n" + _ROW.replace(b"a,", b'a"b,') + b"\n" + _ROW + b"\n",
    "text after a closing quote": _HEADER + b"\n" + _ROW.replace(b"a,", b'"a"b"c",') + b"\n",
    "quoted header over two lines": _HEADER.replace(b"cpu_arch", b'"cpu_arch\r\nx"')
    + b"\r\n"
    + _ROW
    + b"\r\n",
    "unread column twice": _HEADER + b",,\r\n" + _ROW + b",1,2\r\n",
    "whitespace-only provider_data": _HEADER + b"\r\n" + _ROW + b" \r\n" + _ROW + b"{}\r\n",
    "a line longer than a parse block": _HEADER
    + b"\n"
    + _ROW
    + b","
    + b",".join(b"%d" % n for n in range(1_000_000))
    + b"\n"
    + _ROW
    + b"\n",
}


@pytest.mark.parametrize("name", list(RAW_FILES))
def test_raw_oddities_load_as_gpuhunt_reads_them(tmp_path: Path, name: str) -> None:
    data = RAW_FILES[name]
    assert _planner_reads(_write(tmp_path / "aws.csv", data)) == _gpuhunt_reads(data)


def test_old_mac_line_endings_keep_line_numbers(tmp_path: Path) -> None:
    data = _HEADER + b"\r" + _ROW + b"\r" + _ROW.replace(b",8,", b",8.0,") + b"\r\r" + _ROW + b"\r"
    catalog = Catalog.load(_write(tmp_path / "aws.csv", data))
    assert len(catalog) == 2
    assert [(issue.line, issue.reason) for issue in catalog.issues] == [
        (3, "cpu is not an integer")
    ]


def test_cli_reads_an_old_mac_catalog_directory(run_cli: RunCli, tmp_path: Path) -> None:
    _write(tmp_path / "catalog" / "aws.csv", _HEADER + b"\r" + _ROW + b"\r")
    result = run_cli(
        "offers", "--rows", str(_service(tmp_path)), "--catalog", str(tmp_path / "catalog")
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and " a " in result.stdout


# gpuhunt fails the whole file on these (csv.Error, RecursionError, UnicodeDecodeError); so do
# we, with a CatalogError naming the file and line.
_LIMIT = 131072  # Python's default csv.field_size_limit()
_DEEP = b'"' + b'{""a"":' * 2000 + b"1" + b"}" * 2000 + b'"'
UNREADABLE = {
    "field over the csv limit": (
        _HEADER + b"\n" + _ROW + b"\n" + b"x" * (_LIMIT + 1) + _ROW[1:] + b"\n",
        3,
        "longer than 131,072 characters",
    ),
    "quoted field over the limit": (
        _HEADER + b"\n" + b'"' + b"x\n" * _LIMIT + b'"' + _ROW[1:] + b"\n",
        2,
        "longer than 131,072 characters",
    ),
    "extra field over the limit": (
        _HEADER + b"\n" + _ROW + b"," + b"x" * (_LIMIT + 1) + b"\n",
        2,
        "field larger than field limit",
    ),
    "header field over the limit": (
        _HEADER + b"," + b"x" * (_LIMIT + 1) + b"\n" + _ROW + b"\n",
        1,
        "field larger than field limit",
    ),
    "not UTF-8 below the header": (
        _HEADER + b"\r\n" + _ROW + b"\r\n" + _ROW.replace(b"r,", b"S\xe3o Paulo,") + b"\r\n",
        3,
        "not a UTF-8 CSV file",
    ),
    "provider_data nested too deeply": (
        _HEADER + b"\n" + _ROW + b"\n" + _ROW + _DEEP + b"\n",
        3,
        "nested too deeply",
    ),
}


@pytest.mark.parametrize("name", list(UNREADABLE))
def test_what_gpuhunt_cannot_read_is_a_catalog_error_naming_the_line(
    tmp_path: Path, name: str
) -> None:
    data, line, fragment = UNREADABLE[name]
    with pytest.raises(Exception) as theirs:  # gpuhunt's own exception types vary
        _gpuhunt_reads(data)
    assert not isinstance(theirs.value, CatalogError)
    path = _write(tmp_path / "aws.csv", data)
    _raises(path, f"{path}:{line}:", fragment)


def test_a_field_of_exactly_the_csv_limit_loads(tmp_path: Path) -> None:
    data = _HEADER + b"\n" + b"x" * _LIMIT + _ROW[1:] + b"\n"
    assert _planner_reads(_write(tmp_path / "aws.csv", data)) == _gpuhunt_reads(data)


# ---------------------------------------------------------------- files that are not files


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "aws.csv"
    os.mkfifo(fifo)
    _raises(fifo, "not a regular file but a named pipe")


@pytest.mark.parametrize("kind", ["fifo", "directory", "broken link", "link loop"])
def test_a_directory_entry_named_csv_that_is_not_a_file_is_an_error(
    tmp_path: Path, kind: str
) -> None:
    directory = tmp_path / "catalog"
    write_csv(directory / "aws.csv", [row()])
    odd = directory / "gcp.csv"
    if kind == "fifo":
        os.mkfifo(odd)
    elif kind == "directory":
        odd.mkdir()
    elif kind == "broken link":
        odd.symlink_to(directory / "nowhere.csv")
    else:
        odd.symlink_to(odd)
    with pytest.raises(CatalogError) as raised:
        Catalog.load(directory)
    assert str(odd) in str(raised.value)


def test_a_symlink_loop_and_a_broken_link_are_named(tmp_path: Path) -> None:
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    _raises(loop, "symbolic links")
    broken = tmp_path / "broken.csv"
    broken.symlink_to(tmp_path / "gone.csv")
    _raises(broken, "broken symbolic link")


def test_a_device_is_refused(tmp_path: Path) -> None:
    _raises("/dev/null", "not a regular file")


def test_a_skypilot_tree_with_an_unusable_vms_csv_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "sky" / "aws").mkdir(parents=True)
    os.mkfifo(tmp_path / "sky" / "aws" / "vms.csv")
    with pytest.raises(CatalogError, match="not a regular file"):
        Catalog.load(tmp_path / "sky")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_or_directory_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "catalog" / "aws.csv", [row()])
    path.chmod(0)
    _raises(path, "cannot read")
    with pytest.raises(CatalogError, match="cannot read"):
        Catalog.load(tmp_path / "catalog")
    path.chmod(0o600)
    (tmp_path / "catalog").chmod(0)
    try:
        with pytest.raises(CatalogError):
            Catalog.load(tmp_path / "catalog")
    finally:
        (tmp_path / "catalog").chmod(0o700)


def test_cli_refuses_a_fifo_without_a_traceback(run_cli: RunCli, tmp_path: Path) -> None:
    fifo = tmp_path / "aws.csv"
    os.mkfifo(fifo)
    result = run_cli(
        "offers", "--rows", str(_service(tmp_path)), "--catalog", str(fifo), timeout=60
    )
    assert result.returncode == 2
    assert str(fifo) in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- zip members


def _patched_zip(path: Path, compression: int, patch: Callable[[bytearray], None]) -> Path:
    data = csv_text([row(instance_name=f"i{n}") for n in range(50)]).encode()
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("aws.csv", data)
    raw = bytearray(path.read_bytes())
    patch(raw)
    path.write_bytes(bytes(raw))
    return path


def _encrypt_flag(raw: bytearray) -> None:
    raw[6] |= 1  # local header flag bits
    raw[raw.index(b"PK\x01\x02") + 8] |= 1  # central directory flag bits


def _flip_data(raw: bytearray) -> None:
    start = raw.index(b"aws.csv") + len("aws.csv") + 30
    raw[start : start + 8] = bytes(255 - value for value in raw[start : start + 8])


def _zip_version(raw: bytearray) -> None:
    central = raw.index(b"PK\x01\x02")
    raw[central + 6] = 156  # "version needed to extract": 15.6, which zipfile does not read


@pytest.mark.parametrize(
    ("compression", "patch", "fragment"),
    [
        (zipfile.ZIP_DEFLATED, _encrypt_flag, "is encrypted"),
        (zipfile.ZIP_STORED, _flip_data, "Bad CRC-32"),
        (zipfile.ZIP_LZMA, _flip_data, "is corrupt"),
        (zipfile.ZIP_BZIP2, _flip_data, "is corrupt"),
        (zipfile.ZIP_DEFLATED, _zip_version, "zip file version"),
    ],
    ids=["encrypted", "bad-crc", "lzma", "bzip2", "version"],
)
def test_an_unreadable_zip_member_is_a_catalog_error(
    tmp_path: Path, compression: int, patch: Callable[[bytearray], None], fragment: str
) -> None:
    _raises(_patched_zip(tmp_path / "catalog.zip", compression, patch), fragment)


# ---------------------------------------------------------------- fuzz: only a Catalog or a CatalogError

_GPUHUNT_SEED = csv_text(
    [
        row(instance_name="cpu", price="0.5"),
        row(
            instance_name="gpu",
            price="3.25",
            gpu_count="8",
            gpu_name="A100",
            gpu_memory="80.0",
            gpu_vendor="nvidia",
            flags="gcp-a4 gcp-g4",
        ),
        row(instance_name="data", price="1.5", provider_data='{"pod_counts": [2, 8], "x": "a,b"}'),
        row(instance_name="spot", price="0.1", spot="True", disk_size="100.0", cpu_arch="arm"),
    ]
).encode()
_SKYPILOT_SEED = (
    b"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region\r\n"
    b"p3.2xlarge,V100,1.0,8.0,61.0,\"{'Gpus': [{'Name': 'V100', 'Manufacturer': 'NVIDIA', "
    b"'Count': 1.0, 'MemoryInfo': {'SizeInMiB': 16384}}]}\",3.06,0.92,us-east-1\r\n"
    b"m5.large,,,2.0,8.0,,0.096,,us-east-1\r\n"
)
_INSERTS = [
    b"\r",
    b"\n",
    b"\r\n",
    b"\x00",
    b'"',
    b",",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"{",
    b" ",
]
_position = st.floats(min_value=0, max_value=1)
_mutation = st.one_of(
    st.tuples(st.just("truncate"), _position),
    st.tuples(st.just("flip"), _position, st.integers(0, 255)),
    st.tuples(st.just("insert"), _position, st.sampled_from(_INSERTS)),
    st.tuples(st.just("delete"), _position, st.integers(1, 12)),
    st.tuples(st.just("drop field"), _position),  # the next comma goes: a missing column
    st.tuples(st.just("add field"), _position),  # an extra column before the next line end
)


def _mutated(data: bytes, mutations: list[tuple[object, ...]]) -> bytes:
    buffer = bytearray(data)
    for mutation in mutations:
        kind, where = mutation[0], int(float(str(mutation[1])) * len(buffer))
        if kind == "truncate":
            del buffer[where:]
        elif kind == "flip" and where < len(buffer):
            buffer[where] = int(str(mutation[2]))
        elif kind == "insert":
            buffer[where:where] = bytes(mutation[2])  # type: ignore[call-overload]
        elif kind == "delete":
            del buffer[where : where + int(str(mutation[2]))]
        elif kind == "drop field" and (comma := buffer.find(b",", where)) >= 0:
            del buffer[comma]
        elif kind == "add field":
            end = buffer.find(b"\n", where)
            buffer[end if end >= 0 else len(buffer) : end if end >= 0 else len(buffer)] = b",x"
    return bytes(buffer)


_contents = st.one_of(
    st.binary(max_size=300),
    st.builds(
        _mutated,
        st.sampled_from([_GPUHUNT_SEED, _SKYPILOT_SEED]),
        st.lists(_mutation, min_size=1, max_size=4),
    ),
)
_CONTAINERS = ["provider csv", "zip", "mutated zip", "skypilot vms.csv"]


def _catalog_file(directory: Path, data: bytes, container: str, zip_mutations: list[Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    if container == "provider csv":
        return _write(directory / "aws.csv", data)
    if container == "skypilot vms.csv":
        return _write(directory / "aws" / "vms.csv", data)
    path = _zip(directory / "catalog.zip", {"aws.csv": data})
    if container == "mutated zip":
        path.write_bytes(_mutated(path.read_bytes(), zip_mutations))
    return path


# Rows gpuhunt keeps and we drop on purpose (catalogs/README.md, "Where planner differs ...").
_STRICTER_REASONS = ("is negative", "is not finite", "is too large")


def _dropped_on_purpose(issue: Any) -> bool:
    if any(marker in issue.reason for marker in _STRICTER_REASONS):
        return True
    value = issue.value or ""
    if issue.reason == "provider_data is not a JSON object":
        try:
            json.loads(value or "{}")  # valid JSON, not an object: gpuhunt keeps it
        except (ValueError, RecursionError):
            return False
        return True
    # Python's int()/float() also take Unicode digits and whitespace; ours take ASCII only.
    return issue.reason.endswith(("not an integer", "not a number")) and not (
        value.isascii() and "\x0b" not in value
    )


def _row_keys(rows: Iterable[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    return Counter(rows)


@given(
    data=_contents,
    container=st.sampled_from(_CONTAINERS),
    zip_mutations=st.lists(_mutation, min_size=1, max_size=3),
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_catalogs_load_or_raise_a_catalog_error(
    tmp_path: Path, data: bytes, container: str, zip_mutations: list[Any]
) -> None:
    path = _catalog_file(Path(tempfile.mkdtemp(dir=tmp_path)), data, container, zip_mutations)
    try:
        catalog = Catalog.load(path)
    except CatalogError as error:
        assert str(path) in str(error)
        return
    prices = catalog.array("price")
    assert np.all(np.isfinite(prices)) and np.all(prices >= 0)
    assert all(issue.reason and str(path) in issue.source for issue in catalog.issues)


@given(
    data=_contents,
    container=st.sampled_from(_CONTAINERS),
    zip_mutations=st.lists(_mutation, min_size=1, max_size=3),
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_catalogs_keep_the_rows_gpuhunt_keeps(
    gpuhunt_storage: ModuleType,
    tmp_path: Path,
    data: bytes,
    container: str,
    zip_mutations: list[Any],
) -> None:
    path = _catalog_file(Path(tempfile.mkdtemp(dir=tmp_path)), data, container, zip_mutations)
    try:
        catalog = Catalog.load(path)
    except CatalogError:
        return  # the test above checks the error
    if catalog.sources[0].format != "gpuhunt-csv" or data.startswith(b"\xef\xbb\xbf"):
        return  # gpuhunt reads only its own CSVs (and drops every row after a BOM)
    try:
        theirs = _gpuhunt_reads(data)
    except Exception as error:  # gpuhunt cannot read it: neither may we
        pytest.fail(f"gpuhunt fails ({error!r}) but the catalog loaded")
    ours = _row_keys(_planner_reads(path))
    missing = _row_keys(theirs) - ours
    assert not (ours - _row_keys(theirs)), "rows gpuhunt does not read"
    assert sum(missing.values()) <= sum(map(_dropped_on_purpose, catalog.issues)), missing


@given(
    data=_contents,
    container=st.sampled_from(_CONTAINERS),
    zip_mutations=st.lists(_mutation, min_size=1, max_size=3),
)
@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_cli_on_fuzzed_catalogs_exits_cleanly(
    run_cli: RunCli,
    repo_dir: Path,
    tmp_path: Path,
    data: bytes,
    container: str,
    zip_mutations: list[Any],
) -> None:
    path = _catalog_file(Path(tempfile.mkdtemp(dir=tmp_path)), data, container, zip_mutations)
    result = run_cli(
        "offers", "--rows", str(repo_dir / "examples" / "cpu-only.yml"), "--catalog", str(path)
    )
    assert result.returncode in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- a damaged Arrow cache

_LOAD_EACH = """
import sys
from planner.catalog import Catalog
from planner.errors import CatalogError
for path in sys.argv[1:]:
    try:
        catalog = Catalog.load(path)
        len(catalog), catalog.frame, catalog.array("price"), catalog.providers
    except CatalogError as error:
        assert path in str(error), error
"""


def test_a_damaged_arrow_cache_is_a_catalog_error_never_a_crash(
    run_cli: RunCli, repo_dir: Path, tmp_path: Path
) -> None:
    from planner.catalog.table import write_table

    rows = [row(instance_name=f"i{n}", price=f"{n}.5", flags="a b" * (n % 2)) for n in range(40)]
    good = write_table(Catalog.load(write_csv(tmp_path / "aws.csv", rows)), tmp_path / "c.arrow")
    data = good.read_bytes()
    rng = random.Random(7)
    damaged = []
    for number in range(60):
        raw = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            where = rng.randrange(6, len(raw))
            if rng.random() < 0.7:
                raw[where : where + rng.randint(1, 8)] = bytes([rng.randrange(256)]) * 8
            else:
                del raw[where:]
        damaged.append(_write(tmp_path / f"damaged-{number}.arrow", bytes(raw)))
    # In a child process: reading through a bad offset would kill it (SIGBUS), not raise.
    result = subprocess.run(
        [sys.executable, "-c", _LOAD_EACH, *map(str, damaged)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    cli = run_cli(
        "offers",
        "--rows",
        str(repo_dir / "examples" / "cpu-only.yml"),
        "--catalog",
        str(damaged[0]),
    )
    assert cli.returncode in (0, 1, 2) and "Traceback" not in cli.stderr


def test_line_numbers_stay_right_after_a_stray_quote(tmp_path: Path) -> None:
    # A quote inside an unquoted field is a literal (csv and Arrow agree); a quote-parity count
    # of the lines would think the rest of the file sits in one quoted value.
    data = (
        _HEADER
        + b"\r\n"
        + _ROW.replace(b"a,", b'a"b,')
        + b"\r\n"
        + _ROW.replace(b",8,", b",8.0,")
        + b"\r\n\r\n"
        + _ROW.replace(b",False,", b",maybe,")
        + b"\r\n"
    )
    catalog = Catalog.load(_write(tmp_path / "aws.csv", data))
    assert catalog.frame["instance_type"].astype(str).tolist() == ['a"b']
    assert [(issue.line, issue.column) for issue in catalog.issues] == [(3, "cpu"), (5, "spot")]


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux's /proc")
def test_a_file_that_fails_to_read_is_an_error_even_for_root(tmp_path: Path) -> None:
    # Reading /proc/self/mem from offset 0 fails with EIO: an unreadable file for any user.
    directory = tmp_path / "catalog"
    write_csv(directory / "aws.csv", [row()])
    (directory / "gcp.csv").symlink_to("/proc/self/mem")
    with pytest.raises(CatalogError, match=r"gcp\.csv: cannot read"):
        Catalog.load(directory)
    _raises(directory / "gcp.csv", "cannot read")
