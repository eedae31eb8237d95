"""Which files a report covers: service files found from paths, directories and globs.

A file named on the command line must be a service configuration. In a directory (searched
recursively, hidden files and directories left out) or a glob, only ``*.yml`` / ``*.yaml`` files
are read; any other file, and a YAML file that is not a service (``type:`` missing or another
kind: a fleet, a task), is skipped with a note. A file that says ``type: service`` but is broken is an error naming it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from planner.config.yaml_loader import decode_yaml_bytes, parse_yaml
from planner.cost_report.model import SkippedFile
from planner.errors import ConfigError, InputError, Problem

YAML_SUFFIXES = (".yml", ".yaml")
_GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class ServiceFile:
    """A service file to report on; ``key`` names it across reports (see ``ServiceCost.key``)."""

    key: str
    path: Path


@dataclass(frozen=True)
class FoundFiles:
    services: tuple[ServiceFile, ...]
    skipped: tuple[SkippedFile, ...]


def find_service_files(paths: Sequence[str | os.PathLike[str]]) -> FoundFiles:
    """Expand ``paths`` into service files (keys unique, sorted) and the files skipped."""
    if not paths:
        raise InputError(Problem("no service files given: name files, directories or globs"))
    candidates: list[tuple[ServiceFile, bool]] = []  # (file, named explicitly)
    for given in paths:
        candidates.extend(_expand(os.fspath(given)))
    services: dict[str, ServiceFile] = {}
    skipped: list[SkippedFile] = []
    seen: set[Path] = set()
    for candidate, explicit in candidates:
        resolved = candidate.path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        reason = None if explicit else _not_a_service(candidate.path)
        if reason is not None:
            skipped.append(SkippedFile(file=str(candidate.path), reason=reason))
            continue
        other = services.get(candidate.key)
        if other is not None:
            raise InputError(
                Problem(
                    f"two service files have the key {candidate.key!r}: {other.path} and "
                    f"{candidate.path}; report them separately or from their common directory",
                    file=str(candidate.path),
                )
            )
        services[candidate.key] = candidate
    return FoundFiles(
        services=tuple(services[key] for key in sorted(services)),
        skipped=tuple(sorted(skipped, key=lambda item: item.file)),
    )


def _expand(given: str) -> Iterable[tuple[ServiceFile, bool]]:
    if any(character in _GLOB_CHARACTERS for character in given):
        base = _glob_base(given)
        matches = sorted(glob.glob(given, recursive=True))
        if not matches:
            raise InputError(Problem("the pattern matches no file", file=given))
        for match in matches:
            path = Path(match)
            if path.is_dir():
                yield from _directory(path, key_root=base)
            else:
                yield ServiceFile(key=_key(path, base), path=path), False
        return
    path = Path(given)
    if path.is_dir():
        yield from _directory(path, key_root=path)
    elif path.exists() or given == "-":
        yield ServiceFile(key=path.as_posix(), path=path), True
    else:
        raise InputError(Problem("no such file or directory", file=given))


def _directory(root: Path, *, key_root: Path) -> Iterable[tuple[ServiceFile, bool]]:
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(directory, name)
            yield ServiceFile(key=_key(path, key_root), path=path), False


def _glob_base(pattern: str) -> Path:
    """The leading directories of a glob that hold no wildcard: keys are relative to them."""
    parts: list[str] = []
    for part in Path(pattern).parts[:-1]:
        if any(character in _GLOB_CHARACTERS for character in part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def _key(path: Path, root: Path) -> str:
    # Path.relative_to is lexical: "./a.yml" under "." is "a.yml"; both are given relative.
    return Path(os.path.relpath(path, root)).as_posix()


def _not_a_service(path: Path) -> str | None:
    """Why a YAML file found in a directory is not a service file; None when it is one.

    Only the suffix and the ``type`` are looked at here. A file that cannot be read or parsed might be a broken
    service file, so it is not skipped: loading it reports the error, naming the file.
    """
    if path.suffix.lower() not in YAML_SUFFIXES:
        return "not a YAML file (*.yml, *.yaml)"
    try:
        text = decode_yaml_bytes(path.read_bytes(), str(path))
        document = parse_yaml(text, str(path))
    except (OSError, ConfigError):
        return None
    if document is None:
        return "empty YAML file"
    data = document.data
    if not isinstance(data, dict):
        return "not a mapping, so not a service configuration"
    kind = data.get("type")
    if kind is None:
        return "no `type:`, so not a service configuration"
    if isinstance(kind, str) and kind.strip().lower() == "service":
        return None
    return f"`type: {kind}` is not a service configuration"
