"""``planner apply FILE --backends FILE``: plan the service, then create its instances through
the backend plugins, following each placement's fallback chain as the service's ``retry`` allows.

Exit 0 when every planned replica has an instance (or, with ``--dry-run``, a call to make), 1 when
some replica could not be placed or no plan exists, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from planner.cli import arguments


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "apply",
        help="carry out the plan: create the instances through backend plugins",
        description="Compute the plan (as `planner plan`), then create each planned replica "
        "through the backends file's plugins. On 'no capacity' or an error, move down the "
        "placement's fallback chain as far as the service's retry policy allows. Every instance "
        "is recorded in the state file as it is created; running apply again continues from it, "
        "and `planner destroy` tears down what it lists.",
    )
    parser.add_argument("file", metavar="FILE", help="the service configuration (- reads stdin)")
    parser.add_argument(
        "--backends", metavar="FILE", required=True, help="the backends file (docs/backends.md)"
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        default=None,
        help="the state file (default: planner-state.<service>.json in the current directory)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the create calls it would make; create nothing, write no state",
    )
    arguments.add_catalog_options(parser)
    parser.add_argument("--fleet", metavar="FILE", help="existing instances, as `planner plan`")
    parser.add_argument("--capacity", metavar="FILE", help="capacity data, as `planner plan`")
    arguments.add_time_limit(parser)
    parser.add_argument(
        "--wait-timeout",
        metavar="S",
        type=arguments.positive_float,
        default=600.0,
        help="how long a created instance may take to run (default 600 s)",
    )
    parser.add_argument(
        "--format", choices=("table", "json", "markdown"), default="table", help="output format"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    # Lazy for start-up time (pandas, ortools, the plugins).
    from planner.apply import ApplyOptions, apply
    from planner.backends.settings import load_backends
    from planner.catalog import Catalog
    from planner.config import load_config
    from planner.placement import PlanOptions, load_capacity, load_fleet
    from planner.render import apply as report

    config = load_config(args.file)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    backends = load_backends(args.backends)
    capacity = load_capacity(args.capacity) if args.capacity else None
    fleet = load_fleet(args.fleet) if args.fleet else None
    catalog = Catalog.load(*args.catalog, strict=args.strict, backends_file=args.backends)
    state = args.state
    if state is None and not args.dry_run:
        state = f"planner-state.{config.normalized.name or 'service'}.json"
    result = apply(
        config,
        backends,
        catalog=catalog,
        state=state,
        options=ApplyOptions(dry_run=args.dry_run, wait_timeout_seconds=args.wait_timeout),
        plan_options=PlanOptions(time_limit_seconds=args.time_limit, explain=False),
        fleet=fleet,
        capacity=capacity,
    )
    if args.format == "json":
        print(report.render_apply_json(result))
    else:
        print(report.render_apply_table(result, markdown=args.format == "markdown"))
    return 0 if result.complete else 1
