"""``AwsBackend``: the ``Backend`` protocol on boto3 (the entry point ``aws`` loads this class).

``AwsBackend(config)`` validates the settings (an ``InputError`` naming the backends file, line
and field); no AWS call is made before a method needs one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from planner.backends.aws.offers import live_frame
from planner.backends.aws.provision import (
    find_by_id,
    find_by_service,
    find_by_token,
    instance_of,
    run_request,
)
from planner.backends.aws.session import Clients
from planner.backends.aws.settings import parse_settings
from planner.backends.base import (
    BackendConfig,
    BackendError,
    Instance,
    InstanceNotFound,
    InstanceRequest,
    LiveOffers,
)
from planner.errors import InputError, Problem

if TYPE_CHECKING:
    from planner.requirements import Requirements


class AwsBackend:
    """EC2 through boto3: live offers, create (spot, on-demand, reservation), describe, wait,
    terminate, list by the service tag."""

    type = "aws"

    def __init__(self, config: BackendConfig) -> None:
        self.name = config.name
        self.settings = parse_settings(
            config.settings, source=config.source, line=config.line, name=config.name
        )
        try:
            self._clients = Clients.create(
                config.name, self.settings, config.environ, known_secrets=config.secrets()
            )
        except BackendError as error:  # an unknown profile: a mistake in the backends file
            raise InputError(
                Problem(
                    str(error),
                    file=config.source,
                    line=config.line,
                    path=f"backends.{config.name}.profile",
                )
            ) from None
        # Regions this object created instances in, searched by describe/terminate with the
        # configured ones (an instance id does not say its region).
        self._created_regions: dict[str, str] = {}
        # The offer's hourly price of each instance this object created (EC2 does not say it).
        self._prices: dict[str, float] = {}

    @property
    def clients(self) -> Clients:
        """The boto3 clients this backend calls through (one per service and region)."""
        return self._clients

    def live_offers(self, requirements: Requirements) -> LiveOffers:
        fetched_at = datetime.now(UTC).replace(microsecond=0).isoformat()
        frame = live_frame(self._clients, requirements)
        return LiveOffers(frame=frame, backend=self.name, type=self.type, fetched_at=fetched_at)

    def create(self, request: InstanceRequest) -> Instance:
        parameters = run_request(request, self.settings)
        price = request.offer.get("price") if request.offer else None
        hourly = float(price) if isinstance(price, int | float) else None
        with self._clients.errors():
            ec2 = self._clients.ec2(request.region)
            existing = find_by_token(ec2, request.client_token)
            if existing is not None:
                described = existing
            else:
                described = ec2.run_instances(**parameters)["Instances"][0]
        self._created_regions[str(described["InstanceId"])] = request.region
        if hourly is not None:
            self._prices[str(described["InstanceId"])] = hourly
        return instance_of(described, backend=self.name, region=request.region, hourly_price=hourly)

    def describe(self, instance_id: str) -> Instance:
        for region in self._regions_of(instance_id):
            try:
                with self._clients.errors():
                    described = find_by_id(self._clients.ec2(region), instance_id)
            except InstanceNotFound:
                continue
            if described is not None:
                price = self._prices.get(instance_id)
                return instance_of(described, backend=self.name, region=region, hourly_price=price)
        raise InstanceNotFound(f"no AWS instance {instance_id}", backend=self.name)

    def wait_until_running(self, instance_id: str, timeout_seconds: float) -> Instance:
        deadline = time.monotonic() + timeout_seconds
        while True:
            instance = self.describe(instance_id)
            if instance.state == "running":
                return instance
            if instance.state in ("stopping", "terminated"):
                raise BackendError(
                    f"AWS instance {instance_id} is {instance.state}, not running",
                    backend=self.name,
                )
            if time.monotonic() >= deadline:
                raise BackendError(
                    f"AWS instance {instance_id} was not running after {timeout_seconds:g} s",
                    backend=self.name,
                    retryable=True,
                )
            time.sleep(min(self.settings.poll_seconds, max(deadline - time.monotonic(), 0)))

    def terminate(self, instance_id: str) -> Instance:
        try:
            instance = self.describe(instance_id)
        except InstanceNotFound:
            return Instance(
                instance_id=instance_id,
                backend=self.name,
                instance_type="",
                region="",
                market="on-demand",
                state="terminated",
            )
        if instance.state != "terminated":
            with self._clients.errors():
                self._clients.ec2(instance.region).terminate_instances(InstanceIds=[instance_id])
        return self.describe(instance_id)

    def list_created(self, service: str) -> tuple[Instance, ...]:
        found: list[Instance] = []
        for region in self._regions():
            with self._clients.errors():
                described = find_by_service(self._clients.ec2(region), service)
            found += [instance_of(item, backend=self.name, region=region) for item in described]
        return tuple(sorted(found, key=lambda instance: instance.instance_id))

    def _regions(self) -> list[str]:
        return list(dict.fromkeys([*self.settings.regions, *self._created_regions.values()]))

    def _regions_of(self, instance_id: str) -> Iterable[str]:
        first = self._created_regions.get(instance_id)
        return dict.fromkeys([*([first] if first else []), *self._regions()])
