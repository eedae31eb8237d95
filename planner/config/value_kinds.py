"""How messages name the kind of a value the user wrote: "got a list", "not the boolean true".

One wording for the grammars, the document checks and the pydantic error translation. Free of
pydantic, like ``planner.config.grammar``.
"""

from __future__ import annotations

from collections.abc import Mapping

from planner.errors import excerpt


def describe_value(value: object, *, secret: bool = False) -> str:
    """The kind of ``value`` as a phrase: ``a string``, ``the number 8``, ``an empty value (null)``.

    A boolean or a number is named with its value unless ``secret`` (a password, an environment
    value): then only its kind is said. A string is never quoted here; messages that may quote it
    do so themselves.
    """
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return "a boolean" if secret else f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return "a number" if secret else f"the number {excerpt(value)}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__
