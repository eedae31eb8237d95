"""What the reference page's GPU-count default costs: offers that "exactly one GPU" leaves out.

The reference page reads `gpu: H100` as exactly one GPU; dstack 0.22.5 reads it as one or more.
planner follows the page, and counts the offers dstack's reading would keep that the page's
excludes, so the output can say so (docs/configuration.md §5.4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from planner.match.masks import combined_mask
from planner.match.view import CatalogView
from planner.requirements import Requirements

if TYPE_CHECKING:
    from planner.catalog import Catalog


@dataclass(frozen=True)
class GpuCountDefault:
    """Offers the one-GPU default excluded that "one or more" GPUs would keep."""

    excluded: int  # catalog rows matching with a count of 1.. but not with exactly 1
    cheapest_price: float | None  # the cheapest of them, USD per hour
    spelling: str  # the GPU spec that gets them too, e.g. "H100:1.."

    def to_json(self) -> dict[str, object]:
        return {
            "excluded": self.excluded,
            "cheapest_price": self.cheapest_price,
            "spelling": self.spelling,
        }


def gpu_count_default(requirements: Requirements, catalog: Catalog) -> GpuCountDefault | None:
    """The offers the defaulted count of one GPU removed; None when it removed none (or when the
    count was written)."""
    if not requirements.gpu_count_defaulted:
        return None
    view = CatalogView(catalog)
    strict = combined_mask(requirements, view)
    relaxed = combined_mask(replace(requirements, max_gpu_count=None), view)
    lost = relaxed & ~strict
    excluded = int(np.count_nonzero(lost))
    if excluded == 0:
        return None
    # The catalog is sorted by price: the first lost row is the cheapest.
    first = int(np.argmax(lost))
    price = float(catalog.array("price")[first])
    return GpuCountDefault(excluded, price, gpu_spelling(requirements))


def gpu_spelling(requirements: Requirements) -> str:
    """The GPU spec string of ``requirements``' GPU with the count `1..` (dstack's reading)."""
    r = requirements
    tokens: list[str] = []
    if r.gpu_names:
        tokens.append(",".join(r.gpu_names))
    elif r.gpu_vendor:
        tokens.append(r.gpu_vendor)
    if r.min_gpu_memory_gb is not None or r.max_gpu_memory_gb is not None:
        low, high = r.min_gpu_memory_gb, r.max_gpu_memory_gb
        if low == high:
            tokens.append(f"{_gb(low)}GB")
        else:
            low_text = f"{_gb(low)}GB" if low is not None else ""
            high_text = f"{_gb(high)}GB" if high is not None else ""
            tokens.append(f"{low_text}..{high_text}")
    tokens.append(f"{r.min_gpu_count or 1}..")
    return ":".join(tokens)


def _gb(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)
