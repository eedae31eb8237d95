"""The normalized view of a service configuration: what every later stage consumes.

Every default is filled in, every range is an explicit ``{min, max}`` (``None`` = unbounded on
purpose), memory is in GB (1 TB = 1024 GB), durations are in seconds. This is also the
``normalized`` object of ``planner validate --format json``.

This module is the contract between ``planner.config`` (which produces it) and
``planner.requirements`` / ``planner.plan`` (which consume it). It holds no secrets:
``registry_auth.password`` is always the redaction marker.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

REDACTED = "********"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IntRange(_Frozen):
    min: int | None = None
    max: int | None = None


class GBRange(_Frozen):
    """A memory/disk range in GB (binary: 1 TB = 1024 GB)."""

    min: float | None = None
    max: float | None = None


class NormalizedCPU(_Frozen):
    arch: Literal["x86", "arm"] | None = None
    count: IntRange = IntRange(min=2)


class NormalizedGPU(_Frozen):
    # As written by the user (vendor words normalized: tpu -> google, tt -> tenstorrent).
    # Inference from names / image happens in planner.requirements, not here.
    vendor: Literal["nvidia", "amd", "google", "intel", "tenstorrent"] | None = None
    names: tuple[str, ...] | None = None
    count: IntRange = IntRange(min=0)
    memory_gb: GBRange | None = None
    total_memory_gb: GBRange | None = None
    compute_capability: tuple[int, int] | None = None  # a minimum, compared as a tuple
    # A GPU requested without a count: the reference page's exactly 1 applies (dstack 0.22.5: 1..).
    count_defaulted: bool = False


class NormalizedResources(_Frozen):
    cpu: NormalizedCPU = NormalizedCPU()
    memory_gb: GBRange = GBRange(min=8)
    shm_size_gb: float | None = None
    gpu: NormalizedGPU = NormalizedGPU()
    disk_gb: GBRange | None = GBRange(min=100)  # None: `disk: null`, no disk requirement


class NormalizedPort(_Frozen):
    container_port: int
    local_port: int | None = 80


class NormalizedModel(_Frozen):
    type: Literal["chat"] = "chat"
    name: str
    format: Literal["openai", "tgi"]
    prefix: str | None = "/v1"  # None for tgi
    chat_template: str | None = None
    eos_token: str | None = None


class NormalizedScaling(_Frozen):
    metric: Literal["rps"] = "rps"
    target: float
    window_seconds: int | None = None
    scale_up_delay_seconds: int = 300
    scale_down_delay_seconds: int = 600


RetryEvent = Literal["no-capacity", "interruption", "error"]


class NormalizedRetry(_Frozen):
    on_events: tuple[RetryEvent, ...]
    duration_seconds: int = 3600


class NormalizedVolume(_Frozen):
    kind: Literal["network", "instance"]
    path: str  # absolute container path, normalized
    names: tuple[str, ...] | None = None  # network volumes: any one of these
    instance_path: str | None = None  # instance volumes
    optional: bool = False


class NormalizedRegistryAuth(_Frozen):
    username: str
    password: str = REDACTED


class NormalizedHeader(_Frozen):
    name: str
    value: str


class NormalizedProbe(_Frozen):
    type: Literal["http"] = "http"
    url: str = "/"
    method: Literal["get", "post", "put", "delete", "patch", "head"] = "get"
    headers: tuple[NormalizedHeader, ...] = ()
    body: str | None = None
    timeout_seconds: int = 10
    interval_seconds: int = 15
    ready_after: int = 1
    until_ready: bool = False


class NormalizedRateLimit(_Frozen):
    prefix: str = "/"
    key: Literal["ip_address", "header"] = "ip_address"
    header: str | None = None  # the header name when key is "header"
    rps: float
    burst: int = 0


class NormalizedRepo(_Frozen):
    local_path: str | None = None
    url: str | None = None
    branch: str | None = None
    hash: str | None = None
    path: str = "."
    if_exists: Literal["error", "skip"] = "error"


class NormalizedFile(_Frozen):
    local_path: str
    path: str


class NormalizedUtilizationPolicy(_Frozen):
    min_gpu_utilization: int  # percent
    time_window_seconds: int


class NormalizedInstance(_Frozen):
    """A fleet instance selector: exactly one of name, hostname, (fleet, instance)."""

    name: str | None = None
    hostname: str | None = None
    fleet: str | None = None  # "name" or "project/name"
    instance: int | None = None


class NormalizedBackendOptions(_Frozen):
    type: Literal["vastai"] = "vastai"
    offer_order: Literal["score", "price"] = "score"
    min_reliability: float = 0.9
    min_score: int | None = None


class NormalizedRouter(_Frozen):
    type: Literal["smg", "dynamo"] = "smg"


SpotPolicy = Literal["spot", "on-demand", "auto"]


class NormalizedReplicaGroup(_Frozen):
    """One replica group with the service-level values it inherits already applied."""

    name: str  # as written, or the group's position ("0", "1", ...)
    replicas: IntRange  # both bounds always set
    scaling: NormalizedScaling | None = None
    resources: NormalizedResources = NormalizedResources()
    commands: tuple[str, ...] = ()
    image: str | None = None  # the group's, else the service's
    python: str | None = None  # the group's, else the service's
    nvcc: bool | None = None  # the group's, else the service's
    docker: bool | None = None  # the group's, else the service's
    privileged: bool = False  # true with docker; else the group's, else the service's
    spot_policy: SpotPolicy = "on-demand"  # the group's, else the service's, else on-demand
    reservation: str | None = None  # the group's, else the service's
    router: NormalizedRouter | None = None


class NormalizedService(_Frozen):
    type: Literal["service"] = "service"
    name: str | None = None
    port: NormalizedPort
    gateway: str | bool | None = None  # None: default gateway if any; False: none; str: name
    https: bool | Literal["auto"] = True
    auth: bool = True
    model: NormalizedModel | None = None
    # Both bounds always set. With replica groups: the sum of the groups' ranges.
    replicas: IntRange = IntRange(min=1, max=1)
    scaling: NormalizedScaling | None = None
    image: str | None = None
    user: str | None = None
    privileged: bool = False
    entrypoint: str | None = None
    working_dir: str | None = None
    registry_auth: NormalizedRegistryAuth | None = None
    python: str | None = None
    nvcc: bool | None = None
    docker: bool | None = None  # Docker in Docker (dstack 0.22.5): runs privileged
    env: dict[str, str | None] = {}  # None: a bare KEY, resolved from the caller's environment
    resources: NormalizedResources = NormalizedResources()
    volumes: tuple[NormalizedVolume, ...] = ()
    commands: tuple[str, ...] = ()
    backends: tuple[str, ...] | None = None  # lower-case backend names, None: any
    regions: tuple[str, ...] | None = None  # compared case-insensitively
    instance_types: tuple[str, ...] | None = None  # compared case-insensitively
    reservation: str | None = None
    spot_policy: SpotPolicy = "on-demand"
    retry: NormalizedRetry | None = None  # None: no retry
    max_duration_seconds: int | None = None  # None: no limit ("off" or unset)
    max_price: float | None = None  # USD per hour per instance
    creation_policy: Literal["reuse", "reuse-or-create"] = "reuse-or-create"
    idle_duration_seconds: int = 300  # -1: never terminate an idle instance
    # --- keys of dstack 0.22.5 ---
    strip_prefix: bool = True
    rate_limits: tuple[NormalizedRateLimit, ...] = ()
    # As the server runs them: `model` without `probes` adds a chat-completions probe.
    probes: tuple[NormalizedProbe, ...] = ()
    repos: tuple[NormalizedRepo, ...] = ()
    files: tuple[NormalizedFile, ...] = ()
    shell: str | None = None  # None: /bin/sh with an image, /bin/bash otherwise
    priority: int = 0
    single_branch: bool = True
    dstack: bool = False
    availability_zones: tuple[str, ...] | None = None  # compared case-insensitively
    stop_duration_seconds: int | None = 300  # None: no limit ("off")
    utilization_policy: NormalizedUtilizationPolicy | None = None
    startup_order: Literal["any", "master-first", "workers-first"] = "any"
    stop_criteria: Literal["all-done", "master-done"] = "all-done"
    schedule: tuple[str, ...] | None = None  # cron expressions (UTC)
    fleets: tuple[str, ...] | None = None  # "name" or "project/name"; None: any fleet
    instances: tuple[NormalizedInstance, ...] | None = None
    tags: dict[str, str] | None = None
    backend_options: tuple[NormalizedBackendOptions, ...] | None = None
    # dstack 0.22.5 replica groups (`groups:`, or `replicas:` as a list); None: no groups.
    groups: tuple[NormalizedReplicaGroup, ...] | None = None
