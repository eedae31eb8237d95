"""Inputs for `planner report` tests: a small gpuhunt-format catalog whose prices a test can move,
and service files as a repository would hold them."""

from __future__ import annotations

from pathlib import Path

HEADER = (
    "instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot,disk_size,"
    "gpu_vendor,flags,cpu_arch,provider_data"
)
# (instance, region, on-demand price, cpu, memory GB, gpu count, gpu name, gpu memory GB)
ROWS = (
    ("g6.xlarge", "us-east-1", 0.80, 4, 16.0, 1, "L4", 24.0),
    ("g6.xlarge", "us-west-2", 0.90, 4, 16.0, 1, "L4", 24.0),
    ("p4d.24xlarge", "us-east-1", 32.00, 96, 1152.0, 8, "A100", 40.0),
    ("m5.xlarge", "us-east-1", 0.20, 4, 16.0, 0, "", 0.0),
)

CHAT = """\
type: service
name: chat
image: vllm/vllm-openai:latest
port: 8000
env:
  - HF_TOKEN=hf_SECRET_TOKEN_VALUE
registry_auth:
  username: bot
  password: REGISTRY_SECRET_PASSWORD
replicas: {replicas}
resources:
  gpu: {gpu}
  disk: null
"""


def chat(replicas: str = "1", gpu: str = "L4") -> str:
    """The chat service (with secrets in env and registry_auth), scaled when given a range."""
    text = CHAT.format(replicas=replicas, gpu=gpu)
    if ".." in replicas:
        text += "scaling:\n  metric: rps\n  target: 10\n"
    return text


EMBED = """\
type: service
name: embed
image: python:3.12
port: 8000
commands: [python -m http.server 8000]
resources:
  cpu: 4
  memory: 16GB
  disk: null
"""

SECRETS = ("hf_SECRET_TOKEN_VALUE", "REGISTRY_SECRET_PASSWORD")


def write_catalog(directory: Path, *, price_factor: float = 1.0, as_of: str = "2026-01-01") -> Path:
    """An ``aws.csv`` with ``ROWS`` at ``price_factor`` × their price (on-demand only)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [HEADER]
    for instance, region, price, cpu, memory, gpus, gpu, gpu_memory in ROWS:
        vendor = "nvidia" if gpus else ""
        gpu_memory_text = f"{gpu_memory}" if gpus else ""
        lines.append(
            f"{instance},{region},{round(price * price_factor, 6)},{cpu},{memory},{gpus},{gpu},"
            f"{gpu_memory_text},False,,{vendor},,x86,{{}}"
        )
    (directory / "aws.csv").write_text("\n".join(lines) + "\n")
    (directory / "version").write_text(as_of.replace("-", "") + "\n")
    return directory
