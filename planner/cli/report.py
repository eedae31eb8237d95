"""``planner report PATH...``: a cost report for CI over service files, with a baseline diff and gates.

stdout carries only the requested format; notes (skipped files) and warnings go to stderr. Exit 0
when every gate passes, 1 when a budget gate fails or a service has no feasible plan (named in
the output), 2 on bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from planner.cli import arguments
from planner.errors import InputError, Problem

# Reproducible builds' convention: a fixed time for generated output (seconds since the epoch).
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="cost report for CI over service files: diff against a baseline, budget gates",
        description="Plan every service file (files, directories, globs) and report the hourly "
        "and monthly cost, the placements and, for a replica range, the cost at min and at "
        "max, with a total. With --baseline, what was added, removed or changed, and whether "
        "the configuration or the catalog's prices moved it. Exit 1 when a gate fails or a "
        "service has no feasible plan.",
    )
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        help="service files, directories (searched recursively; non-service files are skipped "
        "with a note) or globs",
    )
    arguments.add_catalog_options(parser)
    parser.add_argument(
        "--fleet", metavar="FILE", help="existing instances (YAML/JSON inventory), for reuse"
    )
    parser.add_argument(
        "--capacity",
        metavar="FILE",
        help="obtainable counts, spot interruption buckets and reservations (CSV or YAML)",
    )
    parser.add_argument(
        "--baseline",
        metavar="FILE_OR_DIR",
        help="a previous JSON report, or a directory of service files (e.g. the target branch)",
    )
    parser.add_argument(
        "--baseline-catalog",
        metavar="SOURCE",
        action="append",
        default=[],
        help="the catalog the baseline was priced on (repeatable, as --catalog): prices a "
        "directory baseline, and splits a change of both configuration and prices",
    )
    parser.add_argument(
        "--budget-hourly",
        metavar="X",
        type=arguments.non_negative_float,
        default=None,
        help="exit 1 when the total exceeds X USD per hour",
    )
    parser.add_argument(
        "--budget-monthly",
        metavar="X",
        type=arguments.non_negative_float,
        default=None,
        help="exit 1 when the total exceeds X USD per month (730 hours)",
    )
    parser.add_argument(
        "--max-increase",
        metavar="X|P%",
        default=None,
        help="exit 1 when the total rises over the baseline by more than X USD per month or P "
        "percent (needs --baseline)",
    )
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="per-service limits (YAML: services: {KEY_OR_NAME: {budget_hourly, budget_monthly, "
        "max_increase}}, total: {...})",
    )
    parser.add_argument(
        "--traffic",
        metavar="CSV",
        help="a request-rate trace (timestamp,rps[,service]): replay each scaled service's "
        "`scaling` rule over it and report the expected, P95 and worst-case monthly cost and "
        "the replica-hours by capacity type (budget gates stay on the plan's cost)",
    )
    parser.add_argument(
        "--plot-dir",
        metavar="DIR",
        help="with --traffic: write a PNG of traffic, replicas and cost per scaled service into "
        "DIR, linked from the Markdown (needs the [plot] extra: matplotlib)",
    )
    parser.add_argument(
        "--time",
        metavar="ISO",
        default=None,
        help="the report time to record (ISO 8601; default: $SOURCE_DATE_EPOCH if set, else now)",
    )
    arguments.add_time_limit(parser)
    parser.add_argument(
        "--format",
        choices=("markdown", "json", "table"),
        default="table",
        help="output format (markdown: a pull-request comment)",
    )
    arguments.add_dstack_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    # Imported here, lazily for start-up time (see planner/cli/__init__.py).
    from planner.catalog import Catalog
    from planner.cost_report import report
    from planner.placement import PlanOptions
    from planner.render import cost_report as render
    from planner.render.report_plots import plot_report, require_matplotlib

    moment = _report_time(args.time, os.environ.get(SOURCE_DATE_EPOCH))
    if args.plot_dir is not None:
        if args.traffic is None:
            raise InputError(Problem("--plot-dir plots a traffic replay: add --traffic"))
        require_matplotlib()  # before any planning: a missing extra fails fast

    def load_catalog(sources: list[str]) -> Catalog:
        catalog = Catalog.load(*sources, strict=args.strict)
        for warning in catalog.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        return catalog

    result = report(
        args.paths,
        # Loaded by the library once every input file has been read: a broken file fails fast.
        catalog=lambda: load_catalog(args.catalog),
        fleet=args.fleet,
        capacity=args.capacity,
        options=PlanOptions(explain=False, time_limit_seconds=args.time_limit),
        baseline=args.baseline,
        baseline_catalog=(lambda: load_catalog(args.baseline_catalog))
        if args.baseline_catalog
        else None,
        policy=args.policy,
        budget_hourly=args.budget_hourly,
        budget_monthly=args.budget_monthly,
        max_increase=args.max_increase,
        traffic=args.traffic,
        generated_at=moment,
        rows=args.rows,
        dstack_config=args.dstack_config,
    )
    for skipped in result.skipped:
        print(f"note: skipped {skipped.file}: {skipped.reason}", file=sys.stderr)
    plots = plot_report(result, args.plot_dir) if args.plot_dir is not None else {}
    if args.format == "json":
        print(render.render_report_json(result))
    elif args.format == "markdown":
        links = {key: _link(path) for key, path in plots.items()}
        print(render.render_report_markdown(result, links), end="")
    else:
        print(render.render_report_table(result))
    return 0 if result.passed else 1


def _link(path: Path) -> str:
    """A plot's link as the Markdown gives it: relative to the working directory, with slashes."""
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows: no relative path exists
        return path.as_posix()


def _report_time(given: str | None, epoch: str | None) -> datetime | None:
    """--time wins over $SOURCE_DATE_EPOCH; neither: None (the library takes now)."""
    if given is not None:
        try:
            moment = datetime.fromisoformat(given)
        except ValueError:
            raise InputError(
                Problem(
                    f"expected an ISO 8601 time such as 2026-01-31T12:00:00Z, got {given!r}",
                    path="--time",
                )
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise InputError(
                Problem(f"expected whole seconds since 1970, got {epoch!r}", path=SOURCE_DATE_EPOCH)
            ) from None
    return None
