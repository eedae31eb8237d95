"""Pydantic models of one record of a fleet inventory and of a capacity/risk file.

A YAML record and a CSV row are validated by the same models, so a value means the same in both
and is refused with the same words. Each rule's message is what the user reads after
``FILE:LINE: field:`` (see ``input_files.py``); the file formats are in docs/planning.md.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from planner.errors import excerpt
from planner.placement.inputs import UNLIMITED, WILDCARD, interruption_rate
from planner.placement.limits import MAX_COUNT, MAX_HOURLY_PRICE
from planner.requirements import PROVIDER_OF_BACKEND

# The error type of every message written here; input_files.py reports its text as is.
INPUT_ERROR = "planner_input"


def invalid(message: str, field: str | None = None, *, at_key: bool = False) -> PydanticCustomError:
    """A refused value; ``field`` names it when a record-level rule refuses one of its fields;
    ``at_key``: the error is located at the field's key (an unknown key), not at its value."""
    context: dict[str, Any] = {"message": message, "at_key": at_key}
    if field is not None:
        context["field"] = field
    return PydanticCustomError(INPUT_ERROR, "{message}", context)


def _blank_to_none(value: Any) -> Any:
    """An empty cell or a blank string states nothing, like an absent key."""
    return None if isinstance(value, str) and value.strip() == "" else value


def _text(value: Any) -> str | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"must be a string, got {excerpt(value, as_repr=True)}")
    return str(value).strip()


def _pattern(value: Any) -> str:
    """A name to match, lower-case; absent, empty or ``*`` matches anything."""
    text = _text(value)
    return WILDCARD if text is None else text.lower()


def _provider_pattern(value: Any) -> str:
    """A dstack backend name as the gpuhunt provider name the catalog uses."""
    pattern = _pattern(value)
    return PROVIDER_OF_BACKEND.get(pattern, pattern)


def _required_name(value: Any) -> str:
    text = _text(value)
    if text is None or text == WILDCARD:
        raise invalid("is required")
    return text


def _required_provider(value: Any) -> str:
    name = _required_name(value).lower()
    return PROVIDER_OF_BACKEND.get(name, name)


# A number written with more characters than this is no count or price (and Python refuses to
# convert an integer of more than 4,300 digits).
_NUMBER_CHARACTERS = 40


def _number_value(value: Any, minimum: float, maximum: float, required: bool) -> float | None:
    value = _blank_to_none(value)
    if value is None:
        if required:
            raise invalid("is required")
        return None
    if isinstance(value, bool) or (isinstance(value, str) and len(value) > _NUMBER_CHARACTERS):
        raise invalid(f"must be a number, got {excerpt(value, as_repr=True)}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise invalid(f"must be a number, got {excerpt(value, as_repr=True)}") from None
    if not math.isfinite(number) or not minimum <= number <= maximum:
        if math.isfinite(number) and number > maximum:
            raise invalid(f"must be ≤ {maximum:.0f}, got {excerpt(value, as_repr=True)}")
        raise invalid(f"must be a finite number ≥ {minimum:g}, got {excerpt(value, as_repr=True)}")
    return number


def _integer_value(
    value: Any, minimum: int, required: bool, *, unlimited_allowed: bool = False
) -> int | None:
    value = _blank_to_none(value)
    if value is None:
        if required:
            raise invalid("is required")
        return None
    if isinstance(value, bool) or not (
        isinstance(value, int)
        or (
            isinstance(value, str)
            and len(value) <= _NUMBER_CHARACTERS
            and re.fullmatch(r"[+-]?\d+", value.strip())
        )
    ):
        raise invalid(f"must be an integer, got {excerpt(value, as_repr=True)}")
    number = int(value.strip()) if isinstance(value, str) else value
    if number < minimum:
        raise invalid(f"must be ≥ {minimum}, got {excerpt(number, as_repr=True)}")
    if number > MAX_COUNT:
        hint = " (write `unlimited` for no limit)" if unlimited_allowed else ""
        raise invalid(f"must be ≤ {MAX_COUNT}, got {excerpt(number, as_repr=True)}{hint}")
    return number


def _number(
    minimum: float, maximum: float = math.inf, *, required: bool = False
) -> BeforeValidator:
    return BeforeValidator(lambda value: _number_value(value, minimum, maximum, required))


def _price(*, required: bool = False) -> BeforeValidator:
    """An hourly price in USD, within what the model can price."""
    return _number(0.0, MAX_HOURLY_PRICE, required=required)


def _integer(minimum: int, *, required: bool = False) -> BeforeValidator:
    return BeforeValidator(lambda value: _integer_value(value, minimum, required))


def _capacity(value: Any) -> int | None:
    """An obtainable count, or ``unlimited`` (no limit)."""
    if isinstance(value, str) and value.strip().lower() == "unlimited":
        return UNLIMITED
    return _integer_value(value, 0, required=False, unlimited_allowed=True)


def _spot_flag(value: Any) -> bool | None:
    """true/false (also yes/no, 1/0, spot/on-demand); absent or ``*`` means both."""
    value = _blank_to_none(value)
    if value is None or value == WILDCARD:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "spot"):
        return True
    if text in ("false", "no", "0", "on-demand"):
        return False
    raise invalid(f"must be true or false, got {excerpt(value, as_repr=True)}")


def _interruption(value: Any) -> float | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    try:
        return interruption_rate(value)
    except ValueError as error:
        raise invalid(str(error)) from None


def _one_of(*choices: str) -> BeforeValidator:
    def check(value: Any) -> str:
        text = (_text(value) or choices[0]).lower()
        if text not in choices:
            raise invalid(f"must be {' or '.join(choices)}, got {excerpt(text, as_repr=True)}")
        return text

    return BeforeValidator(check)


Text = Annotated[str | None, BeforeValidator(_text)]
Pattern = Annotated[str, BeforeValidator(_pattern)]
ProviderPattern = Annotated[str, BeforeValidator(_provider_pattern)]
RequiredName = Annotated[str, BeforeValidator(_required_name)]
RequiredProvider = Annotated[str, BeforeValidator(_required_provider)]
SpotFlag = Annotated[bool | None, BeforeValidator(_spot_flag)]
Capacity = Annotated[int | None, BeforeValidator(_capacity)]
Interruption = Annotated[float | None, BeforeValidator(_interruption)]


class Record(BaseModel):
    """One mapping of an input file: its keys must be the model's fields."""

    model_config = ConfigDict(frozen=True)
    # The word for a key this record does not know ("field" in a record, "key" at the top).
    unknown_words: ClassVar[tuple[str, str]] = ("unknown field (expected one of: ", ")")
    # Keys accepted as other names of a field, not listed in the message.
    other_names: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise invalid("must be a mapping")
        allowed = cls.field_names()
        for key in data:
            if key not in allowed and key not in cls.other_names:
                opening, closing = cls.unknown_words
                raise invalid(f"{opening}{', '.join(allowed)}{closing}", str(key), at_key=True)
        return data

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)


class CapacityRow(Record):
    """A pool rule (obtainable count, spot risk) or, with a ``reservation`` id, a reservation."""

    # A row of the YAML ``reservations`` list must name its reservation (``reservation`` or ``id``).
    reservation_required: ClassVar[bool] = False

    backend: ProviderPattern = WILDCARD
    region: Pattern = WILDCARD
    instance_type: Pattern = WILDCARD
    spot: SpotFlag = None
    capacity: Capacity = None
    interruption: Interruption = None
    reservation: Text = None
    price: Annotated[float | None, _price()] = None
    count: Capacity = None  # another name for capacity

    @property
    def amount(self) -> int | None:
        return self.capacity if self.count is None else self.count

    @model_validator(mode="after")
    def _consistent(self) -> CapacityRow:
        if self.count is not None and self.capacity is not None and self.count != self.capacity:
            raise invalid("capacity and count are the same field: give one", "count")
        if self.reservation is None:
            if self.reservation_required:
                raise invalid("a reservation needs its id (reservation or id)", "reservation")
            if self.price is not None:
                raise invalid(
                    "only a reservation row has a price (catalog prices are used)", "price"
                )
            return self
        for key in ("backend", "region", "instance_type"):
            if getattr(self, key) == WILDCARD:
                raise invalid("a reservation names its backend, region and instance_type", key)
        if self.amount is None:
            raise invalid("a reservation needs its instance count (capacity)", "capacity")
        if self.amount == UNLIMITED:
            raise invalid("must be an integer, got 'unlimited'", "capacity")
        if self.price is None:
            raise invalid("is required", "price")
        return self


class ReservationRow(CapacityRow):
    """A row of the YAML ``reservations`` list: ``id`` is another name for ``reservation``."""

    reservation_required: ClassVar[bool] = True
    other_names: ClassVar[tuple[str, ...]] = ("id",)

    @model_validator(mode="before")
    @classmethod
    def _id_is_the_reservation(cls, data: Any) -> Any:
        if isinstance(data, dict) and "id" in data:
            if _text(data.get("reservation")) is not None:
                raise invalid("give the reservation id once (id or reservation)", "id")
            data = {("reservation" if key == "id" else key): value for key, value in data.items()}
        return data


class FleetResources(Record):
    cpu: Annotated[int, _integer(1, required=True)]
    memory_gb: Annotated[float, _number(0.0, required=True)]
    gpu_count: Annotated[int, _integer(0, required=True)]
    gpu_name: Text = None
    gpu_memory_gb: Annotated[float | None, _number(0.0)] = None
    disk_gb: Annotated[float | None, _number(0.0)] = None
    gpu_vendor: Text = None
    cpu_arch: Annotated[Literal["x86", "arm"], _one_of("x86", "arm")] = "x86"

    @model_validator(mode="after")
    def _gpu_named(self) -> FleetResources:
        if self.gpu_count > 0 and self.gpu_name is None:
            raise invalid("is required when gpu_count > 0", "gpu_name")
        return self


class FleetRow(Record):
    """Identical existing instances (``count`` of them) in one place."""

    name: Text = None
    fleet: Text = None  # the dstack fleet (`fleets:` in a service keeps only the fleets it names)
    backend: RequiredProvider
    region: RequiredName
    instance_type: RequiredName
    spot: SpotFlag = None
    price: Annotated[float, _price(required=True)]
    status: Annotated[Literal["idle", "busy"], _one_of("idle", "busy")] = "idle"
    count: Annotated[int | None, _integer(1)] = None
    resources: FleetResources


class _File(Record):
    unknown_words: ClassVar[tuple[str, str]] = ("unknown key (expected ", ")")


class FleetFile(_File):
    instances: list[FleetRow] = []


class CapacityFile(_File):
    pools: list[CapacityRow] = []
    reservations: list[ReservationRow] = []
