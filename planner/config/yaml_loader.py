"""Safe YAML loading that remembers where every key and value was written.

PyYAML composes the text into a node tree (no object is ever constructed from a tag); this module
builds plain Python data (dict, list, str, int, float, bool, None) from that tree itself, recording
the 1-based line/column of every key and value by field path, so a validation error on
``resources.gpu.memory`` can point at the exact place in the file.

While building, it rejects the YAML 1.1 readings that silently change what the user wrote
(deliberate choices; the spec asks to do better than PyYAML here):

* a duplicated key is an error naming both lines (PyYAML keeps the last one silently);
* an unquoted base-60 number (``gpu: 1:2`` → 62, ``port: 8080:50`` → 484850) is an error;
* an unquoted leading-zero number (``replicas: 010`` → octal 8) is an error, not a warning: every
  such value in a service configuration (counts, ports, sizes, env values) was meant as decimal
  or as text, and guessing wrong would plan the wrong thing;
* alias expansion is capped (billion-laughs documents), recursive aliases are an error;
* tags other than the plain JSON-like ones are an error (``!!python/object``, ``!!binary``, ``!foo``).

Timestamps (``2024-01-01``) are kept as the text written: no configuration field is a date, and the
text is what a string field wants. YAML 1.1 booleans (``on``/``off``/``yes``/``no``) and numbers are
kept as YAML reads them; their source text is recorded so a later type error can explain the reading.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from planner.errors import ConfigError, Problem, excerpt

FieldPath = tuple[str | int, ...]

# A real service configuration has a few hundred values; a document with more (as written, or
# after expanding aliases: a billion-laughs bomb) is refused.
MAX_VALUES = 20_000
# An unquoted number longer than this is no count, port or size; its reading (octal, base 60) is
# not computed, and an integer this long cannot be written back as text by Python anyway.
MAX_NUMBER_CHARS = 100
# Deeper nesting than this is never a configuration (and would exhaust the recursion limit).
MAX_DEPTH = 64

_TAG_PREFIX = "tag:yaml.org,2002:"
_NULL = _TAG_PREFIX + "null"
_BOOL = _TAG_PREFIX + "bool"
_INT = _TAG_PREFIX + "int"
_FLOAT = _TAG_PREFIX + "float"
_STR = _TAG_PREFIX + "str"
_TIMESTAMP = _TAG_PREFIX + "timestamp"
_MAP = _TAG_PREFIX + "map"
_SEQ = _TAG_PREFIX + "seq"
_MERGE = _TAG_PREFIX + "merge"
_IMPLICIT_SCALAR_TAGS = frozenset({_NULL, _BOOL, _INT, _FLOAT, _STR})

_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")
_IDENTIFIER_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Mark:
    """A 1-based position in the source text."""

    line: int
    column: int


@dataclass(frozen=True)
class ScalarSource:
    """How a non-string scalar was written, to explain YAML's reading of it in error messages."""

    text: str
    tag: str  # the resolved YAML tag name: "bool", "int", "float", "null"


@dataclass(frozen=True)
class YamlDocument:
    """The data of one YAML document and where each of its parts was written."""

    file: str
    data: Any
    start: Mark
    key_marks: Mapping[FieldPath, Mark]
    value_marks: Mapping[FieldPath, Mark]
    scalar_sources: Mapping[FieldPath, ScalarSource]

    def locate(self, path: FieldPath, *, key: bool = False) -> Mark:
        """Where ``path`` was written: its key (``key=True``) or its value.

        A path that is not in the document (a missing field) falls back to its nearest written
        ancestor: the key that opens the enclosing mapping, or the document start.
        """
        if key and path in self.key_marks:
            return self.key_marks[path]
        if path in self.value_marks:
            return self.value_marks[path]
        for length in range(len(path) - 1, 0, -1):
            prefix = path[:length]
            if prefix in self.key_marks:
                return self.key_marks[prefix]
            if prefix in self.value_marks:
                return self.value_marks[prefix]
        return self.start


def format_path(path: FieldPath) -> str:
    """``("volumes", 1, "path")`` → ``volumes[1].path``; odd keys are quoted: ``env["A.B"]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        shown = excerpt(part)  # a path names keys as written: a 1,000-character key is cut
        if _IDENTIFIER_KEY.match(part):
            text += f".{shown}" if text else shown
        else:
            escaped = shown.replace("\\", "\\\\").replace('"', '\\"')
            text += f'["{escaped}"]'
    return text


def decode_yaml_bytes(raw: bytes, file: str) -> str:
    """UTF-8 (an optional BOM is dropped); other bytes are an error located at the first bad one."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        offset = error.start
        line = raw.count(b"\n", 0, offset) + 1
        column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        raise ConfigError(
            Problem(
                f"the file is not UTF-8 text (byte 0x{raw[offset]:02x} cannot be decoded); "
                "save it as UTF-8",
                file=file,
                line=line,
                column=column,
            )
        ) from None


def parse_yaml(
    text: str, file: str, *, secret_paths: Collection[FieldPath] = ()
) -> YamlDocument | None:
    """Parse exactly one YAML document; ``None`` when the text holds no document at all.

    Raises ``ConfigError`` (every problem located) for syntax errors, several documents, unsafe or
    unknown tags, duplicated keys, base-60 and leading-zero numbers, and alias bombs. Values at
    ``secret_paths`` are never echoed in a message.
    """
    secrets = frozenset(secret_paths)
    loader = _loader(text, file, secrets)
    try:
        root = _single_node(loader, text, file, secrets)
    finally:
        loader.dispose()
    if root is None:
        return None
    builder = _Builder(file, secrets)
    data = builder.build(root)
    if builder.problems:
        raise ConfigError(sorted(dict.fromkeys(builder.problems), key=_problem_order))
    return YamlDocument(
        file=file,
        data=data,
        start=_mark(root.start_mark),
        key_marks=builder.key_marks,
        value_marks=builder.value_marks,
        scalar_sources=builder.scalar_sources,
    )


def _loader(text: str, file: str, secret_paths: frozenset[FieldPath]) -> _MarkingLoader:
    # PyYAML rejects control characters when the reader is created, before any mark exists.
    try:
        return _MarkingLoader(text)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        # Where the character is: the text before it is all the reader accepted.
        context = _context_path(text[: error.position], error.position)
        if _is_secret(context, secret_paths):
            message = (
                "this value contains a control character, which YAML does not allow; its text is "
                "not shown (a password or an environment value)"
            )
        else:
            message = (
                f"the file contains the control character {code:#04x}, which YAML does not allow"
            )
        raise ConfigError(
            Problem(
                message,
                file=file,
                line=line,
                column=column,
            )
        ) from None


# Every value is a node and so is every key: a document of more nodes than this has more than
# MAX_VALUES values.
_MAX_NODES = 2 * (MAX_VALUES + 1)


class _TooManyNodes(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__("too many nodes")
        self.mark = mark


class _AliasCopy:
    """Marks a node composed at an alias (``*name``), to count what aliases expand apart."""


class _AliasScalarNode(ScalarNode, _AliasCopy):
    pass


class _AliasSequenceNode(SequenceNode, _AliasCopy):
    pass


class _AliasMappingNode(MappingNode, _AliasCopy):
    pass


_ALIAS_CLASSES: Mapping[type[Node], type[Node]] = {
    ScalarNode: _AliasScalarNode,
    SequenceNode: _AliasSequenceNode,
    MappingNode: _AliasMappingNode,
}


class _MarkingLoader(yaml.SafeLoader):
    """A safe loader whose alias nodes carry the position of the alias, not of its anchor.

    The copy shares the anchored node's children, so nothing is duplicated and a cycle is still
    recognised by the identity of its ``value``. Composing stops past ``_MAX_NODES`` nodes: the
    document then has more than ``MAX_VALUES`` values, and composing the rest of a 1 MiB flow list
    would take many seconds.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.nodes_composed = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self.nodes_composed += 1
        if self.nodes_composed > _MAX_NODES:
            raise _TooManyNodes(self.peek_event().start_mark)
        alias = self.peek_event() if self.check_event(yaml.events.AliasEvent) else None
        node = super().compose_node(parent, index)
        if alias is None or node is None:
            return node
        at_alias = copy.copy(node)
        at_alias.__class__ = _ALIAS_CLASSES[type(node)]
        at_alias.start_mark = alias.start_mark
        at_alias.end_mark = alias.end_mark
        return at_alias


def _single_node(
    loader: _MarkingLoader, text: str, file: str, secret_paths: frozenset[FieldPath]
) -> Node | None:
    try:
        if not loader.check_node():
            return None
        root = loader.get_node()
        # A trailing `---` (or `...`) with nothing after it is tolerated; any content is not.
        while loader.check_node():
            extra = loader.get_node()
            if extra is not None and not _is_empty_document(extra):
                mark = _mark(extra.start_mark)
                raise ConfigError(
                    Problem(
                        "the file holds more than one YAML document (separated by `---`); "
                        "planner reads one service configuration per file",
                        file=file,
                        line=mark.line,
                        column=mark.column,
                    )
                )
    except _TooManyNodes as too_many:
        mark = _mark(too_many.mark)
        raise ConfigError(
            Problem(
                _too_large_message(f"has more than {MAX_VALUES} values"),
                file=file,
                line=mark.line,
                column=mark.column,
            )
        ) from None
    except yaml.MarkedYAMLError as error:
        raise ConfigError(_syntax_problem(error, text, file, secret_paths)) from None
    except yaml.YAMLError:
        raise ConfigError(Problem("YAML syntax error", file=file)) from None
    except RecursionError:
        raise ConfigError(
            Problem("the YAML is nested too deeply to be a service configuration", file=file)
        ) from None
    return root


def _is_empty_document(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL and node.value == ""


def _syntax_problem(
    error: yaml.MarkedYAMLError, text: str, file: str, secret_paths: frozenset[FieldPath]
) -> Problem:
    mark = error.problem_mark or error.context_mark
    context = _context_path(text, mark.index if mark is not None else len(text))
    if _is_secret(context, secret_paths):
        # PyYAML's words quote the text they stumbled on (a tag, an alias name, a character):
        # inside a secret that text is the secret, so none of it is shown.
        message = (
            "YAML cannot read this value, and its text is not shown (a password or an "
            'environment value); write it in double quotes, with any " or \\ inside written as '
            '\\" or \\\\'
        )
    else:
        # Only the parser's own words: its source snippet could echo a secret from the file.
        words = [excerpt(part) for part in (error.context, error.problem) if part]
        message = "YAML syntax error: " + ", ".join(words) if words else "YAML syntax error"
        if error.problem == "mapping values are not allowed here":
            message += (
                " (a `: ` or a trailing `:` inside an unquoted value starts a mapping; "
                'quote the value, e.g. gpu: "A100:80GB")'
            )
    # No field path: where the parser stopped is a position, not reliably a field.
    if mark is None:
        return Problem(message, file=file)
    return Problem(message, file=file, line=mark.line + 1, column=mark.column + 1)


def _context_path(text: str, stop: int) -> FieldPath:
    """The field path the parser was inside when it stopped at character ``stop`` of ``text``.

    Parses the text again, event by event, up to the first event at or after ``stop`` or the
    error; what is open then (a mapping waiting for a key's value, a list's next item) is where
    the error is. Used to tell whether a syntax error lies inside a secret field.
    """
    frames: list[_Frame] = []
    parser = yaml.SafeLoader(text)
    try:
        while parser.check_event():
            event = parser.peek_event()
            if event.start_mark.index >= stop:
                break
            parser.get_event()
            _follow(frames, event)
    except yaml.YAMLError:
        pass
    finally:
        parser.dispose()
    return frames[-1].inner_path() if frames else ()


@dataclass
class _Frame:
    """An open mapping or list while following parse events."""

    path: FieldPath
    is_mapping: bool
    key: str | int | None = None  # mapping: the key whose value comes next; list: next index
    awaiting_key: bool = True

    def inner_path(self) -> FieldPath:
        if self.is_mapping and (self.awaiting_key or self.key is None):
            return self.path
        return (*self.path, self.key) if self.key is not None else self.path

    def value_done(self) -> None:
        if self.is_mapping:
            self.awaiting_key = True
        else:
            self.key = (self.key if isinstance(self.key, int) else 0) + 1


def _follow(frames: list[_Frame], event: yaml.Event) -> None:
    parent = frames[-1] if frames else None
    if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
        path = parent.inner_path() if parent is not None else ()
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        frames.append(_Frame(path, is_mapping, key=None if is_mapping else 0))
    elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
        frames.pop()
        _node_done(frames[-1] if frames else None)
    elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
        _node_done(parent, key=event.value if isinstance(event, yaml.ScalarEvent) else None)


def _node_done(frame: _Frame | None, key: str | None = None) -> None:
    """A whole node was read inside ``frame``: a mapping's key, or a value."""
    if frame is None:
        return
    if frame.is_mapping and frame.awaiting_key:
        frame.key = key
        frame.awaiting_key = False
    else:
        frame.value_done()


def _is_secret(path: FieldPath, secret_paths: Collection[FieldPath]) -> bool:
    return any(path[: len(secret)] == secret for secret in secret_paths)


def _shown_path(path: FieldPath, secret_paths: Collection[FieldPath]) -> str:
    """``path`` as a message names it; inside a secret, keys below the secret's field are hidden.

    ``registry_auth.password`` is named, a key written inside the password's value is not.
    """
    for secret in secret_paths:
        if path[: len(secret)] == secret:
            return format_path(path[: len(secret) + 1])
    return format_path(path)


def _too_large_message(what: str, why: str = "is far smaller") -> str:
    return f"the document {what}; a configuration file {why}"


def _mark(mark: yaml.Mark) -> Mark:
    return Mark(mark.line + 1, mark.column + 1)


def _problem_order(problem: Problem) -> tuple[int, int]:
    return (problem.line or 0, problem.column or 0)


@dataclass
class _Builder:
    """Turns composed nodes into plain data, recording marks and collecting problems."""

    file: str
    secret_paths: frozenset[FieldPath]
    key_marks: dict[FieldPath, Mark] = field(default_factory=dict)
    value_marks: dict[FieldPath, Mark] = field(default_factory=dict)
    scalar_sources: dict[FieldPath, ScalarSource] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    values_built: int = 0  # every value, those reached through aliases included
    values_written: int = 0  # the values written in the text (an alias counts as one)
    constructor: yaml.constructor.SafeConstructor = field(
        default_factory=yaml.constructor.SafeConstructor
    )

    def build(self, root: Node) -> Any:
        try:
            return self._value(root, (), set(), through_alias=False)
        except _TooLarge as too_large:
            # Replace every other finding: they are noise next to an exploding document.
            self.problems = [too_large.problem]
            return None

    def _problem(self, node: Node, message: str, path: FieldPath) -> None:
        mark = _mark(node.start_mark)
        self.problems.append(
            Problem(
                message,
                file=self.file,
                line=mark.line,
                column=mark.column,
                path=_shown_path(path, self.secret_paths),
            )
        )

    def _value(
        self, node: Node, path: FieldPath, building: set[int], *, through_alias: bool
    ) -> Any:
        through_alias = through_alias or isinstance(node, _AliasCopy)
        self.values_built += 1
        self.values_written += not through_alias or isinstance(node, _AliasCopy)
        if self.values_written > MAX_VALUES:
            raise _TooLarge(self._too_large(node, path, f"has more than {MAX_VALUES} values"))
        if self.values_built > MAX_VALUES:
            raise _TooLarge(
                self._too_large(
                    node, path, f"expands to more than {MAX_VALUES} values through aliases"
                )
            )
        if len(path) > MAX_DEPTH:
            raise _TooLarge(
                self._too_large(
                    node, path, f"is nested more than {MAX_DEPTH} levels deep", "is never this deep"
                )
            )
        self.value_marks[path] = _mark(node.start_mark)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        # Alias copies share their anchor's children list: its identity recognises a cycle.
        if id(node.value) in building:
            self._problem(node, "this alias refers to a value that contains it (a cycle)", path)
            return None
        building.add(id(node.value))
        try:
            if isinstance(node, SequenceNode):
                self._check_collection_tag(node, _SEQ, path)
                return [
                    self._value(item, (*path, index), building, through_alias=through_alias)
                    for index, item in enumerate(node.value)
                ]
            if isinstance(node, MappingNode):
                self._check_collection_tag(node, _MAP, path)
                return self._mapping(node, path, building, through_alias)
        finally:
            building.discard(id(node.value))
        raise AssertionError(f"unknown YAML node {node!r}")

    def _too_large(
        self, node: Node, path: FieldPath, what: str, why: str = "is far smaller"
    ) -> Problem:
        mark = _mark(node.start_mark)
        return Problem(
            _too_large_message(what, why),
            file=self.file,
            line=mark.line,
            column=mark.column,
            path=_shown_path(path, self.secret_paths) or None,
        )

    def _check_collection_tag(self, node: Node, expected: str, path: FieldPath) -> None:
        if node.tag != expected:
            self._problem(node, _tag_message(node.tag, self._is_secret(path)), path)

    def _mapping(
        self, node: MappingNode, path: FieldPath, building: set[int], through_alias: bool
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_lines: dict[str, int] = {}
        merged: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.append(value_node)
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            key_mark = _mark(key_node.start_mark)
            if key in first_lines:
                # Inside a secret the key may be the secret itself: it is not quoted.
                shown = "" if self._is_secret(path) else f" `{excerpt(key)}`"
                self._problem(
                    key_node,
                    f"duplicated key{shown} (first written at line {first_lines[key]}); "
                    "YAML would silently keep only the last one",
                    (*path, key),
                )
                continue
            first_lines[key] = key_mark.line
            self.key_marks[(*path, key)] = key_mark
            result[key] = self._value(
                value_node, (*path, key), building, through_alias=through_alias
            )
        for source in merged:
            self._merge(source, result, path, building, through_alias)
        return result

    def _merge(
        self,
        source: Node,
        result: dict[str, Any],
        path: FieldPath,
        building: set[int],
        through_alias: bool,
    ) -> None:
        """YAML merge keys (``<<: *defaults``): keys written explicitly win over merged ones."""
        sources = source.value if isinstance(source, SequenceNode) else [source]
        for mapping in sources:
            if not isinstance(mapping, MappingNode):
                self._problem(mapping, "a merge key `<<` takes a mapping or a list of them", path)
                continue
            for key_node, value_node in mapping.value:
                key = self._key(key_node, path)
                if key is None or key in result:
                    continue
                self.key_marks[(*path, key)] = _mark(key_node.start_mark)
                result[key] = self._value(
                    value_node, (*path, key), building, through_alias=through_alias
                )

    def _key(self, node: Node, path: FieldPath) -> str | None:
        # Keys are field names (or env variable names): the text as written is what was meant,
        # so `yes:` stays "yes" and `1:` stays "1" instead of YAML's True / 1.
        if isinstance(node, ScalarNode) and node.tag in _IMPLICIT_SCALAR_TAGS | {_TIMESTAMP}:
            return str(node.value)
        self._problem(node, "a key must be a plain name, not a list, mapping or tagged value", path)
        return None

    def _scalar(self, node: ScalarNode, path: FieldPath) -> Any:
        tag = node.tag
        if tag in (_STR, _TIMESTAMP):
            return str(node.value)
        if tag not in _IMPLICIT_SCALAR_TAGS:
            self._problem(node, _tag_message(tag, self._is_secret(path)), path)
            return None
        text = str(node.value)
        if node.style is None and tag in (_INT, _FLOAT):
            trap = self._number_trap(text, tag, path)
            if trap:
                self._problem(node, trap, path)
                return text
            if tag == _INT and len(text) > MAX_NUMBER_CHARS:
                shown = "this number" if self._is_secret(path) else f"the number `{excerpt(text)}`"
                self._problem(
                    node,
                    f"{shown} is {len(text)} characters long, longer than any value planner "
                    f"reads ({MAX_NUMBER_CHARS}); quote it if it is text",
                    path,
                )
                return text
        try:
            value = self.constructor.construct_object(node)
        except (ValueError, yaml.YAMLError):
            self._problem(node, self._unreadable_number(text, path), path)
            return text
        if tag != _STR:
            self.scalar_sources[path] = ScalarSource(text=text, tag=tag.removeprefix(_TAG_PREFIX))
        return value

    def _is_secret(self, path: FieldPath) -> bool:
        return _is_secret(path, self.secret_paths)

    def _number_trap(self, text: str, tag: str, path: FieldPath) -> str | None:
        # Past MAX_NUMBER_CHARS the reading is not computed (nor could it be printed): the trap
        # is named without it.
        vague = self._is_secret(path) or len(text) > MAX_NUMBER_CHARS
        quoted = _quote_hint(text, path, vague)
        if ":" in text:
            reading = "" if vague else f"{text} as the base-60 number {_base60(text, tag)}"
            return f"YAML reads {reading or 'this value as a base-60 number'}; quote it: {quoted}"
        if tag == _INT and _OCTAL.match(text):
            if vague:
                return f"YAML reads this leading-zero value as an octal number; quote it: {quoted}"
            octal = int(text.replace("_", ""), 8)
            decimal = text.replace("_", "").lstrip("+-").lstrip("0") or "0"
            # `07`, `00`: octal and decimal agree; offer the one number once.
            meant = f"{octal}" if str(octal) == decimal else f"{octal} or {decimal}"
            return (
                f"YAML reads {text} as the octal number {octal}; write {meant} "
                f"without the leading zero, or quote it: {quoted}"
            )
        return None

    def _unreadable_number(self, text: str, path: FieldPath) -> str:
        shown = "this value" if self._is_secret(path) else f"`{excerpt(text)}`"
        return f"YAML cannot read {shown} as a number; quote it if it is text"


class _TooLarge(Exception):
    """The document has too many values or levels: building stops at once."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _base60(text: str, tag: str) -> int | float:
    sign = -1 if text.startswith("-") else 1
    value: float = 0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        value = value * 60 + (float(part) if tag == _FLOAT else int(part))
    return sign * value


def _quote_hint(text: str, path: FieldPath, secret: bool) -> str:
    shown = "..." if secret else text
    if path and isinstance(path[-1], str):
        return f'{path[-1]}: "{shown}"'
    return f'"{shown}"'


def _tag_message(tag: str, secret: bool) -> str:
    if secret:
        # A tag written in a secret's place (`password: !s3cret`) is most likely the secret.
        return (
            "a tag (`!name`) is not supported here, and its text is not shown (a password or an "
            "environment value): write the value in double quotes"
        )
    if tag.startswith(_TAG_PREFIX + "python/"):
        return f"the tag `!!{excerpt(tag.removeprefix(_TAG_PREFIX))}` is not allowed: planner only reads plain data"
    shown = f"!!{tag.removeprefix(_TAG_PREFIX)}" if tag.startswith(_TAG_PREFIX) else tag
    return f"the tag `{excerpt(shown)}` is not supported: use plain strings, numbers, lists and mappings"
