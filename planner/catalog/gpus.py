"""The GPU knowledge table (``catalogs/gpus.csv``): vendor, memory, compute capability, names.

Lookups by catalog name follow gpuhunt's ``find_accelerators``: case-insensitive exact names,
entries in table order, first match wins (a name may appear once per memory size, e.g. A100
40/80). Marketing names ("NVIDIA H100 80GB HBM3", SkyPilot's "A100-80GB", "RTXA6000") go through
``resolve``/``canonical_name`` instead, so the gpuhunt-compatible lookups never guess.

``gpus.csv`` columns: vendor (nvidia, amd, google, intel, tenstorrent), name, memory_gb (per GPU;
0 for TPUs, as gpuhunt), compute_capability ("M.m", NVIDIA only), architecture, aliases
(``|``-separated marketing and foreign-catalog names; an alias on one memory size's row picks it);
see docs/catalog-format.md §4.

Deliberately free of pandas: the configuration stage uses it for vendor inference.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from planner.catalog.bundled import gpu_table_path
from planner.catalog.columns import GPU_VENDORS
from planner.config.grammar import parse_compute_capability
from planner.errors import CatalogError, Problem

GPU_TABLE_FIELDS = ("vendor", "name", "memory_gb", "compute_capability", "architecture", "aliases")

# Words that marketing names add around the model name and that never distinguish two models.
_NOISE_WORDS = frozenset(
    {
        "NVIDIA",
        "TESLA",
        "GEFORCE",
        "QUADRO",
        "AMD",
        "INSTINCT",
        "RADEON",
        "INTEL",
        "HABANA",
        "GOOGLE",
        "PCIE",
        "SXM",
        "SXM2",
        "SXM3",
        "SXM4",
        "SXM5",
        "SXM6",
        "HBM2",
        "HBM2E",
        "HBM3",
        "HBM3E",
        "GENERATION",
        "EDITION",
        "SERVER",
        "WORKSTATION",
        "BLACKWELL",
        "VF",
    }
)
_MEMORY_WORD = re.compile(r"^(\d+)(?:G|GB|GIB)$")
_WORD_SEPARATORS = re.compile(r"[\s\-_/]+")
# GH200/GB200-style names: the GPU ships with an Arm CPU (gpuhunt's is_nvidia_superchip).
SUPERCHIP_PATTERN = r"(?i)^g[bh]\d+"

# A reported memory within this fraction of a known size is that size (gpuhunt's threshold).
MEMORY_SNAP_TOLERANCE = 0.07


@dataclass(frozen=True)
class GpuInfo:
    vendor: str  # one of columns.GPU_VENDORS
    name: str  # the catalog's canonical short name
    memory_gb: float  # per GPU; 0 for TPUs (a slice's memory depends on its size)
    compute_capability: tuple[int, int] | None  # NVIDIA only
    architecture: str
    aliases: tuple[str, ...] = field(default=())


def _normalized_words(name: str) -> tuple[str, float | None]:
    """(key without noise words, memory stated in the name) for comparing marketing names."""
    memory: float | None = None
    kept: list[str] = []
    for word in _WORD_SEPARATORS.split(name.strip().upper()):
        if not word or word in _NOISE_WORDS:
            continue
        stated = _MEMORY_WORD.match(word)
        if stated:
            memory = float(stated.group(1))
            continue
        kept.append(word)
    return "".join(re.sub(r"[^0-9A-Z]", "", word) for word in kept), memory


class GpuTable:
    """Immutable lookups over the known accelerators, in table order."""

    def __init__(self, entries: tuple[GpuInfo, ...]) -> None:
        self.entries = entries
        by_name: dict[str, list[GpuInfo]] = {}
        by_alias: dict[str, GpuInfo] = {}
        by_key: dict[str, GpuInfo] = {}
        for entry in entries:
            by_name.setdefault(entry.name.lower(), []).append(entry)
        for entry in entries:
            for alias in entry.aliases:
                by_alias.setdefault(alias.lower(), entry)
                by_key.setdefault(_normalized_words(alias)[0], entry)
        # Canonical names take precedence over aliases when normalized keys collide.
        for entry in entries:
            key = _normalized_words(entry.name)[0]
            if key not in by_key or by_key[key].name != entry.name:
                by_key[key] = by_name[entry.name.lower()][0]
        self._by_name = {name: tuple(found) for name, found in by_name.items()}
        self._by_alias = by_alias
        self._by_key = by_key

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> GpuTable:
        """Read ``gpus.csv`` (the bundled one by default); a malformed file is a CatalogError."""
        if path is None:
            path = gpu_table_path()
        return cls(tuple(_read_entries(Path(path))))

    def find(self, name: str) -> tuple[GpuInfo, ...]:
        """Every entry named ``name`` (case-insensitive, exact), in table order."""
        return self._by_name.get(name.lower(), ())

    def vendor_of(self, name: str) -> str | None:
        found = self.find(name)
        return found[0].vendor if found else None

    def compute_capability(self, name: str) -> tuple[int, int] | None:
        """The first NVIDIA entry's capability, as gpuhunt's ``get_compute_capability``."""
        for entry in self.find(name):
            if entry.vendor == "nvidia":
                return entry.compute_capability
        return None

    def memory_gb(self, name: str) -> float | None:
        """Memory of the first entry; ``memories_gb`` lists every known size."""
        found = self.find(name)
        return found[0].memory_gb if found else None

    def memories_gb(self, name: str) -> tuple[float, ...]:
        return tuple(entry.memory_gb for entry in self.find(name))

    def architecture(self, name: str) -> str | None:
        found = self.find(name)
        return found[0].architecture if found else None

    def resolve(self, marketing_name: str) -> GpuInfo | None:
        """The entry a marketing or foreign-catalog name denotes, or None when unknown.

        Tries, in order: the canonical name, a listed alias, then the name stripped of vendor,
        form-factor and memory words ("NVIDIA H100 80GB HBM3" → H100). A memory size written in
        the name picks among same-name entries ("A100-80GB" → the 80 GB A100).
        """
        text = marketing_name.strip()
        if not text:
            return None
        key, stated_memory = _normalized_words(text)
        found = self.find(text)
        if not found and text.lower() in self._by_alias:
            return self._by_alias[text.lower()]
        if not found and key in self._by_key:
            found = self.find(self._by_key[key].name) or (self._by_key[key],)
        if not found:
            return None
        if stated_memory is not None:
            for entry in found:
                if entry.memory_gb == stated_memory:
                    return entry
        return found[0]

    def canonical_name(self, marketing_name: str) -> str | None:
        entry = self.resolve(marketing_name)
        return entry.name if entry else None

    def snap_memory_gb(self, name: str, memory_mib: float) -> float:
        """Reported MiB → GB as gpuhunt's ``correct_gpu_memory_gib``.

        The nearest known size of ``name`` when within 7%, else the rounded GiB figure (the
        catalogs' "GB" are GiB, as nvidia-smi and the clouds report them).
        """
        memory = memory_mib / 1024
        known = self.memories_gb(name)
        if known and memory > 0:
            closest = min(known, key=lambda size: abs(size - memory))
            if closest > 0 and abs(closest - memory) / closest < MEMORY_SNAP_TOLERANCE:
                return closest
        return float(round(memory))


def _read_entries(path: Path) -> Iterator[GpuInfo]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError(f"{path}: cannot read the GPU table: {error}") from error
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != GPU_TABLE_FIELDS:
        raise CatalogError(
            Problem(f"the header must be {','.join(GPU_TABLE_FIELDS)}", file=str(path), line=1)
        )
    for row in reader:
        line = reader.line_num
        try:
            yield _entry_from_row(row)
        except (ValueError, TypeError) as error:
            raise CatalogError(Problem(str(error), file=str(path), line=line)) from error


def _entry_from_row(row: dict[str, str]) -> GpuInfo:
    vendor = (row.get("vendor") or "").strip().lower()
    if vendor not in GPU_VENDORS:
        raise ValueError(f"vendor {vendor!r} is not one of {', '.join(GPU_VENDORS)}")
    name = (row.get("name") or "").strip()
    if not name:
        raise ValueError("name is empty")
    memory = float(row.get("memory_gb") or "")
    capability_text = (row.get("compute_capability") or "").strip()
    capability = parse_compute_capability(capability_text) if capability_text else None
    if (capability is None) != (vendor != "nvidia"):
        raise ValueError("compute_capability is required for NVIDIA GPUs and only for them")
    aliases = tuple(alias.strip() for alias in (row.get("aliases") or "").split("|") if alias)
    return GpuInfo(
        vendor=vendor,
        name=name,
        memory_gb=memory,
        compute_capability=capability,
        architecture=(row.get("architecture") or "").strip(),
        aliases=aliases,
    )
