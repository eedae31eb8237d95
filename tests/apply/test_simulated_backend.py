"""The simulated backend through the plugin interface: live offers, capacity, idempotent creates."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner import Catalog, find_offers
from planner.backends.base import (
    TAG_SERVICE,
    InstanceNotFound,
    InstanceRequest,
    NoCapacity,
)
from planner.backends.registry import open_backend
from planner.backends.settings import load_backends
from planner.errors import InputError
from planner.requirements import Requirements

SCENARIO = """\
pools:
  - {instance_type: g5.xlarge, region: us-east-1, market: spot, capacity: 1}
offers:
  - {provider: aws, instance_type: g5.xlarge, region: us-east-1, price: 1.006, cpu: 4,
     memory_gb: 16, gpu_count: 1, gpu_name: A10G, gpu_memory_gb: 24, gpu_vendor: nvidia}
  - {provider: aws, instance_type: g5.xlarge, region: us-east-1, price: 0.45, cpu: 4,
     memory_gb: 16, spot: true, gpu_count: 1, gpu_name: A10G, gpu_memory_gb: 24,
     gpu_vendor: nvidia}
  - {provider: aws, instance_type: m5.large, region: us-east-1, price: 0.096, cpu: 2,
     memory_gb: 8}
"""


def _backend(tmp_path: Path, scenario: str = SCENARIO):  # type: ignore[no-untyped-def]
    (tmp_path / "scenario.yml").write_text(scenario)
    path = tmp_path / "backends.yml"
    path.write_text("backends:\n  sim:\n    type: simulated\n    scenario: scenario.yml\n")
    (config,) = load_backends(path).backends
    return open_backend(config)


def _request(token: str, market: str = "spot") -> InstanceRequest:
    return InstanceRequest(
        instance_type="g5.xlarge",
        region="us-east-1",
        market=market,  # type: ignore[arg-type]
        client_token=token,
        tags={TAG_SERVICE: "web"},
        offer={"price": 0.45},
    )


def test_live_offers_enter_the_offer_table_with_their_provenance(tmp_path: Path) -> None:
    live = _backend(tmp_path).live_offers(Requirements())
    assert (live.backend, live.type) == ("sim", "simulated") and live.fetched_at
    source = live.catalog_source()
    assert (source.location, source.format, source.providers) == ("live:sim", "live", ("aws",))
    assert source.as_of == live.fetched_at and source.rows == 3
    catalog = Catalog.from_frame(live.frame, sources=[source])
    assert catalog.sources == (source,)
    offers = find_offers(Requirements(min_gpu_count=1, gpu_names=("A10G",)), catalog)
    assert [(row.spot, row.price) for row in offers.frame.itertuples()] == [
        (True, 0.45),
        (False, 1.006),
    ]


def test_capacity_tokens_and_termination(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    first = backend.create(_request("a"))
    assert (first.state, first.market, first.hourly_price) == ("running", "spot", 0.45)
    # The same client token: the same instance, not a second one.
    assert backend.create(_request("a")) == first
    # The pool holds one spot instance: another token gets "no capacity"; on-demand has room.
    with pytest.raises(NoCapacity, match="no capacity"):
        backend.create(_request("b"))
    on_demand = backend.create(_request("c", market="on-demand"))
    assert {i.instance_id for i in backend.list_created("web")} == {
        first.instance_id,
        on_demand.instance_id,
    }
    assert backend.list_created("other") == ()
    assert backend.terminate(first.instance_id).state == "terminated"
    assert backend.describe(first.instance_id).state == "terminated"
    # The terminated instance frees its capacity.
    assert backend.create(_request("b")).state == "running"
    with pytest.raises(InstanceNotFound):
        backend.describe("sim-999999")


def test_a_bad_scenario_names_its_file_line_and_field(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        _backend(tmp_path, "pools:\n  - {region: x, capacity: -1}\n  - {colour: red}\n")
    text = str(raised.value)
    assert "scenario.yml:2" in text and "pools.0.capacity" in text
    assert "scenario.yml:3" in text and "unknown field" in text
