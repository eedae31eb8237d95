"""``planner catalog update|show|stats|import``: download, describe and convert catalogs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from planner.catalog.columns import OFFLINE_PROVIDERS
from planner.catalog.describe import CatalogSummary, catalog_stats, describe_catalog
from planner.catalog.formats import EXPORT_FORMATS, format_for_path
from planner.cli import arguments
from planner.errors import CatalogError, InputError
from planner.render.catalog import render_show, render_stats, render_update

if TYPE_CHECKING:
    from planner.catalog.table import Catalog


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "catalog",
        help="download, describe and convert offer catalogs",
        description="Download, describe and convert offer catalogs.",
    )
    actions = parser.add_subparsers(dest="catalog_command", metavar="ACTION")
    actions.required = True

    update = actions.add_parser(
        "update",
        help="download the published gpuhunt catalog into the local cache",
        description=(
            "Download the published gpuhunt catalog (v3 layout: <base>/<provider>/version, then "
            "<base>/<provider>/<version>/catalog.zip) into the cache. A provider whose cached "
            "version is current is not downloaded again. Everything is checked before it replaces "
            "the cached copy; a provider that fails keeps its previous copy, the others are still "
            "installed, and the command exits 2 naming each failure. A file with some malformed "
            "rows is kept with a warning (the rows are skipped, as gpuhunt does); one with more "
            "malformed rows than good ones is refused."
        ),
    )
    update.add_argument(
        "--base-url",
        metavar="URL",
        help="where the catalog is published (default: $PLANNER_CATALOG_URL, else gpuhunt's bucket)",
    )
    update.add_argument(
        "--provider",
        action="append",
        metavar="P",
        help="a provider to update (repeatable, or comma-separated; default: every provider "
        f"gpuhunt publishes: {', '.join(OFFLINE_PROVIDERS)})",
    )
    update.add_argument(
        "--version",
        metavar="V",
        help="this exact version for every provider (all or nothing; e.g. 20260818-42)",
    )
    _add_cache_dir(update)
    update.add_argument(
        "--timeout",
        type=arguments.positive_float,
        default=30.0,
        metavar="SECONDS",
        help="connect and read timeout per request (default: 30)",
    )
    update.add_argument(
        "--deadline",
        type=arguments.positive_float,
        metavar="SECONDS",
        help="the most one file's download may take, retries included (default: "
        "$PLANNER_DOWNLOAD_DEADLINE, else 600); a slower provider fails, the others are installed",
    )
    update.add_argument(
        "--retries",
        type=arguments.non_negative_int,
        default=3,
        metavar="N",
        help="retries on connection errors, timeouts, HTTP 5xx and 429, with backoff (default: 3)",
    )
    update.add_argument("--format", choices=("text", "json"), default="text")

    for name, summary in (
        ("show", "sources, as-of date, rows per provider and GPUs of a catalog"),
        (
            "stats",
            "rows per provider and capacity type, GPU models with price ranges, "
            "CPU-only rows, dropped rows with reasons",
        ),
    ):
        describe = actions.add_parser(
            name, help=summary, description=summary[0].upper() + summary[1:] + "."
        )
        describe.add_argument(
            "--catalog",
            action="append",
            metavar="SOURCE",
            help="a catalog (file, directory, zip, URL, 'bundled' or 'cache'; repeatable; default: bundled)",
        )
        describe.add_argument("--format", choices=("text", "json"), default="text")
        _add_cache_dir(describe)

    convert = actions.add_parser(
        "import",
        help="convert a catalog (e.g. a SkyPilot vms.csv) to gpuhunt format or Arrow",
        description=(
            "Read any catalog source planner understands and write it as a gpuhunt zip (one "
            "<provider>.csv member per provider), a directory of <provider>.csv files, or an "
            "Arrow table. The output is written atomically."
        ),
    )
    convert.add_argument("source", metavar="SOURCE")
    convert.add_argument("--output", "-o", required=True, metavar="FILE", type=Path)
    convert.add_argument(
        "--to",
        choices=EXPORT_FORMATS,
        help="output format (default: from the output name: .zip, .arrow/.feather, else a directory)",
    )
    _add_cache_dir(convert)
    return parser


def run(args: argparse.Namespace) -> int:
    command: str = args.catalog_command
    if command == "update":
        return _update(args)
    if command == "import":
        return _import(args)
    catalog = _load(args.catalog or [], args.cache_dir)
    for warning in catalog.warnings:  # dropped rows, a provider given by several sources
        print(f"warning: {warning}", file=sys.stderr)
    summary = describe_catalog(catalog) if command == "show" else catalog_stats(catalog)
    if args.format == "json":
        print(json.dumps(summary.to_json(), indent=2))
    elif isinstance(summary, CatalogSummary):
        print(render_show(summary), end="")
    else:
        print(render_stats(summary), end="")
    return 0


def _update(args: argparse.Namespace) -> int:
    from planner.catalog.download import update_catalog

    report = update_catalog(
        args.base_url,
        _split_providers(args.provider),
        args.cache_dir,
        version=args.version,
        timeout=args.timeout,
        retries=args.retries,
        deadline=args.deadline,
    )
    for repair in report.repairs:
        print(f"warning: repaired the cache: {repair}", file=sys.stderr)
    for result in report.results:
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    if args.format == "json":
        document = {
            "base_url": report.base_url,
            "cache_dir": str(report.cache_dir),
            "table": str(report.table) if report.table else None,
            "repairs": list(report.repairs),
            "providers": [
                {
                    "provider": r.provider,
                    "status": r.status,
                    "version": r.version,
                    "previous_version": r.previous,
                    "url": r.url,
                    "rows": r.rows,
                    "dropped": r.dropped,
                    "error": r.error,
                    "warnings": list(r.warnings),
                }
                for r in report.results
            ],
        }
        print(json.dumps(document, indent=2))
    else:
        print(render_update(report), end="")
    report.raise_for_failures()
    return 0


def _import(args: argparse.Namespace) -> int:
    from planner.catalog.export import check_output, export_catalog

    output: Path = args.output
    to: str = args.to or format_for_path(output)
    check_output(output, to)  # before the catalog is loaded; export_catalog checks again
    catalog = _load([args.source], args.cache_dir)
    if len(catalog) == 0:
        from planner.catalog.urls import redact_url

        raise CatalogError(f"{redact_url(args.source)}: no usable rows to import")
    try:
        providers = export_catalog(catalog, output, to)
    except OSError as error:
        raise InputError(f"{output}: cannot write: {error.strerror or error}") from error
    print(f"wrote {len(catalog):,} rows ({', '.join(providers)}) to {output} as {to}")
    for issue in catalog.issues[:5]:
        print(f"warning: skipped {issue}", file=sys.stderr)
    if len(catalog.issues) > 5:
        print(f"warning: skipped {len(catalog.issues) - 5} more malformed rows", file=sys.stderr)
    return 0


def _load(sources: list[str], cache_dir: Path | None) -> Catalog:
    from planner.catalog.table import Catalog

    return Catalog.load(*sources, cache_dir=cache_dir)


def _split_providers(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [name for value in values for name in value.split(",") if name.strip()]


def _add_cache_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="the catalog cache (default: $PLANNER_CACHE_DIR, else $XDG_CACHE_HOME/planner, "
        "else ~/.cache/planner)",
    )
