"""Reading a fleet inventory and a capacity/risk file into ``FleetInventory`` / ``CapacityData``.

YAML and JSON go through the reader of service files (``planner/config/yaml_loader.py``: every
value located, duplicated keys refused, YAML's traps — base-60 and leading-zero numbers, tags,
alias bombs — refused); a capacity CSV is read row by row. Either way each record is validated by
the models of ``input_models.py``, and a bad value is an ``InputError`` (exit 2) located as
``FILE:LINE[:COLUMN]: field: message``. The formats are in docs/planning.md.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from planner.config.yaml_loader import FieldPath, YamlDocument, format_path, parse_yaml
from planner.errors import ConfigError, InputError, Problem
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
    try:
        # utf-8-sig: spreadsheet exports start with a byte-order mark, which is not data.
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(Problem("no such file", file=str(path))) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Problem(f"cannot read: {error}", file=str(path))) from None


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
    """Each data row as {column: cell} with its line; blank and ``#`` lines are skipped."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    for record in reader:
        line = reader.line_num
        if not record or all(cell.strip() == "" for cell in record):
            continue
        if record[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in record]
            for index, name in enumerate(header):
                if name not in CAPACITY_COLUMNS:
                    raise InputError(
                        Problem(
                            f"unknown column {name!r} (expected: {', '.join(CAPACITY_COLUMNS)})",
                            file=file,
                            line=line,
                            column=index + 1,
                        )
                    )
            continue
        if len(record) > len(header):
            raise InputError(
                Problem(
                    f"{len(record)} cells but the header has {len(header)} columns",
                    file=file,
                    line=line,
                )
            )
        yield (
            {name: record[index] for index, name in enumerate(header) if index < len(record)},
            line,
        )


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
