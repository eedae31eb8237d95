"""``planner plan FILE``: the cheapest placement of a service's replicas, solved with CP-SAT.

stdout carries only the requested format; warnings go to stderr. Exit 0 with a plan, 1 when the
plan is infeasible (the reason is in the output), 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from planner.cli import arguments


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "plan",
        help="optimize replica placement over the matching offers (CP-SAT)",
        description="Place the service's replicas on the cheapest combination of offers that "
        "satisfies its spot_policy, retry, reservation, creation_policy and max_price, plus the "
        "planning flags below. Prints placements with fallback chains, hourly and monthly cost, "
        "the cost per replica count for a range, and what each constraint costs. Exit 1 when no "
        "plan exists.",
    )
    parser.add_argument("file", metavar="FILE", help="the service configuration (- reads stdin)")
    arguments.add_catalog_options(parser)
    arguments.add_dstack_options(parser)
    parser.add_argument(
        "--fleet", metavar="FILE", help="existing instances (YAML/JSON inventory), for reuse"
    )
    parser.add_argument(
        "--capacity",
        metavar="FILE",
        help="obtainable counts, spot interruption buckets and reservations (CSV or YAML)",
    )
    parser.add_argument(
        "--availability-target",
        metavar="F",
        type=arguments.fraction,
        default=1.0,
        help="with retry on interruption: expected surviving replicas ≥ F × replicas (default 1.0)",
    )
    parser.add_argument(
        "--max-per-domain",
        metavar="K",
        type=arguments.positive_int,
        default=None,
        help="at most K replicas per failure domain, on-demand included, in addition to wave "
        "survival (default: no limit; with --no-wave-survival, half the spot replicas, rounded "
        "up, when retrying on interruption)",
    )
    parser.add_argument(
        "--no-wave-survival",
        action="store_true",
        help="do not require that losing every spot replica of one failure domain leaves the "
        "replica target (on by default when retrying on interruption with spot allowed)",
    )
    parser.add_argument(
        "--failure-domain",
        choices=("region", "instance-type"),
        default="region",
        help="one failure domain is a whole (backend, region) (default: a region-wide "
        "preemption wave is one wave) or, finer, one spot market (backend, region, "
        "instance type)",
    )
    parser.add_argument(
        "--on-demand-floor",
        metavar="N",
        type=arguments.non_negative_int,
        default=0,
        help="at least N replicas on capacity that is never interrupted",
    )
    parser.add_argument(
        "--budget-hourly",
        metavar="X",
        type=arguments.non_negative_float,
        default=None,
        help="the plan may cost at most X USD per hour",
    )
    parser.add_argument(
        "--time-limit",
        metavar="S",
        type=arguments.positive_float,
        default=10.0,
        help="CP-SAT time limit per solve in seconds (default 10); hitting it gives status "
        "'feasible'",
    )
    parser.add_argument(
        "--no-explain",
        action="store_true",
        help="skip re-solving with each constraint relaxed (faster)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="output format",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    # Imported here, lazily for start-up time: `planner --help` and the other commands do not
    # pay for pandas, ortools and pydantic.
    from planner.catalog import Catalog
    from planner.config import load_config
    from planner.errors import InputError
    from planner.match.dstack import server_settings
    from planner.placement import PlanOptions, load_capacity, load_fleet, plan
    from planner.render import plan as report

    if args.rows and args.dstack_config is not None:
        raise InputError("--rows plans on catalog rows; --dstack-config needs dstack-level offers")
    # Input files are read before the catalog, so a bad file fails fast (exit 2).
    settings = server_settings(args.dstack_config)
    config = load_config(args.file)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    capacity = load_capacity(args.capacity) if args.capacity else None
    fleet = load_fleet(args.fleet) if args.fleet else None
    catalog = Catalog.load(*args.catalog, strict=args.strict)
    options = PlanOptions(
        availability_target=args.availability_target,
        max_per_domain=args.max_per_domain,
        wave_survival=not args.no_wave_survival,
        failure_domain=args.failure_domain,
        on_demand_floor=args.on_demand_floor,
        budget_hourly=args.budget_hourly,
        time_limit_seconds=args.time_limit,
        explain=not args.no_explain,
    )
    result = plan(
        config,
        catalog,
        fleet=fleet,
        capacity=capacity,
        options=options,
        rows=args.rows,
        dstack_config=settings,
    )
    if args.format == "json":
        print(report.render_plan_json(result, catalog))
    elif args.format == "markdown":
        print(report.render_plan_markdown(result, catalog))
    else:
        print(report.render_plan_table(result, catalog))
    if result.status == "infeasible":
        print(report.infeasible_line(result), file=sys.stderr)
        return 1
    return 0
