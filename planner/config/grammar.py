"""Pure parsers for the small value grammars of the service configuration.

Every parser takes the value as YAML produced it and either returns a plain Python value or raises
``ValueError`` with a message saying what was expected; the pydantic models turn that into a
validation error located at the field. Nothing here knows about pydantic or files.

Grammar rules follow dstack's reference page of the format and, where it is silent, dstack 0.22.5; see
docs/configuration.md §2–§5. Deliberate departures are stated where they occur.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from planner.config.value_kinds import describe_value
from planner.errors import excerpt

T = TypeVar("T", int, float)

Vendor = Literal["nvidia", "amd", "google", "intel", "tenstorrent"]
CpuArch = Literal["x86", "arm"]

VENDOR_WORDS: Mapping[str, Vendor] = {
    "nvidia": "nvidia",
    "amd": "amd",
    "google": "google",
    "tpu": "google",
    "intel": "intel",
    "tenstorrent": "tenstorrent",
    "tt": "tenstorrent",
}
CPU_ARCH_WORDS: Mapping[str, CpuArch] = {"x86": "x86", "arm": "arm"}

MEMORY_UNITS: Mapping[str, float] = {"tb": 1024.0, "gb": 1.0, "mb": 1.0 / 1024.0}
DURATION_UNITS: Mapping[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# dstack's Duration: digits, optional spaces (not tabs), a lower-case unit; nothing before or after.
_DURATION_WITH_UNIT = re.compile(r"(\d+) *([smhdw])")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PORT_PAIR = re.compile(r"([0-9]+):([0-9]+)")  # as written: no spaces
MAX_PORT = 65535
# The largest count (replicas, GPUs, CPUs) a configuration may ask for: far above any real
# service, far below what 64-bit arithmetic on counts × prices can hold.
MAX_COUNT = 1_000_000
# An integer written as text longer than this is no count (and Python will not read one of more
# than 4300 digits).
MAX_INT_DIGITS = 30
# A compute capability as text: "8.0", "12.1".
_CAPABILITY_TEXT = re.compile(r"(\d+)\.(\d+)")


@dataclass(frozen=True)
class Range(Generic[T]):
    """Inclusive bounds; ``None`` is an open end. Never both ``None``, never ``min > max``."""

    min: T | None = None
    max: T | None = None


@dataclass(frozen=True)
class GpuSpecParts:
    """What a GPU spec string states; a part not written stays ``None``."""

    vendor: Vendor | None = None
    names: tuple[str, ...] | None = None
    memory: Range[float] | None = None
    count: Range[int] | None = None


@dataclass(frozen=True)
class CpuSpecParts:
    arch: CpuArch | None = None
    count: Range[int] | None = None


@dataclass(frozen=True)
class PortMapping:
    container_port: int
    local_port: int | None


@dataclass(frozen=True)
class VolumeMount:
    """One volume after the short or long syntax: exactly one of ``name``/``instance_path``."""

    path: str
    names: tuple[str, ...] | None = None
    instance_path: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class EntryProblem:
    """One problem of a collection value, at a path relative to that value (a key or an index)."""

    path: tuple[str | int, ...]
    message: str
    value: Any
    at_key: bool = False  # the key itself is wrong (a bad name), not the value written under it


class EntryErrors(ValueError):
    """Every problem found in the entries of one value, each at its own entry."""

    def __init__(self, problems: Sequence[EntryProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = tuple(problems)


# --------------------------------------------------------------------------------------------
# Numbers, memory, ranges


# An integer as text, read as dstack's pydantic reads one: ASCII digits with an optional sign,
# single `_` between digits, an all-zero fraction, surrounding whitespace (" 8 ", "1_000", "2.0").
_INT_TEXT = re.compile(r"\s*([+-]?[0-9]+(?:_[0-9]+)*)(?:\.0+)?\s*", re.ASCII)


def digits_value(digits: str, value: Any) -> int:
    """The integer ``digits`` (as matched in ``value``); more than ``MAX_INT_DIGITS`` is an error.

    Bounded so that no message or arithmetic meets an integer Python cannot print.
    """
    if len(digits.lstrip("+-").replace("_", "")) > MAX_INT_DIGITS:
        raise ValueError(
            f"the number in {excerpt(value, as_repr=True)} has more than {MAX_INT_DIGITS} digits, "
            "more than any count, size or duration"
        )
    return int(digits)


def parse_int(value: Any) -> int:
    """An integer: an int, an integral float, or a string of an integer (``"8"``, ``"-1"``).

    Only ASCII digits: ``"２"`` (a full-width digit) is an error, as in dstack.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got the boolean {value}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError(f"expected an integer, got {excerpt(value)}")
    if isinstance(value, str):
        match = _INT_TEXT.fullmatch(value)
        if match:
            return digits_value(match.group(1), value)
        raise ValueError(f"expected an integer, got {excerpt(value, as_repr=True)}")
    raise ValueError(f"expected an integer, got {type(value).__name__}")


def parse_memory(value: Any) -> float:
    """A size in GB (1 TB = 1024 GB, 1 GB = 1024 MB): ``80GB``, ``1.5TB``, ``512MB``, ``64``.

    Units are ``tb``/``gb``/``mb`` in any case; no unit means GB. Departure from dstack: NaN and
    infinity are rejected (they make every comparison meaningless and cannot be written as JSON).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a memory size such as 16GB, got the boolean {value}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.replace(" ", "").lower()
        factor = 1.0
        for unit, unit_factor in MEMORY_UNITS.items():
            if text.endswith(unit):
                text, factor = text[: -len(unit)], unit_factor
                break
        try:
            number = float(text) * factor
        except ValueError:
            raise ValueError(
                f"invalid memory size {excerpt(value, as_repr=True)}: expected a number with an optional unit "
                "TB, GB or MB (e.g. 16GB, 1.5TB, 512MB; no unit means GB)"
            ) from None
    else:
        raise ValueError(f"expected a memory size such as 16GB, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError(
            f"invalid memory size {excerpt(value, as_repr=True)}: must be a finite number"
        )
    return number


def parse_range(value: Any, convert: Callable[[Any], T]) -> Range[T]:
    """A range: ``{min, max}``, ``"A..B"`` with either end empty (open), or one exact value."""
    if isinstance(value, Range):
        low, high = value.min, value.max
    elif isinstance(value, Mapping):
        low, high = _range_mapping_bounds(value, convert)
    elif isinstance(value, str) and ".." in value:
        parts = value.replace(" ", "").split("..")
        if len(parts) != 2:
            raise ValueError(
                f"invalid range {excerpt(value, as_repr=True)}: expected MIN..MAX, MIN.. or ..MAX"
            )
        low = convert(parts[0]) if parts[0] else None
        high = convert(parts[1]) if parts[1] else None
    else:
        low = high = convert(value)
    if low is None and high is None:
        raise ValueError(
            f"invalid empty range {excerpt(value, as_repr=True)}: give at least one bound (e.g. 1.. or ..8)"
        )
    if low is not None and high is not None and low > high:
        if isinstance(value, str) and ".." in value:
            low_text, high_text = value.replace(" ", "").split("..")
            fix = f"write {high_text}..{low_text}"
        else:
            fix = "swap `min` and `max`"
        raise ValueError(
            f"invalid range order {excerpt(value, as_repr=True)}: the minimum is greater than the maximum ({fix})"
        )
    return Range(low, high)


def _range_mapping_bounds(
    value: Mapping[Any, Any], convert: Callable[[Any], T]
) -> tuple[T | None, T | None]:
    """``{min, max}``: every bad key or bound is reported at that key."""
    problems = [
        EntryProblem(
            (key,),
            f"a range mapping takes only `min` and `max`, not `{excerpt(key)}`",
            item,
            at_key=True,
        )
        for key, item in value.items()
        if key not in ("min", "max")
    ]
    bounds: dict[str, T | None] = {"min": None, "max": None}
    for key in bounds:
        if value.get(key) is not None:
            try:
                bounds[key] = convert(value[key])
            except ValueError as error:
                problems.append(EntryProblem((key,), str(error), value[key]))
    if problems:
        raise EntryErrors(problems)
    return bounds["min"], bounds["max"]


def parse_int_range(value: Any) -> Range[int]:
    return parse_range(value, parse_int)


def parse_memory_range(value: Any) -> Range[float]:
    return parse_range(value, parse_memory)


def render_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render_range(value: Range[Any], unit: str = "") -> str:
    """The canonical text of a range; ``parse_range(render_range(r)) == r``."""

    def bound(number: float | None) -> str:
        return "" if number is None else f"{render_number(number)}{unit}"

    if value.min is not None and value.min == value.max:
        return bound(value.min)
    return f"{bound(value.min)}..{bound(value.max)}"


# --------------------------------------------------------------------------------------------
# Durations


def parse_duration(value: Any) -> int:
    """Seconds: a number, an integer string (``"90"``, ``"-60"``) or ``<digits><unit>``.

    Units (lower case only): s, m, h, d, w. ``1.5h``, ``2H``, ``1h30m`` are errors.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 90, 5m, 2h or 1d, got {excerpt(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite duration, got {excerpt(value)}")
        return int(value)
    if isinstance(value, str):
        # As dstack: whatever Python's int() reads (" 90 ", "+90", "1_000"), else the whole string
        # is <digits><spaces><unit>: " 5m" and "5m " are errors.
        if len(value) <= MAX_INT_DIGITS:
            try:
                return int(value)
            except ValueError:
                pass
        match = _DURATION_WITH_UNIT.fullmatch(value)
        if match:
            return digits_value(match.group(1), value) * DURATION_UNITS[match.group(2)]
        raise ValueError(
            f"cannot parse the duration {excerpt(value, as_repr=True)}: expected seconds (90) or a whole number with "
            "a lower-case unit s, m, h, d or w (30s, 5m, 2h, 1d, 1w)"
        )
    raise ValueError(f"expected a duration such as 90, 5m or 2h, got {type(value).__name__}")


def parse_offable_duration(value: Any) -> int | Literal["off"] | None:
    """``max_duration``: ``off``/``false`` → ``"off"``; ``true``/null → unset; else seconds ≥ 0."""
    if value is None or value is True:
        return None
    if value is False or value == "off":  # exactly `off`, as dstack (' off ' is an error)
        return "off"
    seconds = parse_duration(value)
    if seconds < 0:
        raise ValueError(
            f"duration cannot be negative: {excerpt(value, as_repr=True)} (use `off` for no limit)"
        )
    return seconds


def parse_idle_duration(value: Any) -> int | None:
    """``idle_duration``: ``off``/``false``/any negative → -1 (never); ``true``/null → unset."""
    if value is None or value is True:
        return None
    if value is False or value == "off":
        return -1
    seconds = parse_duration(value)
    return -1 if seconds < 0 else seconds


# --------------------------------------------------------------------------------------------
# GPU / CPU


def parse_compute_capability(value: Any) -> tuple[int, int]:
    """``7.5``, ``"8.0"`` or ``[8, 0]`` → (major, minor). ``"8"``, ``"3.5.1"`` are errors."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError(
                f"invalid compute capability {excerpt(value, as_repr=True)}: expected [major, minor]"
            )
        numbers: list[int] = []
        problems: list[EntryProblem] = []
        for index, (part, item) in enumerate(zip(("major", "minor"), value, strict=True)):
            try:
                numbers.append(parse_int(item))
            except ValueError:
                problems.append(
                    EntryProblem(
                        (index,),
                        f"invalid compute capability: the {part} version must be a whole number, "
                        f"got {excerpt(item, as_repr=True)} (e.g. [8, 0])",
                        item,
                    )
                )
        if problems:
            raise EntryErrors(problems)
        return numbers[0], numbers[1]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(
            f"invalid compute capability {excerpt(value, as_repr=True)}: expected MAJOR.MINOR (e.g. 8.0)"
        )
    match = _CAPABILITY_TEXT.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(
            f"invalid compute capability {excerpt(value, as_repr=True)}: expected MAJOR.MINOR (e.g. 8.0)"
        )
    return digits_value(match.group(1), value), digits_value(match.group(2), value)


def parse_vendor(value: Any) -> Vendor:
    # Any letter case, but no surrounding spaces: dstack refuses ' nvidia '.
    if isinstance(value, str) and value.lower() in VENDOR_WORDS:
        return VENDOR_WORDS[value.lower()]
    raise ValueError(
        f"unknown GPU vendor {excerpt(value, as_repr=True)}: expected one of nvidia, amd, google (alias tpu), intel, "
        "tenstorrent (alias tt)"
    )


def parse_name_list(value: Any, what: str, hint: str) -> tuple[str, ...]:
    """A name or a non-empty list of names (``A100`` or ``[A10G, L4]``), each a non-empty string.

    ``what`` names one item in messages (``GPU name``), ``hint`` says how to write the value; a bad
    item of a list is reported at its own index. A number is a name too (``name: 4090`` is
    ``"4090"``): numbers reaching string fields become strings, as in dstack
    (docs/configuration.md §1).
    """
    value = _number_as_text(value)
    if isinstance(value, list | tuple):
        value = [_number_as_text(item) for item in value]
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"{what} can not be empty: {hint}")
        return (value,)
    if not isinstance(value, list | tuple):
        raise ValueError(
            f"expected a {what} or a list of them, got {describe_value(value)}: {hint}"
        )
    if not value:
        raise ValueError(f"{what} can not be empty (the list has no items): {hint}")
    problems = [
        EntryProblem((index,), f"{what} can not be empty", item)
        if isinstance(item, str)
        else EntryProblem(
            (index,), f"expected a {what} (a string), got {describe_value(item)}", item
        )
        for index, item in enumerate(value)
        if not isinstance(item, str) or not item.strip()
    ]
    if problems:
        raise EntryErrors(problems)
    return tuple(value)


def _number_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def normalize_gpu_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Strip the deprecated lower-case ``tpu-`` prefix (``tpu-v3-8`` → ``v3-8``), keep case."""
    return tuple(name[4:] if name.startswith("tpu-") else name for name in names)


def parse_gpu_spec(value: Any) -> GpuSpecParts:
    """``A100:80GB:2``, ``24GB..:1..2``, ``nvidia:2``, ``A10G,A100``, ``2`` (order-free tokens)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected a GPU spec string or count, got {excerpt(value, as_repr=True)}")
    text = str(value)
    parts: dict[str, Any] = {}
    for token in text.replace(" ", "").split(":"):
        parsed: Any
        if not token:
            raise ValueError(
                f"GPU spec contains empty token: {excerpt(text, as_repr=True)} (write tokens like A100:80GB:2)"
            )
        if token.lower() in VENDOR_WORDS:
            category, parsed = "vendor", VENDOR_WORDS[token.lower()]
        elif token[0].isalpha():
            names = tuple(token.split(","))
            if any(not name for name in names):
                raise ValueError(
                    f"GPU name can not be empty: {excerpt(text, as_repr=True)} has an empty name in its comma-separated "
                    "list (write e.g. A100,H100:2)"
                )
            category, parsed = "names", normalize_gpu_names(names)
        elif any(char.isalpha() for char in token):
            category, parsed = "memory", parse_memory_range(token)
        else:
            category, parsed = "count", parse_int_range(token)
        if category in parts:
            raise ValueError(
                f"GPU spec {category.rstrip('s')} conflict: {excerpt(text, as_repr=True)} states the {category} twice"
            )
        parts[category] = parsed
    return GpuSpecParts(**parts)


def render_gpu_spec(spec: GpuSpecParts) -> str:
    tokens: list[str] = []
    if spec.vendor is not None:
        tokens.append(spec.vendor)
    if spec.names is not None:
        tokens.append(",".join(spec.names))
    if spec.memory is not None:
        tokens.append(render_range(spec.memory, "GB"))
    if spec.count is not None:
        tokens.append(render_range(spec.count))
    return ":".join(tokens)


def parse_cpu_spec(value: Any) -> CpuSpecParts:
    """``8``, ``2..``, ``arm:8``, ``8:arm``, ``x86``: an optional arch and an optional count."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected a CPU spec string or count, got {excerpt(value, as_repr=True)}")
    text = str(value)
    arch: CpuArch | None = None
    count: Range[int] | None = None
    for token in text.replace(" ", "").split(":"):
        if not token:
            raise ValueError(
                f"CPU spec contains empty token: {excerpt(text, as_repr=True)} (write a count, an arch or arch:count, "
                "e.g. 8, arm or arm:8)"
            )
        if ".." in token or token.isdigit():
            if count is not None:
                raise ValueError(
                    f"CPU spec count conflict: {excerpt(text, as_repr=True)} states the count twice"
                )
            count = parse_int_range(token)
        else:
            if token.lower() not in CPU_ARCH_WORDS:
                raise ValueError(
                    f"invalid CPU architecture {excerpt(token, as_repr=True)} in {excerpt(text, as_repr=True)}: expected x86 or arm "
                    "(a count must be a non-negative integer or a range)"
                )
            if arch is not None:
                raise ValueError(
                    f"CPU spec arch conflict: {excerpt(text, as_repr=True)} states the arch twice"
                )
            arch = CPU_ARCH_WORDS[token.lower()]
    return CpuSpecParts(arch=arch, count=count)


def render_cpu_spec(spec: CpuSpecParts) -> str:
    tokens: list[str] = [spec.arch] if spec.arch else []
    if spec.count is not None:
        tokens.append(render_range(spec.count))
    return ":".join(tokens)


# --------------------------------------------------------------------------------------------
# Service and run properties


def parse_port(value: Any) -> PortMapping:
    """``8000``, ``"8000"`` (local port 80) or ``"8080:8000"`` (local:container)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a port number 1..{MAX_PORT}, got {excerpt(value)}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"expected a port number 1..{MAX_PORT}, got {excerpt(value)}")
    if isinstance(value, int | float):
        return PortMapping(container_port=check_port(parse_int(value)), local_port=80)
    if isinstance(value, str):
        if _INT_TEXT.fullmatch(value):
            return PortMapping(container_port=check_port(parse_int(value)), local_port=80)
        match = _PORT_PAIR.fullmatch(value)
        if match:
            return PortMapping(
                local_port=check_port(digits_value(match.group(1), value)),
                container_port=check_port(digits_value(match.group(2), value)),
            )
        raise ValueError(
            f"invalid port {excerpt(value, as_repr=True)}: expected a port number (8000) or LOCAL:CONTAINER (8080:8000)"
        )
    raise ValueError(f"expected a port number or LOCAL:CONTAINER, got {type(value).__name__}")


def check_port(port: int) -> int:
    if not 1 <= port <= MAX_PORT:
        raise ValueError(
            f"port {port} is out of range: a port must be greater than 0 and less than or equal "
            f"to {MAX_PORT} (e.g. 8000)"
        )
    return port


def parse_user(value: Any) -> str:
    """``name_or_uid[:group_or_gid]`` (``ubuntu``, ``1000:1000``); returned unchanged."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(
            f"invalid user format {excerpt(value, as_repr=True)}: expected USER or USER:GROUP"
        )
    text = str(value)
    parts = text.split(":")
    if len(parts) > 2 or any(not part.strip() or part.strip().startswith("-") for part in parts):
        raise ValueError(
            f"invalid user format {excerpt(text, as_repr=True)}: expected USER or USER:GROUP (names or non-negative ids)"
        )
    return text


def parse_env(value: Any) -> dict[str, str | None]:
    """A mapping ``KEY: value`` or a list of ``KEY=value`` / ``KEY=`` / bare ``KEY``.

    A bare key (value ``None``) is taken from the caller's environment at apply time. Booleans are
    rejected rather than guessed (``true`` or ``True``?): quote them. Every bad entry is reported
    (``EntryErrors``), each at its own key or list index. Values are never quoted in messages: an
    environment variable often holds a secret.
    """
    result: dict[str, str | None] = {}
    problems: list[EntryProblem] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            name_problem = _env_key_problem(key)
            if name_problem is not None:
                problems.append(EntryProblem((key,), name_problem, key, at_key=True))
            if isinstance(item, bool):
                word = str(item).lower()
                problems.append(
                    EntryProblem(
                        (key,),
                        f"env {excerpt(key)}: expected a string or number value, got the boolean {word}; "
                        f'quote it: {excerpt(key)}: "{word}"',
                        item,
                    )
                )
            elif item is None:
                problems.append(
                    EntryProblem(
                        (key,),
                        f"env {excerpt(key)}: expected a string or number value, got an empty value (null); "
                        f'write {excerpt(key)}: "" for an empty string, or list it as a bare `- {excerpt(key)}` to '
                        "take it from your environment",
                        item,
                    )
                )
            elif not isinstance(item, str | int | float):
                problems.append(
                    EntryProblem(
                        (key,),
                        f"env {excerpt(key)}: expected a string or number value, got "
                        f"{describe_value(item, secret=True)}",
                        item,
                    )
                )
            else:
                # A number becomes the text Python (and dstack) writes for it: 2.0 -> "2.0".
                result[str(key)] = item if isinstance(item, str) else str(item)
    elif isinstance(value, list):
        first_index: dict[str, int] = {}
        for index, item in enumerate(value):
            if not isinstance(item, str):
                problems.append(
                    EntryProblem(
                        (index,),
                        f"expected a KEY=value string, got {describe_value(item, secret=True)} "
                        '(quote the whole entry: - "KEY=value")',
                        item,
                    )
                )
                continue
            key, separator, text = item.partition("=")
            name_problem = _env_key_problem(key)
            if name_problem is not None:
                problems.append(EntryProblem((index,), name_problem, item))
                continue
            if key in first_index:
                problems.append(
                    EntryProblem(
                        (index,),
                        f"duplicate environment variable {excerpt(key, as_repr=True)}: entry {first_index[key] + 1} of "
                        "the list already sets it; keep only one",
                        item,
                    )
                )
                continue
            first_index[key] = index
            result[key] = text if separator else None
    else:
        raise ValueError(
            f"env must be a mapping (KEY: value) or a list of KEY=value strings, not "
            f"{describe_value(value, secret=True)}"
        )
    if problems:
        raise EntryErrors(problems)
    return result


def _env_key_problem(key: Any) -> str | None:
    if isinstance(key, str) and _ENV_KEY.match(key):
        return None
    return (
        f"invalid environment variable name {excerpt(key, as_repr=True)}: use letters, digits and _, "
        "not starting with a digit (e.g. HF_TOKEN)"
    )


def normalize_absolute_path(value: Any, what: str) -> str:
    """An absolute POSIX path without ``..`` segments, with ``//`` and a trailing ``/`` removed."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} is an empty path: give an absolute path such as /data")
    if not value.startswith("/"):
        raise ValueError(f"{what} {excerpt(value, as_repr=True)} must be absolute (start with /)")
    if ".." in value.split("/"):
        raise ValueError(f"{what} {excerpt(value, as_repr=True)}: `..` segments are not allowed")
    normalized = posixpath.normpath(value)
    return "/" + normalized.lstrip("/")


def parse_volume_short(value: str) -> VolumeMount:
    """``NAME:/container/path`` (network volume) or ``/host/path:/container/path`` (instance)."""
    parts = value.split(":")
    if len(parts) != 2:
        raise ValueError(
            f"invalid mount point format {excerpt(value, as_repr=True)}: expected NAME:/container/path or "
            "/instance/path:/container/path"
        )
    source, destination = parts
    path = normalize_absolute_path(destination, "container path")
    if "/" in source:
        return VolumeMount(
            path=path, instance_path=normalize_absolute_path(source, "instance path")
        )
    if not source.strip():
        raise ValueError(
            f"invalid mount point format {excerpt(value, as_repr=True)}: the volume name is empty"
        )
    return VolumeMount(path=path, names=(source,))


def parse_gateway(value: Any) -> str | bool:
    """``false`` (no gateway), ``true`` (default gateway), ``name`` or ``project/name``."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"gateway must be a name, project/name, true or false; got {excerpt(value, as_repr=True)}"
        )
    parts = value.split("/")
    if len(parts) > 2 or any(not part.strip() for part in parts):
        raise ValueError(
            f"invalid entity reference {excerpt(value, as_repr=True)}: expected NAME or PROJECT/NAME"
        )
    return value


PYTHON_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15")


def parse_python_version(value: Any) -> str:
    """``"3.11"`` or the YAML float 3.11; the float 3.1 (from unquoted ``3.10``) means 3.10."""
    if isinstance(value, float):
        text = "3.10" if value == 3.1 else repr(value)
    elif isinstance(value, str):
        text = value  # exactly as written, as dstack (" 3.11" is an error)
    else:
        raise ValueError(
            f"python must be a version string such as '3.11', got {excerpt(value, as_repr=True)}"
        )
    if text not in PYTHON_VERSIONS:
        raise ValueError(
            f"unsupported python version {excerpt(value, as_repr=True)}: expected one of {', '.join(PYTHON_VERSIONS)}"
        )
    return text
