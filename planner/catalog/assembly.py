"""Loaded sources → one offer table: their rows concatenated in the order given, then sorted by
price (stable), with every source's provenance, malformed rows and warnings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyarrow as pa

from planner.catalog.columns import OFFLINE_PROVIDERS, ONLINE_PROVIDERS
from planner.catalog.loaders.part import LoadedSource
from planner.catalog.offer_table import OfferTable, empty_table, sorted_table
from planner.catalog.provenance import CatalogSource, RowIssue
from planner.errors import CatalogError, Problem

# How many malformed rows a strict-mode error lists before summarizing.
_STRICT_SHOWN_ISSUES = 20


def assemble(loaded: Iterable[LoadedSource], *, strict: bool) -> OfferTable:
    """One table of every loaded source; ``strict``: any malformed row is a CatalogError."""
    loaded = list(loaded)
    issues = [issue for source in loaded for issue in source.issues]
    if strict and issues:
        raise CatalogError(_strict_problems(issues))
    if len(loaded) == 1 and loaded[0].prebuilt is not None:
        return loaded[0].prebuilt  # an Arrow file read whole: nothing to combine
    warnings = [warning for source in loaded for warning in source.warnings]
    tables = [table for source in loaded for table in source.tables()]
    table = pa.concat_tables(tables) if tables else empty_table()
    sources = [item for source in loaded for item in source.sources]
    warnings += _overlap_warnings(sources)
    return OfferTable(sorted_table(table), sources, issues, warnings)


def _overlap_warnings(sources: Sequence[CatalogSource]) -> list[str]:
    """One line per provider gpuhunt does not know (never offered), and per provider that more
    than one source supplies (e.g. a snapshot plus a fresh file).

    Both sets of rows are kept (no dedup, as gpuhunt), so stale and fresh prices of the same
    instances would compete silently; the warning names the sources.
    """
    locations: dict[str, list[str]] = {}
    for source in sources:
        for provider in dict.fromkeys(source.providers):
            locations.setdefault(provider, []).append(source.location)
    known = OFFLINE_PROVIDERS + ONLINE_PROVIDERS
    unknown = [
        f"provider {provider!r} ({', '.join(where)}) is not one gpuhunt knows: its rows are "
        "loaded but never offered (name the file or its directory after the provider, e.g. "
        "lambdalabs.csv or lambda/vms.csv)"
        for provider, where in sorted(locations.items())
        if provider.lower() not in known
    ]
    return unknown + [
        f"provider {provider} comes from {len(where)} sources ({', '.join(where)}): the rows "
        "of all of them are offered, so the same instance may be listed at several prices"
        for provider, where in sorted(locations.items())
        if len(where) > 1
    ]


def _strict_problems(issues: Sequence[RowIssue]) -> list[Problem]:
    problems = [
        Problem(
            f"{issue.reason}" + (f" ({issue.value!r})" if issue.value is not None else ""),
            file=issue.source,
            line=issue.line,
            path=issue.column,
        )
        for issue in issues[:_STRICT_SHOWN_ISSUES]
    ]
    if len(issues) > _STRICT_SHOWN_ISSUES:
        problems.append(
            Problem(
                f"… and {len(issues) - _STRICT_SHOWN_ISSUES:,} more malformed rows (--strict refuses them all)"
            )
        )
    return problems
