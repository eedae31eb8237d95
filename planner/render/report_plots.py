"""One PNG per service of a cost report with an autoscaling envelope (``planner report --plot-dir``).

The plot itself is ``plot_replay`` (render/traffic_plot.py); this module names the files (from
the service keys, so a report over a repository keeps them apart) and checks up front that the
optional extra ``[plot]`` is installed, so a missing matplotlib fails before any planning.
"""

from __future__ import annotations

import re
from pathlib import Path

from planner.cost_report.model import Report
from planner.errors import InputError, Problem
from planner.render.traffic_plot import plot_replay

__all__ = ["plot_file_name", "plot_report", "require_matplotlib"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def require_matplotlib() -> None:
    """``InputError`` (exit 2) naming the extra when matplotlib cannot be imported."""
    try:
        import matplotlib.figure  # noqa: F401  (lazy: optional extra, slow import)
    except ImportError:
        raise InputError(
            Problem("--plot-dir needs matplotlib: pip install 'planner[plot]'")
        ) from None


def plot_file_name(key: str) -> str:
    """``svc/chat.yml`` → ``svc-chat.yml.png``: one flat, shell-safe name per service key."""
    return _UNSAFE.sub("-", key.replace("/", "-")).strip("-.") + ".png"


def plot_report(report: Report, directory: str | Path) -> dict[str, Path]:
    """Write a plot for each service with an envelope into ``directory``; key → the file."""
    target = Path(directory)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            Problem(f"cannot create the plot directory: {error.strerror}", file=str(directory))
        ) from None
    written: dict[str, Path] = {}
    taken: set[str] = set()
    for service in report.services:
        if service.envelope is None:
            continue
        name = plot_file_name(service.key)
        stem = name.removesuffix(".png")
        number = 2
        while name in taken:  # two keys flattened alike ("a/b.yml", "a-b.yml") keep apart
            name = f"{stem}-{number}.png"
            number += 1
        taken.add(name)
        written[service.key] = plot_replay(
            service.envelope.timeline, service.envelope.prices, target / name
        )
    return written
