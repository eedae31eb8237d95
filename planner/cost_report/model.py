"""The typed cost report: `Report`, its `ServiceCost`s, the baseline `Diff` and the gate results.

Plain immutable data. ``Report.to_json()`` is the JSON document of ``planner report --format
json``, described by ``report.schema.json`` next to this file (docs/contracts.md); money is USD as
decimal strings, a month is 730 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from planner.catalog.provenance import CatalogSource
from planner.cost_report.envelope import ServiceEnvelope
from planner.cost_report.money import ZERO, monthly_usd, percent_change, usd_text
from planner.placement import HOURS_PER_MONTH
from planner.placement.kinds import CapacityType, PlanStatus
from planner.placement.reasons import InfeasibleCause

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "CatalogIdentity",
    "ChangeCause",
    "ChangeKind",
    "Diff",
    "GateFailure",
    "PlacementLine",
    "Report",
    "ServiceChange",
    "ServiceCost",
    "SkippedFile",
    "Total",
]

# Bumped when a field changes meaning or disappears; adding a field keeps the version.
SCHEMA_VERSION = 1
SCHEMA_ID = "planner-cost-report"

ChangeKind = Literal["added", "removed", "changed", "unchanged"]
# What moved a service's cost: its configuration, the catalog's prices, both (split when the
# baseline catalog is at hand, docs/cli.md "Configuration drift and price drift"), the other
# planning inputs (options, fleet or capacity files: same configuration, same catalog, other
# cost), or nothing.
ChangeCause = Literal["configuration", "prices", "configuration and prices", "other inputs", "none"]
GateName = Literal["budget-hourly", "budget-monthly", "max-increase", "infeasible"]


def _json_money(value: Decimal | None) -> str | None:
    return usd_text(value)


@dataclass(frozen=True)
class CatalogIdentity:
    """Which catalog priced the report: its sources and a fingerprint of its offers and prices.

    Two reports with the same fingerprint priced their services on identical offer rows, so a
    cost change between them comes from the configuration alone.
    """

    fingerprint: str
    as_of: str | None
    sources: tuple[CatalogSource, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "as_of": self.as_of,
            "sources": [source.to_json() for source in self.sources],
        }


@dataclass(frozen=True)
class PlacementLine:
    """``count`` replicas on one instance type in one region, as the plan places them."""

    backend: str
    region: str
    instance_type: str
    capacity_type: CapacityType
    count: int
    hourly_price: Decimal  # per replica
    gpu_name: str | None
    gpu_count: int

    @property
    def hourly_cost(self) -> Decimal:
        return self.hourly_price * self.count

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "region": self.region,
            "instance_type": self.instance_type,
            "capacity_type": self.capacity_type,
            "count": self.count,
            "gpu_name": self.gpu_name,
            "gpu_count": self.gpu_count,
            "hourly_price": _json_money(self.hourly_price),
            "hourly_cost": _json_money(self.hourly_cost),
        }


@dataclass(frozen=True)
class ServiceCost:
    """One service file's plan, priced.

    ``key`` identifies the service across reports: the file's path relative to the directory
    (or glob base) it was found under, or the path as given for a file argument.
    ``config_hash``: sha256 of the normalized configuration (env values left out: they are
    secrets and do not change the cost), so a baseline tells a configuration change from a price
    change. Costs are hourly USD; ``None`` when the plan is infeasible.
    ``envelope``: the autoscaling cost envelope from a traffic trace; ``None`` without one (a
    replica range is then reported at its min and max only). ``envelope_note``: why a service
    has none although a trace was given (a fixed replica count, no ``scaling`` rule, ...).
    """

    key: str
    file: str
    name: str | None
    config_hash: str
    status: PlanStatus
    replicas_min: int
    replicas_max: int
    hourly_cost: Decimal | None
    cost_at_min: Decimal | None
    cost_at_max: Decimal | None
    placements: tuple[PlacementLine, ...] = ()
    # The names of the constraints that make it infeasible (the JSON's infeasible_reason; the CLI's
    # outputs word the typed causes instead).
    infeasible_reason: str | None = None
    infeasible_causes: tuple[InfeasibleCause, ...] = ()
    envelope: ServiceEnvelope | None = None
    envelope_note: str | None = None

    @property
    def title(self) -> str:
        return self.name or self.key

    @property
    def feasible(self) -> bool:
        return self.status != "infeasible"

    @property
    def monthly_cost(self) -> Decimal | None:
        return monthly_usd(self.hourly_cost)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "file": self.file,
            "name": self.name,
            "config_hash": self.config_hash,
            "status": self.status,
            "replicas": {"min": self.replicas_min, "max": self.replicas_max},
            "hourly_cost": _json_money(self.hourly_cost),
            "monthly_cost": _json_money(self.monthly_cost),
            "cost_at_min": _range_end(self.cost_at_min),
            "cost_at_max": _range_end(self.cost_at_max),
            "placements": [placement.to_json() for placement in self.placements],
            "infeasible_reason": self.infeasible_reason,
            "envelope": self.envelope.to_json() if self.envelope is not None else None,
            "envelope_note": self.envelope_note,
        }


def _range_end(hourly: Decimal | None) -> dict[str, str | None]:
    return {"hourly_cost": _json_money(hourly), "monthly_cost": _json_money(monthly_usd(hourly))}


@dataclass(frozen=True)
class SkippedFile:
    """A file found in a directory that is not a service configuration, and why."""

    file: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "reason": self.reason}


@dataclass(frozen=True)
class Total:
    """The sum over every feasible service (an infeasible one costs nothing until it is fixed)."""

    hourly_cost: Decimal
    services: int
    infeasible: int

    @property
    def monthly_cost(self) -> Decimal:
        monthly = monthly_usd(self.hourly_cost)
        assert monthly is not None
        return monthly

    def to_json(self) -> dict[str, Any]:
        return {
            "hourly_cost": _json_money(self.hourly_cost),
            "monthly_cost": _json_money(self.monthly_cost),
            "services": self.services,
            "infeasible": self.infeasible,
        }


@dataclass(frozen=True)
class ServiceChange:
    """One service against the baseline: old → new hourly cost and what moved it.

    ``configuration_delta`` + ``price_delta`` = ``delta`` when the change could be attributed;
    both ``None`` when the configuration and the catalog both changed and the baseline catalog
    was not available to price the new configuration on (docs/cli.md).
    """

    key: str
    name: str | None
    change: ChangeKind
    old_hourly: Decimal | None
    new_hourly: Decimal | None
    old_status: PlanStatus | None
    new_status: PlanStatus | None
    configuration_changed: bool | None  # None for an added or removed service
    cause: ChangeCause
    configuration_delta: Decimal | None = None
    price_delta: Decimal | None = None

    @property
    def title(self) -> str:
        return self.name or self.key

    @property
    def delta(self) -> Decimal | None:
        """new − old hourly; an added service started from 0, a removed one ends at 0."""
        old = ZERO if self.change == "added" else self.old_hourly
        new = ZERO if self.change == "removed" else self.new_hourly
        if old is None or new is None:
            return None
        return new - old

    @property
    def percent(self) -> Decimal | None:
        return percent_change(self.old_hourly, self.new_hourly)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "change": self.change,
            "old_status": self.old_status,
            "new_status": self.new_status,
            "old_hourly_cost": _json_money(self.old_hourly),
            "new_hourly_cost": _json_money(self.new_hourly),
            "delta_hourly_cost": _json_money(self.delta),
            "old_monthly_cost": _json_money(monthly_usd(self.old_hourly)),
            "new_monthly_cost": _json_money(monthly_usd(self.new_hourly)),
            "delta_monthly_cost": _json_money(monthly_usd(self.delta)),
            "percent": _json_money(self.percent),
            "configuration_changed": self.configuration_changed,
            "cause": self.cause,
            "configuration_delta_hourly_cost": _json_money(self.configuration_delta),
            "price_delta_hourly_cost": _json_money(self.price_delta),
        }


@dataclass(frozen=True)
class Diff:
    """The report against a baseline (a previous JSON report or a directory of service files)."""

    baseline_kind: Literal["report", "directory"]
    baseline_location: str
    baseline_catalog: CatalogIdentity | None  # None: a directory priced on the current catalog
    catalog_changed: bool
    old_total_hourly: Decimal
    new_total_hourly: Decimal
    changes: tuple[ServiceChange, ...]

    @property
    def delta_hourly(self) -> Decimal:
        return self.new_total_hourly - self.old_total_hourly

    @property
    def percent(self) -> Decimal | None:
        return percent_change(self.old_total_hourly, self.new_total_hourly)

    def of_kind(self, kind: ChangeKind) -> tuple[ServiceChange, ...]:
        return tuple(change for change in self.changes if change.change == kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.baseline_kind,
            "location": self.baseline_location,
            "catalog": self.baseline_catalog.to_json() if self.baseline_catalog else None,
            "catalog_changed": self.catalog_changed,
            "total": {
                "old_hourly_cost": _json_money(self.old_total_hourly),
                "new_hourly_cost": _json_money(self.new_total_hourly),
                "delta_hourly_cost": _json_money(self.delta_hourly),
                "old_monthly_cost": _json_money(monthly_usd(self.old_total_hourly)),
                "new_monthly_cost": _json_money(monthly_usd(self.new_total_hourly)),
                "delta_monthly_cost": _json_money(monthly_usd(self.delta_hourly)),
                "percent": _json_money(self.percent),
            },
            "services": [change.to_json() for change in self.changes],
        }


@dataclass(frozen=True)
class GateFailure:
    """A service (or the total, ``service is None``) over one line of the policy."""

    gate: GateName
    service: str | None  # the service's key; None for the total
    limit: str | None  # as given: "40", "12.5%"; None for the infeasible check
    actual: str | None  # the measured amount, same unit as the limit

    def to_json(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "service": self.service,
            "limit": self.limit,
            "actual": self.actual,
        }


@dataclass(frozen=True)
class Report:
    """A cost report over service files: what `planner report` prints and `planner.report` returns."""

    generated_at: datetime
    planner_version: str
    catalog: CatalogIdentity
    services: tuple[ServiceCost, ...]
    skipped: tuple[SkippedFile, ...]
    total: Total
    diff: Diff | None = None
    failures: tuple[GateFailure, ...] = ()
    gates: tuple[str, ...] = ()  # the gates that were checked, e.g. ("budget-monthly",)

    @property
    def passed(self) -> bool:
        return not self.failures

    def service(self, key: str) -> ServiceCost:
        for service in self.services:
            if service.key == key:
                return service
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_ID,
            "version": SCHEMA_VERSION,
            "generated_at": self.generated_at.isoformat().replace("+00:00", "Z"),
            "planner_version": self.planner_version,
            "currency": "USD",
            "hours_per_month": HOURS_PER_MONTH,
            "catalog": self.catalog.to_json(),
            "services": [service.to_json() for service in self.services],
            "skipped": [skipped.to_json() for skipped in self.skipped],
            "total": self.total.to_json(),
            "baseline": self.diff.to_json() if self.diff else None,
            "gates": {
                "checked": list(self.gates),
                "passed": self.passed,
                "failures": [failure.to_json() for failure in self.failures],
            },
        }
