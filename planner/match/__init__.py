"""The vectorized matcher: ``Requirements x Catalog -> Offers`` with boolean masks over numpy arrays."""

from __future__ import annotations

from planner.match.find import find_offers
from planner.match.offers import Offers

__all__ = ["Offers", "find_offers"]
