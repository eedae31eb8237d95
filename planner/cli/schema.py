"""``planner schema [--output FILE]``: the JSON Schema of the service configuration."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from planner.errors import InputError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of the service configuration",
        description="Print the JSON Schema (draft 2020-12) of the service configuration, "
        "generated from the models; point an editor's YAML support at it.",
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write the schema to FILE instead of stdout"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    # Lazy for start-up time: the other commands do not pay for pydantic and the models.
    from planner.config.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output is None or args.output == "-":
        print(text, end="")
        return 0
    _write_atomically(Path(args.output), text)
    return 0


def _write_atomically(target: Path, text: str) -> None:
    # A half-written schema would break every editor pointed at it: write aside, then rename.
    directory = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except OSError as error:
        raise InputError(f"{target}: cannot write the schema: {error.strerror or error}") from None
