"""The pydantic v2 models of a dstack ``service`` configuration, as written by the user.

The format is the one of the reference page (dstack ~0.18.3x); where it is silent
the behaviour of dstack 0.22.5 is followed (see docs/configuration.md). Every model
forbids unknown keys. Every key of dstack 0.22.5's service format is read: replica groups are in
:mod:`planner.config.models_groups`, the other keys 0.22.5 added in :mod:`planner.config.models_extras`
(docs/configuration.md §3.6, §3.7); a key of a newer release (``NEWER_KEYS``) is refused saying so.

Values written in a shorthand (``gpu: A100:80GB:2``, ``port: 8080:8000``, volume short syntax, ...)
are parsed by :mod:`planner.config.grammar` and stored in their explicit form, so a validated model
holds exactly one representation of each value. Errors carry the field path in ``loc``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    StrictBool,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

import planner.config.grammar as grammar
import planner.config.models_extras as extras
from planner.config.backend_names import DSTACK_BACKENDS
from planner.config.models_base import (
    _INT_RANGE_SCHEMA,
    _NAMES_SCHEMA,
    _OFFABLE_DURATION_SCHEMA,
    CROSS_FIELD_ERROR,
    DurationField,
    PortText,
    PythonField,
    SpotPolicyName,
    _as_written,
    _Model,
    _to_replicas,
    _unless_null,
    entry_errors,
    field_errors,
)
from planner.config.models_extras import (
    FileMappingSpec,
    FleetReference,
    InstanceSelector,
    ProbeSpec,
    RateLimitSpec,
    RepoSpec,
    ScheduleSpec,
    UtilizationPolicySpec,
    VastAIOptions,
)
from planner.config.models_groups import (
    ReplicaGroupSpec,
    ScalingSpec,
    group_problems,
    schedule_problems,
    written_groups,
)
from planner.config.models_resources import Resources
from planner.config.normalized import IntRange
from planner.errors import excerpt

# --------------------------------------------------------------------------------------------
# service properties


class PortMappingSpec(_Model):
    """The service port; also written as ``8000`` or ``"8080:8000"`` (local:container)."""

    local_port: int | None = Field(
        default=None,
        ge=1,
        le=grammar.MAX_PORT,
        description="The local port (historical; only the container port matters for a service).",
    )
    container_port: int = Field(
        ge=1, le=grammar.MAX_PORT, description="The port the application listens on."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, int | float | str):  # 8000.0 is the port 8000, as in dstack
            parsed = grammar.parse_port(value)
            return {"local_port": parsed.local_port, "container_port": parsed.container_port}
        return value


class OpenAIChatModel(_Model):
    """A chat model served with an OpenAI-compatible API."""

    type: Literal["chat"] = Field(
        default="chat", description="The type of the model. Must be `chat`."
    )
    name: str = Field(description="The name of the model.")
    format: Literal["openai"] = Field(description="The serving format. Must be set to `openai`.")
    prefix: str = Field(
        default="/v1", description="The base_url prefix (after hostname). Defaults to `/v1`."
    )


class TGIChatModel(_Model):
    """A chat model served by TGI's native API."""

    type: Literal["chat"] = Field(
        default="chat", description="The type of the model. Must be `chat`."
    )
    name: str = Field(description="The name of the model.")
    format: Literal["tgi"] = Field(description="The serving format. Must be set to `tgi`.")
    chat_template: str | None = Field(
        default=None,
        description="The custom prompt template for the model. If not specified, the default prompt "
        "template from the HuggingFace Hub configuration will be used.",
    )
    eos_token: str | None = Field(
        default=None,
        description="The custom end of sentence token. If not specified, the default end of sentence "
        "token from the HuggingFace Hub configuration will be used.",
    )


ChatModel = OpenAIChatModel | TGIChatModel


def _to_chat_model(value: Any) -> Any:
    if value is None or isinstance(value, OpenAIChatModel | TGIChatModel):
        return value
    if isinstance(value, str):
        return OpenAIChatModel(name=value, format="openai")
    if not isinstance(value, Mapping):
        raise ValueError("model must be a model name or a mapping with `name` and `format`")
    fmt = value.get("format")
    if fmt == "openai":
        return OpenAIChatModel.model_validate(value)
    if fmt == "tgi":
        return TGIChatModel.model_validate(value)
    if fmt is None:
        raise field_errors(
            "model", [(("format",), "the model `format` is required: openai or tgi", value)]
        )
    raise field_errors(
        "model",
        [
            (
                ("format",),
                f"unsupported model format {excerpt(fmt, as_repr=True)}: expected openai or tgi",
                fmt,
            )
        ],
    )


RetryEventName = Literal["no-capacity", "interruption", "error"]


class RetrySpec(_Model):
    """The policy for resubmitting the run."""

    on_events: tuple[RetryEventName, ...] | None = Field(
        default=None,
        min_length=1,
        description="The events that should be handled with retry: `no-capacity`, `interruption`, "
        "`error`. Defaults to all three; an empty list is an error.",
    )
    duration: DurationField | None = Field(
        default=None,
        description="The maximum period of retrying the run, e.g., `4h` or `1d`. Defaults to 1h.",
    )

    @field_validator("on_events", mode="before")
    @classmethod
    def _non_empty(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and not value:
            raise ValueError("`on_events` cannot be empty (omit it to retry on every event)")
        return value

    @field_validator("duration")
    @classmethod
    def _non_negative(cls, value: int | None) -> int | None:
        # dstack parses a negative duration and refuses it at submit time; refuse it here.
        if value is not None and value < 0:
            raise ValueError(f"the retry duration cannot be negative, got {excerpt(value)}")
        return value


class RegistryAuthSpec(_Model):
    """Credentials for pulling a private Docker image."""

    username: str = Field(description="The username.")
    password: str = Field(description="The password or access token (never printed by planner).")


class NetworkVolumeSpec(_Model):
    """A network volume (any one of the named volumes is mounted)."""

    name: Annotated[tuple[str, ...], WithJsonSchema(_NAMES_SCHEMA)] = Field(
        description="The network volume name or the list of network volume names to mount. If a list "
        "is specified, one of the volumes in the list will be mounted."
    )
    path: str = Field(description="The absolute container path to mount the volume at.")

    @field_validator("name", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        try:
            return grammar.parse_name_list(
                value, "volume name", "write a name (my-volume) or a list of names ([vol-1, vol-2])"
            )
        except grammar.EntryErrors as error:
            raise entry_errors("name", error) from None

    @field_validator("path", mode="before")
    @classmethod
    def _path(cls, value: Any) -> str:
        return grammar.normalize_absolute_path(value, "container path")


class InstanceVolumeSpec(_Model):
    """A directory of the instance (host) mounted into the container."""

    instance_path: str = Field(description="The absolute path on the instance (host).")
    path: str = Field(description="The absolute path in the container.")
    optional: StrictBool = Field(
        default=False,
        description="Allow running on backends without instance volumes (dstack 0.22). Defaults to false.",
    )

    @field_validator("instance_path", mode="before")
    @classmethod
    def _instance_path(cls, value: Any) -> str:
        return grammar.normalize_absolute_path(value, "instance path")

    @field_validator("path", mode="before")
    @classmethod
    def _path(cls, value: Any) -> str:
        return grammar.normalize_absolute_path(value, "container path")


VolumeSpec = NetworkVolumeSpec | InstanceVolumeSpec


def _to_volume(value: Any) -> Any:
    if isinstance(value, NetworkVolumeSpec | InstanceVolumeSpec):
        return value
    if isinstance(value, str):
        mount = grammar.parse_volume_short(value)
        if mount.instance_path is not None:
            return InstanceVolumeSpec(instance_path=mount.instance_path, path=mount.path)
        return NetworkVolumeSpec(name=mount.names or (), path=mount.path)
    if isinstance(value, Mapping):
        if "instance_path" in value:
            return InstanceVolumeSpec.model_validate(value)
        return NetworkVolumeSpec.model_validate(value)
    raise ValueError("a volume is NAME:/path, /instance/path:/path, or a mapping")


def _to_retry(value: Any) -> Any:
    if value is None or isinstance(value, bool | RetrySpec):
        return value
    if isinstance(value, Mapping):
        return RetrySpec.model_validate(value)
    raise ValueError("retry must be true, false or a mapping {on_events, duration}")


def _to_env(value: Any) -> dict[str, str | None]:
    # `env: null` is an error as in dstack (a mapping or a list; omit the key for no variables).
    try:
        return grammar.parse_env(value)
    except grammar.EntryErrors as error:
        raise entry_errors("env", error) from None


def _to_max_price(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("max_price must be a number of dollars per hour")
    return value


# dstack 0.22.5's BackendType values (the reference page names no list; `local` of 0.18 is gone).
# Literal[tuple] expands to the tuple's values at run time; mypy cannot follow it.
Backend = Literal[DSTACK_BACKENDS]  # type: ignore[valid-type]

RUN_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")

# Service keys of dstack releases after 0.22.5 that planner knows of (refused, saying so). None can
# be shown today: the newest dstack sources on record (configurations.py with `replicas:` as a list
# of `count` groups and no `groups:` key) predate 0.22.5, so listing a key here would be a guess.
# Any key 0.22.5 does not know, at the root or inside groups, resources, scaling or probes, is
# already refused naming the key, its position, and "a newer dstack release" as one possible cause
# (validation_errors._unknown_field). A key added here also gets the definite "newer release" message;
# note the dstack version and commit that added it.
NEWER_KEYS: frozenset[str] = frozenset()


class ServiceConfiguration(_Model):
    """A dstack ``type: service`` configuration: the reference page's format (dstack ~0.18.3x) and
    every key dstack 0.22.5 added.

    Choices where the reference page leaves room: ``working_dir`` follows it (relative to the repository
    directory ``/workflow`` and inside it, default ``.``) and also accepts an absolute path, as dstack
    0.22.5 requires; ``nvcc`` together with ``image`` is an error, as the reference page documents it.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        title="dstack service configuration",
        json_schema_extra={
            # The cross-field rules JSON Schema can express (the models check all of them).
            "allOf": [
                {
                    "anyOf": [
                        {"required": ["image"]},
                        {"required": ["commands"], "properties": {"commands": {"minItems": 1}}},
                    ]
                },
                {"not": {"required": ["image", "python"]}},
                {"not": {"required": ["image", "nvcc"]}},
                {
                    "if": {"properties": {"docker": {"const": True}}, "required": ["docker"]},
                    "then": {
                        "not": {"anyOf": [{"required": [k]} for k in ("image", "python", "nvcc")]}
                    },
                },
            ],
            "dependentRequired": {"scaling": ["replicas"]},
        },
    )

    type: Literal["service"] = Field(description="The configuration type. Must be `service`.")
    port: Annotated[
        PortMappingSpec,
        BeforeValidator(
            _as_written,
            json_schema_input_type=Annotated[int, Field(ge=1, le=grammar.MAX_PORT)]
            | PortText
            | PortMappingSpec,
        ),
    ] = Field(
        description="The port that the application listens on (e.g. `8000`) or the mapping "
        "`LOCAL:CONTAINER` (e.g. `8080:8000`), 1..65535."
    )
    gateway: Annotated[
        str | StrictBool | None,
        BeforeValidator(_unless_null(grammar.parse_gateway)),
    ] = Field(
        default=None,
        description="The name of the gateway (`name` or `project/name`). Specify boolean false to run "
        "without a gateway, true or omit it to run with the default gateway.",
    )
    model: Annotated[
        ChatModel | None,
        BeforeValidator(
            _to_chat_model, json_schema_input_type=str | OpenAIChatModel | TGIChatModel | None
        ),
    ] = Field(
        default=None,
        description="Mapping of the model for the OpenAI-compatible endpoint. Can be a full model "
        "format definition or just a model name (then served with an OpenAI-compatible API at /v1).",
    )
    https: StrictBool | Literal["auto"] | None = Field(
        default=None,
        description="Enable HTTPS if running with a gateway (`auto`: follow the gateway). Defaults to true.",
    )
    auth: StrictBool = Field(
        default=True, description="Enable the authorization. Defaults to true."
    )
    replicas: Annotated[
        IntRange | None,
        BeforeValidator(
            _unless_null(_to_replicas),
            json_schema_input_type=Annotated[IntRange, WithJsonSchema(_INT_RANGE_SCHEMA)]
            | list[ReplicaGroupSpec]
            | None,
        ),
    ] = Field(
        default=None,
        description="The number of replicas: a number (e.g. `2`) or a range (`0..4`, `1..8`; `..4` "
        "means `0..4`; the maximum is required). If it's a range, `scaling` is required. Defaults to 1. "
        "A list is a list of replica groups (see `groups`).",
    )
    scaling: ScalingSpec | None = Field(
        default=None,
        description="The auto-scaling rules. Required if `replicas` is set to a range.",
    )
    groups: tuple[ReplicaGroupSpec, ...] | None = Field(
        default=None,
        description="The replica groups of a heterogeneous service (dstack 0.22.5), each with its "
        "own count, scaling, resources and image. Mutually exclusive with `replicas` as a number; "
        "`replicas` written as a list means the same. Top-level `scaling` and `commands` are then "
        "not allowed.",
    )
    name: Annotated[
        str | None,
        WithJsonSchema(
            {"anyOf": [{"type": "string", "pattern": RUN_NAME.pattern}, {"type": "null"}]}
        ),
    ] = Field(
        default=None,
        description="The run name (`^[a-z][a-z0-9-]{1,40}$`). If not specified, a random name is generated.",
    )
    image: str | None = Field(default=None, description="The name of the Docker image to run.")
    user: Annotated[str | None, BeforeValidator(_unless_null(grammar.parse_user))] = Field(
        default=None,
        description="The user inside the container, `user_name_or_id[:group_name_or_id]` (e.g., "
        "`ubuntu`, `1000:1000`). Defaults to the default image user.",
    )
    privileged: StrictBool = Field(
        default=False, description="Run the container in privileged mode."
    )
    entrypoint: str | None = Field(default=None, description="The Docker entrypoint.")
    working_dir: str | None = Field(
        default=None,
        description="The working directory inside the container: a path relative to the repository "
        'directory (/workflow) that stays inside it, or an absolute path. Defaults to ".".',
    )
    registry_auth: RegistryAuthSpec | None = Field(
        default=None, description="Credentials for pulling a private Docker image."
    )
    python: PythonField = Field(
        default=None,
        description='The major version of Python (3.9 to 3.15; quote it: `"3.10"`). Mutually exclusive with `image`.',
    )
    nvcc: StrictBool | None = Field(
        default=None,
        description="Use image with NVIDIA CUDA Compiler (NVCC) included. Mutually exclusive with `image`.",
    )
    docker: StrictBool | None = Field(
        default=None,
        description="Use Docker inside the container (dstack's Docker-in-Docker image, run "
        "privileged; dstack 0.22.5). Mutually exclusive with `image`, `python` and `nvcc`.",
    )
    env: Annotated[
        dict[str, str | None],
        BeforeValidator(_to_env),
        WithJsonSchema(
            {
                "anyOf": [
                    {
                        "type": "object",
                        "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                        "additionalProperties": {"type": ["string", "number"]},
                    },
                    {
                        "type": "array",
                        "items": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(=.*)?$"},
                    },
                ]
            }
        ),
    ] = Field(
        default_factory=dict,
        description="The mapping or the list of environment variables (`KEY=value`, or a bare `KEY` "
        "taken from the caller's environment).",
    )
    resources: Resources = Field(
        default=Resources(), description="The resources requirements to run the configuration."
    )
    volumes: tuple[
        Annotated[
            VolumeSpec,
            BeforeValidator(
                _to_volume,
                json_schema_input_type=Annotated[str, Field(pattern=r"^[^:]+:[^:]+$")]
                | NetworkVolumeSpec
                | InstanceVolumeSpec,
            ),
        ],
        ...,
    ] = Field(
        default=(),
        description="The volumes mount points: `{name, path}`, `{instance_path, path}`, or the short "
        "syntax `volume-name:/container/path` / `/instance/path:/container/path`.",
    )
    commands: tuple[str, ...] = Field(default=(), description="The bash commands to run.")
    backends: tuple[Backend, ...] | None = Field(
        default=None, description="The backends to consider for provisioning (e.g., `[aws, gcp]`)."
    )
    regions: tuple[str, ...] | None = Field(
        default=None,
        description="The regions to consider for provisioning (e.g., `[eu-west-1, us-west4, westeurope]`); "
        "compared case-insensitively.",
    )
    instance_types: tuple[str, ...] | None = Field(
        default=None,
        description="The cloud-specific instance types to consider for provisioning (e.g., "
        "`[p3.8xlarge, n1-standard-4]`); compared case-insensitively.",
    )
    reservation: str | None = Field(
        default=None,
        description="The existing reservation to use for instance provisioning. Supports AWS Capacity "
        "Reservations and Capacity Blocks.",
    )
    spot_policy: SpotPolicyName | None = Field(
        default=None,
        description="The policy for provisioning spot or on-demand instances: `spot`, `on-demand`, or "
        "`auto`. Defaults to `on-demand`.",
    )
    retry: Annotated[
        RetrySpec | StrictBool | None,
        BeforeValidator(_to_retry, json_schema_input_type=RetrySpec | bool | None),
    ] = Field(
        default=None,
        description="The policy for resubmitting the run: true (all events, 1h), false, or "
        "`{on_events, duration}`. Defaults to false.",
    )
    max_duration: Annotated[
        int | Literal["off"] | None,
        BeforeValidator(grammar.parse_offable_duration),
        WithJsonSchema(_OFFABLE_DURATION_SCHEMA),
    ] = Field(
        default=None,
        description="The maximum duration of a run (e.g., `2h`, `1d`). After it elapses, the run is "
        "forced to stop. Defaults to `off`.",
    )
    max_price: Annotated[float | None, BeforeValidator(_to_max_price)] = Field(
        default=None, gt=0, description="The maximum instance price per hour, in dollars (> 0)."
    )
    creation_policy: Literal["reuse", "reuse-or-create"] | None = Field(
        default=None,
        description="The policy for using instances from the pool: `reuse` or `reuse-or-create`. "
        "Defaults to `reuse-or-create`.",
    )
    idle_duration: Annotated[
        int | None,
        BeforeValidator(grammar.parse_idle_duration),
        WithJsonSchema(_OFFABLE_DURATION_SCHEMA),
    ] = Field(
        default=None,
        description="Time to wait before terminating idle instances. Defaults to `5m`. Use `off` "
        "(or a negative value) for unlimited duration.",
    )
    # --- keys of dstack 0.22.5 (docs/configuration.md §3.7) ---
    strip_prefix: StrictBool = Field(
        default=True,
        description="Strip the `/proxy/services/<project>/<run>/` prefix when forwarding requests "
        "to the service (only without a gateway). Defaults to true.",
    )
    rate_limits: Annotated[tuple[RateLimitSpec, ...], AfterValidator(extras.unique_prefixes)] = (
        Field(default=(), description="Request rate limits, each with its own path prefix.")
    )
    probes: Annotated[tuple[ProbeSpec, ...] | None, AfterValidator(extras.unique_probes)] = Field(
        default=None,
        description="HTTP probes of replica health. Omitted with `model` set: a chat-completions "
        "probe; `[]`: none.",
    )
    repos: Annotated[
        tuple[
            Annotated[
                RepoSpec, BeforeValidator(_as_written, json_schema_input_type=str | RepoSpec)
            ],
            ...,
        ],
        AfterValidator(extras.at_most_one_repo),
    ] = Field(
        default=(), description="The Git repo to clone (at most one): `SOURCE[:PATH]` or a mapping."
    )
    files: tuple[
        Annotated[
            FileMappingSpec,
            BeforeValidator(_as_written, json_schema_input_type=str | FileMappingSpec),
        ],
        ...,
    ] = Field(
        default=(),
        description="Local files copied into the container: `LOCAL[:PATH]` or a mapping.",
    )
    shell: str | None = Field(
        default=None,
        description="The shell that runs `commands`: `sh`, `bash` or an absolute path. Defaults to "
        "`/bin/sh` with an `image`, `/bin/bash` otherwise.",
    )
    priority: int | None = Field(
        default=None, ge=0, le=100, description="The run priority, 0 to 100. Defaults to 0."
    )
    single_branch: StrictBool | None = Field(
        default=None,
        description="Clone only the current branch of a remote repo. Defaults to true for services.",
    )
    dstack: StrictBool = Field(
        default=False,
        description="Make the dstack server reachable inside the run (no credentials are given).",
    )
    home_dir: str = Field(
        default="/root",
        description="Deprecated since dstack 0.18.31; has no effect.",
        json_schema_extra={"deprecated": True},
    )
    setup: tuple[str, ...] = Field(
        default=(),
        description="Deprecated since dstack 0.18.31; has no effect for services.",
        json_schema_extra={"deprecated": True},
    )
    availability_zones: tuple[str, ...] | None = Field(
        default=None,
        description="The availability zones to consider (e.g. `[us-east-1a]`); compared "
        "case-insensitively.",
    )
    stop_duration: Annotated[
        int | Literal["off"] | None,
        BeforeValidator(grammar.parse_offable_duration),
        WithJsonSchema(_OFFABLE_DURATION_SCHEMA),
    ] = Field(
        default=None,
        description="The longest graceful stop before the run is stopped by force. `off` for no "
        "limit. Defaults to `5m`.",
    )
    utilization_policy: UtilizationPolicySpec | None = Field(
        default=None, description="Stop the run when its GPUs stay under-used."
    )
    startup_order: Literal["any", "master-first", "workers-first"] | None = Field(
        default=None,
        description="The order multi-node jobs start in: `any`, `master-first`, `workers-first`.",
    )
    stop_criteria: Literal["all-done", "master-done"] | None = Field(
        default=None, description="When a multi-node run is finished: `all-done` or `master-done`."
    )
    schedule: ScheduleSpec | None = Field(
        default=None, description="When to start the run: `{cron: ...}` (UTC)."
    )
    fleets: tuple[FleetReference, ...] | None = Field(
        default=None,
        description="The fleets whose instances the run may use: `name` or `project/name`.",
    )
    instances: (
        tuple[
            Annotated[
                InstanceSelector,
                BeforeValidator(
                    extras.to_instance_selector,
                    json_schema_input_type=str
                    | extras.InstanceNameSelector
                    | extras.InstanceHostnameSelector
                    | extras.FleetInstanceSelector,
                ),
            ],
            ...,
        ]
        | None
    ) = Field(
        default=None,
        min_length=1,
        description="The fleet instances to run on: a name, `{name}`, `{hostname}` or `{fleet, instance}`.",
    )
    tags: Annotated[dict[str, str] | None, AfterValidator(extras.check_tags)] = Field(
        default=None, description="Custom tags, also applied to the backend resources."
    )
    backend_options: Annotated[
        tuple[VastAIOptions, ...] | None, AfterValidator(extras.one_options_per_backend)
    ] = Field(default=None, description="Backend-specific options (`vastai` in dstack 0.22.5).")
    termination_policy: Literal["dont-destroy", "destroy-after-idle"] | None = Field(
        default=None,
        description="Deprecated in favor of `idle_duration` (`dont-destroy` = `idle_duration: off`).",
        json_schema_extra={"deprecated": True},
    )
    termination_idle_time: DurationField | None = Field(
        default=None,
        description="Deprecated in favor of `idle_duration`.",
        json_schema_extra={"deprecated": True},
    )

    @model_validator(mode="wrap")
    @classmethod
    def _whole_file_rules(cls, value: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """Keys of newer dstack releases, the cross-field and replica-group rules, checked on the
        data as written (``replicas:`` written as a list is read as ``groups``).

        Pydantic skips "after" model validators when any field fails, so a user fixing one error
        per run would meet the cross-field rules only at the end. Checked here on the raw data,
        they are reported together with every field error (and exactly once).
        """
        if not isinstance(value, Mapping):
            return handler(value)
        groups = written_groups(value)
        data = dict(value)
        if groups is not None and groups[0] == "replicas":
            # `replicas:` written as a list is dstack 0.22.5's other spelling of `groups:`.
            data["groups"] = data.pop("replicas")
        details = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "value_error",
                    f"`{excerpt(key)}` exists only in dstack releases newer than 0.22.5; this "
                    "planner reads the dstack 0.22.5 service format, which does not have it",
                ),
                loc=(key,),
                input=value[key],
            )
            for key in value
            if key in NEWER_KEYS
        ]
        details.extend(
            InitErrorDetails(
                type=PydanticCustomError(CROSS_FIELD_ERROR, message), loc=loc, input=written
            )
            for loc, message, written in [
                *cross_field_problems(value),
                *group_problems(value),
                *schedule_problems(value),
            ]
        )
        if not details and (groups is None or groups[0] == "groups"):
            return handler(data)
        try:
            result = handler({key: item for key, item in data.items() if key not in NEWER_KEYS})
        except ValidationError as error:
            details.extend(
                InitErrorDetails(
                    type=PydanticCustomError(entry["type"], entry["msg"]),
                    loc=_as_written_loc(entry["loc"], groups),
                    input=entry["input"],
                )
                for entry in error.errors()
            )
        else:
            if not details:
                return result
        raise ValidationError.from_exception_data(cls.__name__, details)

    @field_validator("name")
    @classmethod
    def _run_name(cls, value: str | None) -> str | None:
        # dstack's parser accepts any name and its server then refuses the run; say so up front.
        if value is not None and not RUN_NAME.fullmatch(value):
            raise ValueError(
                f"invalid run name {excerpt(value, as_repr=True)}: use 2-41 lower-case letters, digits and `-`, "
                "starting with a letter (e.g. llama-chat)"
            )
        return value

    @field_validator("shell")
    @classmethod
    def _shell(cls, value: str | None) -> str | None:
        if value is None or value in ("sh", "bash") or value.startswith("/"):
            return value
        raise ValueError(
            f"shell must be `sh`, `bash` or an absolute path, got {excerpt(value, as_repr=True)}"
        )

    @field_validator("working_dir")
    @classmethod
    def _working_dir_inside_repository(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.strip():
            raise ValueError("working_dir must not be empty (use . for the repository directory)")
        if not value.startswith("/") and posixpath.normpath(value).split("/")[0] == "..":
            raise ValueError(
                f"working_dir {excerpt(value, as_repr=True)} leaves the repository directory /workflow; "
                "give a path inside it (e.g. src) or an absolute path"
            )
        return value


def _as_written_loc(
    loc: tuple[str | int, ...], groups: tuple[str, Any] | None
) -> tuple[str | int, ...]:
    """An error's field path with the groups under the key the user wrote them."""
    if groups is not None and loc[:1] == ("groups",):
        return (groups[0], *loc[1:])
    return loc


def cross_field_problems(data: Mapping[str, Any]) -> list[tuple[tuple[str], str, Any]]:
    """The rules between top-level fields, on the data as written: (field path, message, value).

    A rule is checked whenever the fields it reads are readable, whatever else is wrong in the
    file. Each problem sits at the key a fix starts from: the key to remove, or the key written
    without its companion.
    """

    def written(key: str) -> bool:
        return data.get(key) is not None

    # As dstack: an empty `image` is no image (it neither excludes `python` nor replaces `commands`).
    has_image = written("image") and data["image"] != ""

    problems: list[tuple[tuple[str], str, Any]] = []
    if has_image and written("python"):
        problems.append(
            (
                ("python",),
                "`image` and `python` are mutually exclusive fields: remove `python` (the image "
                "brings its own Python) or remove `image` (dstack's base image then provides "
                "that Python version)",
                data["python"],
            )
        )
    if has_image and written("nvcc"):
        problems.append(
            (
                ("nvcc",),
                "`image` and `nvcc` are mutually exclusive fields: remove `nvcc` (install the CUDA "
                "compiler in your image instead) or remove `image` (dstack's base image then "
                "includes nvcc)",
                data["nvcc"],
            )
        )
    if data.get("docker") is True:
        for other in ("image", "python", "nvcc"):
            if data.get(other):
                problems.append(
                    (
                        ("docker",),
                        f"`{other}` and `docker` are mutually exclusive fields: `docker: true` "
                        f"runs dstack's Docker-in-Docker image; remove `{other}` or `docker`",
                        True,
                    )
                )
    if written_groups(data) is not None:
        return problems  # `commands` and `replicas`/`scaling` rules are the groups' (models_groups)
    commands = data.get("commands", ())
    if not has_image and isinstance(commands, list | tuple) and not commands:
        problems.append(
            (
                ("commands",),
                "either `commands` or `image` must be set: add `commands` (the shell commands "
                "that start the service) or an `image` whose entrypoint starts it",
                data.get("commands"),
            )
        )
    replicas_written = written("replicas")
    try:
        replicas = _to_replicas(data["replicas"]) if replicas_written else IntRange(min=1, max=1)
    except ValueError:
        return problems  # the replicas field reports its own error; the pairing is unknown
    fixed = replicas.min == replicas.max
    if not fixed and not written("scaling"):
        problems.append(
            (
                ("replicas",),
                "when you set `replicas` to a range, ensure to specify `scaling` (e.g. scaling: "
                "{metric: rps, target: 10}), or set `replicas` to a single number",
                data["replicas"],
            )
        )
    if fixed and written("scaling"):
        reason = (
            f"`replicas` is the fixed number {replicas.min}"
            if replicas_written
            else "`replicas` is not set (a single replica)"
        )
        problems.append(
            (
                ("scaling",),
                f"to use `scaling`, `replicas` must be set to a range: {reason}; write e.g. "
                "replicas: 1..4, or remove `scaling`",
                data["scaling"],
            )
        )
    return problems
