"""Hostile fleet and capacity files, and planning inputs at the model's edges.

Every case ends in a located ``InputError`` (exit 2 from the CLI) within bounded time, memory
and error text — never a traceback, never a wrong plan, never "infeasible" for a model the
solver refused. The limits are in planner/placement/limits.py and docs/planning.md ("Limits").
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from plan_frames import offer_frame, service

from planner.config.input_file import MAX_FILE_BYTES
from planner.errors import InputError
from planner.placement import PlanOptions, load_capacity, load_fleet, plan_offers
from planner.placement import model as placement_model
from planner.placement.inputs import CapacityData, CapacityRule, FleetInstance
from planner.placement.limits import (
    MAX_COUNT,
    MAX_HOURLY_PRICE,
    MAX_MODEL_REPLICAS,
    MAX_REPLICAS,
)
from planner.render.plan import infeasible_line, render_plan_markdown, render_plan_table

REPO = Path(__file__).resolve().parents[2]
FLEET = (REPO / "examples" / "planning" / "fleet.yml").read_text()

SERVICE = """type: service
name: hostile-inputs
image: python:3.12
commands: [python -m http.server]
port: 8000
replicas: 2
resources:
  cpu: 2..
spot_policy: auto
"""
CATALOG_HEADER = (
    "instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot,disk_size,"
    "gpu_vendor,flags,cpu_arch,provider_data\n"
)


def catalog_csv(directory: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A gpuhunt aws.csv of CPU offers: (instance type, region, price, spot)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "aws.csv"
    lines = [
        f"{name},{region},{price},2,8.0,0,,,{spot},,,,x86,\n" for name, region, price, spot in rows
    ]
    path.write_text(CATALOG_HEADER + "".join(lines))
    return path


CHEAP = [("m5.large", "us-east-1", "0.096", "False"), ("m5.large", "us-west-2", "0.05", "True")]

# --------------------------------------------------------------------------------------------
# The CLI under a memory limit: every hostile file is exit 2, quickly, with a short message.

MEMORY_LIMIT = 1 << 30  # the whole `planner plan` run, pandas and OR-Tools included, fits in it
TIME_LIMIT = 30.0  # seconds of wall time, on a loaded machine (each run takes about one)
ERROR_TEXT_LIMIT = 8192  # bytes of stderr (a 5,000-digit number is quoted by the YAML reader)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_plan_limited(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    service_file = tmp_path / "service.yml"
    service_file.write_text(SERVICE)
    catalog = catalog_csv(tmp_path / "catalog", CHEAP)
    env = {**os.environ, "PLANNER_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "planner", "plan", str(service_file), "--catalog", str(catalog),
         "--no-explain", *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=TIME_LIMIT * 2,
        preexec_fn=_limit_memory,
    )  # fmt: skip
    assert time.monotonic() - started < TIME_LIMIT
    return result


def _bomb(section: str) -> str:
    """9^9 values from 338 bytes (the issue's bomb was 497 bytes)."""
    text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for index in range(8):
        name, previous = chr(98 + index), chr(97 + index)
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
    return text + f"{section}: *i\n"


def _merge_bomb(section: str) -> str:
    text = "a: &a {x: 1, y: 2, z: 3}\n"
    for index in range(8):
        name, previous = chr(98 + index), chr(97 + index)
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
    return text + f"{section}:\n  - <<: *i\n"


HOSTILE_YAML: dict[str, Callable[[str], str]] = {
    "alias bomb": _bomb,
    "alias bomb through a merge key": _merge_bomb,
    "deep flow nesting": lambda section: f"{section}: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep block nesting": lambda section: (
        f"{section}:\n" + "".join(" " * (2 * depth) + "- \n" for depth in range(1, 200))
    ),
    "deep mapping nesting": lambda section: f"{section}: " + "{a: " * 3000 + "1" + "}" * 3000,
    "recursive alias": lambda section: f"{section}: &a [*a]\n",
    "recursive merge": lambda section: f"{section}:\n  - &a {{backend: aws, <<: *a}}\n",
    "merge of a scalar": lambda section: f"{section}:\n  - {{<<: 1, backend: aws}}\n",
    "python tag": lambda section: f"{section}: !!python/object/apply:os.system [id]\n",
    "local tag": lambda section: f"{section}:\n  - !foo {{backend: aws}}\n",
    "binary tag": lambda section: f"{section}: !!binary aGVsbG8=\n",
    "5,000-digit number": lambda section: (
        f"{section}:\n  - {{backend: aws, count: {'9' * 5000}}}\n"
    ),
    "5,000-digit base-60 number": lambda section: f"{section}:\n  - {{count: {'9' * 5000}:59}}\n",
    "5,000-digit octal number": lambda section: f"{section}:\n  - {{count: 0{'7' * 5000}}}\n",
    "10^23": lambda section: f"{section}:\n  - {{backend: aws, count: {10**23}}}\n",
    "1e400 price": lambda section: f"{section}:\n  - {{backend: aws, price: 1.0e400}}\n",
    "131,072-character value": lambda section: (
        f"{section}:\n  - {{backend: aws, count: {'7' * 131_072}x}}\n"
    ),
    "NUL": lambda section: f"{section}:\n  - {{backend: aws\x00}}\n",
    "duplicated key": lambda section: f"{section}:\n  - backend: aws\n    backend: gcp\n",
}


# The cases that once took minutes and gigabytes: also run through the CLI, memory-limited.
EXPLOSIVE_CASES = (
    "alias bomb",
    "alias bomb through a merge key",
    "deep flow nesting",
    "deep mapping nesting",
    "recursive alias",
    "recursive merge",
    "python tag",
)
LOADERS = {"instances": load_fleet, "pools": load_capacity}


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
@pytest.mark.parametrize("section", sorted(LOADERS))
def test_hostile_yaml_files_are_located_input_errors_in_bounded_time_memory_and_text(
    tmp_path: Path, case: str, section: str
) -> None:
    path = tmp_path / "input.yml"
    path.write_text(HOSTILE_YAML[case](section))
    started = time.monotonic()
    with pytest.raises(InputError) as error:
        LOADERS[section](path)
    # Memory is bounded where it can be measured without slowing the parser down tenfold: in
    # the CLI runs under RLIMIT_AS below.
    assert time.monotonic() - started < 10
    assert error.value.problems and all(p.file == str(path) for p in error.value.problems)
    assert len(str(error.value).encode()) < ERROR_TEXT_LIMIT


@pytest.mark.parametrize("case", EXPLOSIVE_CASES)
@pytest.mark.parametrize(("flag", "section"), [("--fleet", "instances"), ("--capacity", "pools")])
def test_explosive_yaml_files_exit_2_from_the_cli_under_a_memory_limit(
    tmp_path: Path, case: str, flag: str, section: str
) -> None:
    path = tmp_path / "input.yml"
    path.write_text(HOSTILE_YAML[case](section))
    result = run_plan_limited(tmp_path, flag, str(path))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:") and str(path) in result.stderr
    assert len(result.stderr.encode()) < ERROR_TEXT_LIMIT
    assert result.stdout == ""


HOSTILE_CSV: dict[str, str] = {
    "5,000-digit count": "backend,capacity\naws," + "9" * 5000 + "\n",
    "10^23 count": f"backend,capacity\naws,{10**23}\n",
    "10^23 reservation price": f"backend,region,instance_type,reservation,capacity,price\n"
    f"aws,us-east-1,m5.large,r-1,1,{10**23}\n",
    "131,072-character cell": "backend,capacity\naws," + "7" * 131_072 + "\n",
    "200,000-character cell": "backend,capacity\naws," + "7" * 200_000 + "\n",
    "stray quote": 'backend,region\naws,us"east\n',
    "unclosed quote": 'backend,region\naws,"us-east\naws,x\n',
    "text after a closing quote": 'backend,region\naws,"us"east\n',
    "NUL": "backend,region\naws,us\x00east\n",
    "duplicated column": "backend,region,backend\naws,x,gcp\n",
    "more cells than columns": "backend,region\naws,x,y\n",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CSV))
def test_hostile_capacity_csv_is_a_located_input_error(tmp_path: Path, case: str) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text(HOSTILE_CSV[case])
    with pytest.raises(InputError) as error:
        load_capacity(path)
    (problem,) = error.value.problems
    assert problem.file == str(path) and problem.line is not None
    assert len(str(error.value)) < 1000


@pytest.mark.parametrize("case", ["200,000-character cell", "stray quote", "NUL"])
def test_hostile_capacity_csv_exits_2_from_the_cli(tmp_path: Path, case: str) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text(HOSTILE_CSV[case])
    result = run_plan_limited(tmp_path, "--capacity", str(path))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {path}:")
    assert len(result.stderr) < 1000


def test_a_fifo_a_device_or_a_directory_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yml"
    os.mkfifo(fifo)  # nobody ever writes to it: reading would wait forever
    for flag, path in (
        ("--fleet", str(fifo)),
        ("--capacity", str(fifo)),
        ("--capacity", "/dev/zero"),
        ("--fleet", str(tmp_path)),
    ):
        result = run_plan_limited(tmp_path, flag, path)
        assert result.returncode == 2, result.stderr
        assert "regular file" in result.stderr and "Traceback" not in result.stderr


def test_an_oversized_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "capacity.csv"
    with path.open("w") as handle:
        handle.write("backend,capacity\n")
        handle.write("aws,1\n" * (MAX_FILE_BYTES // 6 + 1))
    with pytest.raises(InputError, match=f"larger than {MAX_FILE_BYTES >> 20} MiB"):
        load_capacity(path)


def test_valid_merge_keys_are_read_as_yaml_merges_them(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(
        """defaults: &defaults
  backend: aws
  region: us-east-1
  price: 0.1
  resources: {cpu: 2, memory_gb: 8, gpu_count: 0}
"""
    )
    # A top-level key that is not `instances` is refused; inside a record, a merge is fine.
    with pytest.raises(InputError, match="unknown key"):
        load_fleet(fleet)
    fleet.write_text(
        """instances:
  - &first {backend: aws, region: us-east-1, instance_type: m5.large, price: 0.1,
            resources: {cpu: 2, memory_gb: 8, gpu_count: 0}}
  - {<<: *first, instance_type: m5.xlarge, price: 0.2}
"""
    )
    instances = load_fleet(fleet).instances
    assert [(i.instance_type, i.price, i.region) for i in instances] == [
        ("m5.large", 0.1, "us-east-1"),
        ("m5.xlarge", 0.2, "us-east-1"),
    ]


# --------------------------------------------------------------------------------------------
# Located errors (item 14): what a spreadsheet export can contain is refused where it is.


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('backend,region\naws,us"east\n', 2, 2, "stray quote"),
        ('backend,region\n\naws,x\naws,"us"east\n', 4, 2, "stray quote"),
        ('backend,region\naws,"us-east\naws,x\n', 2, 2, "not closed"),
        ("backend,region\naws,us\x00east\n", 2, 2, "control character 0x00"),
        ('backend,region\n"aws\nx",y\n', 2, 1, "control character 0x0a"),
        ("backend,region,backend\naws,x,gcp\n", 1, 3, "written twice"),
        ("backend,capacity\naws," + "7" * 200_000 + "\n", 2, None, "longer than 131072"),
    ],
)
def test_capacity_csv_problems_are_located(
    tmp_path: Path, text: str, line: int, column: int | None, words: str
) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_capacity(path)
    problem = error.value.problems[0]
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)
    assert words in problem.message


def test_a_quoted_cell_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text('backend,region,capacity\n"aws","us-east-1","4"\n')
    (rule,) = load_capacity(path).rules
    assert (rule.provider, rule.region, rule.capacity) == ("aws", "us-east-1", 4)


def test_duplicated_keys_in_capacity_yaml_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "capacity.yml"
    path.write_text(
        "pools:\n  - backend: aws\n    capacity: 4\n    capacity: 8\n"
        "reservations: []\nreservations: []\n"
    )
    with pytest.raises(InputError) as error:
        load_capacity(path)
    located = {(p.line, p.path) for p in error.value.problems}
    assert located == {(4, "pools[0].capacity"), (6, "reservations")}
    assert all("duplicated key" in p.message for p in error.value.problems)


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ({"count": str(10**23)}, "count", f"must be ≤ {MAX_COUNT}"),
        ({"count": "9" * 5000}, "count", "must be an integer"),
        ({"price": "1e13"}, "price", f"must be ≤ {MAX_HOURLY_PRICE:.0f}"),
        ({"price": "9" * 5000}, "price", "must be a number"),
        ({"cpu": str(10**23)}, "resources.cpu", f"must be ≤ {MAX_COUNT}"),
        ({"gpu_count": "9" * 400}, "resources.gpu_count", "must be an integer"),
        ({"gpu_count": 10**30}, "resources.gpu_count", f"must be ≤ {MAX_COUNT}"),
        ({"memory_gb": "1e400"}, "resources.memory_gb", "finite"),
        ({"name": "x" * 131_072}, None, None),  # a long name is only a name
    ],
)
def test_fleet_numbers_beyond_the_limits_are_refused_with_short_messages(
    tmp_path: Path, row: dict[str, str | int], field: str | None, words: str | None
) -> None:
    resources: dict[str, str | int] = {"cpu": "4", "memory_gb": "16", "gpu_count": "0"}
    record: dict[str, str | int] = {
        "backend": "aws",
        "region": "us-east-1",
        "instance_type": "m5.xlarge",
    }
    record |= {"price": "0.2", "count": "1"}
    for key, value in row.items():
        (resources if key in resources else record)[key] = value

    # Quoted: the text reaches the fleet's own checks (the YAML reader has its own for numbers);
    # an int is written as a YAML number.
    def written(value: str | int) -> str:
        return str(value) if isinstance(value, int) else f'"{value}"'

    text = "instances:\n  - resources: {"
    text += ", ".join(f"{k}: {written(v)}" for k, v in resources.items())
    text += "}\n" + "".join(f"    {key}: {written(value)}\n" for key, value in record.items())
    path = tmp_path / "fleet.yml"
    path.write_text(text)
    if field is None:
        assert load_fleet(path).instances[0].name == "x" * 131_072
        return
    with pytest.raises(InputError) as error:
        load_fleet(path)
    (problem,) = error.value.problems
    assert problem.path == f"instances[0].{field}" and problem.line is not None
    assert words is not None and words in problem.message
    assert len(problem.message) < 200


def test_value_types_check_their_numbers_too() -> None:
    """A library caller building the values without a file meets the same limits."""
    common: dict[str, Any] = {"name": None, "provider": "aws", "region": "r", "instance_type": "t"}
    common |= {"spot": False, "idle": True, "memory_gb": 8.0, "gpu_count": 0, "gpu_name": None}
    common |= {"gpu_memory_gb": None, "disk_gb": None, "gpu_vendor": None, "cpu_arch": "x86"}
    common |= {"source": "test"}
    with pytest.raises(InputError, match="count: must be an integer"):
        FleetInstance(**common, count=10**23, cpu=2, price=0.1)
    with pytest.raises(InputError, match="price: must be a number"):
        FleetInstance(**common, count=1, cpu=2, price=float("nan"))
    with pytest.raises(InputError, match="capacity: must be an integer"):
        CapacityRule("aws", "*", "*", True, 10**23, None, "test")
    with pytest.raises(InputError, match="got a number of about 5001 digits"):
        CapacityRule("aws", "*", "*", True, 10**5000, None, "test")
    with pytest.raises(InputError, match="interruption"):
        CapacityRule("aws", "*", "*", True, None, 1.5, "test")


# --------------------------------------------------------------------------------------------
# The model's edges (item 11): bounded inputs, never "infeasible" for a model CP-SAT refused.


def _offers(price: float = 1.0, spot: bool = False) -> Any:
    return offer_frame(
        [
            {"provider": "aws", "region": "us-east-1", "instance_type": "a", "spot": spot,
             "price": price},
            {"provider": "aws", "region": "us-west-2", "instance_type": "a", "spot": spot,
             "price": price + 0.5},
        ]
    )  # fmt: skip


@pytest.mark.parametrize("price", [1e12, 1e13, 1e300])
def test_a_catalog_price_beyond_the_limit_is_an_input_error(price: float) -> None:
    with pytest.raises(InputError, match=f"between 0 and {MAX_HOURLY_PRICE:.0f} USD/h"):
        plan_offers(_offers(price), service(2), options=PlanOptions(explain=False))


@pytest.mark.parametrize("replicas", [MAX_REPLICAS + 1, 10_000_000, 2**62, 2**70])
def test_a_replica_count_beyond_the_limit_is_an_input_error(replicas: int) -> None:
    with pytest.raises(InputError, match=f"at most {MAX_REPLICAS} replicas"):
        plan_offers(_offers(), service(replicas), options=PlanOptions(explain=False))
    with pytest.raises(InputError, match=f"at most {MAX_REPLICAS} replicas"):
        plan_offers(_offers(), service((1, replicas)), options=PlanOptions(explain=False))


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"num_workers": 10**6}, "num_workers must be an integer in 1..256"),
        ({"num_workers": 0}, "num_workers"),
        ({"budget_hourly": 1e13}, "hourly budget must be between 0 and 100000000000"),
        ({"budget_hourly": float("nan")}, "hourly budget"),
        (
            {"max_per_domain": 10**20},
            f"max per failure domain must be an integer in 1..{MAX_REPLICAS}",
        ),
        ({"on_demand_floor": 10**20}, "on-demand floor"),
        ({"max_fallbacks": 10**20}, "max_fallbacks"),
        ({"time_limit_seconds": float("nan")}, "time limit"),
        ({"availability_target": "high"}, "availability target"),
    ],
)
def test_options_beyond_their_limits_are_input_errors(options: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError, match=words):
        plan_offers(_offers(), service(2), options=PlanOptions(explain=False, **options))


def test_a_model_too_large_for_64_bit_integers_is_an_input_error_not_infeasible() -> None:
    # Within every single limit, but 100,000 replicas × $999,999/h × the tie-break weight
    # overflows: the solver would call the model invalid.
    with pytest.raises(InputError, match="too large for the solver's 64-bit integers"):
        plan_offers(_offers(999_999.0), service(MAX_REPLICAS), options=PlanOptions(explain=False))


def test_a_model_the_solver_refuses_is_never_reported_infeasible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the size check the same model reaches CP-SAT, which answers MODEL_INVALID.
    monkeypatch.setattr(placement_model, "_check_magnitude", lambda *args: None)
    with pytest.raises(InputError, match="the solver refused the planning model"):
        plan_offers(_offers(999_999.0), service(MAX_REPLICAS), options=PlanOptions(explain=False))


def test_a_hedge_needing_more_replicas_than_the_model_takes_is_an_input_error() -> None:
    # At a 99.999% monthly interruption rate, 1,000 surviving replicas take 10^8 spot replicas.
    capacity = CapacityData(rules=(CapacityRule("*", "*", "*", True, None, 0.99999, "test"),))
    spot_service = service(1000, spot_policy="spot", retry_events=("interruption",))
    with pytest.raises(InputError, match=f"the planner plans at most {MAX_MODEL_REPLICAS}"):
        plan_offers(
            _offers(spot=True),
            spot_service,
            capacity=capacity,
            options=PlanOptions(explain=False, wave_survival=False),
        )


def test_a_relaxed_model_too_large_to_solve_is_reported_as_not_re_solved() -> None:
    # 2,000 replicas at $900,000/h fit while the capacity file caps each pool at 1,000; without
    # the caps each pool could take all 2,000 and the model would overflow: the plan stands, and
    # its capacity report says it was not re-solved (not "infeasible", not an error).
    capacity = CapacityData(rules=(CapacityRule("*", "*", "*", None, 1000, None, "test"),))
    result = plan_offers(_offers(900_000.0), service(2000), capacity=capacity)
    assert result.status == "optimal" and result.planned_replicas == 2000
    report = next(report for report in result.constraints if report.name == "capacity")
    assert report.relaxed_status is None
    assert report.saving_hourly is None and report.tight


def test_the_largest_service_still_plans() -> None:
    result = plan_offers(_offers(0.5), service(MAX_REPLICAS), options=PlanOptions(explain=False))
    assert result.status == "optimal" and result.planned_replicas == MAX_REPLICAS
    assert result.hourly_cost == pytest.approx(0.5 * MAX_REPLICAS)


@pytest.mark.parametrize(
    ("args", "catalog_rows", "words"),
    [
        (("--budget-hourly", "1e13"), CHEAP, "hourly budget must be between"),
        (("--max-per-domain", "1" + "0" * 20), CHEAP, "max per failure domain"),
        # An absurd catalog price is a malformed row, refused where the catalog is read (the
        # model's own bound, for offer frames given to the library, is tested above).
        (("--strict",), [("m5.large", "us-east-1", "1e13", "False")], "price is too large"),
        (("--strict",), [("m5.large", "us-east-1", "1e12", "True")], "price is too large"),
    ],
)
def test_cli_edges_exit_2_with_the_bound(
    run_cli: Any, tmp_path: Path, args: tuple[str, ...], catalog_rows: Any, words: str
) -> None:
    service_file = tmp_path / "service.yml"
    service_file.write_text(SERVICE)
    catalog = catalog_csv(tmp_path / "catalog", catalog_rows)
    result = run_cli("plan", str(service_file), "--catalog", str(catalog), *args)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert "infeasible" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("replicas", "words"),
    [
        # Within what a configuration may say, beyond what one plan can place.
        (MAX_REPLICAS * 2, f"at most {MAX_REPLICAS} replicas"),
        # Beyond what a configuration may say: refused by the configuration's own rule.
        (10_000_000, "replicas: a count cannot exceed 1,000,000"),
    ],
)
def test_cli_replicas_beyond_the_limit_exit_2(
    run_cli: Any, tmp_path: Path, replicas: int, words: str
) -> None:
    service_file = tmp_path / "service.yml"
    service_file.write_text(SERVICE.replace("replicas: 2", f"replicas: {replicas}"))
    catalog = catalog_csv(tmp_path / "catalog", CHEAP)
    result = run_cli("plan", str(service_file), "--catalog", str(catalog), "--no-explain")
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert "infeasible" not in result.stdout + result.stderr


# --------------------------------------------------------------------------------------------
# The plan's human formats escape control characters (item 13), as the offers tables do.

HOSTILE_NAMES = {"region": "us-east-1\x1b[2J", "instance_type": "big\nbox\x07"}


def test_plan_table_and_markdown_escape_control_characters() -> None:
    offers = offer_frame([{"provider": "aws", "spot": False, "price": 1.0, **HOSTILE_NAMES}])
    result = plan_offers(offers, service(1), options=PlanOptions())
    assert result.status == "optimal"
    for text in (render_plan_table(result), render_plan_markdown(result)):
        assert "\x1b" not in text and "\x07" not in text
        assert "us-east-1\\x1b[2J" in text and "big\\nbox\\x07" in text
        placement_rows = [line for line in text.splitlines() if "aws" in line]
        assert placement_rows and all("big\\nbox" in line for line in placement_rows)


def test_the_infeasible_line_is_escaped_too() -> None:
    offers = offer_frame([{"provider": "aws", "spot": False, "price": 1.0, **HOSTILE_NAMES}])
    result = plan_offers(offers, service(1), options=PlanOptions(budget_hourly=0.5))
    assert result.status == "infeasible"
    assert infeasible_line(result).isprintable()


def test_cli_plan_table_escapes_catalog_strings(run_cli: Any, tmp_path: Path) -> None:
    service_file = tmp_path / "service.yml"
    service_file.write_text(SERVICE)
    catalog = catalog_csv(
        tmp_path / "catalog", [("m5.\x1b[31mlarge", "us-west\x07-2", "0.05", "True")]
    )
    # --rows: the hostile region is none of dstack's aws regions.
    result = run_cli("plan", str(service_file), "--catalog", str(catalog), "--no-explain", "--rows")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "m5.\\x1b[31mlarge" in result.stdout and "us-west\\x07-2" in result.stdout
