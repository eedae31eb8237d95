"""``planner destroy --state FILE --backends FILE``: terminate every instance a state file lists.

Exit 0 when everything listed is gone, 1 when a termination failed (run it again), 2 on bad input.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "destroy",
        help="terminate the instances an apply state file lists",
        description="Terminate every instance that `planner apply` recorded in the state file "
        "(those it was creating when interrupted included, found by their client token), and "
        "mark them terminated in the file.",
    )
    parser.add_argument("--state", metavar="FILE", required=True, help="the apply state file")
    parser.add_argument("--backends", metavar="FILE", required=True, help="the backends file")
    parser.add_argument(
        "--format", choices=("table", "json", "markdown"), default="table", help="output format"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from planner.apply import destroy
    from planner.render import apply as report

    result = destroy(args.state, args.backends)
    if args.format == "json":
        print(report.render_destroy_json(result))
    else:
        print(report.render_destroy_table(result, markdown=args.format == "markdown"))
    return 0 if result.complete else 1
