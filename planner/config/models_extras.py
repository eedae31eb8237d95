"""Models of the keys dstack 0.22.5 added to the service format besides replica groups: probes,
rate limits, repos, files, utilization policy, schedule, fleets, instances, tags, backend options.

Each forbids unknown keys, as every model here. The rules are stated in docs/configuration.md §3.7.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    WithJsonSchema,
    field_validator,
    model_validator,
)

import planner.config.grammar_extras as extras
from planner.config.models_base import DurationField, _Model
from planner.errors import excerpt

MAX_INT64 = 2**63 - 1
MIN_UTILIZATION_WINDOW_SECONDS = 300
MAX_PROBE_URL_LENGTH = 2048


# --------------------------------------------------------------------------------------------
# probes


class HTTPHeaderSpec(_Model):
    """An HTTP header a probe sends."""

    name: str = Field(min_length=1, max_length=256, description="The name of the HTTP header.")
    value: str = Field(min_length=1, max_length=2048, description="The value of the HTTP header.")


HTTPMethod = Literal["get", "post", "put", "delete", "patch", "head"]


class ProbeSpec(_Model):
    """An HTTP health probe of each replica (dstack 0.22.5)."""

    type: Literal["http"] = Field(description="The probe type. Must be `http`.")
    url: str | None = Field(
        default=None, description="The URL path to request (starts with `/`). Defaults to `/`."
    )
    method: HTTPMethod | None = Field(
        default=None,
        description="The HTTP method: `get`, `post`, `put`, `delete`, `patch` or `head` (lower "
        "case). Defaults to `get`.",
    )
    headers: tuple[HTTPHeaderSpec, ...] = Field(
        default=(), max_length=16, description="Up to 16 HTTP headers to send."
    )
    body: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="The request body (not with `get` or `head`).",
    )
    timeout: DurationField | None = Field(
        default=None,
        description="How long the request may take (at least 1s). Defaults to `10s`.",
    )
    interval: DurationField | None = Field(
        default=None,
        description="The time between the end of one probe and the start of the next (at least "
        "1s). Defaults to `15s`.",
    )
    ready_after: int | None = Field(
        default=None,
        ge=1,
        description="The consecutive successes after which a replica is ready. Defaults to 1.",
    )
    until_ready: StrictBool | None = Field(
        default=None,
        description="Stop probing once the replica is ready. Defaults to false.",
    )

    @field_validator("timeout", "interval")
    @classmethod
    def _at_least_a_second(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError(f"must be at least 1s, got {excerpt(value)} seconds")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.startswith("/"):
            raise ValueError(
                f"the probe URL must start with `/`, got {excerpt(value, as_repr=True)}"
            )
        if len(value) > MAX_PROBE_URL_LENGTH:
            raise ValueError(
                f"the probe URL cannot be longer than {MAX_PROBE_URL_LENGTH} characters"
            )
        if not value.isprintable():
            raise ValueError("the probe URL cannot contain non-printable characters")
        return value

    @model_validator(mode="after")
    def _body_and_method(self) -> ProbeSpec:
        # As dstack 0.22.5: only an explicit `get`/`head` refuses a body (an unset method, which
        # then defaults to `get`, does not).
        if self.body is not None and self.method in ("get", "head"):
            raise ValueError(f"cannot set a request body for the `{self.method}` method")
        return self


def unique_probes(probes: tuple[ProbeSpec, ...] | None) -> tuple[ProbeSpec, ...] | None:
    if probes is not None and len(set(probes)) != len(probes):
        raise ValueError("probes must be unique: the same probe is listed twice")
    return probes


# --------------------------------------------------------------------------------------------
# rate limits


class IPAddressKey(_Model):
    """Rate limits per client IP address."""

    type: Literal["ip_address"] = Field(default="ip_address", description="Partitioning type.")


class HeaderKey(_Model):
    """Rate limits per value of a request header."""

    type: Literal["header"] = Field(default="header", description="Partitioning type.")
    header: str = Field(
        pattern=r"^[a-zA-Z0-9-_]+$",
        max_length=500,
        description="The header whose value partitions the requests.",
    )


class RateLimitSpec(_Model):
    """A request rate limit of the service's endpoint (dstack 0.22.5)."""

    prefix: str = Field(
        default="/",
        max_length=4094,
        pattern=r"^/[^\s\\{}]*$",
        description="The URL path prefix the limit applies to (the longest matching prefix wins). "
        "Defaults to `/`.",
    )
    key: Annotated[IPAddressKey | HeaderKey, Field(discriminator="type")] = Field(
        default=IPAddressKey(),
        description="The partitioning key: `{type: ip_address}` (the default) or `{type: header, "
        "header: NAME}`.",
    )
    rps: float = Field(
        ge=1 / 60,
        le=MAX_INT64 // 60,
        description="The maximum requests per second (at least 1/60).",
    )
    burst: int = Field(
        default=0,
        ge=0,
        le=MAX_INT64,
        description="The requests that may pass ahead of the limit. Defaults to 0.",
    )


def unique_prefixes(limits: tuple[RateLimitSpec, ...]) -> tuple[RateLimitSpec, ...]:
    counts = Counter(limit.prefix for limit in limits)
    duplicates = [prefix for prefix, count in counts.items() if count > 1]
    if duplicates:
        raise ValueError(
            f"prefixes {duplicates} are used more than once: each rate limit needs its own prefix"
        )
    return limits


# --------------------------------------------------------------------------------------------
# repos and files


class RepoSpec(_Model):
    """A Git repository cloned into the container; also written `SOURCE[:PATH]`."""

    local_path: str | None = Field(
        default=None,
        description="The repo on the user's machine (relative to the configuration file's "
        "directory). Mutually exclusive with `url`.",
    )
    url: str | None = Field(
        default=None, description="The Git repo URL. Mutually exclusive with `local_path`."
    )
    branch: str | None = Field(default=None, description="The branch.")
    hash: str | None = Field(default=None, description="The commit hash.")
    path: str = Field(
        default=".",
        description="The repo path in the container (relative to the working directory). "
        "Defaults to `.`.",
    )
    if_exists: Literal["error", "skip"] = Field(
        default="error",
        description="What to do if `path` exists and is not empty: `error` or `skip`. Defaults "
        "to `error`.",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            parsed = extras.parse_repo_shorthand(value)
            explicit: dict[str, Any] = {"local_path": parsed.local_path, "url": parsed.url}
            if parsed.path is not None:
                explicit["path"] = parsed.path
            return explicit
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if value.startswith("~") and value.split("/")[0] != "~":
            raise ValueError("`~username` paths are not supported; use `~` or `~/...`")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> RepoSpec:
        if self.local_path and self.url:
            raise ValueError("`local_path` and `url` are mutually exclusive")
        if not self.local_path and not self.url:
            raise ValueError("either `local_path` or `url` must be specified")
        return self


class FileMappingSpec(_Model):
    """A local file or directory copied into the container; also written `LOCAL[:PATH]`."""

    local_path: str = Field(
        description="The path on the user's machine (relative to the configuration file's directory)."
    )
    path: str = Field(
        description="The path in the container (relative to the working directory); a Unix path."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            local, path = extras.parse_file_mapping(value)
            return {"local_path": local, "path": path}
        return value

    @field_validator("path")
    @classmethod
    def _unix_path(cls, value: str) -> str:
        if extras.is_windows_absolute(value):
            raise ValueError(f"path must be a Unix file path: {excerpt(value, as_repr=True)}")
        return value


def at_most_one_repo(repos: tuple[RepoSpec, ...]) -> tuple[RepoSpec, ...]:
    if len(repos) > 1:
        raise ValueError("a maximum of one repo is currently supported (dstack 0.22.5)")
    return repos


# --------------------------------------------------------------------------------------------
# policies


class UtilizationPolicySpec(_Model):
    """Stop the run when its GPUs stay under-used for a whole time window."""

    min_gpu_utilization: int = Field(
        ge=0, le=100, description="The minimum GPU utilization, percent (0-100)."
    )
    time_window: DurationField = Field(
        description="The window the utilization is measured over (e.g. `30m`); at least `5m`."
    )

    @field_validator("time_window")
    @classmethod
    def _window(cls, value: int) -> int:
        if value < MIN_UTILIZATION_WINDOW_SECONDS:
            raise ValueError(f"the minimum time_window is 5m, got {excerpt(value)} seconds")
        return value


class ScheduleSpec(_Model):
    """When the run is started (crontab expressions, UTC)."""

    cron: Annotated[
        tuple[str, ...],
        WithJsonSchema(
            {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        ),
    ] = Field(description="A cron expression or a list of them (UTC), e.g. `0 8 * * mon-fri`.")

    @field_validator("cron", mode="before")
    @classmethod
    def _crons(cls, value: Any) -> Any:
        crons = (
            [value]
            if isinstance(value, str | int | float) and not isinstance(value, bool)
            else value
        )
        if isinstance(crons, list | tuple):
            if not crons:
                raise ValueError("at least one cron expression must be specified")
            for cron in crons:
                if isinstance(cron, str):
                    extras.check_cron(cron)
        return crons


# --------------------------------------------------------------------------------------------
# fleets, instances, tags, backend options


class EntityReferenceSpec(_Model):
    """A fleet of this project (`name`) or of another (`project/name`)."""

    project: str | None = Field(
        default=None, description="The project name. Defaults to the current project."
    )
    name: str = Field(description="The entity name.")


def _to_reference(value: Any) -> Any:
    if isinstance(value, str):
        project, name = extras.parse_entity_reference(value, "a fleet")
        return {"project": project, "name": name}
    return value


FleetReference = Annotated[
    EntityReferenceSpec,
    BeforeValidator(_to_reference, json_schema_input_type=str | EntityReferenceSpec),
]


class InstanceNameSelector(_Model):
    """A fleet instance by name."""

    name: str = Field(min_length=1, description="The fleet instance name.")


class InstanceHostnameSelector(_Model):
    """A fleet instance by hostname or IP address."""

    hostname: str = Field(min_length=1, description="The fleet instance hostname or IP address.")


class FleetInstanceSelector(_Model):
    """A fleet instance by fleet and instance number."""

    fleet: FleetReference = Field(
        description="The fleet: `name`, `project/name` or `{project, name}`."
    )
    instance: int = Field(ge=0, description="The fleet instance number.")


InstanceSelector = InstanceNameSelector | InstanceHostnameSelector | FleetInstanceSelector


def to_instance_selector(value: Any) -> Any:
    if isinstance(value, str):
        return InstanceNameSelector(name=value)
    if isinstance(value, Mapping):
        if "fleet" in value or "instance" in value:
            return FleetInstanceSelector.model_validate(value)
        if "hostname" in value:
            return InstanceHostnameSelector.model_validate(value)
        return InstanceNameSelector.model_validate(value)
    return value


def check_tags(tags: dict[str, str] | None) -> dict[str, str] | None:
    for key, value in (tags or {}).items():
        problem = extras.tag_problem(key, value)
        if problem:
            raise ValueError(problem)
    return tags


class VastAIOptions(_Model):
    """Options for offers of the vastai backend."""

    type: Literal["vastai"] = Field(default="vastai", description="The backend: `vastai`.")
    offer_order: Literal["score", "price"] | None = Field(
        default=None,
        description="Consider offers by `score` (the default) or by `price` first.",
    )
    min_reliability: float | None = Field(
        default=None, ge=0, le=1, description="The minimum reliability of offers, 0 to 1."
    )
    min_score: int | None = Field(
        default=None, ge=0, description="The minimum overall score of offers."
    )


def one_options_per_backend(
    options: tuple[VastAIOptions, ...] | None,
) -> tuple[VastAIOptions, ...] | None:
    seen: set[str] = set()
    for option in options or ():
        if option.type in seen:
            raise ValueError(
                f"backend_options contains duplicate entry for backend '{option.type}'"
            )
        seen.add(option.type)
    return options
