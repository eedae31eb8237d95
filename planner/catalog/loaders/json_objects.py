"""Vectorized check that a text column holds JSON objects (gpuhunt's ``provider_data``)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from planner.catalog.loaders.fields import Text, as_numpy_bool, is_empty

_OBJECT_SHAPE = r"(?s)^\{.*\}$"


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
    except ValueError:
        return False
