"""Finding a backend plugin by its type name.

Plugins are Python entry points of group ``planner.backends`` (``name = "module:factory"``), so a
third party adds a backend by installing a package that declares one, without touching planner.
The backends shipped with planner are also found through a built-in mapping, so they work from a
source tree that was never installed; a built-in name wins over an entry point of the same name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Final

from planner.backends.base import Backend, BackendConfig, BackendFactory
from planner.errors import InputError, Problem

__all__ = ["BUILTIN_BACKENDS", "ENTRY_POINT_GROUP", "available_types", "open_backend"]

ENTRY_POINT_GROUP: Final = "planner.backends"

# type name -> "module:attribute" of its factory, for the plugins shipped in this package.
BUILTIN_BACKENDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "simulated": "planner.backends.simulated:SimulatedBackend",
        "aws": "planner.backends.aws:AwsBackend",  # boto3: extra [aws]
    }
)


def _entry_point_targets() -> dict[str, str]:
    return {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}


def available_types() -> tuple[str, ...]:
    """Every plugin type that can be named in a backends file, sorted."""
    return tuple(sorted({*_entry_point_targets(), *BUILTIN_BACKENDS}))


def _load_factory(target: str) -> BackendFactory:
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    factory: BackendFactory = module
    for part in attribute.split(".") if attribute else ():
        factory = getattr(factory, part)
    return factory


def open_backend(config: BackendConfig) -> Backend:
    """The plugin of ``config.type``, built from ``config``.

    ``InputError`` (naming the backends file and entry) when no plugin of that type exists, when
    it cannot be imported (say, an optional extra is missing), or when it rejects its settings."""
    where = f"backends.{config.name}.type"
    target = BUILTIN_BACKENDS.get(config.type) or _entry_point_targets().get(config.type)
    if target is None:
        known = ", ".join(available_types())
        raise InputError(
            Problem(
                f"no backend plugin of type {config.type!r} is installed (known: {known})",
                file=config.source,
                line=config.line,
                path=where,
            )
        )
    try:
        factory = _load_factory(target)
    except ImportError as error:
        missing = error.name or str(error)
        raise InputError(
            Problem(
                f"the {config.type!r} backend plugin cannot be imported ({missing} is missing; "
                f"install planner's {config.type!r} extra)",
                file=config.source,
                line=config.line,
                path=where,
            )
        ) from None
    except AttributeError:
        raise InputError(
            Problem(f"plugin entry point {target!r} names nothing", file=config.source, path=where)
        ) from None
    backend = factory(config)
    if not isinstance(backend, Backend):
        raise InputError(
            Problem(
                f"the {config.type!r} plugin did not return a backend (see docs/backends.md)",
                file=config.source,
                path=where,
            )
        )
    return backend
