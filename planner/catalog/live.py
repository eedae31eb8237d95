"""A live catalog source, ``live:NAME``: the offers a backend plugin lists right now.

``NAME`` is a backend of a backends file (or a catalog backend one of them provides, e.g.
``live:aws``). The rows go through the same checks as a caller's frame (``loaders/frame.py``) and
carry their provenance: location ``live:NAME``, format ``live``, ``as_of`` the time of the query,
``as_of_from`` the plugin that answered.

The backends layer sits above the catalog (a plugin may read the catalog), so the catalog does not
import it: the provider of live offers registers itself under the entry-point group
``planner.catalog_sources`` (name ``live``, declared in pyproject.toml), the way backend plugins
do. The catalog knows only the group, never a module above it (docs/contracts.md).
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import Any, Final

from planner.catalog.loaders.frame import table_from_frame
from planner.catalog.loaders.part import LoadedSource, Part
from planner.catalog.provenance import CatalogSource
from planner.errors import CatalogError

LIVE_PREFIX: Final = "live:"
# Entry-point group and name of the function (backend name, backends file) -> live offers.
SOURCE_GROUP: Final = "planner.catalog_sources"
LIVE_SOURCE: Final = "live"


def is_live(text: str) -> bool:
    return text.startswith(LIVE_PREFIX)


def load_live(text: str, backends_file: str | os.PathLike[str] | None) -> LoadedSource:
    """The offers of the backend ``text`` names (``live:NAME``) as one loaded source."""
    name = text[len(LIVE_PREFIX) :].strip()
    if not name:
        raise CatalogError(f"{text!r}: a live source names a backend (live:aws, live:NAME)")
    if backends_file is None:
        raise CatalogError(
            f"{text}: a live source needs a backends file (--backends FILE; "
            "Catalog.load(..., backends_file=FILE))"
        )
    found = entry_points(group=SOURCE_GROUP, name=LIVE_SOURCE)
    if not found:
        raise CatalogError(
            f"{text}: no provider of live offers is installed (entry point "
            f"{SOURCE_GROUP}:{LIVE_SOURCE}; install planner with pip)"
        )
    fetch: Any = next(iter(found)).load()
    offers = fetch(name, backends_file)
    table = table_from_frame(offers.frame)
    source: CatalogSource = offers.catalog_source()
    part = Part(
        name=source.location, provider=",".join(source.providers), table=table, issues=(),
        total_rows=table.num_rows,
    )  # fmt: skip
    return LoadedSource(sources=(source,), parts=(part,))
