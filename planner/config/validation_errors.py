"""Pydantic validation errors → located, readable ``Problem``s.

Pydantic reports a field by its ``loc`` as the model saw it, interleaved with union-member and
validator tags (``('resources', 'gpu', 'GPUSpec', 'count')``, ``('port', 'int')``). Walking that
``loc`` along the data as written recovers the user's field path, which the YAML document then
locates. For a union-typed field pydantic emits one error per member; those are reduced to one
useful message per field. Secret values (``registry_auth``) are never echoed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from planner.config.models_base import CROSS_FIELD_ERROR, INVALID_KEY_ERROR
from planner.config.normalized import REDACTED
from planner.config.value_kinds import describe_value
from planner.config.yaml_loader import FieldPath, YamlDocument, format_path
from planner.errors import Problem, excerpt

# Everything under `registry_auth` is kept out of messages; the password is also scrubbed from
# any message that might quote it.
SECRET_PATHS: tuple[FieldPath, ...] = (("registry_auth",),)
# YAML's own errors (a tag, an alias, a bad escape, a number trap) quote the text they met: none of
# them quotes text under these paths. `env` values are never quoted either (docs/configuration.md
# §1); validation messages about them name only the kind of value, with the variable's name.
YAML_SECRET_PATHS: tuple[FieldPath, ...] = (*SECRET_PATHS, ("env",))

_PREFIXES = ("Value error, ", "Assertion failed, ")
_TYPE_NOUNS: Mapping[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "none_required": "null",
}
# Errors that only say "this union member did not fit": noise when another member got further.
_SHAPE_ERRORS = frozenset(
    {*_TYPE_NOUNS, "too_short", "too_long", "union_tag_invalid", "union_tag_not_found"}
)
# The models' own errors about a whole field or a key (a rule between fields, a bad key name):
# located at the key, and never merged with the value's own errors at the same path.
_AT_KEY_ERRORS = frozenset({CROSS_FIELD_ERROR, INVALID_KEY_ERROR})
_YAML11_WORDS = frozenset({"yes", "no", "on", "off"})
# A choice of words, maybe among other types (`https`: true, false or `auto`).
_CHOICE_PARTS = frozenset({*_TYPE_NOUNS, "literal_error"})
# Numeric bounds (``Field(gt=0)``): pydantic says "Input should be greater than 0".
_BOUND_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})
_SHOULD_BE = "Input should be "
_SHORT_SECRET = 4
# dstack 0.22.5 keys of other configuration types, which a service refuses.
OTHER_TYPE_KEYS: Mapping[str, str] = {
    "nodes": "`type: task`",
    "ports": "`type: task` and `type: dev-environment`",
    "ide": "`type: dev-environment`",
    "version": "`type: dev-environment`",
    "init": "`type: dev-environment`",
    "inactivity_duration": "`type: dev-environment`",
}
_FEW_FIELDS = 8  # an unknown field's message lists the known ones when there are this few


def is_secret(path: FieldPath) -> bool:
    return any(path[: len(prefix)] == prefix for prefix in SECRET_PATHS)


@dataclass(frozen=True)
class Redactor:
    """Scrubs secret values (the password as constructed and as written) from messages."""

    secrets: tuple[str, ...]

    @classmethod
    def for_document(cls, document: YamlDocument) -> Redactor:
        texts: set[str] = set()
        auth = document.data.get("registry_auth") if isinstance(document.data, dict) else None
        secret_values = [auth.get("password")] if isinstance(auth, dict) else [auth]
        for value in _leaves(secret_values):
            if value is not None and str(value):
                texts.add(str(value))
        for path, source in document.scalar_sources.items():
            if path[:2] == ("registry_auth", "password") or (
                path[:1] == ("registry_auth",) and not isinstance(auth, dict)
            ):
                texts.add(source.text)
        # Longest first, so a secret that contains another is replaced whole.
        return cls(tuple(sorted(texts, key=len, reverse=True)))

    def __call__(self, message: str) -> str:
        for secret in self.secrets:
            if len(secret) >= _SHORT_SECRET:
                message = message.replace(secret, REDACTED)
            else:
                pattern = rf"(?<![\w]){re.escape(secret)}(?![\w])"
                message = re.sub(pattern, REDACTED, message)
        return message


def _leaves(values: Iterable[Any]) -> Iterable[Any]:
    for value in values:
        if isinstance(value, dict):
            yield from _leaves(value.values())
        elif isinstance(value, list):
            yield from _leaves(value)
        else:
            yield value


def problems_from_validation_error(
    error: ValidationError,
    document: YamlDocument,
    *,
    schema: Callable[[], Mapping[str, Any]] | None = None,
) -> list[Problem]:
    """One located problem per failing field, ordered by position in the file.

    ``schema`` builds the JSON Schema that "did you mean" suggestions for unknown fields are drawn
    from; it is only called when there is an unknown field.
    """
    redact = Redactor.for_document(document)
    by_path: dict[FieldPath, list[dict[str, Any]]] = {}
    own: dict[tuple[FieldPath, str], None] = {}  # rule and key errors: each its own problem
    for details in error.errors(include_url=False, include_context=False):
        path = _data_path(details["loc"], document.data, details["type"])
        if details["type"] in _AT_KEY_ERRORS:
            own.setdefault((path, details["msg"]), None)
        else:
            by_path.setdefault(path, []).append(dict(details))
    problems: list[Problem] = []
    for path, message in own:
        mark = document.locate(path, key=True)
        problems.append(
            Problem(
                redact(message),
                file=document.file,
                line=mark.line,
                column=mark.column,
                path=format_path(path) or None,
            )
        )
    # Every path that has an error below it (computed once: thousands of errors stay linear).
    ancestors = {path[:length] for path in by_path for length in range(len(path))}
    known_fields = _KnownFields(schema)
    for path, entries in by_path.items():
        deeper = path in ancestors
        useful = [entry for entry in entries if entry["type"] not in _SHAPE_ERRORS]
        if deeper and not useful:
            continue  # another union member reached further into this value: its error is shown
        if useful and all(entry["type"] == "literal_error" for entry in useful):
            # `https: maybe`: name the other members' types too ("true or false or `auto`").
            useful = [entry for entry in entries if entry["type"] in _CHOICE_PARTS]
        message = _message(path, useful or entries, document, known_fields)
        mark = document.locate(path, key=entries[0]["type"] == "extra_forbidden")
        problems.append(
            Problem(
                redact(message),
                file=document.file,
                line=mark.line,
                column=mark.column,
                path=format_path(path) or None,
            )
        )
    return sorted(problems, key=lambda problem: (problem.line or 0, problem.column or 0))


def _data_path(loc: Sequence[str | int], data: Any, error_type: str) -> FieldPath:
    """The user's field path: ``loc`` without the union-member and validator tags."""
    path: list[str | int] = []
    node = data
    last = len(loc) - 1
    for index, part in enumerate(loc):
        if _has_child(node, part):
            path.append(part)
            node = node[part]
        elif (
            index == last
            and error_type in ("missing", CROSS_FIELD_ERROR)
            and isinstance(part, str)
            and (node is None or isinstance(node, dict))
        ):
            path.append(part)  # a required field that is not written
        # else: a union-member or validator tag, or a value pydantic built from a shorthand
    return tuple(path)


def _has_child(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _message(
    path: FieldPath,
    entries: list[dict[str, Any]],
    document: YamlDocument,
    known_fields: _KnownFields,
) -> str:
    first = entries[0]
    kind = first["type"]
    if kind == "extra_forbidden":
        return _unknown_field(path, known_fields)
    if kind == "missing":
        return f"`{path[-1]}` is required" if path else "a required field is missing"
    nouns = [_TYPE_NOUNS[entry["type"]] for entry in entries if entry["type"] in _TYPE_NOUNS]
    secret = is_secret(path)
    if len(nouns) == len(entries):
        expected = _alternatives(list(dict.fromkeys(nouns)))
        message = f"expected {expected}, got {describe_value(first.get('input'), secret=secret)}"
    elif all(entry["type"] in _CHOICE_PARTS for entry in entries):
        words = [word for entry in entries for word in _choices(entry)]
        value = next(entry for entry in entries if entry["type"] == "literal_error").get("input")
        message = _choice_message(list(dict.fromkeys(nouns)), words, value, secret)
    elif kind in _BOUND_ERRORS and first["msg"].startswith(_SHOULD_BE):
        bound = first["msg"][len(_SHOULD_BE) :]
        message = (
            f"expected a value {bound}, got {describe_value(first.get('input'), secret=secret)}"
        )
    else:
        message = _strip_prefix(first["msg"])
    hint = _yaml_reading_hint(path, document)
    return f"{message} ({hint})" if hint else message


def _choices(entry: Mapping[str, Any]) -> list[str]:
    """The allowed words of a ``literal_error`` (``Input should be 'a', 'b' or 'c'``)."""
    if entry["type"] != "literal_error":
        return []
    return re.findall(r"'([^']*)'", str(entry["msg"]))


def _choice_message(nouns: list[str], words: list[str], value: Any, secret: bool) -> str:
    """The allowed words (and value types), the value given, and a likely correction."""
    if len(words) == 1 or nouns:
        expected = _alternatives([*nouns, *(f"`{word}`" for word in words)])
    else:
        expected = "one of " + ", ".join(words)
    if secret or not isinstance(value, str):
        return f"expected {expected}; got {describe_value(value, secret=secret)}"
    message = f"expected {expected}; got {excerpt(value, as_repr=True)}"
    same_word = [word for word in words if word.lower() == value.strip().lower()]
    close = same_word or difflib.get_close_matches(value, words, n=1, cutoff=0.6)
    if close:
        message += f" (did you mean `{close[0]}`?)"
    return message


def _strip_prefix(message: str) -> str:
    for prefix in _PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def _alternatives(nouns: list[str]) -> str:
    if len(nouns) == 1:
        return nouns[0]
    return ", ".join(nouns[:-1]) + " or " + nouns[-1]


def _yaml_reading_hint(path: FieldPath, document: YamlDocument) -> str | None:
    """Explain a YAML 1.1 reading the user probably did not intend (never for secrets)."""
    source = document.scalar_sources.get(path)
    if source is None or is_secret(path):
        return None
    key = path[-1] if path and isinstance(path[-1], str) else None
    quoted = f'{key}: "{source.text}"' if key is not None else f'"{source.text}"'
    if source.tag == "bool" and source.text.lower() in _YAML11_WORDS:
        reading = "true" if source.text.lower() in ("yes", "on") else "false"
        return (
            f"YAML reads the unquoted `{source.text}` as the boolean {reading}; "
            f"quote it if you meant the word: {quoted}"
        )
    if source.tag == "null":
        return "YAML reads an empty value (or `~`, `null`) as null"
    return None


@dataclass
class _KnownFields:
    """The field names allowed in each mapping, from the schema built at most once per call.

    A document with thousands of unknown keys asks for the same few tables thousands of times.
    """

    schema: Callable[[], Mapping[str, Any]] | None
    _schema: Mapping[str, Any] | None = None
    _names: dict[FieldPath, frozenset[str]] = field(default_factory=dict)

    def available(self) -> bool:
        return self.schema is not None

    def names(self, parent: FieldPath) -> frozenset[str]:
        # Indices do not change which fields are allowed: volumes[0] and volumes[9] share a table.
        key = tuple(0 if isinstance(part, int) else part for part in parent)
        if key not in self._names:
            if self._schema is None:
                assert self.schema is not None
                self._schema = self.schema()
            self._names[key] = frozenset(_sibling_names(self._schema, key))
        return self._names[key]


def _unknown_field(path: FieldPath, known_fields: _KnownFields) -> str:
    name = str(path[-1]) if path else "?"
    message = f"unknown field `{excerpt(name)}` (extra inputs are not permitted)"
    if not known_fields.available() or not path:
        return message
    known = sorted(known_fields.names(path[:-1]) - {name})
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75) if len(name) < 100 else []
    if close:
        return f"{message}; did you mean `{close[0]}`?"
    if len(path) > 1:
        # Inside groups, resources, scaling, probes, ...: a field of a newer release reads as a typo.
        newer = "it is no field of the dstack 0.22.5 format here (a typo, or a field of a newer dstack release)"
        if known and len(known) <= _FEW_FIELDS:
            return f"{message}; {newer}; the fields here are: {', '.join(known)}"
        return f"{message}; {newer}: remove it or check its spelling"
    other = OTHER_TYPE_KEYS.get(name)
    if other:
        return f"{message}; `{excerpt(name)}` belongs to {other} configurations, not to services"
    return (
        f"{message}; it is no key of the dstack 0.22.5 service format (a typo, or a key of a "
        "newer dstack release): remove it or check its spelling"
    )


def _sibling_names(schema: Mapping[str, Any], parent: FieldPath) -> set[str]:
    """The field names the schema allows in the mapping at ``parent``."""
    definitions: Mapping[str, Any] = schema.get("$defs", {})
    nodes: list[Mapping[str, Any]] = [schema]
    for part in parent:
        children: list[Mapping[str, Any]] = []
        for node in nodes:
            for alternative in _alternatives_of(node, definitions):
                if isinstance(part, int) and isinstance(alternative.get("items"), Mapping):
                    children.append(alternative["items"])
                elif isinstance(part, str) and part in alternative.get("properties", {}):
                    children.append(alternative["properties"][part])
        nodes = children
    names: set[str] = set()
    for node in nodes:
        for alternative in _alternatives_of(node, definitions):
            names.update(alternative.get("properties", {}))
    return names


def _alternatives_of(
    node: Mapping[str, Any], definitions: Mapping[str, Any], depth: int = 0
) -> list[Mapping[str, Any]]:
    if depth > 8:
        return []
    if "$ref" in node:
        target = definitions.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        return _alternatives_of(target, definitions, depth + 1)
    found = [node]
    for key in ("anyOf", "oneOf", "allOf"):
        for option in node.get(key, ()):
            found.extend(_alternatives_of(option, definitions, depth + 1))
    return found
