"""The GPU knowledge table: same entries and first-match order as gpuhunt, plus marketing names."""

from __future__ import annotations

import csv
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.catalog import GpuTable
from planner.errors import CatalogError


def _gpuhunt() -> ModuleType:
    """gpuhunt, the oracle: only the tests that compare with it skip without it."""
    return pytest.importorskip("gpuhunt")


def _constraints() -> ModuleType:
    """gpuhunt's lookups (``gpuhunt._internal.constraints``), the oracle."""
    _gpuhunt()
    from gpuhunt._internal import constraints

    return constraints


@pytest.fixture(scope="module")
def table() -> GpuTable:
    return GpuTable.load()


@pytest.fixture(scope="module")
def gpuhunt_constraints() -> ModuleType:
    return _constraints()


# Our table lists gpuhunt's accelerators in its order (test_entries_are_gpuhunts_in_the_same_order),
# so its names parametrize the comparisons without importing the oracle at collection.
_TABLE_NAMES = sorted({entry.name for entry in GpuTable.load().entries})


def test_entries_are_gpuhunts_in_the_same_order(table: GpuTable) -> None:
    gpuhunt = _gpuhunt()
    ours = [
        (entry.vendor, entry.name, entry.memory_gb, entry.compute_capability)
        for entry in table.entries
    ]
    theirs = [
        (
            accelerator.vendor.value,
            accelerator.name,
            float(accelerator.memory),
            getattr(accelerator, "compute_capability", None),
        )
        for accelerator in gpuhunt.KNOWN_ACCELERATORS
    ]
    assert ours == theirs


@pytest.mark.parametrize("name", [*_TABLE_NAMES, "A800", "unknown", ""])
def test_lookups_agree_with_gpuhunt_in_any_case(
    table: GpuTable, gpuhunt_constraints: ModuleType, name: str
) -> None:
    for spelling in {name, name.lower(), name.upper()}:
        assert table.compute_capability(spelling) == gpuhunt_constraints.get_compute_capability(
            spelling
        )
        vendor = gpuhunt_constraints.get_gpu_vendor(spelling)
        assert table.vendor_of(spelling) == (vendor.value if vendor else None)


def test_names_with_several_sizes_answer_the_first_and_list_all(table: GpuTable) -> None:
    assert table.memory_gb("A100") == 40
    assert table.memories_gb("a100") == (40, 80)
    assert table.memories_gb("V100") == (16, 32)
    assert table.memories_gb("p300") == (32, 64)
    assert table.memory_gb("nope") is None and table.memories_gb("nope") == ()


def test_architectures(table: GpuTable) -> None:
    assert table.architecture("H100") == "Hopper"
    assert table.architecture("MI300X") == "CDNA3"
    assert table.architecture("MI355X") == "CDNA4"
    assert table.architecture("RTX4090") == "Ada Lovelace"
    assert table.architecture("B200") == "Blackwell"
    assert table.architecture("v5litepod") == "TPU v5e"
    assert table.architecture("Gaudi2") == "Gaudi2"
    assert table.architecture("A800") is None


def _names_with_memory() -> list[str]:
    # gpuhunt divides by zero for TPUs (memory 0); they are tested on their own below.
    return sorted({entry.name for entry in GpuTable.load().entries if entry.memory_gb > 0})


@given(
    name=st.sampled_from([*_names_with_memory(), "A800", "K80"]),
    mib=st.floats(min_value=1, max_value=400_000, allow_nan=False),
)
@settings(max_examples=300, deadline=None)
def test_memory_snapping_is_gpuhunts(
    gpuhunt_constraints: ModuleType, name: str, mib: float
) -> None:
    assert GpuTable.load().snap_memory_gb(name, mib) == gpuhunt_constraints.correct_gpu_memory_gib(
        name, mib
    )


@pytest.mark.parametrize(
    ("marketing", "name", "memory"),
    [
        ("NVIDIA H100 80GB HBM3", "H100", 80),
        ("NVIDIA H100 PCIe", "H100", 80),
        ("NVIDIA H100 NVL", "H100NVL", 94),
        ("NVIDIA A100-SXM4-80GB", "A100", 80),
        ("NVIDIA A100-SXM4-40GB", "A100", 40),
        ("NVIDIA A100 80GB PCIe", "A100", 80),
        ("Tesla V100-SXM2-32GB", "V100", 32),
        ("Tesla V100-SXM2-16GB", "V100", 16),
        ("Tesla T4", "T4", 16),
        ("NVIDIA A10G", "A10G", 24),
        ("NVIDIA L40S", "L40S", 48),
        ("NVIDIA RTX A6000", "A6000", 48),
        ("NVIDIA GeForce RTX 4090", "RTX4090", 24),
        ("NVIDIA GeForce RTX 4080 SUPER", "RTX4080SUPER", 16),
        ("NVIDIA RTX 6000 Ada Generation", "RTX6000Ada", 48),
        ("Quadro RTX 6000", "RTX6000", 24),
        ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "RTXPRO6000", 96),
        ("NVIDIA GH200 480GB", "GH200", 96),
        ("AMD Instinct MI300X", "MI300X", 192),
        # SkyPilot's accelerator names
        ("A100-80GB", "A100", 80),
        ("A100-80GB-SXM", "A100", 80),
        ("H100-SXM", "H100", 80),
        ("H100-MEGA", "H100", 80),
        ("H100-NVL", "H100NVL", 94),
        ("RTXA6000", "A6000", 48),
        ("RTXA4000", "A4000", 16),
        ("RTX6000-Ada", "RTX6000Ada", 48),
        ("RTX4000-Ada", "RTX4000Ada", 20),
        ("V100-32GB", "V100", 32),
        ("Gaudi HL-205", "Gaudi", 32),
        ("tpu-v5litepod", "v5litepod", 0),
        ("T4g", "T4", 16),
        # canonical names in any case
        ("h100", "H100", 80),
        ("rtx4060ti", "RTX4060Ti", 8),
        ("tt-galaxy-wh", "tt-galaxy-wh", 12),
    ],
)
def test_marketing_names_resolve(table: GpuTable, marketing: str, name: str, memory: int) -> None:
    entry = table.resolve(marketing)
    assert entry is not None
    assert (entry.name, entry.memory_gb) == (name, memory)
    assert table.canonical_name(marketing) == name


@pytest.mark.parametrize("unknown", ["K80", "Radeon MI25", "A800", "NVIDIA", "", "  ", "H"])
def test_unknown_names_resolve_to_nothing(table: GpuTable, unknown: str) -> None:
    assert table.resolve(unknown) is None
    assert table.canonical_name(unknown) is None


def test_gpuhunt_lookups_do_not_use_aliases(table: GpuTable) -> None:
    # gpuhunt excludes "A100-80GB" rows from compute-capability filters; so must we.
    assert table.compute_capability("A100-80GB") is None
    assert table.vendor_of("RTXA6000") is None


def test_every_canonical_name_resolves_to_itself(table: GpuTable) -> None:
    for entry in table.entries:
        resolved = table.resolve(entry.name)
        assert resolved is not None and resolved.name == entry.name
        for alias in entry.aliases:
            assert table.canonical_name(alias) == entry.name, alias


def test_the_real_h100_host_capture(table: GpuTable, fixtures_dir: Path) -> None:
    capture = fixtures_dir / "hosts" / "h100-x1" / "nvidia-smi-query.csv"
    with capture.open(newline="") as handle:
        rows = list(csv.DictReader(handle, skipinitialspace=True))
    assert len(rows) == 1
    name = table.canonical_name(rows[0]["name"])
    mib = float(rows[0]["memory.total [MiB]"].split()[0])
    assert name == "H100"
    assert table.snap_memory_gb(name, mib) == 80
    assert table.compute_capability(name) == (9, 0)
    assert table.compute_capability(name) == tuple(
        int(p) for p in rows[0]["compute_cap"].split(".")
    )


def test_skypilot_accelerator_names(table: GpuTable, fixtures_dir: Path) -> None:
    listing = fixtures_dir / "skypilot-catalog-v7" / "common" / "accelerators.csv"
    with listing.open(newline="") as handle:
        names = [row["AcceleratorName"] for row in csv.DictReader(handle)]
    unresolved = sorted(name for name in names if table.resolve(name) is None)
    # Only accelerators gpuhunt does not know either stay unresolved.
    assert all(_constraints().get_gpu_vendor(name) is None for name in unresolved)
    assert set(unresolved) == {
        "K80",
        "M4000",
        "M60",
        "NVIDIA",
        "P4",
        "P4000",
        "Radeon MI25",
        "Radeon Pro V520",
    }


def test_tpu_memory_is_rounded_not_snapped_to_zero(table: GpuTable) -> None:
    assert table.snap_memory_gb("v5litepod", 16 * 1024) == 16


def test_a_malformed_table_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "gpus.csv"
    path.write_text(
        "vendor,name,memory_gb,compute_capability,architecture,aliases\n"
        "nvidia,H100,80,9.0,Hopper,\n"
        "nvidia,X1,lots,9.0,Hopper,\n"
    )
    with pytest.raises(CatalogError) as raised:
        GpuTable.load(path)
    assert raised.value.problems[0].file == str(path)
    assert raised.value.problems[0].line == 3


def test_a_table_with_a_wrong_header_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "gpus.csv"
    path.write_text("name,memory\nH100,80\n")
    with pytest.raises(CatalogError, match="header"):
        GpuTable.load(path)
