"""A dstack server configuration (``~/.dstack/server/config.yml``): the backend settings that change
which offers the server shows.

Only ``projects[].backends[]`` is read, and of each backend only its ``type`` and the settings
that change offers (docs/dstack-offers.md): ``regions``, ``community_cloud`` (runpod), ``tpu``
(gcp), ``experimental_instance_types`` (aws, oci), ``bare_metal`` (hotaisle). Everything else —
credentials above all — is ignored and never echoed: the YAML reader treats every backend's
``creds`` as secret, and no message quotes a value of the file.

A server has projects; offers are per project. ``project`` picks one by name; without it the
first project answers.
"""

from __future__ import annotations

import os
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError

from planner.config.backend_names import DSTACK_BACKENDS
from planner.config.dstack_settings import BackendSettings, DstackServerSettings
from planner.config.input_file import read_input_bytes
from planner.config.yaml_loader import FieldPath, decode_yaml_bytes, format_path, parse_yaml
from planner.errors import ConfigError, InputError, Problem

# The reader hides values under these paths in every message (projects × backends, generously).
_MAX_PROJECTS: Final = 32
_MAX_BACKENDS: Final = 64
_SECRET_PATHS: Final[tuple[FieldPath, ...]] = (
    *tuple(
        ("projects", project, "backends", backend, "creds")
        for project in range(_MAX_PROJECTS)
        for backend in range(_MAX_BACKENDS)
    ),
    ("encryption",),
)


class _Backend(BaseModel):
    # Unknown keys are the server's other settings (vpc_name, tags, creds, ...): ignored.
    model_config = ConfigDict(extra="ignore", strict=True)

    type: str
    regions: list[str] | None = None
    community_cloud: bool | None = None
    tpu: bool | None = None
    experimental_instance_types: list[str] | None = None
    bare_metal: bool | None = None


class _Project(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    name: str | None = None
    backends: list[_Backend] | None = None


class _ServerConfig(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    projects: list[_Project]


def load_dstack_config(
    path: str | os.PathLike[str], *, project: str | None = None
) -> DstackServerSettings:
    """Read a dstack server configuration; a bad file is an ``InputError`` naming file:line."""
    file = str(path)
    try:
        text = decode_yaml_bytes(read_input_bytes(path, file, kind="dstack server config"), file)
        document = parse_yaml(text, file, secret_paths=_SECRET_PATHS)
    except ConfigError as error:
        raise InputError(error.problems) from None
    data: Any = None if document is None else document.data
    if not isinstance(data, dict):
        raise InputError(
            Problem("a dstack server config is a mapping with `projects`", file=file, line=1)
        )
    try:
        config = _ServerConfig.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            location: FieldPath = tuple(item["loc"])
            mark = document.locate(location) if document is not None else None
            # pydantic's message only: it never quotes the input value.
            problems.append(
                Problem(
                    _message(item),
                    file=file,
                    line=mark.line if mark else None,
                    column=mark.column if mark else None,
                    path=format_path(location),
                )
            )
        raise InputError(problems) from None
    chosen = _project(config, project, file)
    index = config.projects.index(chosen)
    backends = []
    for position, backend in enumerate(chosen.backends or ()):
        name = backend.type.lower()
        if name not in DSTACK_BACKENDS:
            location = ("projects", index, "backends", position, "type")
            mark = document.locate(location) if document is not None else None
            raise InputError(
                Problem(
                    f"unknown backend type; known types: {', '.join(DSTACK_BACKENDS)}",
                    file=file,
                    line=mark.line if mark else None,
                    column=mark.column if mark else None,
                    path=format_path(location),
                )
            )
        backends.append(
            BackendSettings(
                type=name,
                regions=tuple(backend.regions) if backend.regions is not None else None,
                community_cloud=backend.community_cloud,
                tpu=backend.tpu,
                experimental_instance_types=tuple(backend.experimental_instance_types or ()),
                bare_metal=backend.bare_metal,
            )
        )
    return DstackServerSettings(backends=tuple(backends), source=file, project=chosen.name)


def _project(config: _ServerConfig, name: str | None, file: str) -> _Project:
    if not config.projects:
        raise InputError(Problem("`projects` is empty: no backend answers", file=file))
    if name is None:
        return config.projects[0]
    for project in config.projects:
        if project.name == name:
            return project
    raise InputError(Problem("no project of that name in the file", file=file, path="projects"))


def _message(item: Any) -> str:
    kind = item.get("type", "")
    if kind == "missing":
        return "field required"
    if kind.endswith("_type") or kind in {"bool_parsing", "string_type", "list_type"}:
        expected = kind.removesuffix("_type").removesuffix("_parsing")
        return f"expected {expected if expected != 'model' else 'a mapping'}"
    return str(item.get("msg", "invalid value")).split(" [", 1)[0]
