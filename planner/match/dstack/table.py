"""``DstackTable``: a catalog whose rows are dstack-level offers (one per backend, region, type).

The columns of any catalog (``region`` holds the dstack region, ``price`` the price dstack shows,
``memory_gb``/``gpu_memory_gb`` the MiB-rounded values dstack compares, ``disk_gb`` a fixed disk
or NaN for a configurable one) plus:

- ``backend`` (category): the dstack backend that shows the offer;
- ``availability_zones`` (category, null: none known): space-separated zones, as dstack lists them;
- ``disk_min_gb``/``disk_max_gb``: a configurable disk's range (NaN: no bound / fixed disk);
- ``dws`` (bool): a GCP DWS calendar-mode row (reserved capacity only);
- ``hidden`` (int8): 0 shown; otherwise why dstack 0.22.5 drops the row by accident (``notes.py``);
- ``source_row``: the catalog row the offer comes from; ``backend_rank``: the backend's position.

Rows are in dstack's merge order: price, then backend rank, then catalog order.
"""

from __future__ import annotations

from typing import Final

from planner.catalog import Catalog

EXTRA_CATEGORY_COLUMNS: Final = ("backend", "availability_zones")


class DstackTable(Catalog):
    """A Catalog of dstack-level offers (see the module docstring for the extra columns)."""

    def categories(self, name: str) -> tuple[str, ...]:
        if name in EXTRA_CATEGORY_COLUMNS:
            chunk = self.arrow.column(name).chunk(0)
            return tuple(str(value) for value in chunk.dictionary.to_pylist())
        return super().categories(name)
