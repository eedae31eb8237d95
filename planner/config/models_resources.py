"""The ``resources`` models: CPU, GPU, disk and the resource requirements as a whole."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

import planner.config.grammar as grammar
from planner.config.models_base import (
    _MEMORY_RANGE_TEXT_SCHEMA,
    _NAMES_SCHEMA,
    CountField,
    CountRangeObject,
    CpuText,
    GpuText,
    SizeField,
    SizeRangeField,
    _any_case,
    _as_written,
    _Model,
    _optional,
    entry_errors,
)
from planner.config.normalized import GBRange, IntRange
from planner.errors import excerpt

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
