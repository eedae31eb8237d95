"""The dstack 0.22.5 keys of a validated configuration → their part of the normalized view."""

from __future__ import annotations

import json
from typing import Any

from planner.config.models import ServiceConfiguration
from planner.config.models_extras import (
    EntityReferenceSpec,
    FleetInstanceSelector,
    InstanceHostnameSelector,
    InstanceNameSelector,
    ProbeSpec,
)
from planner.config.normalized import (
    NormalizedBackendOptions,
    NormalizedFile,
    NormalizedHeader,
    NormalizedInstance,
    NormalizedModel,
    NormalizedProbe,
    NormalizedRateLimit,
    NormalizedRepo,
    NormalizedUtilizationPolicy,
)

DEFAULT_STOP_SECONDS = 300
CHAT_PROBE_TIMEOUT_SECONDS = 30  # dstack 0.22.5's default probe of a `model`


def extras(configuration: ServiceConfiguration, model: NormalizedModel | None) -> dict[str, Any]:
    """The normalized values of the dstack 0.22.5 keys, by field name of NormalizedService."""
    c = configuration
    return {
        "strip_prefix": c.strip_prefix,
        "rate_limits": tuple(
            NormalizedRateLimit(
                prefix=limit.prefix,
                key=limit.key.type,
                header=getattr(limit.key, "header", None),
                rps=limit.rps,
                burst=limit.burst,
            )
            for limit in c.rate_limits
        ),
        "probes": _probes(c.probes, model),
        "repos": tuple(
            NormalizedRepo(**repo.model_dump(include=set(NormalizedRepo.model_fields)))
            for repo in c.repos
        ),
        "files": tuple(NormalizedFile(local_path=f.local_path, path=f.path) for f in c.files),
        "shell": c.shell,
        "priority": 0 if c.priority is None else c.priority,
        "single_branch": True if c.single_branch is None else c.single_branch,
        "dstack": c.dstack,
        "availability_zones": c.availability_zones,
        "stop_duration_seconds": (
            DEFAULT_STOP_SECONDS
            if c.stop_duration is None
            else None
            if c.stop_duration == "off"
            else c.stop_duration
        ),
        "utilization_policy": (
            None
            if c.utilization_policy is None
            else NormalizedUtilizationPolicy(
                min_gpu_utilization=c.utilization_policy.min_gpu_utilization,
                time_window_seconds=c.utilization_policy.time_window,
            )
        ),
        "startup_order": c.startup_order or "any",
        "stop_criteria": c.stop_criteria or "all-done",
        "schedule": None if c.schedule is None else c.schedule.cron,
        "fleets": None if c.fleets is None else tuple(reference(f) for f in c.fleets),
        "instances": None if c.instances is None else tuple(_instance(i) for i in c.instances),
        "tags": None if c.tags is None else dict(c.tags),
        "backend_options": (
            None
            if c.backend_options is None
            else tuple(
                NormalizedBackendOptions(
                    offer_order=option.offer_order or "score",
                    min_reliability=(
                        0.9 if option.min_reliability is None else option.min_reliability
                    ),
                    min_score=option.min_score,
                )
                for option in c.backend_options
            )
        ),
    }


def reference(entity: EntityReferenceSpec) -> str:
    """`name`, or `project/name` for another project's entity."""
    return entity.name if entity.project is None else f"{entity.project}/{entity.name}"


def _instance(
    selector: InstanceNameSelector | InstanceHostnameSelector | FleetInstanceSelector,
) -> NormalizedInstance:
    if isinstance(selector, InstanceNameSelector):
        return NormalizedInstance(name=selector.name)
    if isinstance(selector, InstanceHostnameSelector):
        return NormalizedInstance(hostname=selector.hostname)
    return NormalizedInstance(fleet=reference(selector.fleet), instance=selector.instance)


def _probes(
    probes: tuple[ProbeSpec, ...] | None, model: NormalizedModel | None
) -> tuple[NormalizedProbe, ...]:
    if probes is None:
        if model is None or model.format != "openai":
            return ()
        # The server's default probe of an OpenAI-compatible model: one chat completion.
        body = {
            "model": model.name,
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 1,
        }
        return (
            NormalizedProbe(
                url=(model.prefix or "/v1").rstrip("/") + "/chat/completions",
                method="post",
                headers=(NormalizedHeader(name="Content-Type", value="application/json"),),
                body=json.dumps(body),
                timeout_seconds=CHAT_PROBE_TIMEOUT_SECONDS,
            ),
        )
    return tuple(
        NormalizedProbe(
            url="/" if probe.url is None else probe.url,
            method=probe.method or "get",
            headers=tuple(NormalizedHeader(name=h.name, value=h.value) for h in probe.headers),
            body=probe.body,
            timeout_seconds=10 if probe.timeout is None else probe.timeout,
            interval_seconds=15 if probe.interval is None else probe.interval,
            ready_after=1 if probe.ready_after is None else probe.ready_after,
            until_ready=bool(probe.until_ready),
        )
        for probe in probes
    )
