"""What the EC2 emulator does not emulate, checked with botocore's Stubber on the plugin's real
boto3 clients (asserting the exact parameters sent): capacity reservation targeting (moto answers
`CapacityReservationSpecification` with an unparsable response) and the Pricing API (moto answers
HTTP 500). Also: a botocore error that quotes a credential never carries it out of the plugin.

These are not emulator tests: no request here reaches a server except where a test says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aws_files import DUMMY_ENV
from botocore.stub import ANY, Stubber

from planner.backends.aws.backend import AwsBackend
from planner.backends.aws.pricing import product_filters
from planner.backends.base import (
    TAG_CLIENT_TOKEN,
    TAG_PLAN,
    TAG_REPLICA,
    TAG_SERVICE,
    BackendConfig,
    BackendError,
    InstanceRequest,
    NoCapacity,
)
from planner.backends.registry import open_backend
from planner.backends.settings import load_backends
from planner.requirements import Requirements

TAGS = {TAG_SERVICE: "svc", TAG_REPLICA: "r0", TAG_PLAN: "plan1"}


def _backend(**settings: object) -> AwsBackend:
    values = {"regions": ["us-east-1"], "image_id": "ami-12345678", **settings}
    config = BackendConfig(name="aws", type="aws", settings=values, environ=dict(DUMMY_ENV))
    backend = open_backend(config)
    assert isinstance(backend, AwsBackend)
    return backend


@pytest.fixture(autouse=True)
def _dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DUMMY_ENV.items():
        monkeypatch.setenv(name, value)


def _expect_token_lookup(stubber: Stubber, token: str) -> None:
    stubber.add_response(
        "describe_instances",
        {"Reservations": []},
        {
            "Filters": [
                {"Name": f"tag:{TAG_CLIENT_TOKEN}", "Values": [token]},
                {
                    "Name": "instance-state-name",
                    "Values": ["pending", "running", "shutting-down", "stopping", "stopped"],
                },
            ]
        },
    )


def test_reservation_targets_the_capacity_reservation() -> None:
    # Stubbed: moto cannot parse CapacityReservationSpecification (docs/backends.md).
    backend = _backend(subnet_id="subnet-1", security_group_ids=["sg-1"], key_name="k")
    ec2 = backend.clients.ec2("us-east-1")
    request = InstanceRequest(
        instance_type="p5.48xlarge",
        region="us-east-1",
        market="reservation",
        client_token="tok-res",
        tags=TAGS,
        reservation="cr-0123456789abcdef0",
    )
    with Stubber(ec2) as stubber:
        _expect_token_lookup(stubber, "tok-res")
        stubber.add_response(
            "run_instances",
            {
                "Instances": [
                    {
                        "InstanceId": "i-0aaa",
                        "InstanceType": "p5.48xlarge",
                        "State": {"Code": 0, "Name": "pending"},
                        "CapacityReservationId": "cr-0123456789abcdef0",
                        "Tags": [{"Key": TAG_CLIENT_TOKEN, "Value": "tok-res"}],
                        "LaunchTime": datetime(2026, 1, 1, tzinfo=UTC),
                    }
                ]
            },
            {
                "ImageId": "ami-12345678",
                "InstanceType": "p5.48xlarge",
                "MinCount": 1,
                "MaxCount": 1,
                "ClientToken": "tok-res",
                "TagSpecifications": [
                    {
                        "ResourceType": "instance",
                        "Tags": [
                            {"Key": TAG_SERVICE, "Value": "svc"},
                            {"Key": TAG_REPLICA, "Value": "r0"},
                            {"Key": TAG_PLAN, "Value": "plan1"},
                            {"Key": TAG_CLIENT_TOKEN, "Value": "tok-res"},
                        ],
                    }
                ],
                "CapacityReservationSpecification": {
                    "CapacityReservationTarget": {"CapacityReservationId": "cr-0123456789abcdef0"}
                },
                "SubnetId": "subnet-1",
                "SecurityGroupIds": ["sg-1"],
                "KeyName": "k",
            },
        )
        instance = backend.create(request)
        stubber.assert_no_pending_responses()
    assert (instance.instance_id, instance.market) == ("i-0aaa", "reservation")
    assert instance.created_at == "2026-01-01T00:00:00+00:00"


def test_spot_request_carries_market_options_and_max_price() -> None:
    backend = _backend()
    ec2 = backend.clients.ec2("us-east-1")
    request = InstanceRequest(
        instance_type="g5.xlarge", region="us-east-1", market="spot", client_token="tok-spot",
        tags=TAGS, max_price=0.5, offer={"provider_data": json.dumps({"zone": "us-east-1d"})},
    )  # fmt: skip
    with Stubber(ec2) as stubber:
        _expect_token_lookup(stubber, "tok-spot")
        stubber.add_response(
            "run_instances",
            {"Instances": [{"InstanceId": "i-0bbb", "InstanceLifecycle": "spot"}]},
            {
                "ImageId": ANY, "InstanceType": "g5.xlarge", "MinCount": 1, "MaxCount": 1,
                "ClientToken": "tok-spot", "TagSpecifications": ANY,
                "InstanceMarketOptions": {
                    "MarketType": "spot",
                    "SpotOptions": {
                        "SpotInstanceType": "one-time",
                        "InstanceInterruptionBehavior": "terminate",
                        "MaxPrice": "0.500000",
                    },
                },
                "Placement": {"AvailabilityZone": "us-east-1d"},
            },
        )  # fmt: skip
        assert backend.create(request).market == "spot"


def test_no_capacity_is_a_typed_error() -> None:
    backend = _backend()
    ec2 = backend.clients.ec2("us-east-1")
    request = InstanceRequest(
        instance_type="p5.48xlarge", region="us-east-1", market="on-demand",
        client_token="tok-none", tags=TAGS,
    )  # fmt: skip
    with Stubber(ec2) as stubber:
        _expect_token_lookup(stubber, "tok-none")
        stubber.add_client_error(
            "run_instances",
            service_error_code="InsufficientInstanceCapacity",
            service_message="We currently do not have sufficient p5.48xlarge capacity.",
            http_status_code=500,
        )
        with pytest.raises(NoCapacity, match="InsufficientInstanceCapacity"):
            backend.create(request)


def test_a_botocore_error_quoting_credentials_does_not_leak_them(tmp_path) -> None:
    secret = "s3cr3t/Settings+Key/0123456789abcdefABCDEF"
    path = tmp_path / "backends.yml"
    path.write_text(
        "backends:\n  aws:\n    type: aws\n    region: us-east-1\n    image_id: ami-1\n"
        f"    access_key_id: AKIAQWERTYUIOPASDFGH\n    secret_access_key: {secret}\n",
        encoding="utf-8",
    )
    backend = open_backend(load_backends(path, environ=DUMMY_ENV).backends[0])
    assert isinstance(backend, AwsBackend)
    ec2 = backend.clients.ec2("us-east-1")
    message = (
        f"The request signature for AKIAQWERTYUIOPASDFGH with secret {secret} does not match; "
        f"the environment's {DUMMY_ENV['AWS_ACCESS_KEY_ID']} / "
        f"{DUMMY_ENV['AWS_SECRET_ACCESS_KEY']} and AKIAZZZZZZZZZZZZZZZZ were not tried"
    )
    with Stubber(ec2) as stubber:
        stubber.add_client_error(
            "describe_instances", service_error_code="AuthFailure", service_message=message
        )
        with pytest.raises(BackendError) as raised:
            backend.create(
                InstanceRequest(
                    instance_type="g5.xlarge", region="us-east-1", market="on-demand",
                    client_token="tok-leak", tags=TAGS,
                )
            )  # fmt: skip
    error = raised.value
    shown = " ".join([str(error), repr(error), *map(str, error.args)])
    for leaked in (
        secret,
        "AKIAQWERTYUIOPASDFGH",
        "AKIAZZZZZZZZZZZZZZZZ",
        DUMMY_ENV["AWS_ACCESS_KEY_ID"],
        DUMMY_ENV["AWS_SECRET_ACCESS_KEY"],
    ):
        assert leaked not in shown
    assert "AuthFailure" in shown and "***" in shown
    assert error.__cause__ is None and error.__suppress_context__


def test_on_demand_prices_from_the_pricing_api(moto) -> None:
    # EC2 calls go to the emulator; the Pricing API (HTTP 500 in moto) is stubbed.
    backend = _backend(endpoint_url=moto, on_demand_prices="pricing-api")
    pricing = backend.clients.pricing()
    product = {
        "product": {"attributes": {"instanceType": "g5.xlarge", "regionCode": "us-east-1"}},
        "terms": {
            "OnDemand": {
                "T1": {
                    "priceDimensions": {
                        "D1": {"unit": "Hrs", "pricePerUnit": {"USD": "1.0060000000"}}
                    }
                }
            }
        },
    }
    with Stubber(pricing) as stubber:
        stubber.add_response(
            "get_products",
            {"PriceList": [json.dumps(product)], "FormatVersion": "aws_v1"},
            {
                "ServiceCode": "AmazonEC2",
                "Filters": product_filters("us-east-1", ["g5.xlarge"]),
                "FormatVersion": "aws_v1",
            },
        )
        offers = backend.live_offers(Requirements(instance_types=("g5.xlarge",), spot=False))
        stubber.assert_no_pending_responses()
    frame = offers.frame
    assert frame[["instance_type", "region", "price", "spot"]].values.tolist() == [
        ["g5.xlarge", "us-east-1", 1.006, False]
    ]
    assert product_filters("us-east-1", ["g5.xlarge"])[-1] == {
        "Type": "ANY_OF",
        "Field": "instanceType",
        "Value": "g5.xlarge",
    }
