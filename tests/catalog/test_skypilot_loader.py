"""SkyPilot ``vms.csv`` catalogs: the real v7 samples and the format's corner cases."""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from catalog_files import row, write_csv

from planner.catalog import Catalog
from planner.catalog.columns import COLUMNS, ROW_ID
from planner.errors import CatalogError

RunCli = Callable[..., subprocess.CompletedProcess[str]]

SKYPILOT_HEADER = [
    "InstanceType",
    "AcceleratorName",
    "AcceleratorCount",
    "vCPUs",
    "MemoryGiB",
    "GpuInfo",
    "Price",
    "SpotPrice",
    "Region",
]


def gpu_info(name: str, count: int, mib: int, manufacturer: str | None = None) -> str:
    maker = f"'Manufacturer': '{manufacturer}', " if manufacturer else ""
    return (
        f"{{'Gpus': [{{'Name': '{name}', {maker}'Count': {count}, "
        f"'MemoryInfo': {{'SizeInMiB': {mib}}}}}], 'TotalGpuMemoryInMiB': {mib}}}"
    )


def vms_row(**fields: str) -> dict[str, str]:
    base = {
        "InstanceType": "gpu_1x_h100",
        "AcceleratorName": "H100",
        "AcceleratorCount": "1.0",
        "vCPUs": "26.0",
        "MemoryGiB": "200.0",
        "GpuInfo": gpu_info("H100", 1, 81920, "NVIDIA"),
        "Price": "2.49",
        "SpotPrice": "",
        "Region": "us-east-1",
    }
    return {**base, **fields}


# The Lambda sample is an excerpt: its 19 instance types in 3 of upstream's 17 regions
# (tests/fixtures/README.md). The Vast sample is the complete upstream file.
LAMBDA_TYPES = 19
LAMBDA_REGIONS = 3
LAMBDA_ROWS = LAMBDA_TYPES * LAMBDA_REGIONS
VAST_ROWS = 61


@pytest.fixture(scope="module")
def samples(fixtures_dir: Path) -> Path:
    return fixtures_dir / "skypilot-catalog-v7"


@pytest.fixture(scope="module")
def vast(samples: Path) -> pd.DataFrame:
    catalog = Catalog.load(samples / "vast" / "vms.csv")
    assert not catalog.issues
    return catalog.frame


@pytest.fixture(scope="module")
def lambda_frame(samples: Path) -> pd.DataFrame:
    catalog = Catalog.load(samples / "lambda")
    assert not catalog.issues
    return catalog.frame


def _by_type(frame: pd.DataFrame, instance_type: str) -> pd.DataFrame:
    return frame[frame["instance_type"] == instance_type]


def test_vast_sample_counts_and_columns(vast: pd.DataFrame) -> None:
    # 61 lines, every SpotPrice "0.00": no spot rows.
    assert len(vast) == VAST_ROWS
    assert set(vast["provider"]) == {"vastai"}
    assert not vast["spot"].any()
    assert set(vast["gpu_vendor"]) == {"nvidia"}
    assert set(vast["gpu_name"]) == {
        "A10", "A100", "A40", "A4000", "A5000", "A6000", "H100", "H200", "L40S",
        "RTX3060", "RTX3090", "RTX4080", "RTX4090", "RTX5090", "RTX6000Ada", "V100",
    }  # fmt: skip
    assert list(vast.columns) == [*COLUMNS, ROW_ID]
    assert all(str(vast[name].dtype) == dtype for name, dtype in COLUMNS.items())
    assert vast["disk_gb"].isna().all() and (vast["cpu"] == 32).all()
    assert np.allclose(vast["memory_gb"], 64.0 * 1.074)
    prices = vast["price"].to_numpy()
    assert np.all(prices[:-1] <= prices[1:])


def test_vast_regions_keep_their_commas(vast: pd.DataFrame) -> None:
    regions = set(vast["region"].astype(str))
    assert "Czechia, CZ, EU" in regions
    assert ", US, NA" in regions


@pytest.mark.parametrize(
    ("instance_type", "name", "count", "memory"),
    [
        ("1x-H100_SXM-32-65536", "H100", 1, 80),
        ("2x-H100_SXM-32-65536", "H100", 2, 80),  # SizeInMiB 163118 is the instance's total
        ("8x-H100_SXM-32-65536", "H100", 8, 80),
        ("2x-H100_NVL-32-65536", "H100", 2, 94),  # 95830 MiB per GPU: the NVL part
        ("8x-H200-32-65536", "H200", 8, 141),
        ("2x-A100_SXM4-32-65536", "A100", 2, 40),  # 81920 total, by the file's convention
        ("8x-A100_SXM4-32-65536", "A100", 8, 40),
        ("1x-RTX_4080S-32-65536", "RTX4080", 1, 16),
        ("12x-RTX_4090-32-65536", "RTX4090", 12, 24),
        ("2x-RTX_6000Ada-32-65536", "RTX6000Ada", 2, 48),
        ("2x-RTX_A6000-32-65536", "A6000", 2, 48),
        ("4x-RTX_A4000-32-65536", "A4000", 4, 16),
        ("2x-Tesla_V100-32-65536", "V100", 2, 16),
        ("4x-RTX_3060-32-65536", "RTX3060", 4, 12),
    ],
)
def test_vast_gpu_values(
    vast: pd.DataFrame, instance_type: str, name: str, count: int, memory: float
) -> None:
    rows = _by_type(vast, instance_type)
    assert len(rows) >= 1
    assert set(rows["gpu_name"]) == {name}
    assert set(rows["gpu_count"]) == {count}
    assert set(rows["gpu_memory_gb"]) == {memory}


def test_vast_48gb_rtx4090_boards_are_not_snapped_to_24(vast: pd.DataFrame) -> None:
    # Two 2x RTX4090 offers report 98280 MiB for two GPUs: modded 48 GB boards, not 24 GB.
    memories = sorted(set(_by_type(vast, "2x-RTX_4090-32-65536")["gpu_memory_gb"]))
    assert memories == [24.0, 48.0]


def test_lambda_sample(lambda_frame: pd.DataFrame) -> None:
    frame = lambda_frame
    assert len(frame) == LAMBDA_ROWS
    assert set(frame["provider"]) == {"lambdalabs"}
    assert frame["instance_type"].nunique() == LAMBDA_TYPES
    assert frame["region"].nunique() == LAMBDA_REGIONS
    assert not frame["spot"].any()
    cpu = _by_type(frame, "cpu_4x_general")
    assert len(cpu) == LAMBDA_REGIONS and (cpu["gpu_count"] == 0).all()
    assert cpu["gpu_name"].isna().all() and cpu["gpu_vendor"].isna().all()
    assert cpu["gpu_memory_gb"].isna().all()
    assert set(cpu["cpu"]) == {4} and set(cpu["price"]) == {0.2}


@pytest.mark.parametrize(
    ("instance_type", "name", "count", "memory", "cpu", "memory_gib", "price"),
    [
        ("gpu_8x_a100_80gb_sxm4", "A100", 8, 80, 240, 1800.0, 14.32),
        ("gpu_8x_a100", "A100", 8, 40, 124, 1800.0, 10.32),
        ("gpu_1x_a6000", "A6000", 1, 48, 14, 100.0, 0.8),
        ("gpu_1x_rtx6000", "RTX6000", 1, 24, 14, 46.0, 0.5),
        ("gpu_8x_h100_sxm5", "H100", 8, 80, 208, 1800.0, 23.92),
        ("gpu_8x_v100", "V100", 8, 16, 92, 448.0, 4.4),
        ("gpu_1x_gh200", "GH200", 1, 96, 64, 432.0, 1.49),
    ],
)
def test_lambda_values(
    lambda_frame: pd.DataFrame,
    instance_type: str,
    name: str,
    count: int,
    memory: float,
    cpu: int,
    memory_gib: float,
    price: float,
) -> None:
    rows = _by_type(lambda_frame, instance_type)
    assert len(rows) == LAMBDA_REGIONS
    first = rows.iloc[0]
    assert (first["gpu_name"], first["gpu_count"], first["gpu_memory_gb"]) == (name, count, memory)
    assert (first["cpu"], first["price"], first["gpu_vendor"]) == (cpu, price, "nvidia")
    assert math.isclose(first["memory_gb"], memory_gib * 1.074)


def test_lambda_gh200_is_arm_and_flagged_as_gpuhunt_does(lambda_frame: pd.DataFrame) -> None:
    arm = lambda_frame[lambda_frame["cpu_arch"] == "arm"]
    assert set(arm["instance_type"]) == {"gpu_1x_gh200"} and len(arm) == LAMBDA_REGIONS
    assert set(arm["flags"]) == {"lambda-arm"}
    assert set(lambda_frame[lambda_frame["cpu_arch"] == "x86"]["flags"]) == {""}


def test_the_skypilot_tree_loads_every_cloud(samples: Path) -> None:
    catalog = Catalog.load(samples)
    (source,) = catalog.sources
    assert (source.format, source.providers) == ("skypilot-dir", ("lambdalabs", "vastai"))
    assert len(catalog) == source.rows == LAMBDA_ROWS + VAST_ROWS and source.dropped == 0


# ---------------------------------------------------------------- corner cases


def _load(tmp_path: Path, rows: list[dict[str, str]], cloud: str = "runpod") -> Catalog:
    return Catalog.load(write_csv(tmp_path / cloud / "vms.csv", rows, header=SKYPILOT_HEADER))


def test_a_positive_spot_price_adds_a_spot_row_after_the_on_demand_one(tmp_path: Path) -> None:
    catalog = _load(
        tmp_path,
        [
            vms_row(InstanceType="a", Price="2.0", SpotPrice="0.7"),
            vms_row(InstanceType="b", Price="1.0", SpotPrice="0.00"),
            vms_row(InstanceType="c", Price="0.7", SpotPrice=""),
        ],
    )
    frame = catalog.frame
    offers = list(zip(frame["instance_type"], frame["spot"], frame["price"], strict=True))
    # The spot row ties with "c" at 0.7: load order (line 2 before line 4) decides.
    assert offers == [("a", True, 0.7), ("c", False, 0.7), ("b", False, 1.0), ("a", False, 2.0)]
    assert catalog.sources[0].rows == 4 and catalog.providers == ("runpod",)


def test_provider_names_follow_gpuhunt(tmp_path: Path) -> None:
    assert _load(tmp_path, [vms_row()], cloud="lambda").providers == ("lambdalabs",)
    assert _load(tmp_path, [vms_row()], cloud="vast").providers == ("vastai",)
    assert _load(tmp_path, [vms_row()], cloud="aws").providers == ("aws",)


def test_unknown_accelerators_keep_their_name_and_manufacturer(tmp_path: Path) -> None:
    frame = _load(
        tmp_path,
        [
            vms_row(
                InstanceType="k80",
                AcceleratorName="K80",
                GpuInfo=gpu_info("K80", 1, 12288, "NVIDIA"),
            ),
            vms_row(
                InstanceType="mi25",
                AcceleratorName="Radeon MI25",
                GpuInfo=gpu_info("MI25", 1, 16384, "AMD"),
            ),
            vms_row(InstanceType="bare", AcceleratorName="X9", GpuInfo=""),
        ],
    ).frame.set_index("instance_type")
    assert (frame.loc["k80", "gpu_name"], frame.loc["k80", "gpu_vendor"]) == ("K80", "nvidia")
    assert frame.loc["k80", "gpu_memory_gb"] == 12
    assert (frame.loc["mi25", "gpu_name"], frame.loc["mi25", "gpu_vendor"]) == (
        "Radeon MI25",
        "amd",
    )
    # No GpuInfo: memory unknown; no manufacturer: gpuhunt's default vendor for a GPU row.
    assert (
        math.isnan(frame.loc["bare", "gpu_memory_gb"])
        and frame.loc["bare", "gpu_vendor"] == "nvidia"
    )


@pytest.mark.parametrize(
    ("fields", "column", "reason"),
    [
        ({"vCPUs": "0.25"}, "vCPUs", "vCPUs is not a whole number"),
        ({"AcceleratorCount": "0.5"}, "AcceleratorCount", "AcceleratorCount is not a whole number"),
        ({"AcceleratorCount": ""}, "AcceleratorCount", "AcceleratorCount is empty"),
        ({"Price": ""}, "Price", "Price is empty"),
        ({"Price": "-1"}, "Price", "Price is negative"),
        ({"MemoryGiB": "lots"}, "MemoryGiB", "MemoryGiB is not a number"),
        ({"SpotPrice": "n/a"}, "SpotPrice", "SpotPrice is not a number"),
        ({"Region": ""}, "Region", "Region is empty"),
    ],
)
def test_malformed_lines_are_reported(
    tmp_path: Path, fields: dict[str, str], column: str, reason: str
) -> None:
    catalog = _load(tmp_path, [vms_row(InstanceType="ok"), vms_row(InstanceType="bad", **fields)])
    assert catalog.frame["instance_type"].astype(str).tolist() == ["ok"]
    (issue,) = catalog.issues
    assert (issue.line, issue.column, issue.reason) == (3, column, reason)


def test_a_header_without_skypilot_columns_is_an_error(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "aws" / "vms.csv",
        [vms_row()],
        header=[h for h in SKYPILOT_HEADER if h != "vCPUs"],
    )
    with pytest.raises(CatalogError, match="lacks vCPUs"):
        Catalog.load(path)


def test_gpu_info_in_json_quoting_is_read_too(tmp_path: Path) -> None:
    info = '{"Gpus": [{"Name": "MI300X", "Manufacturer": "AMD", "Count": 8, "MemoryInfo": {"SizeInMiB": 196608}}]}'
    frame = _load(
        tmp_path, [vms_row(AcceleratorName="MI300X", AcceleratorCount="8", GpuInfo=info)]
    ).frame
    assert (frame["gpu_name"][0], frame["gpu_vendor"][0], frame["gpu_memory_gb"][0]) == (
        "MI300X",
        "amd",
        192,
    )


def test_tpus_follow_gpuhunts_naming(tmp_path: Path) -> None:
    frame = _load(
        tmp_path, [vms_row(InstanceType="TPU-VM", AcceleratorName="tpu-v5litepod-8", GpuInfo="")]
    ).frame
    assert (frame["gpu_name"][0], frame["gpu_vendor"][0]) == ("v5litepod-8", "google")


def test_an_accelerator_of_an_unsupported_vendor_is_reported(tmp_path: Path) -> None:
    catalog = _load(
        tmp_path,
        [
            vms_row(InstanceType="ok"),
            vms_row(
                InstanceType="inf2.xlarge",
                AcceleratorName="Inferentia2",
                GpuInfo=gpu_info("Inferentia2", 1, 32768, "AWS"),
            ),
        ],
    )
    assert catalog.frame["instance_type"].astype(str).tolist() == ["ok"]
    (issue,) = catalog.issues
    assert (issue.line, issue.column, issue.value) == (3, "AcceleratorName", "aws")
    assert issue.reason.startswith("accelerator vendor is not one of nvidia, amd")


def test_the_cli_offers_from_the_real_skypilot_samples(
    run_cli: RunCli, samples: Path, tmp_path: Path
) -> None:
    service = tmp_path / "service.yml"
    service.write_text(
        "type: service\nport: 8000\ncommands: [serve]\nresources:\n  gpu: A100:80GB:8\n"
    )
    result = run_cli("offers", str(service), "--catalog", str(samples), "--format", "json")
    assert result.returncode == 0, result.stderr
    offers = json.loads(result.stdout)["offers"]
    assert {(offer["provider"], offer["instance_type"]) for offer in offers} == {
        ("lambdalabs", "gpu_8x_a100_80gb_sxm4")
    }
    assert len(offers) == LAMBDA_REGIONS and {offer["gpu_memory_gb"] for offer in offers} == {80}


@pytest.mark.parametrize("line_end", ["\r", "\n", "\r\n"])
def test_any_line_ending_reads_the_same(tmp_path: Path, line_end: str) -> None:
    rows = [vms_row(InstanceType="a", Price="2.0", SpotPrice="0.7"), vms_row(InstanceType="b")]
    path = write_csv(tmp_path / "aws" / "vms.csv", rows, header=SKYPILOT_HEADER, line_end=line_end)
    reference = write_csv(tmp_path / "ref" / "aws" / "vms.csv", rows, header=SKYPILOT_HEADER)
    assert Catalog.load(path).frame.equals(Catalog.load(reference).frame)


def test_a_repeated_column_the_loader_reads_is_an_error(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "aws" / "vms.csv",
        [[*vms_row().values(), "3.0"]],
        header=[*SKYPILOT_HEADER, "Price"],
    )
    with pytest.raises(CatalogError, match=r"duplicate column.*Price"):
        Catalog.load(path)


def test_a_provider_from_two_sources_is_warned_about(tmp_path: Path) -> None:
    """A gpuhunt dir and a SkyPilot file both holding lambdalabs: both kept, with a warning.

    Ties between the sources keep the order the sources were given in.
    """
    directory = tmp_path / "gpuhunt"
    write_csv(directory / "lambdalabs.csv", [row(instance_name="old", price="1.0")])
    write_csv(directory / "aws.csv", [row(instance_name="m5", price="1.0")])
    vms = write_csv(
        tmp_path / "lambda" / "vms.csv",
        [vms_row(InstanceType="new", Price="1.0", SpotPrice="")],
        header=SKYPILOT_HEADER,
    )
    catalog = Catalog.load(directory, vms)
    assert [source.format for source in catalog.sources] == ["gpuhunt-dir", "skypilot"]
    frame = catalog.frame
    assert frame["instance_type"].tolist() == ["m5", "old", "new"]  # aws.csv before lambdalabs.csv
    assert catalog.warnings == (
        f"provider lambdalabs comes from 2 sources ({directory}, {vms}): the rows of all of them "
        "are offered, so the same instance may be listed at several prices",
    )
    assert Catalog.load(directory).warnings == ()
    assert Catalog.load(directory, directory).warnings[0].startswith("provider aws comes from 2")


def test_catalog_show_warns_about_a_provider_from_two_sources(
    run_cli: Callable[..., subprocess.CompletedProcess[str]], samples: Path
) -> None:
    vms = samples / "lambda" / "vms.csv"
    result = run_cli("catalog", "show", "--catalog", str(vms), "--catalog", str(vms))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("warning: provider lambdalabs comes from 2 sources")


def test_a_vms_csv_outside_a_cloud_directory_is_warned_about(tmp_path: Path) -> None:
    """The provider comes from the directory name: ~/Downloads/vms.csv is provider 'downloads'."""
    vms = write_csv(tmp_path / "Downloads" / "vms.csv", [vms_row()], header=SKYPILOT_HEADER)
    catalog = Catalog.load(vms)
    assert catalog.providers == ("downloads",)
    assert catalog.warnings == (
        f"provider 'downloads' ({vms}) is not one gpuhunt knows: its rows are loaded but never "
        "offered (name the file or its directory after the provider, e.g. lambdalabs.csv or "
        "lambda/vms.csv)",
    )


def test_gpuhunt_csvs_next_to_skypilot_cloud_directories_are_refused(tmp_path: Path) -> None:
    """Reading the directory as gpuhunt's would silently leave lambda/vms.csv out."""
    write_csv(tmp_path / "aws.csv", [row()])
    vms = write_csv(tmp_path / "lambda" / "vms.csv", [vms_row()], header=SKYPILOT_HEADER)
    with pytest.raises(CatalogError, match=r"SkyPilot lambda/vms.csv next to gpuhunt CSV files"):
        Catalog.load(tmp_path)
    both = Catalog.load(tmp_path / "aws.csv", vms)
    assert both.providers == ("aws", "lambdalabs")


def test_the_provider_of_a_symlinked_vms_csv_is_its_directory_as_given(tmp_path: Path) -> None:
    """lambda/vms.csv linking into a store (another directory name) is still lambdalabs."""
    stored = write_csv(
        tmp_path / "store" / "0a1b2c" / "vms.csv", [vms_row()], header=SKYPILOT_HEADER
    )
    (tmp_path / "lambda").mkdir()
    (tmp_path / "lambda" / "vms.csv").symlink_to(stored)
    assert Catalog.load(tmp_path / "lambda" / "vms.csv").providers == ("lambdalabs",)
    assert Catalog.load(tmp_path / "lambda").providers == ("lambdalabs",)
    # A link named after no provider, to a cloud directory: the target's name is used.
    (tmp_path / "current").symlink_to(tmp_path / "lambda")
    assert Catalog.load(tmp_path / "current").providers == ("lambdalabs",)


def test_superchip_rows_are_arm_whatever_the_case(tmp_path: Path) -> None:
    # GH200/GB200-style names ship with an Arm CPU (gpuhunt's is_nvidia_superchip); G4 is no such part.
    names = ["GH200", "gb200", "H100", "G4"]
    rows = [
        vms_row(InstanceType=f"x-{name}", AcceleratorName=name, GpuInfo=gpu_info(name, 1, 81920))
        for name in names
    ]
    frame = _load(tmp_path, rows).frame
    arch = dict(zip(frame["instance_type"].astype(str), frame["cpu_arch"].astype(str), strict=True))
    assert arch == {"x-GH200": "arm", "x-gb200": "arm", "x-H100": "x86", "x-G4": "x86"}
