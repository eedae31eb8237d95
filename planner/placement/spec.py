"""What a service and the planning options ask of a plan: checked options → the model's ``ModelSpec``."""

from __future__ import annotations

import math

from planner.config.normalized import NormalizedService
from planner.errors import InputError
from planner.placement.model import ModelSpec
from planner.placement.result import PlanOptions


def validate_options(options: PlanOptions) -> None:
    problems = []
    if not 0.0 < options.availability_target <= 1.0:
        problems.append(f"availability target must be in (0, 1], got {options.availability_target}")
    if options.max_per_domain is not None and options.max_per_domain < 1:
        problems.append(f"max per failure domain must be ≥ 1, got {options.max_per_domain}")
    if options.on_demand_floor < 0:
        problems.append(f"on-demand floor must be ≥ 0, got {options.on_demand_floor}")
    if options.budget_hourly is not None and not (
        math.isfinite(options.budget_hourly) and options.budget_hourly >= 0
    ):
        problems.append(f"hourly budget must be ≥ 0, got {options.budget_hourly}")
    if not options.time_limit_seconds > 0:
        problems.append(f"time limit must be > 0 seconds, got {options.time_limit_seconds}")
    if options.num_workers < 1:
        problems.append(f"num_workers must be ≥ 1, got {options.num_workers}")
    if options.failure_domain not in ("instance-type", "region"):
        problems.append(
            f"failure domain must be instance-type or region, got {options.failure_domain}"
        )
    if problems:
        raise InputError("; ".join(problems))


def retries_on_interruption(service: NormalizedService) -> bool:
    return service.retry is not None and "interruption" in service.retry.on_events


def model_spec(
    service: NormalizedService, options: PlanOptions, replicas: int, *, capacity_limits: bool = True
) -> ModelSpec:
    """The constraints the service and the options impose on a plan of ``replicas`` replicas."""
    spot_possible = service.spot_policy != "on-demand"
    interruption_retry = retries_on_interruption(service)
    wave_survival = spot_possible and interruption_retry and options.wave_survival
    max_per_domain = options.max_per_domain
    if (
        max_per_domain is None
        and spot_possible
        and interruption_retry
        and not wave_survival
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
        capacity=capacity_limits,
        max_per_domain=max_per_domain if spot_possible else None,
        hedge=spot_possible and interruption_retry,
        availability_target=options.availability_target,
        # A floor above the replica count means every replica (not extra replicas nobody
        # asked for, nor an infeasible plan at the low end of a range).
        on_demand_floor=min(options.on_demand_floor, replicas),
        budget_hourly=options.budget_hourly,
        wave_survival=wave_survival,
    )
