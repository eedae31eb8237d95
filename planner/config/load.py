"""``load_config``: a service configuration file → validated model + normalized view + warnings.

The order of checks is the order a user fixes things in: the bytes (UTF-8), the YAML (syntax,
traps, one document), the document kind (a mapping with ``type: service``), then every field at
once. Every failure is a ``ConfigError`` whose problems carry file, line, column and field path.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from pydantic import ValidationError

from planner.config.input_file import read_input_bytes
from planner.config.models import ServiceConfiguration
from planner.config.models_groups import written_groups
from planner.config.normalize import normalize
from planner.config.normalized import NormalizedService
from planner.config.schema import json_schema
from planner.config.validation_errors import YAML_SECRET_PATHS, problems_from_validation_error
from planner.config.value_kinds import describe_value
from planner.config.yaml_loader import Mark, YamlDocument, decode_yaml_bytes, parse_yaml
from planner.errors import ConfigError, Problem, excerpt

STDIN = "-"
STDIN_NAME = "<stdin>"
TEXT_NAME = "<text>"

OTHER_TYPES = ("task", "dev-environment", "fleet", "gateway", "volume", "preset")
DEPRECATED_KEYS = {
    "termination_policy": (
        "`termination_policy` is deprecated, use `idle_duration` "
        "(`dont-destroy` is `idle_duration: off`)"
    ),
    "termination_idle_time": "`termination_idle_time` is deprecated, use `idle_duration`",
    "home_dir": "`home_dir` is deprecated since dstack 0.18.31 and has no effect",
    "setup": "`setup` is deprecated since dstack 0.18.31 and has no effect for services",
}


@dataclass(frozen=True)
class LoadedConfig:
    """A validated service configuration and where it came from."""

    source: str  # the file as named by the caller, "<stdin>" or "<text>"
    configuration: ServiceConfiguration  # as written (shorthands parsed), validated
    normalized: NormalizedService  # defaults filled in, explicit units; no secrets
    warnings: tuple[Problem, ...]
    # Where each field was written, so later stages (requirements, plan) can locate their errors.
    document: YamlDocument | None = field(default=None, repr=False, compare=False)

    def locate(self, dotted_path: str) -> Mark | None:
        """Line and column of a field given as ``"resources.gpu"`` (nearest written ancestor)."""
        if self.document is None:
            return None
        path = tuple(int(part) if part.isdigit() else part for part in dotted_path.split("."))
        return self.document.locate(path)


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    name: str | None = None,
) -> LoadedConfig:
    """Load and validate a service configuration from ``path`` (``"-"``: stdin) or ``text``.

    ``name`` is how the source is called in messages (defaults to the path, ``<stdin>`` or
    ``<text>``). Raises ``ConfigError`` listing every problem found, each located.
    """
    _check_arguments(path, text, name)
    if text is None:
        assert path is not None
        source = name or (STDIN_NAME if os.fspath(path) == STDIN else os.fsdecode(path))
        text = _read_source(path, source)
    else:
        source = name or TEXT_NAME
    document = parse_yaml(text, source, secret_paths=YAML_SECRET_PATHS)
    _check_kind(document, source)
    assert document is not None
    configuration = _validate(document)
    return LoadedConfig(
        source=source,
        configuration=configuration,
        normalized=normalize(configuration),
        warnings=_warnings(document),
        document=document,
    )


def service_argument(config: object, function: str) -> LoadedConfig | NormalizedService:
    """What a library function was given as the service: a ``LoadedConfig`` or
    ``NormalizedService`` as it is, a path (``str`` or ``os.PathLike``) loaded with ``load_config``.

    Anything else is a ``ConfigError`` naming ``function`` and what it takes, rather than an
    ``AttributeError`` from deep inside.
    """
    if isinstance(config, LoadedConfig | NormalizedService):
        return config
    if isinstance(config, str | os.PathLike):
        return load_config(config)
    raise ConfigError(
        f"{function} takes a service configuration: a file path (str or os.PathLike), a "
        f"LoadedConfig (planner.load_config) or a NormalizedService; not {type(config).__name__}"
    )


def _check_arguments(path: object, text: object, name: object) -> None:
    """A library caller's mistake is a ``ConfigError`` saying so, not a failure deep inside."""
    if (path is None) == (text is None):
        raise ConfigError(
            "load_config takes exactly one source: a file path, or the text as text=..."
        )
    if path is not None and not isinstance(path, str | os.PathLike):
        raise ConfigError(
            'load_config takes a file path (str or os.PathLike, "-" for stdin), '
            f"not {type(path).__name__}"
        )
    if text is not None and not isinstance(text, str):
        raise ConfigError(f"load_config's text= takes a str, not {type(text).__name__}")
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"load_config's name= takes a str, not {type(name).__name__}")


def _read_source(path: str | os.PathLike[str], source: str) -> str:
    stdin = sys.stdin.buffer if os.fspath(path) == STDIN else None
    return decode_yaml_bytes(read_input_bytes(path, source, stdin=stdin), source)


def _check_kind(document: YamlDocument | None, source: str) -> None:
    if document is None:
        raise ConfigError(
            Problem(
                "the file is empty; a service configuration is a mapping that starts with "
                "`type: service`",
                file=source,
            )
        )
    data = document.data
    start = document.start
    if not isinstance(data, dict):
        message = (
            "a service configuration is a mapping of `key: value` lines, "
            f"not {describe_value(data)}"
        )
        raise ConfigError(Problem(message, source, start.line, start.column))
    if "type" not in data:
        message = "`type` is missing; a service configuration starts with `type: service`"
        raise ConfigError(Problem(message, source, start.line, start.column, "type"))
    kind = data["type"]
    if kind == "service":
        return
    if isinstance(kind, str) and kind.strip().lower() == "service":
        message = f"the type is written `service` (lower case), not `{excerpt(kind)}`"
    elif kind in OTHER_TYPES:
        message = (
            f"planner plans services; this is a {kind} configuration (`type: {kind}`), "
            "not `type: service`"
        )
    elif isinstance(kind, str):
        message = (
            f"unknown configuration type `{excerpt(kind)}`; planner reads service configurations "
            "(`type: service`)"
        )
    else:
        message = f"`type` must be `service`, not {describe_value(kind)}"
    mark = document.locate(("type",))
    raise ConfigError(Problem(message, source, mark.line, mark.column, "type"))


def _validate(document: YamlDocument) -> ServiceConfiguration:
    try:
        return ServiceConfiguration.model_validate(document.data)
    except ValidationError as error:
        raise ConfigError(
            problems_from_validation_error(error, document, schema=json_schema)
        ) from None


def _warnings(document: YamlDocument) -> tuple[Problem, ...]:
    warnings: list[Problem] = []
    for key, message in DEPRECATED_KEYS.items():
        if key in document.data:
            mark = document.locate((key,), key=True)
            warnings.append(
                Problem(
                    message,
                    file=document.file,
                    line=mark.line,
                    column=mark.column,
                    path=key,
                )
            )
    written = written_groups(document.data) if isinstance(document.data, dict) else None
    for index, group in enumerate(written[1] if written and isinstance(written[1], list) else ()):
        if isinstance(group, dict) and "replicas" in group and "count" in group:
            mark = document.locate((written[0], index, "count"), key=True)  # type: ignore[index]
            warnings.append(
                Problem(
                    "`count` is ignored: this replica group also sets `replicas`, which wins (as "
                    "in dstack 0.22.5); keep one of them",
                    file=document.file,
                    line=mark.line,
                    column=mark.column,
                    path=f"{written[0]}[{index}].count",  # type: ignore[index]
                )
            )
    return tuple(sorted(warnings, key=lambda warning: (warning.line or 0, warning.column or 0)))
