"""Writing small catalog files for tests, in the exact shapes the publishers write them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from planner.catalog.columns import GPUHUNT_FIELDS

# A valid gpuhunt row (a CPU offer); tests override the fields they care about.
BASE_ROW: dict[str, str] = {
    "instance_name": "m5.large",
    "location": "us-east-1",
    "price": "0.096",
    "cpu": "2",
    "memory": "8.0",
    "gpu_count": "0",
    "gpu_name": "",
    "gpu_memory": "",
    "spot": "False",
    "disk_size": "",
    "gpu_vendor": "",
    "flags": "",
    "cpu_arch": "x86",
    "provider_data": "",
}


def row(**fields: str) -> dict[str, str]:
    return {**BASE_ROW, **fields}


def csv_text(
    rows: Iterable[Mapping[str, str] | Sequence[str]],
    header: Sequence[str] = GPUHUNT_FIELDS,
    line_end: str = "\r\n",
) -> str:
    """CSV as csv.DictWriter writes it (gpuhunt's writer): minimal quoting, CRLF by default.

    A row given as a sequence is written as is (for rows with too many or too few fields).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    for item in rows:
        if isinstance(item, Mapping):
            writer.writerow([item.get(column, "") for column in header])
        else:
            writer.writerow(item)
    return buffer.getvalue()


def write_csv(
    path: Path,
    rows: Iterable[Mapping[str, str] | Sequence[str]],
    header: Sequence[str] = GPUHUNT_FIELDS,
    line_end: str = "\r\n",
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(rows, header, line_end).encode("utf-8"))
    return path
