"""Reading a fleet inventory and a capacity/risk file into ``FleetInventory`` / ``CapacityData``.

YAML and JSON go through the reader of service files (``planner/config/yaml_loader.py``: every
value located, duplicated keys refused, YAML's traps — base-60 and leading-zero numbers, tags,
alias bombs — refused); a capacity CSV is read row by row. Either way each record is validated by
the models of ``input_models.py``, and a bad value is an ``InputError`` (exit 2) located as
``FILE:LINE[:COLUMN]: field: message``. Only a regular file within the input cap (planner.config.input_file) is
read (a FIFO or ``/dev/zero`` would block or never end), and a CSV strictly (a stray quote or a
control character is an error, not a value read some other way). The formats are in
docs/planning.md.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from planner.config.input_file import read_input_bytes
from planner.config.yaml_loader import (
    FieldPath,
    YamlDocument,
    decode_yaml_bytes,
    format_path,
    parse_yaml,
)
from planner.errors import ConfigError, InputError, Problem, excerpt
from planner.placement.input_models import (
    INPUT_ERROR,
    CapacityFile,
    CapacityRow,
    FleetFile,
    FleetRow,
)
from planner.placement.inputs import (
    CapacityData,
    CapacityRule,
    FleetInstance,
    FleetInventory,
    Reservation,
)
from planner.placement.limits import MAX_CSV_ROWS

_Model = TypeVar("_Model", bound=BaseModel)

# The columns a capacity CSV may have: the fields of a capacity record.
CAPACITY_COLUMNS = CapacityRow.field_names()


def load_fleet(path: str | os.PathLike[str]) -> FleetInventory:
    """Read a fleet inventory file (YAML or JSON with an ``instances`` list)."""
    file = str(path)
    document = _parse(_read_text(path), file)
    fleet = _validate_document(FleetFile, document, file, ("instances",))
    instances = tuple(
        _fleet_instance(row, _source(document, ("instances", index)))
        for index, row in enumerate(fleet.instances)
    )
    return FleetInventory(instances=instances, source=file)


def load_capacity(path: str | os.PathLike[str]) -> CapacityData:
    """Read a capacity/risk file (CSV, or YAML/JSON with ``pools`` and ``reservations`` lists)."""
    file = str(path)
    text = _read_text(path)
    records: list[tuple[CapacityRow, str]]
    if _is_csv(path, text):
        records = [
            (_validate_row(values, file, line), f"{file}:{line}")
            for values, line in _csv_rows(text, file)
        ]
    else:
        document = _parse(text, file)
        data = _validate_document(CapacityFile, document, file, ("pools", "reservations"))
        records = [
            (row, _source(document, (section, index)))
            for section, rows in (("pools", data.pools), ("reservations", data.reservations))
            for index, row in enumerate(rows)
        ]
    return CapacityData(
        rules=tuple(_rule(row, source) for row, source in records if row.reservation is None),
        reservations=tuple(
            _reservation(row, source) for row, source in records if row.reservation is not None
        ),
        source=file,
    )


# --------------------------------------------------------------------------------------------
# Records → the planner's values


def _fleet_instance(row: FleetRow, source: str) -> FleetInstance:
    resources = row.resources
    gpus = resources.gpu_count > 0
    return FleetInstance(
        name=row.name,
        provider=row.backend,
        region=row.region,
        instance_type=row.instance_type,
        spot=bool(row.spot),
        price=row.price,
        idle=row.status == "idle",
        count=1 if row.count is None else row.count,
        cpu=resources.cpu,
        memory_gb=resources.memory_gb,
        gpu_count=resources.gpu_count,
        gpu_name=resources.gpu_name if gpus else None,
        gpu_memory_gb=resources.gpu_memory_gb if gpus else None,
        disk_gb=resources.disk_gb,
        gpu_vendor=(resources.gpu_vendor or "nvidia").lower() if gpus else None,
        cpu_arch=resources.cpu_arch,
        source=source,
        fleet=row.fleet,
    )


def _rule(row: CapacityRow, source: str) -> CapacityRule:
    return CapacityRule(
        provider=row.backend,
        region=row.region,
        instance_type=row.instance_type,
        spot=row.spot,
        capacity=row.amount,
        interruption_rate=row.interruption,
        source=source,
    )


def _reservation(row: CapacityRow, source: str) -> Reservation:
    assert row.reservation is not None and row.amount is not None and row.price is not None
    return Reservation(
        reservation_id=row.reservation,
        provider=row.backend,
        region=row.region,
        instance_type=row.instance_type,
        count=row.amount,
        price=row.price,
        source=source,
    )


# --------------------------------------------------------------------------------------------
# YAML / JSON


def _read_text(path: str | os.PathLike[str]) -> str:
    """The file's text: a regular file within the input cap (the same reader as service files),
    UTF-8 (an optional byte-order mark, as spreadsheet exports write, is dropped)."""
    file = str(path)
    try:
        return decode_yaml_bytes(read_input_bytes(path, file, kind="fleet or capacity file"), file)
    except ConfigError as error:
        raise InputError(error.problems) from None


def _parse(text: str, file: str) -> YamlDocument | None:
    try:
        return parse_yaml(text, file)
    except ConfigError as error:
        # The same located problems, as an error of the planner's inputs.
        raise InputError(error.problems) from None


def _validate_document(
    model: type[_Model], document: YamlDocument | None, file: str, sections: tuple[str, ...]
) -> _Model:
    """The document as ``model``; a bare list is the first section (``instances``, ``pools``)."""
    data: Any = {} if document is None else document.data
    if isinstance(data, list):
        data = {sections[0]: data}
    if not isinstance(data, dict):
        raise InputError(
            Problem(f"must be a mapping with {' / '.join(sections)}", file=file, line=1, path="")
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        assert document is not None
        raise InputError(_document_problems(error, document)) from None


def _document_problems(error: ValidationError, document: YamlDocument) -> list[Problem]:
    problems = []
    for item in error.errors():
        path, message = _path_and_message(item)
        at_key = bool((item.get("ctx") or {}).get("at_key"))
        mark = document.locate(path, key=at_key)
        problems.append(
            Problem(
                message,
                file=document.file,
                line=mark.line,
                column=mark.column,
                path=format_path(path) or None,
            )
        )
    return sorted(problems, key=lambda problem: (problem.line or 0, problem.column or 0))


def _path_and_message(item: Mapping[str, Any]) -> tuple[FieldPath, str]:
    path: FieldPath = tuple(item["loc"])
    context = item.get("ctx") or {}
    if item["type"] == INPUT_ERROR:
        if "field" in context:
            path = (*path, context["field"])
        return path, str(context["message"])
    return path, _MESSAGES.get(item["type"], str(item["msg"]))


# Pydantic's own checks, in the words the rest of these files' messages use.
_MESSAGES = {
    "missing": "is required",
    "list_type": "must be a list",
}


def _source(document: YamlDocument | None, path: FieldPath) -> str:
    assert document is not None
    return f"{document.file}:{document.locate(path).line}"


# --------------------------------------------------------------------------------------------
# CSV


def _validate_row(values: dict[str, str], file: str, line: int) -> CapacityRow:
    try:
        return CapacityRow.model_validate(values)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            path, message = _path_and_message(item)
            problems.append(Problem(message, file=file, line=line, path=format_path(path) or None))
        raise InputError(problems) from None


def _csv_rows(text: str, file: str) -> Iterator[tuple[dict[str, str], int]]:
    """Each data row as {column: cell} with its line; blank and ``#`` lines are skipped.

    Strict: a quote must open and close a whole cell, and a cell holds printable text on one
    line; anything else (a stray quote, NUL, a line break inside quotes) is an error located
    at its line and column (the cell's position in the row), not a value read some other way.
    """
    reader = csv.reader(io.StringIO(text), strict=True)
    header: list[str] | None = None
    rows = 0
    ended = 0  # the line the previous record ended on
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InputError(
                Problem(
                    f"not valid CSV: {_csv_error(error)}",
                    file=file,
                    line=ended + 1,
                    column=_bad_quote_cell(text, ended),
                )
            ) from None
        line, ended = ended + 1, reader.line_num
        if not record or all(cell.strip() == "" for cell in record):
            continue
        if record[0].lstrip().startswith("#"):
            continue
        _check_cells(record, header, file, line)
        if header is None:
            header = _header(record, file, line)
            continue
        if len(record) > len(header):
            raise InputError(
                Problem(
                    f"{len(record)} cells but the header has {len(header)} columns",
                    file=file,
                    line=line,
                )
            )
        rows += 1
        if rows > MAX_CSV_ROWS:
            raise InputError(
                Problem(f"more than {MAX_CSV_ROWS} rows: not a capacity file", file=file, line=line)
            )
        yield (
            {name: record[index] for index, name in enumerate(header) if index < len(record)},
            line,
        )


def _header(record: list[str], file: str, line: int) -> list[str]:
    header = [cell.strip().lower() for cell in record]
    for index, name in enumerate(header):
        if name not in CAPACITY_COLUMNS:
            raise InputError(
                Problem(
                    f"unknown column {excerpt(name, as_repr=True)} (expected: {', '.join(CAPACITY_COLUMNS)})",
                    file=file,
                    line=line,
                    column=index + 1,
                )
            )
        if name in header[:index]:
            raise InputError(
                Problem(
                    f"the column {name!r} is written twice (columns {header.index(name) + 1} "
                    f"and {index + 1})",
                    file=file,
                    line=line,
                    column=index + 1,
                )
            )
    return header


def _check_cells(record: list[str], header: list[str] | None, file: str, line: int) -> None:
    """Refuse a cell with a quote or a character that is not printable (NUL, a line break)."""
    for index, cell in enumerate(record):
        if cell.isprintable() and '"' not in cell:
            continue
        name = header[index] if header is not None and index < len(header) else None
        if '"' in cell:
            message = 'a stray quote `"` in the cell: quote a whole cell ("...") or none of it'
        else:
            code = next(ord(char) for char in cell if not char.isprintable())
            message = f"the cell contains the control character {code:#04x}"
        raise InputError(Problem(message, file=file, line=line, column=index + 1, path=name))


def _bad_quote_cell(text: str, lines_before: int) -> int | None:
    """The cell (1-based) of the first misplaced quote in the record starting after
    ``lines_before`` lines: a quote inside an unquoted cell, text after a closing quote, or a
    quote that is never closed. ``None`` when the record has none."""
    start = 0
    for _ in range(lines_before):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    cell, quoted, closed, at_start = 1, False, False, True
    index = start
    while index < len(text):
        char = text[index]
        if quoted:
            if char == '"' and text.startswith('""', index):
                index += 1  # an escaped quote inside a quoted cell
            elif char == '"':
                quoted, closed = False, True
        elif char in "\r\n":
            return None
        elif char == ",":
            cell, closed, at_start = cell + 1, False, True
        elif closed or (char == '"' and not at_start):
            return cell
        elif char == '"':
            quoted, at_start = True, False
        else:
            at_start = False
        index += 1
    return cell if quoted else None


def _csv_error(error: csv.Error) -> str:
    """The csv module's complaint in the words of this file's other messages."""
    text = str(error)
    if text.startswith("field larger than field limit"):
        return f"a cell longer than {csv.field_size_limit()} characters"
    if text == "unexpected end of data":
        return 'a quoted cell is not closed (a `"` is missing)'
    if "expected after" in text:
        return 'a stray quote `"`: a quoted cell must end at its closing quote'
    return text


def _is_csv(path: str | os.PathLike[str], text: str) -> bool:
    """A ``.csv`` file, or (other than ``.yml``/``.yaml``/``.json``) one whose first line is a
    CSV header of capacity columns (``capacity.txt``, a file without a suffix)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return True
    if suffix in (".yml", ".yaml", ".json"):
        return False
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            cells = [cell.strip().lower() for cell in line.split(",")]
            return len(cells) > 1 and all(cell in CAPACITY_COLUMNS for cell in cells)
    return False
