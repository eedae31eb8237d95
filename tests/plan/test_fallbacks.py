"""Fallback chains on small hand-made offer tables, where the expected chain is known exactly."""

from __future__ import annotations

from plan_frames import offer_frame, service

from planner.placement import CapacityData, PlanOptions, plan_offers
from planner.placement.inputs import CapacityRule

OFFERS = [
    {"provider": "aws", "region": "us-east-1", "instance_type": "p", "spot": True, "price": 1.0},
    {"provider": "aws", "region": "us-east-2", "instance_type": "p", "spot": True, "price": 1.1},
    {"provider": "gcp", "region": "us-central1", "instance_type": "a", "spot": True, "price": 1.2},
    {"provider": "gcp", "region": "europe-west4", "instance_type": "a", "spot": True, "price": 1.3},
    {"provider": "aws", "region": "us-east-1", "instance_type": "p", "spot": False, "price": 3.0},
    {"provider": "gcp", "region": "us-central1", "instance_type": "a", "spot": False, "price": 2.5},
]


def _chain(placement: object, event: str) -> list[tuple[str, str, bool]]:
    return [
        (f.offer["provider"], f.offer["region"], f.offer["spot"])
        for f in placement.fallbacks_for(event)  # type: ignore[attr-defined]
    ]


def test_interruption_goes_to_another_domain_then_on_demand_under_auto() -> None:
    result = plan_offers(
        offer_frame(OFFERS),
        service(2, spot_policy="auto", retry_events=("no-capacity", "interruption")),
        options=PlanOptions(
            explain=False, max_fallbacks=2, availability_target=0.5, wave_survival=False
        ),
    )
    assert result.status == "optimal"
    # Without wave survival, the default spread K = 1 (half of 2): the two cheapest spot
    # markets, one replica each.
    first, second = result.placements
    assert (first.offer["region"], first.count) == ("us-east-1", 1)
    assert (second.offer["region"], second.count) == ("us-east-2", 1)
    # Interruption: spot in another failure domain with room (its own domain is full at K = 1,
    # so is the other placement's), cheapest first, then the cheapest on-demand pool.
    assert _chain(first, "interruption") == [
        ("gcp", "us-central1", True),
        ("gcp", "europe-west4", True),
        ("gcp", "us-central1", False),
    ]
    # No capacity: the next cheapest pools that keep the spread, the hedge and the rest.
    assert _chain(first, "no-capacity") == [
        ("gcp", "us-central1", True),
        ("gcp", "europe-west4", True),
    ]
    deltas = [round(f.hourly_price_delta, 6) for f in first.fallbacks_for("interruption")]
    assert deltas == [0.2, 0.3, 1.5]


def test_wave_survival_plans_a_spare_and_keeps_it_in_the_fallbacks() -> None:
    result = plan_offers(
        offer_frame(OFFERS),
        service(2, spot_policy="auto", retry_events=("no-capacity", "interruption")),
        options=PlanOptions(explain=False, max_fallbacks=2, availability_target=0.5),
    )
    assert result.status == "optimal"
    assert result.settings["wave_survival"] is True
    assert result.settings["max_per_domain"] is None
    # Losing any one domain must leave 2 replicas: three spot domains, one replica each
    # ($3.30/h), is cheaper than two spot + one on-demand ($4.60/h) or two on-demand ($5.50/h).
    assert [(p.offer["region"], p.count) for p in result.placements] == [
        ("us-east-1", 1),
        ("us-east-2", 1),
        ("us-central1", 1),
    ]
    assert result.hourly_cost == 3.3 and result.hedge_replicas == 1
    first = result.placements[0]
    # A fallback may not put a second replica into a used domain (a wave there would then
    # take two of the three): the empty europe-west4 domain, then on-demand.
    assert _chain(first, "interruption") == [
        ("gcp", "europe-west4", True),
        ("gcp", "us-central1", False),
    ]
    assert _chain(first, "no-capacity") == [
        ("gcp", "europe-west4", True),
        ("gcp", "us-central1", False),
    ]


def test_spot_policy_spot_never_falls_back_to_on_demand() -> None:
    result = plan_offers(
        offer_frame(OFFERS),
        service(1, spot_policy="spot", retry_events=("interruption",)),
        options=PlanOptions(explain=False, availability_target=0.5),
    )
    # One replica survives a wave in either domain only with a spare in another domain.
    assert [p.count for p in result.placements] == [1, 1]
    for placement in result.placements:
        chain = placement.fallbacks_for("interruption")
        assert chain and all(f.capacity_type == "spot" for f in chain)
        assert placement.fallbacks_for("no-capacity") == ()  # not a configured retry event


def test_fallbacks_keep_the_on_demand_floor_and_capacity() -> None:
    capacity = CapacityData(
        rules=(CapacityRule("gcp", "us-central1", "a", False, 1, None, "test:1"),)
    )
    result = plan_offers(
        offer_frame(OFFERS),
        service(2, spot_policy="auto", retry_events=("no-capacity",)),
        capacity=capacity,
        options=PlanOptions(explain=False, on_demand_floor=1),
    )
    on_demand = next(p for p in result.placements if p.capacity_type == "on-demand")
    assert (on_demand.offer["provider"], on_demand.count) == ("gcp", 1)
    # The floor is tight: the on-demand replica may only move to another on-demand pool.
    assert _chain(on_demand, "no-capacity") == [("aws", "us-east-1", False)]
    spot = next(p for p in result.placements if p.capacity_type == "spot")
    # gcp/us-central1 on-demand is full (capacity 1), so the spot replica skips it.
    assert ("gcp", "us-central1", False) not in _chain(spot, "no-capacity")


def test_no_retry_means_no_fallbacks() -> None:
    result = plan_offers(
        offer_frame(OFFERS), service(3, spot_policy="auto"), options=PlanOptions(explain=False)
    )
    assert all(placement.fallbacks == () for placement in result.placements)
    # No spread without retry on interruption; an interrupted replica is not replaced, so the
    # hedge carries 3 / (1 - 0.3) → 5 (issue 9).
    assert result.placements[0].count == 5
