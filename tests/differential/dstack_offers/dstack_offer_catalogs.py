"""Seeded generators of small gpuhunt catalogs that exercise dstack's per-backend offer rules.

Each provider gets a few instance shapes chosen so that every rule has rows on both of its sides:
family allowlists (types in and out), default region lists (regions in and out), GCP zones of one
region and the merge key (N1 GPU-count variants, DWS twins, K80, multi-host and single-host TPUs,
``gcp-g4-preview``), RunPod Secure and Community regions, CPU flavours with small and large disk
maxima and cluster rows, Lambda fixed disks below and above 100 GB and an ARM row, OCI Flex shapes
and preemptible rows, Nebius platforms in and out with spot prices of many decimals and flat-rate
spot rows, Verda spot and on-demand. Prices are drawn from a coarse grid, so ties occur inside a
provider and across providers. Rows are written price-ascending per provider (stable), as the
published catalogs are.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Row = dict[str, str]


@dataclass(frozen=True)
class Shape:
    name: str
    cpu: int
    memory: float
    gpu_count: int = 0
    gpu_name: str = ""
    gpu_memory: float | None = None
    vendor: str = ""
    base_price: float = 0.1
    flags: str = ""
    arch: str = "x86"
    provider_data: str = ""
    disk: float | None = None
    spot: bool = True  # whether spot rows may be generated


def _gpu(
    name: str, cpu: int, mem: float, count: int, gpu: str, gmem: float, price: float, **kw: object
) -> Shape:
    return Shape(name, cpu, mem, count, gpu, gmem, "nvidia", price, **kw)


_GCP_DWS = json.dumps({"is_dws_calendar_mode": True})
_GCP_TPU = "google"

SHAPES: dict[str, list[Shape]] = {
    "aws": [
        _gpu("g5.xlarge", 4, 16, 1, "A10G", 24, 1.0),
        _gpu("g4dn.xlarge", 4, 16, 1, "T4", 16, 0.5),
        _gpu("g6e.2xlarge", 8, 64, 1, "L40S", 48, 2.2),
        _gpu("p4d.24xlarge", 96, 1152, 8, "A100", 40, 32.0),
        _gpu("p3.2xlarge", 8, 61, 1, "V100", 16, 3.0),  # family not allowed
        Shape("m5.large", 2, 8, base_price=0.1),
        Shape("c5.xlarge", 4, 8, base_price=0.2),
        Shape("t3.medium", 2, 4, base_price=0.05),
        Shape("t2.small", 1, 2, base_price=0.02),
        Shape("t2.micro", 1, 1, base_price=0.01),  # not allowed (only t2.small)
        Shape("m6i.large", 2, 8, base_price=0.1),  # not allowed
        Shape("inf2.xlarge", 4, 16, base_price=0.8),  # not allowed
    ],
    "gcp": [
        _gpu("n1-standard-4", 4, 15, 1, "T4", 16, 0.5),
        _gpu("n1-standard-4", 4, 15, 2, "T4", 16, 0.9),
        _gpu("n1-standard-4", 4, 15, 4, "T4", 16, 1.6),
        _gpu("n1-standard-8", 8, 30, 1, "K80", 12, 0.6),  # K80: dropped
        _gpu("g2-standard-4", 4, 16, 1, "L4", 24, 0.7),
        _gpu("g2-standard-24", 24, 96, 2, "L4", 24, 2.0),
        _gpu("a2-highgpu-1g", 12, 85, 1, "A100", 40, 3.7),
        _gpu("a3-highgpu-8g", 208, 1872, 8, "H100", 80, 88.0),
        _gpu(
            "a3-highgpu-8g",
            208,
            1872,
            8,
            "H100",
            80,
            40.0,
            flags="gcp-dws-calendar-mode",
            provider_data=_GCP_DWS,
            spot=False,
        ),
        _gpu("g4-standard-48", 48, 180, 1, "RTXPRO6000", 96, 4.5, flags="gcp-g4"),
        _gpu("g4-standard-96", 96, 360, 2, "RTXPRO6000", 96, 8.5, flags="gcp-g4-preview"),
        Shape("v5litepod-4", 112, 192, 4, "v5litepod", 16, _GCP_TPU, 4.8),
        Shape("v5litepod-16", 224, 384, 16, "v5litepod", 16, _GCP_TPU, 19.2),  # multi-host
        Shape("v4-8", 240, 407, 4, "v4", 32, _GCP_TPU, 12.9),  # v4: dropped
        Shape("v2-8", 96, 334, 4, "tpu-v2", 8, "", 4.5),  # old TPU encoding
        Shape("e2-standard-4", 4, 16, base_price=0.13),
        Shape("n2-standard-8", 8, 32, base_price=0.39),
        Shape("n1-standard-1", 1, 3.75, base_price=0.05),  # CPU n1: dropped
        Shape("c2-standard-4", 4, 16, base_price=0.2),  # CPU c2: dropped
    ],
    "azure": [
        _gpu("Standard_NC4as_T4_v3", 4, 28, 1, "T4", 16, 0.5),
        _gpu("Standard_NC24ads_A100_v4", 24, 220, 1, "A100", 80, 3.7),
        _gpu("Standard_NV36ads_A10_v5", 36, 440, 1, "A10", 24, 3.2),
        _gpu("Standard_NC6", 6, 56, 1, "K80", 12, 0.9),  # series not allowed
        _gpu("Standard_NC6s_v3", 6, 112, 1, "V100", 16, 3.0),
        Shape("Standard_D4s_v6", 4, 16, base_price=0.2),
        Shape("Standard_E8is_v6", 8, 64, base_price=0.5),
        Shape("Standard_F8s_v2", 8, 16, base_price=0.34),
        Shape("Standard_D4s_v5", 4, 16, base_price=0.19),  # not allowed
    ],
    "oci": [
        _gpu("VM.GPU.A10.1", 15, 240, 1, "A10", 24, 2.0),
        _gpu("BM.GPU4.8", 64, 2048, 8, "A100", 40, 24.4),
        _gpu("VM.GPU2.1", 12, 72, 1, "P100", 16, 1.3),  # family not allowed
        Shape("VM.Standard2.4", 4, 60, base_price=0.25),
        Shape("VM.Standard.E4.Flex", 4, 16, base_price=0.1),  # Flex: not allowed
        Shape("BM.Standard.E4.128", 128, 2048, base_price=3.2),
    ],
    "lambdalabs": [
        _gpu("gpu_1x_a10", 30, 214.8, 1, "A10", 24, 0.75, disk=1503.6, spot=False),
        _gpu("gpu_1x_a100_sxm4", 30, 214.8, 1, "A100", 40, 1.29, disk=53.7, spot=False),
        _gpu("gpu_8x_h100_sxm5", 208, 1933.2, 8, "H100", 80, 23.92, disk=26843.5, spot=False),
        _gpu(
            "gpu_1x_gh200",
            64,
            463.9,
            1,
            "GH200",
            96,
            1.49,
            arch="arm",
            flags="lambda-arm",
            disk=4187.2,
            spot=False,
        ),
    ],
    "runpod": [
        _gpu("NVIDIA A40", 9, 50, 1, "A40", 48, 0.4, spot=False),
        _gpu("NVIDIA RTX 4090", 16, 62, 1, "RTX4090", 24, 0.7, spot=False),
        _gpu("NVIDIA H100 80GB HBM3", 24, 251, 2, "H100", 80, 5.0, spot=False),
        _gpu(
            "NVIDIA H100 80GB HBM3",
            24,
            251,
            8,
            "H100",
            80,
            20.0,
            flags="runpod-cluster",
            provider_data=json.dumps({"pod_counts": [2, 4]}),
            spot=False,
        ),
        Shape("cpu3c-2-4", 2, 4, base_price=0.06, flags="runpod-cpu", disk=20.0, spot=False),
        Shape("cpu3g-8-32", 8, 32, base_price=0.24, flags="runpod-cpu", disk=160.0, spot=False),
    ],
    "nebius": [
        _gpu("gpu-h100-sxm 1gpu-16vcpu-200gb", 16, 200, 1, "H100", 80, 2.95),
        _gpu("gpu-h100-sxm 8gpu-128vcpu-1600gb", 128, 1600, 8, "H100", 80, 23.6),
        _gpu(
            "gpu-l40s-a 1gpu-8vcpu-32gb",
            8,
            32,
            1,
            "L40S",
            48,
            1.55,
            provider_data=json.dumps({"is_preemptible_flat_rate": True}),
        ),
        _gpu("gpu-l40s-x 1gpu-8vcpu-32gb", 8, 32, 1, "L40S", 48, 1.6),  # platform not allowed
        Shape("cpu-d3 4vcpu-16gb", 4, 16, base_price=0.1),
        Shape("cpu-e1 4vcpu-16gb", 4, 16, base_price=0.09),  # platform not allowed
    ],
    "verda": [
        _gpu("1V100.6V", 6, 23, 1, "V100", 16, 0.39),
        _gpu("1A100.22V", 22, 120, 1, "A100", 80, 1.29),
        _gpu("8H100.80S.176V", 176, 1480, 8, "H100", 80, 19.0),
        Shape("CPU.4V.16G", 4, 16, base_price=0.03),
    ],
}

REGIONS: dict[str, list[str]] = {
    # default regions first, then regions outside dstack's default lists
    "aws": ["us-east-1", "eu-west-1", "us-west-2", "ap-south-1"],
    "gcp": [
        "us-central1-a",
        "us-central1-b",
        "us-central1-c",
        "us-central1-f",
        "europe-west4-a",
        "europe-west4-b",
        "europe-west4-c",
        "asia-east1-a",
        "me-central2-a",
    ],
    "azure": ["eastus", "westeurope", "japaneast"],
    "oci": ["us-ashburn-1", "eu-frankfurt-1", "ap-tokyo-1"],
    "lambdalabs": ["us-east-1", "us-west-1", "europe-central-1"],
    "runpod": ["EU-SE-1", "US-TX-3", "CA-MTL-1", "CA", "US", "NL"],
    "nebius": ["eu-north1", "eu-west1", "us-central1"],
    "verda": ["FIN-01", "FIN-02", "ICE-01"],
}

_GRID = (0.9, 1.0, 1.0, 1.0, 1.1, 1.25)


def _price(rng: random.Random, base: float) -> float:
    return round(base * rng.choice(_GRID), 2)


def _row(provider: str, s: Shape, location: str, price: float, spot: bool) -> Row:
    flags = s.flags
    if provider == "oci" and spot:
        flags = "oci-spot"
    return {
        "instance_name": s.name,
        "location": location,
        "price": repr(price),
        "cpu": str(s.cpu),
        "memory": str(s.memory),
        "gpu_count": str(s.gpu_count),
        "gpu_name": s.gpu_name,
        "gpu_memory": "" if s.gpu_memory is None else str(float(s.gpu_memory)),
        "spot": str(spot),
        "disk_size": "" if s.disk is None else str(s.disk),
        "gpu_vendor": s.vendor,
        "flags": flags,
        "cpu_arch": s.arch,
        "provider_data": s.provider_data,
    }


def _spot_price(rng: random.Random, provider: str, s: Shape, price: float) -> float:
    if provider == "oci":
        return round(price * 0.5, 4)
    if provider == "nebius":
        # Nebius spot prices carry many decimals; dstack rounds them up per GPU
        units = s.gpu_count or 1
        return round(price * 0.5 + units * rng.choice((0.0, 0.00001, 0.0004567, 0.0123456)), 7)
    return round(price * rng.choice((0.3, 0.4, 0.4, 0.5)), 2)


def generate(
    seed: int,
    providers: Sequence[str] | None = None,
    *,
    regions_per_shape: tuple[int, int] = (1, 4),
    spot_share: float = 0.6,
    skip_share: float = 0.15,
) -> dict[str, list[Row]]:
    """A small catalog per provider (``None``: all eight), deterministic in ``seed``."""
    rng = random.Random(seed)
    out: dict[str, list[Row]] = {}
    for provider in providers or list(SHAPES):
        rows: list[Row] = []
        regions = REGIONS[provider]
        for shape in SHAPES[provider]:
            if rng.random() < skip_share:
                continue  # not every shape in every catalog
            low, high = regions_per_shape
            count = rng.randint(min(low, len(regions)), min(high, len(regions)))
            for location in rng.sample(regions, count):
                price = _price(rng, shape.base_price)
                rows.append(_row(provider, shape, location, price, False))
                if shape.spot and rng.random() < spot_share:
                    rows.append(
                        _row(
                            provider,
                            shape,
                            location,
                            _spot_price(rng, provider, shape, price),
                            True,
                        )
                    )
        rows.sort(key=lambda r: float(r["price"]))  # stable: the published order
        out[provider] = rows
    return out


def rows_of(catalog: Mapping[str, Sequence[Row]], provider: str, name: str) -> list[Row]:
    return [row for row in catalog.get(provider, []) if row["instance_name"] == name]
