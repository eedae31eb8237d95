"""The baseline diff: added / removed / changed, and price drift told apart from configuration drift.

Prices are hand-set (report_files.ROWS): L4 $0.80, CPU $0.20; `write_catalog(price_factor=1.5)`
is the same offers at 1.5 × the price.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_files import EMBED, chat, write_catalog

import planner
from planner.errors import InputError


def _json_baseline(path: Path, report: planner.Report) -> Path:
    path.write_text(json.dumps(report.to_json()))
    return path


def test_added_removed_changed_unchanged_against_a_directory(
    services: Callable[..., Path], catalog: planner.Catalog
) -> None:
    old = services("old", {"chat.yml": chat("1"), "embed.yml": EMBED, "gone.yml": EMBED})
    new = services("new", {"chat.yml": chat("2"), "embed.yml": EMBED, "fresh.yml": chat()})
    result = planner.report(new, catalog=catalog, baseline=old)
    diff = result.diff
    assert diff is not None and diff.baseline_kind == "directory" and not diff.catalog_changed
    kinds = {change.key: change.change for change in diff.changes}
    assert kinds == {
        "chat.yml": "changed",
        "embed.yml": "unchanged",
        "fresh.yml": "added",
        "gone.yml": "removed",
    }
    by_key = {change.key: change for change in diff.changes}
    chat_change = by_key["chat.yml"]
    assert (chat_change.old_hourly, chat_change.new_hourly) == (Decimal("0.8"), Decimal("1.6"))
    assert chat_change.delta == Decimal("0.8") and chat_change.percent == Decimal("100.00")
    assert chat_change.cause == "configuration" and chat_change.configuration_changed
    assert chat_change.configuration_delta == Decimal("0.8") and chat_change.price_delta == 0
    assert by_key["fresh.yml"].delta == Decimal("0.8")
    assert by_key["gone.yml"].delta == Decimal("-0.2")
    assert by_key["embed.yml"].cause == "none"
    # old: 0.8 + 0.2 + 0.2 = 1.2; new: 1.6 + 0.2 + 0.8 = 2.6
    assert (diff.old_total_hourly, diff.new_total_hourly) == (Decimal("1.2"), Decimal("2.6"))
    assert diff.percent == Decimal("116.67")


def test_price_drift_same_files_newer_prices(
    services: Callable[..., Path], catalog: planner.Catalog, tmp_path: Path
) -> None:
    root = services("repo", {"chat.yml": chat(), "embed.yml": EMBED})
    before = _json_baseline(tmp_path / "before.json", planner.report(root, catalog=catalog))
    pricier = planner.Catalog.load(str(write_catalog(tmp_path / "new-catalog", price_factor=1.5)))
    result = planner.report(root, catalog=pricier, baseline=before)
    diff = result.diff
    assert diff is not None and diff.catalog_changed
    for change in diff.changes:
        assert change.change == "changed" and change.cause == "prices"
        assert change.configuration_changed is False
        assert change.configuration_delta == 0 and change.price_delta == change.delta
    chat_change = next(change for change in diff.changes if change.key == "chat.yml")
    assert chat_change.new_hourly == Decimal("1.2") and chat_change.percent == Decimal("50.00")


def test_configuration_drift_same_catalog_from_a_json_baseline(
    services: Callable[..., Path], catalog: planner.Catalog, tmp_path: Path
) -> None:
    before_files = services("before", {"chat.yml": chat("1")})
    before = _json_baseline(tmp_path / "before.json", planner.report(before_files, catalog=catalog))
    after = services("after", {"chat.yml": chat("3")})
    [change] = planner.report(after, catalog=catalog, baseline=before).diff.changes  # type: ignore[union-attr]
    assert change.cause == "configuration"
    assert change.configuration_delta == Decimal("1.6") and change.price_delta == 0


def test_both_drifts_split_with_the_baseline_catalog(
    services: Callable[..., Path], catalog: planner.Catalog, tmp_path: Path
) -> None:
    """old: 1 replica at $0.80; new: 2 replicas at 1.5 × the price = $2.40.
    configuration drift = new config on the old catalog (2 × 0.80) − old = +0.80;
    price drift = the rest = 2.40 − 1.60 = +0.80."""
    old = services("old", {"chat.yml": chat("1")})
    new = services("new", {"chat.yml": chat("2")})
    pricier = planner.Catalog.load(str(write_catalog(tmp_path / "new-catalog", price_factor=1.5)))
    from_directory = planner.report(new, catalog=pricier, baseline=old, baseline_catalog=catalog)
    before = _json_baseline(tmp_path / "before.json", planner.report(old, catalog=catalog))
    from_json = planner.report(new, catalog=pricier, baseline=before, baseline_catalog=catalog)
    for result in (from_directory, from_json):
        [change] = result.diff.changes  # type: ignore[union-attr]
        assert change.cause == "configuration and prices"
        assert (change.old_hourly, change.new_hourly) == (Decimal("0.8"), Decimal("2.4"))
        assert change.configuration_delta == Decimal("0.8")
        assert change.price_delta == Decimal("0.8")
    # Without the baseline catalog a JSON baseline cannot split the two: reported, unattributed.
    [change] = planner.report(new, catalog=pricier, baseline=before).diff.changes  # type: ignore[union-attr]
    assert change.cause == "configuration and prices"
    assert change.delta == Decimal("1.6")
    assert change.configuration_delta is None and change.price_delta is None


def test_a_baseline_catalog_that_is_not_the_reports_is_refused(
    services: Callable[..., Path], catalog: planner.Catalog, tmp_path: Path
) -> None:
    root = services("repo", {"chat.yml": chat()})
    before = _json_baseline(tmp_path / "before.json", planner.report(root, catalog=catalog))
    other = planner.Catalog.load(str(write_catalog(tmp_path / "other", price_factor=2)))
    with pytest.raises(InputError, match="not the catalog this report was priced on"):
        planner.report(root, catalog=catalog, baseline=before, baseline_catalog=other)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON report"),
        ('{"schema": "something-else"}', "not a planner cost report"),
        ('{"schema": "planner-cost-report", "version": 99}', "version 99 is not supported"),
        (
            '{"schema": "planner-cost-report", "version": 1, "catalog": {"fingerprint": "x"}, '
            '"services": [{"key": "a", "config_hash": "h", "status": "optimal", '
            '"hourly_cost": 1.5}]}',
            "hourly_cost: expected a decimal string",
        ),
        ('{"schema": "planner-cost-report", "version": 1}', "missing field 'catalog'"),
    ],
)
def test_a_bad_json_baseline_is_an_input_error(
    services: Callable[..., Path],
    catalog: planner.Catalog,
    tmp_path: Path,
    content: str,
    message: str,
) -> None:
    root = services("repo", {"chat.yml": chat()})
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content)
    with pytest.raises(InputError, match=message) as caught:
        planner.report(root, catalog=catalog, baseline=baseline)
    assert caught.value.problems[0].file == str(baseline)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    old_replicas=st.integers(1, 3),
    new_replicas=st.integers(1, 3),
    factor=st.sampled_from([0.5, 1.0, 1.25, 3.0]),
)
def test_drift_split_adds_up_to_the_change(
    tmp_path_factory: pytest.TempPathFactory,
    catalog: planner.Catalog,
    old_replicas: int,
    new_replicas: int,
    factor: float,
) -> None:
    """configuration drift + price drift = the change, for any replicas and price move; the
    configuration part is priced on the old catalog (replicas × $0.80)."""
    root = tmp_path_factory.mktemp("drift")
    old, new = root / "old", root / "new"
    for directory, replicas in ((old, old_replicas), (new, new_replicas)):
        directory.mkdir()
        (directory / "chat.yml").write_text(chat(str(replicas)))
    newer = planner.Catalog.load(str(write_catalog(root / "catalog", price_factor=factor)))
    result = planner.report(new, catalog=newer, baseline=old, baseline_catalog=catalog)
    [change] = result.diff.changes  # type: ignore[union-attr]
    unit = Decimal("0.8")
    assert change.old_hourly == unit * old_replicas
    assert (
        change.new_hourly
        == (unit * Decimal(str(factor))).quantize(Decimal("0.000001")) * new_replicas
    )
    if change.change == "unchanged":
        assert change.delta == 0
        return
    assert change.configuration_delta is not None and change.price_delta is not None
    assert change.configuration_delta + change.price_delta == change.delta
    assert change.configuration_delta == unit * (new_replicas - old_replicas)
