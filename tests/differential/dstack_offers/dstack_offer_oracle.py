"""dstack 0.22.5 as a test oracle: the offers its server shows for a catalog and a request.

Test-only (dstack and gpuhunt are never imported by planner/). Given a directory of gpuhunt catalog
CSVs, a dstack server's ``backends`` list and a request (resources, spot policy, max price,
reservation, profile backends/regions/instance types), ``dstack_offers`` runs dstack's own code:

1. The CSVs are parsed by gpuhunt's ``storage.load`` into a ``gpuhunt.Catalog`` with the offline
   providers loaded, which stands in for ``gpuhunt.default_catalog()`` while the oracle runs.
2. The requirements are built with dstack's models (``ResourcesSpec``, ``Requirements``) and the
   server's own defaults (``set_default_gpu_spec`` / ``set_default_gpu_spec_vendor``); the one rule
   that lives in an async server method is restated: no image means ``cpu.arch: x86``
   (``server/services/jobs/configurators/base.py:416-420``), spot policy defaults to on-demand.
3. Each backend's compute class (``AWSCompute``, ``GCPCompute``, ``AzureCompute``, ``OCICompute``,
   ``LambdaCompute``, ``RunpodCompute``, ``NebiusCompute``, ``VerdaCompute``/``DataCrunchCompute``)
   is constructed by its own ``__init__`` from a config built with dstack's config models, with its
   region defaults from its configurator (as ``create_backend`` sets them), and ``get_offers`` runs
   unchanged: ``get_all_offers_with_availability``, modifiers, requirement filter, disk fitting,
   post-filters. Only the cloud clients are replaced (below).
4. Backends are gated on privileged, instance-volume and reservation support with dstack's
   ``_get_backends_with_compute_feature``,
   merged with the server's ``merge_offer_iterables`` (price, ties in project order), filtered by
   the profile with the server's ``_filter_offers`` and sorted with ``_sort_offers_by_availability``;
   those server functions are compiled from their installed source (the server modules import the
   database layer, which the test extras do not install).

Stubbed cloud clients (what a live API would answer), everything "available":
- quotas are ample (AWS service quotas, GCP region GPU quotas, Azure resource SKUs with no
  restriction for every catalog VM in the location, OCI shapes within quota everywhere);
- availability lists contain every catalog type (Lambda capacity, Verda availabilities, OCI
  capacity reports);
- live zone lists: AWS availability zones and OCI availability domains come from ``live_zones``
  (region -> zones; default: none for AWS, one domain ``<region>-AD-1`` for OCI); the Nebius
  tenancy has one project per region the nebius catalog or the backend's ``regions`` name;
- a reservation (AWS capacity reservation, GCP specific reservation) exists in every region/zone,
  is active with free capacity and matches any instance type and accelerator: the offline
  assumption, under which only dstack's own reservation rules (no spot, backend gating) act.
"""

from __future__ import annotations

import ast
import csv
import functools
import io
import time
import types
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import dstack
import gpuhunt
from dstack_sdk_stubs import import_with_stubbed_sdks
from gpuhunt._internal import catalog as gpuhunt_catalog_module
from gpuhunt._internal import storage as gpuhunt_storage

ORACLE_BACKENDS: tuple[str, ...] = (
    "aws",
    "gcp",
    "azure",
    "oci",
    "lambda",
    "runpod",
    "nebius",
    "verda",
    "datacrunch",
)
# backend type -> gpuhunt provider it queries (base/offers.py:60-68)
PROVIDER_OF_BACKEND: dict[str, str] = {
    "aws": "aws",
    "gcp": "gcp",
    "azure": "azure",
    "oci": "oci",
    "lambda": "lambdalabs",
    "runpod": "runpod",
    "nebius": "nebius",
    "verda": "verda",
    "datacrunch": "verda",
}
_B = "dstack._internal.core.backends."
_STUBBED_PACKAGES = tuple(_B + name for name in ("gcp", "azure", "oci", "nebius", "verda"))
_STUBBED_PACKAGES += (_B + "datacrunch",)


@dataclass(frozen=True)
class OracleRequest:
    """What a user asks: the fields of a dstack run configuration that change offers."""

    resources: Mapping[str, Any] = field(default_factory=dict)
    spot_policy: str | None = None  # None: a service's default, on-demand
    max_price: float | None = None
    reservation: str | None = None
    image: str | None = None
    backends: Sequence[str] | None = None
    regions: Sequence[str] | None = None
    instance_types: Sequence[str] | None = None
    privileged: bool = False
    instance_volumes: bool = False  # a non-optional instance (host path) volume is mounted


# ---------------------------------------------------------------- dstack's modules


@functools.lru_cache(maxsize=1)
def _modules() -> types.SimpleNamespace:
    names = {
        "aws": _B + "aws.compute",
        "aws_models": _B + "aws.models",
        "aws_configurator": _B + "aws.configurator",
        "gcp": _B + "gcp.compute",
        "gcp_models": _B + "gcp.models",
        "gcp_configurator": _B + "gcp.configurator",
        "azure": _B + "azure.compute",
        "azure_models": _B + "azure.models",
        "azure_configurator": _B + "azure.configurator",
        "oci": _B + "oci.compute",
        "oci_models": _B + "oci.models",
        "oci_resources": _B + "oci.resources",
        "oci_configurator": _B + "oci.configurator",
        "lambda": _B + "lambdalabs.compute",
        "lambda_models": _B + "lambdalabs.models",
        "runpod": _B + "runpod.compute",
        "runpod_models": _B + "runpod.models",
        "nebius": _B + "nebius.compute",
        "nebius_models": _B + "nebius.models",
        "nebius_resources": _B + "nebius.resources",
        "verda": _B + "verda.compute",
        "verda_models": _B + "verda.models",
        "datacrunch": _B + "datacrunch.compute",
    }
    loaded = import_with_stubbed_sdks(list(names.values()), _STUBBED_PACKAGES)
    return types.SimpleNamespace(**{key: loaded[name] for key, name in names.items()})


def _server_functions(relative: str, names: Sequence[str], extra: Mapping[str, Any]) -> Any:
    """Named functions of a dstack server module, compiled from its installed source.

    The module's imports are kept except those of the server's database layer; ``extra`` supplies
    names the kept imports do not.
    """
    path = Path(dstack.__file__).parent / "_internal" / "server" / relative
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if module and (module.startswith("dstack._internal.server") or "sqlalchemy" in module):
                continue
            body.append(node)
        elif isinstance(node, ast.FunctionDef) and node.name in names:
            body.append(node)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "T" for t in node.targets
        ):
            body.append(node)  # the TypeVar the signatures use
    namespace: dict[str, Any] = dict(extra)
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)
    return types.SimpleNamespace(**{name: namespace[name] for name in names})


@functools.lru_cache(maxsize=1)
def _server() -> types.SimpleNamespace:
    offers = _server_functions(
        "services/offers.py",
        ("_filter_offers", "_sort_offers_by_availability", "merge_offer_iterables"),
        {},
    )
    return types.SimpleNamespace(
        filter_offers=offers._filter_offers,
        sort_offers_by_availability=offers._sort_offers_by_availability,
        merge_offer_iterables=offers.merge_offer_iterables,
    )


# ---------------------------------------------------------------- the catalog


@dataclass(frozen=True)
class CatalogRows:
    """gpuhunt ``CatalogItem``s per provider, parsed from the CSVs by gpuhunt itself."""

    items: Mapping[str, list[Any]]

    @classmethod
    def from_directory(cls, directory: Path) -> CatalogRows:
        items: dict[str, list[Any]] = {}
        for provider in gpuhunt_catalog_module.OFFLINE_PROVIDERS:
            path = Path(directory) / f"{provider}.csv"
            if path.exists():
                with open(path, newline="", encoding="utf-8") as f:
                    items[provider] = list(gpuhunt_storage.load(f, provider=provider))
            else:
                items[provider] = []
        return cls(items)

    def gpuhunt_catalog(self) -> Any:
        catalog = gpuhunt.Catalog(balance_resources=False, auto_reload=False)
        for provider, items in self.items.items():
            catalog.catalog[provider] = gpuhunt_catalog_module.ProviderCatalog(
                version="oracle", items=list(items)
            )
        catalog.loaded_at = time.monotonic()
        return catalog

    def locations(self, provider: str) -> list[str]:
        return list(dict.fromkeys(item.location for item in self.items.get(provider, [])))

    def names_at(self, provider: str, location: str, spot: bool | None = None) -> list[str]:
        return list(
            dict.fromkeys(
                item.instance_name
                for item in self.items.get(provider, [])
                if item.location == location and (spot is None or item.spot == spot)
            )
        )


# ---------------------------------------------------------------- stubbed cloud clients


class _Anything(str):
    """A value equal to every other: a reservation whose instance type is not known offline."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = str.__hash__


ANY = _Anything("*")
NS = types.SimpleNamespace


class _AwsClient:
    def __init__(self, region: str, zones: Sequence[str]) -> None:
        self.region = region
        self.zones = list(zones)

    def get_service_quota(self, ServiceCode: str, QuotaCode: str) -> dict[str, Any]:
        return {"Quota": {"Value": 1_000_000.0}}

    def describe_availability_zones(self, Filters: Any) -> dict[str, Any]:
        return {"AvailabilityZones": [{"ZoneName": zone} for zone in self.zones]}

    def describe_capacity_reservations(self, **kwargs: Any) -> dict[str, Any]:
        reservation = {"InstanceType": ANY, "AvailableInstanceCount": 1, "State": "active"}
        return {"CapacityReservations": [reservation]}


class _AwsSession:
    def __init__(self, live_zones: Mapping[str, Sequence[str]]) -> None:
        self.live_zones = live_zones

    def client(self, service: str, region_name: str) -> _AwsClient:
        return _AwsClient(region_name, self.live_zones.get(region_name, ()))


class _GcpRegionsClient:
    def __init__(self, rows: CatalogRows) -> None:
        gcp = rows.items.get("gcp", [])
        self.regions = sorted({item.location[:-2] for item in gcp})
        metrics = set()
        for item in gcp:
            if item.gpu_name:
                for name in (item.gpu_name, f"{item.gpu_name}_80GB"):
                    metrics.add(f"NVIDIA_{name}_GPUS")
                    metrics.add(f"PREEMPTIBLE_NVIDIA_{name}_GPUS")
        self.metrics = sorted(metrics)

    def list(self, project: str) -> list[Any]:
        quotas = [NS(metric=m, limit=1_000_000.0, usage=0.0) for m in self.metrics]
        return [NS(name=region, quotas=quotas) for region in self.regions]


class _GcpReservationsClient:
    def __init__(self, rows: CatalogRows) -> None:
        self.zones = rows.locations("gcp")

    def aggregated_list(self, request: Any) -> list[tuple[str, Any]]:
        accelerator = NS(accelerator_count=ANY, accelerator_type=ANY)
        properties = NS(machine_type=ANY, guest_accelerators=[accelerator])
        specific = NS(instance_properties=properties, in_use_count=0, assured_count=1)
        reservation = NS(specific_reservation=specific, self_link="oracle-reservation")
        return [(f"zones/{zone}", NS(reservations=[reservation])) for zone in self.zones]


class _AzureComputeClient:
    def __init__(self, rows: CatalogRows) -> None:
        self.rows = rows
        self.resource_skus = self

    def list(self, filter: str) -> list[Any]:
        location = filter.split("'")[1]
        return [
            NS(resource_type="virtualMachines", name=name, restrictions=[])
            for name in self.rows.names_at("azure", location)
        ]


class _OciComputeClient:
    def create_compute_capacity_report(self, details: Any) -> Any:
        shapes = [
            NS(
                instance_shape=shape.instance_shape,
                availability_status="AVAILABLE",
                AVAILABILITY_STATUS_AVAILABLE="AVAILABLE",
            )
            for shape in details.shape_availabilities
        ]
        return NS(data=NS(shape_availabilities=shapes))


class _OciRegion:
    def __init__(self, domains: Sequence[str]) -> None:
        self.domains = list(domains)
        self.compute_client = _OciComputeClient()

    def availability_domains_in(self, compartment_id: str) -> list[Any]:
        return [NS(name=domain) for domain in self.domains]


class _LambdaApiClient:
    def __init__(self, rows: CatalogRows) -> None:
        self.rows = rows

    def list_instance_types(self) -> dict[str, Any]:
        types_: dict[str, Any] = {}
        for item in self.rows.items.get("lambdalabs", []):
            regions = types_.setdefault(item.instance_name, {"regions_with_capacity_available": []})
            if {"name": item.location} not in regions["regions_with_capacity_available"]:
                regions["regions_with_capacity_available"].append({"name": item.location})
        return types_


class _VerdaClient:
    def __init__(self, rows: CatalogRows) -> None:
        self.rows = rows
        self.instances = self

    def get_availabilities(self, is_spot: bool) -> list[dict[str, Any]]:
        return [
            {
                "location_code": location,
                "availabilities": self.rows.names_at("verda", location, is_spot),
            }
            for location in self.rows.locations("verda")
        ]


# ---------------------------------------------------------------- computes


def _oci_domains(region: str, live_zones: Mapping[str, Sequence[str]]) -> list[str]:
    return list(live_zones.get(region, (f"{region}-AD-1",)))


def _make_compute(
    entry: Mapping[str, Any], rows: CatalogRows, live_zones: Mapping[str, Sequence[str]]
) -> tuple[Any, ExitStack]:
    """One backend's compute, built by its own ``__init__``, with its cloud clients stubbed.

    Returns the compute and the patches that must stay active while its offers are computed.
    """
    m = _modules()
    kind = entry["type"]
    settings = {k: v for k, v in entry.items() if k != "creds"}
    stack = ExitStack()
    if kind == "aws":
        cfg = m.aws_models.AWSBackendConfig.model_validate(settings)
        regions = cfg.regions if cfg.regions is not None else m.aws_configurator.DEFAULT_REGIONS
        config = m.aws_models.AWSConfig.model_construct(
            **dict(cfg), creds=m.aws_models.AWSAccessKeyCreds(access_key="x", secret_key="y")
        )
        config.regions = list(regions)
        session = _AwsSession(live_zones)
        with mock.patch.object(m.aws.boto3, "Session", lambda *a, **k: session):
            compute = m.aws.AWSCompute(config)
    elif kind == "gcp":
        cfg = m.gcp_models.GCPBackendConfig.model_validate({"project_id": "oracle", **settings})
        regions = cfg.regions if cfg.regions is not None else m.gcp_configurator.DEFAULT_REGIONS
        config = m.gcp_models.GCPConfig.model_construct(
            **dict(cfg), creds=m.gcp_models.GCPDefaultCreds()
        )
        config.regions = list(regions)
        with mock.patch.object(m.gcp.auth, "authenticate", lambda *a, **k: (None, None)):
            compute = m.gcp.GCPCompute(config)
        compute.regions_client = _GcpRegionsClient(rows)
        compute.reservations_client = _GcpReservationsClient(rows)
    elif kind == "azure":
        base = {"tenant_id": "oracle", "subscription_id": "oracle", **settings}
        cfg = m.azure_models.AzureBackendConfig.model_validate(base)
        regions = cfg.regions if cfg.regions is not None else m.azure_configurator.DEFAULT_LOCATIONS
        config = m.azure_models.AzureConfig.model_construct(
            **dict(cfg), creds=m.azure_models.AzureDefaultCreds()
        )
        config.regions = list(regions)
        compute = m.azure.AzureCompute(config, credential=None)
        compute._compute_client = _AzureComputeClient(rows)
    elif kind == "oci":
        cfg = m.oci_models.OCIBackendConfig.model_validate(settings)
        supported = m.oci_configurator.SUPPORTED_REGIONS
        # create_backend: regions default to the subscribed ones among the supported (all, here)
        regions = cfg.regions if cfg.regions is not None else sorted(supported)
        fields = {**dict(cfg), "compartment_id": "oracle", "subnet_ids_per_region": {}}
        config = m.oci_models.OCIConfig.model_construct(
            **fields, creds=m.oci_models.OCIDefaultCreds()
        )
        config.regions = list(regions)
        region_clients = {r: _OciRegion(_oci_domains(r, live_zones)) for r in regions}
        with mock.patch.object(m.oci, "make_region_clients_map", lambda *a, **k: region_clients):
            compute = m.oci.OCICompute(config)
        within = {
            r: {d: set(rows.names_at("oci", r)) for d in _oci_domains(r, live_zones)}
            for r in regions
        }
        compute.__dict__["shapes_quota"] = m.oci_resources.ShapesQuota(within)
    elif kind == "lambda":
        cfg = m.lambda_models.LambdaBackendConfig.model_validate(settings)
        config = m.lambda_models.LambdaConfig.model_construct(
            **dict(cfg), creds=m.lambda_models.LambdaAPIKeyCreds(api_key="oracle")
        )
        compute = getattr(m, "lambda").LambdaCompute(config)
        compute.api_client = _LambdaApiClient(rows)
    elif kind == "runpod":
        cfg = m.runpod_models.RunpodBackendConfig.model_validate(settings)
        config = m.runpod_models.RunpodConfig.model_construct(
            **dict(cfg), creds=m.runpod_models.RunpodAPIKeyCreds(api_key="oracle")
        )
        compute = m.runpod.RunpodCompute(config)
    elif kind == "nebius":
        cfg = m.nebius_models.NebiusBackendConfig.model_validate(settings)
        config = m.nebius_models.NebiusConfig.model_construct(**dict(cfg), creds=None)
        compute = m.nebius.NebiusCompute(config)
        compute.__dict__["_sdk"] = None
        # the tenancy has one project in every region the catalog or the settings name
        tenancy = dict.fromkeys([*rows.locations("nebius"), *(cfg.regions or [])])
        projects = [
            NS(status=NS(region=region), metadata=NS(id=f"project-{region}", name=f"p-{region}"))
            for region in tenancy
        ]
        stack.enter_context(
            mock.patch.object(m.nebius_resources, "list_tenant_projects", lambda sdk: projects)
        )
    elif kind in ("verda", "datacrunch"):
        cfg = m.verda_models.VerdaBackendConfig.model_validate(settings)
        config = m.verda_models.VerdaConfig.model_construct(
            **dict(cfg),
            creds=m.verda_models.VerdaAPIKeyCreds(client_id="oracle", client_secret="oracle"),
        )
        backend_type = _backend_type(kind)
        if kind == "verda":
            compute = m.verda.VerdaCompute(config, backend_type)
        else:
            compute = m.datacrunch.DataCrunchCompute(config, backend_type)
        compute.client = _VerdaClient(rows)
    else:
        raise ValueError(f"the oracle does not run backend {kind!r}")
    return compute, stack


def _backend_type(kind: str) -> Any:
    from dstack._internal.core.models.backends.base import BackendType

    return BackendType(kind)


# ---------------------------------------------------------------- requirements


def build_requirements(request: OracleRequest) -> Any:
    """dstack's ``Requirements`` for the request, with the server's resource defaults."""
    from dstack._internal.core.models.resources import CPUSpec, ResourcesSpec
    from dstack._internal.core.models.runs import Requirements
    from dstack._internal.server.services.resources import (
        set_default_gpu_spec,
        set_default_gpu_spec_vendor,
    )

    resources = ResourcesSpec.model_validate(dict(request.resources))
    gpu_spec = set_default_gpu_spec(resources)
    set_default_gpu_spec_vendor(gpu_spec=gpu_spec, image=request.image, docker=None)
    if request.image is None and resources.cpu.arch is None:
        # server/services/jobs/configurators/base.py:416-420: dstack's base image is x86 only
        resources.cpu = CPUSpec(arch=gpuhunt.CPUArchitecture.X86, count=resources.cpu.count)
    policy = request.spot_policy or "on-demand"
    spot = None if policy == "auto" else policy == "spot"
    return Requirements(
        resources=resources,
        max_price=request.max_price,
        spot=spot,
        reservation=request.reservation,
        multinode=False,
    )


# ---------------------------------------------------------------- the oracle


def default_backends() -> list[dict[str, Any]]:
    """A server with every oracle backend, dstack's default settings (datacrunch = verda)."""
    return [{"type": kind} for kind in ORACLE_BACKENDS if kind != "datacrunch"]


@contextmanager
def _default_catalog(catalog: Any) -> Iterator[None]:
    with mock.patch.object(gpuhunt, "default_catalog", lambda: catalog):
        yield


def _gate(
    request: OracleRequest,
    requirements: Any,
    built: Sequence[tuple[Any, Any]],
    backend_types: list[Any] | None,
) -> list[Any] | None:
    """``get_offers_by_requirements``' feature gating (``server/services/offers.py:67-85``).

    The feature lists come from dstack's ``_get_backends_with_compute_feature`` over the compute
    classes, as ``core/backends/features.py`` builds them for a server with every backend installed.
    """
    from dstack._internal.core.backends.base import compute as base
    from dstack._internal.core.backends.features import _get_backends_with_compute_feature

    configurators = [NS(TYPE=t, BACKEND_CLASS=NS(COMPUTE_CLASS=type(c))) for t, c in built]
    needed = [
        (request.privileged, base.ComputeWithPrivilegedSupport),
        (request.instance_volumes, base.ComputeWithInstanceVolumesSupport),
        (requirements.reservation is not None, base.ComputeWithReservationSupport),
    ]
    for applies, feature in needed:
        if applies:
            capable = _get_backends_with_compute_feature(configurators, feature)
            listed = capable if backend_types is None else backend_types
            backend_types = [t for t in listed if t in capable]
    return backend_types


def dstack_offers(
    catalog_dir: Path,
    request: OracleRequest,
    backends: Sequence[Mapping[str, Any]] | None = None,
    *,
    live_zones: Mapping[str, Sequence[str]] | None = None,
    rows: CatalogRows | None = None,
    skip_failing_backends: bool = False,
) -> list[dict[str, Any]]:
    """The offers dstack 0.22.5 shows for ``request``, in its order, as plain dicts.

    ``backends``: the project's ``backends`` list of a dstack server configuration (``type`` and
    settings; credentials ignored); ``None`` = every oracle backend with default settings.
    ``skip_failing_backends``: a backend whose offer code raises contributes no offers, as the
    server does (``server/services/backends/__init__.py:495-509``); by default the error
    propagates, so that a fault of the stubs cannot pass for an empty answer.
    """
    rows = rows if rows is not None else CatalogRows.from_directory(catalog_dir)
    entries = list(backends) if backends is not None else default_backends()
    requirements = build_requirements(request)
    server = _server()
    zones = dict(live_zones or {})
    with ExitStack() as stack:
        stack.enter_context(_default_catalog(rows.gpuhunt_catalog()))
        built = []
        for entry in entries:
            compute, patches = _make_compute(entry, rows, zones)
            stack.enter_context(patches)
            built.append((_backend_type(entry["type"]), compute))
        profile_backends = None
        if request.backends is not None:
            profile_backends = [_backend_type(b) for b in request.backends]
        profile_backends = _gate(request, requirements, built, profile_backends)
        if profile_backends is not None:
            built = [(t, c) for t, c in built if t in profile_backends]
        per_backend = []
        for t, compute in built:
            try:
                found = list(
                    compute.get_offers(requirements, full_offers=False, unallocated_resources=False)
                )
            except Exception:
                if not skip_failing_backends:
                    raise
                continue
            per_backend.append([(t, offer) for offer in found])
        merged = server.merge_offer_iterables(*per_backend)
        filtered = server.filter_offers(
            offers=merged,
            backend_types=profile_backends,
            regions=list(request.regions) if request.regions is not None else None,
            availability_zones=None,
            instance_types=(
                list(request.instance_types) if request.instance_types is not None else None
            ),
        )
        ordered = server.sort_offers_by_availability(filtered)
    return [offer_record(offer) for _, offer in ordered]


def offer_record(offer: Any) -> dict[str, Any]:
    """The compared fields of a dstack ``InstanceOfferWithAvailability``."""
    resources = offer.instance.resources
    return {
        "backend": offer.backend.value,
        "region": offer.region,
        "instance": offer.instance.name,
        "spot": bool(resources.spot),
        "price": float(offer.price),
        "availability_zones": (
            None if offer.availability_zones is None else list(offer.availability_zones)
        ),
        "disk": resources.disk.size_mib / 1024,
        "gpu_count": len(resources.gpus),
        "gpu_name": resources.gpus[0].name if resources.gpus else None,
        "availability": offer.availability.value,
    }


def write_catalog(
    directory: Path, rows_by_provider: Mapping[str, Sequence[Mapping[str, str]]]
) -> Path:
    """Write rows (gpuhunt's CSV format, one dict of strings per row) as ``<provider>.csv`` files."""
    from planner.catalog.columns import GPUHUNT_FIELDS

    directory.mkdir(parents=True, exist_ok=True)
    for provider, provider_rows in rows_by_provider.items():
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=GPUHUNT_FIELDS)
        writer.writeheader()
        writer.writerows(provider_rows)
        (directory / f"{provider}.csv").write_bytes(buffer.getvalue().encode("utf-8"))
    return directory
