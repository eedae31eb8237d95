"""planner: a cost-aware offer matcher and replica planner for GPU services.

The library is the product; the CLI is a thin layer over these names::

    config = planner.load_config("service.yml")
    catalog = planner.Catalog.load()            # the bundled snapshot
    offers = planner.find_offers(config, catalog)   # as a dstack server shows them; rows=True: rows
    placement = planner.plan(config, catalog)
    costs = planner.report(["services/"], baseline="main.json")   # a CI cost report
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planner.version import __version__

# Imported lazily so `import planner` (and the CLI's start-up) does not pull pandas or ortools.
_EXPORTS = {
    "load_config": "planner.config",
    "LoadedConfig": "planner.config",
    "ServiceConfiguration": "planner.config",
    "NormalizedService": "planner.config.normalized",
    "Requirements": "planner.requirements",
    "requirements_from_config": "planner.requirements",
    "Catalog": "planner.catalog",
    "load_dstack_config": "planner.config.dstack_server",
    "DstackServerSettings": "planner.config.dstack_settings",
    "find_offers": "planner.match",
    "Offers": "planner.match",
    "plan": "planner.placement",
    "Plan": "planner.placement",
    "PlanOptions": "planner.placement",
    "report": "planner.cost_report",
    "Report": "planner.cost_report",
    "PlannerError": "planner.errors",
    "ConfigError": "planner.errors",
    "CatalogError": "planner.errors",
    "InputError": "planner.errors",
    "Problem": "planner.errors",
}

__all__ = [
    "Catalog",
    "CatalogError",
    "ConfigError",
    "DstackServerSettings",
    "InputError",
    "LoadedConfig",
    "NormalizedService",
    "Offers",
    "Plan",
    "PlanOptions",
    "PlannerError",
    "Problem",
    "Report",
    "Requirements",
    "ServiceConfiguration",
    "__version__",
    "find_offers",
    "load_config",
    "load_dstack_config",
    "plan",
    "report",
    "requirements_from_config",
]

if TYPE_CHECKING:
    from planner.catalog import Catalog
    from planner.config import LoadedConfig, ServiceConfiguration, load_config
    from planner.config.dstack_server import load_dstack_config
    from planner.config.dstack_settings import DstackServerSettings
    from planner.config.normalized import NormalizedService
    from planner.cost_report import Report, report
    from planner.errors import CatalogError, ConfigError, InputError, PlannerError, Problem
    from planner.match import Offers, find_offers
    from planner.placement import Plan, PlanOptions, plan
    from planner.requirements import Requirements, requirements_from_config


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'planner' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
