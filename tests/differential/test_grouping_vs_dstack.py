"""Differential test: ``--group-by`` against dstack 0.22.5's server grouping (``services/gpus.py``).

dstack's module imports the server's database layer (sqlalchemy, not installed here) only for the
function that fetches offers; the grouping functions are pure. The test compiles the module's
source without those imports and feeds its ``_get_gpus_grouped`` / ``_get_cpus_grouped`` the same
offers ``planner`` matched (as dstack offer models), then compares every group field, in order, for
every valid key combination, on the bundled catalog plus the SkyPilot samples (two sources, one
provider in both).
"""

from __future__ import annotations

import itertools
import re
import types
from pathlib import Path
from typing import Any

import pytest

# Module-level on purpose: every test here compares against dstack's grouping and builds dstack
# offer models (gpuhunt's vendor enum), so without the oracles the whole module has nothing to run.
dstack = pytest.importorskip("dstack")
gpuhunt = pytest.importorskip("gpuhunt")

from dstack._internal.core.models.backends.base import BackendType  # noqa: E402
from dstack._internal.core.models.instances import (  # noqa: E402
    Disk,
    Gpu,
    InstanceAvailability,
    InstanceOfferWithAvailability,
    InstanceType,
    Resources,
)

from planner.catalog import Catalog  # noqa: E402
from planner.match import Offers, find_offers  # noqa: E402
from planner.requirements import DSTACK_ALLOWED_FLAGS, Requirements  # noqa: E402

KEY_SETS = [
    combo
    for size in range(4)
    for combo in itertools.combinations(("backend", "region", "count"), size)
    if "region" not in combo or "backend" in combo
]


def _dstack_grouping() -> types.ModuleType:
    path = Path(dstack.__file__).parent / "_internal" / "server" / "services" / "gpus.py"
    source = path.read_text(encoding="utf-8")
    source = re.sub(r"^from sqlalchemy[^\n]*\n", "", source, flags=re.M)
    source = re.sub(r"^from dstack\._internal\.server[^\n(]*\([^)]*\)\n", "", source, flags=re.M)
    source = re.sub(r"^from dstack\._internal\.server[^\n]*\n", "", source, flags=re.M)
    module = types.ModuleType("dstack_gpus_grouping")
    # Names only used in the annotations of the database-facing functions.
    for name in ("AsyncSession", "ProjectModel", "InstanceModel", "ListGpusResponse"):
        setattr(module, name, object)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def grouping() -> types.ModuleType:
    return _dstack_grouping()


@pytest.fixture(scope="module")
def catalog(fixtures_dir: Path) -> Catalog:
    return Catalog.load("bundled", fixtures_dir / "skypilot-catalog-v7")


def _dstack_offer(offer: dict[str, Any]) -> InstanceOfferWithAvailability:
    gpus = []
    if offer["gpu_count"]:
        gpu = Gpu(
            vendor=gpuhunt.AcceleratorVendor(offer["gpu_vendor"]),
            name=offer["gpu_name"],
            memory_mib=round((offer["gpu_memory_gb"] or 0) * 1024),
        )
        gpus = [gpu] * offer["gpu_count"]
    resources = Resources(
        cpus=offer["cpu"],
        memory_mib=round(offer["memory_gb"] * 1024),
        gpus=gpus,
        spot=offer["spot"],
        disk=Disk(size_mib=round((offer["disk_gb"] or 100) * 1024)),
    )
    return InstanceOfferWithAvailability(
        backend=BackendType(offer["backend"]),
        instance=InstanceType(name=offer["instance_type"], resources=resources),
        region=offer["region"],
        price=offer["price"],
        availability=InstanceAvailability.AVAILABLE,
    )


def _values(items: list[Any] | None) -> list[str] | None:
    return None if items is None else [getattr(item, "value", item) for item in items]


def _dstack_row(group: Any, cpu: bool) -> tuple[Any, ...]:
    head = () if cpu else (group.name, group.memory_mib, group.vendor.value)
    backend = group.backend.value if group.backend else None
    return (
        *head,
        group.count.min,
        group.count.max,
        group.spot,
        pytest.approx(group.price.min),
        pytest.approx(group.price.max),
        group.region,
        group.regions,
        backend,
        _values(group.backends),
    )


def _our_row(group: dict[str, Any], cpu: bool) -> tuple[Any, ...]:
    head = () if cpu else (group["name"], round(group["memory_gb"] * 1024), group["vendor"])
    return (
        *head,
        group["count"]["min"],
        group["count"]["max"],
        group["spot"],
        group["price"]["min"],
        group["price"]["max"],
        group["region"],
        group["regions"],
        group["backend"],
        group["backends"],
    )


def _compare(grouping: types.ModuleType, offers: Offers, cpu: bool) -> None:
    dstack_offers = [_dstack_offer(offer) for offer in offers.records()]
    assert dstack_offers
    group = grouping._get_cpus_grouped if cpu else grouping._get_gpus_grouped
    for keys in KEY_SETS:
        expected = [_dstack_row(g, cpu) for g in group(dstack_offers, set(keys), False)]
        actual = [_our_row(g, cpu) for g in offers.grouped(("gpu", *keys))]
        assert actual == expected, keys


def test_gpu_groups_equal_dstacks(grouping: types.ModuleType, catalog: Catalog) -> None:
    requirements = Requirements(min_gpu_count=1, allowed_flags=DSTACK_ALLOWED_FLAGS)
    _compare(grouping, find_offers(requirements, catalog, rows=True), cpu=False)


def test_gpu_groups_under_backend_aliases_equal_dstacks(
    grouping: types.ModuleType, catalog: Catalog
) -> None:
    backends = ("datacrunch", "lambda", "aws")
    requirements = Requirements(
        min_gpu_count=1,
        allowed_flags=DSTACK_ALLOWED_FLAGS,
        backends=backends,
        providers=("verda", "lambdalabs", "aws"),
    )
    offers = find_offers(requirements, catalog, rows=True)
    assert {offer["backend"] for offer in offers.records()} == set(backends)
    _compare(grouping, offers, cpu=False)


def test_cpu_groups_equal_dstacks(grouping: types.ModuleType, catalog: Catalog) -> None:
    requirements = Requirements(max_gpu_count=0, allowed_flags=DSTACK_ALLOWED_FLAGS)
    _compare(grouping, find_offers(requirements, catalog, rows=True), cpu=True)
