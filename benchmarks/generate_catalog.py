"""Deterministic generator of synthetic gpuhunt-format catalogs (10k to 1M rows), for tests and benchmarks.

The output looks like what gpuhunt publishes (catalog-format.md §2): one ``<provider>.csv`` per
provider, the 14 ``CATALOG_V2_FIELDS`` columns, written by ``csv.DictWriter`` (CRLF line ends), each
file ascending by price with ties in generation order. On top of a realistic mix (about half CPU-only
rows, GPU counts 1/2/4/8, spot twins, per-provider price rounding) it deliberately contains every
encoding the loader and the matcher must get right: empty vs set ``disk_size``, GPU rows with an empty
``gpu_memory``, ``tpu-`` prefixed names with an empty vendor, GPU rows with an empty vendor (read as
nvidia), ``TRUE``/``false`` spot spellings, upper-case vendor/arch, hide-by-default flags, arm rows,
exact price ties within and across providers, duplicate rows, an NVIDIA name gpuhunt does not know
(``A800``) and mixed-case GPU names. Malformed rows (which gpuhunt skips) are opt-in.

Layouts: ``dir`` (``<out>/<provider>.csv``), ``zip`` (``<out>/catalog.zip``, every provider CSV as a
top-level member, the v2 shape) and ``v3`` (``<out>/v3/<provider>/version`` plus
``<out>/v3/<provider>/<version>/catalog.zip`` and ``latest/catalog.zip``, the layout gpuhunt 0.1.34
downloads; serve it with ``GPUHUNT_CATALOG_URL=file://<out>/v3`` or a local HTTP server).

    python3 -m benchmarks.generate_catalog --rows 1000000 --seed 0 --out /tmp/cat --layout dir --layout zip
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from planner.catalog.columns import GPUHUNT_FIELDS

# gpuhunt's CSV header (storage.CATALOG_V2_FIELDS): gpuhunt's own loader is the oracle that checks it.
FIELDS: tuple[str, ...] = GPUHUNT_FIELDS
LAYOUTS: tuple[str, ...] = ("dir", "zip", "v3")
DEFAULT_VERSION = "20260101-1"

Row = dict[str, str]


@dataclass(frozen=True)
class Accelerator:
    name: str
    vendor: str
    memory_gb: float  # per GPU (a TPU slice: the whole slice)
    price_per_gpu: float  # on-demand USD/hour at list price, before provider and region factors
    cpu_per_gpu: int
    memory_per_gpu: float  # host RAM GB per GPU
    arch: str = "x86"


ACCELERATORS: dict[str, Accelerator] = {
    a.name + ("" if a.name not in ("A100", "V100") else f"-{int(a.memory_gb)}"): a
    for a in (
        Accelerator("H100", "nvidia", 80, 2.99, 24, 240),
        Accelerator("H200", "nvidia", 141, 3.79, 24, 240),
        Accelerator("B200", "nvidia", 180, 5.49, 28, 280),
        Accelerator("A100", "nvidia", 40, 1.29, 12, 85),
        Accelerator("A100", "nvidia", 80, 1.79, 12, 120),
        Accelerator("A10G", "nvidia", 24, 1.006, 4, 16),
        Accelerator("A10", "nvidia", 24, 0.75, 30, 200),
        Accelerator("L4", "nvidia", 24, 0.7048, 4, 16),
        Accelerator("L40S", "nvidia", 48, 1.49, 8, 64),
        Accelerator("T4", "nvidia", 16, 0.526, 4, 16),
        Accelerator("V100", "nvidia", 16, 3.06, 8, 61),
        Accelerator("V100", "nvidia", 32, 3.9, 12, 92),
        Accelerator("RTX4090", "nvidia", 24, 0.39, 8, 32),
        Accelerator("RTX5090", "nvidia", 32, 0.69, 8, 48),
        Accelerator("A6000", "nvidia", 48, 0.8, 8, 48),
        Accelerator("RTXPRO6000", "nvidia", 96, 2.15, 12, 90),
        Accelerator("GH200", "nvidia", 96, 1.49, 64, 463, arch="arm"),
        Accelerator("A800", "nvidia", 80, 1.1, 12, 120),  # not in gpuhunt's table: CC unknown
        Accelerator("MI300X", "amd", 192, 2.49, 24, 240),
        Accelerator("Gaudi2", "intel", 96, 1.3, 19, 128),
    )
}


@dataclass(frozen=True)
class Provider:
    name: str
    weight: float  # share of the catalog's rows
    cpu_share: float  # share of the provider's rows that are CPU-only
    regions: tuple[str, ...]
    accelerators: tuple[str, ...]  # keys of ACCELERATORS; "tpu" adds gcp TPU slices
    spot_twin: float  # probability that an on-demand row has a spot twin
    spot_factor: tuple[float, float]  # spot price / on-demand price, uniform in this range
    price_factor: float  # provider's price level relative to list
    decimals: int  # how the collector rounds prices
    disk: bool  # whether the catalog states disk_size
    arm_share: float = 0.0  # share of CPU rows on arm
    extra: dict[str, float] = field(default_factory=dict)


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "aws",
        0.20,
        0.65,
        tuple(
            f"{area}-{n}"
            for area in (
                "us-east",
                "us-west",
                "eu-west",
                "eu-central",
                "ap-south",
                "ap-northeast",
                "sa-east",
                "ca-central",
            )
            for n in (1, 2, 3)
        ),
        (
            "H100",
            "H200",
            "A100-40",
            "A100-80",
            "A10G",
            "L4",
            "L40S",
            "T4",
            "V100-16",
            "V100-32",
            "Gaudi2",
        ),
        0.8,
        (0.3, 0.7),
        1.0,
        4,
        False,
        arm_share=0.25,
    ),
    Provider(
        "azure",
        0.12,
        0.65,
        (
            "eastus",
            "eastus2",
            "westus",
            "westus2",
            "westus3",
            "northeurope",
            "westeurope",
            "uksouth",
            "japaneast",
            "southeastasia",
            "centralindia",
            "australiaeast",
        ),
        ("H100", "A100-80", "A10", "T4", "V100-16", "MI300X"),
        0.7,
        (0.2, 0.6),
        1.05,
        6,
        False,
        arm_share=0.15,
    ),
    Provider(
        "gcp",
        0.15,
        0.55,
        tuple(
            f"{region}-{zone}"
            for region in (
                "us-central1",
                "us-east1",
                "us-east4",
                "us-west1",
                "europe-west4",
                "europe-west1",
                "asia-east1",
                "asia-southeast1",
            )
            for zone in ("a", "b", "c")
        ),
        ("H100", "H200", "B200", "A100-40", "A100-80", "L4", "T4", "V100-16", "RTXPRO6000", "tpu"),
        0.9,
        (0.25, 0.45),
        1.02,
        6,
        False,
        arm_share=0.2,
    ),
    Provider(
        "oci",
        0.05,
        0.6,
        (
            "us-ashburn-1",
            "us-phoenix-1",
            "eu-frankfurt-1",
            "uk-london-1",
            "ap-tokyo-1",
            "sa-saopaulo-1",
        ),
        ("H100", "A100-80", "A10", "V100-16", "MI300X"),
        0.9,
        (0.5, 0.5),  # OCI preemptible is exactly half and flagged oci-spot
        0.95,
        4,
        False,
        arm_share=0.3,
    ),
    Provider(
        "lambdalabs",
        0.02,
        0.0,
        (
            "us-east-1",
            "us-west-1",
            "us-west-2",
            "us-south-1",
            "us-midwest-1",
            "europe-central-1",
            "asia-northeast-1",
        ),
        ("H100", "A100-40", "A100-80", "A10", "A6000", "GH200", "B200"),
        0.0,
        (1.0, 1.0),
        0.85,
        2,
        True,
    ),
    Provider(
        "runpod",
        0.08,
        0.3,
        ("US-GA-1", "US-TX-3", "US-KS-2", "CA-MTL-1", "EU-RO-1", "EU-SE-1", "EU-NL-1", "AP-JP-1"),
        ("H100", "H200", "A100-80", "L40S", "L4", "RTX4090", "RTX5090", "A6000", "MI300X"),
        0.8,
        (0.45, 0.75),
        0.9,
        2,
        False,
    ),
    Provider(
        "nebius",
        0.04,
        0.5,
        ("eu-north1", "eu-west1", "us-central1", "me-west1"),
        ("H100", "H200", "B200", "L40S"),
        0.5,
        (0.4, 0.6),
        0.95,
        2,
        False,
    ),
    Provider(
        "verda",
        0.04,
        0.3,
        ("FIN-01", "FIN-02", "FIN-03", "ICE-01"),
        ("H100", "H200", "B200", "A100-40", "A100-80", "L40S", "A6000", "RTXPRO6000"),
        0.8,
        (0.3, 0.5),
        0.9,
        4,
        True,
    ),
    Provider(
        "cloudrift",
        0.02,
        0.1,
        ("us-east-nc-nr-1", "us-central-ks-1", "eu-west-nl-1"),
        ("RTX4090", "RTX5090", "RTXPRO6000", "Gaudi2"),
        0.0,
        (1.0, 1.0),
        0.95,
        2,
        True,
    ),
    Provider(
        "vastai",
        0.15,
        0.3,
        ("US", "CA", "DE", "NL", "SE", "NO", "PL", "RO", "JP", "KR", "TW", "AU", "BR", "IN"),
        (
            "RTX4090",
            "RTX5090",
            "A6000",
            "A100-40",
            "A100-80",
            "H100",
            "H200",
            "L40S",
            "V100-16",
            "A800",
            "T4",
        ),
        0.9,
        (0.3, 0.8),
        0.8,
        5,
        True,
    ),
    Provider(
        "crusoe",
        0.02,
        0.2,
        ("us-east1-a", "us-southcentral1-a", "eu-iceland1-a"),
        ("H100", "H200", "A100-80", "L40S", "MI300X"),
        0.0,
        (1.0, 1.0),
        0.95,
        2,
        True,
    ),
    Provider(
        "digitalocean",
        0.03,
        0.7,
        ("nyc2", "tor1", "atl1", "ams3"),
        ("H100", "H200", "L40S", "MI300X", "RTX4090", "A6000"),
        0.0,
        (1.0, 1.0),
        1.1,
        2,
        True,
    ),
    Provider(
        "hotaisle",
        0.01,
        0.0,
        ("us-michigan-1",),
        ("MI300X",),
        0.0,
        (1.0, 1.0),
        0.85,
        2,
        True,
    ),
    Provider(
        "jarvislabs",
        0.01,
        0.2,
        ("IN1", "IN2", "EU1"),
        ("H100", "H200", "A100-40", "A6000", "RTX5090", "L4"),
        0.0,
        (1.0, 1.0),
        0.8,
        2,
        True,
    ),
    Provider(
        "vultr",
        0.05,
        0.6,
        ("ewr", "ord", "dfw", "lax", "ams", "fra", "nrt", "sgp"),
        ("H100", "A100-80", "A100-40", "L40S", "A6000", "MI300X", "A10", "A800"),
        0.0,
        (1.0, 1.0),
        1.0,
        3,
        True,
        arm_share=0.1,
    ),
    Provider(
        "seeweb",
        0.01,
        0.4,
        ("it-fr2", "it-mi2"),
        ("H100", "A100-80", "L4", "RTX5090", "A6000", "L40S"),
        0.0,
        (1.0, 1.0),
        1.05,
        2,
        True,
    ),
)
PROVIDER_NAMES: tuple[str, ...] = tuple(p.name for p in PROVIDERS)

# Marketplace prices that several providers quote to the cent: the source of cross-provider ties.
SHARED_PRICE_POINTS: dict[str, tuple[float, ...]] = {
    "RTX4090": (0.34, 0.39, 0.44, 0.49, 0.59, 0.69),
    "RTX5090": (0.69, 0.79, 0.89, 0.99),
    "A6000": (0.49, 0.59, 0.76, 0.79, 0.8),
    "H100": (1.99, 2.19, 2.49, 2.69, 2.99, 3.29),
    "A100-80": (1.19, 1.29, 1.49, 1.64, 1.79),
    "L40S": (0.79, 0.86, 0.99, 1.14),
    "MI300X": (1.99, 2.49, 2.99),
}
MARKETPLACE = frozenset(
    {"runpod", "vastai", "cloudrift", "jarvislabs", "crusoe", "seeweb", "verda"}
)
# Regional price levels: a small set, so the same instance costs the same in several regions (ties).
REGION_FACTORS: tuple[float, ...] = (1.0, 1.0, 1.0, 1.05, 1.1, 1.15, 1.25)
CPU_SIZES: tuple[int, ...] = (2, 4, 8, 16, 32, 48, 64, 96, 128, 192)
CPU_MEMORY_RATIOS: tuple[tuple[str, float], ...] = (("c", 2.0), ("m", 4.0), ("r", 8.0))
GPU_COUNTS: tuple[int, ...] = (1, 2, 4, 8)
TPU_SLICES: tuple[tuple[str, int, float], ...] = (
    # (version, cores, HBM GB per core) -> gpu_name "<version>-<cores>", memory = whole slice
    ("v5litepod", 1, 16.0),
    ("v5litepod", 4, 16.0),
    ("v5litepod", 8, 16.0),
    ("v5litepod", 16, 16.0),
    ("v5p", 8, 47.5),
    ("v5p", 16, 47.5),
    ("v6e", 8, 32.0),
)


@dataclass(frozen=True)
class Shape:
    """One instance type of one provider: an on-demand row per region, maybe a spot twin."""

    instance_name: str
    cpu: int
    memory_gb: float
    gpu_name: str  # "" for CPU rows
    gpu_count: int
    gpu_memory_gb: float | None
    gpu_vendor: str
    list_price: float
    cpu_arch: str = "x86"
    flags: str = ""
    provider_data: str = ""
    shared_prices: tuple[float, ...] = ()


def _gpu_instance_name(provider: str, key: str, count: int, variant: int) -> str:
    name = key.split("-")[0]
    slug = name.lower()
    if provider == "aws":
        family = {
            "A10G": "g5",
            "L4": "g6",
            "L40S": "g6e",
            "T4": "g4dn",
            "V100": "p3",
            "A100": "p4d",
            "H100": "p5",
            "H200": "p5e",
            "Gaudi2": "dl2",
        }[name]
        if key in ("A100-80", "V100-32"):
            family += "e" if name == "A100" else "dn"
        size = (
            ("xlarge", "2xlarge", "4xlarge", "8xlarge")[variant]
            if count == 1
            else {2: "12xlarge", 4: "24xlarge", 8: "48xlarge"}[count]
        )
        return f"{family}.{size}"
    if provider == "azure":
        return f"Standard_N{slug.upper()}{count * (variant + 1)}s_v{4 + variant}"
    if provider == "gcp":
        if name == "B200":
            return f"a4-highgpu-{count}g"
        if name == "RTXPRO6000":
            return f"g4-standard-{48 * count}"
        gcp_family: str | None = {
            "H100": "a3-highgpu",
            "H200": "a3-ultragpu",
            "A100": "a2-highgpu" if key == "A100-40" else "a2-ultragpu",
            "L4": "g2-standard",
        }.get(name)
        if (
            gcp_family is None
        ):  # GPUs attached to n1 VMs: one machine type carries several GPU types
            return f"n1-standard-{4 * count * (variant + 1)}"
        return f"{gcp_family}-{count}g" if variant == 0 else f"{gcp_family}-{count}g-v{variant}"
    if provider == "oci":
        return f"BM.GPU.{name}.{count}" if count == 8 else f"VM.GPU.{name}.{count}"
    if provider == "vastai":
        return f"{count}x{name}-{variant}"
    return f"{slug}-{count}x" + (f"-v{variant}" if variant else "")


def _cpu_instance_name(provider: str, family: str, cpu: int, arch: str, variant: int) -> str:
    if provider == "aws":
        gen = "7g" if arch == "arm" else ("6i", "7i", "7a", "6a")[variant]
        size = {2: "large", 4: "xlarge"}.get(cpu, f"{cpu // 4}xlarge")
        return f"{family}{gen}.{size}"
    if provider == "azure":
        return f"Standard_{family.upper()}{cpu}{'p' if arch == 'arm' else ''}s_v{5 + variant}"
    if provider == "gcp":
        series = "c4a" if arch == "arm" else ("n2", "c3", "n4", "e2")[variant]
        kind = {"c": "highcpu", "m": "standard", "r": "highmem"}[family]
        return f"{series}-{kind}-{cpu}"
    if provider == "oci":
        # Flex shapes repeat with every CPU/RAM combination
        return (
            "VM.Standard.A1.Flex"
            if arch == "arm"
            else (
                "VM.Standard.E4.Flex",
                "VM.Standard.E5.Flex",
                "VM.Standard3.Flex",
                "VM.Optimized3.Flex",
            )[variant]
        )
    return f"cpu-{family}{'-arm' if arch == 'arm' else ''}-{cpu}" + (
        f"-v{variant}" if variant else ""
    )


def _provider_shapes(p: Provider, rng: random.Random) -> tuple[list[Shape], list[Shape]]:
    """(gpu shapes, cpu shapes) of one provider."""
    gpu: list[Shape] = []
    for key in p.accelerators:
        if key == "tpu":
            for version, cores, hbm in TPU_SLICES:
                name = f"{version}-{cores}"
                gpu.append(
                    Shape(
                        name,
                        0 + max(1, cores) * 24,
                        cores * 48.0,
                        name,
                        1,
                        hbm * cores,
                        "google",
                        1.2 * cores * (3.5 if version == "v5p" else 1.0),
                    )
                )
            continue
        acc = ACCELERATORS[key]
        variants = 4 if p.name in ("aws", "azure", "gcp", "vastai") else 2
        for count in GPU_COUNTS:
            for variant in range(variants if count == 1 else 1 + variants // 2):
                cpu = acc.cpu_per_gpu * count * (1 + variant) // (1 if count == 1 else 2) or 1
                cpu = max(2, cpu - cpu % 2)
                memory = round(
                    acc.memory_per_gpu * count * (1 + variant) / (1 if count == 1 else 2), 1
                )
                price = acc.price_per_gpu * count * (1 + 0.08 * variant) * p.price_factor
                flags = ""
                data = ""
                arch = acc.arch
                if p.name == "gcp":
                    data = json.dumps({"is_dws_calendar_mode": False})
                    if key == "B200":
                        flags = "gcp-a4"
                if p.name == "lambdalabs" and arch == "arm":
                    flags = "lambda-arm"
                if p.name == "hotaisle":
                    flags = "hotaisle-bm"
                name = _gpu_instance_name(p.name, key, count, variant)
                shared = SHARED_PRICE_POINTS.get(key, ()) if p.name in MARKETPLACE else ()
                shape = Shape(
                    name,
                    cpu,
                    memory,
                    acc.name,
                    count,
                    acc.memory_gb,
                    acc.vendor,
                    price,
                    arch,
                    flags,
                    data,
                    shared,
                )
                gpu.append(shape)
                if p.name == "gcp" and key == "RTXPRO6000":
                    # gcp publishes every g4 offer twice: once per flag
                    gpu[-1] = replace(shape, flags="gcp-g4")
                    gpu.append(replace(shape, flags="gcp-g4-preview"))
                if p.name == "gcp" and key == "H100" and count == 8:
                    calendar = json.dumps({"is_dws_calendar_mode": True})
                    gpu.append(
                        replace(
                            shape,
                            list_price=price * 0.8,
                            flags="gcp-dws-calendar-mode",
                            provider_data=calendar,
                            shared_prices=(),
                        )
                    )
                if p.name == "runpod" and count > 1:
                    pods = json.dumps({"pod_counts": list(range(2, 9))})
                    gpu.append(
                        replace(
                            shape,
                            list_price=price * 1.1,
                            flags="runpod-cluster",
                            provider_data=pods,
                        )
                    )
    cpu_shapes: list[Shape] = []
    variants = 4 if p.name in ("aws", "azure", "gcp", "oci") else 2
    for family, ratio in CPU_MEMORY_RATIOS:
        for cpu in CPU_SIZES:
            for arch in ("x86", "arm") if p.arm_share else ("x86",):
                for variant in range(variants if arch == "x86" else 1):
                    per_vcpu = (0.021 if family == "c" else 0.024 if family == "m" else 0.032) * (
                        0.8 if arch == "arm" else 1.0
                    )
                    price = cpu * per_vcpu * (1 + 0.06 * variant) * p.price_factor
                    flags = "runpod-cpu" if p.name == "runpod" else ""
                    data = json.dumps({"is_dws_calendar_mode": False}) if p.name == "gcp" else ""
                    cpu_shapes.append(
                        Shape(
                            _cpu_instance_name(p.name, family, cpu, arch, variant),
                            cpu,
                            float(cpu * ratio),
                            "",
                            0,
                            None,
                            "",
                            price,
                            arch,
                            flags,
                            data,
                        )
                    )
    del rng
    return gpu, cpu_shapes


def _round(price: float, decimals: int) -> float:
    return max(round(price, decimals), 10.0**-decimals)


def _shape_rows(p: Provider, shapes: list[Shape], quota: int, rng: random.Random) -> Iterator[Row]:
    """Rows of one pool (GPU or CPU shapes): every (shape, region) once in a shuffled order, then again
    as a new "generation" (instance names suffixed) until the quota is met."""
    combos = [(s, r) for s in shapes for r in p.regions]
    emitted = 0
    generation = 0
    while emitted < quota:
        rng.shuffle(combos)
        for shape, region in combos:
            if emitted >= quota:
                return
            name = (
                shape.instance_name if generation == 0 else f"{shape.instance_name}-g{generation}"
            )
            region_factor = rng.choice(REGION_FACTORS)
            if shape.shared_prices and rng.random() < 0.5:
                price = rng.choice(shape.shared_prices) * shape.gpu_count
                price = round(price, 2)
            else:
                price = _round(
                    shape.list_price * region_factor * (1 + 0.03 * generation), p.decimals
                )
            twins = [(False, price)]
            if rng.random() < p.spot_twin:
                low, high = p.spot_factor
                twins.append((True, _round(price * rng.uniform(low, high), p.decimals)))
            for spot, row_price in twins:
                if emitted >= quota:
                    return
                yield _row(p, shape, name, region, row_price, spot, rng)
                emitted += 1
        generation += 1


def _row(
    p: Provider, s: Shape, name: str, region: str, price: float, spot: bool, rng: random.Random
) -> Row:
    gpu_name = s.gpu_name
    vendor = s.gpu_vendor
    flags = s.flags
    data = s.provider_data
    gpu_memory = "" if s.gpu_memory_gb is None else str(float(s.gpu_memory_gb))
    if vendor == "google":
        if rng.random() < 0.3:  # old TPU encoding: prefixed name, vendor left empty
            gpu_name, vendor = f"tpu-{gpu_name}", ""
    elif vendor == "nvidia":
        roll = rng.random()
        if roll < 0.05:
            vendor = ""  # read as nvidia because gpu_count > 0
        elif roll < 0.07:
            vendor = "NVIDIA"
    elif vendor == "amd" and rng.random() < 0.05:
        vendor = "AMD"
    if s.gpu_count and p.name in ("vastai", "runpod", "cloudrift") and rng.random() < 0.03:
        gpu_memory = ""
    if gpu_name and vendor != "" and rng.random() < 0.02:
        gpu_name = rng.choice((gpu_name.lower(), gpu_name.upper(), gpu_name.capitalize()))
    if spot and p.name == "oci":
        flags = "oci-spot"
    if spot and p.name == "vastai":
        data = json.dumps({"min_bid": round(price * 0.8, 5)})
    if rng.random() < 0.02:
        spot_text = (
            rng.choice(("TRUE", "true", "FALSE", "false"))
            if spot
            else rng.choice(("FALSE", "false"))
        )
        if spot and spot_text.lower() == "false":
            spot_text = "TRUE"
    else:
        spot_text = str(spot)
    arch = s.cpu_arch
    if arch == "x86" and rng.random() < 0.2:
        arch = ""  # catalogs older than the column
    elif arch == "arm" and rng.random() < 0.05:
        arch = "ARM"
    disk = p.disk if p.name != "vastai" else rng.random() > 0.02
    disk_size = (
        str(float(rng.choice((100, 200, 256, 500, 512, 1000)) * max(1, s.gpu_count)))
        if disk
        else ""
    )
    memory = s.memory_gb * 1.074 if p.name == "lambdalabs" else s.memory_gb
    return {
        "instance_name": name,
        "location": region,
        "price": str(price),
        "cpu": str(s.cpu),
        "memory": str(round(float(memory), 2)),
        "gpu_count": str(s.gpu_count),
        "gpu_name": gpu_name,
        "gpu_memory": gpu_memory,
        "spot": spot_text,
        "disk_size": disk_size,
        "gpu_vendor": vendor,
        "flags": flags,
        "cpu_arch": arch,
        "provider_data": data if data or rng.random() < 0.5 else "{}",
    }


def _malformed(template: Row, kind: int) -> Row:
    row = dict(template)
    if kind == 0:
        row["cpu"] = f"{row['cpu']}.0"  # int("8.0") fails
    elif kind == 1:
        row["spot"] = "yes"
    elif kind == 2:
        row["gpu_vendor"] = "acme"  # not an AcceleratorVendor
    elif kind == 3:
        row["cpu_arch"] = "sparc"
    elif kind == 4:
        row["location"] = ""
    else:
        row["provider_data"] = "{not json"
    return row


def generate_catalog(
    rows: int = 10_000,
    *,
    seed: int = 0,
    providers: Sequence[str] | None = None,
    malformed: int = 0,
    duplicate_share: float = 0.005,
) -> dict[str, list[Row]]:
    """Rows per provider, each list ascending by price (stable), ``rows`` well-formed rows in total
    plus ``malformed`` rows that gpuhunt's loader skips. Same arguments, same output."""
    return dict(
        iter_catalog(
            rows,
            seed=seed,
            providers=providers,
            malformed=malformed,
            duplicate_share=duplicate_share,
        )
    )


def iter_catalog(
    rows: int = 10_000,
    *,
    seed: int = 0,
    providers: Sequence[str] | None = None,
    malformed: int = 0,
    duplicate_share: float = 0.005,
) -> Iterator[tuple[str, list[Row]]]:
    """``generate_catalog`` one provider at a time (a 1M-row catalog never sits in memory whole)."""
    if rows < 0 or malformed < 0:
        raise ValueError("rows and malformed must be >= 0")
    chosen = [p for p in PROVIDERS if providers is None or p.name in providers]
    unknown = set(providers or ()) - set(PROVIDER_NAMES)
    if unknown:
        raise ValueError(
            f"unknown providers: {sorted(unknown)}; known: {', '.join(PROVIDER_NAMES)}"
        )
    if not chosen:
        raise ValueError("no providers chosen")
    total_weight = sum(p.weight for p in chosen)
    quotas = [int(rows * p.weight / total_weight) for p in chosen]
    quotas[0] += rows - sum(quotas)
    for index, (p, quota) in enumerate(zip(chosen, quotas, strict=True)):
        rng = random.Random(f"{seed}:{p.name}")
        gpu_shapes, cpu_shapes = _provider_shapes(p, rng)
        cpu_quota = round(quota * p.cpu_share)
        provider_rows: list[Row] = []
        for row in _shape_rows(p, gpu_shapes, quota - cpu_quota, rng):
            provider_rows.append(row)
        for row in _shape_rows(p, cpu_shapes, cpu_quota, rng):
            provider_rows.append(row)
        # Exact duplicates (the format allows them; gpuhunt keeps them): replace random rows.
        duplicates = int(len(provider_rows) * duplicate_share)
        for _ in range(duplicates):
            target, source = rng.randrange(len(provider_rows)), rng.randrange(len(provider_rows))
            provider_rows[target] = dict(provider_rows[source])
        provider_rows.sort(key=lambda r: float(r["price"]))
        share = malformed // len(chosen) + (1 if index < malformed % len(chosen) else 0)
        for kind in range(share):
            if not provider_rows:
                break
            position = rng.randrange(len(provider_rows))
            provider_rows.insert(position, _malformed(provider_rows[position], (kind + index) % 6))
        yield p.name, provider_rows


def _csv_bytes(rows: list[Row]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)  # default dialect: "\r\n" line ends
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class WrittenCatalog:
    root: Path
    rows: int  # well-formed rows
    providers: tuple[str, ...]
    directory: Path | None  # <root>/<provider>.csv files when layout "dir" was written
    zip_path: Path | None
    v3_base: Path | None  # the v3 layout's base; gpuhunt: GPUHUNT_CATALOG_URL=file://<v3_base>
    version: str


def write_catalog(
    out: str | Path,
    rows: int = 10_000,
    *,
    seed: int = 0,
    providers: Sequence[str] | None = None,
    layouts: Sequence[str] = ("dir",),
    malformed: int = 0,
    version: str = DEFAULT_VERSION,
) -> WrittenCatalog:
    """Generate a catalog and write it in the requested layouts under ``out``."""
    bad = set(layouts) - set(LAYOUTS)
    if bad:
        raise ValueError(f"unknown layouts {sorted(bad)}; known: {', '.join(LAYOUTS)}")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    directory = root if "dir" in layouts else None
    zip_path = root / "catalog.zip" if "zip" in layouts else None
    v3_base = root / "v3" if "v3" in layouts else None
    names: list[str] = []
    archive = zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) if zip_path else None
    try:
        for name, provider_rows in iter_catalog(
            rows, seed=seed, providers=providers, malformed=malformed
        ):
            names.append(name)
            data = _csv_bytes(provider_rows)
            del provider_rows
            if directory is not None:
                (directory / f"{name}.csv").write_bytes(data)
            if archive is not None:
                archive.writestr(f"{name}.csv", data)
            if v3_base is not None:
                _write_v3(v3_base, name, version, data)
    finally:
        if archive is not None:
            archive.close()
    return WrittenCatalog(root, rows, tuple(names), directory, zip_path, v3_base, version)


def _write_v3(v3_base: Path, name: str, version: str, data: bytes) -> None:
    provider_dir = v3_base / name
    (provider_dir / version).mkdir(parents=True, exist_ok=True)
    (provider_dir / "latest").mkdir(exist_ok=True)
    (provider_dir / "version").write_text(f"{version}\n")
    for target in (provider_dir / version / "catalog.zip", provider_dir / "latest" / "catalog.zip"):
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{name}.csv", data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m benchmarks.generate_catalog", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--rows", type=int, default=10_000, help="well-formed rows in total (default 10000)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output directory (created)")
    parser.add_argument(
        "--layout", action="append", choices=LAYOUTS, help="repeatable; default: dir"
    )
    parser.add_argument(
        "--provider", action="append", choices=PROVIDER_NAMES, help="repeatable; default: all"
    )
    parser.add_argument(
        "--malformed", type=int, default=0, help="extra malformed rows (gpuhunt skips them)"
    )
    parser.add_argument(
        "--version", default=DEFAULT_VERSION, help="version string of the v3 layout"
    )
    args = parser.parse_args(argv)
    written = write_catalog(
        args.out,
        args.rows,
        seed=args.seed,
        providers=args.provider,
        layouts=args.layout or ("dir",),
        malformed=args.malformed,
        version=args.version,
    )
    print(
        f"{written.rows} rows over {len(written.providers)} providers in {written.root}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
