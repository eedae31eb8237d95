"""``planner offers FILE``: the catalog offers a service configuration matches, cheapest first.

stdout carries only the requested format; malformed-row warnings and the why-not explanation go
to stderr. Exit 0 with offers, 1 when nothing matches, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from planner.cli import arguments
from planner.errors import InputError

TABLE_DEFAULT_MAX_OFFERS = 50


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "offers",
        help="list the catalog offers a service configuration matches, cheapest first",
        description="List the offers that satisfy the configuration's resources, backends, "
        "regions, instance_types, spot_policy, reservation and max_price, cheapest first (equal "
        "prices keep catalog order). Exit 1 with an explanation when nothing matches.",
    )
    parser.add_argument("file", metavar="FILE", help="the service configuration (- reads stdin)")
    arguments.add_catalog_options(parser)
    arguments.add_live_options(parser)
    arguments.add_dstack_options(parser)
    parser.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format"
    )
    parser.add_argument(
        "--max-offers",
        metavar="N",
        type=arguments.positive_int,
        default=None,
        help=f"list at most N offers, or groups with --group-by (default: "
        f"{TABLE_DEFAULT_MAX_OFFERS} for the table, all for json/csv); the totals still count "
        "every match",
    )
    parser.add_argument(
        "--group-by",
        metavar="KEYS",
        action="append",
        default=[],
        help="group offers by gpu, backend, region, count (comma-separated; must include gpu; "
        "region needs backend), like `dstack offer --group-by`",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    # Lazy for start-up time: only the command that runs pays for the catalog, pydantic and pandas.
    from planner.catalog import Catalog
    from planner.config import load_config
    from planner.match import find_group_offers
    from planner.match.dstack import server_settings
    from planner.match.gpu_default import gpu_count_default
    from planner.match.group_offers import has_groups
    from planner.match.grouping import parse_group_by
    from planner.render import offers as report
    from planner.render.gpu_default import gpu_count_default_line

    group_by = parse_group_by(args.group_by) if args.group_by else ()
    if group_by and args.format == "csv":
        raise InputError("--group-by: the csv format lists offers; use table or json for groups")
    if args.rows and args.dstack_config is not None:
        raise InputError("--rows lists catalog rows; --dstack-config needs dstack-level offers")
    # Input files are read before the catalog, so a bad file fails fast (exit 2).
    settings = server_settings(args.dstack_config)
    config = load_config(args.file)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    catalog = Catalog.load(
        *arguments.catalog_sources(args), strict=args.strict, backends_file=args.backends
    )
    _warn_dropped_rows(catalog)

    limit = args.max_offers
    if limit is None and args.format == "table":
        limit = TABLE_DEFAULT_MAX_OFFERS
    replica_groups = find_group_offers(config, catalog, rows=args.rows, dstack_config=settings)
    if has_groups([group.group for group in replica_groups]):
        return _run_groups(args, replica_groups, catalog, limit, group_by)

    # Without replica groups the one unnamed group's offers are find_offers(config, catalog).
    offers = replica_groups[0].offers
    gpu_default = gpu_count_default(offers.requirements, catalog)

    if group_by:
        groups = offers.grouped(group_by)
        if args.format == "json":
            document = report.offers_document(offers, 0)
            del document["offers"]
            document["group_by"] = list(group_by)
            document["total_groups"] = len(groups)
            document["groups"] = groups[:limit]
            print(json.dumps(document, indent=2))
        elif offers.total:
            # Say how many groups there are: the table's default limit must not hide any silently.
            shown = groups[:limit]
            if shown:
                print(report.render_groups_table(shown))
                print()
            offers_text = f"{offers.total} offer{'s' if offers.total != 1 else ''}"
            print(f"shown {len(shown)} of {len(groups)} groups ({offers_text})")
            for line in report.catalog_lines(catalog):
                print(line)
    elif args.format == "json":
        document = report.offers_document(offers, limit)
        document["gpu_count_default"] = gpu_default.to_json() if gpu_default else None
        print(json.dumps(document, indent=2))
    elif args.format == "csv":
        sys.stdout.write(report.render_offers_csv(offers, limit))
    elif offers.total:
        print(report.render_offers_table(offers, limit))

    if gpu_default is not None and args.format != "json":
        # Beside the table on stdout; never inside a machine format.
        table = args.format == "table" and offers.total > 0
        print(gpu_count_default_line(gpu_default), file=sys.stdout if table else sys.stderr)
    if args.format != "json":
        for line in report.note_lines(offers):
            print(f"note: {line}", file=sys.stderr)
    if offers.total == 0:
        print(report.why_not_text(offers), file=sys.stderr)
        return 1
    return 0


def _run_groups(
    args: argparse.Namespace,
    groups: Any,
    catalog: Any,
    limit: int | None,
    group_by: tuple[str, ...],
) -> int:
    """A service with replica groups: a section (table) or a ``group`` field (JSON, CSV) per
    group; exit 1 when some group has no offer (the service cannot run without it)."""
    from planner.match.gpu_default import gpu_count_default
    from planner.render import group_offers as report
    from planner.render.gpu_default import gpu_count_default_line

    # Counted on the loaded catalog, as for a service without groups.
    defaults = [gpu_count_default(group.group.requirements, catalog) for group in groups]
    if args.format == "json":
        print(report.render_group_offers_json(groups, limit, group_by, defaults))
    elif args.format == "csv":
        sys.stdout.write(report.render_group_offers_csv(groups, limit))
        for group, default in zip(groups, defaults, strict=True):
            if default is not None:
                print(gpu_count_default_line(default, group.name), file=sys.stderr)
    else:
        print(report.render_group_offers_table(groups, limit, group_by, defaults))
    why_not = report.group_why_not_text(groups)
    if why_not:
        print(why_not, file=sys.stderr)
        return 1
    return 0


def _warn_dropped_rows(catalog: Any) -> None:
    """The catalog's own summaries of malformed rows it left out (one line per file)."""
    for warning in catalog.warnings:
        print(f"warning: {warning}", file=sys.stderr)
