"""Configuration -> explicit, immutable requirements: the matcher's only input besides the catalog.

Field meaning follows gpuhunt's ``QueryFilter`` (bounds inclusive, ``None`` = not set) plus dstack's
offer filters applied after the query (backends, regions, instance_types, reservation).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from planner.catalog.columns import CPU_ARCHS, GPU_VENDORS, OFFLINE_PROVIDERS, ONLINE_PROVIDERS
from planner.catalog.gpus import GpuTable
from planner.config.backend_names import DSTACK_BACKENDS
from planner.config.grammar import parse_compute_capability
from planner.errors import ConfigError, InputError, Problem

if TYPE_CHECKING:
    from planner.config.load import LoadedConfig
    from planner.config.normalized import NormalizedReplicaGroup, NormalizedService


@dataclass(frozen=True)
class Requirements:
    # --- the catalog query (gpuhunt QueryFilter semantics, units GB / USD per hour) ---
    providers: tuple[str, ...] | None = None  # gpuhunt provider names; () matches nothing
    cpu_arch: str | None = None  # "x86" | "arm"
    min_cpu: int | None = None
    max_cpu: int | None = None
    min_memory_gb: float | None = None
    max_memory_gb: float | None = None
    min_gpu_count: int | None = None
    max_gpu_count: int | None = None
    gpu_vendor: str | None = None
    gpu_names: tuple[str, ...] | None = None  # case-insensitive exact; () matches nothing
    min_gpu_memory_gb: float | None = None
    max_gpu_memory_gb: float | None = None
    min_total_gpu_memory_gb: float | None = None
    max_total_gpu_memory_gb: float | None = None
    min_disk_gb: float | None = None
    max_disk_gb: float | None = None
    min_price: float | None = None
    max_price: float | None = None
    min_compute_capability: tuple[int, int] | None = None
    max_compute_capability: tuple[int, int] | None = None
    spot: bool | None = None  # None: both (spot_policy auto)
    allowed_flags: tuple[str, ...] | None = None  # None: every flag allowed
    # --- dstack's filters on the resulting offers (case-insensitive) ---
    backends: tuple[str, ...] | None = None  # dstack backend names (lambda, datacrunch, ...)
    regions: tuple[str, ...] | None = None
    instance_types: tuple[str, ...] | None = None
    reservation: str | None = None
    # dstack narrows the candidate backends to those with the compute feature a run needs.
    privileged: bool = False  # `privileged: true`
    instance_volumes: bool = False  # a non-optional instance volume is mounted
    # dstack 0.22.5: only offers in these zones (case-insensitive); a row whose location names no
    # zone (every provider's but GCP's in the catalogs) cannot be placed in one and is dropped.
    availability_zones: tuple[str, ...] | None = None
    # dstack 0.22.5: only instances of these fleets ("name" or "project/name"); None: any fleet.
    # Catalog offers are not in any fleet yet: the filter applies to a fleet inventory (plan --fleet).
    fleets: tuple[str, ...] | None = None
    # A GPU was requested without a count: the reference page's exactly one GPU applied, where
    # dstack 0.22.5 reads one or more (`planner offers` and `plan` say what that left out).
    gpu_count_defaulted: bool = False

    def to_json(self) -> dict[str, object]:
        """The requirements as JSON-ready values (tuples become lists)."""
        result: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            result[name] = list(value) if isinstance(value, tuple) else value
        return result


# Backends whose gpuhunt provider has another name (dstack's get_catalog_offers). A backend that is
# not here and not a gpuhunt provider (kubernetes, cudo, tensordock) has no catalog offers at all.
PROVIDER_OF_BACKEND: Final[Mapping[str, str]] = MappingProxyType(
    {"lambda": "lambdalabs", "datacrunch": "verda", "amddevcloud": "digitalocean"}
)

# How an offer's provider is shown to users when the configuration did not pick a backend alias.
_BACKEND_OF_PROVIDER: Final[Mapping[str, str]] = MappingProxyType({"lambdalabs": "lambda"})

# Backends that support `reservation` (dstack 0.22.5: ComputeWithReservationSupport).
RESERVATION_BACKENDS: Final[tuple[str, ...]] = ("aws", "gcp")

# Catalog providers whose dstack 0.22.5 backend runs privileged containers
# (ComputeWithPrivilegedSupport) and mounts instance volumes (ComputeWithInstanceVolumesSupport):
# the two sets are the same in 0.22.5. runpod, vastai and the other container marketplaces are not.
PRIVILEGED_PROVIDERS: Final[tuple[str, ...]] = (
    "aws",
    "azure",
    "cloudrift",
    "crusoe",
    "digitalocean",
    "gcp",
    "hotaisle",
    "jarvislabs",
    "lambdalabs",
    "nebius",
    "oci",
    "seeweb",
    "verda",
    "vultr",
)
INSTANCE_VOLUME_PROVIDERS: Final[tuple[str, ...]] = PRIVILEGED_PROVIDERS

# The hide-by-default catalog flags dstack 0.22.5 understands (SUPPORTED_GPUHUNT_FLAGS); rows
# carrying any other flag (e.g. gcp-g4-preview) are not offered.
DSTACK_ALLOWED_FLAGS: Final[tuple[str, ...]] = (
    "oci-spot",
    "lambda-arm",
    "gcp-a4",
    "gcp-g4",
    "gcp-dws-calendar-mode",
    "runpod-cpu",
    "runpod-cluster",
    "hotaisle-bm",
)

_VENDORS_NEEDING_IMAGE: Final[frozenset[str]] = frozenset({"amd", "intel", "tenstorrent"})
IMAGE_FOR_ACCELERATOR_MESSAGE: Final = (
    "`image` must be set when the requested accelerator is not supported by the default image"
)
IMAGE_FOR_ARM_MESSAGE: Final = "`image` must be set when ARM CPU requested"
DOCKER_ON_ARM_MESSAGE: Final = "`docker: true` is not supported on ARM CPU"


# Every provider gpuhunt knows: what ``providers=None`` queries.
ALL_PROVIDERS: Final[tuple[str, ...]] = OFFLINE_PROVIDERS + ONLINE_PROVIDERS


def provider_of_backend(backend: str) -> str | None:
    """The gpuhunt provider whose catalog rows a dstack backend offers; None when it has none."""
    name = backend.lower()
    provider = PROVIDER_OF_BACKEND.get(name, name)
    return provider if provider in ALL_PROVIDERS else None


def providers_of_backends(backends: tuple[str, ...]) -> tuple[str, ...]:
    """Distinct providers of the given backends, in order; backends without a catalog drop out."""
    providers: dict[str, None] = {}
    for backend in backends:
        provider = provider_of_backend(backend)
        if provider is not None:
            providers[provider] = None
    return tuple(providers)


def backend_of_provider(provider: str, backends: tuple[str, ...] | None = None) -> str:
    """The dstack backend name an offer of ``provider`` is shown under.

    When the user picked an alias (``datacrunch``, ``amddevcloud``) and not the plain name, the
    offers are shown under the alias, as dstack's backend of that name would label them.
    """
    if backends:
        chosen = [backend.lower() for backend in backends]
        for backend in chosen:
            if provider_of_backend(backend) == provider and backend == provider:
                return backend
        for backend in chosen:
            if provider_of_backend(backend) == provider:
                return backend
    return _BACKEND_OF_PROVIDER.get(provider, provider)


def requirements_from_config(
    config: LoadedConfig | NormalizedService, group: str | None = None
) -> Requirements:
    """The catalog query and offer filters dstack 0.22.5 derives from a service configuration.

    Applies the server's GPU-vendor inference and image rules (docs/configuration.md §5.6), the
    spot policy (§6.2) and the backend -> provider mapping (§7). Raises ``ConfigError`` for a configuration the server
    would refuse (a non-NVIDIA accelerator or an ARM CPU without image, an unknown backend).

    ``group`` names a replica group: its own resources, image, spot policy, reservation and
    privileged mode with the service's other filters. A service with replica groups and no
    ``group`` gives its first group's requirements (``group_requirements`` gives them all).
    """
    # Lazy for start-up time: the normalized view is a pydantic model, and a caller that builds
    # Requirements itself must not pay for pydantic when importing this module.
    from planner.config.normalized import NormalizedService

    source: str | None = None
    loaded: LoadedConfig | None = None
    if isinstance(config, NormalizedService):
        service = config
    else:
        service = config.normalized
        source = config.source
        loaded = config
    prefix = ""
    if service.groups is not None:
        names = [written.name for written in service.groups]
        if group is None:
            group = names[0]
        if group not in names:
            raise ConfigError(
                Problem(
                    f"no replica group named {group!r}; the groups are {', '.join(names)}",
                    file=source,
                )
            )
        index = names.index(group)
        prefix = f"{_groups_key(loaded)}[{index}]."
        service = service_of_group(service, service.groups[index])
    elif group is not None:
        raise ConfigError(
            Problem(f"no replica group named {group!r}: the service has no groups", file=source)
        )
    return _requirements(service, source, loaded, prefix)


def service_of_group(
    service: NormalizedService, group: NormalizedReplicaGroup
) -> NormalizedService:
    """The service as one of its replica groups runs it: the group's values replace the service's."""
    return service.model_copy(
        update={
            "replicas": group.replicas,
            "scaling": group.scaling,
            "resources": group.resources,
            "commands": group.commands,
            "image": group.image,
            "python": group.python,
            "nvcc": group.nvcc,
            "docker": group.docker,
            "privileged": group.privileged,
            "spot_policy": group.spot_policy,
            "reservation": group.reservation,
            "groups": None,
        }
    )


def _groups_key(loaded: LoadedConfig | None) -> str:
    """`groups` or `replicas`: the key the file wrote its replica groups under."""
    document = loaded.document if loaded is not None else None
    if document is not None and isinstance(document.data.get("replicas"), list):
        return "replicas"
    return "groups"


def _requirements(
    service: NormalizedService, source: str | None, loaded: LoadedConfig | None, prefix: str
) -> Requirements:
    resources = service.resources
    gpu = resources.gpu
    vendor: str | None = gpu.vendor
    if vendor is None:
        vendor = _inferred_vendor(service)

    _check_image_rules(service, vendor, source, loaded, prefix)

    cpu_arch = resources.cpu.arch
    if cpu_arch is None and service.image is None:
        cpu_arch = "x86"  # the default image (and Docker in Docker's) is x86-only

    disk = resources.disk_gb
    gpu_memory = gpu.memory_gb
    total_memory = gpu.total_memory_gb
    backends = None
    if service.backends is not None:
        backends = tuple(backend.lower() for backend in service.backends)
    unknown_backends = backend_problems(backends)
    if unknown_backends:
        raise ConfigError([replace(problem, file=source) for problem in unknown_backends])

    return Requirements(
        providers=providers_of_backends(backends) if backends is not None else None,
        cpu_arch=cpu_arch,
        min_cpu=resources.cpu.count.min,
        max_cpu=resources.cpu.count.max,
        min_memory_gb=resources.memory_gb.min,
        max_memory_gb=resources.memory_gb.max,
        min_gpu_count=gpu.count.min,
        max_gpu_count=gpu.count.max,
        gpu_vendor=vendor,
        gpu_names=tuple(gpu.names) if gpu.names is not None else None,
        min_gpu_memory_gb=gpu_memory.min if gpu_memory else None,
        max_gpu_memory_gb=gpu_memory.max if gpu_memory else None,
        min_total_gpu_memory_gb=total_memory.min if total_memory else None,
        max_total_gpu_memory_gb=total_memory.max if total_memory else None,
        min_disk_gb=disk.min if disk else None,
        max_disk_gb=disk.max if disk else None,
        max_price=service.max_price,
        min_compute_capability=gpu.compute_capability,
        spot=_spot_filter(service.spot_policy),
        allowed_flags=DSTACK_ALLOWED_FLAGS,
        backends=backends,
        regions=service.regions,
        instance_types=service.instance_types,
        reservation=service.reservation,
        privileged=service.privileged or bool(service.docker),
        instance_volumes=any(
            volume.kind == "instance" and not volume.optional for volume in service.volumes
        ),
        availability_zones=service.availability_zones,
        fleets=service.fleets,
        gpu_count_defaulted=gpu.count_defaulted,
    )


@dataclass(frozen=True)
class GroupRequirements:
    """One replica group of a service: the offers its replicas need and how many it runs.

    A service written without replica groups is one group named ``None``. Groups are the unit the
    planner places (docs/configuration.md, replica groups; docs/planning.md).
    """

    name: str | None  # None: the service has no replica groups
    requirements: Requirements
    min_replicas: int
    max_replicas: int
    spot_policy: str  # "spot" | "on-demand" | "auto"
    scaling_metric: str | None = None  # "rps" when the group auto-scales
    scaling_target: float | None = None  # requests per second one replica serves
    fixed_count: bool = False  # a group with a router keeps its count (not resized by --rps)


def group_requirements(config: LoadedConfig | NormalizedService) -> tuple[GroupRequirements, ...]:
    """The service's replica groups, in the order written (one unnamed group when it has none)."""
    from planner.config.normalized import NormalizedService  # lazy: see requirements_from_config

    service = config if isinstance(config, NormalizedService) else config.normalized
    if service.groups is None:
        return (_group(config, None, service),)
    return tuple(
        _group(config, group.name, service_of_group(service, group), fixed=group.router is not None)
        for group in service.groups
    )


def _group(
    config: LoadedConfig | NormalizedService,
    name: str | None,
    service: NormalizedService,
    *,
    fixed: bool = False,
) -> GroupRequirements:
    scaling = service.scaling
    replicas = service.replicas
    # The normalized view always sets both bounds; the checks keep the types honest.
    if replicas.min is None or replicas.max is None:
        raise ValueError("normalized replicas must have both bounds")
    return GroupRequirements(
        name=name,
        requirements=requirements_from_config(config, name),
        min_replicas=replicas.min,
        max_replicas=replicas.max,
        spot_policy=service.spot_policy,
        scaling_metric=scaling.metric if scaling is not None else None,
        scaling_target=scaling.target if scaling is not None else None,
        fixed_count=fixed,
    )


def _spot_filter(policy: str) -> bool | None:
    if policy == "spot":
        return True
    if policy == "on-demand":
        return False
    return None  # auto: both kinds compete on price


def _inferred_vendor(service: NormalizedService) -> str | None:
    gpu = service.resources.gpu
    if gpu.count.max == 0:
        return None
    if not gpu.names:
        # The default image is built for NVIDIA/CUDA; a custom image may suit any vendor.
        return "nvidia" if service.image is None and not service.docker else None
    table = GpuTable.load()
    vendors = {vendor_of_gpu_name(table, name) for name in gpu.names}
    # {None}: every name unknown; several entries: mixed vendors or some name unknown.
    return next(iter(vendors)) if len(vendors) == 1 else None


def vendor_of_gpu_name(table: GpuTable, name: str) -> str | None:
    """The vendor of a requested GPU name as dstack detects it; TPUs are ``<version>-<cores>``."""
    version, _, cores = name.partition("-")
    if cores.isdigit() and table.vendor_of(version) == "google":
        return "google"
    vendor = table.vendor_of(name)
    # A bare TPU version (``v5p``) is not a slice name dstack recognises.
    return None if vendor == "google" else vendor


def _located(
    message: str, field_path: str, source: str | None, loaded: LoadedConfig | None
) -> Problem:
    """A problem at the line where ``field_path`` (or its nearest written ancestor) stands."""
    dotted = re.sub(r"\[(\d+)\]", r".\1", field_path)  # groups[1].x -> groups.1.x
    mark = loaded.locate(dotted) if loaded is not None else None
    return Problem(
        message,
        file=source,
        line=mark.line if mark else None,
        column=mark.column if mark else None,
        path=field_path,
    )


def _check_image_rules(
    service: NormalizedService,
    vendor: str | None,
    source: str | None,
    loaded: LoadedConfig | None,
    prefix: str = "",
) -> None:
    if service.image is not None:
        return
    if service.docker:
        if service.resources.cpu.arch == "arm":
            raise ConfigError(
                _located(
                    f"{DOCKER_ON_ARM_MESSAGE}: an arm CPU is requested here and Docker in Docker "
                    "runs on x86 only; remove `docker` or the arm CPU",
                    f"{prefix}resources.cpu",
                    source,
                    loaded,
                )
            )
        return  # Docker in Docker: any accelerator is the user's business, as with an image
    gpu = service.resources.gpu
    if gpu.count.max != 0:
        requested: set[str] = set()
        if vendor is not None:
            requested.add(vendor)
        elif gpu.names:
            table = GpuTable.load()
            requested = {v for v in (vendor_of_gpu_name(table, n) for n in gpu.names) if v}
        needing = sorted(requested & _VENDORS_NEEDING_IMAGE)
        if needing:
            raise ConfigError(
                _located(
                    f"{IMAGE_FOR_ACCELERATOR_MESSAGE}: {needing} is requested here and the "
                    "default image is built for NVIDIA; set `image`",
                    f"{prefix}resources.gpu",
                    source,
                    loaded,
                )
            )
    if service.resources.cpu.arch == "arm":
        raise ConfigError(
            _located(
                f"{IMAGE_FOR_ARM_MESSAGE}: an arm CPU is requested here and the default image is "
                "x86-only; set `image`",
                f"{prefix}resources.cpu",
                source,
                loaded,
            )
        )


def backend_problems(backends: tuple[str, ...] | None) -> list[Problem]:
    """One problem per name that is not a dstack backend (any letter case)."""
    return [
        Problem(
            f"unknown backend {backend!r}; known backends: {', '.join(DSTACK_BACKENDS)}",
            path="backends",
        )
        for backend in backends or ()
        if backend.lower() not in DSTACK_BACKENDS
    ]


def check_requirements(requirements: Requirements) -> None:
    """Raise ``InputError`` listing every value of ``requirements`` the matcher cannot use."""
    r = requirements
    problems: list[Problem] = [
        Problem(
            f"unknown provider {provider!r}; known providers: {', '.join(ALL_PROVIDERS)}",
            path="providers",
        )
        for provider in r.providers or ()
        if provider.lower() not in ALL_PROVIDERS
    ]
    problems += backend_problems(r.backends)
    if r.cpu_arch and r.cpu_arch.lower() not in CPU_ARCHS:
        problems.append(
            Problem(
                f"unknown cpu arch {r.cpu_arch!r}; expected one of {CPU_ARCHS}", path="cpu_arch"
            )
        )
    if r.gpu_vendor and r.gpu_vendor.lower() not in GPU_VENDORS:
        problems.append(
            Problem(
                f"unknown gpu vendor {r.gpu_vendor!r}; expected one of {GPU_VENDORS}",
                path="gpu_vendor",
            )
        )
    for name, value in (
        ("min_compute_capability", r.min_compute_capability),
        ("max_compute_capability", r.max_compute_capability),
    ):
        if value is not None:
            try:
                parse_compute_capability(value)
            except ValueError:
                problems.append(
                    Problem(f"expected a (major, minor) pair or 'M.m', got {value!r}", path=name)
                )
    if problems:
        raise InputError(problems)


def compute_capability_bound(value: object) -> tuple[int, int] | None:
    """A compute-capability bound as an integer pair; ``(8, 0)``, ``[8, 0]`` and ``"8.0"`` alike."""
    return None if value is None else parse_compute_capability(value)


# dstack sizes a configurable disk to the smallest size the request allows, 100 GB without a
# disk requirement; `offers` and `plan` show that size for a row whose catalog states no disk.
DEFAULT_DISK_GB: Final = 100.0


def sized_disk_gb(requirements: Requirements) -> float:
    """The size dstack gives a configurable disk: the requested range intersected with the
    backend's configurable range (1 GB..), or dstack's 100 GB.. default (``disk: null``)."""
    if requirements.min_disk_gb is not None:
        return requirements.min_disk_gb
    if requirements.max_disk_gb is not None:
        return 1.0
    return DEFAULT_DISK_GB
