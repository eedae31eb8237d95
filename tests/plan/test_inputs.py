"""Fleet inventory and capacity/risk files: parsed values, and located errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import InputError
from planner.placement import load_capacity, load_fleet
from planner.placement.inputs import DEFAULT_SPOT_INTERRUPTION_RATE, UNLIMITED

ANY_PATH = object()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bundled_examples_parse(repo_dir: Path) -> None:
    fleet = load_fleet(repo_dir / "examples" / "planning" / "fleet.yml")
    assert fleet.idle_count == 3
    assert {instance.provider for instance in fleet.instances} == {"aws", "lambdalabs"}
    busy = [instance for instance in fleet.instances if not instance.idle]
    assert [instance.instance_type for instance in busy] == ["g6.xlarge"]

    capacity = load_capacity(repo_dir / "examples" / "planning" / "capacity.csv")
    assert len(capacity.reservations) == 1
    reservation = capacity.reservations[0]
    assert (reservation.reservation_id, reservation.count, reservation.price) == (
        "cr-0123456789abcdef0",
        2,
        31.464,
    )
    rates = {
        (rule.region, rule.instance_type): rule.interruption_rate
        for rule in capacity.rules
        if rule.spot
    }
    assert rates[("us-west-2", "g6.xlarge")] == 0.15
    assert rates[("*", "g5.xlarge")] == 0.05
    assert rates[("*", "p5.48xlarge")] == 0.30
    assert DEFAULT_SPOT_INTERRUPTION_RATE == 0.30


def test_capacity_yaml_with_reservations_and_unlimited(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "capacity.yml",
        """pools:
  - {backend: lambda, region: us-east-1, instance_type: gpu_1x_a10, capacity: unlimited}
  - {backend: gcp, instance_type: g2-standard-4, spot: true, interruption: "12%"}
reservations:
  - {id: r-1, backend: aws, region: us-east-1, instance_type: p5.48xlarge, count: 1, price: 30}
""",
    )
    capacity = load_capacity(path)
    first, second = capacity.rules
    assert first.provider == "lambdalabs" and first.capacity == UNLIMITED
    assert second.region == "*" and second.interruption_rate == pytest.approx(0.12)
    assert capacity.reservations[0].reservation_id == "r-1"
    assert capacity.reservations[0].source == f"{path}:5"


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("backend,region,capacity\naws,us-east-1,many\n", 2, "capacity", "must be an integer"),
        ("backend,region,capacity\naws,us-east-1,-1\n", 2, "capacity", "must be ≥ 0"),
        (
            "backend,interruption\n# comment\naws,<5%\naws,often\n",
            4,
            "interruption",
            "not an interruption bucket",
        ),
        ("backend,spot\naws,maybe\n", 2, "spot", "must be true or false"),
        ("backend,zone\naws,a\n", 1, None, "unknown column 'zone'"),
        ("backend,price\naws,3\n", 2, "price", "only a reservation row has a price"),
        (
            "backend,region,instance_type,reservation,capacity\naws,us-east-1,p5.48xlarge,r-1,2\n",
            2,
            "price",
            "is required",
        ),
        ("backend,region\naws,us-east-1,extra\n", 2, None, "3 cells but the header has 2"),
    ],
)
def test_bad_capacity_csv_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None, message: str
) -> None:
    path = _write(tmp_path, "capacity.csv", text)
    with pytest.raises(InputError) as error:
        load_capacity(path)
    problem = error.value.problems[0]
    assert problem.file == str(path)
    assert problem.line == line
    assert problem.path == field
    assert message in problem.message
    assert str(error.value).startswith(f"{path}:{line}")


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            "instances:\n  - backend: aws\n    region: us-east-1\n    instance_type: g5.xlarge\n"
            "    price: cheap\n    resources: {cpu: 4, memory_gb: 16, gpu_count: 0}\n",
            5,
            "instances[0].price",
            "must be a number",
        ),
        (
            "instances:\n  - backend: aws\n    region: us-east-1\n    instance_type: g5.xlarge\n"
            "    price: 1\n    status: sleeping\n    resources: {cpu: 4, memory_gb: 16, gpu_count: 0}\n",
            6,
            "instances[0].status",
            "must be idle or busy",
        ),
        (
            "instances:\n  - backend: aws\n    region: us-east-1\n    instance_type: g5.xlarge\n"
            "    price: 1\n",
            2,
            "instances[0].resources",
            "is required",
        ),
        (
            "instances:\n  - backend: aws\n    region: us-east-1\n    instance_type: g5.xlarge\n"
            "    price: 1\n    resources:\n      cpu: 4\n      memory_gb: 16\n      gpu_count: 1\n",
            6,
            "instances[0].resources.gpu_name",
            "is required when gpu_count > 0",
        ),
        # A syntax error may or may not name the path the parser was in (the reader's choice).
        ("instances:\n  - {backend: aws\n", 3, ANY_PATH, "YAML syntax error"),
        ("machines: []\n", 1, "machines", "unknown key"),
        ("instances: {a: 1}\n", 1, "instances", "must be a list"),
    ],
)
def test_bad_fleet_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None, message: str
) -> None:
    path = _write(tmp_path, "fleet.yml", text)
    with pytest.raises(InputError) as error:
        load_fleet(path)
    problem = error.value.problems[0]
    assert problem.file == str(path)
    assert problem.line == line
    assert field is ANY_PATH or problem.path == field
    assert message in problem.message


def test_fleet_json_is_accepted(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "fleet.json",
        '{"instances": [{"backend": "aws", "region": "us-east-1", "instance_type": "g5.xlarge",'
        ' "price": 1.006, "count": 3, "resources": {"cpu": 4, "memory_gb": 16, "gpu_count": 1,'
        ' "gpu_name": "A10G", "gpu_memory_gb": 24}}]}',
    )
    fleet = load_fleet(path)
    assert fleet.idle_count == 3
    assert fleet.instances[0].gpu_vendor == "nvidia"


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_fleet(tmp_path / "absent.yml")


FLEET_ROW = (
    "  - backend: aws\n    region: us-east-1\n    instance_type: g5.xlarge\n    price: 1\n"
    "    resources: {cpu: 4, memory_gb: 16, gpu_count: 0}\n"
)


@pytest.mark.parametrize(
    ("name", "text", "line", "field", "message"),
    [
        # Planned silently with the second value before fleet files shared the service reader.
        (
            "fleet.yml",
            "instances:\n" + FLEET_ROW + "    price: 2\n",
            7,
            "instances[0].price",
            "duplicated key `price` (first written at line 5)",
        ),
        ("fleet.yml", "instances: []\ninstances: []\n", 2, "instances", "duplicated key"),
        (
            "fleet.yml",
            "instances:\n" + FLEET_ROW + "    count: 010\n",
            7,
            "instances[0].count",
            "octal number 8",
        ),
        (
            "fleet.json",
            '{"instances": [], "instances": []}',
            1,
            "instances",
            "duplicated key",
        ),
        (
            "capacity.yml",
            "pools:\n  - {backend: aws, capacity: 2, capacity: 5}\n",
            2,
            "pools[0].capacity",
            "duplicated key `capacity`",
        ),
        (
            "capacity.yml",
            "pools:\n  - {backend: aws, instance_type: g5.xlarge, capacity: 1:30}\n",
            2,
            "pools[0].capacity",
            "base-60 number 90",
        ),
        (
            "capacity.yml",
            "pools:\n  - !!python/object:os.system {backend: aws}\n",
            2,
            "pools[0]",
            "is not allowed",
        ),
    ],
)
def test_fleet_and_capacity_yaml_refuse_what_a_service_file_refuses(
    tmp_path: Path, name: str, text: str, line: int, field: str, message: str
) -> None:
    path = _write(tmp_path, name, text)
    load = load_fleet if name.startswith("fleet") else load_capacity
    with pytest.raises(InputError) as error:
        load(path)
    problem = error.value.problems[0]
    assert (problem.file, problem.line, problem.path) == (str(path), line, field)
    assert message in problem.message
    assert str(error.value).startswith(f"{path}:{line}:")


def test_an_alias_bomb_in_a_fleet_file_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 6)]
    path = _write(tmp_path, "fleet.yml", "\n".join(lines) + "\ninstances: []\n")
    with pytest.raises(InputError, match="expands to more than"):
        load_fleet(path)


def test_a_fleet_row_and_a_capacity_row_locate_each_field(tmp_path: Path) -> None:
    fleet = _write(tmp_path, "fleet.yml", "instances:\n" + FLEET_ROW + FLEET_ROW)
    assert [instance.source for instance in load_fleet(fleet).instances] == [
        f"{fleet}:2",
        f"{fleet}:7",
    ]
    capacity = _write(
        tmp_path,
        "capacity.yml",
        "pools:\n  - backend: aws\n    spot: true\n    interruption: sometimes\n",
    )
    with pytest.raises(InputError) as error:
        load_capacity(capacity)
    [problem] = error.value.problems
    assert (problem.line, problem.column, problem.path) == (4, 19, "pools[0].interruption")
    assert problem.message.startswith("not an interruption bucket")
