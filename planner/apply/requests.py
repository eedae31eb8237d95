"""From a plan to create calls: plan ids, replica slots, client tokens, tags, markets."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from planner.backends.base import (
    TAG_CLIENT_TOKEN,
    TAG_PLAN,
    TAG_REPLICA,
    TAG_SERVICE,
    InstanceRequest,
    Market,
)
from planner.placement.result import Plan

__all__ = ["client_token", "instance_request", "market_of", "offer_key", "plan_id"]

_MARKETS: Mapping[str, Market] = {
    "spot": "spot",
    "on-demand": "on-demand",
    "reserved": "reservation",
}


def plan_id(plan: Plan) -> str:
    """A short digest of what the plan places where: the same plan, the same id."""
    placed = [
        [offer_key(placement.offer), placement.capacity_type, placement.count]
        for placement in plan.placements
    ]
    digest = hashlib.sha256(json.dumps(placed, sort_keys=True).encode()).hexdigest()
    return digest[:12]


def offer_key(offer: Mapping[str, Any]) -> str:
    return "/".join(str(offer.get(part)) for part in ("backend", "region", "instance_type", "spot"))


def market_of(capacity_type: str) -> Market | None:
    """The market a capacity type is bought on; None for ``existing`` (nothing to create)."""
    return _MARKETS.get(capacity_type)


def client_token(
    plan: str, slot: str, offer: Mapping[str, Any], market: str, generation: int
) -> str:
    """Deterministic per (plan, replica, offer, market, replacement): a re-run after a crash
    repeats the same token, so the provider returns the instance it already created.
    At most 64 ASCII characters (EC2's limit)."""
    text = json.dumps([plan, slot, offer_key(offer), market, generation])
    return "plnr-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def instance_request(
    *,
    service: str,
    plan: str,
    slot: str,
    offer: Mapping[str, Any],
    market: Market,
    generation: int,
    reservation: str | None,
    max_price: float | None,
) -> InstanceRequest:
    token = client_token(plan, slot, offer, market, generation)
    return InstanceRequest(
        instance_type=str(offer["instance_type"]),
        region=str(offer["region"]),
        market=market,
        client_token=token,
        tags={TAG_SERVICE: service, TAG_REPLICA: slot, TAG_PLAN: plan, TAG_CLIENT_TOKEN: token},
        reservation=(offer.get("reservation") or reservation) if market == "reservation" else None,
        max_price=max_price if market == "spot" else None,
        offer=dict(offer),
    )
