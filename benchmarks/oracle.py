"""gpuhunt 0.1.34 as a test oracle: load a generated catalog through gpuhunt's own code paths.

Test-only (gpuhunt is never imported by planner/). Offline providers are loaded by
``gpuhunt.Catalog.load()`` from the v3 layout served over ``file://`` (``GPUHUNT_CATALOG_URL``), i.e.
gpuhunt's download and parsing code unchanged. Providers gpuhunt only queries live (vastai, crusoe,
...) are added as providers whose offers are the same CSV parsed by gpuhunt's ``storage.load``, so a
query without ``provider`` covers every generated file, as for a user with those providers set up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def load_gpuhunt_catalog(v3_base: Path, csv_dir: Path, providers: tuple[str, ...]) -> Any:
    """A loaded ``gpuhunt.Catalog(balance_resources=False, auto_reload=False)`` over the catalog."""
    import gpuhunt
    from gpuhunt._internal import catalog as gpuhunt_catalog_module
    from gpuhunt._internal import storage
    from gpuhunt.providers.base import AbstractProvider

    class CsvOnlineProvider(AbstractProvider):
        """An online provider whose offers are a fixed list parsed from a generated CSV."""

        def __init__(self, name: str, items: list[Any]) -> None:
            self.NAME = name
            self._items = items

        def get(
            self,
            query_filter: Any = None,
            balance_resources: bool = True,
            apply_filter: bool = False,
        ) -> list[Any]:
            return list(self._items)

    catalog = gpuhunt.Catalog(balance_resources=False, auto_reload=False)
    saved = {key: os.environ.get(key) for key in ("GPUHUNT_CATALOG_URL", "GPUHUNT_CATALOG_DIR")}
    os.environ["GPUHUNT_CATALOG_URL"] = Path(v3_base).resolve().as_uri()
    os.environ.pop("GPUHUNT_CATALOG_DIR", None)  # would re-read the CSVs on every query
    try:
        catalog.load()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    offline = set(gpuhunt_catalog_module.OFFLINE_PROVIDERS)
    for name in providers:
        if name in offline:
            continue
        with open(Path(csv_dir) / f"{name}.csv", newline="", encoding="utf-8") as f:
            items = list(storage.load(f, provider=name))
        catalog.add_provider(CsvOnlineProvider(name, items))
    return catalog


# gpuhunt Catalog.query keyword -> planner Requirements field (the rest have the same name)
QUERY_TO_REQUIREMENTS: dict[str, str] = {
    "provider": "providers",
    "gpu_name": "gpu_names",
    "min_memory": "min_memory_gb",
    "max_memory": "max_memory_gb",
    "min_gpu_memory": "min_gpu_memory_gb",
    "max_gpu_memory": "max_gpu_memory_gb",
    "min_total_gpu_memory": "min_total_gpu_memory_gb",
    "max_total_gpu_memory": "max_total_gpu_memory_gb",
    "min_disk_size": "min_disk_gb",
    "max_disk_size": "max_disk_gb",
}
_TUPLE_FIELDS = frozenset({"providers", "gpu_names", "allowed_flags"})


def requirements_from_query(kwargs: dict[str, Any]) -> Any:
    """The planner ``Requirements`` equivalent to gpuhunt ``Catalog.query(**kwargs)``."""
    from planner.requirements import Requirements

    fields: dict[str, Any] = {}
    for key, value in kwargs.items():
        name = QUERY_TO_REQUIREMENTS.get(key, key)
        if name in _TUPLE_FIELDS and value is not None:
            value = (value,) if isinstance(value, str) else tuple(value)
        fields[name] = value
    return Requirements(**fields)
