"""Shared building blocks of the configuration models: the base model, error helpers and the
grammar-backed leaf types (ranges, sizes, durations) with their JSON Schema."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

import planner.config.grammar as grammar
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


def _unless_null(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``parse`` for an optional field: an explicit null stays null."""

    def parse_or_null(value: Any) -> Any:
        return None if value is None else parse(value)

    return parse_or_null


def _to_replicas(value: Any) -> IntRange:
    parsed = _to_int_range(value)
    if parsed.max is None:
        raise ValueError("the maximum number of replicas is required (e.g. 0..4, not 2..)")
    low = 0 if parsed.min is None else parsed.min
    if low < 0:
        raise ValueError("the minimum number of replicas must be greater than or equal to 0")
    return _bounded_count_range(IntRange(min=low, max=parsed.max))


PythonField = Annotated[
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
]
SpotPolicyName = Literal["spot", "on-demand", "auto"]
