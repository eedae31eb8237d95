"""USD amounts of a report: exact decimals, so every figure printed or written adds up.

A catalog price has at most six decimals; an hourly amount is kept at that precision and a month
is ``HOURS_PER_MONTH`` (730) × the hourly amount *as written*, so a reader multiplying the JSON's
hourly figure by 730 gets the JSON's monthly figure exactly.
"""

from __future__ import annotations

from decimal import Decimal

from planner.placement import HOURS_PER_MONTH

HOURLY_QUANTUM = Decimal("0.000001")
PERCENT_QUANTUM = Decimal("0.01")
ZERO = Decimal("0.000000")  # at the hourly precision, so sums and differences keep six decimals


def hourly_usd(value: float | None) -> Decimal | None:
    """A float hourly amount from the planner → six-decimal USD (float noise dropped)."""
    if value is None:
        return None
    return Decimal(repr(round(value, 6))).quantize(HOURLY_QUANTUM) + 0  # + 0: -0 → 0


def monthly_usd(hourly: Decimal | None) -> Decimal | None:
    return None if hourly is None else (hourly * HOURS_PER_MONTH).quantize(HOURLY_QUANTUM)


def percent_change(old: Decimal | None, new: Decimal | None) -> Decimal | None:
    """(new − old) / old in percent, two decimals; None when there is no old amount to divide by."""
    if old is None or new is None or old == 0:
        return None
    return ((new - old) * 100 / old).quantize(PERCENT_QUANTUM)


def usd_text(value: Decimal | None) -> str | None:
    """The JSON form: a decimal string (never a float), or null."""
    return None if value is None else format(value, "f")


def parse_usd(text: object, *, what: str) -> Decimal | None:
    """A decimal string read back from a JSON report; ``ValueError`` naming ``what`` otherwise."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"{what}: expected a decimal string, got {type(text).__name__}")
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise ValueError(f"{what}: expected a decimal string, got {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"{what}: expected a finite amount, got {text!r}")
    return value
