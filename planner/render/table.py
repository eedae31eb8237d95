"""Plain-text and Markdown tables, shared by every command's human-readable output."""

from __future__ import annotations

from collections.abc import Sequence


def render_text_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right_aligned: Sequence[int] = ()
) -> str:
    """Columns padded to their widest cell, two spaces apart (like `dstack offer`)."""
    widths = [len(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    right = set(right_aligned)

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def render_markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right_aligned: Sequence[int] = ()
) -> str:
    right = set(right_aligned)

    def escape(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    separator = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = [
        "| " + " | ".join(escape(h) for h in headers) + " |",
        "| " + " | ".join(separator) + " |",
    ]
    lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
