"""Vectorized check that a text column holds JSON objects (gpuhunt's ``provider_data``)."""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from planner.catalog.loaders.fields import Text, as_numpy_bool, is_empty

_OBJECT_SHAPE = r"(?s)^\{.*\}$"
# json.loads recurses once per nesting level, so a value nested about as deep as Python's
# recursion limit (1000) raises RecursionError, and gpuhunt fails the whole file on it. Refusing
# from a fixed depth keeps the verdict independent of how deep the caller's stack is.
MAX_JSON_DEPTH = 900
# Each level takes two characters, so only values at least this long can be that deep.
_DEEP_CHECK_CHARS = 2 * MAX_JSON_DEPTH
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def too_deeply_nested(text: Text) -> np.ndarray:
    """True where ``text`` (stripped) is JSON nested deeper than MAX_JSON_DEPTH."""
    deep = np.zeros(len(text), dtype=bool)
    long_values = as_numpy_bool(pc.greater_equal(pc.binary_length(text), _DEEP_CHECK_CHARS))
    candidates = np.flatnonzero(long_values)
    if len(candidates) == 0:
        return deep
    values = text.take(pa.array(candidates)).to_pylist()
    deep[candidates] = [
        _nesting_depth(value) > MAX_JSON_DEPTH and not _invalid_json(value) for value in values
    ]
    return deep


def _invalid_json(value: str) -> bool:
    """json.loads stops at a syntax error before nesting deeper (gpuhunt then skips the row)."""
    try:
        json.loads(value)
    except RecursionError:
        return False
    except ValueError:
        return True
    return False


def _nesting_depth(value: str) -> int:
    """How deep brackets nest in ``value``, outside JSON strings (rare long values only)."""
    skeleton = np.frombuffer(_JSON_STRING.sub("", value).encode("utf-8"), dtype=np.uint8)
    opening = (skeleton == ord("{")) | (skeleton == ord("["))
    closing = (skeleton == ord("}")) | (skeleton == ord("]"))
    steps = opening.astype(np.int64) - closing.astype(np.int64)
    return int(np.cumsum(steps).max(initial=0))


def check_json_objects(text: Text) -> np.ndarray:
    """True where ``text`` (already stripped) is empty or one JSON object."""
    empty = is_empty(text)
    shaped = as_numpy_bool(pc.match_substring_regex(text, _OBJECT_SHAPE))
    candidates = np.flatnonzero(shaped & ~empty)
    ok = empty.copy()
    if len(candidates) == 0:
        return ok
    values = text.take(pa.array(candidates))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if _all_parse_as_lines(values):
        ok[candidates] = True
        return ok
    # Some value is bad (or spans lines): judge each distinct value on its own.
    distinct = values.dictionary_encode()
    verdicts = np.array([_is_json_object(value) for value in distinct.dictionary.to_pylist()])
    ok[candidates] = verdicts[distinct.indices.to_numpy(zero_copy_only=False)]
    return ok


def _all_parse_as_lines(values: pa.Array) -> bool:
    """Parse every value at once, as newline-delimited JSON, in Arrow's C++ reader."""
    if as_numpy_bool(pc.match_substring(values, "\n")).any():
        return False
    # Joining each value with "" under a "\n" separator appends a newline to it; the result's
    # data buffer is then the whole newline-delimited document, without a Python string.
    lines = pc.binary_join_element_wise(values, pa.scalar(""), "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    document = lines.buffers()[2][int(offsets[0]) : int(offsets[-1])]
    try:
        parsed = pa_json.read_json(
            pa.BufferReader(document),
            read_options=pa_json.ReadOptions(block_size=max(1 << 20, document.size + 1)),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return False
    return bool(parsed.num_rows == len(values))


def _is_json_object(value: str) -> bool:
    try:
        return isinstance(json.loads(value), dict)
    except (ValueError, RecursionError):
        return False  # a value too deep to decode is refused earlier (too_deeply_nested)
