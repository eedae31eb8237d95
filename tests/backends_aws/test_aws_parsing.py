"""The AWS plugin's parsers and scrubbing, over generated inputs (no server): a Pricing API
product gives its hourly USD price or nothing; a message never keeps a known secret or an
access-key-shaped word."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from planner.backends.aws.pricing import price_of_product
from planner.backends.aws.session import scrub

# Secrets as AWS writes them: base64-ish, long enough not to occur by chance in the filler.
SECRET = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=", min_size=12,
    max_size=48,
)  # fmt: skip
FILLER = st.text(alphabet=" .,:;-_()abcdefghij", max_size=30)


@given(secrets=st.lists(SECRET, min_size=1, max_size=4), fillers=st.lists(FILLER, min_size=5))
def test_scrub_removes_every_known_secret(secrets: list[str], fillers: list[str]) -> None:
    parts = []
    for index, filler in enumerate(fillers):
        parts += [filler, secrets[index % len(secrets)]]
    cleaned = scrub("".join(parts), tuple(secrets))
    for secret in secrets:
        assert secret not in cleaned


@given(
    key=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16),
    prefix=st.sampled_from(["AKIA", "ASIA"]),
    before=FILLER,
    after=FILLER,
)
def test_scrub_masks_access_key_ids_it_was_not_told(key, prefix, before, after) -> None:
    word = prefix + key
    cleaned = scrub(f"{before} {word} {after}", ())
    assert word not in cleaned and "***" in cleaned


def _product(usd: str, unit: str = "Hrs", region: str | None = "eu-west-1") -> str:
    attributes = {"instanceType": "g5.xlarge"}
    if region is not None:
        attributes["regionCode"] = region
    return json.dumps(
        {
            "product": {"attributes": attributes},
            "terms": {
                "OnDemand": {
                    "T": {"priceDimensions": {"D": {"unit": unit, "pricePerUnit": {"USD": usd}}}}
                }
            },
        }
    )


@given(price=st.decimals(min_value=0, max_value=1000, places=10, allow_nan=False))
def test_a_product_gives_its_positive_hourly_price(price: Decimal) -> None:
    parsed = price_of_product(_product(str(price)))
    if price > 0:
        assert parsed == {
            "instance_type": "g5.xlarge",
            "region": "eu-west-1",
            "price": float(price),
        }
    else:
        assert parsed is None  # a zero price is no offer (a placeholder term)


def test_a_product_without_an_hourly_term_or_region_gives_nothing() -> None:
    assert price_of_product(_product("1.0", unit="Quantity")) is None
    assert price_of_product(_product("1.0", region=None)) is None
    assert price_of_product(json.dumps({"product": {}})) is None
