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
    # dstack 0.22.5 replica groups (`groups:`, or `replicas:` as a list); None: no groups.
    groups: tuple[NormalizedReplicaGroup, ...] | None = None
