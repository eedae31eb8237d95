"""Differential test against dstack 0.22.5's own parsers (a test-only oracle).

Only inputs on which the seed-era format and 0.22.5 agree are compared. Deliberate differences are
skipped or asserted explicitly: the GPU count default (seed: exactly 1; 0.22.5: ``1..``), non-finite
memory sizes (rejected here), and the keys 0.22.5 removed or added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from planner.config import grammar
from planner.config.models import ServiceConfiguration
from planner.config.normalize import normalize


# The oracle is imported inside each test that needs it (skipped when dstack is not installed),
# after that test has checked our side: a missing oracle never hides our own half of a test.
def dstack_resources() -> Any:
    return pytest.importorskip("dstack._internal.core.models.resources")


def dstack_duration() -> Any:
    return pytest.importorskip("dstack._internal.core.models.duration")


def dstack_configurations() -> Any:
    return pytest.importorskip("dstack._internal.core.models.configurations")


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def dstack_range(value: Any) -> tuple[Any, Any] | None:
    if value is None:
        return None
    return (
        None if value.min is None else float(value.min),
        None if value.max is None else float(value.max),
    )


def ours_range(value: grammar.Range[Any] | None) -> tuple[Any, Any] | None:
    if value is None:
        return None
    return (
        None if value.min is None else float(value.min),
        None if value.max is None else float(value.max),
    )


GPU_SPECS = [
    "A100", "80GB:2", "A100:80GB:2", "2:80GB:A100", "24GB..:1..2", "A10G,A100", "nvidia:2",
    "MI300X:AMD", "tpu:v5p-1024", "tpu-v5e-8", "tpu-v3-8", "TPU-v3-8", "2", "0", "..2", "1..",
    "..80GB", "24GB..", "16GB..32", "16gb..80GB", "1TB", "512MB..", "google", "intel:Gaudi2:8",
    "tenstorrent:n150", "tt:n300", "NVIDIA:H100:8", "H100,H200:8", "A100:40GB..80GB:1..4",
    " A10G : 2 ", "L4:24GB", "amd:MI325X:..8", "RTX4090:1..2", "v5litepod-8", 4, 8,
]  # fmt: skip

BAD_GPU_SPECS = [
    "A100:", ":2", "", "A100::2", "A100,,H100", "A100,:2", "nvidia:amd", "A100:H100",
    "40GB:80GB", "1:2", "1.5", "2..1", "80G", "80GiB", "..", "1...3", "24GB..16GB",
]  # fmt: skip


@pytest.mark.parametrize("spec", GPU_SPECS, ids=str)
def test_gpu_specs_agree(spec: str | int) -> None:
    theirs = dstack_resources().GPUSpec.model_validate(spec)
    ours = grammar.parse_gpu_spec(spec)
    assert (ours.vendor, ours.names and list(ours.names)) == (
        theirs.vendor and theirs.vendor.value,
        theirs.name,
    )
    assert ours_range(ours.memory) == dstack_range(theirs.memory)
    if ours.count is not None:
        assert ours_range(ours.count) == dstack_range(theirs.count)
    else:
        # The seed's deliberate difference: an unstated count is exactly 1 (0.22.5: one or more).
        assert dstack_range(theirs.count) == (1, None)
        configuration = ServiceConfiguration.model_validate(
            {"type": "service", "port": 80, "image": "x", "resources": {"gpu": spec}}
        )
        assert normalize(configuration).resources.gpu.count.model_dump() == {"min": 1, "max": 1}


@pytest.mark.parametrize("spec", BAD_GPU_SPECS)
def test_bad_gpu_specs_are_rejected_by_both(spec: str) -> None:
    with pytest.raises(ValueError):
        grammar.parse_gpu_spec(spec)
    oracle = dstack_resources()
    with pytest.raises(ValidationError):
        oracle.GPUSpec.model_validate(spec)


CPU_SPECS = ["arm:8", "8:arm", "2..:ARM", "x86", "X86:4..16", "8", "..4", "2..", 16, "1..2"]
BAD_CPU_SPECS = ["-1", "risc", "arm:", ":8", "arm:x86", "2:4", "4..2", ".."]


@pytest.mark.parametrize("spec", CPU_SPECS, ids=str)
def test_cpu_specs_agree(spec: str | int) -> None:
    theirs = dstack_resources().CPUSpec.model_validate(spec)
    ours = grammar.parse_cpu_spec(spec)
    assert ours.arch == (theirs.arch and theirs.arch.value)
    if ours.count is not None:
        assert ours_range(ours.count) == dstack_range(theirs.count)
    else:
        assert dstack_range(theirs.count) == (2, None)  # both keep the default 2..


@pytest.mark.parametrize("spec", BAD_CPU_SPECS)
def test_bad_cpu_specs_are_rejected_by_both(spec: str) -> None:
    with pytest.raises(ValueError):
        grammar.parse_cpu_spec(spec)
    oracle = dstack_resources()
    with pytest.raises(ValidationError):
        oracle.CPUSpec.model_validate(spec)


MEMORY_RANGES: list[Any] = [
    "80GB", "16gb", "16 GB", "1TB", "1.5tb", "512MB", "64", "1.5", "1e3", 64, 0.5, "-8GB",
    "..80GB", "24GB..", "16GB..80GB", " 1TB .. 2TB ", {"min": "8GB"}, {"max": 80},
]  # fmt: skip
BAD_MEMORY_RANGES = ["80G", "80GiB", "1.5xb", "..", "80GB..1GB", "GB"]


@pytest.mark.parametrize("value", MEMORY_RANGES, ids=str)
def test_memory_ranges_agree(value: Any) -> None:
    resources = dstack_resources()
    theirs = TypeAdapter(resources.Range[resources.Memory]).validate_python(value)
    assert ours_range(grammar.parse_memory_range(value)) == dstack_range(theirs)


@pytest.mark.parametrize("value", BAD_MEMORY_RANGES)
def test_bad_memory_ranges_are_rejected_by_both(value: str) -> None:
    with pytest.raises(ValueError):
        grammar.parse_memory_range(value)
    resources = dstack_resources()
    with pytest.raises(ValidationError):
        TypeAdapter(resources.Range[resources.Memory]).validate_python(value)


def test_non_finite_memory_is_a_deliberate_difference() -> None:
    with pytest.raises(ValueError, match="finite"):
        grammar.parse_memory_range("inf")
    resources = dstack_resources()
    assert TypeAdapter(resources.Range[resources.Memory]).validate_python("inf").min == float("inf")


INT_RANGES: list[Any] = ["1..3", "2..", "..4", "3", 3, "0..0", "-2..-1", {"min": 2, "max": 8}]
BAD_INT_RANGES = ["..", "3..1", "1...3", "1.5", "a..b"]


@pytest.mark.parametrize("value", INT_RANGES, ids=str)
def test_int_ranges_agree(value: Any) -> None:
    theirs = TypeAdapter(dstack_resources().Range[int]).validate_python(value)
    assert ours_range(grammar.parse_int_range(value)) == dstack_range(theirs)


@pytest.mark.parametrize("value", BAD_INT_RANGES)
def test_bad_int_ranges_are_rejected_by_both(value: str) -> None:
    with pytest.raises(ValueError):
        grammar.parse_int_range(value)
    oracle = dstack_resources()
    with pytest.raises(ValidationError):
        TypeAdapter(oracle.Range[int]).validate_python(value)


DURATIONS: list[Any] = [90, "90", "-60", "30s", "5m", "2h", "1d", "1w", "10 m", 0]
BAD_DURATIONS = ["1.5h", "2H", "1h30m", "1y", "-5m"]


@pytest.mark.parametrize("value", DURATIONS, ids=str)
def test_durations_agree(value: Any) -> None:
    assert grammar.parse_duration(value) == dstack_duration().parse_duration(value)


@pytest.mark.parametrize("value", BAD_DURATIONS)
def test_bad_durations_are_rejected_by_both(value: str) -> None:
    with pytest.raises(ValueError):
        grammar.parse_duration(value)
    oracle = dstack_duration()
    with pytest.raises(ValueError):
        oracle.parse_duration(value)


@pytest.mark.parametrize("value", [None, True, False, "off", "2h", 0, "90"], ids=str)
def test_offable_durations_agree(value: Any) -> None:
    assert grammar.parse_offable_duration(value) == dstack_duration().parse_off_duration(value)


@pytest.mark.parametrize("value", [None, True, False, "off", -1, "10m", 0], ids=str)
def test_idle_durations_agree(value: Any) -> None:
    assert grammar.parse_idle_duration(value) == dstack_duration().parse_idle_duration(value)


@pytest.mark.parametrize("value", [7.5, "8.0", " 9.0 ", 8.1, "10.0"], ids=str)
def test_compute_capabilities_agree(value: Any) -> None:
    theirs = dstack_resources().ComputeCapability.validate(value)
    assert grammar.parse_compute_capability(value) == tuple(theirs)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yml")), ids=lambda path: path.name)
def test_examples_parse_the_same_in_dstack(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    theirs = dstack_configurations().ServiceConfiguration.model_validate(document)
    ours = normalize(ServiceConfiguration.model_validate(document))
    resources = theirs.resources
    assert ours.resources.cpu.arch == (resources.cpu.arch and resources.cpu.arch.value)
    assert (ours.resources.cpu.count.min, ours.resources.cpu.count.max) == dstack_range(
        resources.cpu.count
    )
    assert (ours.resources.memory_gb.min, ours.resources.memory_gb.max) == dstack_range(
        resources.memory
    )
    ours_disk = ours.resources.disk_gb
    assert (ours_disk and (ours_disk.min, ours_disk.max)) == (
        resources.disk and dstack_range(resources.disk.size)
    )
    gpu = resources.gpu
    assert ours.resources.gpu.names == (gpu.name and tuple(gpu.name))
    memory = ours.resources.gpu.memory_gb
    assert (memory and (memory.min, memory.max)) == dstack_range(gpu.memory)
    assert ours.port.container_port == theirs.port.container_port
    # A bare KEY: dstack keeps an EnvSentinel placeholder, the normalized view holds None.
    assert ours.env == {
        key: value if isinstance(value, str) else None for key, value in dict(theirs.env).items()
    }
    assert ours.commands == tuple(theirs.commands)
    if theirs.replicas is not None:
        assert (ours.replicas.min, ours.replicas.max) == dstack_range(theirs.replicas)
