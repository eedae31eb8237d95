"""Offers as a dstack 0.22.5 server shows them: catalog rows turned into dstack-level offers.

``backends.py`` holds the per-backend facts (default regions, allowlists, disks, options),
``pipeline.py`` the vectorized transform of catalog rows into a ``DstackTable`` (memoized per
catalog and server settings), ``offers.py`` the per-query rules and ``DstackOffers``,
``notes.py`` what dstack drops by accident. docs/dstack-offers.md states every rule.
"""

from __future__ import annotations

import os

from planner.config.dstack_settings import DstackServerSettings
from planner.match.dstack.offers import DstackOffers, find_dstack_offers
from planner.match.dstack.pipeline import dstack_table

__all__ = [
    "DstackOffers",
    "DstackServerSettings",
    "dstack_table",
    "find_dstack_offers",
    "server_settings",
]


def server_settings(
    dstack_config: DstackServerSettings | str | os.PathLike[str] | None,
) -> DstackServerSettings | None:
    """``dstack_config`` as settings: a path is read (``load_dstack_config``); None stays None."""
    if dstack_config is None or isinstance(dstack_config, DstackServerSettings):
        return dstack_config
    from planner.config.dstack_server import load_dstack_config  # lazy: pydantic

    return load_dstack_config(dstack_config)
