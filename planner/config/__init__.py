"""Service configurations: load, validate and normalize a dstack ``type: service`` file.

``load_config`` is the entry point; ``LoadedConfig.normalized`` is what later stages read. The
value grammars, defaults and validation rules are described in ``docs/configuration.md``.

Names are imported lazily (as in ``planner.catalog``): the pydantic-free submodules
(``grammar``, ``backend_names``, ``value_kinds``) are read by the matcher and the catalog, which
must not pay for pydantic and the models when they import one of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "LoadedConfig": "planner.config.load",
    "load_config": "planner.config.load",
    "ServiceConfiguration": "planner.config.models",
}

__all__ = ["LoadedConfig", "ServiceConfiguration", "load_config"]

if TYPE_CHECKING:
    from planner.config.load import LoadedConfig, load_config
    from planner.config.models import ServiceConfiguration


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'planner.config' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
