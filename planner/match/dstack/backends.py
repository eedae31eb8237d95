"""dstack 0.22.5's backends as rules over catalog rows: default regions, family allowlists, disks.

One ``BackendRules`` per backend type, the facts of docs/dstack-offers.md in one table. The
per-row work is done in ``pipeline.py``; the predicates here run once per *category* (instance
type, location, GPU name), never per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from planner.config.dstack_settings import BackendSettings

GB_PER_TB: Final = 1024.0

# Where dstack publishes its images: the regions a backend answers for when `regions` is unset.
AWS_REGIONS: Final = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-southeast-1",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
)
AZURE_REGIONS: Final = (
    "centralus",
    "eastus",
    "eastus2",
    "southcentralus",
    "westus2",
    "westus3",
    "canadacentral",
    "francecentral",
    "germanywestcentral",
    "northeurope",
    "swedencentral",
    "uksouth",
    "westeurope",
    "southeastasia",
    "eastasia",
    "brazilsouth",
)
GCP_REGIONS: Final = (
    "northamerica-northeast1",
    "northamerica-northeast2",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
    "southamerica-east1",
    "southamerica-west1",
    "europe-central2",
    "europe-north1",
    "europe-southwest1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-south2",
    "asia-southeast1",
    "asia-southeast2",
    "me-west1",
    "australia-southeast1",
    "australia-southeast2",
)
# OCI answers for the tenancy's subscribed regions among these (the subscription is live).
OCI_REGIONS: Final = (
    "eu-frankfurt-1",
    "eu-milan-1",
    "me-dubai-1",
    "uk-london-1",
    "us-ashburn-1",
    "us-chicago-1",
    "us-phoenix-1",
)

_AWS_FAMILIES: Final = (
    "m7i.",
    "c7i.",
    "r7i.",
    "t3.",
    "t2.small",
    "c5.",
    "m5.",
    "p6-b300.",
    "p6-b200.",
    "p5.",
    "p5e.",
    "p5en.",
    "p4d.",
    "p4de.",
    "g7.",
    "g7e.",
    "g6.",
    "g6e.",
    "gr6.",
    "g5.",
    "g4dn.",
)
_GCP_FAMILIES: Final = (
    "m4-",
    "c4-",
    "n4-",
    "h3-",
    "n2-",
    "e2-medium",
    "e2-standard-",
    "e2-highmem-",
    "e2-highcpu-",
    "m1-",
    "a2-",
    "a3-",
    "g2-",
)
_GCP_OLD_GPUS: Final = frozenset({"K80", "P4", "P100"})
_GCP_SINGLE_HOST_TPUS: Final = frozenset({"v2", "v3", "v5p", "v5litepod", "v6e"})
_AZURE_SERIES: Final = re.compile(
    "^Standard_("
    + "|".join(
        f"({series})"
        for series in (
            r"D(\d+)s_v6",
            r"E(\d+)i?s_v6",
            r"F(\d+)s_v2",
            r"NC(\d+)s_v3",
            r"NC(\d+)as_T4_v3",
            r"ND(\d+)rs_v2",
            r"NV(\d+)adm?s_A10_v5",
            r"NC(\d+)ads_A100_v4",
            r"NC(\d+)adi?s_H100_v5",
            r"ND(\d+)asr_v4",
            r"ND(\d+)amsr_A100_v4",
            r"ND(\d+)isr_H200_v5",
        )
    )
    + ")$"
)
_OCI_FAMILIES: Final = (
    "VM.Standard2.",
    "BM.Standard2.",
    "BM.Standard3.",
    "BM.Standard.E3.",
    "BM.Standard.E4.",
    "BM.Standard.E5.",
    "BM.Optimized3.",
    "VM.GPU3.",
    "BM.GPU3.",
    "BM.GPU4.",
    "VM.GPU.A10.",
    "BM.GPU.A10.",
)
_NEBIUS_PLATFORMS: Final = frozenset(
    {
        "gpu-h100-sxm",
        "gpu-h200-sxm",
        "gpu-b200-sxm",
        "gpu-b200-sxm-a",
        "gpu-l40s-a",
        "gpu-l40s-d",
        "gpu-rtx6000",
        "cpu-d3",
        "cpu-e2",
    }
)
_VULTR_FAMILIES: Final = re.compile(
    "|".join(
        (
            r"vbm-\d+c-\d+gb-\d+-(a100|h100|l40|mi300x)-gpu",
            r"vbm-\d+c-\d+gb-amd",
            r"vbm-\d+c-\d+gb(-v\d+)?",
            r"vcg-(a16|a40|l40s|a100)-\d+c-\d+g-\d+vram",
            r"vc2-\d+c-\d+gb(-sc1)?",
            r"vhf-\d+c-\d+gb(-sc1)?",
            r"vhp-\d+c-\d+gb-(intel|amd)(-sc1)?",
            r"voc-[cgms]-\d+c-\d+gb-\d+s-amd(-sc1)?",
        )
    )
)

# A predicate on an instance-type name, given the backend's settings.
InstanceFilter = Callable[[str, BackendSettings], bool]


def _aws_instance(name: str, settings: BackendSettings) -> bool:
    return name in settings.experimental_instance_types or name.startswith(_AWS_FAMILIES)


def _azure_instance(name: str, _: BackendSettings) -> bool:
    return _AZURE_SERIES.match(name) is not None


def _oci_instance(name: str, settings: BackendSettings) -> bool:
    if name in settings.experimental_instance_types:
        return True
    return "Flex" not in name and name.startswith(_OCI_FAMILIES)


def _nebius_instance(name: str, _: BackendSettings) -> bool:
    platform = name.split()[0] if name.split() else ""
    return platform in _NEBIUS_PLATFORMS


def _vultr_instance(name: str, _: BackendSettings) -> bool:
    return name != "vbm-4c-32gb" and _VULTR_FAMILIES.fullmatch(name) is not None


def gcp_is_tpu(name: str, tpu_versions: frozenset[str]) -> bool:
    """dstack's ``_is_tpu``: ``<known TPU version>-<digits>``."""
    parts = name.split("-")
    return len(parts) == 2 and parts[0] in tpu_versions and parts[1].isdigit()


def gcp_supported(name: str, gpu_name: str | None, tpu_versions: frozenset[str]) -> bool:
    """dstack's ``_is_supported_gcp_instance``: single-host TPUs, the families, or a recent GPU."""
    if gcp_is_tpu(name, tpu_versions) and not _gcp_single_host_tpu(name):
        return False
    if name.startswith(_GCP_FAMILIES):
        return True
    return gpu_name is not None and gpu_name not in _GCP_OLD_GPUS


def _gcp_single_host_tpu(name: str) -> bool:
    parts = name.split("-")
    if len(parts) != 2 or not parts[1].isdigit():
        return False
    return parts[0] in _GCP_SINGLE_HOST_TPUS and int(parts[1]) <= 8


@dataclass(frozen=True)
class BackendRules:
    """How one dstack backend type turns its provider's catalog rows into offers."""

    type: str
    provider: str  # the gpuhunt provider whose rows it offers
    default_regions: tuple[str, ...] | None = None  # None: every region of the catalog
    empty_regions_mean_all: bool = True  # `regions or None` (False: `[]` answers for none)
    zone_locations: bool = False  # gcp: a location is a zone, region = location[:-2]
    instance_filter: InstanceFilter | None = None
    # A configurable disk as (min, max) GB (max None: no maximum); None: the catalog's fixed disk.
    disk_range: tuple[float, float | None] | None = None
    # runpod: a CPU flavour's disk is configurable up to the catalog disk.
    cpu_disk_up_to_catalog: bool = False
    # Requirements go to gpuhunt with the raw rows (vastai, lium, seeweb, daytona): no MiB
    # round trip, no disk fitting.
    filtered_per_request: bool = False
    community_regions_opt_in: bool = False  # runpod: country-code regions need community_cloud
    tpu_opt_in: bool = False  # gcp: TPUs need `tpu: true`
    spot_price_rounding: bool = False  # nebius: spot price per GPU rounded up to $0.001
    drop_cluster_rows: bool = False  # runpod: multi-pod offers only for multinode runs
    drop_spot: bool = False  # vultr
    mi300x_only: bool = False  # hotaisle

    def regions(self, settings: BackendSettings) -> tuple[str, ...] | None:
        """The locations (gcp: regions) the backend queries; None: all."""
        if settings.regions is None:
            return self.default_regions
        if not settings.regions and self.empty_regions_mean_all:
            return None
        return settings.regions


_RULES: Final[tuple[BackendRules, ...]] = (
    BackendRules(
        "aws",
        "aws",
        default_regions=AWS_REGIONS,
        empty_regions_mean_all=False,
        instance_filter=_aws_instance,
        disk_range=(100.0, 16 * GB_PER_TB),
    ),
    BackendRules(
        "azure",
        "azure",
        default_regions=AZURE_REGIONS,
        empty_regions_mean_all=False,
        instance_filter=_azure_instance,
        disk_range=(30.0, 4095.0),
    ),
    BackendRules(
        "gcp",
        "gcp",
        default_regions=GCP_REGIONS,
        empty_regions_mean_all=False,
        zone_locations=True,
        tpu_opt_in=True,
        disk_range=(20.0, 32 * GB_PER_TB),
    ),
    BackendRules("lambda", "lambdalabs"),
    BackendRules(
        "runpod",
        "runpod",
        disk_range=(1.0, None),
        cpu_disk_up_to_catalog=True,
        community_regions_opt_in=True,
        drop_cluster_rows=True,
    ),
    BackendRules("vastai", "vastai", filtered_per_request=True),
    BackendRules(
        "oci",
        "oci",
        default_regions=OCI_REGIONS,
        empty_regions_mean_all=False,
        instance_filter=_oci_instance,
        disk_range=(50.0, 32 * GB_PER_TB),
    ),
    BackendRules(
        "nebius",
        "nebius",
        instance_filter=_nebius_instance,
        disk_range=(40.0, 8192.0),
        spot_price_rounding=True,
    ),
    BackendRules("verda", "verda", empty_regions_mean_all=False, disk_range=(50.0, None)),
    BackendRules("datacrunch", "verda", empty_regions_mean_all=False, disk_range=(50.0, None)),
    BackendRules("cloudrift", "cloudrift"),
    BackendRules("digitalocean", "digitalocean", empty_regions_mean_all=False),
    BackendRules("amddevcloud", "digitalocean", empty_regions_mean_all=False),
    BackendRules("hotaisle", "hotaisle", mi300x_only=True),
    BackendRules("jarvislabs", "jarvislabs", disk_range=(100.0, None)),
    BackendRules("vultr", "vultr", instance_filter=_vultr_instance, drop_spot=True),
    BackendRules("crusoe", "crusoe", disk_range=(50.0, 5000.0)),
    BackendRules("lium", "lium", filtered_per_request=True),
    BackendRules("seeweb", "seeweb", filtered_per_request=True),
    BackendRules("daytona", "daytona", filtered_per_request=True),
)

# Backend type -> its rules. Types not here (kubernetes, slurm, remote, dstack, cudo, tensordock)
# have no catalog offers.
BACKEND_RULES: Final[Mapping[str, BackendRules]] = MappingProxyType(
    {rules.type: rules for rules in _RULES}
)
# With no server configuration: one backend per catalog provider, with default settings.
DEFAULT_BACKEND_OF_PROVIDER: Final[Mapping[str, str]] = MappingProxyType(
    {
        "aws": "aws",
        "azure": "azure",
        "gcp": "gcp",
        "lambdalabs": "lambda",
        "runpod": "runpod",
        "vastai": "vastai",
        "oci": "oci",
        "nebius": "nebius",
        "verda": "verda",
        "cloudrift": "cloudrift",
        "digitalocean": "digitalocean",
        "hotaisle": "hotaisle",
        "jarvislabs": "jarvislabs",
        "vultr": "vultr",
        "crusoe": "crusoe",
        "lium": "lium",
        "seeweb": "seeweb",
        "daytona": "daytona",
    }
)


def default_backends(
    providers: tuple[str, ...], requested: tuple[str, ...] | None = None
) -> tuple[BackendSettings, ...]:
    """Every backend of the catalog's providers with dstack's defaults, in backend-name order.

    ``requested``: the service's ``backends``. A service that names another backend type of a
    provider (``datacrunch`` for verda's rows, ``amddevcloud`` for digitalocean's) runs on a server
    configured with that type, so the assumed server has it instead of the default one.
    """
    names = {DEFAULT_BACKEND_OF_PROVIDER[p] for p in providers if p in DEFAULT_BACKEND_OF_PROVIDER}
    for name in requested or ():
        rules = BACKEND_RULES.get(name.lower())
        if rules is None or rules.provider not in providers:
            continue
        default = DEFAULT_BACKEND_OF_PROVIDER.get(rules.provider)
        if default is not None and default != rules.type:
            names.add(rules.type)
            if default not in {wanted.lower() for wanted in requested or ()}:
                names.discard(default)
    return tuple(BackendSettings(type=name) for name in sorted(names))
