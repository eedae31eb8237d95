"""Command-line entry point: argument parsing and output only; every decision is the library's.

Each command lives in its own module ``planner.cli.<name>`` exposing::

    def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser
    def run(args: argparse.Namespace) -> int

Heavy libraries (pandas, ortools) are imported inside ``run`` so ``--help`` and ``validate`` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from planner.errors import PlannerError
from planner.version import __version__

COMMANDS = ("validate", "schema", "offers", "plan", "report", "catalog", "apply", "destroy")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planner",
        description="Cost-aware offer matcher and replica planner for GPU services.",
    )
    parser.add_argument("--version", action="version", version=f"planner {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"planner.cli.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args._run(args)
    except PlannerError as error:
        print(
            f"error: {error}" if len(error.problems) == 1 else f"error:\n{error}", file=sys.stderr
        )
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return code


def entry() -> None:
    sys.exit(main())
