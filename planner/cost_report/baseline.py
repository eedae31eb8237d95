"""The baseline of a report, and the diff against it.

A baseline is a previous JSON report (``planner report --format json``) or a directory of service
files (e.g. the target branch, checked out by the CI job), priced on the baseline catalog when one
is given and on the current catalog otherwise.

Configuration drift and price drift, per service present in both (docs/cli.md):

- same configuration hash, same catalog fingerprint: nothing moved it (cause ``none``);
- same configuration, other catalog: the whole difference is price drift;
- other configuration, same catalog: the whole difference is configuration drift;
- both changed: configuration drift = (new configuration on the baseline catalog) − old, price
  drift = new − (new configuration on the baseline catalog). That needs the baseline catalog; a
  JSON baseline without ``--baseline-catalog`` leaves the two unattributed (``None``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from planner.cost_report.model import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    CatalogIdentity,
    ChangeCause,
    Diff,
    ServiceChange,
    ServiceCost,
)
from planner.cost_report.money import ZERO, parse_usd
from planner.errors import InputError, Problem
from planner.placement.kinds import PlanStatus

_STATUSES = ("optimal", "feasible", "infeasible")


@dataclass(frozen=True)
class BaselineService:
    """What a diff needs of one baseline service."""

    key: str
    name: str | None
    config_hash: str
    status: PlanStatus
    hourly_cost: Decimal | None

    @classmethod
    def of(cls, service: ServiceCost) -> BaselineService:
        return cls(
            key=service.key,
            name=service.name,
            config_hash=service.config_hash,
            status=service.status,
            hourly_cost=service.hourly_cost,
        )


@dataclass(frozen=True)
class Baseline:
    kind: Literal["report", "directory"]
    location: str
    catalog: CatalogIdentity | None  # the catalog the baseline was priced on
    services: Mapping[str, BaselineService]


def read_baseline_report(path: str | os.PathLike[str]) -> Baseline:
    """A previous JSON report → ``Baseline``; a file that is not one is an ``InputError``."""
    file = os.fspath(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(Problem("no such file", file=file)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Problem(f"cannot read the baseline: {error}", file=file)) from None
    except json.JSONDecodeError as error:
        raise InputError(
            Problem(
                f"not a JSON report: {error.msg}",
                file=file,
                line=error.lineno,
                column=error.colno,
            )
        ) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_ID:
        raise InputError(
            Problem(
                f'not a planner cost report (expected `"schema": "{SCHEMA_ID}"`; '
                "make one with `planner report --format json`)",
                file=file,
            )
        )
    if data.get("version") != SCHEMA_VERSION:
        raise InputError(
            Problem(
                f"report schema version {data.get('version')!r} is not supported "
                f"(this planner reads version {SCHEMA_VERSION})",
                file=file,
                path="version",
            )
        )
    try:
        catalog = data["catalog"]
        identity = CatalogIdentity(
            fingerprint=_text(catalog, "fingerprint"), as_of=catalog.get("as_of")
        )
        services = {}
        for index, item in enumerate(data["services"]):
            service = _baseline_service(item, f"services[{index}]")
            services[service.key] = service
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InputError(Problem(f"malformed report: {_reason(error)}", file=file)) from None
    return Baseline(kind="report", location=file, catalog=identity, services=services)


def _baseline_service(item: Any, where: str) -> BaselineService:
    status = item["status"]
    if status not in _STATUSES:
        raise ValueError(f"{where}.status: unknown status {status!r}")
    return BaselineService(
        key=_text(item, "key"),
        name=item.get("name"),
        config_hash=_text(item, "config_hash"),
        status=status,
        hourly_cost=parse_usd(item.get("hourly_cost"), what=f"{where}.hourly_cost"),
    )


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item[key]
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string")
    return value


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    return str(error)


# Prices a service of the current report on the baseline catalog (None: not available).
BridgeCost = Callable[[str], Decimal | None]


def diff(
    services: tuple[ServiceCost, ...],
    baseline: Baseline,
    *,
    current_catalog: CatalogIdentity,
    bridge: BridgeCost,
) -> Diff:
    """Every service of the report and of the baseline: added, removed, changed or unchanged."""
    catalog_changed = (
        baseline.catalog is not None and baseline.catalog.fingerprint != current_catalog.fingerprint
    )
    current = {service.key: service for service in services}
    changes = []
    for key in sorted(set(current) | set(baseline.services)):
        new = current.get(key)
        old = baseline.services.get(key)
        if old is None:
            assert new is not None
            changes.append(_one_sided(new.key, new.name, "added", None, new))
        elif new is None:
            changes.append(_one_sided(old.key, old.name, "removed", old, None))
        else:
            changes.append(_both(old, new, catalog_changed, bridge))
    old_total = sum((service.hourly_cost or ZERO for service in baseline.services.values()), ZERO)
    new_total = sum((service.hourly_cost or ZERO for service in services), ZERO)
    return Diff(
        baseline_kind=baseline.kind,
        baseline_location=baseline.location,
        baseline_catalog=baseline.catalog,
        catalog_changed=catalog_changed,
        old_total_hourly=old_total,
        new_total_hourly=new_total,
        changes=tuple(changes),
    )


def _one_sided(
    key: str,
    name: str | None,
    kind: Literal["added", "removed"],
    old: BaselineService | None,
    new: ServiceCost | None,
) -> ServiceChange:
    return ServiceChange(
        key=key,
        name=name,
        change=kind,
        old_hourly=old.hourly_cost if old else None,
        new_hourly=new.hourly_cost if new else None,
        old_status=old.status if old else None,
        new_status=new.status if new else None,
        configuration_changed=None,
        cause="configuration",
    )


def _both(
    old: BaselineService, new: ServiceCost, catalog_changed: bool, bridge: BridgeCost
) -> ServiceChange:
    configuration_changed = old.config_hash != new.config_hash
    # "optimal" → "feasible" (a solve that hit its time limit) at the same cost is not a change.
    moved = old.hourly_cost != new.hourly_cost or (old.status == "infeasible") != (
        new.status == "infeasible"
    )
    delta = (
        new.hourly_cost - old.hourly_cost
        if new.hourly_cost is not None and old.hourly_cost is not None
        else None
    )
    cause: ChangeCause
    configuration_delta: Decimal | None = None
    price_delta: Decimal | None = None
    if not moved:
        cause = "none"
    elif configuration_changed and catalog_changed:
        cause = "configuration and prices"
        bridged = bridge(new.key)
        if bridged is not None and delta is not None and old.hourly_cost is not None:
            configuration_delta = bridged - old.hourly_cost
            price_delta = delta - configuration_delta
    elif configuration_changed:
        cause, configuration_delta, price_delta = "configuration", delta, ZERO
    elif catalog_changed:
        cause, configuration_delta, price_delta = "prices", ZERO, delta
    else:
        # Same configuration, same catalog, yet another cost: planning options or fleet and
        # capacity files changed; neither drift explains it.
        cause = "other inputs"
    if delta is None:
        configuration_delta = price_delta = None
    return ServiceChange(
        key=new.key,
        name=new.name,
        change="changed" if moved else "unchanged",
        old_hourly=old.hourly_cost,
        new_hourly=new.hourly_cost,
        old_status=old.status,
        new_status=new.status,
        configuration_changed=configuration_changed,
        cause=cause,
        configuration_delta=configuration_delta,
        price_delta=price_delta,
    )
