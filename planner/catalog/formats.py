"""The formats ``planner catalog import`` writes, and the one a file name implies.

Kept apart from ``export`` (which imports pandas) so the CLI can list them at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

EXPORT_FORMATS: Final = ("gpuhunt-zip", "gpuhunt-dir", "arrow")


def format_for_path(path: Path) -> str:
    """The export format a file name implies: ``.zip``, ``.arrow``/``.feather``, else a directory."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return "gpuhunt-zip"
    if suffix in (".arrow", ".feather"):
        return "arrow"
    return "gpuhunt-dir"
