"""Budget gates: the lines a report must stay under, and which services cross them.

Limits come from the command line (the total) and from a policy file (per service, and the
total). A policy file is YAML read by the service files' reader (positions, duplicated keys
refused)::

    total:
      budget_monthly: 20000
    services:
      llm/chat.yml:            # a service's key (its path in the report) or its name
        budget_hourly: 12
        max_increase: 10%      # over the baseline: USD per month, or a percentage

A gate is checked against the report's own figures; it never constrains the plan (a plan held
under a budget would come back infeasible instead of saying by how much it is over).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from planner.config.yaml_loader import format_path, parse_yaml
from planner.cost_report.model import Diff, GateFailure, ServiceCost, Total
from planner.cost_report.money import ZERO, monthly_usd, percent_change
from planner.errors import ConfigError, InputError, Problem


@dataclass(frozen=True)
class Increase:
    """The most a cost may rise over the baseline: USD per month, or a percentage."""

    amount: Decimal
    percent: bool

    @classmethod
    def parse(cls, text: str | float | int) -> Increase:
        raw = str(text).strip()
        percent = raw.endswith("%")
        number = raw.removesuffix("%").strip().removeprefix("$")
        try:
            amount = Decimal(number)
        except InvalidOperation:
            raise ValueError(
                f"expected an amount in USD per month (`50`) or a percentage (`10%`), got {raw!r}"
            ) from None
        if not amount.is_finite() or amount < 0:
            raise ValueError(f"expected an amount ≥ 0, got {raw!r}")
        return cls(amount=amount, percent=percent)

    def __str__(self) -> str:
        return f"{self.amount}%" if self.percent else f"{self.amount}"


@dataclass(frozen=True)
class Limits:
    budget_hourly: Decimal | None = None
    budget_monthly: Decimal | None = None
    max_increase: Increase | None = None

    def merged_over(self, other: Limits) -> Limits:
        """These limits, with ``other``'s where these have none."""
        return Limits(
            budget_hourly=self.budget_hourly
            if self.budget_hourly is not None
            else other.budget_hourly,
            budget_monthly=self.budget_monthly
            if self.budget_monthly is not None
            else other.budget_monthly,
            max_increase=self.max_increase if self.max_increase is not None else other.max_increase,
        )


@dataclass(frozen=True)
class Policy:
    """The limits of a report: on the total, and per service (by key or name)."""

    total: Limits = Limits()
    services: Mapping[str, Limits] = field(default_factory=dict)
    source: str | None = None


class _LimitsModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_hourly: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    budget_monthly: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    max_increase: str | None = None

    @field_validator("max_increase", mode="before")
    @classmethod
    def _increase(cls, value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("expected an amount (`50`) or a percentage (`10%`)")
        return str(Increase.parse(value))

    def limits(self) -> Limits:
        return Limits(
            budget_hourly=self.budget_hourly,
            budget_monthly=self.budget_monthly,
            max_increase=Increase.parse(self.max_increase) if self.max_increase else None,
        )


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: _LimitsModel = _LimitsModel()
    services: dict[str, _LimitsModel] = {}


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read a policy file; a bad value is an ``InputError`` at its file, line and field."""
    file = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(Problem("no such file", file=file)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Problem(f"cannot read the policy file: {error}", file=file)) from None
    try:
        document = parse_yaml(text, file)
    except ConfigError as error:
        raise InputError(error.problems) from None
    data = {} if document is None else document.data
    if not isinstance(data, dict):
        raise InputError(
            Problem("a policy file is a mapping with `total:` and `services:`", file=file, line=1)
        )
    try:
        model = _PolicyModel.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            location = tuple(item["loc"])
            unknown_key = item["type"] == "extra_forbidden"
            mark = document.locate(location, key=unknown_key) if document is not None else None
            message = str(item["msg"]).removeprefix("Value error, ")
            if unknown_key:
                message = "unknown key (expected budget_hourly, budget_monthly, max_increase)"
            problems.append(
                Problem(
                    message,
                    file=file,
                    line=mark.line if mark else None,
                    column=mark.column if mark else None,
                    path=format_path(location),
                )
            )
        raise InputError(problems) from None
    return Policy(
        total=model.total.limits(),
        services={key: value.limits() for key, value in model.services.items()},
        source=file,
    )


def gate_names(total: Limits, per_service: Mapping[str, Limits]) -> tuple[str, ...]:
    """The gates a report checks, for the record (the infeasible check always runs)."""
    names = ["infeasible"]
    every = [total, *per_service.values()]
    if any(limits.budget_hourly is not None for limits in every):
        names.append("budget-hourly")
    if any(limits.budget_monthly is not None for limits in every):
        names.append("budget-monthly")
    if any(limits.max_increase is not None for limits in every):
        names.append("max-increase")
    return tuple(names)


def service_limits(policy: Policy, services: Sequence[tuple[str, str | None]]) -> dict[str, Limits]:
    """Each policy entry resolved to a service key; an entry naming no service is an error.

    ``services``: each service's key and name, in report order.
    """
    by_key = {key for key, _ in services}
    by_name: dict[str, list[str]] = {}
    for key, name in services:
        if name:
            by_name.setdefault(name, []).append(key)
    resolved: dict[str, Limits] = {}
    for entry, limits in policy.services.items():
        if entry in by_key:
            keys = [entry]
        elif entry in by_name:
            keys = by_name[entry]
        else:
            known = ", ".join(sorted(by_key)) or "none"
            raise InputError(
                Problem(
                    f"the policy names a service that is not in the report (services: {known})",
                    file=policy.source,
                    path=f"services.{entry}",
                )
            )
        for key in keys:
            resolved[key] = limits.merged_over(resolved.get(key, Limits()))
    return resolved


def check(
    services: tuple[ServiceCost, ...],
    total: Total,
    diff: Diff | None,
    *,
    total_limits: Limits,
    per_service: Mapping[str, Limits],
) -> tuple[GateFailure, ...]:
    """Every line crossed, services first (in report order), then the total."""
    failures: list[GateFailure] = [
        GateFailure(gate="infeasible", service=service.key, limit=None, actual=None)
        for service in services
        if not service.feasible
    ]
    changes = {change.key: change for change in diff.changes} if diff else {}
    for service in services:
        limits = per_service.get(service.key)
        if limits is None or service.hourly_cost is None:
            continue
        change = changes.get(service.key)
        old = None
        if change is not None:
            old = ZERO if change.change == "added" else change.old_hourly
        failures += _over(service.key, limits, service.hourly_cost, old)
    old_total = diff.old_total_hourly if diff else None
    failures += _over(None, total_limits, total.hourly_cost, old_total)
    return tuple(failures)


def _over(
    key: str | None, limits: Limits, hourly: Decimal, old_hourly: Decimal | None
) -> list[GateFailure]:
    failures = []
    monthly = monthly_usd(hourly)
    assert monthly is not None
    if limits.budget_hourly is not None and hourly > limits.budget_hourly:
        failures.append(
            GateFailure("budget-hourly", key, str(limits.budget_hourly), format(hourly, "f"))
        )
    if limits.budget_monthly is not None and monthly > limits.budget_monthly:
        failures.append(
            GateFailure("budget-monthly", key, str(limits.budget_monthly), format(monthly, "f"))
        )
    increase = limits.max_increase
    if increase is not None and old_hourly is not None:
        if increase.percent:
            percent = percent_change(old_hourly, hourly)
            # A service that was free (or new) has no percentage; the absolute gate covers it.
            if percent is not None and percent > increase.amount:
                failures.append(GateFailure("max-increase", key, str(increase), f"{percent}%"))
        else:
            old_monthly = monthly_usd(old_hourly)
            assert old_monthly is not None
            rise = monthly - old_monthly
            if rise > increase.amount:
                failures.append(GateFailure("max-increase", key, str(increase), format(rise, "f")))
    return failures
