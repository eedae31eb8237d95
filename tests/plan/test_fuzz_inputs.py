"""Property-based tests of the fleet and capacity files (as tests/config/test_fuzz.py does for
service files).

(a) Generated valid fleet and capacity documents (YAML and CSV) load, and say what was written.
(b) Generated, mutated and random documents never make ``load_fleet``/``load_capacity`` raise
anything but ``InputError`` with located problems and bounded text, each within bounded time;
the CLI exits 0, 1 or 2 without a traceback.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.placement import load_capacity, load_fleet
from planner.placement.inputs import INTERRUPTION_BUCKETS, UNLIMITED
from planner.placement.limits import MAX_COUNT

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_FLEET = (REPO / "examples" / "planning" / "fleet.yml").read_text()
EXAMPLE_CAPACITY_CSV = (REPO / "examples" / "planning" / "capacity.csv").read_text()
EXAMPLE_CAPACITY_YAML = """pools:
  - {backend: lambda, region: us-east-1, instance_type: gpu_1x_a10, capacity: unlimited}
  - {backend: gcp, instance_type: g2-standard-4, spot: true, interruption: "12%"}
reservations:
  - {id: r-1, backend: aws, region: us-east-1, instance_type: p5.48xlarge, count: 1, price: 30}
"""
# Each load, on a loaded CI machine: the largest generated file is a few kilobytes.
SECONDS_PER_LOAD = 5.0
# Every problem's text, whatever the file held (values are quoted as bounded excerpts).
PROBLEM_CHARACTERS = 600

names = st.from_regex(r"[a-z][a-z0-9.\-_]{0,15}", fullmatch=True)
backends = st.sampled_from(["aws", "gcp", "azure", "lambda", "runpod", "datacrunch"])

# --------------------------------------------------------------------------------------------
# (a) valid documents say what was written


@st.composite
def fleet_records(draw: st.DrawFn) -> dict[str, Any]:
    gpus = draw(st.integers(0, 8))
    resources: dict[str, Any] = {
        "cpu": draw(st.integers(1, 256)),
        "memory_gb": draw(st.integers(1, 2048) | st.floats(0.5, 2048)),
        "gpu_count": gpus,
    }
    if gpus:
        resources["gpu_name"] = draw(st.sampled_from(["A100", "H100", "L4", "A10G"]))
        resources["gpu_memory_gb"] = draw(st.integers(8, 192))
    record: dict[str, Any] = {
        "backend": draw(backends),
        "region": draw(names),
        "instance_type": draw(names),
        "price": draw(st.floats(0, 1000, allow_nan=False)),
        "resources": resources,
    }
    if draw(st.booleans()):
        record["count"] = draw(st.integers(1, MAX_COUNT))
    if draw(st.booleans()):
        record["status"] = draw(st.sampled_from(["idle", "busy"]))
    if draw(st.booleans()):
        record["spot"] = draw(st.booleans())
    return record


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fleet_records(), max_size=6), st.sampled_from(["yml", "json"]))
def test_generated_fleets_load_as_written(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, Any]], suffix: str
) -> None:
    path = tmp_path_factory.mktemp("fleet") / f"fleet.{suffix}"
    path.write_text(yaml.safe_dump({"instances": records}))
    instances = load_fleet(path).instances
    assert len(instances) == len(records)
    for instance, record in zip(instances, records, strict=True):
        assert instance.region == record["region"]
        assert instance.instance_type == record["instance_type"]
        assert instance.price == pytest.approx(record["price"])
        assert instance.count == record.get("count", 1)
        assert instance.idle == (record.get("status", "idle") == "idle")
        assert instance.cpu == record["resources"]["cpu"]
        assert instance.gpu_count == record["resources"]["gpu_count"]


@st.composite
def capacity_rows(draw: st.DrawFn) -> dict[str, str]:
    row = {
        "backend": draw(backends | st.just("*")),
        "region": draw(names | st.just("*") | st.just("")),
        "instance_type": draw(names | st.just("*")),
        "spot": draw(st.sampled_from(["true", "false", "", "*"])),
        "capacity": draw(st.sampled_from(["", "unlimited"]) | st.integers(0, MAX_COUNT).map(str)),
        "interruption": draw(
            st.sampled_from(["", *INTERRUPTION_BUCKETS])
            | st.floats(0, 0.99).map(lambda rate: f"{rate:.4f}")
        ),
    }
    return row


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(capacity_rows(), max_size=8), st.booleans())
def test_generated_capacity_csv_loads_as_written(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]], quote_all: bool
) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=list(rows[0]) if rows else ["backend", "capacity"],
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("capacity") / "capacity.csv"
    path.write_text(buffer.getvalue())
    rules = load_capacity(path).rules
    assert len(rules) == len(rows)
    for rule, row in zip(rules, rows, strict=True):
        assert rule.region == (row["region"] or "*")
        expected = {"": None, "unlimited": UNLIMITED}.get(row["capacity"])
        assert rule.capacity == (
            int(row["capacity"]) if expected is None and row["capacity"] else expected
        )
        assert rule.spot == {"true": True, "false": False}.get(row["spot"])


# --------------------------------------------------------------------------------------------
# (b) hostile, mutated and random input: InputError or success, never anything else

yaml_noise = st.text(alphabet=":-[]{}&*!|>'\"#%@`,?<< \n\t0123456789abcyesno.~=/\\x", max_size=40)
csv_noise = st.text(alphabet=",\"'\n\r\t\x00 *0123456789abc-%<>.:;e+", max_size=40)
hostile_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([10**23, -1, 0, MAX_COUNT + 1, 2**63, "9" * 400, "1e400", "nan", "inf"])
    | st.floats(allow_nan=True)
    | st.text(max_size=15)
    | st.integers(1000, 140_000).map(lambda size: "x" * size)
)
hostile_values = st.recursive(
    hostile_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=6,
)
YAML_EXAMPLES = {"fleet": EXAMPLE_FLEET, "capacity": EXAMPLE_CAPACITY_YAML}


@st.composite
def mutated_yaml(draw: st.DrawFn, kind: str) -> str:
    text = YAML_EXAMPLES[kind]
    lines = text.splitlines(keepends=True)
    mutation = draw(
        st.sampled_from(["truncate", "delete_line", "insert_line", "splice", "value", "alias"])
    )
    if mutation == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if mutation == "delete_line":
        del lines[draw(st.integers(0, len(lines) - 1))]
        return "".join(lines)
    if mutation == "insert_line":
        indent = " " * draw(st.integers(0, 8))
        lines.insert(
            draw(st.integers(0, len(lines))), f"{indent}{draw(yaml_noise)}: {draw(yaml_noise)}\n"
        )
        return "".join(lines)
    if mutation == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(yaml_noise) + text[at + draw(st.integers(0, 5)) :]
    if mutation == "alias":
        # An anchor on the first record, aliases (and merges) of it anywhere after.
        anchored = text.replace("  - ", "  - &r ", 1)
        reference = draw(st.sampled_from(["*r", "{<<: *r}", "[*r, *r, *r]", "{<<: [*r, *r]}"]))
        return anchored + f"  - {reference}\n" * draw(st.integers(1, 4))
    data = yaml.safe_load(text)
    section = next(iter(data))
    records = data[section]
    record = records[draw(st.integers(0, len(records) - 1))]
    key = draw(st.sampled_from([*record, draw(st.text(min_size=1, max_size=8))]))
    record[key] = draw(hostile_values)
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), width=10**6)


@st.composite
def mutated_csv(draw: st.DrawFn) -> str:
    text = EXAMPLE_CAPACITY_CSV
    mutation = draw(st.sampled_from(["truncate", "splice", "cell", "line"]))
    if mutation == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if mutation == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(csv_noise) + text[at + draw(st.integers(0, 5)) :]
    rows = list(csv.reader(io.StringIO(text)))
    data_rows = [index for index, row in enumerate(rows) if row and not row[0].startswith("#")]
    if mutation == "line":
        rows.insert(draw(st.sampled_from(data_rows)), draw(st.lists(csv_noise, max_size=10)))
    else:
        row = rows[draw(st.sampled_from(data_rows))]
        value = draw(hostile_scalars.map(lambda v: "" if v is None else str(v)) | csv_noise)
        row[draw(st.integers(0, len(row) - 1))] = value
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_NONE]))
    buffer = io.StringIO()
    try:
        csv.writer(buffer, quoting=quoting, escapechar="\\").writerows(rows)
    except csv.Error:  # unquoted, a row of one empty cell cannot be written
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def assert_loads_or_input_error(load: Callable[[Path], Any], path: Path, text: str) -> None:
    started = time.monotonic()
    try:
        load(path)
    except InputError as error:
        assert error.problems
        line_count = text.count("\n") + 1
        for problem in error.problems:
            assert problem.file == str(path)
            assert problem.message.strip()
            assert len(str(problem)) < PROBLEM_CHARACTERS + len(str(path)), str(problem)[:2000]
            if problem.line is not None:
                assert 1 <= problem.line <= line_count + 1
    assert time.monotonic() - started < SECONDS_PER_LOAD


LOADERS = {"fleet": load_fleet, "capacity": load_capacity}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_yaml_only_ever_raises_input_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(sorted(LOADERS)))
    text = data.draw(mutated_yaml(kind) | yaml_noise | st.text(max_size=200))
    path = tmp_path_factory.mktemp(kind) / f"{kind}.yml"
    path.write_text(text)
    assert_loads_or_input_error(LOADERS[kind], path, text)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_csv() | csv_noise | st.text(max_size=200).map(lambda t: "backend,region\n" + t))
def test_mutated_capacity_csv_only_ever_raises_input_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("capacity") / "capacity.csv"
    path.write_text(text)
    assert_loads_or_input_error(load_capacity, path, text)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["fleet.yml", "capacity.yml", "capacity.csv", "capacity"]),
    st.binary(max_size=300) | mutated_csv().map(str.encode) | mutated_yaml("fleet").map(str.encode),
)
def test_random_bytes_only_ever_raise_input_error(
    tmp_path_factory: pytest.TempPathFactory, name: str, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("bytes") / name
    path.write_bytes(raw)
    load = load_fleet if name.startswith("fleet") else load_capacity
    assert_loads_or_input_error(load, path, raw.decode("utf-8", errors="replace"))


SERVICE = """type: service
name: fuzz-plan
image: python:3.12
commands: [python -m http.server]
port: 8000
replicas: 2
resources:
  cpu: 2..
"""


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_cli_exits_0_1_or_2_without_traceback(tmp_path: Path, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["fleet", "capacity", "capacity-csv"]))
    text = data.draw(mutated_csv() if kind == "capacity-csv" else mutated_yaml(kind))
    path = tmp_path / ("capacity.csv" if kind == "capacity-csv" else f"{kind}.yml")
    path.write_text(text)
    service = tmp_path / "service.yml"
    service.write_text(SERVICE)
    flag = "--fleet" if kind == "fleet" else "--capacity"
    env = {**os.environ, "PLANNER_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "planner", "plan", str(service), flag, str(path), "--no-explain",
         "--time-limit", "5"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode in (0, 1, 2), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
