"""Argument types and options shared by the commands, so every flag checks its value the same way."""

from __future__ import annotations

import argparse
import math


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def fraction(text: str) -> float:
    value = number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}")
    return value


def probability(text: str) -> float:
    value = number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {text!r}")
    return value


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 0, got {text!r}")
    return value


CATALOG_HELP = (
    "a gpuhunt zip, directory of <provider>.csv or CSV, a SkyPilot vms.csv, an http(s):// URL, "
    "'bundled', 'cache' or live:NAME (a backend of --backends; repeatable; default: the bundled "
    "snapshot)"
)


def add_time_limit(parser: argparse.ArgumentParser, consequence: str = "") -> None:
    """--time-limit S, as `plan`, `report` and `apply` take it (``consequence``: appended help)."""
    parser.add_argument(
        "--time-limit",
        metavar="S",
        type=positive_float,
        default=10.0,
        help=f"CP-SAT time limit per solve in seconds (default 10){consequence}",
    )


def add_dstack_options(parser: argparse.ArgumentParser) -> None:
    """--rows and --dstack-config, as `offers` and `plan` take them."""
    parser.add_argument(
        "--rows",
        action="store_true",
        help="answer with the catalog rows themselves (gpuhunt's query), not the offers a dstack "
        "server shows (zones merged into regions, backend rules; the default)",
    )
    parser.add_argument(
        "--dstack-config",
        metavar="PATH",
        default=None,
        help="a dstack server config.yml: only its backends answer, with their regions and "
        "options (credentials are ignored); default: every backend with dstack's defaults",
    )


def add_catalog_options(parser: argparse.ArgumentParser) -> None:
    """--catalog SOURCE (repeatable) and --strict, as `offers` and `plan` take them."""
    parser.add_argument(
        "--catalog", metavar="SOURCE", action="append", default=[], help=CATALOG_HELP
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 2) on a malformed catalog row instead of dropping it with a warning",
    )


def add_live_options(parser: argparse.ArgumentParser) -> None:
    """--live and --backends FILE: offers listed now by the backend plugins of a backends file."""
    parser.add_argument(
        "--live",
        action="store_true",
        help="list the offers the backends of --backends offer now (each a catalog source "
        "live:NAME) instead of the bundled snapshot; --catalog sources are added to them",
    )
    parser.add_argument(
        "--backends",
        metavar="FILE",
        default=None,
        help="the backends file (named backends, their plugin type and settings) that --live "
        "and live:NAME catalog sources read",
    )


def catalog_sources(args: argparse.Namespace) -> list[str]:
    """The catalog sources of --catalog and --live (checked: --live needs --backends)."""
    from planner.errors import InputError

    sources = list(args.catalog)
    if getattr(args, "live", False):
        if args.backends is None:
            raise InputError("--live needs --backends FILE (the backends whose offers to list)")
        # Lazy: the backends package is read only when live offers are asked for.
        from planner.backends.live import live_sources

        sources += [source for source in live_sources(args.backends) if source not in sources]
    return sources
