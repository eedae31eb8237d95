"""Whole-document differential test against dstack 0.22.5's own service parser (a test-only oracle).

A hypothesis strategy writes service documents from every root key of the seed reference page and
every key dstack 0.22.5 added (probes, rate_limits, repos, files, schedule, fleets, ... and replica
groups, as `groups:` or as `replicas:` written as a list), each key drawing valid, edge-case and
invalid values from the grammars of docs/configuration.md. Each document is dumped to YAML text and
read by both sides the way their CLIs read a file: ``load_config(text=...)`` here,
``yaml.safe_load`` + ``parse_run_configuration`` in dstack. Then:

(a) both accept or both reject, unless the document contains a *deliberate* difference
    (``deliberate_differences``): each is named, commented, and states which side may be the
    stricter one, so an unexpected direction still fails;
(b) for a document both accept, the parsed values agree: resources (cpu arch/count, memory, disk,
    shm_size, gpu vendor/names/count/memory/total_memory/compute capability), port, replicas,
    scaling, retry, spot_policy, max_price, max_duration, idle_duration, env, commands, gateway,
    https, auth, backends, volumes, creation_policy, every dstack 0.22.5 key, and each replica
    group with what it inherits from the service. Deliberate value differences: the seed's GPU
    count default (``gpu_count_as_seed``) and a volume path's leading ``//`` (``_one_leading_slash``).

Bugs this test found are pinned by focused tests in test_models.py ("found by the dstack
differential test").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from planner.config import LoadedConfig, load_config
from planner.config.models import NEWER_KEYS, RUN_NAME
from planner.config.models_base import _to_replicas
from planner.config.normalized import GBRange, IntRange, NormalizedService
from planner.errors import ConfigError

# Every test here compares the two parsers on generated documents: the whole module needs the
# oracle, so it is skipped as a whole when dstack is not installed.
dstack_configurations = pytest.importorskip("dstack._internal.core.models.configurations")

# --------------------------------------------------------------------------------------------
# Value pools (docs/configuration.md §2–§6): per grammar, valid forms, then edge cases and invalid
# forms. A document takes most keys from the valid pools, so that accepted documents are common and
# their values get compared, and mixes in a few edge values to compare accept/reject.


@dataclass(frozen=True)
class Pool:
    valid: list[Any]
    edge: list[Any]  # near-valid and invalid forms


INT_RANGES = Pool(
    valid=[1, 2, 8, "4", "2..", "..8", "2..8", "1..1", " 2 .. 4 ", {"min": 2}, {"max": 16}, 2.0],
    edge=[
        0, {"min": 2, "max": 4}, "8..2", "..", "1...3", "1.5", "a", -1, "-2..4",
        {"min": 1, "foo": 2}, "2.0", "1_0", "+2", "\uff12", "2..4.0", True,
    ],
)  # fmt: skip
MEMORY_RANGES = Pool(
    valid=[
        "8GB", "16gb..", "..80GB", "16GB..64GB", "1TB", "1.5TB", "512MB", "512MB..1TB", 64, 0.5,
        "64", "16 GB", {"min": "8GB"}, {"max": 80}, {"min": 8, "max": "1TB"},
    ],
    edge=[
        "1e3", "80G", "80GiB", "..", "64GB..8GB", "-8GB", "inf", "GB", "1.5xb", {"size": "8GB"},
        True, ".5", "1_0GB", "1,5GB",
    ],
)  # fmt: skip
GPU_NAMES = ["A100", "H100", "L4", "T4", "A10G", "MI300X", "v5litepod-8", "tpu-v3-8", "TPU-v3-8"]
GPU_VENDORS = ["nvidia", "NVIDIA", "amd", "google", "tpu", "intel", "tenstorrent", "tt"]
GPU_TOKENS = Pool(
    valid=[*GPU_NAMES, *GPU_VENDORS, "A10G,A100", "80GB", "24GB..", "..80GB", "16GB..32", "2",
           "1..2", "..4", "1.."],
    edge=["0", "A100,", "", "1.5", "2..1", "80G", "ibm", "2.0", "\uff12", "-1"],
)  # fmt: skip
CPU_SPECS = Pool(
    valid=[
        2, 8, "8", "2..", "..4", "4..16", "arm:8", "8:arm", "x86", "ARM", "2..:ARM", {"min": 4},
        {"min": 2, "max": 8}, {"arch": "arm", "count": "2.."}, {}, {"count": 4},
    ],
    edge=[
        "arm:", ":8", "arm:x86", "2:4", "-1", "risc", "4..2", {"arch": "arm", "min": 2}, 1.5,
        True, None, "1_0", {"min": "1_0"}, {"min": 2.5}, "\uff12",
    ],
)  # fmt: skip
DURATIONS = Pool(
    valid=[0, 30, 90, "90", "30s", "5m", "2h", "1d", "1w", "10 m", "off", False, True, None],
    edge=[
        "-60", -60, 1.5, "1.5h", "2H", "1h30m", "1y", "-5m", " 5m", "5m ", "", " off ", "OFF",
        -1, "-1", "1_0", " 90 ", "+90", "5\tm", "-1.0", -1.5, "1.0",
    ],
)  # fmt: skip
PORTS = Pool(
    valid=[8000, 80, 1, 65535, "8000", "8080:8000", {"container_port": 8000},
           {"local_port": 8080, "container_port": 8000}],
    edge=[
        {"local_port": None, "container_port": 8000}, 0, -1, 65536, "*:8000", "8080:", ":8000",
        "0:8000", "a", None, [8000], "8080:70000", 8000.0, 80.5, "8000.0", "+80", " 8000 ",
        " 8080:8000", "8080 : 8000", "\uff18\uff10", "1_0", True,
    ],
)  # fmt: skip
ENVS = Pool(
    valid=[
        {"A": "1", "B_2": "x"}, {"PORT": 8080, "F": 1.5}, {"R": 2.0, "B": 1e20, "Z": -0.0},
        ["A=1", "B=", "C", "D=x=y"], [], {},
    ],
    edge=[["A=1", "A=2"], ["1A=x"], ["A B=1"], [1], {"A": None}, {"A": True}, {"1A": "x"},
          "A=1", None, {"A": ["x"]}],
)  # fmt: skip
VOLUMES = Pool(
    valid=[
        ["my-vol:/data"], ["/mnt/cache:/root/.cache"], [{"name": "v1", "path": "/data"}],
        [{"name": ["v1", "v2"], "path": "/data/"}], [{"instance_path": "/mnt", "path": "/data"}],
        [{"instance_path": "/mnt", "path": "/data", "optional": True}], ["/a//b:/c//d/"], [],
    ],
    edge=[
        ["v:data"], ["v:/a/../b"], ["a:b:c"], ["v:"], [":/data"], [{"name": "v"}],
        [{"name": [], "path": "/d"}], [{"path": "/d"}], [1], "v:/data", ["v:/a/./b"],
        ["v://data"], ["//mnt:/data"], [{"name": "v", "path": "/data/", "optional": True}],
    ],
)  # fmt: skip
RETRIES = Pool(
    valid=[
        True, False, None, {}, {"duration": "1h"}, {"on_events": ["no-capacity"]},
        {"on_events": ["error", "interruption"], "duration": 600}, {"on_events": ["error", "error"]},
    ],
    edge=[{"on_events": []}, {"on_events": ["timeout"]}, {"duration": "2H"}, {"duration": -60},
          {"foo": 1}, "yes", 1, {"duration": True}],
)  # fmt: skip
SCALINGS = Pool(
    valid=[
        {"metric": "rps", "target": 10}, {"metric": "rps", "target": 0.5, "scale_up_delay": "1m"},
        {"metric": "rps", "target": 1, "scale_down_delay": 30, "window": "30s"},
        {"metric": "rps", "target": 1, "window": "5m"}, {"metric": "rps", "target": "2.5"},
    ],
    edge=[
        {"metric": "rps", "target": 1, "window": 45}, {"metric": "rps", "target": 0},
        {"metric": "rps", "target": -1}, {"metric": "cpu", "target": 1}, {"target": 1},
        {"metric": "rps"}, {"metric": "rps", "target": 1, "scale_up_delay": "x"},
        {"metric": "rps", "target": 1, "scale_down_delay": -5},
        {"metric": "rps", "target": 1, "window": "1m"}, {"metric": "rps", "target": 1, "x": 1},
    ],
)  # fmt: skip
REPLICAS = Pool(
    valid=[1, 2, "3..3", "0..4", "1..8", "..4", {"min": 1, "max": 3}, "0..2.0"],
    edge=[0, "2..", -1, "-1..2", "4..1", 1.5, "1_0", "..", True],
)  # fmt: skip
MODELS = Pool(
    valid=[
        "meta-llama/Llama-3-8B", {"name": "m", "format": "openai"},
        {"type": "chat", "name": "m", "format": "openai", "prefix": "/api"},
        {"name": "m", "format": "tgi", "chat_template": "t", "eos_token": "</s>"},
    ],
    edge=[
        {"name": "m", "format": "tgi", "prefix": "/v1"}, {"name": "m"}, {"format": "openai"},
        {"name": "m", "format": "vllm"}, {"type": "embeddings", "name": "m", "format": "openai"},
        1, {"name": "m", "format": "openai", "prefix": None},
    ],
)  # fmt: skip
ROOT_POOLS: dict[str, Pool] = {
    "gateway": Pool([True, False, "gw", "project/gw", None], ["a/b/c", "/gw", "", " gw", 1]),
    "model": MODELS,
    "https": Pool([True, False, "auto", None], ["sometimes", "true", "AUTO"]),
    "auth": Pool([True, False], ["yes", 1, None]),
    "replicas": REPLICAS,
    "scaling": SCALINGS,
    "name": Pool(["llama-chat", "ab", None], ["a", "Llama", "1abc", "x" * 42]),
    "image": Pool(["ghcr.io/org/app:1.0", None], [1, ""]),
    "user": Pool(["ubuntu", "1000:1000", "root:root", 1000], ["a:b:c", ":1", "-1", "1000:", "-x"]),
    "privileged": Pool([True, False], ["true", 0]),
    "entrypoint": Pool(["/bin/sh -c", None], [["sh"]]),
    "working_dir": Pool(["/app", None], [""]),
    "registry_auth": Pool([{"username": "u", "password": "p"}], [{"username": "u"}, "u:p"]),
    "python": Pool(
        ["3.9", "3.10", 3.11, 3.1, "3.12", "3.15"], ["3.8", "2.7", 3, " 3.11", "3.10 ", "3.16"]
    ),
    "nvcc": Pool([True, False, None], ["yes"]),
    "env": ENVS,
    "volumes": VOLUMES,
    "commands": Pool([["python app.py"], ["a", "b"]], [[], [], None, "python app.py", [1]]),
    "backends": Pool(
        [
            ["aws"],
            ["aws", "gcp"],
            ["lambda", "runpod", "vastai"],
            ["crusoe"],
            ["jarvislabs"],
            ["seeweb"],
            ["slurm"],
            ["datacrunch", "verda"],
            ["kubernetes"],
            [],
        ],
        [["local"], ["AWS"], ["aws-east"], "aws", [None]],
    ),
    "regions": Pool([["us-east-1"], ["US-EAST-1", "eu-west-1"], []], ["us-east-1", [1]]),
    "instance_types": Pool([["p4d.24xlarge"], []], ["p4d.24xlarge"]),
    "reservation": Pool(["cr-123", None], [["cr-1"]]),
    "spot_policy": Pool(["spot", "on-demand", "auto", None], ["SPOT", "ondemand", "on_demand"]),
    "retry": RETRIES,
    "max_duration": DURATIONS,
    "max_price": Pool(
        [1, 0.5, "1.5", 100, None, 2.25], [0, -1, "x", "nan", "inf", "1_0", " 2 ", True]
    ),
    "creation_policy": Pool(["reuse", "reuse-or-create", None], ["create", "REUSE"]),
    "idle_duration": DURATIONS,
}
RARE_POOLS: dict[str, Pool] = {
    # Seed-era keys, removed in 0.22.5.
    "termination_policy": Pool(["dont-destroy", "destroy-after-idle"], ["never"]),
    "termination_idle_time": Pool(["5m", 300], ["x"]),
}
# The keys dstack 0.22.5 added (docs/configuration.md §3.7).
NEW_POOLS: dict[str, Pool] = {
    "strip_prefix": Pool([True, False], ["yes", 1, None]),
    "rate_limits": Pool(
        [[{"rps": 10}], [{"prefix": "/v1", "rps": 0.5, "burst": 5}], [],
         [{"rps": 1, "key": {"type": "header", "header": "X-Key"}}, {"prefix": "/a", "rps": 2}],
         [{"rps": 1, "key": {"type": "ip_address"}}], [{"rps": "5"}]],
        [[{"rps": 0}], [{"prefix": "v1", "rps": 1}], [{"rps": 1}, {"rps": 2}],
         [{"rps": 1, "key": {"type": "header"}}], [{"rps": 1, "key": {"type": "header", "header": "a b"}}],
         [{"rps": 1, "burst": -1}], [{"prefix": "/{x}", "rps": 1}], [{"rps": 1, "key": {"type": "cookie"}}],
         [{"rps": 1, "foo": 1}]],
    ),
    "probes": Pool(
        [[{"type": "http"}], None, [],
         [{"type": "http", "url": "/health", "interval": "15s", "timeout": 5, "ready_after": 3}],
         [{"type": "http", "method": "post", "body": "{}", "headers": [{"name": "A", "value": "b"}]}],
         [{"type": "http", "body": "x"}], [{"type": "http", "until_ready": True}]],
        [[{"type": "tcp"}], [{"type": "http", "url": "health"}], [{"type": "http", "timeout": 0}],
         [{"type": "http", "method": "GET"}], [{"type": "http", "method": "get", "body": "x"}],
         [{"type": "http"}, {"type": "http"}], [{"type": "http", "ready_after": 0}],
         [{"type": "http", "headers": [{"name": "", "value": "x"}]}],
         [{"type": "http", "interval": "1h30m"}], [{}]],
    ),
    "repos": Pool(
        [["."], ["https://github.com/org/repo"], ["git@github.com:org/repo.git:/src"], [],
         [{"url": "https://github.com/a/b", "branch": "main"}], [{"local_path": "..", "path": "~/r"}],
         ["C:\\code\\repo"], [{"local_path": ".", "if_exists": "skip", "hash": "abc"}]],
        [[".", ".."], ["a:b:c"], [{"local_path": ".", "url": "https://x/y"}], [{}],
         [{"local_path": ".", "path": "~root/x"}], [{"local_path": ".", "if_exists": "overwrite"}], "."],
    ),
    "files": Pool(
        [["a.txt"], ["data:/data"], [{"local_path": "x", "path": "/y"}], [], ["C:\\x:/y"]],
        [["a:b:c"], [{"local_path": "x"}], [{"local_path": "x", "path": "C:/y"}], "a.txt", [1]],
    ),
    "shell": Pool(["sh", "bash", "/bin/zsh", None], ["zsh", "", "bin/sh"]),
    "priority": Pool([0, 50, 100, None], [-1, 101, "50", 1.5]),
    "single_branch": Pool([True, False, None], ["yes"]),
    "dstack": Pool([True, False], [None, "no"]),
    "home_dir": Pool(["/root", "/home/u"], [None]),
    "setup": Pool([["x"], []], ["x"]),
    "availability_zones": Pool([["us-east-1a"], [], None, ["US-CENTRAL1-A", "b"]], ["us-east-1a"]),
    "stop_duration": DURATIONS,
    "utilization_policy": Pool(
        [{"min_gpu_utilization": 10, "time_window": "30m"}, {"min_gpu_utilization": 0, "time_window": 300}, None],
        [{"min_gpu_utilization": 101, "time_window": "1h"}, {"min_gpu_utilization": 5, "time_window": "4m"},
         {"min_gpu_utilization": 5}, {}],
    ),
    "startup_order": Pool(["any", "master-first", "workers-first", None], ["first"]),
    "stop_criteria": Pool(["all-done", "master-done", None], ["done"]),
    "schedule": Pool(
        [{"cron": "0 8 * * *"}, {"cron": ["*/15 * * * mon-fri", "0 0 1 jan *"]}, None],
        [{"cron": []}, {"cron": "0 8 * *"}, {"cron": "61 * * * *"}, {}, {"cron": "0 8 * * *", "tz": "x"},
         "0 8 * * *", {"cron": "0 8 31 dec-jan *"}],
    ),
    "fleets": Pool(
        [["f"], ["team/f"], [{"name": "f"}, {"project": "p", "name": "g"}], [], None],
        [["a/b/c"], ["/f"], [""], "f", [{"project": "p"}]],
    ),
    "instances": Pool(
        [["i-1"], [{"name": "n"}], [{"hostname": "10.0.0.1"}], [{"fleet": "f", "instance": 0}],
         [{"fleet": "p/f", "instance": 2}], None],
        [[], [{"fleet": "f"}], [{"fleet": "f", "instance": -1}], [{"name": ""}], [{"host": "x"}], "i-1"],
    ),
    "tags": Pool(
        [{"team": "ml"}, {"a-b_c": "x y:z"}, None, {}, {"a": 1}],
        [{"bad key": "x"}, {"a": "#"}, {"a": None}, "x"],
    ),
    "backend_options": Pool(
        [[{"type": "vastai"}], [{"type": "vastai", "offer_order": "price", "min_reliability": 0.5, "min_score": 10}],
         None, [], [{}]],
        [[{"type": "aws"}], [{"type": "vastai"}, {"type": "vastai"}], [{"type": "vastai", "min_reliability": 2}]],
    ),
    "docker": Pool([True, False, None], ["yes"]),
}  # fmt: skip
ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESOURCE_KEYS = ("cpu", "memory", "shm_size", "gpu", "disk")
EDGE_ODDS = 8  # one value in EDGE_ODDS comes from the edge pool


def drawn(draw: st.DrawFn, pool: Pool) -> Any:
    # A middle value: hypothesis favours the bounds of an integer range.
    edge = not pool.valid or (pool.edge and draw(st.integers(0, EDGE_ODDS - 1)) == EDGE_ODDS // 2)
    return draw(st.sampled_from(pool.edge if edge else pool.valid))


@st.composite
def gpu_values(draw: st.DrawFn) -> Any:
    form = draw(st.sampled_from(["string", "string", "count", "mapping", "mapping"]))
    if form == "string":
        tokens = [drawn(draw, GPU_TOKENS) for _ in range(draw(st.integers(1, 3)))]
        return ":".join(tokens)
    if form == "count":
        return drawn(draw, Pool([0, 1, 2, 8, None, {}], [1.5, -1, True]))
    mapping: dict[str, Any] = {}
    choices: dict[str, Pool] = {
        "vendor": Pool(GPU_VENDORS, ["ibm", 1, " nvidia "]),
        "name": Pool(
            [*GPU_NAMES, ["A10G", "L4"], 4090, ["L4", 1.5]],
            [[], [""], "", " ", True, " A100", ["L4", "A100 "]],
        ),
        "count": INT_RANGES,
        "memory": MEMORY_RANGES,
        "total_memory": MEMORY_RANGES,
        "compute_capability": Pool(
            [7.5, "8.0", " 9.0 ", [8, 0], ["8", "0"], 8.1],
            ["8", "3.5.1", "x.y", [8], 8, "+8.0", "8 . 0", "8.-1", [8.5, 0]],
        ),
        "size": Pool([], [1]),  # an unknown key
    }
    for key in draw(st.lists(st.sampled_from(sorted(choices)), max_size=3, unique=True)):
        mapping[key] = drawn(draw, choices[key])
    return mapping


@st.composite
def resources(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 19)) == 10:
        return draw(st.sampled_from([None, {}, "A100", {"gpus": 1}]))
    pools = {
        "cpu": CPU_SPECS,
        "memory": MEMORY_RANGES,
        "shm_size": Pool(["8GB", 16, "1TB", None], ["16GB..", "-1GB", "x"]),
        "disk": Pool(
            [*MEMORY_RANGES.valid[:8], {"size": "200GB.."}, None], [*MEMORY_RANGES.edge, {"min": 1}]
        ),
    }
    value: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(RESOURCE_KEYS), max_size=5, unique=True)):
        value[key] = draw(gpu_values()) if key == "gpu" else drawn(draw, pools[key])
    return value


GROUP_POOLS: dict[str, Pool] = {
    "name": Pool(["prefill", "decode", "router", "0", "1", "g-2"], ["Bad", "-x", "", 1, "x" * 41]),
    "spot_policy": Pool(["spot", "on-demand", "auto"], ["SPOT"]),
    "reservation": Pool(["cr-1"], [["cr-1"]]),
    "image": Pool(["lmsysorg/sglang"], ["", 1]),
    "python": Pool(["3.11", 3.1], ["2.7"]),
    "nvcc": Pool([True, False], ["yes"]),
    "docker": Pool([True, False], ["yes"]),
    "privileged": Pool([True, False], ["yes"]),
    "router": Pool([{}, {"type": "smg"}, {"type": "dynamo"}, {"type": "sglang"}, None], [{"type": "nginx"}, {"x": 1}]),
    "commands": Pool([["serve"], ["a", "b"]], [[], "serve"]),
}  # fmt: skip


@st.composite
def replica_groups(draw: st.DrawFn, lean: bool = False) -> list[dict[str, Any]]:
    """A list of replica groups: counts, scaling, resources and the per-group keys. ``lean``:
    at least one group, and edge values rarely (so that most documents are valid)."""
    groups: list[dict[str, Any]] = []
    for _ in range(draw(st.sampled_from([1, 1, 2, 2, 3] if lean else [0, 1, 1, 2, 2, 3]))):
        group: dict[str, Any] = {}
        count_key = draw(
            st.sampled_from(["count", "count", "count", "replicas", "replicas", "both", "none"])
        )
        count = drawn(draw, Pool(REPLICAS.valid, []) if lean else REPLICAS)
        if count_key == "both":
            group["replicas"] = count
            group["count"] = drawn(draw, REPLICAS)
        elif count_key != "none":
            group[count_key] = count
        ranged = isinstance(count, str | Mapping) and count not in ("3..3",)
        if (ranged and draw(st.integers(0, 4)) != 2) or draw(st.integers(0, 9)) == 5:
            group["scaling"] = drawn(draw, SCALINGS)
        if draw(st.integers(0, 5)) != 3:
            group["commands"] = ["serve"]
        if draw(st.booleans()):
            group["resources"] = draw(resources())
            if lean and draw(st.integers(0, 2)) != 1:
                group["resources"] = {
                    "gpu": draw(st.sampled_from(["H100", "A100:2", "24GB", 0, "L4:1..2"]))
                }
        optional = sorted(GROUP_POOLS)
        for key in draw(st.lists(st.sampled_from(optional), max_size=2, unique=True)):
            group[key] = drawn(draw, GROUP_POOLS[key])
        if group.get("router") is not None and draw(st.integers(0, 3)) != 2:
            group.pop("replicas", None)
            group.pop("scaling", None)
            group["count"] = 1  # a router group runs exactly one replica
        if draw(st.integers(0, 29)) == 7 and not lean:
            group["foo"] = 1  # an unknown key
        groups.append(group)
    return groups


@st.composite
def service_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A whole ``type: service`` document: mostly valid keys, some edge cases, some errors."""
    document: dict[str, Any] = {"type": "service"}
    if draw(st.integers(0, 29)) != 15:
        document["port"] = drawn(draw, PORTS)
    document["commands"] = ["python app.py"]
    if draw(st.integers(0, 3)) != 2:
        document["resources"] = draw(resources())
    keys = draw(st.lists(st.sampled_from(sorted(ROOT_POOLS)), max_size=8, unique=True))
    for key in keys:
        document[key] = drawn(draw, ROOT_POOLS[key])
    if draw(st.integers(0, 9)) == 5:
        key = draw(st.sampled_from(sorted(RARE_POOLS)))
        document[key] = drawn(draw, RARE_POOLS[key])
    for key in draw(st.lists(st.sampled_from(sorted(NEW_POOLS)), max_size=4, unique=True)):
        document[key] = drawn(draw, NEW_POOLS[key])
    if draw(st.integers(0, 2)) == 1:
        # Replica groups, under either key; top-level `commands` (refused with groups) mostly gone.
        document.pop("scaling", None)
        document.pop("replicas", None)
        if draw(st.integers(0, 5)) != 3:
            document.pop("commands", None)
        if draw(st.integers(0, 3)) != 2:
            # Mostly without the service-level keys a group may not repeat.
            for shared in ("image", "python", "nvcc", "docker", "spot_policy", "reservation"):
                document.pop(shared, None)
        key = draw(st.sampled_from(["replicas", "groups"]))
        document[key] = draw(replica_groups())
        if draw(st.integers(0, 19)) == 4:
            document["replicas" if key == "groups" else "scaling"] = 2  # both: an error
        return document
    # Scaling and replicas are only meaningful together: pair them often.
    if "scaling" in document and "replicas" not in document and draw(st.integers(0, 3)) != 2:
        document["replicas"] = draw(st.sampled_from(["0..4", "1..8", "..2", 2]))
    if "replicas" in document and "scaling" not in document and draw(st.booleans()):
        document["scaling"] = drawn(draw, SCALINGS)
    return document


# --------------------------------------------------------------------------------------------
# Deliberate differences: which side may be stricter for which reason


@dataclass(frozen=True)
class Difference:
    reason: str
    ours_stricter: bool  # True: we may reject what dstack accepts; False: the other way round


def _walk(value: Any) -> list[Any]:
    """Every scalar nested in ``value``."""
    if isinstance(value, Mapping):
        return [leaf for item in value.values() for leaf in _walk(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _walk(item)]
    return [value]


def _negative(value: Any) -> bool:
    """A written amount (number or text) that starts with a minus sign, at any depth."""
    return any(
        (
            not isinstance(leaf, bool)
            and isinstance(leaf, int | float | str)
            and str(leaf).replace(" ", "").replace("..", " ").split(" ")[0].startswith("-")
        )
        or (isinstance(leaf, str) and "..-" in leaf.replace(" ", ""))
        for leaf in _walk(value)
    )


# Root keys whose grammar itself takes booleans (elsewhere a boolean is a type error here).
BOOLEAN_GRAMMAR_KEYS = frozenset(
    {"auth", "privileged", "nvcc", "https", "gateway", "max_duration", "idle_duration",
     "strip_prefix", "single_branch", "dstack", "docker", "stop_duration"}
)  # fmt: skip
# Boolean keys where dstack's lax bool reads "yes", 1, ... and planner wants true or false.
STRICT_BOOLEAN_KEYS = frozenset(
    {"auth", "privileged", "nvcc", "strip_prefix", "single_branch", "dstack", "docker"}
)
GROUP_BOOLEAN_KEYS = frozenset({"nvcc", "docker", "privileged"})


def _odd_capability(value: Any) -> bool:
    if isinstance(value, list):
        return any(isinstance(item, float | str) for item in value)
    return isinstance(value, str) and not re.fullmatch(r"\s*[0-9]+\.[0-9]+\s*", value)


def _strict_scalar_types(document: Mapping[str, Any]) -> bool:
    """Where dstack's pydantic lax mode coerces a scalar to another type and we refuse it:
    ``true`` as the duration 1 s / the amount 1 / the price 1.0 / the port 1, ``retry: 1`` or
    ``auth: "yes"`` as ``true`` (models: StrictBool; grammar: booleans are rejected rather than
    guessed)."""
    for key, value in document.items():
        if key in STRICT_BOOLEAN_KEYS and value is not None and not isinstance(value, bool):
            return True  # `auth: "yes"`, `auth: 1`: dstack's lax bool
        if key in ("groups", "replicas") and isinstance(value, list):
            if any(_strict_group_types(group) for group in value if isinstance(group, Mapping)):
                return True
            continue
        if key == "gateway" and isinstance(value, int | float) and not isinstance(value, bool):
            return True  # `gateway: 1`: dstack's lax bool (true)
        if key == "https" and isinstance(value, str) and value != "auto":
            return True  # `https: "true"`: dstack's lax bool
        if key in BOOLEAN_GRAMMAR_KEYS or key in NEWER_KEYS:
            continue
        if key == "retry":
            if isinstance(value, str | int) and not isinstance(value, bool):
                return True
            if isinstance(value, Mapping) and any(isinstance(v, bool) for v in _walk(value)):
                return True
        elif key == "volumes":
            continue  # `optional: true` is grammar; no other boolean is accepted by dstack
        elif key == "port":
            if isinstance(value, bool):
                return True
        elif any(isinstance(leaf, bool) for leaf in _walk(value)):
            return True
    return False


def _strict_group_types(group: Mapping[str, Any]) -> bool:
    """A replica group's lax scalars: "yes" as a boolean, a boolean as a count or a size."""
    for key, value in group.items():
        if key in GROUP_BOOLEAN_KEYS:
            if value is not None and not isinstance(value, bool):
                return True
        elif key != "router" and any(isinstance(leaf, bool) for leaf in _walk(value)):
            return True
    return False


def _minimum_replicas(value: Any) -> int | None:
    try:
        return _to_replicas(value).min
    except (ValueError, TypeError, ValidationError):
        return None


def _scales_to_zero(document: Mapping[str, Any]) -> bool:
    """Every replica group (or the service's replicas) may run zero replicas."""
    groups = document.get("groups")
    if groups is None and isinstance(document.get("replicas"), list):
        groups = document["replicas"]
    if isinstance(groups, list):
        minimums = [
            _minimum_replicas(group.get("replicas", group.get("count")))
            for group in groups
            if isinstance(group, Mapping)
        ]
        return bool(minimums) and all(minimum == 0 for minimum in minimums)
    replicas = document.get("replicas")
    return replicas is not None and _minimum_replicas(replicas) == 0


def _resources_differences(resources_value: Any, add: Callable[[str], None]) -> None:
    """The deliberate differences of one `resources` mapping (the service's or a group's)."""
    if not isinstance(resources_value, Mapping):
        return
    # README: negative resource amounts, non-finite sizes and a YAML float GPU count are
    # rejected here (dstack accepts them and then matches nothing).
    gpu = resources_value.get("gpu")
    amounts = [resources_value.get(key) for key in ("memory", "disk", "shm_size")]
    if isinstance(gpu, Mapping):
        amounts += [gpu.get(key) for key in ("count", "memory", "total_memory")]
    elif isinstance(gpu, str):
        amounts += gpu.replace(" ", "").split(":")
    else:
        amounts.append(gpu)
    cpu = resources_value.get("cpu")
    amounts.append(cpu if isinstance(cpu, Mapping) else None)
    if _negative(amounts):
        add("negative resource amount")
    if any(isinstance(leaf, str) and "inf" in leaf.lower() for leaf in _walk(resources_value)):
        add("non-finite memory size")
    if isinstance(gpu, float):
        add("YAML float GPU count")
    # An empty GPU name (`name: ""`, `[]`, `[""]`): dstack keeps it and it matches nothing.
    if isinstance(gpu, Mapping) and gpu.get("name") in ("", " ", [], [""]):
        add("empty GPU name")
    # A GPU name with surrounding spaces (`name: " A100"`): dstack keeps it and it matches
    # nothing; refused here with the fix.
    names = gpu.get("name") if isinstance(gpu, Mapping) else None
    if any(isinstance(n, str) and n != n.strip() for n in _walk(names)):
        add("padded GPU name")
    # Compute capability written with a sign, inner spaces or a fractional list item: dstack's
    # int() reads "+8.0", "8.-1" (minor -1) and [8.5, 0] (as 8.0); docs/configuration.md §2.4
    # wants MAJOR.MINOR.
    if isinstance(gpu, Mapping) and _odd_capability(gpu.get("compute_capability")):
        add("compute capability outside MAJOR.MINOR")


def deliberate_differences(document: Mapping[str, Any]) -> list[Difference]:
    """The documented reasons the two parsers may disagree on ``document`` (empty: none)."""
    found: list[Difference] = []

    def add(reason: str, *, ours_stricter: bool = True) -> None:
        found.append(Difference(reason, ours_stricter))

    # Keys newer than the seed are refused with a message saying so (README "The configuration").
    if any(key in NEWER_KEYS for key in document):
        add("a key of newer dstack releases")
    # Seed-era deprecated keys: accepted here (mapped onto idle_duration), removed in 0.22.5.
    if "termination_policy" in document or "termination_idle_time" in document:
        add("termination_* (seed-era, removed in 0.22.5)", ours_stricter=False)
    # Seed rule: `image` and `nvcc` are mutually exclusive (0.22.5 documents it, enforces nothing).
    if document.get("image") is not None and document.get("nvcc") is not None:
        add("image + nvcc (seed rule)")
    # dstack's parser accepts any run name; its server refuses one outside ^[a-z][a-z0-9-]{1,40}$.
    name = document.get("name")
    if isinstance(name, str) and not RUN_NAME.fullmatch(name):
        add("run name pattern (dstack checks it on the server)")
    # `scaling` with `replicas` omitted passes dstack's parser, fails when the service is expanded
    # into its replica group (docs/configuration.md §3.5: treat as invalid).
    if document.get("scaling") is not None and document.get("replicas") is None:
        add("scaling without replicas (dstack fails at expansion)")
    # A negative retry duration parses in dstack and is refused by its server
    # (docs/configuration.md §6.3).
    retry = document.get("retry")
    if isinstance(retry, Mapping) and _negative(retry.get("duration")):
        add("negative retry duration (dstack refuses it on the server)")
    _resources_differences(document.get("resources"), add)
    groups = document.get("groups")
    if groups is None and isinstance(document.get("replicas"), list):
        groups = document["replicas"]
    for group in groups if isinstance(groups, list) else ():
        if isinstance(group, Mapping):
            _resources_differences(group.get("resources"), add)
            scaling = group.get("scaling")
            if isinstance(scaling, Mapping) and any(
                _negative(scaling.get(key)) for key in ("scale_up_delay", "scale_down_delay")
            ):
                add("negative scaling delay")
    # dstack's server refuses a scheduled service that can scale to zero; planner refuses it
    # when it reads the file (docs/configuration.md §3.7).
    if document.get("schedule") and _scales_to_zero(document):
        add("scheduled service scaling to zero (dstack refuses it on the server)")
    # A number as a tag value: planner reads it as text, as every other string field; dstack's
    # tag check meets the number before pydantic turns it into text, and fails with a TypeError.
    tags = document.get("tags")
    if isinstance(tags, Mapping) and any(
        isinstance(value, int | float) and not isinstance(value, bool) for value in tags.values()
    ):
        add("a number as a tag value", ours_stricter=False)
    # A negative scaling delay: dstack parses it (a delay can only be >= 0).
    scaling = document.get("scaling")
    if isinstance(scaling, Mapping) and any(
        _negative(scaling.get(key)) for key in ("scale_up_delay", "scale_down_delay")
    ):
        add("negative scaling delay")
    # A user name starting with `-` (`-x`): dstack takes it as a name; it reads as an option.
    user = document.get("user")
    if isinstance(user, str) and any(part.startswith("-") for part in user.split(":")):
        add("user or group starting with -")
    # Seed rule: working_dir is relative to /workflow and stays inside it, never empty. dstack's
    # parser takes any string (its CLI then requires an absolute path).
    working_dir = document.get("working_dir")
    if working_dir is not None and not (isinstance(working_dir, str) and working_dir.strip()):
        add("working_dir (seed rule)")
    if _strict_scalar_types(document):
        add("strict scalar types")
    # Environment: the mapping form's keys are checked as the list form's are (dstack: a TODO).
    env = document.get("env")
    if isinstance(env, Mapping) and any(
        not isinstance(key, str) or not ENV_KEY.fullmatch(key) for key in env
    ):
        add("env mapping key names are checked")
    # An empty network volume name (`:/data`, `name: []`): dstack parses it and finds no volume.
    volumes = document.get("volumes")
    if isinstance(volumes, list) and any(
        (isinstance(volume, str) and volume.startswith(":"))
        or (isinstance(volume, Mapping) and volume.get("name") in ("", []))
        for volume in volumes
    ):
        add("empty volume name")
    return found


def dstack_parse(text: str) -> Any:
    """dstack's CLI reading: safe_load, then the run-configuration parser. None: rejected."""
    try:
        return dstack_configurations.parse_run_configuration(yaml.safe_load(text))
    except Exception:  # ConfigurationError, and OverflowError from Duration(inf)
        return None


def ours_parse(text: str) -> LoadedConfig | None:
    try:
        return load_config(text=text)
    except ConfigError:
        return None


# --------------------------------------------------------------------------------------------
# Value comparison for documents both sides accept


def their_range(value: Any) -> tuple[float | None, float | None] | None:
    if value is None:
        return None
    return (
        None if value.min is None else float(value.min),
        None if value.max is None else float(value.max),
    )


def our_range(value: IntRange | GBRange | None) -> tuple[float | None, float | None] | None:
    if value is None:
        return None
    return (
        None if value.min is None else float(value.min),
        None if value.max is None else float(value.max),
    )


def gpu_count_as_seed(resources_value: Any) -> bool:
    """The seed's deliberate difference: a GPU requested without a count is exactly 1 (0.22.5:
    ``1..``). True when the resources request a GPU without writing its count."""
    gpu = resources_value.get("gpu") if isinstance(resources_value, Mapping) else None
    if isinstance(gpu, Mapping):
        return "count" not in gpu  # `gpu: {}` too: a GPU of the default count
    if isinstance(gpu, str):  # a count token has no letter (docs/configuration.md §5.4)
        tokens = gpu.replace(" ", "").split(":")
        return not any(token and not any(c.isalpha() for c in token) for token in tokens)
    return False


def _one_leading_slash(path: str) -> str:
    """dstack keeps POSIX's implementation-defined leading ``//`` (``str(PurePosixPath("//d"))``);
    the normalized view writes ``/d``, the same directory on Linux (docs/configuration.md §4.1:
    normalised)."""
    return "/" + path.lstrip("/")


def their_volume(volume: Any) -> tuple[str, str, tuple[str, ...] | None, str | None, bool]:
    path = _one_leading_slash(volume.path)
    if hasattr(volume, "instance_path"):
        return ("instance", path, None, _one_leading_slash(volume.instance_path), volume.optional)
    names = (volume.name,) if isinstance(volume.name, str) else tuple(volume.name)
    return ("network", path, names, None, False)


def compare_resources(written: Any, ours_resources: Any, resources_value: Any) -> None:
    """One `resources` (the service's or a group's) as both sides parsed it."""
    cpu = resources_value.cpu
    assert ours_resources.cpu.arch == (cpu.arch and cpu.arch.value)
    assert our_range(ours_resources.cpu.count) == their_range(cpu.count)
    assert our_range(ours_resources.memory_gb) == their_range(resources_value.memory)
    disk = resources_value.disk
    assert our_range(ours_resources.disk_gb) == (disk and their_range(disk.size))
    shm = resources_value.shm_size
    assert ours_resources.shm_size_gb == (None if shm is None else float(shm))
    gpu = resources_value.gpu
    ours_gpu = ours_resources.gpu
    if gpu is None:  # `gpu: null`: the default (docs/configuration.md §5.5)
        assert our_range(ours_gpu.count) == (0, None)
        assert ours_gpu.names is None and ours_gpu.vendor is None
    else:
        assert ours_gpu.vendor == (gpu.vendor and gpu.vendor.value)
        assert ours_gpu.names == (None if gpu.name is None else tuple(gpu.name))
        seed_default = isinstance(written, Mapping) and gpu_count_as_seed(written)
        if seed_default and their_range(gpu.count) == (1, None):
            assert our_range(ours_gpu.count) == (1, 1)
            assert ours_gpu.count_defaulted
        else:
            assert our_range(ours_gpu.count) == their_range(gpu.count)
        assert our_range(ours_gpu.memory_gb) == their_range(gpu.memory)
        assert our_range(ours_gpu.total_memory_gb) == their_range(gpu.total_memory)
        assert ours_gpu.compute_capability == (
            None if gpu.compute_capability is None else tuple(gpu.compute_capability)
        )


def compare_groups(document: Mapping[str, Any], ours: NormalizedService, theirs: Any) -> None:
    """Each replica group, with what it inherits from the service (as dstack's job configurator
    resolves it), and the service's replicas as the sum of the groups'."""
    if theirs.groups is None:
        assert ours.groups is None
        return
    assert ours.groups is not None and len(ours.groups) == len(theirs.groups)
    written = document.get("groups")
    if written is None:
        written = document["replicas"]
    for index, (mine, group) in enumerate(zip(ours.groups, theirs.groups, strict=True)):
        assert mine.name == group.name
        assert our_range(mine.replicas) == their_range(group.replicas)
        assert (mine.scaling is None) == (group.scaling is None)
        if group.scaling is not None and mine.scaling is not None:
            assert mine.scaling.target == group.scaling.target
        compare_resources(written[index].get("resources", {}), mine.resources, group.resources)
        assert mine.commands == tuple(group.commands)
        spot = group.spot_policy or theirs.spot_policy
        assert mine.spot_policy == (spot.value if spot else "on-demand")
        reservation = group.reservation if group.reservation is not None else theirs.reservation
        assert mine.reservation == reservation
        assert mine.image == (group.image if group.image is not None else theirs.image)
        docker = group.docker if group.docker is not None else theirs.docker
        assert mine.docker == docker
        if docker:
            privileged = True
        else:
            privileged = group.privileged if group.privileged is not None else theirs.privileged
        assert mine.privileged == privileged
        assert (mine.router and mine.router.type) == (group.router and group.router.type.value)
    minimum = sum(group.replicas.min for group in theirs.groups)
    maximum = sum(group.replicas.max for group in theirs.groups)
    assert our_range(ours.replicas) == (minimum, maximum)


def compare_new_keys(ours: NormalizedService, theirs: Any) -> None:
    """The keys dstack 0.22.5 added, with the defaults its server fills in."""
    assert ours.strip_prefix == theirs.strip_prefix
    assert [
        (limit.prefix, limit.key, limit.header, limit.rps, limit.burst)
        for limit in ours.rate_limits
    ] == [
        (limit.prefix, limit.key.type, getattr(limit.key, "header", None), limit.rps, limit.burst)
        for limit in theirs.rate_limits
    ]
    if theirs.probes is None:
        model = theirs.model
        expected = 1 if model is not None and model.format == "openai" else 0
        assert len(ours.probes) == expected
    else:
        assert [
            (p.url, p.method, [(h.name, h.value) for h in p.headers], p.body, p.timeout_seconds,
             p.interval_seconds, p.ready_after, p.until_ready)
            for p in ours.probes
        ] == [
            (p.url or "/", p.method or "get", [(h.name, h.value) for h in p.headers], p.body,
             10 if p.timeout is None else p.timeout, 15 if p.interval is None else p.interval,
             p.ready_after or 1, bool(p.until_ready))
            for p in theirs.probes
        ]  # fmt: skip
    assert [(r.local_path, r.url, r.branch, r.hash, r.path, r.if_exists) for r in ours.repos] == [
        (r.local_path, r.url, r.branch, r.hash, r.path, r.if_exists.value) for r in theirs.repos
    ]
    assert [(f.local_path, f.path) for f in ours.files] == [
        (f.local_path, f.path) for f in theirs.files
    ]
    assert ours.shell == theirs.shell
    assert ours.priority == (theirs.priority or 0)
    assert ours.single_branch == (True if theirs.single_branch is None else theirs.single_branch)
    assert ours.dstack == theirs.dstack
    zones = theirs.availability_zones
    assert ours.availability_zones == (None if zones is None else tuple(zones))
    stop = theirs.stop_duration
    assert ours.stop_duration_seconds == (300 if stop is None else None if stop == "off" else stop)
    policy = theirs.utilization_policy
    assert (ours.utilization_policy and ours.utilization_policy.model_dump()) == (
        policy
        and {
            "min_gpu_utilization": policy.min_gpu_utilization,
            "time_window_seconds": policy.time_window,
        }
    )
    assert ours.startup_order == (theirs.startup_order.value if theirs.startup_order else "any")
    assert ours.stop_criteria == (
        theirs.stop_criteria.value if theirs.stop_criteria else "all-done"
    )
    schedule = theirs.schedule
    assert ours.schedule == (None if schedule is None else tuple(schedule.crons))
    fleets = theirs.fleets
    assert ours.fleets == (None if fleets is None else tuple(f.format() for f in fleets))
    instances = theirs.instances
    if instances is None:
        assert ours.instances is None
    else:
        assert ours.instances is not None
        assert [(i.name, i.hostname, i.fleet, i.instance) for i in ours.instances] == [
            (
                getattr(i, "name", None),
                getattr(i, "hostname", None),
                i.fleet.format() if hasattr(i, "fleet") else None,
                getattr(i, "instance", None),
            )
            for i in instances
        ]
    assert ours.tags == theirs.tags
    options = theirs.backend_options
    assert (ours.backend_options is None) == (options is None)
    for mine, option in zip(ours.backend_options or (), options or (), strict=True):
        assert mine.offer_order == (option.offer_order.value if option.offer_order else "score")
        assert mine.min_score == option.min_score
    assert ours.docker == theirs.docker


def compare_values(document: Mapping[str, Any], ours: NormalizedService, theirs: Any) -> None:
    compare_resources(document.get("resources", {}), ours.resources, theirs.resources)
    compare_groups(document, ours, theirs)
    compare_new_keys(ours, theirs)
    assert ours.port.container_port == theirs.port.container_port
    replicas = theirs.replicas
    if theirs.groups is None:
        assert our_range(ours.replicas) == (their_range(replicas) if replicas else (1, 1))
    scaling = theirs.scaling
    if scaling is None:
        assert ours.scaling is None
    else:
        assert ours.scaling is not None
        assert ours.scaling.target == scaling.target
        assert ours.scaling.window_seconds == (60 if scaling.window is None else scaling.window)
        assert ours.scaling.scale_up_delay_seconds == scaling.scale_up_delay
        assert ours.scaling.scale_down_delay_seconds == scaling.scale_down_delay
    retry = theirs.retry
    if retry is None or retry is False:
        assert ours.retry is None
    else:
        assert ours.retry is not None
        events = (
            {"no-capacity", "interruption", "error"}
            if retry is True or retry.on_events is None
            else {event.value for event in retry.on_events}
        )
        assert set(ours.retry.on_events) == events
        duration = 3600 if retry is True or retry.duration is None else retry.duration
        assert ours.retry.duration_seconds == duration
    assert ours.spot_policy == (theirs.spot_policy.value if theirs.spot_policy else "on-demand")
    assert ours.max_price == theirs.max_price
    max_duration = theirs.max_duration
    assert ours.max_duration_seconds == (None if max_duration in (None, "off") else max_duration)
    idle = theirs.idle_duration
    assert ours.idle_duration_seconds == (300 if idle is None else -1 if idle < 0 else idle)
    assert ours.env == {
        key: value if isinstance(value, str) else None for key, value in theirs.env.items()
    }
    assert ours.commands == tuple(theirs.commands)
    gateway = theirs.gateway
    assert ours.gateway == (
        gateway if gateway is None or isinstance(gateway, bool) else gateway.format()
    )
    assert ours.https == (True if theirs.https is None else theirs.https)
    assert ours.auth == theirs.auth
    assert ours.backends == (
        None if theirs.backends is None else tuple(backend.value for backend in theirs.backends)
    )
    assert [
        (volume.kind, volume.path, volume.names, volume.instance_path, volume.optional)
        for volume in ours.volumes
    ] == [their_volume(volume) for volume in theirs.volumes]
    model = theirs.model
    if model is None:
        assert ours.model is None
    else:
        assert ours.model is not None
        assert (ours.model.type, ours.model.name, ours.model.format) == (
            model.type,
            model.name,
            model.format,
        )
        assert ours.model.prefix == getattr(model, "prefix", None)
        assert ours.model.chat_template == getattr(model, "chat_template", None)
        assert ours.model.eos_token == getattr(model, "eos_token", None)
    auth = theirs.registry_auth
    assert (ours.registry_auth and ours.registry_auth.username) == (auth and auth.username)
    python = theirs.python
    assert ours.python == (python and python.value)
    for key in ("name", "image", "user", "entrypoint", "privileged", "nvcc", "reservation"):
        assert getattr(ours, key) == getattr(theirs, key), key
    for key in ("regions", "instance_types"):
        value = getattr(theirs, key)
        assert getattr(ours, key) == (None if value is None else tuple(value)), key
    assert ours.creation_policy == (
        theirs.creation_policy.value if theirs.creation_policy else "reuse-or-create"
    )


def check_document(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document, sort_keys=False)
    ours = ours_parse(text)
    theirs = dstack_parse(text)
    differences = deliberate_differences(document)
    if (ours is None) != (theirs is None):
        allowed = [d for d in differences if d.ours_stricter == (ours is None)]
        side = "dstack accepts, we reject" if ours is None else "we accept, dstack rejects"
        assert allowed, f"{side} with no deliberate difference:\n{text}"
        return
    if ours is not None and theirs is not None:
        compare_values(document, ours.normalized, theirs)


@st.composite
def group_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A lean service of replica groups: few service-level keys, mostly valid values."""
    document: dict[str, Any] = {"type": "service", "port": 8000}
    for key in draw(
        st.lists(
            st.sampled_from(["image", "spot_policy", "reservation", "privileged", "docker",
                             "python", "nvcc", "model", "probes", "schedule", "backends"]),
            max_size=2,
            unique=True,
        )
    ):  # fmt: skip
        pool = ROOT_POOLS.get(key) or NEW_POOLS[key]
        document[key] = draw(st.sampled_from(pool.valid))
    document[draw(st.sampled_from(["replicas", "groups"]))] = draw(replica_groups(lean=True))
    return document


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(group_documents())
def test_both_parsers_agree_on_replica_group_services(document: dict[str, Any]) -> None:
    check_document(document)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(service_documents())
def test_both_parsers_agree_on_generated_documents(document: dict[str, Any]) -> None:
    check_document(document)


def test_generator_produces_both_outcomes() -> None:
    """A sanity check of the strategy: it is not all-valid nor all-invalid."""
    outcomes: set[bool] = set()

    @settings(max_examples=40, deadline=None, database=None)
    @given(service_documents())
    def collect(document: dict[str, Any]) -> None:
        outcomes.add(dstack_parse(yaml.safe_dump(document)) is None)

    collect()
    assert outcomes == {True, False}


def test_every_key_of_dstack_0225_is_a_key_here() -> None:
    """The JSON Schema's root keys are dstack 0.22.5's service keys plus the reference page's
    deprecated `termination_*` (docs/configuration.md §0)."""
    from planner.config.schema import json_schema

    ours = set(json_schema()["properties"])
    theirs = set(dstack_configurations.ServiceConfiguration.model_fields)
    assert ours - theirs == {"termination_policy", "termination_idle_time"}
    assert theirs <= ours
    group_keys = set(json_schema()["$defs"]["ReplicaGroupSpec"]["properties"])
    assert group_keys == set(dstack_configurations.ReplicaGroup.model_fields) | {"count"}
