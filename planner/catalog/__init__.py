"""The offer table and what feeds it: loaders, the GPU knowledge table, provenance.

A one-way stack, each module importing only the ones below it (tests/catalog/test_layers.py):

- facts: ``columns``, ``provenance``, ``bundled`` (paths), ``gpus``, and the cache, archive, URL
  and HTTP helpers;
- ``offer_table``: the rows (one Arrow table), their accessors, the Arrow file format;
- ``loaders/``: file formats → rows (gpuhunt, SkyPilot, a pandas frame; ``local`` detects which);
- ``assembly``: loaded sources → one offer table;
- ``download`` (fetch, verify with the loaders, publish to the cache), ``prebuilt`` (the bundled
  snapshot's prebuilt table), ``export``, ``describe``;
- ``sources``: a source name (path, URL, ``bundled``, ``cache``) → loaded rows;
- ``table``: the public ``Catalog`` facade (``Catalog.load``), ``read_table``, ``write_table``.

Names are imported lazily: ``planner.catalog.gpus`` is used by stages that must not pull pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Catalog": "planner.catalog.table",
    "CatalogSource": "planner.catalog.provenance",
    "RowIssue": "planner.catalog.provenance",
    "GpuTable": "planner.catalog.gpus",
    "GpuInfo": "planner.catalog.gpus",
    "read_table": "planner.catalog.table",
    "write_table": "planner.catalog.table",
}

__all__ = [
    "Catalog",
    "CatalogSource",
    "GpuInfo",
    "GpuTable",
    "RowIssue",
    "read_table",
    "write_table",
]

if TYPE_CHECKING:
    from planner.catalog.gpus import GpuInfo, GpuTable
    from planner.catalog.provenance import CatalogSource, RowIssue
    from planner.catalog.table import Catalog, read_table, write_table


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'planner.catalog' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
