"""``report(paths, ...) -> Report``: price every service file, diff against a baseline, check gates.

The order is the order a CI job wants its failures in: every input file is read and validated
first (a broken one is exit 2 before any solve), then the catalog is loaded once, then each
service is planned (identical requirements once), then the baseline is priced, then the gates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from planner.catalog import Catalog
from planner.config.dstack_settings import DstackServerSettings
from planner.cost_report.baseline import Baseline, BaselineService, diff, read_baseline_report
from planner.cost_report.envelope import check_trace_services, service_envelope
from planner.cost_report.files import find_service_files
from planner.cost_report.gates import (
    Increase,
    Limits,
    Policy,
    check,
    gate_names,
    load_policy,
    service_limits,
)
from planner.cost_report.model import Report, ServiceCost, Total
from planner.cost_report.money import ZERO
from planner.cost_report.pricing import (
    LoadedService,
    PlanCache,
    catalog_identity,
    load_services,
    service_cost,
)
from planner.errors import InputError, Problem
from planner.match.dstack import server_settings
from planner.placement import (
    CapacityData,
    FleetInventory,
    PlanOptions,
    load_capacity,
    load_fleet,
)
from planner.simulate.traffic import TrafficTraces, load_traffic
from planner.version import __version__

PathArgument = str | os.PathLike[str]
# A catalog, or what loads one: called after every input file is read, so a broken file fails
# fast (the CLI passes its --catalog loader).
CatalogArgument = Catalog | Callable[[], Catalog] | None

# A report asks for costs, not for what each constraint costs: the explain re-solves are skipped
# unless the caller's options ask for them.
REPORT_PLAN_OPTIONS = PlanOptions(explain=False)


def report(
    paths: PathArgument | Sequence[PathArgument],
    *,
    catalog: CatalogArgument = None,
    fleet: FleetInventory | PathArgument | None = None,
    capacity: CapacityData | PathArgument | None = None,
    options: PlanOptions | None = None,
    baseline: PathArgument | None = None,
    baseline_catalog: CatalogArgument = None,
    policy: Policy | PathArgument | None = None,
    budget_hourly: Decimal | float | str | None = None,
    budget_monthly: Decimal | float | str | None = None,
    max_increase: Increase | str | float | None = None,
    traffic: TrafficTraces | PathArgument | None = None,
    generated_at: datetime | None = None,
    rows: bool = False,
    dstack_config: DstackServerSettings | PathArgument | None = None,
) -> Report:
    """A cost report over service files (paths, directories or globs); see docs/cli.md.

    ``catalog`` (default: bundled) and ``baseline_catalog`` may be a function that loads one.

    ``baseline``: a previous JSON report or a directory of service files; with it, ``Report.diff``.
    ``baseline_catalog``: the catalog the baseline was priced on, to price a directory baseline
    and to split a change of both configuration and prices (a JSON baseline's catalog must match
    the fingerprint it recorded). ``policy``: per-service limits (a ``Policy`` or a YAML file).
    ``budget_hourly`` / ``budget_monthly`` / ``max_increase`` (USD per month, or ``"10%"``): the
    total's limits, over the policy's. ``traffic``: a request-rate trace (``TrafficTraces`` or a
    CSV file, shared or per service): each service with a replica range and a ``scaling`` rule
    gets its autoscaling cost envelope in ``ServiceCost.envelope``, the others a note in
    ``ServiceCost.envelope_note``; gates stay on the plan's cost. ``generated_at``: the report time (default: now, UTC).
    ``rows`` / ``dstack_config``: as for ``planner.plan`` — plan on catalog rows, or on the offers of
    that dstack server (default: dstack-level offers of every backend); a directory baseline is
    planned the same way.
    Bad input raises a ``PlannerError``; gates crossed are in ``Report.failures``.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    found = find_service_files(paths)
    loaded = load_services(found.services)
    if isinstance(fleet, str | os.PathLike):
        fleet = load_fleet(fleet)
    if isinstance(capacity, str | os.PathLike):
        capacity = load_capacity(capacity)
    if policy is not None and not isinstance(policy, Policy):
        policy = load_policy(policy)
    policy = policy or Policy()
    command_line = Limits(
        budget_hourly=_amount(budget_hourly, "budget_hourly"),
        budget_monthly=_amount(budget_monthly, "budget_monthly"),
        max_increase=_increase(max_increase),
    )
    total_limits = command_line.merged_over(policy.total)
    baseline_source = _baseline_source(baseline)
    baseline_loaded = None
    baseline_report = None
    if baseline_source is not None and baseline_source.is_dir():
        baseline_loaded = load_services(find_service_files([baseline_source]).services)
    elif baseline_source is not None:
        baseline_report = read_baseline_report(baseline_source)

    per_service = service_limits(
        policy, [(item.file.key, item.config.normalized.name) for item in loaded]
    )
    wants_baseline = total_limits.max_increase is not None or any(
        limits.max_increase is not None for limits in per_service.values()
    )
    if wants_baseline and baseline_source is None:
        raise InputError(Problem("--max-increase compares with a baseline: add --baseline"))
    if traffic is not None and not isinstance(traffic, TrafficTraces):
        traffic = load_traffic(Path(traffic))
    if traffic is not None:
        check_trace_services(
            traffic, [(item.file.key, item.config.normalized.name) for item in loaded]
        )

    catalog = _load(catalog)
    if catalog is None:
        catalog = Catalog.load()
    baseline_catalog = _load(baseline_catalog)
    identity = catalog_identity(catalog)
    if rows and dstack_config is not None:
        raise InputError(
            Problem("rows plans on catalog rows; dstack_config needs dstack-level offers")
        )
    cache = PlanCache(
        fleet=fleet,
        capacity=capacity,
        options=options or REPORT_PLAN_OPTIONS,
        rows=rows,
        dstack_config=server_settings(dstack_config),
    )
    services = tuple(service_cost(item, catalog, cache) for item in loaded)
    if traffic is not None:
        services = tuple(
            _with_envelope(service, item, traffic, catalog, cache)
            for service, item in zip(services, loaded, strict=True)
        )
    feasible = [service.hourly_cost for service in services if service.hourly_cost is not None]
    total = Total(
        hourly_cost=sum(feasible, ZERO),
        services=len(services),
        infeasible=len(services) - len(feasible),
    )

    report_diff = None
    if baseline_source is not None:
        base_identity = catalog_identity(baseline_catalog) if baseline_catalog is not None else None
        base_catalog = baseline_catalog if baseline_catalog is not None else catalog
        if baseline_loaded is not None:
            old = tuple(service_cost(item, base_catalog, cache) for item in baseline_loaded)
            base = Baseline(
                kind="directory",
                location=str(baseline_source),
                catalog=base_identity or identity,
                services={service.key: BaselineService.of(service) for service in old},
            )
        else:
            assert baseline_report is not None
            base = baseline_report
            if base_identity is not None and base.catalog is not None:
                if base_identity.fingerprint != base.catalog.fingerprint:
                    raise InputError(
                        Problem(
                            "the baseline catalog is not the catalog this report was priced on "
                            f"(fingerprint {base_identity.fingerprint} ≠ "
                            f"{base.catalog.fingerprint})",
                            file=str(baseline_source),
                            path="catalog.fingerprint",
                        )
                    )
                base = replace(base, catalog=base_identity)
        by_key = {item.file.key: item for item in loaded}

        def bridge(key: str) -> Decimal | None:
            """The new configuration priced on the baseline catalog, when that catalog is here."""
            if baseline_catalog is None and base.kind == "report":
                return None
            return service_cost(by_key[key], base_catalog, cache).hourly_cost

        report_diff = diff(services, base, current_catalog=identity, bridge=bridge)

    failures = check(
        services, total, report_diff, total_limits=total_limits, per_service=per_service
    )
    return Report(
        generated_at=_utc(generated_at),
        planner_version=__version__,
        catalog=identity,
        services=services,
        skipped=found.skipped,
        total=total,
        diff=report_diff,
        failures=failures,
        gates=gate_names(total_limits, per_service),
    )


def _with_envelope(
    service: ServiceCost,
    item: LoadedService,
    traffic: TrafficTraces,
    catalog: Catalog,
    cache: PlanCache,
) -> ServiceCost:
    normalized = item.config.normalized
    plan = cache.plan(normalized, catalog)  # the plan service_cost made, from the cache
    envelope, note = service_envelope(traffic, service.key, normalized, plan)
    return replace(service, envelope=envelope, envelope_note=note)


def _load(catalog: CatalogArgument) -> Catalog | None:
    if catalog is None or isinstance(catalog, Catalog):
        return catalog
    return catalog()


def _baseline_source(baseline: PathArgument | None) -> Path | None:
    if baseline is None:
        return None
    path = Path(baseline)
    if not path.exists():
        raise InputError(Problem("no such file or directory", file=str(baseline)))
    return path


def _amount(value: Decimal | float | str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise InputError(Problem(f"expected an amount in USD, got {value!r}", path=name)) from None
    if not amount.is_finite() or amount < 0:
        raise InputError(Problem(f"expected an amount ≥ 0, got {value!r}", path=name))
    return amount


def _increase(value: Increase | str | float | None) -> Increase | None:
    if value is None or isinstance(value, Increase):
        return value
    try:
        return Increase.parse(value)
    except ValueError as error:
        raise InputError(Problem(str(error), path="max_increase")) from None


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC).replace(microsecond=0)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
