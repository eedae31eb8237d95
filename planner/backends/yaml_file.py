"""Reading the backends' own YAML inputs (a backends file, a scenario file) with located errors."""

from __future__ import annotations

import os
from collections.abc import Collection

from planner.config.input_file import read_input_bytes
from planner.config.yaml_loader import FieldPath, YamlDocument, decode_yaml_bytes, parse_yaml
from planner.errors import ConfigError, InputError, Problem


def read_yaml(
    path: str | os.PathLike[str], *, kind: str, secret_paths: Collection[FieldPath] = ()
) -> YamlDocument | None:
    """One YAML document of a regular file within the input cap; ``InputError`` (file:line) for
    anything unreadable. Values under ``secret_paths`` are never quoted in a message."""
    file = str(path)
    try:
        text = decode_yaml_bytes(read_input_bytes(path, file, kind=kind), file)
        return parse_yaml(text, file, secret_paths=secret_paths)
    except ConfigError as error:
        raise InputError(error.problems) from None


def problem_at(
    document: YamlDocument | None, file: str, path: FieldPath, message: str, *, key: bool = False
) -> Problem:
    """A problem located where ``path`` is written (its key with ``key=True``)."""
    shown = ".".join(str(part) for part in path) or None
    if document is None:
        return Problem(message, file=file, path=shown)
    mark = document.locate(path, key=key)
    return Problem(message, file=file, line=mark.line, column=mark.column, path=shown)
