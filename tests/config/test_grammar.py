"""The value grammars of the service configuration (docs/configuration.md §2–§5), parser by parser."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.config import grammar
from planner.config.grammar import CpuSpecParts, GpuSpecParts, Range


def test_the_grammars_load_without_pydantic() -> None:
    # The matcher and the GPU table read the grammars; they must not pay for pydantic and the
    # models, while the package still offers load_config by name.
    script = (
        "import sys, planner.config.grammar, planner.config.backend_names, planner.catalog.gpus\n"
        "print('pydantic' in sys.modules)\n"
        "import planner.config\n"
        "print(planner.config.load_config.__module__, 'pydantic' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "planner.config.load", "True"]


# ----------------------------------------------------------------------------- memory


@pytest.mark.parametrize(
    ("text", "gb"),
    [
        ("80GB", 80.0),
        ("16gb", 16.0),
        ("16 GB", 16.0),
        ("16Gb", 16.0),
        ("1TB", 1024.0),
        ("1.5tb", 1536.0),
        ("512MB", 0.5),
        ("1024mb", 1.0),
        ("64", 64.0),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (64, 64.0),
        (0.5, 0.5),
        ("-8GB", -8.0),
    ],
)
def test_memory_units_are_binary_and_case_insensitive(text: Any, gb: float) -> None:
    assert grammar.parse_memory(text) == gb


@pytest.mark.parametrize("text", ["80G", "80GiB", "1.5xb", "GB", "", "inf", "nan", True, None])
def test_memory_rejects_unknown_units_and_non_finite_values(text: Any) -> None:
    with pytest.raises(ValueError, match="memory size"):
        grammar.parse_memory(text)


# ----------------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("..80GB", Range(None, 80.0)),
        ("24GB..", Range(24.0, None)),
        ("16GB..80GB", Range(16.0, 80.0)),
        ("16GB..32", Range(16.0, 32.0)),
        (" 1TB .. 2TB ", Range(1024.0, 2048.0)),
        ("80GB", Range(80.0, 80.0)),
        (64, Range(64.0, 64.0)),
        ({"min": "8GB"}, Range(8.0, None)),
        ({"max": 80}, Range(None, 80.0)),
        ({"min": 1, "max": "1TB"}, Range(1.0, 1024.0)),
    ],
)
def test_memory_ranges(text: Any, expected: Range[float]) -> None:
    assert grammar.parse_memory_range(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1..3", Range(1, 3)),
        ("2..", Range(2, None)),
        ("..4", Range(None, 4)),
        ("3", Range(3, 3)),
        (3, Range(3, 3)),
        ("0..0", Range(0, 0)),
        ("-2..-1", Range(-2, -1)),
        ({"min": 2, "max": 8}, Range(2, 8)),
    ],
)
def test_int_ranges(text: Any, expected: Range[int]) -> None:
    assert grammar.parse_int_range(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("..", "empty range"),
        (" .. ", "empty range"),
        ({}, "empty range"),
        ("3..1", "range order"),
        ({"min": 4, "max": 2}, "range order"),
        ("1...3", "integer"),
        ("1....3", "MIN..MAX"),
        ("1.5", "integer"),
        ("a..b", "integer"),
        ({"min": 1, "step": 2}, "only `min` and `max`"),
    ],
)
def test_int_range_errors(text: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grammar.parse_int_range(text)


def test_memory_range_order_error() -> None:
    with pytest.raises(ValueError, match="range order"):
        grammar.parse_memory_range("80GB..1GB")
    # `1...3GB` splits into `1` and `.3GB` (0.3 GB), so it is an order error, as in dstack.
    with pytest.raises(ValueError, match="range order"):
        grammar.parse_memory_range("1...3GB")


# ----------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90),
        (90.9, 90),
        ("90", 90),
        ("-60", -60),
        ("30s", 30),
        ("5m", 300),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("10 m", 600),
    ],
)
def test_durations(text: Any, seconds: int) -> None:
    assert grammar.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["1.5h", "2H", "1h30m", "1y", "-5m", "", "h", True])
def test_duration_errors(text: Any) -> None:
    with pytest.raises(ValueError, match="duration"):
        grammar.parse_duration(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (True, None), (False, "off"), ("off", "off"), ("2h", 7200), (0, 0), ("90", 90)],
)
def test_offable_duration(value: Any, expected: Any) -> None:
    assert grammar.parse_offable_duration(value) == expected


def test_offable_duration_refuses_negative_values() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        grammar.parse_offable_duration(-60)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, None),
        (False, -1),
        ("off", -1),
        (-1, -1),
        ("-60", -1),
        (-3600, -1),
        ("10m", 600),
        (0, 0),
    ],
)
def test_idle_duration_negative_means_off(value: Any, expected: int | None) -> None:
    assert grammar.parse_idle_duration(value) == expected


# ----------------------------------------------------------------------------- compute capability


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7.5, (7, 5)), ("8.0", (8, 0)), (" 9.0 ", (9, 0)), ([8, 6], (8, 6)), (8.1, (8, 1))],
)
def test_compute_capability(value: Any, expected: tuple[int, int]) -> None:
    assert grammar.parse_compute_capability(value) == expected


@pytest.mark.parametrize("value", ["8", 8, "3.5.1", "3.x", [8], [8, 0, 1], True, ""])
def test_compute_capability_errors(value: Any) -> None:
    with pytest.raises(ValueError, match="compute capability"):
        grammar.parse_compute_capability(value)


def test_compute_capability_compares_as_tuple() -> None:
    assert grammar.parse_compute_capability("10.0") > grammar.parse_compute_capability("9.0")
    assert grammar.parse_compute_capability("9.0") > grammar.parse_compute_capability("8.9")


# ----------------------------------------------------------------------------- GPU spec


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A100", GpuSpecParts(names=("A100",))),
        ("80GB:2", GpuSpecParts(memory=Range(80.0, 80.0), count=Range(2, 2))),
        (
            "A100:80GB:2",
            GpuSpecParts(names=("A100",), memory=Range(80.0, 80.0), count=Range(2, 2)),
        ),
        (
            "2:80GB:A100",
            GpuSpecParts(names=("A100",), memory=Range(80.0, 80.0), count=Range(2, 2)),
        ),
        ("24GB..:1..2", GpuSpecParts(memory=Range(24.0, None), count=Range(1, 2))),
        ("A10G,A100", GpuSpecParts(names=("A10G", "A100"))),
        ("nvidia:2", GpuSpecParts(vendor="nvidia", count=Range(2, 2))),
        ("MI300X:AMD", GpuSpecParts(vendor="amd", names=("MI300X",))),
        ("tpu:v5p-1024", GpuSpecParts(vendor="google", names=("v5p-1024",))),
        ("tpu-v5e-8", GpuSpecParts(names=("v5e-8",))),
        ("tpu-v3-8", GpuSpecParts(names=("v3-8",))),
        ("TPU-v3-8", GpuSpecParts(names=("TPU-v3-8",))),
        ("google", GpuSpecParts(vendor="google")),
        ("intel:Gaudi2", GpuSpecParts(vendor="intel", names=("Gaudi2",))),
        ("tenstorrent:n150", GpuSpecParts(vendor="tenstorrent", names=("n150",))),
        ("tt:n300", GpuSpecParts(vendor="tenstorrent", names=("n300",))),
        ("NVIDIA:h100", GpuSpecParts(vendor="nvidia", names=("h100",))),
        ("2", GpuSpecParts(count=Range(2, 2))),
        (2, GpuSpecParts(count=Range(2, 2))),
        ("0", GpuSpecParts(count=Range(0, 0))),
        ("..2", GpuSpecParts(count=Range(None, 2))),
        ("..80GB", GpuSpecParts(memory=Range(None, 80.0))),
        ("16GB..32", GpuSpecParts(memory=Range(16.0, 32.0))),
        (" A100 : 40GB ", GpuSpecParts(names=("A100",), memory=Range(40.0, 40.0))),
    ],
)
def test_gpu_spec_tokens(text: Any, expected: GpuSpecParts) -> None:
    assert grammar.parse_gpu_spec(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A100:", "empty token"),
        (":2", "empty token"),
        ("", "empty token"),
        ("A100::2", "empty token"),
        ("A100,,H100", "name can not be empty"),
        ("A100,:2", "name can not be empty"),
        ("nvidia:amd", "vendor conflict"),
        ("A100:H100", "name conflict"),
        ("40GB:80GB", "memory conflict"),
        ("1:2", "count conflict"),
        ("1.5", "integer"),
        ("2..1", "range order"),
        ("80G", "memory size"),
    ],
)
def test_gpu_spec_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grammar.parse_gpu_spec(text)


def test_gpu_spec_negative_count_is_an_exact_negative_range() -> None:
    # dstack's Range has no sign check; the count -1 is then unmatchable, never silently 1.
    assert grammar.parse_gpu_spec("-1") == GpuSpecParts(count=Range(-1, -1))


@pytest.mark.parametrize("value", [1.5, True, None, ["A100"]])
def test_gpu_spec_rejects_non_strings(value: Any) -> None:
    with pytest.raises(ValueError, match="GPU spec"):
        grammar.parse_gpu_spec(value)


# ----------------------------------------------------------------------------- CPU spec


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arm:8", CpuSpecParts(arch="arm", count=Range(8, 8))),
        ("8:arm", CpuSpecParts(arch="arm", count=Range(8, 8))),
        ("2..:ARM", CpuSpecParts(arch="arm", count=Range(2, None))),
        ("x86", CpuSpecParts(arch="x86")),
        ("X86:4..16", CpuSpecParts(arch="x86", count=Range(4, 16))),
        ("8", CpuSpecParts(count=Range(8, 8))),
        (8, CpuSpecParts(count=Range(8, 8))),
        ("..4", CpuSpecParts(count=Range(None, 4))),
    ],
)
def test_cpu_spec(text: Any, expected: CpuSpecParts) -> None:
    assert grammar.parse_cpu_spec(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1", "invalid CPU architecture"),
        ("risc", "invalid CPU architecture"),
        ("arm:", "empty token"),
        (":8", "empty token"),
        ("arm:x86", "arch conflict"),
        ("2:4", "count conflict"),
        ("4..2", "range order"),
    ],
)
def test_cpu_spec_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grammar.parse_cpu_spec(text)


# ----------------------------------------------------------------------------- round trips

_counts = st.one_of(
    st.builds(lambda n: Range(n, n), st.integers(0, 64)),
    st.builds(lambda n: Range(n, None), st.integers(0, 64)),
    st.builds(lambda n: Range(None, n), st.integers(0, 64)),
    st.builds(lambda a, b: Range(min(a, b), max(a, b)), st.integers(0, 64), st.integers(0, 64)),
)
_sizes = st.one_of(st.integers(1, 2048).map(float), st.sampled_from([0.5, 1.5, 40.0, 80.0]))
_memories = st.one_of(
    st.builds(lambda n: Range(n, n), _sizes),
    st.builds(lambda n: Range(n, None), _sizes),
    st.builds(lambda n: Range(None, n), _sizes),
    st.builds(lambda a, b: Range(min(a, b), max(a, b)), _sizes, _sizes),
)
_names = st.lists(
    st.from_regex(r"[A-Za-z][A-Za-z0-9\-]{0,9}", fullmatch=True).filter(
        lambda name: name.lower() not in grammar.VENDOR_WORDS and not name.startswith("tpu-")
    ),
    min_size=1,
    max_size=3,
).map(tuple)
_gpu_specs = st.builds(
    GpuSpecParts,
    vendor=st.none() | st.sampled_from(["nvidia", "amd", "google", "intel", "tenstorrent"]),
    names=st.none() | _names,
    memory=st.none() | _memories,
    count=st.none() | _counts,
).filter(lambda spec: spec != GpuSpecParts())


@given(_gpu_specs)
def test_gpu_spec_round_trips(spec: GpuSpecParts) -> None:
    assert grammar.parse_gpu_spec(grammar.render_gpu_spec(spec)) == spec


@given(
    st.builds(
        CpuSpecParts, arch=st.none() | st.sampled_from(["x86", "arm"]), count=st.none() | _counts
    ).filter(lambda spec: spec != CpuSpecParts())
)
def test_cpu_spec_round_trips(spec: CpuSpecParts) -> None:
    assert grammar.parse_cpu_spec(grammar.render_cpu_spec(spec)) == spec


@given(_memories)
def test_memory_range_round_trips(value: Range[float]) -> None:
    assert grammar.parse_memory_range(grammar.render_range(value, "GB")) == value


@given(_counts)
def test_int_range_round_trips(value: Range[int]) -> None:
    assert grammar.parse_int_range(grammar.render_range(value)) == value


# ----------------------------------------------------------------------------- ports, users, env


@pytest.mark.parametrize(
    ("value", "local", "container"),
    [
        (8000, 80, 8000),
        ("8000", 80, 8000),
        ("8080:8000", 8080, 8000),
        (1, 80, 1),
        (65535, 80, 65535),
    ],
)
def test_port_forms(value: Any, local: int, container: int) -> None:
    parsed = grammar.parse_port(value)
    assert (parsed.local_port, parsed.container_port) == (local, container)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "out of range"),
        (-1, "out of range"),
        (65536, "out of range"),
        ("70000:8000", "out of range"),
        ("*:8000", "invalid port"),
        ("8080:", "invalid port"),
        ("http", "invalid port"),
        (True, "port number"),
        (80.5, "port number"),
    ],
)
def test_port_errors(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grammar.parse_port(value)


@pytest.mark.parametrize("value", ["ubuntu", "1000", "1000:1000", "app:staff", 1000])
def test_user_formats(value: Any) -> None:
    assert grammar.parse_user(value) == str(value)


@pytest.mark.parametrize("value", ["a:b:c", ":1000", "1000:", "", "-1", "1000:-5", True])
def test_user_errors(value: Any) -> None:
    with pytest.raises(ValueError, match="invalid user format"):
        grammar.parse_user(value)


def test_env_list_forms() -> None:
    assert grammar.parse_env(["A=1", "B=", "C", "D=x=y"]) == {
        "A": "1",
        "B": "",
        "C": None,
        "D": "x=y",
    }


def test_env_mapping_stringifies_numbers() -> None:
    assert grammar.parse_env({"A": 1, "B": "x", "C": 0.5}) == {"A": "1", "B": "x", "C": "0.5"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["A=1", "A=2"], "duplicate environment variable"),
        (["1A=x"], "invalid environment variable name"),
        (["MY-VAR=x"], "invalid environment variable name"),
        ({"A": None}, "string or number"),
        ({"A": True}, "quote it"),
        ({"A B": "x"}, "invalid environment variable name"),
        ([1], "KEY=value"),
        ("A=1", "mapping"),
    ],
)
def test_env_errors(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grammar.parse_env(value)


# ----------------------------------------------------------------------------- volumes, gateway


def test_volume_short_syntax() -> None:
    network = grammar.parse_volume_short("my-volume:/data/")
    assert (network.names, network.path, network.instance_path) == (("my-volume",), "/data", None)
    instance = grammar.parse_volume_short("/mnt//cache/:/root/.cache")
    assert (instance.names, instance.instance_path, instance.path) == (
        None,
        "/mnt/cache",
        "/root/.cache",
    )
    # A source with a `/` anywhere is an instance path, and instance paths must be absolute.
    with pytest.raises(ValueError, match="instance path 'cache/dir' must be absolute"):
        grammar.parse_volume_short("cache/dir:/data")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("vol", "invalid mount point format"),
        ("a:b:c", "invalid mount point format"),
        ("vol:data", "must be absolute"),
        ("vol:", "empty path"),
        (":/data", "volume name is empty"),
        ("/a/../b:/data", r"`\.\.` segments"),
        ("vol:/data/../etc", r"`\.\.` segments"),
    ],
)
def test_volume_short_errors(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grammar.parse_volume_short(value)


@pytest.mark.parametrize("value", ["my-gateway", "main/my-gateway", True, False])
def test_gateway_references(value: Any) -> None:
    assert grammar.parse_gateway(value) == value


@pytest.mark.parametrize("value", ["a/b/c", "/gw", "proj/", "", 3])
def test_gateway_errors(value: Any) -> None:
    with pytest.raises(ValueError, match=r"entity reference|gateway must be"):
        grammar.parse_gateway(value)


@pytest.mark.parametrize(
    ("value", "expected"), [(3.1, "3.10"), ("3.10", "3.10"), (3.11, "3.11"), ("3.9", "3.9")]
)
def test_python_versions(value: Any, expected: str) -> None:
    assert grammar.parse_python_version(value) == expected


@pytest.mark.parametrize("value", ["3.8", "2.7", 3, "3"])
def test_python_version_errors(value: Any) -> None:
    with pytest.raises(ValueError, match="python"):
        grammar.parse_python_version(value)


def test_render_number_keeps_fractions() -> None:
    assert grammar.render_number(80.0) == "80"
    assert math.isclose(float(grammar.render_number(0.5)), 0.5)
