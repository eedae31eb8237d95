"""What a service and the planning options ask of a plan: checked options → the model's ``ModelSpec``."""

from __future__ import annotations

import math

from planner.config.normalized import NormalizedService
from planner.errors import InputError, excerpt
from planner.placement.limits import MAX_BUDGET_HOURLY, MAX_REPLICAS, MAX_WORKERS
from planner.placement.model import ModelSpec
from planner.placement.replacement import MAX_REPLACEMENT_MINUTES
from planner.placement.result import PlanOptions


def validate_options(options: PlanOptions) -> None:
    """Every option in its range (the upper bounds keep the model within CP-SAT's integers)."""
    problems = []
    if not _is_number(options.availability_target) or not 0.0 < options.availability_target <= 1.0:
        problems.append(
            f"availability target must be in (0, 1], got {options.availability_target!r}"
        )
    if options.max_per_domain is not None and not _in_range(
        options.max_per_domain, 1, MAX_REPLICAS
    ):
        problems.append(
            f"max per failure domain must be an integer in 1..{MAX_REPLICAS}, "
            f"got {excerpt(options.max_per_domain, as_repr=True)}"
        )
    if not _in_range(options.on_demand_floor, 0, MAX_REPLICAS):
        problems.append(
            f"on-demand floor must be an integer in 0..{MAX_REPLICAS}, "
            f"got {excerpt(options.on_demand_floor, as_repr=True)}"
        )
    if options.budget_hourly is not None and not (
        _is_number(options.budget_hourly) and 0 <= options.budget_hourly <= MAX_BUDGET_HOURLY
    ):
        problems.append(
            f"hourly budget must be between 0 and {MAX_BUDGET_HOURLY:.0f} USD, "
            f"got {excerpt(options.budget_hourly, as_repr=True)}"
        )
    if not _is_number(options.time_limit_seconds) or not options.time_limit_seconds > 0:
        problems.append(
            f"time limit must be > 0 seconds, got {excerpt(options.time_limit_seconds, as_repr=True)}"
        )
    if not _in_range(options.num_workers, 1, MAX_WORKERS):
        problems.append(
            f"num_workers must be an integer in 1..{MAX_WORKERS}, got {excerpt(options.num_workers, as_repr=True)}"
        )
    if not _in_range(options.max_fallbacks, 0, MAX_REPLICAS):
        problems.append(
            f"max_fallbacks must be an integer in 0..{MAX_REPLICAS}, "
            f"got {excerpt(options.max_fallbacks, as_repr=True)}"
        )
    if not _is_number(options.replacement_minutes) or not (
        0 <= options.replacement_minutes <= MAX_REPLACEMENT_MINUTES
    ):
        problems.append(
            f"replacement time must be between 0 and {MAX_REPLACEMENT_MINUTES:.0f} minutes, "
            f"got {excerpt(options.replacement_minutes, as_repr=True)}"
        )
    if not _is_number(options.interruption_rate) or not 0 <= options.interruption_rate < 1:
        problems.append(
            "interruption rate must be a monthly probability in [0, 1), "
            f"got {excerpt(options.interruption_rate, as_repr=True)}"
        )
    if options.failure_domain not in ("instance-type", "region"):
        problems.append(
            f"failure domain must be instance-type or region, got {options.failure_domain}"
        )
    if problems:
        raise InputError("; ".join(problems))


def validate_replicas(service: NormalizedService) -> None:
    """The replica range fits the model (``MAX_REPLICAS``)."""
    low, high = service.replicas.min or 0, service.replicas.max
    largest = max(low, high or 0)
    if largest > MAX_REPLICAS:
        raise InputError(
            f"replicas: the planner plans at most {MAX_REPLICAS} replicas, got {excerpt(largest, as_repr=True)}"
        )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def _in_range(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def retries_on_interruption(service: NormalizedService) -> bool:
    return service.retry is not None and "interruption" in service.retry.on_events


def default_protections(spec: ModelSpec) -> tuple[str, ...]:
    """The constraints of ``spec`` that the planner adds on its own rather than the user asking
    for them: wave survival and the default spread. They are best-effort (docs/planning.md)."""
    names = []
    if spec.wave_survival:
        names.append("wave_survival")
    if spec.max_per_domain is not None and not spec.spread_every:
        names.append("failure_domain_spread")
    return tuple(names)


def model_spec(
    service: NormalizedService, options: PlanOptions, replicas: int, *, capacity_limits: bool = True
) -> ModelSpec:
    """The constraints the service and the options impose on a plan of ``replicas`` replicas."""
    spot_possible = service.spot_policy != "on-demand"
    interruption_retry = retries_on_interruption(service)
    wave_survival = spot_possible and interruption_retry and options.wave_survival
    # The user's --max-per-domain counts every replica of a domain, on-demand included.
    spread_every = options.max_per_domain is not None
    max_per_domain = options.max_per_domain
    if (
        max_per_domain is None
        and spot_possible
        and interruption_retry
        and not wave_survival
        and options.default_spread
        and replicas > 1
    ):
        # Without wave survival, the default spread: one preemption wave takes at most half
        # the replicas (rounded up). Wave survival is stronger: one wave takes only spares.
        max_per_domain = math.ceil(replicas / 2)
    return ModelSpec(
        replicas=replicas,
        spot_policy=service.spot_policy,
        max_price=service.max_price,
        reuse_only=service.creation_policy == "reuse",
        capacity=capacity_limits and options.capacity_limits,
        max_per_domain=max_per_domain if spot_possible or spread_every else None,
        # With retry an interrupted replica is replaced; without it, it is lost for good, so the
        # expected-survival hedge matters all the more: it applies whenever spot may be used.
        hedge=spot_possible and options.hedge,
        availability_target=options.availability_target,
        # A floor above the replica count means every replica (not extra replicas nobody
        # asked for, nor an infeasible plan at the low end of a range).
        on_demand_floor=min(options.on_demand_floor, replicas),
        budget_hourly=options.budget_hourly,
        wave_survival=wave_survival,
        spread_every=spread_every,
    )
