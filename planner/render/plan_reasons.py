"""Why a plan is infeasible, in words: one sentence per typed cause (``planner.placement.reasons``)."""

from __future__ import annotations

from collections.abc import Sequence

from planner.placement.reasons import (
    BudgetTooLow,
    CapacityTooSmall,
    FloorUnmet,
    GroupCannotBePlaced,
    GroupsOnlyTogether,
    HedgeUnreachable,
    InfeasibleCause,
    MaxPriceTooLow,
    NoOffer,
    OnlyTogether,
    ReuseOnly,
    RpsUnreachable,
    SpotPolicyTooNarrow,
    SpreadTooTight,
    TimeLimitWithoutPlan,
    TooFewPlaces,
    WaveUnsurvivable,
)


def cause_words(cause: InfeasibleCause) -> str:
    """The sentence for one cause."""
    match cause:
        case TimeLimitWithoutPlan(time_limit_seconds=seconds):
            return f"no plan was found within the time limit ({seconds:g} s): raise --time-limit"
        case ReuseOnly(idle=0):
            return (
                "creation_policy: reuse allows only idle fleet instances, and no idle fleet "
                "instance satisfies the configuration"
            )
        case ReuseOnly(idle=idle, replicas=replicas):
            return (
                f"creation_policy: reuse allows only idle fleet instances, and only {idle} "
                f"satisfy the configuration ({replicas} needed)"
            )
        case SpotPolicyTooNarrow(spot_policy=policy):
            return f"spot_policy: {policy} leaves too few offers"
        case MaxPriceTooLow(max_price=price):
            return f"max_price: {price:g} excludes the offers that would be needed"
        case CapacityTooSmall():
            return (
                "capacity: the obtainable counts (capacity file; one per marketplace listing) "
                "are too small"
            )
        case SpreadTooTight(max_per_domain=limit, every_replica=every):
            counted = "replicas" if every else "spot replicas"
            return (
                f"failure_domain_spread: at most {limit} {counted} per failure domain leaves too "
                "few domains"
            )
        case WaveUnsurvivable(replicas=replicas):
            return (
                f"wave_survival: no plan keeps {replicas} replicas after losing every spot "
                "replica of any one failure domain"
            )
        case HedgeUnreachable(availability_target=target, replicas=replicas):
            return (
                "availability_hedge: the expected surviving replicas cannot reach "
                f"{target:g} × {replicas}"
            )
        case FloorUnmet(floor=floor):
            return f"on_demand_floor: {floor} replicas on never-interrupted capacity cannot be met"
        case BudgetTooLow(budget_hourly=budget):
            amount = f"{budget:,.6f}".rstrip("0").rstrip(".")
            return f"budget: no plan costs at most ${amount}/hour"
        case OnlyTogether(constraints=names):
            return "no single constraint makes it infeasible; together they do: " + ", ".join(names)
        case NoOffer():
            return "no offer satisfies the configuration (see the exclusions)"
        case TooFewPlaces(replicas=replicas, placeable=placeable):
            return (
                f"replica_total: {replicas} replicas are needed but the offers (with "
                "reservations, idle fleet instances and obtainable counts) can hold only "
                f"{placeable}"
            )
        case GroupCannotBePlaced(group=group, causes=causes):
            return f"group {group}: " + (infeasible_reason(causes) or "no plan")
        case RpsUnreachable(rps=rps, most=most):
            return (
                f"rps: the groups serve at most {most:g} requests per second at their largest "
                f"counts, below the {rps:g} asked"
            )
        case GroupsOnlyTogether():
            return (
                "each replica group can be placed alone, but not all together: the capacity they "
                "share, the hourly budget or the traffic level cannot be met at once"
            )
    raise AssertionError(f"an infeasible cause without words: {cause!r}")


def infeasible_reason(causes: Sequence[InfeasibleCause]) -> str | None:
    """The causes as one line (``None`` when there are none): the JSON ``infeasible_reason``."""
    if not causes:
        return None
    return "; ".join(cause_words(cause) for cause in causes)
