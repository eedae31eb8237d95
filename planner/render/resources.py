"""One way to print an offer's resources, for ``planner offers`` and ``planner plan`` alike."""

from __future__ import annotations

from typing import Any


def gb(value: float) -> str:
    return f"{value:g}GB"


def format_resources(offer: dict[str, Any], sized_disk_gb: float | None) -> str:
    """``8xCPU, 32GB, 1xA10G (24GB), 100.0GB (disk)``, as ``dstack offer`` prints them.

    A row whose catalog states no disk (RunPod GPU pods, aws, gcp, ...) shows the disk dstack
    would size it to (``sized_disk_gb``: ``planner.requirements.sized_disk_gb``), as
    ``dstack offer`` does; without one the disk is left out.
    """
    cpu = f"{offer['cpu']}xCPU"
    if offer.get("cpu_arch") == "arm":
        cpu += " (arm)"
    parts = [cpu, gb(offer["memory_gb"])]
    if offer["gpu_count"]:
        gpu = f"{offer['gpu_count']}x{offer.get('gpu_name') or 'GPU'}"
        if offer.get("gpu_memory_gb"):
            gpu += f" ({gb(offer['gpu_memory_gb'])})"
        parts.append(gpu)
    disk = offer.get("disk_gb")
    if disk is None:
        disk = sized_disk_gb
    if disk is not None:
        parts.append(f"{float(disk):.1f}GB (disk)")
    return ", ".join(parts)
