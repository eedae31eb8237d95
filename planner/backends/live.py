"""Live offers of a backend named in a backends file: what ``live:NAME`` catalog sources and
``planner offers --live`` read (the catalog resolves ``live_offers`` by name at run time; see
``planner.catalog.live``)."""

from __future__ import annotations

import os

from planner.backends.base import BackendError, LiveOffers
from planner.backends.registry import open_backend
from planner.backends.settings import load_backends
from planner.errors import CatalogError
from planner.requirements import Requirements


def live_offers(
    name: str,
    backends_file: str | os.PathLike[str],
    requirements: Requirements | None = None,
) -> LiveOffers:
    """The offers backend ``name`` (a backends-file name, else the first backend that provides
    the catalog backend ``name``) lists now. ``CatalogError`` when there is no such backend or
    its provider fails (the message never holds a credential)."""
    backends = load_backends(backends_file)
    config = backends.named(name) or backends.for_catalog_backend(name)
    if config is None:
        known = ", ".join(backend.name for backend in backends.backends)
        raise CatalogError(f"live:{name}: {backends.source} names no such backend (it has {known})")
    try:
        backend = open_backend(config)
        return backend.live_offers(requirements or Requirements())
    except BackendError as error:
        raise CatalogError(f"live:{name}: {config.scrub(str(error))}") from None


def live_sources(backends_file: str | os.PathLike[str]) -> tuple[str, ...]:
    """``live:NAME`` of every backend in the file, in file order (``planner offers --live``)."""
    return tuple(f"live:{backend.name}" for backend in load_backends(backends_file).backends)
