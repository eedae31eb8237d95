"""``planner.catalog.catalog.Catalog``: the same class as ``planner.catalog.Catalog``.

The class lives in ``planner.catalog.table`` (with its Arrow cache); some modules import it by
this name.
"""

from planner.catalog.table import Catalog

__all__ = ["Catalog"]
