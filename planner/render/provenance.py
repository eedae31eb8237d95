"""Which catalog answered, in words: the line ``offers`` and ``plan`` print under their tables.

The facts come from the catalog's provenance (``Catalog.sources``: location, as-of date, the
description of its provenance.json; for the bundled snapshot, each provider's stated source); only
the wording is here. JSON outputs carry the same facts as values (``catalog.sources``).
"""

from __future__ import annotations

from typing import Any

from planner.catalog.bundled import BUNDLED, snapshot_provider_sources
from planner.render.text import printable


def catalog_lines(catalog: Any) -> list[str]:
    """One line per catalog source: its name, its as-of date, and what its provenance says about
    the reliability of its prices (approximate, illustrative listings)."""
    lines = []
    for source in catalog.sources:
        name = "the bundled snapshot" if source.location == BUNDLED else source.location
        as_of = f"as of {source.as_of}" if source.as_of else "as-of date unknown"
        caveats = []
        if source.description and "approximate" in source.description.lower():
            caveats.append("prices are approximate")
        if source.location == BUNDLED:
            illustrative = sorted(
                provider
                for provider, text in snapshot_provider_sources().items()
                if provider in source.providers and text.lower().startswith("illustrative")
            )
            if illustrative:
                caveats.append(
                    f"{', '.join(illustrative)} listings are illustrative, not real offers"
                )
            caveats.append("`planner catalog update` fetches current prices")
        line = f"catalog: {name}, {as_of}" + (f" ({'; '.join(caveats)})" if caveats else "")
        lines.append(printable(line))
    return lines
