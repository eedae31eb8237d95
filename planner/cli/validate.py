"""``planner validate FILE [--format text|json]``: check a service configuration.

Text: ``FILE:LINE:COL: field.path: message`` per problem on stderr (exit 2), or a one-line
confirmation on stdout (exit 0) with any warnings on stderr. JSON: one document on stdout in both
cases, ``{"valid", "errors", "warnings", "normalized"}``; nothing else is written to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from planner.errors import ConfigError, Problem


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check a service configuration file",
        description="Parse and validate a dstack service configuration. Exit 0 when valid, 2 when "
        "not; every problem is reported as FILE:LINE:COL: field.path: message.",
        epilog="YAML 1.1 readings that silently change a value are errors here: a duplicated key, "
        "an unquoted base-60 number (gpu: 1:2 is 62), an unquoted leading-zero number "
        '(replicas: 010 is octal 8). Quote such values: gpu: "1:2".',
    )
    parser.add_argument("file", metavar="FILE", help="the service configuration (- reads stdin)")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) or json: {valid, errors, warnings, normalized} on stdout",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    # Lazy for start-up time: the other commands do not pay for pydantic and the models.
    from planner.config import load_config

    try:
        loaded = load_config(args.file)
    except ConfigError as error:
        if args.format == "json":
            _print_json(valid=False, errors=error.problems, warnings=(), normalized=None)
        else:
            for problem in error.problems:
                print(problem, file=sys.stderr)
        return error.exit_code
    if args.format == "json":
        _print_json(
            valid=True,
            errors=(),
            warnings=loaded.warnings,
            normalized=loaded.normalized.model_dump(mode="json"),
        )
    else:
        for warning in loaded.warnings:
            print(_warning_line(warning), file=sys.stderr)
        print(f"{loaded.source}: valid service configuration")
    return 0


def _problem_json(problem: Problem) -> dict[str, object]:
    return {
        "path": problem.path,
        "line": problem.line,
        "column": problem.column,
        "message": problem.message,
    }


def _print_json(
    *,
    valid: bool,
    errors: tuple[Problem, ...],
    warnings: tuple[Problem, ...],
    normalized: dict[str, Any] | None,
) -> None:
    document = {
        "valid": valid,
        "errors": [_problem_json(problem) for problem in errors],
        "warnings": [_problem_json(problem) for problem in warnings],
        "normalized": normalized,
    }
    print(json.dumps(document, indent=2))


def _warning_line(warning: Problem) -> str:
    location = ":".join(
        str(part) for part in (warning.file, warning.line, warning.column) if part is not None
    )
    field = f"{warning.path}: " if warning.path else ""
    return f"{location}: warning: {field}{warning.message}"
