"""Which idle fleet instances a service (or one of its replica groups) may reuse.

Fleet instances are matched as catalog rows, with the same offer matcher as the catalog, and
``fleets:`` keeps only the instances of the fleets it names (docs/planning.md, fleets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from planner.catalog import Catalog
from planner.match import find_offers
from planner.placement.inputs import FleetInventory
from planner.placement.pools import fleet_frame

if TYPE_CHECKING:
    from planner.config.normalized import NormalizedService
    from planner.requirements import Requirements

# Columns of ``fleet_frame`` that are not catalog columns.
FLEET_COLUMNS = ("fleet_count", "fleet_source", "fleet_name")


def matched_fleet(
    fleet: FleetInventory,
    config: NormalizedService | Requirements,
    fleets: tuple[str, ...] | None,
) -> pd.DataFrame:
    """The fleet's instance records that satisfy ``config``, via the offer matcher.

    ``fleets``: the names ``fleets:`` allows (``None``: any fleet; an instance of no named fleet
    is then excluded)."""
    instances = fleet.instances
    if fleets is not None:
        # `fleets:` (dstack 0.22.5): only instances of the named fleets are reused.
        named = {name.lower() for name in fleets}
        instances = tuple(
            instance
            for instance in instances
            if instance.fleet is not None and instance.fleet.lower() in named
        )
    frame = fleet_frame(instances)
    if frame.empty:
        return frame
    # A stable price sort first, so the catalog's row order (row_id) is this frame's order.
    frame = frame.sort_values("price", kind="stable").reset_index(drop=True)
    fleet_catalog = Catalog.from_frame(frame.drop(columns=list(FLEET_COLUMNS)))
    matched = find_offers(config, fleet_catalog, rows=True)  # fleet instances are rows
    row_ids = matched.frame["row_id"].to_numpy()
    return frame.iloc[row_ids].reset_index(drop=True)
