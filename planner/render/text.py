"""Text that is safe to print: values from a catalog can hold any character."""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped (``\\x1b``, ``\\n``).

    Catalog strings can come from any URL: a newline would break the table's rows and an escape
    sequence would reach the terminal. Machine formats (json, csv) keep the values as they are.
    """
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )
