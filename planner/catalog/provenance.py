"""Where a catalog's rows came from, and which rows were dropped and why."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

# A JSON object next to a catalog's files: its "as_of" date, "version" and "description"
# (docs/catalog-format.md §8); written by ``planner catalog import``, read by the loaders.
PROVENANCE_FILE = "provenance.json"
# How many example line numbers a summary names per reason.
_EXAMPLE_LINES = 3
# gpuhunt's published versions: YYYYMMDD-<CI run number> ("20260818-42").
_VERSION = re.compile(r"(?<!\d)(?P<year>20\d{2})(?P<month>\d{2})(?P<day>\d{2})(?:-\d+)?(?!\d)")


def find_version(text: str) -> tuple[str, str] | None:
    """(the version as written, its ISO date) of the first gpuhunt version in ``text`` whose
    date exists ("catalog-20260818-42.zip" → ("20260818-42", "2026-08-18")), else None."""
    for matched in _VERSION.finditer(text):
        try:
            day = date(int(matched["year"]), int(matched["month"]), int(matched["day"]))
        except ValueError:
            continue
        return matched.group(0), day.isoformat()
    return None


def as_of_from_version(version: str) -> str | None:
    """``20260818-42`` → ``2026-08-18`` (the publication date a version is named after)."""
    found = find_version(version)
    return found[1] if found else None


@dataclass(frozen=True)
class RowIssue:
    """One malformed row that was left out of the catalog."""

    source: str  # the file (or zip member) the row is in
    line: int | None  # 1-based physical line of the row's start; the header is line 1
    column: str | None  # the first offending column, None when the whole row is wrong
    reason: str  # short, the same for every row with the same defect ("cpu is not an integer")
    value: str | None = None  # the offending text, for the message

    def __str__(self) -> str:
        location = f"{self.source}:{self.line}" if self.line is not None else self.source
        shown = f" ({self.value!r})" if self.value is not None else ""
        return f"{location}: {self.reason}{shown}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CatalogSource:
    """Provenance of one loaded source (a file, a directory, a zip, a URL, the snapshot)."""

    location: str  # as the user gave it (path or URL), or "bundled"
    format: str  # gpuhunt-zip | gpuhunt-dir | gpuhunt-csv | skypilot | skypilot-dir | frame
    providers: tuple[str, ...]
    as_of: str | None  # ISO date (or date-time) the data describes, None when unknown
    as_of_from: (
        str | None
    )  # how as_of was found: "version file", "zip name", "provenance.json", "file mtime", ...
    rows: int  # rows kept
    dropped: int  # malformed rows left out (see Catalog.issues)
    version: str | None = None  # the publisher's version string when known (gpuhunt "20260818-42")
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["providers"] = list(self.providers)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogSource:
        return cls(
            location=str(data["location"]),
            format=str(data["format"]),
            providers=tuple(data.get("providers") or ()),
            as_of=data.get("as_of"),
            as_of_from=data.get("as_of_from"),
            rows=int(data["rows"]),
            dropped=int(data.get("dropped") or 0),
            version=data.get("version"),
            description=data.get("description"),
        )


def summarize_dropped(source: str, total_rows: int, issues: Iterable[RowIssue]) -> str | None:
    """One line: "dropped 3 of 10,000 rows of aws.csv: 2 × cpu is not an integer (line 17, 40), …"."""
    counts: Counter[str] = Counter()
    example_lines: dict[str, list[int]] = {}
    for issue in issues:
        counts[issue.reason] += 1
        if issue.line is not None:
            example_lines.setdefault(issue.reason, []).append(issue.line)
    if not counts:
        return None
    parts = []
    for reason, count in counts.most_common():
        lines = example_lines.get(reason, [])
        shown = ", ".join(map(str, lines[:_EXAMPLE_LINES])) + (
            ", …" if len(lines) > _EXAMPLE_LINES else ""
        )
        where = f" (line {shown})" if lines else ""
        parts.append(f"{count:,} × {reason}{where}")
    dropped = sum(counts.values())
    return f"dropped {dropped:,} of {total_rows:,} rows of {source}: " + ", ".join(parts)
