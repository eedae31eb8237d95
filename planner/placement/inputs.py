"""The planner's inputs beyond the service file: a fleet inventory and capacity/risk data.

Both are small, user-written files, so they are parsed row by row with the line of every value
kept: a bad value is reported as ``FILE:LINE: field: message`` (``InputError``, exit 2).

Fleet inventory (YAML or JSON)::

    instances:
      - name: web-1              # optional
        backend: aws
        region: us-east-1
        instance_type: g5.xlarge
        spot: false              # default false
        price: 1.006             # USD/hour, what the instance costs while kept
        status: idle             # idle | busy (busy instances are never planned on)
        count: 2                 # identical instances, default 1
        resources: {cpu: 4, memory_gb: 16, gpu_count: 1, gpu_name: A10G, gpu_memory_gb: 24,
                    disk_gb: 250, gpu_vendor: nvidia, cpu_arch: x86}

Capacity and risk data (CSV with a header, or YAML ``pools:`` / ``reservations:`` lists): columns
``backend, region, instance_type, spot, capacity, interruption`` and, for a reservation row,
``reservation`` (its id) and ``price``. ``*`` or an empty cell matches anything; the most specific
matching row wins (ties: the later row). ``capacity`` empty or ``unlimited`` means no limit.
``interruption`` is an AWS Spot Advisor bucket (``<5%``, ``5-10%``, ``10-15%``, ``15-20%``,
``>20%``) or a monthly probability between 0 and 1. Defaults: docs/planning.md.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from planner.errors import InputError, Problem

# Monthly interruption probability assumed for each AWS Spot Advisor bucket: the bucket's upper
# edge, so the hedge errs on the safe side; the open ">20%" bucket is taken as 30%.
INTERRUPTION_BUCKETS: Final[dict[str, float]] = {
    "<5%": 0.05,
    "5-10%": 0.10,
    "10-15%": 0.15,
    "15-20%": 0.20,
    ">20%": 0.30,
}
# A spot pool without data is assumed to be in the worst bucket: we never under-hedge by default.
DEFAULT_SPOT_BUCKET: Final = ">20%"
DEFAULT_SPOT_INTERRUPTION_RATE: Final = INTERRUPTION_BUCKETS[DEFAULT_SPOT_BUCKET]

# dstack backend name -> gpuhunt provider name, where they differ.
PROVIDER_OF_BACKEND: Final[dict[str, str]] = {
    "lambda": "lambdalabs",
    "datacrunch": "verda",
    "amddevcloud": "digitalocean",
}

WILDCARD: Final = "*"
UNLIMITED: Final = -1  # a capacity that is explicitly unlimited


@dataclass(frozen=True)
class CapacityRule:
    """Obtainable count and spot risk for the pools a (backend, region, instance type) pattern names."""

    provider: str  # gpuhunt provider name, lower-case; "*" = any
    region: str  # lower-case; "*" = any
    instance_type: str  # lower-case; "*" = any
    spot: bool | None  # None = both
    capacity: int | None  # None = not stated by this row; UNLIMITED = explicitly no limit
    interruption_rate: float | None  # None = not stated by this row
    source: str  # "FILE:LINE"

    @property
    def specificity(self) -> int:
        return sum(
            value != WILDCARD for value in (self.provider, self.region, self.instance_type)
        ) + (self.spot is not None)


@dataclass(frozen=True)
class Reservation:
    """Reserved capacity: ``count`` instances of one type in one place, at their own price."""

    reservation_id: str
    provider: str
    region: str
    instance_type: str
    count: int
    price: float
    source: str


@dataclass(frozen=True)
class CapacityData:
    rules: tuple[CapacityRule, ...] = ()
    reservations: tuple[Reservation, ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class FleetInstance:
    """Identical existing instances (``count`` of them) in one place."""

    name: str | None
    provider: str
    region: str
    instance_type: str
    spot: bool
    price: float
    idle: bool
    count: int
    cpu: int
    memory_gb: float
    gpu_count: int
    gpu_name: str | None
    gpu_memory_gb: float | None
    disk_gb: float | None
    gpu_vendor: str | None
    cpu_arch: str
    source: str


@dataclass(frozen=True)
class FleetInventory:
    instances: tuple[FleetInstance, ...] = ()
    source: str | None = None

    @property
    def idle_count(self) -> int:
        return sum(instance.count for instance in self.instances if instance.idle)


# --------------------------------------------------------------------------------------------
# YAML with the line of every value


@dataclass(frozen=True)
class _Located:
    """A parsed YAML mapping with the 1-based line of each key's value."""

    values: dict[str, Any]
    lines: dict[str, int]
    line: int


def _read_text(path: str | os.PathLike[str]) -> str:
    try:
        # utf-8-sig: spreadsheet exports start with a byte-order mark, which is not data.
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(Problem("no such file", file=str(path))) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Problem(f"cannot read: {error}", file=str(path))) from None


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise InputError(
            Problem(
                f"not valid YAML/JSON: {error.problem}",
                file=file,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        ) from None
    except yaml.YAMLError as error:
        raise InputError(Problem(f"not valid YAML/JSON: {error}", file=file)) from None


def _plain(node: yaml.Node) -> Any:
    """A node's value as Python data (scalars typed by the safe resolver)."""
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_object(node, deep=True)
    finally:
        constructor.dispose()


def _located_items(node: yaml.Node, file: str, path: str) -> Iterator[tuple[_Located, str]]:
    if not isinstance(node, yaml.SequenceNode):
        raise InputError(
            Problem("must be a list", file=file, line=node.start_mark.line + 1, path=path)
        )
    for index, item in enumerate(node.value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, yaml.MappingNode):
            raise InputError(
                Problem(
                    "must be a mapping", file=file, line=item.start_mark.line + 1, path=item_path
                )
            )
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in item.value:
            key = str(_plain(key_node))
            values[key] = _plain(value_node)
            if isinstance(value_node, yaml.MappingNode):
                # A nested mapping: its own fields keep their lines, the key its own line.
                lines[key] = key_node.start_mark.line + 1
                for sub_key, sub_value in value_node.value:
                    lines[f"{key}.{_plain(sub_key)}"] = sub_value.start_mark.line + 1
            else:
                lines[key] = value_node.start_mark.line + 1
        yield _Located(values, lines, item.start_mark.line + 1), item_path


def _top_level(node: yaml.Node | None, file: str, keys: tuple[str, ...]) -> dict[str, yaml.Node]:
    if node is None:
        return {}
    if isinstance(node, yaml.SequenceNode):
        return {keys[0]: node}
    if not isinstance(node, yaml.MappingNode):
        raise InputError(
            Problem(f"must be a mapping with {' / '.join(keys)}", file=file, line=1, path="")
        )
    found: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = str(_plain(key_node))
        if key not in keys:
            raise InputError(
                Problem(
                    f"unknown key (expected {', '.join(keys)})",
                    file=file,
                    line=key_node.start_mark.line + 1,
                    path=key,
                )
            )
        found[key] = value_node
    return found


# --------------------------------------------------------------------------------------------
# Field readers shared by both files


class _Row:
    """One record (a YAML mapping or a CSV row) with helpers that raise located errors."""

    def __init__(
        self, values: dict[str, Any], lines: dict[str, int], line: int, file: str, path: str
    ):
        self.values = values
        self.lines = lines
        self.line = line
        self.file = file
        self.path = path

    def error(self, key: str, message: str) -> InputError:
        field = f"{self.path}.{key}" if self.path else key
        return InputError(
            Problem(message, file=self.file, line=self.lines.get(key, self.line), path=field)
        )

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.values:
            if key not in allowed:
                raise self.error(key, f"unknown field (expected one of: {', '.join(allowed)})")

    def raw(self, key: str) -> Any:
        value = self.values.get(key)
        return None if isinstance(value, str) and value.strip() == "" else value

    def text(self, key: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise self.error(key, "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(key, f"must be a string, got {value!r}")
        return str(value).strip()

    def pattern(self, key: str) -> str:
        value = self.text(key, default=WILDCARD)
        assert value is not None
        return value.lower()

    def number(self, key: str, *, required: bool = False, minimum: float = 0.0) -> float | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise self.error(key, "is required")
            return None
        if isinstance(value, bool):
            raise self.error(key, f"must be a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(key, f"must be a number, got {value!r}") from None
        if not math.isfinite(number) or number < minimum:
            raise self.error(key, f"must be a finite number ≥ {minimum:g}, got {value!r}")
        return number

    def integer(self, key: str, *, required: bool = False, minimum: int = 0) -> int | None:
        value = self.raw(key)
        if value is None:
            if required:
                raise self.error(key, "is required")
            return None
        if isinstance(value, bool):
            raise self.error(key, f"must be an integer, got {value!r}")
        text = str(value).strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise self.error(key, f"must be an integer, got {value!r}")
        number = int(text)
        if number < minimum:
            raise self.error(key, f"must be ≥ {minimum}, got {number}")
        return number

    def boolean(self, key: str, *, allow_any: bool = False) -> bool | None:
        value = self.raw(key)
        if value is None or (allow_any and value == WILDCARD):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1", "spot"):
            return True
        if text in ("false", "no", "0", "on-demand"):
            return False
        raise self.error(key, f"must be true or false, got {value!r}")

    def source(self) -> str:
        return f"{self.file}:{self.line}"


def _provider(row: _Row, key: str = "backend") -> str:
    value = row.pattern(key)
    return PROVIDER_OF_BACKEND.get(value, value)


# --------------------------------------------------------------------------------------------
# Capacity and risk data

_CAPACITY_FIELDS: Final = (
    "backend",
    "region",
    "instance_type",
    "spot",
    "capacity",
    "interruption",
    "reservation",
    "price",
    "count",
)


def interruption_rate(value: Any) -> float:
    """A Spot Advisor bucket (``<5%`` …) or a probability in [0, 1] → monthly probability."""
    if isinstance(value, bool):
        raise ValueError(f"not an interruption bucket or rate: {value!r}")
    text = str(value).strip().replace(" ", "").replace("–", "-").replace("—", "-")
    if text in INTERRUPTION_BUCKETS:
        return INTERRUPTION_BUCKETS[text]
    try:
        rate = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(
            f"not an interruption bucket ({', '.join(INTERRUPTION_BUCKETS)}) or a rate in [0, 1]: {value!r}"
        ) from None
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"an interruption rate must be in [0, 1), got {value!r}")
    return rate


def _capacity_key(row: _Row) -> str:
    """``count`` is another name for ``capacity``; a row stating both must agree."""
    if row.raw("count") is None:
        return "capacity"
    if (
        row.raw("capacity") is not None
        and str(row.raw("capacity")).strip() != str(row.raw("count")).strip()
    ):
        raise row.error("count", "capacity and count are the same field: give one")
    return "count"


def _capacity_record(row: _Row, *, reservation: bool = False) -> CapacityRule | Reservation:
    row.check_keys(_CAPACITY_FIELDS)
    reservation_id = row.text("reservation")
    if reservation and reservation_id is None:
        raise row.error("reservation", "a reservation needs its id (reservation or id)")
    capacity_key = _capacity_key(row)
    if reservation_id is not None:
        for key in ("backend", "region", "instance_type"):
            if row.text(key) in (None, WILDCARD):
                raise row.error(key, "a reservation names its backend, region and instance_type")
        count = row.integer(capacity_key)
        if count is None:
            raise row.error("capacity", "a reservation needs its instance count (capacity)")
        price = row.number("price", required=True)
        assert price is not None
        return Reservation(
            reservation_id=reservation_id,
            provider=_provider(row),
            region=row.pattern("region"),
            instance_type=row.pattern("instance_type"),
            count=count,
            price=price,
            source=row.source(),
        )
    if row.raw("price") is not None:
        raise row.error("price", "only a reservation row has a price (catalog prices are used)")
    capacity_text = row.raw(capacity_key)
    capacity = (
        UNLIMITED
        if isinstance(capacity_text, str) and capacity_text.strip().lower() == "unlimited"
        else row.integer(capacity_key)
    )
    rate: float | None = None
    if row.raw("interruption") is not None:
        try:
            rate = interruption_rate(row.raw("interruption"))
        except ValueError as error:
            raise row.error("interruption", str(error)) from None
    return CapacityRule(
        provider=_provider(row),
        region=row.pattern("region"),
        instance_type=row.pattern("instance_type"),
        spot=row.boolean("spot", allow_any=True),
        capacity=capacity,
        interruption_rate=rate,
        source=row.source(),
    )


def _csv_rows(text: str, file: str) -> Iterator[_Row]:
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
                if name not in _CAPACITY_FIELDS:
                    raise InputError(
                        Problem(
                            f"unknown column {name!r} (expected: {', '.join(_CAPACITY_FIELDS)})",
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
        values = {name: record[index] for index, name in enumerate(header) if index < len(record)}
        yield _Row(values, {}, line, file, "")


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
            return len(cells) > 1 and all(cell in _CAPACITY_FIELDS for cell in cells)
    return False


def load_capacity(path: str | os.PathLike[str]) -> CapacityData:
    """Read a capacity/risk file (CSV, or YAML/JSON with ``pools`` and ``reservations`` lists)."""
    file = str(path)
    text = _read_text(path)
    rows: list[tuple[_Row, bool]] = []
    if _is_csv(path, text):
        rows = [(row, False) for row in _csv_rows(text, file)]
    else:
        sections = _top_level(_compose(text, file), file, ("pools", "reservations"))
        for key, node in sections.items():
            for located, item_path in _located_items(node, file, key):
                row = _Row(located.values, located.lines, located.line, file, item_path)
                if key == "reservations" and "id" in row.values:
                    if row.text("reservation") is not None:
                        raise row.error("id", "give the reservation id once (id or reservation)")
                    row.values["reservation"] = row.values.pop("id")
                    row.lines["reservation"] = row.lines.get("id", located.line)
                rows.append((row, key == "reservations"))
    records = [_capacity_record(row, reservation=reserved) for row, reserved in rows]
    return CapacityData(
        rules=tuple(record for record in records if isinstance(record, CapacityRule)),
        reservations=tuple(record for record in records if isinstance(record, Reservation)),
        source=file,
    )


# --------------------------------------------------------------------------------------------
# Fleet inventory

_FLEET_FIELDS: Final = (
    "name",
    "backend",
    "region",
    "instance_type",
    "spot",
    "price",
    "status",
    "count",
    "resources",
)
_RESOURCE_FIELDS: Final = (
    "cpu",
    "memory_gb",
    "gpu_count",
    "gpu_name",
    "gpu_memory_gb",
    "disk_gb",
    "gpu_vendor",
    "cpu_arch",
)


def _fleet_instance(row: _Row) -> FleetInstance:
    row.check_keys(_FLEET_FIELDS)
    status = (row.text("status", default="idle") or "idle").lower()
    if status not in ("idle", "busy"):
        raise row.error("status", f"must be idle or busy, got {status!r}")
    resources_value = row.values.get("resources")
    if not isinstance(resources_value, dict):
        raise row.error("resources", "is required: a mapping with cpu, memory_gb, gpu_count, …")
    resources = _Row(
        {str(key): value for key, value in resources_value.items()},
        {
            key.removeprefix("resources."): line
            for key, line in row.lines.items()
            if key.startswith("resources.")
        },
        row.lines.get("resources", row.line),
        row.file,
        f"{row.path}.resources",
    )
    resources.check_keys(_RESOURCE_FIELDS)
    gpu_count = resources.integer("gpu_count", required=True)
    assert gpu_count is not None
    gpu_name = resources.text("gpu_name")
    gpu_memory_gb = resources.number("gpu_memory_gb")
    if gpu_count > 0 and gpu_name is None:
        raise resources.error("gpu_name", "is required when gpu_count > 0")
    cpu_arch = (resources.text("cpu_arch", default="x86") or "x86").lower()
    if cpu_arch not in ("x86", "arm"):
        raise resources.error("cpu_arch", f"must be x86 or arm, got {cpu_arch!r}")
    gpu_vendor = resources.text("gpu_vendor")
    for key in ("backend", "region", "instance_type"):
        if row.text(key) in (None, WILDCARD):
            raise row.error(key, "is required")
    cpu = resources.integer("cpu", required=True, minimum=1)
    memory_gb = resources.number("memory_gb", required=True)
    price = row.number("price", required=True)
    count = row.integer("count", minimum=1)
    assert cpu is not None and memory_gb is not None and price is not None
    return FleetInstance(
        name=row.text("name"),
        provider=_provider(row),
        region=str(row.text("region")),
        instance_type=str(row.text("instance_type")),
        spot=bool(row.boolean("spot")),
        price=price,
        idle=status == "idle",
        count=1 if count is None else count,
        cpu=cpu,
        memory_gb=memory_gb,
        gpu_count=gpu_count,
        gpu_name=gpu_name if gpu_count > 0 else None,
        gpu_memory_gb=gpu_memory_gb if gpu_count > 0 else None,
        disk_gb=resources.number("disk_gb"),
        gpu_vendor=(gpu_vendor or "nvidia").lower() if gpu_count > 0 else None,
        cpu_arch=cpu_arch,
        source=row.source(),
    )


def load_fleet(path: str | os.PathLike[str]) -> FleetInventory:
    """Read a fleet inventory file (YAML or JSON with an ``instances`` list)."""
    file = str(path)
    sections = _top_level(_compose(_read_text(path), file), file, ("instances",))
    instances = [
        _fleet_instance(_Row(located.values, located.lines, located.line, file, item_path))
        for node in sections.values()
        for located, item_path in _located_items(node, file, "instances")
    ]
    return FleetInventory(instances=tuple(instances), source=file)
