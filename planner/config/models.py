"""The pydantic v2 models of a dstack ``service`` configuration, as written by the user.

The format is the one of the reference page (dstack ~0.18.3x); where it is silent
the behaviour of dstack 0.22.5 is followed (see docs/configuration.md). Every model
forbids unknown keys. Keys that exist only in dstack 0.22 are rejected with a message saying so.

Values written in a shorthand (``gpu: A100:80GB:2``, ``port: 8080:8000``, volume short syntax, ...)
are parsed by :mod:`planner.config.grammar` and stored in their explicit form, so a validated model
holds exactly one representation of each value. Errors carry the field path in ``loc``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
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
from planner.config.backend_names import DSTACK_BACKENDS
from planner.config.normalized import GBRange, IntRange
from planner.errors import excerpt

# --------------------------------------------------------------------------------------------
# Errors located at a field (the loader maps ``loc`` to file:line:column)


# Error types the loader locates at the key rather than at the value (see validation_errors).
CROSS_FIELD_ERROR = "cross_field"  # a rule between fields: located at the key it names
INVALID_KEY_ERROR = "invalid_key"  # the key itself is wrong (a bad env variable name)


def field_errors(
    title: str, problems: Sequence[tuple[tuple[str | int, ...], str, Any]]
) -> ValidationError:
    """A ValidationError whose entries sit at the given field paths."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)
            for loc, message, value in problems
        ],
    )


def entry_errors(title: str, error: grammar.EntryErrors) -> ValidationError:
    """The problems of a collection's entries, each at its own key or index."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError(
                    INVALID_KEY_ERROR if problem.at_key else "value_error", problem.message
                ),
                loc=problem.path,
                input=problem.value,
            )
            for problem in error.problems
        ],
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


# --------------------------------------------------------------------------------------------
# Grammar-backed leaf types. Each carries its JSON Schema (editors validate the string forms).

_RANGE_SEPARATOR = r"\s*\.\.\s*"
_INT_TEXT = r"\s*[+-]?[0-9]+(_[0-9]+)*(\.0+)?\s*"  # grammar.parse_int
_MEMORY_TEXT = r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*([tTgGmM]\s*[bB])?\s*"


def _range_pattern(bound: str) -> str:
    return rf"^({bound}|({bound})?{_RANGE_SEPARATOR}{bound}|{bound}{_RANGE_SEPARATOR})$"


def _range_object_schema(bound: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "min": {"anyOf": [bound, {"type": "null"}]},
            "max": {"anyOf": [bound, {"type": "null"}]},
        },
        "additionalProperties": False,
        "minProperties": 1,
    }


def _any_case(words: Sequence[str]) -> dict[str, Any]:
    """A string schema accepting any of ``words`` in any letter case (JSON Schema has no flags)."""
    alternatives = "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word) for word in words
    )
    return {"type": "string", "pattern": rf"^\s*({alternatives})\s*$"}


_INT_RANGE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer"},
        {"type": "string", "pattern": _range_pattern(_INT_TEXT)},
        _range_object_schema(
            {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": f"^{_INT_TEXT}$"}]}
        ),
    ]
}
_MEMORY_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": f"^{_MEMORY_TEXT}$"}]
}
_MEMORY_RANGE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": _range_pattern(_MEMORY_TEXT)},
        _range_object_schema(_MEMORY_SCHEMA),
    ]
}
_MEMORY_RANGE_TEXT_SCHEMA: dict[str, Any] = {"anyOf": _MEMORY_RANGE_SCHEMA["anyOf"][:2]}
_DURATION_TEXT = r"^(\s*[+-]?\d+(_\d+)*\s*|\d+ *[smhdw])$"
_DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": _DURATION_TEXT}]
}

# A duration that can also be switched off (`off`, `false`), as max_duration and idle_duration take.
_OFFABLE_DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [*_DURATION_SCHEMA["anyOf"], {"const": "off"}, {"type": "boolean"}, {"type": "null"}]
}


def _to_int_range(value: Any) -> IntRange:
    if isinstance(value, IntRange):
        return value
    try:
        parsed = grammar.parse_int_range(value)
    except grammar.EntryErrors as error:
        raise entry_errors("range", error) from None
    return IntRange(min=parsed.min, max=parsed.max)


def _to_memory_range(value: Any) -> GBRange:
    if isinstance(value, GBRange):
        return value
    try:
        parsed = grammar.parse_memory_range(value)
    except grammar.EntryErrors as error:
        raise entry_errors("range", error) from None
    return GBRange(min=parsed.min, max=parsed.max)


CountRangeObject = Annotated[
    IntRange,
    WithJsonSchema(
        _range_object_schema(
            {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": f"^{_INT_TEXT}$"}]}
        )
    ),
]


def _non_negative_range(value: IntRange | GBRange) -> Any:
    """Resource amounts cannot be negative. dstack has no sign check (a negative amount then
    silently matches nothing); rejecting it says what is wrong instead."""
    if any(bound is not None and bound < 0 for bound in (value.min, value.max)):
        raise ValueError("a resource amount cannot be negative")
    return value


IntRangeField = Annotated[
    IntRange, BeforeValidator(_to_int_range), WithJsonSchema(_INT_RANGE_SCHEMA)
]
MemoryRangeField = Annotated[
    GBRange, BeforeValidator(_to_memory_range), WithJsonSchema(_MEMORY_RANGE_SCHEMA)
]
MemoryField = Annotated[
    float, BeforeValidator(grammar.parse_memory), WithJsonSchema(_MEMORY_SCHEMA)
]


def _bounded_count_range(value: IntRange) -> IntRange:
    """Counts feed the planner's arithmetic (replicas × price, CP-SAT's 64-bit integers): a count
    beyond ``grammar.MAX_COUNT`` is refused here, with the bound, instead of overflowing there."""
    for bound in (value.min, value.max):
        if bound is not None and bound > grammar.MAX_COUNT:
            raise ValueError(f"a count cannot exceed {grammar.MAX_COUNT:,}, got {excerpt(bound)}")
    return value


CountField = Annotated[
    IntRangeField, AfterValidator(_non_negative_range), AfterValidator(_bounded_count_range)
]
SizeRangeField = Annotated[MemoryRangeField, AfterValidator(_non_negative_range)]
SizeField = Annotated[MemoryField, Field(ge=0)]
DurationField = Annotated[
    int, BeforeValidator(grammar.parse_duration), WithJsonSchema(_DURATION_SCHEMA)
]


_NAME_SCHEMA: dict[str, Any] = {"anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}]}
_NAMES_SCHEMA: dict[str, Any] = {
    "anyOf": [*_NAME_SCHEMA["anyOf"], {"type": "array", "items": _NAME_SCHEMA, "minItems": 1}]
}


def _optional(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [*schema["anyOf"], {"type": "null"}]}


def _as_written(value: Any) -> Any:
    """Identity: the model's own before-validator parses the shorthand; this only adds its schema."""
    return value


_COUNT_TOKEN = r"(\d+|\d*\.\.\d*)"
_ARCH_TOKEN = r"([xX]86|[aA][rR][mM])"
_CPU_TEXT = rf"^\s*({_COUNT_TOKEN}|{_ARCH_TOKEN}|{_ARCH_TOKEN}\s*:\s*{_COUNT_TOKEN}|{_COUNT_TOKEN}\s*:\s*{_ARCH_TOKEN})\s*$"
CpuText = Annotated[str, Field(pattern=_CPU_TEXT)]
# Tokens (vendor, names, memory, count) are order-free; the schema checks only their shape.
GpuText = Annotated[str, Field(pattern=r"^\s*[^:\s][^:]*(:\s*[^:\s][^:]*)*$")]
PortText = Annotated[str, Field(pattern=rf"^{_INT_TEXT}$|^[0-9]+:[0-9]+$")]


# --------------------------------------------------------------------------------------------
# resources


class CPUSpec(_Model):
    """CPU requirements; also written as a count (``8``), a range (``2..``) or ``[arch:]count``."""

    arch: Annotated[
        Literal["x86", "arm"] | None,
        WithJsonSchema({"anyOf": [_any_case(list(grammar.CPU_ARCH_WORDS)), {"type": "null"}]}),
    ] = Field(default=None, description="The CPU architecture, `x86` or `arm` (case-insensitive).")
    count: CountField = Field(
        default=IntRange(min=2),
        description="The number of CPU cores: a number (`8`) or a range (`2..`, `4..16`). Defaults to `2..`.",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected a CPU count, range or [arch:]count string, not a boolean")
        if isinstance(value, int | str):
            parts = grammar.parse_cpu_spec(value)
            explicit: dict[str, Any] = {"arch": parts.arch}
            if parts.count is not None:
                explicit["count"] = parts.count
            return explicit
        if isinstance(value, Mapping) and value and set(value) <= {"min", "max"}:
            return {"count": dict(value)}
        return value

    @field_validator("arch", mode="before")
    @classmethod
    def _arch_word(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class GPUSpec(_Model):
    """GPU requirements; also written as a count (``2``) or a spec string (``A100:80GB:2``).

    Choice: a YAML float (``gpu: 1.5``) is rejected; GPUs are whole and a float is usually a typo.
    Seed rule: when a GPU is requested without a count, the count is exactly 1.
    """

    vendor: Annotated[
        Literal["nvidia", "amd", "google", "intel", "tenstorrent"] | None,
        WithJsonSchema({"anyOf": [_any_case(list(grammar.VENDOR_WORDS)), {"type": "null"}]}),
    ] = Field(
        default=None,
        description="The vendor of the GPU/accelerator, one of: `nvidia`, `amd`, `google` (alias: `tpu`), "
        "`intel`, `tenstorrent` (alias: `tt`).",
    )
    name: Annotated[tuple[str, ...] | None, WithJsonSchema(_optional(_NAMES_SCHEMA))] = Field(
        default=None,
        description="The GPU name or list of names (e.g. `A100` or `[A10G, L4]`); any one of them "
        "matches, case-insensitively. The deprecated `tpu-` prefix is removed.",
    )
    count: CountField = Field(
        default=IntRange(min=1, max=1),
        description="The number of GPUs: a number or a range (`1..4`). Defaults to 1.",
    )
    memory: SizeRangeField | None = Field(
        default=None,
        description="The memory of each GPU (e.g. `16GB`). Can be set to a range (e.g. `16GB..`, or `16GB..80GB`).",
    )
    total_memory: SizeRangeField | None = Field(
        default=None,
        description="The total memory of all GPUs (e.g. `32GB`). Can be set to a range (e.g. `16GB..`, or `16GB..80GB`).",
    )
    compute_capability: Annotated[
        tuple[int, int] | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number"},
                    {"type": "string", "pattern": r"^\s*\d+\.\d+\s*$"},
                    {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                ]
            }
        ),
    ] = Field(
        default=None,
        description='The minimum compute capability of the GPU (e.g. `7.5`, `"8.0"`); only known NVIDIA GPUs satisfy it.',
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, bool | float):
            raise ValueError(
                f"expected a whole GPU count, a spec string such as A100:80GB:2, or a mapping; got {excerpt(value, as_repr=True)}"
            )
        if isinstance(value, int | str):
            parts = grammar.parse_gpu_spec(value)
            explicit: dict[str, Any] = {"vendor": parts.vendor, "name": parts.names}
            if parts.memory is not None:
                explicit["memory"] = parts.memory
            if parts.count is not None:
                explicit["count"] = parts.count
            return explicit
        return value

    @field_validator("vendor", mode="before")
    @classmethod
    def _vendor_word(cls, value: Any) -> Any:
        return None if value is None else grammar.parse_vendor(value)

    @field_validator("name", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            names = grammar.parse_name_list(
                value, "GPU name", "write a name (A100) or a list of names ([A10G, L4])"
            )
        except grammar.EntryErrors as error:
            raise entry_errors("name", error) from None
        padded = [
            grammar.EntryProblem(
                (index,) if isinstance(value, list | tuple) else (),
                f"GPU name {excerpt(name, as_repr=True)} has surrounding spaces: dstack compares names exactly, so it "
                f"would match no GPU; write {excerpt(name.strip(), as_repr=True)}",
                name,
            )
            for index, name in enumerate(names)
            if name != name.strip()
        ]
        if padded:
            raise entry_errors("name", grammar.EntryErrors(padded))
        return grammar.normalize_gpu_names(names)

    @field_validator("compute_capability", mode="before")
    @classmethod
    def _capability(cls, value: Any) -> Any:
        try:
            return None if value is None else grammar.parse_compute_capability(value)
        except grammar.EntryErrors as error:
            raise entry_errors("compute_capability", error) from None


class DiskSpec(_Model):
    """Disk requirements; also written as a size or range directly (``disk: 100GB..``)."""

    size: SizeRangeField = Field(
        description="The disk size. Can be set to a range (e.g., `100GB..` or `100GB..200GB`)."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return {"size": value}
        return value


class Resources(_Model):
    """The resource requirements. Setting a field replaces only that field's default."""

    cpu: Annotated[
        CPUSpec,
        BeforeValidator(
            _as_written, json_schema_input_type=int | CpuText | CountRangeObject | CPUSpec
        ),
    ] = Field(
        default=CPUSpec(),
        description="The CPU requirements: a count (`8`), a range (`2..`), `[arch:]count` (`arm:8`) "
        "or an object `{arch, count}`. Defaults to `2..`.",
    )
    memory: SizeRangeField = Field(
        default=GBRange(min=8),
        description="The RAM size (e.g., `8GB`, `16GB..64GB`, `..80GB`). Defaults to `8GB..`.",
    )
    shm_size: SizeField | None = Field(
        default=None,
        description="The size of shared memory (e.g., `8GB`). If you are using parallel communicating "
        "processes (e.g., dataloaders in PyTorch), you may need to configure this.",
    )
    gpu: Annotated[
        GPUSpec | None,
        BeforeValidator(_as_written, json_schema_input_type=int | GpuText | GPUSpec | None),
    ] = Field(
        default=None,
        description="The GPU requirements. Can be set to a number, a string (e.g. `A100`, `80GB:2`, "
        "`A100:80GB:2`), or an object. Omitted or null: no GPU required (GPU offers still match).",
    )
    disk: Annotated[
        DiskSpec | None,
        BeforeValidator(
            _as_written,
            # A size or range written directly (not as `{min, max}`: that is `{size: {min, max}}`).
            json_schema_input_type=Annotated[GBRange, WithJsonSchema(_MEMORY_RANGE_TEXT_SCHEMA)]
            | DiskSpec
            | None,
        ),
    ] = Field(
        default=DiskSpec(size=GBRange(min=100)),
        description="The disk resources: a size/range (`200GB..`) or `{size}`. Defaults to `100GB..`; "
        "null removes the disk requirement.",
    )


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


class ScalingSpec(_Model):
    """Auto-scaling rules, required when ``replicas`` is a range."""

    metric: Literal["rps"] = Field(
        description="The target metric to track. Currently, the only supported value is `rps` (requests per second)."
    )
    target: float = Field(
        gt=0,
        description="The target value of the metric (requests per second per replica); must be > 0. "
        "The number of replicas is calculated from it.",
    )
    window: DurationField | None = Field(
        default=None,
        description="The time window over which the metric is averaged: 30s, 1m or 5m (dstack 0.22). Defaults to 1m.",
    )
    scale_up_delay: DurationField = Field(
        default=300, description="The delay before scaling up (seconds or `5m`). Defaults to 300."
    )
    scale_down_delay: DurationField = Field(
        default=600,
        description="The delay before scaling down (seconds or `10m`). Defaults to 600.",
    )

    @field_validator("window")
    @classmethod
    def _window(cls, value: int | None) -> int | None:
        if value is not None and value not in (30, 60, 300):
            raise ValueError(f"window must be one of 30s, 1m, 5m; got {excerpt(value)} seconds")
        return value

    @field_validator("scale_up_delay", "scale_down_delay")
    @classmethod
    def _delay(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"a scaling delay cannot be negative, got {excerpt(value)}")
        return value


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


def _unless_null(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``parse`` for an optional field: an explicit null stays null."""

    def parse_or_null(value: Any) -> Any:
        return None if value is None else parse(value)

    return parse_or_null


def _to_retry(value: Any) -> Any:
    if value is None or isinstance(value, bool | RetrySpec):
        return value
    if isinstance(value, Mapping):
        return RetrySpec.model_validate(value)
    raise ValueError("retry must be true, false or a mapping {on_events, duration}")


def _to_replicas(value: Any) -> IntRange:
    parsed = _to_int_range(value)
    if parsed.max is None:
        raise ValueError("the maximum number of replicas is required (e.g. 0..4, not 2..)")
    low = 0 if parsed.min is None else parsed.min
    if low < 0:
        raise ValueError("the minimum number of replicas must be greater than or equal to 0")
    return _bounded_count_range(IntRange(min=low, max=parsed.max))


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

NEWER_KEYS = frozenset(
    {
        "docker", "shell", "repos", "files", "priority", "strip_prefix", "probes", "rate_limits",
        "groups", "stop_duration", "utilization_policy", "schedule", "fleets", "instances",
        "tags", "availability_zones", "backend_options", "single_branch", "dstack",
    }
)  # fmt: skip


class ServiceConfiguration(_Model):
    """A dstack ``type: service`` configuration (the reference page's format, dstack ~0.18.3x).

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
        BeforeValidator(_unless_null(_to_replicas)),
        WithJsonSchema(_optional(_INT_RANGE_SCHEMA)),
    ] = Field(
        default=None,
        description="The number of replicas: a number (e.g. `2`) or a range (`0..4`, `1..8`; `..4` "
        "means `0..4`; the maximum is required). If it's a range, `scaling` is required. Defaults to 1.",
    )
    scaling: ScalingSpec | None = Field(
        default=None,
        description="The auto-scaling rules. Required if `replicas` is set to a range.",
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
    python: Annotated[
        str | None,
        BeforeValidator(_unless_null(grammar.parse_python_version)),
        WithJsonSchema(
            {
                "anyOf": [
                    {"enum": list(grammar.PYTHON_VERSIONS)},
                    {"type": "number"},
                    {"type": "null"},
                ]
            }
        ),
    ] = Field(
        default=None,
        description='The major version of Python (3.9 to 3.15; quote it: `"3.10"`). Mutually exclusive with `image`.',
    )
    nvcc: StrictBool | None = Field(
        default=None,
        description="Use image with NVIDIA CUDA Compiler (NVCC) included. Mutually exclusive with `image`.",
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
    spot_policy: Literal["spot", "on-demand", "auto"] | None = Field(
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
        """Keys of newer dstack versions and the cross-field rules, checked on the data as written.

        Pydantic skips "after" model validators when any field fails, so a user fixing one error
        per run would meet the cross-field rules only at the end. Checked here on the raw data,
        they are reported together with every field error (and exactly once).
        """
        if not isinstance(value, Mapping):
            return handler(value)
        details = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "value_error",
                    f"`{excerpt(key)}` exists only in newer dstack versions (0.19+); this planner "
                    "implements the dstack 0.18 service format, which does not have it",
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
            for loc, message, written in cross_field_problems(value)
        )
        if not details:
            return handler(value)
        try:
            handler({key: item for key, item in value.items() if key not in NEWER_KEYS})
        except ValidationError as error:
            details.extend(
                InitErrorDetails(
                    type=PydanticCustomError(entry["type"], entry["msg"]),
                    loc=entry["loc"],
                    input=entry["input"],
                )
                for entry in error.errors()
            )
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
