"""Value grammars of the keys dstack 0.22.5 added to the service format (pydantic-free).

Repository and file shorthands, cron expressions, resource tags and fleet references; the rules
are stated in docs/configuration.md §3.7.
"""

from __future__ import annotations

import re
import string
from typing import Any, NamedTuple

from planner.errors import excerpt

# --------------------------------------------------------------------------------------------
# repos and files


class RepoShorthand(NamedTuple):
    local_path: str | None
    url: str | None
    path: str | None  # None: the default (".")


def _windows_drive(parts: list[str]) -> bool:
    """`C:\\path` or `c:/path`: the first `:` belongs to a Windows drive letter."""
    return (
        len(parts) > 1
        and len(parts[0]) == 1
        and parts[0] in string.ascii_letters
        and parts[1][:1] in ("\\", "/")
    )


def parse_repo_shorthand(text: str) -> RepoShorthand:
    """``SOURCE[:PATH]``: SOURCE is a Git URL (it has ``@`` before the first ``:`` or ``//`` after
    it) or a local path (a Windows drive letter is kept); PATH is the path in the container."""
    parts = text.split(":")
    is_url = False
    if len(parts) > 1:
        if "@" in parts[0] or parts[1].startswith("//"):
            parts = [f"{parts[0]}:{parts[1]}", *parts[2:]]
            is_url = True
        elif _windows_drive(parts):
            parts = [f"{parts[0]}:{parts[1]}", *parts[2:]]
    if len(parts) > 2:
        raise ValueError(
            f"invalid repo {excerpt(text, as_repr=True)}: expected SOURCE or SOURCE:PATH, where SOURCE is "
            "a local path or a Git URL"
        )
    path = parts[1] if len(parts) == 2 else None
    if is_url:
        return RepoShorthand(local_path=None, url=parts[0], path=path)
    return RepoShorthand(local_path=parts[0], url=None, path=path)


def parse_file_mapping(text: str) -> tuple[str, str]:
    """``LOCAL[:PATH]`` → (local path, container path); one path means the same path in both."""
    parts = text.split(":")
    if _windows_drive(parts):
        parts = [f"{parts[0]}:{parts[1]}", *parts[2:]]
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValueError(
        f"invalid file path mapping {excerpt(text, as_repr=True)}: expected LOCAL_PATH or "
        "LOCAL_PATH:CONTAINER_PATH"
    )


def is_windows_absolute(path: str) -> bool:
    """`C:/x`, `C:\\x`, `\\\\server\\share`: absolute in Windows terms (a drive or UNC root)."""
    if re.match(r"^[A-Za-z]:[\\/]", path):
        return True
    return bool(re.match(r"^[\\/]{2}[^\\/]+[\\/]+[^\\/]+", path))


# --------------------------------------------------------------------------------------------
# cron (the crontab form dstack's scheduler reads: five fields, UTC)

CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_CRON_BOUNDS = {
    "minute": (0, 59),
    "hour": (0, 23),
    "day": (1, 31),
    "month": (1, 12),
    "day_of_week": (0, 6),
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALL = re.compile(r"\*(?:/(\d+))?")
_RANGE = re.compile(r"(\d+)(?:-(\d+))?(?:/(\d+))?")
_NAMES = re.compile(r"([a-z]+)(?:-([a-z]+))?", re.IGNORECASE)
_SEPARATOR = re.compile(" *, *")


def check_cron(expression: str) -> None:
    """Raise ``ValueError`` unless ``expression`` is five crontab fields the scheduler reads."""
    fields = expression.split()
    if len(fields) != len(CRON_FIELDS):
        raise ValueError(
            f"invalid cron expression {excerpt(expression, as_repr=True)}: expected 5 fields "
            f"(minute hour day month day-of-week), got {len(fields)}"
        )
    for name, text in zip(CRON_FIELDS, fields, strict=True):
        for item in _SEPARATOR.split(text.strip()):
            problem = _cron_item_problem(name, item)
            if problem:
                raise ValueError(
                    f"invalid cron expression {excerpt(expression, as_repr=True)}: {name} "
                    f"{excerpt(item, as_repr=True)}: {problem}"
                )


def _step_problem(name: str, step: str | None, span: int) -> str | None:
    if step is None:
        return None
    value = int(step)
    if value == 0:
        return "the step must be higher than 0"
    if value > span:
        return f"the step {value} is higher than the range it steps through ({span})"
    return None


def _cron_item_problem(name: str, item: str) -> str | None:
    low, high = _CRON_BOUNDS[name]
    match = _ALL.fullmatch(item)
    if match:
        return _step_problem(name, match.group(1), high - low)
    match = _RANGE.fullmatch(item)
    if match:
        first = int(match.group(1))
        last = None if match.group(2) is None else int(match.group(2))
        if last is not None and last < first:
            return f"the last value {last} is lower than the first {first}"
        if first < low:
            return f"the first value {first} is lower than the minimum {low}"
        if last is not None and last > high:
            return f"the last value {last} is higher than the maximum {high}"
        if last is None and match.group(3) is None and first > high:
            return f"the value {first} is higher than the maximum {high}"
        # As the scheduler: a last value of 0 counts as "up to the maximum" for the step.
        return _step_problem(name, match.group(3), (last or high) - first)
    # The scheduler matches these at the start of the item only: `lastly` is `last`, `jan1` is
    # `jan` (reproduced, not endorsed: docs/configuration.md §3.7).
    if name == "day" and item.lower().startswith("last"):
        return None
    words = {"month": _MONTHS, "day_of_week": _WEEKDAYS}.get(name)
    match = _NAMES.match(item) if words else None
    if words and match:
        names = [part.lower() for part in match.groups() if part is not None]
        unknown = [part for part in names if part not in words]
        if unknown:
            return f"unknown name {unknown[0]!r}; expected one of {', '.join(words)}"
        if len(names) == 2 and words.index(names[1]) < words.index(names[0]):
            return f"the range {item} runs backwards"
        return None
    return "unrecognized expression (use *, */N, N, N-M, N-M/N or a name)"


# --------------------------------------------------------------------------------------------
# tags and entity references

TAG_KEY = re.compile(r"^[_\-a-zA-Z0-9]{1,60}$")
TAG_VALUE = re.compile(r"^[a-zA-Z0-9 .:/=_\-+@]{0,256}$")


def tag_problem(key: str, value: str) -> str | None:
    if not TAG_KEY.match(key):
        return f"invalid tag key {excerpt(key, as_repr=True)}: 1-60 letters, digits, `_` or `-`"
    if not TAG_VALUE.match(value):
        return (
            f"invalid tag value {excerpt(value, as_repr=True)} of {key}: up to 256 letters, digits, "
            "spaces or any of . : / = _ - + @"
        )
    return None


def parse_entity_reference(value: Any, what: str) -> tuple[str | None, str]:
    """``name`` or ``project/name`` → (project, name); empty parts or more than one ``/`` fail."""
    if not isinstance(value, str):
        raise ValueError(
            f"{what} must be a name or project/name, got {excerpt(value, as_repr=True)}"
        )
    parts = value.split("/")
    if len(parts) > 2 or any(not part for part in parts):
        raise ValueError(
            f"invalid entity reference {excerpt(value, as_repr=True)}: expected NAME or PROJECT/NAME"
        )
    return (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
