"""The backends file: named backends, each with its plugin ``type`` and its settings.

    backends:
      sim:
        type: simulated          # the plugin (an entry point of group planner.backends)
        provides: [aws, gcp]     # catalog backends whose offers it creates (default: [type])
        scenario: scenario.yml   # everything else is the plugin's own settings
      main-aws:
        type: aws
        region: us-east-1
        endpoint_url: http://127.0.0.1:5000

Credentials may be written as settings, but the usual place is the environment (or the SDK's own
files), found the way each SDK finds them. A setting whose name says it holds a credential
(``*secret*``, ``*password*``, ``*token*``, ``*access_key*``, ...) is kept as a
``pydantic.SecretStr``: its value is never printed, logged or quoted in an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from planner.backends.base import BackendConfig, is_secret_name
from planner.backends.yaml_file import problem_at, read_yaml
from planner.errors import InputError, Problem

__all__ = ["BackendsFile", "load_backends"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_RESERVED = ("type", "provides")


@dataclass(frozen=True)
class BackendsFile:
    """The named backends of one file, in the order written."""

    source: str
    backends: tuple[BackendConfig, ...]

    def named(self, name: str) -> BackendConfig | None:
        return next((backend for backend in self.backends if backend.name == name), None)

    def for_catalog_backend(self, backend: str) -> BackendConfig | None:
        """The first backend (in file order) that provides the catalog backend ``backend``."""
        wanted = backend.lower()
        return next((entry for entry in self.backends if wanted in entry.provides), None)


def load_backends(
    path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
) -> BackendsFile:
    """Read and check a backends file; ``InputError`` naming file, line and field otherwise.

    ``environ``: where plugins look for credentials (default: the process environment)."""
    file = str(path)
    # Every value under `backends` may be a credential: syntax errors never quote one.
    document = read_yaml(path, kind="backends file", secret_paths=[("backends",)])
    data: Any = None if document is None else document.data
    if not isinstance(data, dict) or not isinstance(data.get("backends"), dict):
        raise InputError(
            problem_at(document, file, ("backends",), "must be a mapping with `backends:`, a "
                       "mapping of backend names to their settings")
        )  # fmt: skip
    problems: list[Problem] = [
        problem_at(document, file, (key,), "unknown field (a backends file has only `backends`)",
                   key=True)
        for key in data if key != "backends"
    ]  # fmt: skip
    entries = data["backends"]
    if not entries:
        problems.append(problem_at(document, file, ("backends",), "names no backend"))
    environment = dict(os.environ if environ is None else environ)
    backends: list[BackendConfig] = []
    for name, entry in entries.items():
        where = ("backends", name)
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(
                problem_at(
                    document,
                    file,
                    where,
                    "a backend name is letters, digits, '-', '_' and '.', at most 63 characters",
                    key=True,
                )
            )
            continue  # fmt: skip
        if not isinstance(entry, dict):
            problems.append(problem_at(document, file, where, "must be a mapping with `type`"))
            continue
        found = _entry_problems(entry)
        problems += [
            problem_at(document, file, (*where, *sub), text, key=not sub) for sub, text in found
        ]
        if found:
            continue
        settings = {
            str(key): SecretStr(str(value)) if is_secret_name(str(key)) else value
            for key, value in entry.items()
            if key not in _RESERVED
        }
        provides = entry.get("provides", [entry["type"]])
        backends.append(
            BackendConfig(
                name=name,
                type=entry["type"],
                settings=settings,
                environ=environment,
                source=file,
                line=None if document is None else document.locate(where, key=True).line,
                provides=tuple(
                    str(item).lower() for item in ([provides] if isinstance(provides, str)
                                                   else provides)
                ),
            )
        )  # fmt: skip
    if problems:
        raise InputError(problems)
    return BackendsFile(source=file, backends=tuple(backends))


def _entry_problems(entry: dict[Any, Any]) -> list[tuple[tuple[str, ...], str]]:
    """(sub-path, message) of what is wrong with one backend's entry; values are never quoted."""
    found: list[tuple[tuple[str, ...], str]] = []
    kind = entry.get("type")
    if kind is None:
        found.append(((), "`type` is required: the backend plugin (simulated, aws, ...)"))
    elif not isinstance(kind, str) or not _NAME.match(kind):
        found.append((("type",), "must be a plugin name (simulated, aws, ...)"))
    provides = entry.get("provides")
    if provides is not None:
        items = [provides] if isinstance(provides, str) else provides
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(item, str) and _NAME.match(item) for item in items)
        ):
            found.append((("provides",), "must be a backend name or a non-empty list of them"))
    for key, value in entry.items():
        if not isinstance(key, str):
            found.append(((str(key),), "a setting's name must be a string"))
        elif is_secret_name(key) and not isinstance(value, str | int):
            found.append(((key,), "a credential must be a string (its value is not shown)"))
    return found
