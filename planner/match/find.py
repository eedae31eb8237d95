"""``find_offers``: the offers that satisfy a configuration, dstack-level or catalog rows."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from planner.errors import CatalogError, InputError
from planner.match.dstack import find_dstack_offers, server_settings
from planner.match.offers import Offers, find_row_offers
from planner.requirements import Requirements, requirements_from_config

if TYPE_CHECKING:
    from planner.catalog import Catalog
    from planner.config.dstack_settings import DstackServerSettings
    from planner.config.load import LoadedConfig
    from planner.config.normalized import NormalizedService


def find_offers(
    config: LoadedConfig | NormalizedService | Requirements | str | os.PathLike[str],
    catalog: Catalog,
    *,
    rows: bool = False,
    dstack_config: DstackServerSettings | str | os.PathLike[str] | None = None,
) -> Offers:
    """The offers that satisfy ``config``, cheapest first.

    By default the offers a dstack 0.22.5 server shows (``planner.match.dstack``, a
    ``DstackOffers``): per backend, GCP zones merged into regions, default regions, allowlists,
    disk fitting, reservation rules, price rounding, dstack's merge order. ``dstack_config`` is a
    dstack server configuration (a path or ``DstackServerSettings``): only its backends answer,
    with their settings; without it every backend answers with dstack's defaults.
    ``rows=True``: the catalog rows themselves, as gpuhunt's query returns them (ties: catalog
    row order); it cannot be combined with ``dstack_config``.

    ``config`` is a service configuration file's path (as ``plan`` takes), a ``LoadedConfig``, a
    ``NormalizedService`` or ``Requirements``. Another type is a ``ConfigError``; a ``catalog``
    that is not a ``Catalog`` is a ``CatalogError``; a bad ``dstack_config`` an ``InputError``.
    """
    # Lazy for start-up time: the config loader pulls pydantic, the catalog pyarrow; a caller
    # passing Requirements and a Catalog has both imported already or does not need the loader.
    from planner.catalog import Catalog

    if not isinstance(catalog, Catalog):
        raise CatalogError(
            "find_offers takes a Catalog (e.g. planner.Catalog.load()) as its catalog, "
            f"not {type(catalog).__name__}"
        )
    if isinstance(config, Requirements):
        requirements = config
    else:
        from planner.config.load import service_argument

        requirements = requirements_from_config(service_argument(config, "find_offers"))
    if not rows:
        return find_dstack_offers(requirements, catalog, server_settings(dstack_config))
    if dstack_config is not None:
        raise InputError(
            "rows=True answers with catalog rows; a dstack server config changes dstack-level "
            "offers only (drop one of them)"
        )
    return find_row_offers(requirements, catalog)
