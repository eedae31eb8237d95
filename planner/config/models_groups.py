"""Auto-scaling and replica groups (dstack 0.22.5: ``groups``, or ``replicas`` written as a list)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from planner.config.models_base import (
    _INT_RANGE_SCHEMA,
    DurationField,
    PythonField,
    SpotPolicyName,
    _Model,
    _optional,
    _to_replicas,
    _unless_null,
)
from planner.config.models_resources import Resources
from planner.config.normalized import IntRange
from planner.errors import excerpt


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


# --------------------------------------------------------------------------------------------
# Replica groups (dstack 0.22.5)

GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# The router's former name for `smg`, still accepted by dstack 0.22.5.
_LEGACY_ROUTER_WORDS = {"sglang": "smg"}


class RouterSpec(_Model):
    """The in-service HTTP router a replica group runs (dstack 0.22.5)."""

    type: Literal["smg", "dynamo"] = Field(
        default="smg",
        description="The router: `smg` (Shepherd Model Gateway; `sglang` is its former name) or "
        "`dynamo` (NVIDIA Dynamo frontend). Defaults to `smg`.",
    )

    @field_validator("type", mode="before")
    @classmethod
    def _legacy(cls, value: Any) -> Any:
        return _LEGACY_ROUTER_WORDS.get(value, value) if isinstance(value, str) else value


_REPLICAS_DESCRIPTION = (
    "The number of replicas of this group: a number (`2`) or a range (`0..4`; the maximum is "
    "required). If it's a range, `scaling` is required."
)


class ReplicaGroupSpec(_Model):
    """One replica group of a heterogeneous service: its own resources, count and image."""

    name: Annotated[
        str | None,
        WithJsonSchema(
            {"anyOf": [{"type": "string", "pattern": GROUP_NAME.pattern}, {"type": "null"}]}
        ),
    ] = Field(
        default=None,
        description="The group name (`^[a-z0-9][a-z0-9-]{0,39}$`). Defaults to the group's position "
        "(`0`, `1`, ...).",
    )
    replicas: Annotated[
        IntRange | None,
        BeforeValidator(_unless_null(_to_replicas)),
        WithJsonSchema(_optional(_INT_RANGE_SCHEMA)),
    ] = Field(default=None, description=_REPLICAS_DESCRIPTION)
    count: Annotated[
        IntRange | None,
        BeforeValidator(_unless_null(_to_replicas)),
        WithJsonSchema(_optional(_INT_RANGE_SCHEMA)),
    ] = Field(
        default=None,
        description="Another name for `replicas` (ignored when `replicas` is also set).",
    )
    scaling: ScalingSpec | None = Field(
        default=None, description="The auto-scaling rules. Required if the count is a range."
    )
    resources: Resources = Field(
        default=Resources(),
        description="The resources of each replica of this group (the service-level `resources` "
        "do not apply to groups).",
    )
    spot_policy: SpotPolicyName | None = Field(
        default=None,
        description="`spot`, `on-demand` or `auto` for this group. Defaults to the service's.",
    )
    reservation: str | None = Field(
        default=None, description="The reservation for this group. Defaults to the service's."
    )
    commands: tuple[str, ...] = Field(
        default=(), description="The shell commands of this group's replicas."
    )
    image: str | None = Field(
        default=None,
        description="The Docker image of this group. Mutually exclusive with the group's `python` "
        "and `docker`. Defaults to the service's.",
    )
    python: PythonField = Field(
        default=None,
        description="The major version of Python for this group. Mutually exclusive with the "
        "group's `image` and `docker`.",
    )
    nvcc: StrictBool | None = Field(
        default=None,
        description="Use the image with NVCC for this group. Mutually exclusive with the group's `docker`.",
    )
    docker: StrictBool | None = Field(
        default=None,
        description="Use Docker inside this group's containers (runs privileged). Mutually "
        "exclusive with the group's `image`, `python` and `nvcc`.",
    )
    privileged: StrictBool | None = Field(
        default=None, description="Run this group's replicas in privileged mode."
    )
    router: RouterSpec | None = Field(
        default=None,
        description="This group runs the service's HTTP router (at most one group; exactly one replica).",
    )

    @model_validator(mode="before")
    @classmethod
    def _count_alias(cls, value: Any) -> Any:
        # As dstack: `replicas` wins over `count` (which is then not even read); loading warns.
        if isinstance(value, Mapping) and "replicas" in value and "count" in value:
            return {key: item for key, item in value.items() if key != "count"}
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not GROUP_NAME.fullmatch(value):
            raise ValueError(
                f"invalid replica group name {excerpt(value, as_repr=True)}: use 1-40 lower-case "
                "letters, digits and `-`, starting with a letter or digit (e.g. prefill)"
            )
        return value

    @property
    def count_range(self) -> IntRange | None:
        """The group's replica count, whichever of `replicas` / `count` was written."""
        return self.replicas if self.replicas is not None else self.count


def written_groups(data: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The key the replica groups are written under and its value; None without groups.

    dstack 0.22.5 reads `groups:`, and `replicas:` written as a list means the same.
    """
    if data.get("groups") is not None:
        return "groups", data["groups"]
    if isinstance(data.get("replicas"), list):
        return "replicas", data["replicas"]
    return None


Located = tuple[tuple[str | int, ...], str, Any]


def _is_set(group: Mapping[str, Any], key: str) -> bool:
    return group.get(key) is not None


def group_problems(data: Mapping[str, Any]) -> list[Located]:
    """The rules of replica groups, on the data as written: (field path, message, value)."""
    written = written_groups(data)
    if written is None:
        return []
    key, groups = written
    problems: list[Located] = []
    if key == "groups" and data.get("replicas") is not None:
        problems.append(
            (
                ("replicas",),
                "`replicas` and `groups` are mutually exclusive: give each group its own "
                "`count` under `groups`, or remove `groups`",
                data["replicas"],
            )
        )
    if not isinstance(groups, list):
        return problems  # the field reports its own type error
    if not groups:
        problems.append(
            ((key,), f"`{key}` cannot be an empty list: list at least one replica group", groups)
        )
        return problems
    if data.get("scaling") is not None:
        problems.append(
            (
                ("scaling",),
                "top-level `scaling` is not allowed with replica groups: specify `scaling` in each "
                "replica group instead",
                data["scaling"],
            )
        )
    commands = data.get("commands")
    if isinstance(commands, list) and commands:
        problems.append(
            (
                ("commands",),
                "top-level `commands` is not allowed with replica groups: specify `commands` in "
                "each replica group instead",
                commands,
            )
        )
    mappings = [(index, group) for index, group in enumerate(groups) if isinstance(group, Mapping)]
    names: dict[str, list[int]] = {}
    for index, group in mappings:
        name = group.get("name")
        names.setdefault(str(index) if name is None else str(name), []).append(index)
    for name, indexes in names.items():
        for index in indexes[1:]:
            problems.append(
                (
                    (key, index, "name"),
                    f"duplicate replica group name {excerpt(name, as_repr=True)} (a group without a "
                    "name is named after its position): each replica group needs a unique name",
                    name,
                )
            )
    for index, group in mappings:
        problems.extend(_within_group(key, index, group))
        problems.extend(_across_levels(data, key, index, group))
        if not group.get("commands") and not _is_set(group, "image") and not _is_set(data, "image"):
            problems.append(
                (
                    (key, index),
                    f"replica group {_group_label(group, index)}: either `commands` or `image` must "
                    "be set in the group, or `image` at the service level",
                    group,
                )
            )
    routers = [(index, group) for index, group in mappings if _is_set(group, "router")]
    for index, _ in routers[1:]:
        problems.append(
            (
                (key, index, "router"),
                "at most one replica group may specify `router`",
                groups[index]["router"],
            )
        )
    for index, group in routers[:1]:
        count_key = "replicas" if "replicas" in group else "count"
        try:
            count = _to_replicas(group.get(count_key))
        except (ValueError, TypeError, ValidationError):
            continue  # the count reports its own error
        if (count.min, count.max) != (1, 1):
            problems.append(
                (
                    (key, index, count_key),
                    f"the replica group with `router` must have exactly one replica (`{count_key}: "
                    "1`) in dstack 0.22.5",
                    group.get(count_key),
                )
            )
    return problems


def _group_label(group: Mapping[str, Any], index: int) -> str:
    name = group.get("name")
    return excerpt(str(index) if name is None else name, as_repr=True)


def _within_group(key: str, index: int, group: Mapping[str, Any]) -> list[Located]:
    """dstack's rules between the fields of one group (the same as at the service level)."""
    problems: list[Located] = []
    at = (key, index)
    image = bool(group.get("image"))
    if image and _is_set(group, "python"):
        problems.append(
            (
                (*at, "python"),
                "`image` and `python` are mutually exclusive within a replica group",
                group["python"],
            )
        )
    if group.get("docker") is True:
        for other in ("image", "python", "nvcc"):
            if group.get(other):
                problems.append(
                    (
                        (*at, "docker"),
                        f"`{other}` and `docker` are mutually exclusive within a replica group",
                        True,
                    )
                )
        if group.get("privileged") is False:
            problems.append(
                (
                    (*at, "privileged"),
                    "`privileged: false` is incompatible with `docker: true` within a replica "
                    "group (Docker in Docker runs privileged)",
                    False,
                )
            )
    count_key = "replicas" if "replicas" in group else "count"
    if count_key not in group or group[count_key] is None:
        problems.append(
            (
                at,
                f"replica group {_group_label(group, index)} needs `count` (or `replicas`): a "
                "number such as 1 or a range such as 1..4",
                group,
            )
        )
        return problems
    try:
        count = _to_replicas(group[count_key])
    except (ValueError, TypeError, ValidationError):
        return problems  # the count reports its own error
    scaling = _is_set(group, "scaling")
    if count.min != count.max and not scaling:
        problems.append(
            (
                (*at, count_key),
                f"when you set `{count_key}` to a range, ensure to specify `scaling` in the group "
                "(e.g. scaling: {metric: rps, target: 10}), or set a single number",
                group[count_key],
            )
        )
    if count.min == count.max and scaling:
        problems.append(
            (
                (*at, "scaling"),
                f"to use `scaling`, `{count_key}` must be set to a range: it is the fixed number "
                f"{count.min}; write e.g. {count_key}: 1..4, or remove `scaling`",
                group["scaling"],
            )
        )
    return problems


# (service field, set at the service level?, group field): a service-level value and a group-level
# one that dstack 0.22.5 refuses together.
def _service_set(data: Mapping[str, Any], field: str) -> bool:
    if field in ("docker", "privileged", "nvcc"):
        return data.get(field) is True
    return data.get(field) is not None


_BOTH_LEVELS = ("image", "docker", "privileged", "python", "nvcc", "spot_policy", "reservation")
_CONFLICTING_SOURCES = {
    "image": ("docker", "python", "nvcc"),
    "docker": ("image", "python", "nvcc"),
    "python": ("image", "docker"),
    "nvcc": ("image", "docker"),
}


def _across_levels(
    data: Mapping[str, Any], key: str, index: int, group: Mapping[str, Any]
) -> list[Located]:
    problems: list[Located] = []
    for field in _BOTH_LEVELS:
        if _service_set(data, field) and _is_set(group, field):
            problems.append(
                (
                    (key, index, field),
                    f"`{field}` is set at both the service level and in this replica group: set it "
                    "in one place only (at the service level for every group, or per group)",
                    group[field],
                )
            )
    for service_field, group_fields in _CONFLICTING_SOURCES.items():
        if not _service_set(data, service_field):
            continue
        for field in group_fields:
            if _is_set(group, field):
                problems.append(
                    (
                        (key, index, field),
                        f"service-level `{service_field}` conflicts with group-level `{field}`: "
                        "these image sources are mutually exclusive",
                        group[field],
                    )
                )
    return problems


def schedule_problems(data: Mapping[str, Any]) -> list[Located]:
    """dstack 0.22.5's server refuses a scheduled service that can scale every group to zero."""
    if not data.get("schedule"):
        return []
    written = written_groups(data)
    counts: list[Any]
    if written is None:
        counts = [data.get("replicas", 1)]
    elif isinstance(written[1], list):
        counts = [
            group.get("replicas", group.get("count"))
            for group in written[1]
            if isinstance(group, Mapping)
        ]
    else:
        return []
    try:
        minimums = [1 if count is None else _to_replicas(count).min for count in counts]
    except (ValueError, TypeError, ValidationError):
        return []  # the counts report their own errors
    if minimums and all(minimum == 0 for minimum in minimums):
        return [
            (
                ("schedule",),
                "scheduled services with autoscaling to zero are not supported (dstack 0.22.5 "
                "refuses them): give `replicas` (or a group's `count`) a minimum of 1",
                data["schedule"],
            )
        ]
    return []
