"""The AWS plugin's settings, as one entry of a backends file gives them.

```yaml
backends:
  aws:
    type: aws
    regions: [us-east-1]            # or region: us-east-1
    endpoint_url: http://127.0.0.1:5000   # an emulator; omitted: AWS itself
    profile: my-profile             # optional: a named profile of ~/.aws/config
    image_id: ami-0123456789abcdef0 # the AMI instances boot (needed by create)
```

Credentials come the boto3 way (environment, profile, instance role); ``access_key_id`` /
``secret_access_key`` / ``session_token`` may be given too and are kept as secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from planner.errors import InputError, Problem

# Where the Pricing API answers (it has few endpoints; us-east-1 is the usual one).
DEFAULT_PRICING_REGION = "us-east-1"


class AwsSettings(BaseModel):
    """Settings of one ``type: aws`` backend (every field optional but ``image_id`` for create)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: tuple[str, ...] = Field(default=("us-east-1",), min_length=1)
    endpoint_url: str | None = None
    profile: str | None = None
    image_id: str | None = None
    # Where on-demand prices come from: the Pricing API, or the bundled catalog's AWS rows (for
    # an emulator that has no Pricing API, such as moto).
    on_demand_prices: Literal["pricing-api", "catalog"] = "pricing-api"
    pricing_region: str = DEFAULT_PRICING_REGION
    pricing_endpoint_url: str | None = None  # default: endpoint_url
    gpu_only: bool = True  # live offers list instance types with GPUs only (as the catalog)
    # EC2 cannot filter instance types by GPU; with gpu_only the query names these families
    # (wildcards of the instance-type filter), which hold every GPU type EC2 has.
    gpu_instance_types: tuple[str, ...] = Field(default=("g*", "p*", "dl*"), min_length=1)
    subnet_id: str | None = None
    security_group_ids: tuple[str, ...] = ()
    key_name: str | None = None
    poll_seconds: float = Field(default=2.0, gt=0, le=60)
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_region(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "region" in data:
            data = dict(data)
            if "regions" in data:
                raise ValueError("give either region or regions, not both")
            data["regions"] = [data.pop("region")]
        return data

    def secrets(self) -> tuple[str, ...]:
        values = (self.access_key_id, self.secret_access_key, self.session_token)
        return tuple(value.get_secret_value() for value in values if value is not None)


def parse_settings(
    settings: Mapping[str, Any], *, source: str | None, line: int | None, name: str
) -> AwsSettings:
    """``settings`` as ``AwsSettings``; an ``InputError`` naming the file, line and field else
    (never quoting a value: it may be a secret)."""
    plain = {
        key: value.get_secret_value() if isinstance(value, SecretStr) else value
        for key, value in settings.items()
        if key not in ("type", "name")
    }
    try:
        return AwsSettings.model_validate(plain)
    except ValidationError as error:
        problems = [
            Problem(
                item["msg"],
                file=source,
                line=line,
                path=".".join(["backends", name, *(str(part) for part in item["loc"])]),
            )
            for item in error.errors(include_input=False)
        ]
        raise InputError(problems) from None
