"""Vectorized parsing of text columns with per-row defect tracking.

Each parser accepts exactly what the Python built-in it mirrors accepts (``int()``, ``float()``),
so a gpuhunt row that loads in gpuhunt loads here with the same value; anything else marks the
row with a reason instead of failing the file. Non-finite and negative numbers are defects too:
no catalog quantity can be either, and gpuhunt would carry them into wrong comparisons. So are
absurdly large ones (``Limit``): ``MemoryGiB 1.7e308`` is not a machine with infinite memory but
a typo, a unit mix-up or a hostile file, and it would overflow to infinity in the first unit
conversion (docs/catalog-format.md lists the limits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from planner.catalog.provenance import RowIssue
from planner.catalog.row_rules import MAX_COUNT, number_defects, too_large

# Python's int() and float() literal syntax (underscores between digits, surrounding spaces).
_DIGITS = r"\d+(?:_\d+)*"
INTEGER_SYNTAX = rf"^\s*[+-]?{_DIGITS}\s*$"
FLOAT_SYNTAX = (
    rf"^\s*[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?\s*$"
)
NON_FINITE_SYNTAX = r"(?i)^\s*[+-]?(?:inf|infinity|nan)\s*$"
# int32 holds every integer of up to 9 digits; longer ones are checked after an int64 cast.
_MAX_INT_CHARS = 18

Text: TypeAlias = pa.ChunkedArray | pa.Array


def as_numpy_bool(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)


@dataclass
class RowDefects:
    """The first defect of each row, in check order (the order gpuhunt raises in)."""

    source: str
    rows: int
    first: np.ndarray = field(init=False)
    reasons: list[tuple[str, str, Text | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.first = np.full(self.rows, -1, dtype=np.int32)

    def mark(self, column: str, reason: str, bad: np.ndarray, text: Text | None = None) -> None:
        """Record ``reason`` for rows in ``bad`` that have no earlier defect."""
        fresh = bad & (self.first < 0)
        if fresh.any():
            self.first[fresh] = len(self.reasons)
        self.reasons.append((column, reason, text))

    @property
    def good(self) -> np.ndarray:
        return self.first < 0

    def issues(self, lines: np.ndarray) -> list[RowIssue]:
        """RowIssues of the defective rows; ``lines`` are their line numbers (-1: unknown)."""
        bad_rows = np.flatnonzero(self.first >= 0)
        codes = self.first[bad_rows]
        values: list[str | None] = [None] * len(bad_rows)
        for code, (_, _, text) in enumerate(self.reasons):
            positions = np.flatnonzero(codes == code)
            if text is None or len(positions) == 0:
                continue
            taken = text.take(pa.array(bad_rows[positions])).to_pylist()
            for position, value in zip(positions.tolist(), taken, strict=True):
                values[position] = value
        return [
            RowIssue(
                source=self.source,
                line=int(line) if line >= 0 else None,
                column=self.reasons[code][0] or None,
                reason=self.reasons[code][1],
                value=value,
            )
            for code, line, value in zip(codes.tolist(), lines.tolist(), values, strict=True)
        ]


def is_empty(text: Text) -> np.ndarray:
    return as_numpy_bool(pc.equal(text, ""))


def parse_integer(
    text: Text,
    column: str,
    defects: RowDefects,
    *,
    required: bool = True,
    maximum: int = MAX_COUNT,
) -> np.ndarray:
    """int32 values as Python's ``int()`` reads them, at most ``maximum``; defective or empty rows
    hold 0."""
    empty = is_empty(text)
    if required:
        defects.mark(column, f"{column} is empty", empty)
    values = _fast_cast(text, empty, pa.int64())
    # Arrow also reads hexadecimal ("0x1F"), which int() refuses.
    if values is None or as_numpy_bool(pc.match_substring(text, "x", ignore_case=True)).any():
        syntax_ok = as_numpy_bool(pc.match_substring_regex(text, INTEGER_SYNTAX)) | empty
        defects.mark(column, f"{column} is not an integer", ~syntax_ok, text)
        cleaned = _cleaned(text)
        too_long = as_numpy_bool(pc.greater(pc.utf8_length(cleaned), _MAX_INT_CHARS))
        castable = syntax_ok & ~empty & ~too_long
        safe = pc.if_else(pa.array(castable), cleaned, "0")
        values = np.asarray(pc.cast(safe, pa.int64()).to_numpy(zero_copy_only=False))
    else:
        too_long = np.zeros(len(values), dtype=bool)
        castable = ~empty
    for reason, bad in number_defects(column, values, maximum):
        defects.mark(column, reason, castable & bad, text)
    # A literal too long for int64 was never cast: too large whatever it says.
    defects.mark(column, too_large(column), too_long, text)
    return np.where(castable & (values >= 0) & (values <= maximum), values, 0).astype(np.int32)


def parse_float(
    text: Text, column: str, defects: RowDefects, *, maximum: float, required: bool = True
) -> np.ndarray:
    """float64 values as Python's ``float()`` reads them, from 0 to ``maximum``; empty and
    defective rows hold NaN (so no arithmetic on them overflows)."""
    empty = is_empty(text)
    if required:
        defects.mark(column, f"{column} is empty", empty)
    values = _fast_cast(text, empty, pa.float64())
    if values is None:
        non_finite_word = as_numpy_bool(pc.match_substring_regex(text, NON_FINITE_SYNTAX))
        syntax_ok = as_numpy_bool(pc.match_substring_regex(text, FLOAT_SYNTAX))
        defects.mark(
            column, f"{column} is not a number", ~(syntax_ok | non_finite_word | empty), text
        )
        cleaned = _cleaned(text)
        safe = pc.if_else(pa.array(syntax_ok | non_finite_word), cleaned, "nan")
        values = np.asarray(pc.cast(safe, pa.float64()).to_numpy(zero_copy_only=False))
        parsed = syntax_ok | non_finite_word
    else:
        parsed = ~empty
    defective = np.zeros(len(values), dtype=bool)
    for reason, bad in number_defects(column, values, maximum):
        defects.mark(column, reason, parsed & bad, text)
        defective |= bad
    # Defective rows hold NaN, so no arithmetic on the values left overflows.
    return np.where(parsed & ~defective, values, np.nan)


def _cleaned(text: Text) -> Text:
    """The literal as Arrow parses it: no surrounding space, no underscores, no leading "+"."""
    stripped = pc.replace_substring(pc.utf8_trim_whitespace(text), "_", "")
    return pc.replace_substring_regex(stripped, r"^\+", "")


def _fast_cast(text: Text, empty: np.ndarray, target: pa.DataType) -> np.ndarray | None:
    """Arrow's cast of the non-empty values when every one parses (the usual case), else None.

    Arrow's number syntax is a subset of Python's (bar hexadecimal integers), so success means
    every value is valid; on failure the caller's exact, slower checks decide row by row.
    """
    nullable = (
        pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text) if empty.any() else text
    )
    try:
        cast = pc.cast(nullable, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return np.asarray(
        cast.to_numpy(zero_copy_only=False), dtype=np.float64 if target == pa.float64() else None
    )


def parse_bool(text: Text, column: str, defects: RowDefects) -> np.ndarray:
    """True/False in any letter case (gpuhunt's ``_load_bool``)."""
    lowered = pc.utf8_lower(text)
    defects.mark(column, f"{column} is empty", is_empty(text))
    is_true = as_numpy_bool(pc.equal(lowered, "true"))
    is_false = as_numpy_bool(pc.equal(lowered, "false"))
    defects.mark(column, f"{column} is not True or False", ~(is_true | is_false), text)
    return is_true


def null_where(text: Text, condition: np.ndarray) -> pa.Array:
    """``text`` with nulls where ``condition`` holds (our NaN for unknown strings)."""
    if not condition.any():
        return text
    return pc.if_else(pa.array(condition), pa.scalar(None, pa.string()), text)
