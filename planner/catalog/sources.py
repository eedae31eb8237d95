"""A catalog source as the user names it → its loaded rows with provenance.

``bundled`` (the snapshot shipped in ``catalogs/snapshot``), ``cache`` (what ``planner catalog
update`` downloaded), ``live:NAME`` (a backend plugin's live offers, ``live.py``), an
``http(s)://`` URL (fetched into the cache first), or a local path whose format is detected from
its content (``loaders/local.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

from planner.catalog.bundled import BUNDLED, snapshot_dir
from planner.catalog.download import fetch_source, read_cached_table
from planner.catalog.live import is_live, load_live
from planner.catalog.loaders.local import load_path
from planner.catalog.loaders.part import LoadedSource
from planner.catalog.urls import redact_url, require_http_url, url_of
from planner.errors import CatalogError

# The catalog source keyword that names what ``planner catalog update`` downloaded.
CACHE = "cache"


def load_source(
    source: str | os.PathLike[str],
    *,
    cache_dir: Path | None = None,
    backends_file: str | os.PathLike[str] | None = None,
) -> LoadedSource:
    text = os.fspath(source)
    if not text.strip():
        raise CatalogError(
            "an empty catalog source (expected a path, a URL, 'bundled', 'cache' or 'live:NAME')"
        )
    if text == BUNDLED:
        directory = snapshot_dir()
        if not directory.is_dir():
            raise CatalogError(f"the bundled catalog snapshot is missing ({directory})")
        return load_path(directory, location=BUNDLED)
    if text == CACHE:
        # Always an Arrow file: read as one (never guessed from bytes a damage could change).
        offers = read_cached_table(cache_dir)
        return LoadedSource(sources=offers.sources, prebuilt=offers)
    if is_live(text):
        return load_live(text, backends_file)
    url = url_of(text)  # " http://…" too: the HTTP library would request it
    if url is not None:
        url = require_http_url(url, "catalog source")
        # The real URL is for the request only; provenance and messages get the redacted one.
        return load_path(fetch_source(url, cache_dir), location=redact_url(url))
    return load_path(Path(text), location=text)
