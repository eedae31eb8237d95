"""The project's error types: every failure a user can cause ends in one of these.

The CLI turns a ``PlannerError`` into its message on stderr and ``exit_code``; nothing else ever
reaches the user as a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# How much of a value a message quotes: enough to recognise it, never a flood (a 50 MB `name:`).
EXCERPT_CHARS = 80
# Integers longer than this many bits are named by their size: Python refuses to write an int of
# more than 4300 digits as text, and nobody reads one anyway.
_EXCERPT_INT_BITS = 256


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as the input allows."""

    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    path: str | None = None  # dotted field path, e.g. "resources.gpu.memory" or "volumes[1].path"

    def __str__(self) -> str:
        location = ":".join(
            str(part) for part in (self.file, self.line, self.column) if part is not None
        )
        prefix = f"{location}: " if location else ""
        field = f"{self.path}: " if self.path else ""
        return f"{prefix}{field}{self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "file": self.file,
        }


class PlannerError(Exception):
    """Bad input of any kind. ``exit_code`` 2 by the CLI contract."""

    exit_code = 2

    def __init__(self, problems: Problem | str | Sequence[Problem]) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class ConfigError(PlannerError):
    """The service configuration is unreadable or invalid."""


class CatalogError(PlannerError):
    """A catalog source is unreadable, malformed (under --strict) or could not be downloaded."""


class InputError(PlannerError):
    """Any other bad input: a fleet or capacity file, a baseline, a command-line argument."""


def problems_text(problems: Iterable[Problem]) -> str:
    return "\n".join(str(problem) for problem in problems)


def excerpt(value: object, *, as_repr: bool = False, limit: int = EXCERPT_CHARS) -> str:
    """A value the user wrote, as every message quotes it: bounded.

    Text up to ``limit`` characters is quoted whole; longer text is cut, with an ellipsis and its
    full length (``aaaa… (52428800 characters)``). ``as_repr`` quotes like ``repr``, escapes
    included (``'a\\tb'``), with the cut outside the quotes. An integer too long to print is named
    by its number of digits.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _EXCERPT_INT_BITS:
            digits = math.floor(value.bit_length() * math.log10(2)) + 1
            return f"a number of about {digits} digits"
        return str(value)
    try:
        text = value if isinstance(value, str) else repr(value) if as_repr else str(value)
    except ValueError:  # a container holding an integer too long to print
        return f"a {type(value).__name__}"
    cut = text if len(text) <= limit else text[:limit]
    shown = repr(cut) if as_repr and isinstance(value, str) else cut
    if cut is text:
        return shown
    return f"{shown}… ({len(text)} characters)"
