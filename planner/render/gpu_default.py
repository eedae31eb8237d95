"""The one line that says what the reference page's GPU-count default left out."""

from __future__ import annotations

from planner.match.gpu_default import GpuCountDefault
from planner.render.offers import format_price


def gpu_count_default_line(note: GpuCountDefault, group: str | None = None) -> str:
    """E.g. "note: a GPU without a count means exactly one (the reference page's default): 42
    offers with more GPUs are left out (from $3.5/h), which dstack 0.22.5 would keep; write
    `gpu: H100:1..` to include them"."""
    where = f"replica group {group!r}: " if group is not None else ""
    offers = f"{note.excluded} offer{'s' if note.excluded != 1 else ''}"
    cheapest = (
        f" (from {format_price(note.cheapest_price)}/h)" if note.cheapest_price is not None else ""
    )
    return (
        f"note: {where}a GPU without a count means exactly one (the reference page's default): "
        f"{offers} with more GPUs are left out{cheapest}, which dstack 0.22.5 (one or more) "
        f"would keep; write `gpu: {note.spelling}` to include them"
    )
