"""Notes on dstack-level offers: when dstack 0.22.5 drops matching offers by accident.

The table keeps a row that GCP's zone merge loses although it differs from the survivor (another
GPU count, or the on-demand twin of a DWS row), with its reason in ``hidden``. Such a row is never
offered (dstack cannot provision it), but when it would have matched the request, the output says
so: the user learns why the 2×T4 variant is missing (docs/dstack-offers.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from planner.match.dstack.pipeline import HIDDEN_DWS_TWIN, HIDDEN_GPU_COUNT_MERGE
from planner.match.view import CatalogView

if TYPE_CHECKING:
    from planner.catalog import Catalog

_EXAMPLES: Final = 3

_REASONS: Final = {
    HIDDEN_GPU_COUNT_MERGE: (
        "gcp_gpu_count_merge",
        "dstack 0.22.5 merges a GCP region's zone rows by (instance, spot, GPU name, region), "
        "ignoring the GPU count: only the cheapest GPU count of such an instance type is offered",
    ),
    HIDDEN_DWS_TWIN: (
        "gcp_dws_twin",
        "dstack 0.22.5's GCP zone merge keeps the cheaper DWS calendar-mode row of an instance "
        "type and then drops it without a reservation, so the on-demand offer is not shown either",
    ),
}


@dataclass(frozen=True)
class DstackNote:
    """Matching offers dstack 0.22.5 does not show, and why."""

    kind: str
    message: str
    hidden: int  # matching offers lost
    examples: tuple[str, ...]  # "n1-standard-4 2xT4 us-central1 on-demand"

    def text(self) -> str:
        shown = ", ".join(self.examples)
        return f"{self.hidden} matching offer{'s' if self.hidden != 1 else ''} not offered ({shown}): {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "message": self.message,
            "hidden": self.hidden,
            "examples": list(self.examples),
        }


def notes_for(table: Catalog, passing: np.ndarray) -> tuple[DstackNote, ...]:
    """One note per accidental drop whose rows pass every other requirement (``passing``)."""
    hidden = table.array("hidden")
    view = CatalogView(table)
    notes = []
    for code, (kind, message) in _REASONS.items():
        rows = np.flatnonzero(passing & (hidden == code))
        if not len(rows):
            continue
        examples = rows[:_EXAMPLES]
        instances = view.strings("instance_type", examples)
        regions = view.strings("region", examples)
        names = view.strings("gpu_name", examples)
        counts = table.array("gpu_count")[examples].tolist()
        spots = table.array("spot")[examples].tolist()
        texts = tuple(
            f"{instance} {count}x{name} {region} {'spot' if spot else 'on-demand'}"
            for instance, count, name, region, spot in zip(
                instances, counts, names, regions, spots, strict=True
            )
        )
        notes.append(DstackNote(kind, message, len(rows), texts))
    return tuple(notes)
