"""Provisioning on EC2: ``run_instances`` as a request's market says, found again by tags.

Idempotency: ``ClientToken`` makes EC2 return the first instance for a retried call; the token is
also a tag (``planner:client-token``), looked up before every run, so a retry finds its instance
even where the token is not honoured (an emulator, or after the token's validity ended).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from planner.backends.aws.settings import AwsSettings
from planner.backends.base import (
    TAG_CLIENT_TOKEN,
    TAG_SERVICE,
    BackendError,
    Instance,
    InstanceRequest,
    InstanceState,
    Market,
)

# EC2's instance states → the planner's.
STATES: Final[Mapping[str, InstanceState]] = {
    "pending": "pending",
    "running": "running",
    "shutting-down": "stopping",
    "stopping": "stopping",
    "stopped": "stopping",
    "terminated": "terminated",
}
LIVE_STATES: Final = ("pending", "running", "shutting-down", "stopping", "stopped")
# EC2 limits: ClientToken up to 64 ASCII characters; tag values up to 256.
MAX_CLIENT_TOKEN: Final = 64


def run_request(request: InstanceRequest, settings: AwsSettings) -> dict[str, Any]:
    """The ``run_instances`` parameters of ``request`` (one instance)."""
    if not settings.image_id:
        raise BackendError(
            "the aws backend needs image_id (the AMI to boot) in its settings to create instances"
        )
    if not request.client_token or len(request.client_token) > MAX_CLIENT_TOKEN:
        raise BackendError(f"a client token must have 1 to {MAX_CLIENT_TOKEN} characters")
    tags = {**dict(request.tags), TAG_CLIENT_TOKEN: request.client_token}
    parameters: dict[str, Any] = {
        "ImageId": settings.image_id,
        "InstanceType": request.instance_type,
        "MinCount": 1,
        "MaxCount": 1,
        "ClientToken": request.client_token,
        "TagSpecifications": [
            {
                "ResourceType": "instance",
                "Tags": [{"Key": key, "Value": str(value)} for key, value in tags.items()],
            }
        ],
    }
    if request.market == "spot":
        options: dict[str, Any] = {
            "SpotInstanceType": "one-time",
            "InstanceInterruptionBehavior": "terminate",
        }
        if request.max_price is not None:
            options["MaxPrice"] = f"{request.max_price:.6f}"
        parameters["InstanceMarketOptions"] = {"MarketType": "spot", "SpotOptions": options}
        zone = offer_zone(request.offer)
        if zone is not None:
            parameters["Placement"] = {"AvailabilityZone": zone}
    elif request.market == "reservation":
        if not request.reservation:
            raise BackendError("a reservation request needs the capacity reservation's id")
        parameters["CapacityReservationSpecification"] = {
            "CapacityReservationTarget": {"CapacityReservationId": request.reservation}
        }
    if settings.subnet_id:
        parameters["SubnetId"] = settings.subnet_id
    if settings.security_group_ids:
        parameters["SecurityGroupIds"] = list(settings.security_group_ids)
    if settings.key_name:
        parameters["KeyName"] = settings.key_name
    return parameters


def offer_zone(offer: Mapping[str, Any]) -> str | None:
    """The availability zone a live spot offer was priced in (its ``provider_data``)."""
    data = offer.get("provider_data")
    if not data or not isinstance(data, str):
        return None
    try:
        zone = json.loads(data).get("zone")
    except (ValueError, AttributeError):
        return None
    return str(zone) if zone else None


def find_by_token(ec2: Any, token: str) -> dict[str, Any] | None:
    """The live instance tagged with ``token``, if any (the oldest when several)."""
    found = sorted(
        _instances(ec2, [{"Name": f"tag:{TAG_CLIENT_TOKEN}", "Values": [token]}]),
        key=lambda item: str(item.get("LaunchTime", "")),
    )
    return found[0] if found else None


def find_by_service(ec2: Any, service: str) -> list[dict[str, Any]]:
    return list(_instances(ec2, [{"Name": f"tag:{TAG_SERVICE}", "Values": [service]}]))


def find_by_id(ec2: Any, instance_id: str) -> dict[str, Any] | None:
    found = list(_instances(ec2, None, instance_ids=[instance_id]))
    return found[0] if found else None


def _instances(
    ec2: Any, filters: list[dict[str, Any]] | None, instance_ids: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    arguments: dict[str, Any] = {}
    if filters is not None:
        arguments["Filters"] = [
            *filters,
            {"Name": "instance-state-name", "Values": list(LIVE_STATES)},
        ]
    if instance_ids is not None:
        arguments["InstanceIds"] = instance_ids
    for page in ec2.get_paginator("describe_instances").paginate(**arguments):
        for reservation in page.get("Reservations", ()):
            yield from reservation.get("Instances", ())


def instance_of(
    described: Mapping[str, Any], *, backend: str, region: str, hourly_price: float | None = None
) -> Instance:
    """EC2's description of an instance as the planner's ``Instance``."""
    tags = {str(tag["Key"]): str(tag["Value"]) for tag in described.get("Tags", ())}
    market: Market = "on-demand"
    if described.get("InstanceLifecycle") == "spot":
        market = "spot"
    elif described.get("CapacityReservationId"):
        market = "reservation"
    launched = described.get("LaunchTime")
    created_at = (
        launched.astimezone(UTC).isoformat() if isinstance(launched, datetime) else launched
    )
    return Instance(
        instance_id=str(described["InstanceId"]),
        backend=backend,
        instance_type=str(described.get("InstanceType", "")),
        region=region,
        market=market,
        state=STATES.get(str(described.get("State", {}).get("Name", "")), "pending"),
        hourly_price=hourly_price,
        tags=tags,
        client_token=tags.get(TAG_CLIENT_TOKEN) or described.get("ClientToken") or None,
        created_at=created_at,
    )
