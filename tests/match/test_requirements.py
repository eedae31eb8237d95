"""Configuration -> Requirements: defaults, vendor inference and image rules, spot, backends."""

from __future__ import annotations

import pytest

from planner.config import load_config
from planner.config.normalized import NormalizedPort, NormalizedService
from planner.errors import ConfigError
from planner.requirements import (
    DSTACK_ALLOWED_FLAGS,
    Requirements,
    backend_of_provider,
    provider_of_backend,
    requirements_from_config,
)


def requirements_of(body: str, *, image: bool = False) -> Requirements:
    head = "type: service\nport: 8000\n"
    head += "image: ghcr.io/example/serve:1\n" if image else "commands: [serve]\n"
    return requirements_from_config(load_config(text=head + body, name="service.yml"))


def test_defaults_become_the_dstack_query() -> None:
    requirements = requirements_of("")
    assert requirements == Requirements(
        cpu_arch="x86",
        min_cpu=2,
        min_memory_gb=8.0,
        min_gpu_count=0,
        gpu_vendor="nvidia",
        min_disk_gb=100.0,
        spot=False,
        allowed_flags=DSTACK_ALLOWED_FLAGS,
    )


def test_a_normalized_service_is_accepted_directly() -> None:
    service = NormalizedService(port=NormalizedPort(container_port=80))
    assert requirements_from_config(service) == requirements_of("")


def test_an_unknown_backend_of_a_normalized_service_is_a_config_error() -> None:
    # A loaded file cannot name one (the model refuses it); a service built in code can.
    service = NormalizedService(port=NormalizedPort(container_port=80), backends=("aws", "nope"))
    with pytest.raises(ConfigError) as raised:
        requirements_from_config(service)
    (problem,) = raised.value.problems
    assert problem.path == "backends"
    assert problem.message.startswith("unknown backend 'nope'; known backends: amddevcloud, aws,")


def test_ranges_and_units_reach_the_query() -> None:
    requirements = requirements_of(
        "resources:\n"
        "  cpu: 4..16\n"
        "  memory: ..80GB\n"
        "  disk: 200GB..1TB\n"
        "  gpu:\n"
        "    name: [A100, H100]\n"
        "    count: 2..8\n"
        "    memory: 40GB..\n"
        "    total_memory: ..640GB\n"
        "    compute_capability: 8.0\n"
        "max_price: 12.5\n"
        "regions: [us-east-1]\n"
        "instance_types: [p4d.24xlarge]\n"
    )
    assert (requirements.min_cpu, requirements.max_cpu) == (4, 16)
    assert (requirements.min_memory_gb, requirements.max_memory_gb) == (None, 80.0)
    assert (requirements.min_disk_gb, requirements.max_disk_gb) == (200.0, 1024.0)
    assert requirements.gpu_names == ("A100", "H100")
    assert (requirements.min_gpu_count, requirements.max_gpu_count) == (2, 8)
    assert requirements.min_gpu_memory_gb == 40.0
    assert requirements.max_total_gpu_memory_gb == 640.0
    assert requirements.min_compute_capability == (8, 0)
    assert requirements.max_price == 12.5
    assert requirements.regions == ("us-east-1",)
    assert requirements.instance_types == ("p4d.24xlarge",)
    assert requirements.gpu_vendor == "nvidia"  # inferred from the names


def test_disk_null_removes_the_disk_bound() -> None:
    requirements = requirements_of("resources:\n  disk: null\n")
    assert requirements.min_disk_gb is None and requirements.max_disk_gb is None


@pytest.mark.parametrize(("policy", "spot"), [("spot", True), ("on-demand", False), ("auto", None)])
def test_spot_policy(policy: str, spot: bool | None) -> None:
    assert requirements_of(f"spot_policy: {policy}\n").spot is spot


@pytest.mark.parametrize(
    ("gpu", "image", "vendor"),
    [
        ("2", False, "nvidia"),  # no names, default image -> nvidia
        ("24GB", True, None),  # no names, custom image -> any vendor
        ("A100,H100", False, "nvidia"),
        ("MI300X:2", True, "amd"),
        ("v5litepod-8", False, "google"),
        ("tpu:v5p-1024", False, "google"),
        ("v5e-8", False, None),  # gpuhunt calls v5e "v5litepod": unknown
        ("A100,MI300X", True, None),  # mixed vendors
        ("A100,UNKNOWN1000", False, None),  # some name unknown
        ("Gaudi2", True, "intel"),
        ("n300", True, "tenstorrent"),
        ("amd:2", True, "amd"),  # explicit vendor is kept
    ],
)
def test_vendor_inference(gpu: str, image: bool, vendor: str | None) -> None:
    assert requirements_of(f"resources:\n  gpu: {gpu}\n", image=image).gpu_vendor == vendor


def test_no_vendor_inferred_when_no_gpu_is_allowed() -> None:
    assert requirements_of("resources:\n  gpu: 0\n").gpu_vendor is None


@pytest.mark.parametrize("gpu", ["MI300X", "amd:1", "Gaudi3", "p150", "A100,MI300X"])
def test_non_nvidia_accelerator_without_image_is_refused(gpu: str) -> None:
    with pytest.raises(ConfigError, match="`image` must be set when the requested accelerator"):
        requirements_of(f"resources:\n  gpu: {gpu}\n")


@pytest.mark.parametrize(
    ("gpu", "vendor", "name", "count"),
    [
        ("v5litepod-8", "google", "v5litepod-8", 1),  # a TPU slice runs on the default image
        ("UNKNOWN1000", None, "UNKNOWN1000", 1),  # unknown: no vendor is inferred, no refusal
        ("A100", "nvidia", "A100", 1),
        ("MI300X:0", None, "MI300X", 0),  # no GPU at all: the AMD name needs no image
    ],
)
def test_default_image_accelerators_are_accepted(
    gpu: str, vendor: str | None, name: str, count: int
) -> None:
    requirements = requirements_of(f"resources:\n  gpu: {gpu}\n")
    assert requirements.gpu_vendor == vendor
    assert requirements.gpu_names == (name,)
    assert (requirements.min_gpu_count, requirements.max_gpu_count) == (count, count)


def test_image_rule_error_names_the_file_line_and_field() -> None:
    with pytest.raises(ConfigError) as raised:
        requirements_of("resources:\n  gpu: MI300X\n")
    problem = raised.value.problems[0]
    assert problem.file == "service.yml"
    assert problem.path == "resources.gpu"
    assert (problem.line, problem.column) == (5, 8)  # the value `MI300X`
    assert str(problem).startswith("service.yml:5:8: resources.gpu: `image` must be set")


def test_arm_rule_error_is_located_at_the_cpu_request() -> None:
    with pytest.raises(ConfigError) as raised:
        requirements_of("resources:\n  memory: 16GB..\n  cpu: arm:8\n")
    problem = raised.value.problems[0]
    assert (problem.path, problem.line, problem.column) == ("resources.cpu", 6, 8)


def test_image_rule_error_without_positions_still_names_the_field() -> None:
    service = load_config(
        text="type: service\nport: 8000\ncommands: [serve]\nresources:\n  gpu: MI300X\n"
    ).normalized
    with pytest.raises(ConfigError) as raised:
        requirements_from_config(service)
    problem = raised.value.problems[0]
    assert (problem.path, problem.line) == ("resources.gpu", None)


def test_arm_without_image_is_refused_and_x86_is_pinned() -> None:
    with pytest.raises(ConfigError, match="`image` must be set when ARM CPU requested"):
        requirements_of("resources:\n  cpu: arm:8\n")
    assert requirements_of("resources:\n  cpu: arm:8\n", image=True).cpu_arch == "arm"
    assert requirements_of("", image=True).cpu_arch is None
    assert requirements_of("").cpu_arch == "x86"


def test_backends_become_providers() -> None:
    requirements = requirements_of("backends: [lambda, datacrunch, amddevcloud, aws, kubernetes]\n")
    assert requirements.providers == ("lambdalabs", "verda", "digitalocean", "aws")
    assert requirements.backends == ("lambda", "datacrunch", "amddevcloud", "aws", "kubernetes")


def test_backend_provider_names() -> None:
    assert provider_of_backend("lambda") == "lambdalabs"
    assert provider_of_backend("datacrunch") == "verda"
    assert provider_of_backend("verda") == "verda"
    assert provider_of_backend("amddevcloud") == "digitalocean"
    assert provider_of_backend("cudo") is None  # gpuhunt 0.1.34 dropped it
    assert backend_of_provider("lambdalabs") == "lambda"
    assert backend_of_provider("digitalocean", ("amddevcloud",)) == "amddevcloud"
    assert backend_of_provider("digitalocean", ("amddevcloud", "digitalocean")) == "digitalocean"


def test_privileged_keeps_only_backends_that_run_privileged_containers() -> None:
    from planner import Catalog, find_offers
    from planner.requirements import PRIVILEGED_PROVIDERS

    requirements = requirements_of("privileged: true\nresources:\n  gpu: A100\n")
    assert requirements.privileged is True
    catalog = Catalog.load()
    privileged = find_offers(requirements, catalog, rows=True)
    plain = find_offers(requirements_of("resources:\n  gpu: A100\n"), catalog, rows=True)
    providers = {record["provider"] for record in privileged.records()}
    assert providers and providers <= set(PRIVILEGED_PROVIDERS)
    assert {"runpod", "vastai"} & {record["provider"] for record in plain.records()}
    assert 0 < privileged.total < plain.total
    (exclusion,) = [e for e in privileged.exclusions if e.requirement == "privileged"]
    assert exclusion.excluded > 0 and "privileged" in exclusion.condition


@pytest.mark.parametrize(
    ("volumes", "needs_instance_volumes"),
    [
        ("volumes:\n  - /mnt/models:/models\n", True),
        ("volumes:\n  - instance_path: /mnt/models\n    path: /models\n", True),
        ("volumes:\n  - instance_path: /mnt/m\n    path: /models\n    optional: true\n", False),
        ("volumes:\n  - my-network-volume:/models\n", False),
        ("", False),
    ],
)
def test_instance_volumes_narrow_the_backends(volumes: str, needs_instance_volumes: bool) -> None:
    from planner import Catalog, find_offers
    from planner.requirements import INSTANCE_VOLUME_PROVIDERS

    requirements = requirements_of(volumes + "resources:\n  gpu: A100\n")
    assert requirements.instance_volumes is needs_instance_volumes
    providers = {
        record["provider"]
        for record in find_offers(requirements, Catalog.load(), rows=True).records()
    }
    assert providers
    assert (providers <= set(INSTANCE_VOLUME_PROVIDERS)) is needs_instance_volumes


def test_every_backend_the_configuration_accepts_is_known_to_the_matcher() -> None:
    # Backends without catalog offers (remote, slurm, dstack, kubernetes) are valid and offer nothing.
    requirements = requirements_of("backends: [slurm, remote, dstack, aws]\n")
    assert requirements.providers == ("aws",)
