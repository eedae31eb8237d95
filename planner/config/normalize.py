"""A validated configuration → its normalized view (every default filled in, units explicit).

Vendor inference and other decisions that depend on the GPU knowledge table belong to
``planner.requirements``; this module only makes what the user wrote explicit.
"""

from __future__ import annotations

import posixpath

from planner.config.models import (
    InstanceVolumeSpec,
    NetworkVolumeSpec,
    OpenAIChatModel,
    RetrySpec,
    ServiceConfiguration,
)
from planner.config.models_groups import ScalingSpec
from planner.config.models_resources import Resources
from planner.config.normalize_extras import extras
from planner.config.normalized import (
    REDACTED,
    IntRange,
    NormalizedCPU,
    NormalizedGPU,
    NormalizedModel,
    NormalizedPort,
    NormalizedRegistryAuth,
    NormalizedReplicaGroup,
    NormalizedResources,
    NormalizedRetry,
    NormalizedRouter,
    NormalizedScaling,
    NormalizedService,
    NormalizedVolume,
    RetryEvent,
)

ALL_RETRY_EVENTS: tuple[RetryEvent, ...] = ("no-capacity", "interruption", "error")
DEFAULT_RETRY_SECONDS = 3600
DEFAULT_IDLE_SECONDS = 300
DEFAULT_SCALING_WINDOW_SECONDS = 60  # dstack 0.22.5; the reference page has no window


def normalize(configuration: ServiceConfiguration) -> NormalizedService:
    """The normalized service (``registry_auth.password`` is always redacted)."""
    groups = _groups(configuration)
    model = _model(configuration)
    return NormalizedService(
        name=configuration.name,
        port=NormalizedPort(
            container_port=configuration.port.container_port,
            local_port=configuration.port.local_port,
        ),
        gateway=configuration.gateway,
        https=True if configuration.https is None else configuration.https,
        auth=configuration.auth,
        model=model,
        replicas=_replicas(configuration, groups),
        scaling=_scaling(configuration.scaling),
        image=configuration.image,
        user=configuration.user,
        privileged=configuration.privileged,
        entrypoint=configuration.entrypoint,
        working_dir=_working_dir(configuration.working_dir),
        registry_auth=(
            None
            if configuration.registry_auth is None
            else NormalizedRegistryAuth(
                username=configuration.registry_auth.username, password=REDACTED
            )
        ),
        python=configuration.python,
        nvcc=configuration.nvcc,
        docker=configuration.docker,
        env=dict(configuration.env),
        resources=_resources(configuration.resources),
        volumes=tuple(_volume(volume) for volume in configuration.volumes),
        commands=configuration.commands,
        backends=configuration.backends,
        regions=configuration.regions,
        instance_types=configuration.instance_types,
        reservation=configuration.reservation,
        spot_policy=configuration.spot_policy or "on-demand",
        retry=_retry(configuration.retry),
        max_duration_seconds=(
            None if configuration.max_duration in (None, "off") else configuration.max_duration
        ),
        max_price=configuration.max_price,
        creation_policy=configuration.creation_policy or "reuse-or-create",
        idle_duration_seconds=idle_duration_seconds(configuration),
        groups=groups,
        **extras(configuration, model),
    )


def _replicas(
    configuration: ServiceConfiguration, groups: tuple[NormalizedReplicaGroup, ...] | None
) -> IntRange:
    """The service's replica count; with replica groups, the sum of the groups' counts."""
    if groups is None:
        return configuration.replicas or IntRange(min=1, max=1)
    return IntRange(
        min=sum(group.replicas.min or 0 for group in groups),
        max=sum(group.replicas.max or 0 for group in groups),
    )


def _groups(configuration: ServiceConfiguration) -> tuple[NormalizedReplicaGroup, ...] | None:
    """Each replica group with what it inherits from the service level (as dstack 0.22.5's job
    configurator resolves it): image, python, nvcc, docker, privileged, spot policy, reservation."""
    if configuration.groups is None:
        return None
    service = configuration
    groups = []
    for index, group in enumerate(configuration.groups):
        count = group.count_range
        if count is None:  # the models require a count; this keeps the types honest
            raise ValueError("a replica group without a count passed validation")
        docker = group.docker if group.docker is not None else service.docker
        if docker:
            privileged = True
        elif group.privileged is not None:
            privileged = group.privileged
        else:
            privileged = service.privileged
        groups.append(
            NormalizedReplicaGroup(
                name=str(index) if group.name is None else group.name,
                replicas=count,
                scaling=_scaling(group.scaling),
                resources=_resources(group.resources),
                commands=group.commands,
                image=group.image if group.image is not None else service.image,
                python=group.python if group.python is not None else service.python,
                nvcc=group.nvcc if group.nvcc is not None else service.nvcc,
                docker=docker,
                privileged=privileged,
                spot_policy=group.spot_policy or service.spot_policy or "on-demand",
                reservation=group.reservation
                if group.reservation is not None
                else service.reservation,
                router=None if group.router is None else NormalizedRouter(type=group.router.type),
            )
        )
    return tuple(groups)


def idle_duration_seconds(configuration: ServiceConfiguration) -> int:
    """Seed-era rule (0.18.3x): policy and time from ``termination_*``, then ``idle_duration`` wins.

    ``dont-destroy`` (or any negative idle time) means -1: never terminate an idle instance.
    """
    destroy = configuration.termination_policy != "dont-destroy"
    seconds = configuration.termination_idle_time
    if seconds is None:
        seconds = DEFAULT_IDLE_SECONDS
    if configuration.idle_duration is not None:
        destroy = configuration.idle_duration >= 0
        seconds = configuration.idle_duration
    if not destroy or seconds < 0:
        return -1
    return seconds


def _model(configuration: ServiceConfiguration) -> NormalizedModel | None:
    model = configuration.model
    if model is None:
        return None
    if isinstance(model, OpenAIChatModel):
        return NormalizedModel(name=model.name, format="openai", prefix=model.prefix)
    return NormalizedModel(
        name=model.name,
        format="tgi",
        prefix=None,
        chat_template=model.chat_template,
        eos_token=model.eos_token,
    )


def _scaling(scaling: ScalingSpec | None) -> NormalizedScaling | None:
    if scaling is None:
        return None
    return NormalizedScaling(
        target=scaling.target,
        window_seconds=DEFAULT_SCALING_WINDOW_SECONDS if scaling.window is None else scaling.window,
        scale_up_delay_seconds=scaling.scale_up_delay,
        scale_down_delay_seconds=scaling.scale_down_delay,
    )


def _resources(resources: Resources) -> NormalizedResources:
    gpu = resources.gpu
    return NormalizedResources(
        cpu=NormalizedCPU(arch=resources.cpu.arch, count=resources.cpu.count),
        memory_gb=resources.memory,
        shm_size_gb=resources.shm_size,
        gpu=(
            NormalizedGPU()
            if gpu is None
            else NormalizedGPU(
                vendor=gpu.vendor,
                names=gpu.name,
                count=gpu.count,
                memory_gb=gpu.memory,
                total_memory_gb=gpu.total_memory,
                compute_capability=gpu.compute_capability,
                count_defaulted="count" not in gpu.model_fields_set,
            )
        ),
        disk_gb=None if resources.disk is None else resources.disk.size,
    )


def _volume(volume: NetworkVolumeSpec | InstanceVolumeSpec) -> NormalizedVolume:
    if isinstance(volume, InstanceVolumeSpec):
        return NormalizedVolume(
            kind="instance",
            path=volume.path,
            instance_path=volume.instance_path,
            optional=volume.optional,
        )
    return NormalizedVolume(kind="network", path=volume.path, names=volume.name)


def _retry(retry: RetrySpec | bool | None) -> NormalizedRetry | None:
    if retry is None or retry is False:
        return None
    if retry is True:
        return NormalizedRetry(on_events=ALL_RETRY_EVENTS, duration_seconds=DEFAULT_RETRY_SECONDS)
    events = ALL_RETRY_EVENTS if retry.on_events is None else tuple(dict.fromkeys(retry.on_events))
    duration = DEFAULT_RETRY_SECONDS if retry.duration is None else retry.duration
    return NormalizedRetry(on_events=events, duration_seconds=duration)


REPOSITORY_DIR = "/workflow"


def _working_dir(working_dir: str | None) -> str:
    """The reference page's rule: relative to the repository directory /workflow, default "."."""
    return posixpath.normpath(posixpath.join(REPOSITORY_DIR, working_dir or "."))
