"""The backend plugin interface: what every provisioning backend (AWS, the simulator, a third
party's) offers the planner, as typed values.

A plugin is a factory — usually the backend class itself — registered under the entry-point group
``planner.backends`` (docs/backends.md). The factory takes a ``BackendConfig`` (one named entry of
a backends file, plus the environment) and returns an object satisfying ``Backend``.

Credentials: a plugin reads them from its settings or from the environment the way its SDK does,
and never puts them into a value it returns, an error message or a log line. Settings values a
plugin marks secret are kept as ``pydantic.SecretStr`` by ``planner.backends.settings``; errors
pass their message through ``BackendConfig.scrub`` when a secret might be quoted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from planner.catalog.provenance import CatalogSource
    from planner.requirements import Requirements

__all__ = [
    "TAG_CLIENT_TOKEN",
    "TAG_PLAN",
    "TAG_REPLICA",
    "TAG_SERVICE",
    "Backend",
    "BackendConfig",
    "BackendError",
    "BackendFactory",
    "Instance",
    "InstanceNotFound",
    "InstanceRequest",
    "InstanceState",
    "LiveOffers",
    "Market",
    "NoCapacity",
    "is_secret_name",
]

# How an instance is bought: the spot market, on demand, or inside a capacity reservation.
Market = Literal["spot", "on-demand", "reservation"]
# An instance's life as the planner sees it (a provider's finer states map onto these).
InstanceState = Literal["pending", "running", "stopping", "terminated"]

# Tags every created instance carries, so `list_created(service)` and a human find them.
TAG_SERVICE: Final = "planner:service"
TAG_REPLICA: Final = "planner:replica"
TAG_PLAN: Final = "planner:plan"
TAG_CLIENT_TOKEN: Final = "planner:client-token"


# Setting and environment-variable names that hold credentials (compared lower-case).
_SECRET_NAME = re.compile(r"secret|password|passwd|token|credential|private|access_key|api_key")
# Shorter values are not scrubbed from messages (a one-letter "secret" would garble every text).
_MIN_SECRET_CHARS = 4


def is_secret_name(name: str) -> bool:
    """Whether a setting or environment variable of this name holds a credential."""
    return _SECRET_NAME.search(name.lower()) is not None


class BackendError(Exception):
    """A backend call failed (API error, timeout, refused request).

    The message is for users: it never contains a credential. ``retryable`` says whether the
    same call may succeed later (throttling, a transient network error).
    """

    def __init__(self, message: str, *, backend: str | None = None, retryable: bool = False):
        self.backend = backend
        self.retryable = retryable
        super().__init__(message)


class NoCapacity(BackendError):
    """The provider has no capacity for this instance type, market and location right now."""


class InstanceNotFound(BackendError):
    """No instance with this id exists (or is visible to these credentials)."""


@dataclass(frozen=True)
class BackendConfig:
    """One named backend of a backends file, as handed to the plugin's factory.

    ``settings``: the entry's settings as written (secrets as ``pydantic.SecretStr``);
    ``provides``: the catalog backends (``aws``, ``gcp``, ...) whose offers this entry creates;
    ``environ``: the environment to read credentials from (the process environment unless a test
    passes another); ``source``/``line``: where the entry is, for error messages.
    """

    name: str
    type: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    source: str | None = None
    line: int | None = None
    provides: tuple[str, ...] = ()

    def secrets(self) -> tuple[str, ...]:
        """Every secret text this backend knows of: the settings' ``SecretStr`` values and the
        values of environment variables whose names say they hold a credential
        (``AWS_SECRET_ACCESS_KEY``, ``*_TOKEN``, ``*_PASSWORD``, ...)."""
        found: list[str] = []
        for value in self.settings.values():
            reveal = getattr(value, "get_secret_value", None)
            if callable(reveal):
                found.append(str(reveal()))
        found += [value for name, value in self.environ.items() if is_secret_name(name)]
        return tuple(text for text in found if len(text) >= _MIN_SECRET_CHARS)

    def scrub(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***``."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


@dataclass(frozen=True)
class InstanceRequest:
    """One instance to create.

    ``region`` is the offer's location (a region or, where the catalog has one, a zone);
    ``reservation`` names the capacity reservation when ``market == "reservation"``;
    ``max_price``: for spot, the highest hourly price to pay (None: the provider's default);
    ``client_token``: idempotency key — a second ``create`` with the same token returns the
    instance the first created instead of creating another;
    ``offer``: the OFFER dict the plan chose (docs/contracts.md), for plugins that need more.
    """

    instance_type: str
    region: str
    market: Market
    client_token: str
    tags: Mapping[str, str] = field(default_factory=dict)
    reservation: str | None = None
    max_price: float | None = None
    offer: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_type": self.instance_type,
            "region": self.region,
            "market": self.market,
            "client_token": self.client_token,
            "tags": dict(self.tags),
            "reservation": self.reservation,
            "max_price": self.max_price,
        }


@dataclass(frozen=True)
class Instance:
    """An instance as a backend reports it."""

    instance_id: str
    backend: str  # the backends-file name of the backend that created it
    instance_type: str
    region: str
    market: Market
    state: InstanceState
    hourly_price: float | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    client_token: str | None = None
    created_at: str | None = None  # ISO 8601, UTC

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "backend": self.backend,
            "instance_type": self.instance_type,
            "region": self.region,
            "market": self.market,
            "state": self.state,
            "hourly_price": self.hourly_price,
            "tags": dict(self.tags),
            "client_token": self.client_token,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class LiveOffers:
    """Offers a backend lists right now: ``frame`` has the offer table's columns
    (``planner.catalog.columns.COLUMNS``), one row per offer, so ``Catalog.from_frame`` takes it;
    ``backend``/``type``: which plugin answered; ``fetched_at``: when (ISO 8601, UTC)."""

    frame: pd.DataFrame
    backend: str
    type: str
    fetched_at: str

    def catalog_source(self) -> CatalogSource:
        """The provenance of these offers as a catalog source (``live:<backend>``)."""
        from planner.catalog.provenance import CatalogSource

        providers = tuple(sorted({str(value) for value in self.frame["provider"].unique()}))
        return CatalogSource(
            location=f"live:{self.backend}",
            format="live",
            providers=providers,
            as_of=self.fetched_at,
            as_of_from=f"live query ({self.type} plugin)",
            rows=len(self.frame),
            dropped=0,
        )


@runtime_checkable
class Backend(Protocol):
    """A provisioning backend. Every call may raise ``BackendError`` (``NoCapacity`` from
    ``create`` when the provider has none); none returns or raises a credential."""

    name: str  # the backends-file name
    type: str  # the plugin type (entry-point name), e.g. "aws", "simulated"

    def live_offers(self, requirements: Requirements) -> LiveOffers:
        """Offers available now that satisfy ``requirements`` as far as the provider can filter
        (the matcher applies the rest)."""
        ...

    def create(self, request: InstanceRequest) -> Instance:
        """Create one instance (idempotent on ``request.client_token``)."""
        ...

    def describe(self, instance_id: str) -> Instance:
        """The instance's current state; ``InstanceNotFound`` when there is none."""
        ...

    def wait_until_running(self, instance_id: str, timeout_seconds: float) -> Instance:
        """Poll until ``running``; ``BackendError`` when it ends otherwise or time runs out."""
        ...

    def terminate(self, instance_id: str) -> Instance:
        """Terminate (idempotent: an already terminated instance is no error); an id the
        provider does not know (any more) raises ``InstanceNotFound``, which callers treat as
        gone."""
        ...

    def list_created(self, service: str) -> tuple[Instance, ...]:
        """Instances not terminated whose ``TAG_SERVICE`` tag is ``service``."""
        ...


class BackendFactory(Protocol):
    """What an entry point of group ``planner.backends`` loads: ``factory(config) -> Backend``.
    Bad settings raise ``planner.errors.InputError`` naming ``config.source`` and the field."""

    def __call__(self, config: BackendConfig) -> Backend: ...
