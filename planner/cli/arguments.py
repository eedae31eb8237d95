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
    "'bundled' or 'cache' (repeatable; default: the bundled snapshot)"
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
