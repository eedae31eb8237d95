"""``planner plan FILE``: the cheapest placement of a service's replicas, solved with CP-SAT.

stdout carries only the requested format; warnings go to stderr. Exit 0 with a plan, 1 when the
plan is infeasible (the reason is in the output), 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from planner.cli import arguments

# Mirrors planner.placement.replacement (not imported: the CLI loads the library lazily).
DEFAULT_REPLACEMENT_MINUTES = 10.0
DEFAULT_INTERRUPTION_RATE = 0.30


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
        help="the hedge: expected ready replicas ≥ F × replicas, a spot replica counting "
        "1 − interruption rate × replacement time / month with retry on interruption "
        "(default 1.0)",
    )
    parser.add_argument(
        "--replacement-minutes",
        metavar="M",
        type=arguments.non_negative_float,
        default=DEFAULT_REPLACEMENT_MINUTES,
        help="with retry on interruption: minutes until an interrupted spot replica is replaced "
        f"and serving again (default {DEFAULT_REPLACEMENT_MINUTES:g})",
    )
    parser.add_argument(
        "--interruption-rate",
        metavar="R",
        type=arguments.probability,
        default=DEFAULT_INTERRUPTION_RATE,
        help="monthly interruption rate assumed for spot pools the capacity file gives none for "
        f"(default {DEFAULT_INTERRUPTION_RATE:g}, the worst AWS Spot Advisor bucket)",
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
        "replica target (on by default when retrying on interruption with spot allowed); the "
        "default spread then applies",
    )
    parser.add_argument(
        "--no-hedge",
        action="store_true",
        help="do not over-provision spot so that the expected surviving replicas reach the "
        "availability target (on by default whenever spot is allowed)",
    )
    parser.add_argument(
        "--no-default-spread",
        action="store_true",
        help="without wave survival, do not cap the spot replicas per failure domain at half "
        "the replicas (the default spread)",
    )
    parser.add_argument(
        "--no-capacity-limits",
        action="store_true",
        help="ignore the obtainable counts of catalog offers (capacity file limits, one per "
        "marketplace listing); reservations and idle fleet instances keep their counts",
    )
    parser.add_argument(
        "--no-group-survival",
        action="store_true",
        help="replica groups: do not require that every group (the interchangeable rps groups "
        "as one) keeps a replica outside each failure domain (on by default, best-effort)",
    )
    parser.add_argument(
        "--failure-domain",
        choices=("region", "instance-type"),
        default="region",
        help="one failure domain is a whole (backend, region), a zone counting in its region "
        "(default: a region-wide preemption wave is one wave) or, finer, one spot market "
        "(backend, location, instance type)",
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
    arguments.add_time_limit(parser, "; hitting it gives status 'feasible'")
    parser.add_argument(
        "--rps",
        metavar="N",
        type=arguments.positive_float,
        default=None,
        help="size the replica groups that scale on requests per second (each within its "
        "count range; a group with a router keeps its count) so their scaling targets add up "
        "to at least N at the lowest cost, and print the cost over the traffic level",
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
    from planner.match.gpu_default import gpu_count_default
    from planner.placement import PlanOptions, load_capacity, load_fleet, plan
    from planner.placement.relaxations import SWITCHES, switched_off
    from planner.render import plan as report
    from planner.render.gpu_default import gpu_count_default_line
    from planner.requirements import group_requirements

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
        failure_domain=args.failure_domain,
        replacement_minutes=args.replacement_minutes,
        interruption_rate=args.interruption_rate,
        on_demand_floor=args.on_demand_floor,
        budget_hourly=args.budget_hourly,
        time_limit_seconds=args.time_limit,
        explain=not args.no_explain,
        rps=args.rps,
    )
    # --no-wave-survival, --no-hedge, ...: the same options explain relaxes with.
    options = switched_off(
        options, [switch.flag for switch in SWITCHES if getattr(args, _dest(switch.flag))]
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
    groups = group_requirements(config)
    defaults = [gpu_count_default(group.requirements, catalog) for group in groups]
    if result.groups:
        from planner.render import group_plan

        if args.format == "json":
            print(group_plan.render_group_plan_json(result, catalog, defaults))
        elif args.format == "markdown":
            print(group_plan.render_group_plan_markdown(result, catalog))
        else:
            print(group_plan.render_group_plan_table(result, catalog))
    elif args.format == "json":
        print(report.render_plan_json(result, catalog))
    elif args.format == "markdown":
        print(report.render_plan_markdown(result, catalog))
    else:
        print(report.render_plan_table(result, catalog))
    for group, gpu_default in zip(groups, defaults, strict=True):
        if gpu_default is not None:
            line = gpu_count_default_line(gpu_default, group.name)
            print(line, file=sys.stderr if args.format == "json" else sys.stdout)
    if result.status == "infeasible":
        print(report.infeasible_line(result), file=sys.stderr)
        return 1
    return 0


def _dest(flag: str) -> str:
    """The argparse attribute of ``flag``."""
    return flag.lstrip("-").replace("-", "_")
