"""Request-rate traces for the autoscaling cost envelope: the CSV reader and its typed result.

A trace file is CSV with a header row naming its columns, in any order:

- ``timestamp``: seconds (a number, e.g. seconds since the trace began or since the Unix epoch) or
  an ISO 8601 date-time (``2026-05-01T12:00:00Z``; without a zone it is read as UTC) — one kind
  per file;
- ``rps``: requests per second, a finite number ≥ 0, holding from its timestamp until the next one;
- ``service`` (optional): the service the row belongs to. Without it the trace is shared by every
  service of a report; with it each service has its own trace.

Timestamps increase strictly (within each service); each trace needs at least two rows, because the
last row only marks where the trace ends. Blank lines and lines starting with ``#`` are skipped.
Every problem is reported as ``file:line:column`` (1-based, the column of the field's first
character) in an ``InputError`` (exit 2). docs/planning.md, "Autoscaling cost envelope", has the
semantics.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from planner.errors import InputError, Problem

__all__ = ["TRAFFIC_COLUMNS", "TrafficTrace", "TrafficTraces", "load_traffic"]

TRAFFIC_COLUMNS = ("timestamp", "rps", "service")
_REQUIRED = ("timestamp", "rps")
_MAX_PROBLEMS = 20  # enough to fix a file in one go without flooding the terminal


@dataclass(frozen=True, eq=False)
class TrafficTrace:
    """One request-rate trace: ``rps[i]`` holds from ``times[i]`` until ``times[i + 1]``.

    ``times`` are float seconds, strictly increasing; with ``dated`` they are seconds since the
    Unix epoch (UTC), otherwise the file's own numbers. The last sample ends the trace.
    """

    times: np.ndarray  # float64
    rps: np.ndarray  # float64, >= 0, finite
    source: str  # the file it was read from
    service: str | None = None  # None: a shared trace
    dated: bool = False

    @property
    def start(self) -> float:
        return float(self.times[0])

    @property
    def end(self) -> float:
        return float(self.times[-1])

    @property
    def duration_seconds(self) -> float:
        return self.end - self.start

    @classmethod
    def of(
        cls,
        times: object,
        rps: object,
        *,
        source: str = "<memory>",
        service: str | None = None,
        dated: bool = False,
    ) -> TrafficTrace:
        """A trace from arrays (library use, tests); the same checks as the CSV reader."""
        times_array = np.asarray(times, dtype=np.float64)
        rps_array = np.asarray(rps, dtype=np.float64)
        if times_array.ndim != 1 or times_array.shape != rps_array.shape:
            raise InputError(Problem("times and rps must be 1-D arrays of one length", file=source))
        if len(times_array) < 2:
            raise InputError(Problem(_TOO_SHORT, file=source))
        if not (np.isfinite(times_array).all() and np.isfinite(rps_array).all()):
            raise InputError(Problem("times and rps must be finite numbers", file=source))
        if (rps_array < 0).any():
            raise InputError(Problem("rps cannot be negative", file=source))
        if (np.diff(times_array) <= 0).any():
            raise InputError(Problem("timestamps must increase strictly", file=source))
        return cls(times_array, rps_array, source, service, dated)


@dataclass(frozen=True)
class TrafficTraces:
    """What one trace file holds: one shared trace (key ``None``) or one trace per service."""

    source: str
    traces: Mapping[str | None, TrafficTrace]

    @property
    def shared(self) -> bool:
        return None in self.traces

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(sorted(name for name in self.traces if name is not None))

    def for_service(self, name: str | None) -> TrafficTrace | None:
        """The service's own trace, else the shared one, else ``None`` (no trace for it)."""
        if name is not None and name in self.traces:
            return self.traces[name]
        return self.traces.get(None)


_TOO_SHORT = "a trace needs at least two rows: the last one marks where the trace ends"


def load_traffic(path: str | Path) -> TrafficTraces:
    """Read a trace CSV (module docstring); ``InputError`` naming file:line:column when bad."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem("no such traffic file", file=source)) from None
    except IsADirectoryError:
        raise InputError(
            Problem("a traffic trace must be a CSV file, not a directory", file=source)
        ) from None
    except UnicodeDecodeError as error:
        raise InputError(Problem(f"not UTF-8 text (byte {error.start + 1})", file=source)) from None
    except OSError as error:
        raise InputError(Problem(f"cannot read: {error.strerror}", file=source)) from None
    return _Reader(source).read(text)


class _Reader:
    """One pass over the lines: the header fixes the columns, every row is checked in place."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.dated: bool | None = None  # decided by the first timestamp

    def problem(self, message: str, line: int, column: int | None = None) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Problem(message, file=self.source, line=line, column=column))

    def read(self, text: str) -> TrafficTraces:
        rows = [
            (number, line)
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not rows:
            raise InputError(
                Problem("empty traffic file: expected a header timestamp,rps", file=self.source)
            )
        header_line, header = rows[0]
        columns = self.columns(header_line, header)
        samples: dict[str | None, tuple[list[float], list[float], list[int]]] = {}
        for number, line in rows[1:]:
            self.row(number, line, columns, samples)
        traces = self.traces(samples, header_line)
        if self.problems:
            raise InputError(self.problems)
        return TrafficTraces(self.source, traces)

    def columns(self, number: int, line: str) -> dict[str, int]:
        names = [name.strip().lower() for name in _split(line)]
        starts = _field_starts(line)
        found: dict[str, int] = {}
        for index, name in enumerate(names):
            if name not in TRAFFIC_COLUMNS:
                self.problem(
                    f"unknown column {name!r}: expected {', '.join(TRAFFIC_COLUMNS)}",
                    number,
                    starts[index],
                )
            elif name in found:
                self.problem(f"column {name!r} appears twice", number, starts[index])
            else:
                found[name] = index
        for name in _REQUIRED:
            if name not in found:
                self.problem(
                    f"missing column {name!r} (header: timestamp,rps[,service])", number, 1
                )
        if self.problems:
            raise InputError(self.problems)
        return found

    def row(
        self,
        number: int,
        line: str,
        columns: dict[str, int],
        samples: dict[str | None, tuple[list[float], list[float], list[int]]],
    ) -> None:
        fields = _split(line)
        if len(fields) != len(columns):
            self.problem(f"expected {len(columns)} fields, found {len(fields)}", number, 1)
            return
        service: str | None = None
        if "service" in columns:
            service = fields[columns["service"]].strip()
            if not service:
                self.problem("service is empty", number, _column(line, columns["service"]))
                return
        time = self.timestamp(fields[columns["timestamp"]], number, line, columns["timestamp"])
        rps = self.rps(fields[columns["rps"]], number, line, columns["rps"])
        if time is None or rps is None:
            return
        times, rates, lines = samples.setdefault(service, ([], [], []))
        if times and time <= times[-1]:
            self.problem(
                f"timestamp does not increase: line {lines[-1]} has the same or a later one"
                + (f" (service {service!r})" if service is not None else ""),
                number,
                _column(line, columns["timestamp"]),
            )
            return
        times.append(time)
        rates.append(rps)
        lines.append(number)

    def timestamp(self, field: str, number: int, line: str, index: int) -> float | None:
        value = field.strip()
        seconds: float | None
        try:
            seconds = float(value)
            dated = False
        except ValueError:
            seconds = _iso_seconds(value)
            dated = True
        if seconds is None or not math.isfinite(seconds):
            self.problem(
                f"timestamp {value!r} is neither a number of seconds nor an ISO 8601 date-time",
                number,
                _column(line, index),
            )
            return None
        if self.dated is None:
            self.dated = dated
        elif self.dated != dated:
            kind = "ISO date-times" if self.dated else "numbers of seconds"
            self.problem(
                f"timestamp {value!r}: this file's timestamps are {kind}",
                number,
                _column(line, index),
            )
            return None
        return seconds

    def rps(self, field: str, number: int, line: str, index: int) -> float | None:
        value = field.strip()
        try:
            rate = float(value)
        except ValueError:
            self.problem(f"rps {value!r} is not a number", number, _column(line, index))
            return None
        if not math.isfinite(rate):
            self.problem(f"rps {value!r} is not a finite number", number, _column(line, index))
            return None
        if rate < 0:
            self.problem(f"rps {value!r} is negative", number, _column(line, index))
            return None
        return rate

    def traces(
        self,
        samples: dict[str | None, tuple[list[float], list[float], list[int]]],
        header_line: int,
    ) -> dict[str | None, TrafficTrace]:
        if not samples and not self.problems:
            self.problem("no rows after the header", header_line)
        traces: dict[str | None, TrafficTrace] = {}
        for service, (times, rates, lines) in samples.items():
            if len(times) < 2:
                if self.problems:
                    continue  # rejected rows may be what is missing: their problems say enough
                suffix = f" (service {service!r})" if service is not None else ""
                self.problem(_TOO_SHORT + suffix, lines[0] if lines else header_line)
                continue
            traces[service] = TrafficTrace(
                np.asarray(times, dtype=np.float64),
                np.asarray(rates, dtype=np.float64),
                self.source,
                service,
                bool(self.dated),
            )
        return traces


def _split(line: str) -> list[str]:
    # The csv module only where quotes need it: a plain split is several times faster per row.
    return next(csv.reader([line])) if '"' in line else line.split(",")


def _column(line: str, index: int) -> int:
    """The 1-based column of field ``index`` (computed only for a problem's location)."""
    return _field_starts(line)[index]


def _field_starts(line: str) -> list[int]:
    """The 1-based column of each field's first character (quotes respected, as csv reads it)."""
    starts = [1]
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            starts.append(index + 2)
    return starts


def _iso_seconds(value: str) -> float | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a trace without a zone is read as UTC (documented)
    return moment.timestamp()
