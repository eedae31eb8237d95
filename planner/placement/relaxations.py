"""Relaxing a constraint is re-planning as the user would: one home for "flag → options".

Each constraint ``explain`` can relax maps to a change of what the user gives the planner — a
planning flag (a ``PlanOptions`` field) or, for the service's own policies, an edit of the service
file. ``explain`` re-plans with exactly that change, so every saving it reports is what passing
the flag (or making the edit) produces, default protections included: dropping wave survival
brings back the default spread, as ``--no-wave-survival`` does.

The CLI's switches (``--no-wave-survival``, ``--no-hedge``, ``--no-default-spread``,
``--no-capacity-limits``, and ``--no-group-survival`` for replica groups) map to options here (``SWITCHES``); ``planner plan`` applies them with
``switched_off``, as explain does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any, Final

import numpy as np

from planner.config.normalized import NormalizedService
from planner.placement.inputs import UNLIMITED
from planner.placement.model import ModelSpec, PoolArrays
from planner.placement.result import PlanOptions
from planner.placement.spec import model_spec


@dataclass(frozen=True)
class Switch:
    """A boolean planning flag: ``flag`` sets ``PlanOptions.<field>`` to ``False``."""

    flag: str
    field: str
    constraint: str  # the constraint it drops (a name of ``model.RELAXABLE``)


SWITCHES: Final[tuple[Switch, ...]] = (
    Switch("--no-wave-survival", "wave_survival", "wave_survival"),
    Switch("--no-hedge", "hedge", "availability_hedge"),
    Switch("--no-default-spread", "default_spread", "failure_domain_spread"),
    Switch("--no-capacity-limits", "capacity_limits", "capacity"),
    # Replica groups only (group_plan.py): every role keeps a replica outside each domain.
    Switch("--no-group-survival", "group_survival", "group_domain_survival"),
)

# Constraints that interact: relaxing one alone may save nothing while relaxing two together
# does (each forces the same extra replicas), so explain also relaxes every pair of them.
INTERACTING: Final = (
    "failure_domain_spread",
    "wave_survival",
    "availability_hedge",
    "on_demand_floor",
)


def switched_off(options: PlanOptions, flags: Iterable[str]) -> PlanOptions:
    """``options`` with the protections of the given ``SWITCHES`` flags turned off."""
    by_flag = {switch.flag: switch for switch in SWITCHES}
    off: dict[str, Any] = {by_flag[flag].field: False for flag in flags}
    return replace(options, **off)


def has_capacity_limits(arrays: PoolArrays) -> bool:
    """Some catalog pool (spot or on-demand) has an obtainable count (capacity data, listings)."""
    limited = (arrays.capacity != UNLIMITED) & np.isin(arrays.capacity_type, ["spot", "on-demand"])
    return bool(np.any(limited))


@dataclass(frozen=True)
class Replan:
    """What the user would give the planner to drop ``constraints``, and the flags/edits saying so."""

    constraints: tuple[str, ...]
    service: NormalizedService
    options: PlanOptions
    changes: tuple[str, ...]  # e.g. ("--no-wave-survival",), ("spot_policy: auto",)


def relaxation_sets(active: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Each active constraint alone, then every pair of the interacting ones."""
    paired = [name for name in active if name in INTERACTING]
    return (*((name,) for name in active), *combinations(paired, 2))


def relax(
    names: tuple[str, ...],
    service: NormalizedService,
    options: PlanOptions,
    *,
    replicas: int,
    capacity_limits: bool,
) -> Replan:
    """The service and options that drop ``names``, as the matching flags and edits would."""
    relaxed_service, relaxed = service, options
    for name in names:
        relaxed_service, relaxed = _relax_one(name, relaxed_service, relaxed)
    if "failure_domain_spread" in names and options.default_spread:
        # Turn the default spread off only where it would apply (minimal flags).
        with_default = replace(relaxed, default_spread=True)
        if _spec(relaxed_service, with_default, replicas, capacity_limits) == _spec(
            relaxed_service, relaxed, replicas, capacity_limits
        ):
            relaxed = with_default
    return Replan(
        constraints=names,
        service=relaxed_service,
        options=relaxed,
        changes=_changes(service, options, relaxed_service, relaxed),
    )


def _spec(
    service: NormalizedService, options: PlanOptions, replicas: int, capacity_limits: bool
) -> ModelSpec:
    return model_spec(service, options, replicas, capacity_limits=capacity_limits)


def _relax_one(
    name: str, service: NormalizedService, options: PlanOptions
) -> tuple[NormalizedService, PlanOptions]:
    for switch in SWITCHES:
        if switch.constraint == name and name != "failure_domain_spread":
            return service, switched_off(options, [switch.flag])
    if name == "failure_domain_spread":
        return service, replace(options, max_per_domain=None, default_spread=False)
    if name == "on_demand_floor":
        return service, replace(options, on_demand_floor=0)
    if name == "budget":
        return service, replace(options, budget_hourly=None)
    if name == "spot_policy":
        return service.model_copy(update={"spot_policy": "auto"}), options
    if name == "max_price":
        return service.model_copy(update={"max_price": None}), options
    if name == "creation_policy":
        return service.model_copy(update={"creation_policy": "reuse-or-create"}), options
    raise ValueError(f"not a relaxable constraint: {name}")


def _changes(
    service: NormalizedService,
    options: PlanOptions,
    relaxed_service: NormalizedService,
    relaxed: PlanOptions,
) -> tuple[str, ...]:
    """The command-line flags and service-file edits that turn the first into the second."""
    changes = [
        switch.flag
        for switch in SWITCHES
        if getattr(options, switch.field) and not getattr(relaxed, switch.field)
    ]
    for field, flag in (
        ("max_per_domain", "--max-per-domain"),
        ("on_demand_floor", "--on-demand-floor"),
        ("budget_hourly", "--budget-hourly"),
    ):
        if getattr(options, field) != getattr(relaxed, field):
            changes.append(f"without {flag}")
    if service.spot_policy != relaxed_service.spot_policy:
        changes.append(f"spot_policy: {relaxed_service.spot_policy}")
    if service.max_price != relaxed_service.max_price:
        changes.append("without max_price")
    if service.creation_policy != relaxed_service.creation_policy:
        changes.append(f"creation_policy: {relaxed_service.creation_policy}")
    return tuple(changes)
