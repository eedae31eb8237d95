"""Reading request-rate traces (planner/simulate/traffic.py): good files, and every bad one as an
exit-2 error naming file:line:column."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from planner.errors import InputError
from planner.simulate.traffic import TrafficTrace, load_traffic


def write(tmp_path: Path, text: str, name: str = "trace.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shared_trace_in_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp,rps\n0,1.5\n60,0\n\n# a comment\n150,20\n")
    traces = load_traffic(path)
    assert traces.shared and traces.services == ()
    trace = traces.for_service("anything")
    assert trace is traces.for_service(None) is not None
    assert trace.times.tolist() == [0, 60, 150] and trace.rps.tolist() == [1.5, 0, 20]
    assert not trace.dated and trace.duration_seconds == 150 and trace.source == str(path)


def test_iso_timestamps_with_and_without_a_zone_and_columns_in_any_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "RPS, Timestamp\n"
        "3,2026-05-01T00:00:00Z\n"
        "4,2026-05-01T00:05:00+00:00\n"
        "5,2026-05-01 02:10:00+02:00\n"  # 00:10 UTC
        "6,2026-05-01T00:20:00\n",  # no zone: UTC
    )
    trace = load_traffic(path).for_service(None)
    assert trace is not None and trace.dated
    start = datetime(2026, 5, 1, tzinfo=UTC).timestamp()
    assert (trace.times - start).tolist() == [0, 300, 600, 1200]
    assert trace.rps.tolist() == [3, 4, 5, 6]


def test_per_service_traces_interleaved(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp,service,rps\n0,api,1\n0,chat,10\n60,chat,20\n60,api,2\n120,api,3\n120,chat,0\n",
    )
    traces = load_traffic(path)
    assert not traces.shared and traces.services == ("api", "chat")
    api, chat = traces.for_service("api"), traces.for_service("chat")
    assert api is not None and chat is not None
    assert api.rps.tolist() == [1, 2, 3] and api.service == "api"
    assert chat.rps.tolist() == [10, 20, 0]
    assert traces.for_service("other") is None


BAD_FILES = [
    # (name, file text, line, column, words in the message)
    ("non-monotonic", "timestamp,rps\n0,1\n60,1\n30,1\n", 4, 1, "does not increase: line 3"),
    ("repeated timestamp", "timestamp,rps\n0,1\n60,1\n60,2\n", 4, 1, "does not increase"),
    ("negative rps", "timestamp,rps\n0,1\n60,-2\n", 3, 4, "rps '-2' is negative"),
    ("NaN rps", "timestamp,rps\n0,nan\n60,1\n", 2, 3, "rps 'nan' is not a finite number"),
    ("infinite rps", "timestamp,rps\n0,1\n60,inf\n", 3, 4, "not a finite number"),
    ("text rps", "timestamp,rps\n0,1\n60, lots\n", 3, 4, "rps 'lots' is not a number"),
    ("missing column", "timestamp\n0\n60\n", 1, 1, "missing column 'rps'"),
    ("unknown column", "timestamp,rps,region\n0,1,a\n", 1, 15, "unknown column 'region'"),
    ("duplicate column", "timestamp,rps,rps\n0,1,1\n", 1, 15, "column 'rps' appears twice"),
    ("short row", "timestamp,rps\n0,1\n60\n", 3, 1, "expected 2 fields, found 1"),
    ("bad timestamp", "timestamp,rps\n0,1\nnoon,2\n", 3, 1, "neither a number of seconds"),
    ("mixed kinds", "timestamp,rps\n0,1\n2026-05-01T00:00:00Z,2\n", 3, 1, "are numbers of seconds"),
    ("one row", "timestamp,rps\n0,1\n", 2, None, "at least two rows"),
    ("header only", "timestamp,rps\n", 1, None, "no rows after the header"),
    ("empty service", "timestamp,service,rps\n0,,1\n", 2, 3, "service is empty"),
    (
        "one row of a service",
        "timestamp,service,rps\n0,a,1\n60,a,1\n0,b,1\n",
        4,
        None,
        "service 'b'",
    ),
    (
        "quoted field",
        'timestamp,service,rps\n0,"a,b",1\n60,"a,b",-1\n',
        3,
        10,
        "negative",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_file_is_an_exit_2_error_at_file_line_column(
    tmp_path: Path, text: str, line: int, column: int | None, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_traffic(path)
    assert caught.value.exit_code == 2
    location = f"{path}:{line}:{column}: " if column is not None else f"{path}:{line}: "
    first = str(caught.value).splitlines()[0]
    assert first.startswith(location), first
    assert words in first


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp,rps\n0,1\n60,-1\n120,x\n-5,1\n")
    with pytest.raises(InputError) as caught:
        load_traffic(path)
    assert [(p.line, p.column) for p in caught.value.problems] == [(3, 4), (4, 5), (5, 1)]


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda tmp: tmp / "missing.csv", "no such traffic file"),
        (lambda tmp: tmp, "not a directory"),
        (
            lambda tmp: (tmp / "b.csv", (tmp / "b.csv").write_bytes(b"timestamp,rps\n0,\xff\n"))[0],
            "not UTF-8",
        ),
        (lambda tmp: write(tmp, "\n# nothing\n"), "empty traffic file"),
    ],
    ids=["missing", "directory", "binary", "empty"],
)
def test_unreadable_file_is_an_exit_2_error_naming_it(tmp_path: Path, setup, words: str) -> None:  # type: ignore[no-untyped-def]
    path = setup(tmp_path)
    with pytest.raises(InputError) as caught:
        load_traffic(path)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"{path}: ") and words in str(caught.value)


@pytest.mark.parametrize(
    ("times", "rps", "words"),
    [
        ([0], [1], "at least two rows"),
        ([0, 0], [1, 1], "increase strictly"),
        ([0, 1], [1, -1], "negative"),
        ([0, np.nan], [1, 1], "finite"),
        ([0, 1, 2], [1, 1], "one length"),
    ],
)
def test_traces_built_in_memory_get_the_same_checks(times: list, rps: list, words: str) -> None:
    with pytest.raises(InputError, match=words):
        TrafficTrace.of(times, rps)
