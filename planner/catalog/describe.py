"""Summaries of a loaded catalog, for ``planner catalog show`` and ``planner catalog stats``.

Typed values computed with grouped pandas operations; ``to_json()`` gives the ``--format json``
document and ``planner.render.catalog`` renders the text form.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner.catalog.provenance import CatalogSource, RowIssue

if TYPE_CHECKING:
    import pandas as pd

    from planner.catalog.offer_table import OfferTable

# How many dropped rows ``stats`` quotes per reason.
_EXAMPLES_PER_REASON = 5


@dataclass(frozen=True)
class ProviderRows:
    provider: str
    rows: int


@dataclass(frozen=True)
class GpuRows:
    vendor: str
    name: str
    rows: int


@dataclass(frozen=True)
class CatalogSummary:
    """Sources, as-of date, rows per provider and GPU models (``planner catalog show``)."""

    sources: tuple[CatalogSource, ...]
    as_of: str | None
    rows: int
    dropped: int  # malformed rows left out
    providers: tuple[ProviderRows, ...]  # by provider name
    gpus: tuple[GpuRows, ...]  # by vendor, then GPU name

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "show",
            "sources": [source.to_json() for source in self.sources],
            "as_of": self.as_of,
            "rows": self.rows,
            "dropped": self.dropped,
            "providers": [{"provider": p.provider, "rows": p.rows} for p in self.providers],
            "gpus": [{"vendor": g.vendor, "name": g.name, "rows": g.rows} for g in self.gpus],
        }


@dataclass(frozen=True)
class ProviderCapacity:
    provider: str
    on_demand: int  # rows
    spot: int  # rows

    @property
    def total(self) -> int:
        return self.on_demand + self.spot


@dataclass(frozen=True)
class GpuPrices:
    """One GPU model's rows and price ranges (whole instance and per GPU, USD/hour)."""

    vendor: str
    name: str
    rows: int
    spot_rows: int
    gpu_counts: tuple[int, ...]  # ascending
    min_price: float
    max_price: float
    min_price_per_gpu: float
    max_price_per_gpu: float


@dataclass(frozen=True)
class DropReason:
    reason: str
    rows: int
    examples: tuple[RowIssue, ...]  # the first few rows dropped for it


@dataclass(frozen=True)
class CatalogStats:
    """Rows per provider × capacity type, GPU price ranges, CPU-only rows, dropped rows."""

    as_of: str | None
    rows: int
    providers: tuple[ProviderCapacity, ...]  # by provider name
    gpus: tuple[GpuPrices, ...]  # by vendor, then GPU name
    cpu_only_rows: int
    dropped: int  # malformed rows left out
    dropped_by_reason: tuple[DropReason, ...]  # most frequent first

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "stats",
            "as_of": self.as_of,
            "rows": self.rows,
            "providers": [
                {"provider": p.provider, "on_demand": p.on_demand, "spot": p.spot, "total": p.total}
                for p in self.providers
            ],
            "gpus": [
                {
                    "vendor": g.vendor,
                    "name": g.name,
                    "rows": g.rows,
                    "spot_rows": g.spot_rows,
                    "gpu_counts": list(g.gpu_counts),
                    "min_price": g.min_price,
                    "max_price": g.max_price,
                    "min_price_per_gpu": g.min_price_per_gpu,
                    "max_price_per_gpu": g.max_price_per_gpu,
                }
                for g in self.gpus
            ],
            "cpu_only_rows": self.cpu_only_rows,
            "dropped": {
                "total": self.dropped,
                "by_reason": [
                    {
                        "reason": reason.reason,
                        "rows": reason.rows,
                        "examples": [str(issue) for issue in reason.examples],
                    }
                    for reason in self.dropped_by_reason
                ],
            },
        }


def describe_catalog(catalog: OfferTable) -> CatalogSummary:
    """Sources, as-of date, rows per provider, GPU models (``planner catalog show``)."""
    frame = catalog.frame
    per_provider = frame.groupby("provider", observed=True).size().reset_index(name="rows")
    gpu_rows = frame[frame["gpu_count"] > 0]
    per_gpu = (
        gpu_rows.groupby(["gpu_vendor", "gpu_name"], observed=True).size().reset_index(name="rows")
    )
    providers = [ProviderRows(str(r["provider"]), int(r["rows"])) for r in _records(per_provider)]
    gpus = [
        GpuRows(str(r["gpu_vendor"]), str(r["gpu_name"]), int(r["rows"])) for r in _records(per_gpu)
    ]
    return CatalogSummary(
        sources=catalog.sources,
        as_of=catalog.as_of,
        rows=len(catalog),
        dropped=len(catalog.issues),
        providers=tuple(sorted(providers, key=lambda item: item.provider)),
        gpus=tuple(sorted(gpus, key=lambda item: (item.vendor, item.name))),
    )


def catalog_stats(catalog: OfferTable) -> CatalogStats:
    """Rows per provider × capacity type, GPU price ranges, CPU-only rows, dropped rows."""
    frame = catalog.frame
    by_type = frame.groupby(["provider", "spot"], observed=True).size()
    counts = {
        (str(r["provider"]), bool(r["spot"])): int(r["rows"])
        for r in _records(by_type.reset_index(name="rows"))
    }
    providers = tuple(
        ProviderCapacity(name, counts.get((name, False), 0), counts.get((name, True), 0))
        for name in sorted({provider for provider, _ in counts})
    )
    gpu_rows = frame[frame["gpu_count"] > 0]
    gpu_rows = gpu_rows.assign(price_per_gpu=gpu_rows["price"] / gpu_rows["gpu_count"])
    grouped = gpu_rows.groupby(["gpu_vendor", "gpu_name"], observed=True)
    table = grouped.agg(
        rows=("price", "size"),
        spot_rows=("spot", "sum"),
        min_price=("price", "min"),
        max_price=("price", "max"),
        min_price_per_gpu=("price_per_gpu", "min"),
        max_price_per_gpu=("price_per_gpu", "max"),
        gpu_counts=("gpu_count", "unique"),
    ).reset_index()
    gpus = [
        GpuPrices(
            vendor=str(r["gpu_vendor"]),
            name=str(r["gpu_name"]),
            rows=int(r["rows"]),
            spot_rows=int(r["spot_rows"]),
            gpu_counts=tuple(sorted(int(count) for count in r["gpu_counts"])),
            min_price=float(r["min_price"]),
            max_price=float(r["max_price"]),
            min_price_per_gpu=float(r["min_price_per_gpu"]),
            max_price_per_gpu=float(r["max_price_per_gpu"]),
        )
        for r in _records(table)
    ]
    issues = catalog.issues
    examples: dict[str, list[RowIssue]] = {}
    for issue in issues:
        shown = examples.setdefault(issue.reason, [])
        if len(shown) < _EXAMPLES_PER_REASON:
            shown.append(issue)
    by_reason = Counter(issue.reason for issue in issues)
    return CatalogStats(
        as_of=catalog.as_of,
        rows=len(catalog),
        providers=providers,
        gpus=tuple(sorted(gpus, key=lambda item: (item.vendor, item.name))),
        cpu_only_rows=int((frame["gpu_count"] == 0).sum()),
        dropped=len(issues),
        dropped_by_reason=tuple(
            DropReason(reason, count, tuple(examples[reason]))
            for reason, count in by_reason.most_common()
        ),
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]
