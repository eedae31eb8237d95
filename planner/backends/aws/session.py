"""boto3 clients for an ``AwsSettings``, and botocore's errors as the planner's typed errors.

Credentials are found the boto3 way (explicit settings, else the environment, a profile, an
instance role). Every error leaving this package goes through ``translate``: its message is
scrubbed of every credential the session knows and of anything shaped like an AWS access key, so
no output, log line or traceback text of the planner carries one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import boto3
import botocore.config
import botocore.exceptions

from planner.backends.aws.settings import AwsSettings
from planner.backends.base import BackendError, InstanceNotFound, NoCapacity
from planner.catalog.urls import redact_url

# EC2 error codes meaning "no capacity for this request right now" (the fallback chain's cue).
NO_CAPACITY_CODES: Final = frozenset(
    {
        "InsufficientInstanceCapacity",
        "InsufficientHostCapacity",
        "InsufficientReservedInstanceCapacity",
        "InsufficientCapacity",
        "InsufficientCapacityOnHost",
        "ReservationCapacityExceeded",
        "SpotMaxPriceTooLow",
        "MaxSpotInstanceCountExceeded",
        "InstanceLimitExceeded",
        "VcpuLimitExceeded",
        "Unsupported",
    }
)
NOT_FOUND_CODES: Final = frozenset({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"})
RETRYABLE_CODES: Final = frozenset(
    {"RequestLimitExceeded", "Throttling", "ThrottlingException", "InternalError", "Unavailable"}
)
# AWS access key ids (long-term AKIA…, temporary ASIA…) wherever they appear in a message.
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b")
_MASK: Final = "***"
_MAX_MESSAGE: Final = 300  # an emulator's HTML error page is cut here
_TIMEOUTS = {"connect_timeout": 10, "read_timeout": 60, "retries": {"max_attempts": 3}}


@dataclass(frozen=True)
class Clients:
    """boto3 clients of one backend's settings, one per service and region (made on first use,
    then reused), and how to scrub their errors."""

    backend: str
    settings: AwsSettings
    session: Any  # boto3.session.Session
    environ: Mapping[str, str]
    known_secrets: tuple[str, ...] = ()
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def create(
        cls,
        backend: str,
        settings: AwsSettings,
        environ: Mapping[str, str],
        known_secrets: tuple[str, ...] = (),
    ) -> Clients:
        with translate(backend, (*settings.secrets(), *known_secrets)):
            session = boto3.session.Session(
                aws_access_key_id=_reveal(settings.access_key_id),
                aws_secret_access_key=_reveal(settings.secret_access_key),
                aws_session_token=_reveal(settings.session_token),
                profile_name=settings.profile,
                region_name=settings.regions[0],
            )
        return cls(
            backend=backend,
            settings=settings,
            session=session,
            environ=environ,
            known_secrets=known_secrets,
        )

    def ec2(self, region: str) -> Any:
        """The EC2 client of ``region`` (``endpoint_url`` when set)."""
        return self._client("ec2", region, self.settings.endpoint_url)

    def pricing(self) -> Any:
        """The Pricing API client (``pricing_region``; ``pricing_endpoint_url`` or
        ``endpoint_url`` when set)."""
        endpoint = self.settings.pricing_endpoint_url or self.settings.endpoint_url
        return self._client("pricing", self.settings.pricing_region, endpoint)

    def _client(self, service: str, region: str, endpoint_url: str | None) -> Any:
        key = (service, region)
        if key not in self._clients:
            with self.errors():
                self._clients[key] = self.session.client(
                    service,
                    region_name=region,
                    endpoint_url=endpoint_url,
                    config=botocore.config.Config(**_TIMEOUTS),
                )
        return self._clients[key]

    def secrets(self) -> tuple[str, ...]:
        """Every credential text this session may send: settings, environment, resolved."""
        found = [*self.settings.secrets(), *self.known_secrets]
        for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            value = self.environ.get(variable)
            if value:
                found.append(value)
        try:
            credentials = self.session.get_credentials()
        except botocore.exceptions.BotoCoreError:
            credentials = None
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            found += [text for text in (frozen.access_key, frozen.secret_key, frozen.token) if text]
        return tuple(found)

    @contextmanager
    def errors(self) -> Iterator[None]:
        with translate(self.backend, self.secrets, self.settings.endpoint_url):
            yield


def scrub(text: str, secrets: tuple[str, ...], endpoint_url: str | None = None) -> str:
    """``text`` without any of ``secrets``, access-key-shaped words or an endpoint's userinfo."""
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    if endpoint_url:
        text = text.replace(endpoint_url, redact_url(endpoint_url))
    return _ACCESS_KEY_ID.sub(_MASK, text)


@contextmanager
def translate(
    backend: str,
    known: tuple[str, ...] | Callable[[], tuple[str, ...]],
    endpoint_url: str | None = None,
) -> Iterator[None]:
    """botocore's exceptions inside the block → ``BackendError`` (``NoCapacity``,
    ``InstanceNotFound``) with a message scrubbed of ``known`` secrets (a function: asked only
    when an error happens); the original is not chained (its text and arguments may hold what
    was scrubbed)."""
    try:
        yield
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        secrets = known() if callable(known) else known
        raise _translated(error, backend, secrets, endpoint_url) from None


def _translated(
    error: Exception, backend: str, secrets: tuple[str, ...], endpoint_url: str | None
) -> BackendError:
    if isinstance(error, botocore.exceptions.ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", "Unknown"))
        message = scrub(str(details.get("Message", "")), secrets, endpoint_url)
        operation = getattr(error, "operation_name", "call")
        text = f"AWS {operation} failed: {code}: {message}".rstrip(": ")
        kind: type[BackendError] = BackendError
        if code in NO_CAPACITY_CODES:
            kind = NoCapacity
        elif code in NOT_FOUND_CODES:
            kind = InstanceNotFound
        return kind(text, backend=backend, retryable=code in RETRYABLE_CODES)
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return BackendError(
            "AWS credentials not found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a "
            "profile, or access_key_id / secret_access_key in the backends file",
            backend=backend,
        )
    message = scrub(str(error), secrets, endpoint_url)
    if isinstance(error, botocore.exceptions.ProfileNotFound):
        return BackendError(f"AWS profile: {message}", backend=backend)
    # Connection failures, unparsable answers (an emulator's HTML error page), timeouts.
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "…"
    return BackendError(f"AWS: {message}", backend=backend, retryable=True)


def _reveal(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())
