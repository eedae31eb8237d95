"""The project's error types: every failure a user can cause ends in one of these.

The CLI turns a ``PlannerError`` into its message on stderr and ``exit_code``; nothing else ever
reaches the user as a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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
