"""Gates through the library: where each line is, per service and for the total, and the policy file.

Prices are hand-set (report_files.ROWS): chat $0.80/h ($584/month), embed $0.20/h ($146/month).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from report_files import EMBED, chat

import planner
from planner.cost_report import Increase, load_policy
from planner.errors import InputError


@pytest.fixture
def repo(services: Callable[..., Path]) -> Path:
    return services("repo", {"chat.yml": chat(), "embed.yml": EMBED})


def _failed(report: planner.Report) -> list[tuple[str, str | None]]:
    return [(failure.gate, failure.service) for failure in report.failures]


@pytest.mark.parametrize(
    ("limits", "failed"),
    [
        ({"budget_hourly": 1}, []),
        ({"budget_hourly": "0.999999"}, [("budget-hourly", None)]),
        ({"budget_monthly": 730}, []),
        ({"budget_monthly": "729.99"}, [("budget-monthly", None)]),
    ],
)
def test_total_budgets_at_the_line(
    repo: Path, catalog: planner.Catalog, limits: dict[str, object], failed: list[object]
) -> None:
    result = planner.report(repo, catalog=catalog, **limits)  # type: ignore[arg-type]
    assert _failed(result) == failed
    assert result.passed is (not failed)


def test_max_increase_absolute_and_percent_at_the_line(
    repo: Path, catalog: planner.Catalog, services: Callable[..., Path]
) -> None:
    old = services("old", {"chat.yml": chat(), "embed.yml": EMBED, "gone.yml": EMBED})
    (repo / "chat.yml").write_text(chat("2"))
    # total: old 1.2/h ($876), new 1.8/h ($1314): +$438/month, +50%;
    # chat: +$584/month, +100%; embed unchanged.
    for limit, failed in [
        ("584", [("max-increase", None)]),
        ("438", []),
        ("437.99", [("max-increase", None)]),
        ("50%", []),
        ("49.99%", [("max-increase", None)]),
    ]:
        result = planner.report(repo, catalog=catalog, baseline=old, max_increase=limit)
        assert _failed(result) == (failed if limit != "584" else []), limit


def test_policy_limits_per_service_by_key_or_name(
    repo: Path, catalog: planner.Catalog, services: Callable[..., Path], tmp_path: Path
) -> None:
    old = services("old", {"chat.yml": chat(), "embed.yml": EMBED})
    (repo / "chat.yml").write_text(chat("2"))
    (repo / "new.yml").write_text(EMBED.replace("name: embed", "name: new"))
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "total:\n  budget_monthly: 10000\n"
        "services:\n"
        "  chat:\n    max_increase: 99%\n"  # by name: +100% is over
        "  embed.yml:\n    budget_hourly: 0.2\n    max_increase: 0\n"  # at the line, unchanged
        "  new.yml:\n    max_increase: 146\n    budget_monthly: 145.99\n"  # added: +$146/month
    )
    result = planner.report(repo, catalog=catalog, baseline=old, policy=policy)
    assert _failed(result) == [("max-increase", "chat.yml"), ("budget-monthly", "new.yml")]
    assert result.gates == ("infeasible", "budget-hourly", "budget-monthly", "max-increase")
    # The command line's total limit wins over the policy's.
    over = planner.report(repo, catalog=catalog, baseline=old, policy=policy, budget_monthly=1000)
    assert ("budget-monthly", None) in _failed(over)


def test_policy_naming_no_service_is_an_error(
    repo: Path, catalog: planner.Catalog, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("services:\n  chta.yml:\n    budget_hourly: 1\n")
    with pytest.raises(InputError, match="not in the report") as caught:
        planner.report(repo, catalog=catalog, policy=policy)
    assert caught.value.problems[0].file == str(policy)


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("services:\n  a:\n    budget_hourly: 1\n    budget_hourly: 2\n", ":4:"),
        ("services:\n  a:\n    budget_hourly: lots\n", ":3:20: services.a.budget_hourly:"),
        ("services:\n  a:\n    max_increase: ten%\n", ":3:19: services.a.max_increase:"),
        ("services:\n  a:\n    budget: 1\n", ":3:5: services.a.budget: unknown key"),
        ("total: 5\n", ":1:8: total:"),
        ("- 1\n", ":1: "),
    ],
)
def test_bad_policy_files_are_located(tmp_path: Path, text: str, location: str) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(text)
    with pytest.raises(InputError) as caught:
        load_policy(policy)
    assert location in str(caught.value), str(caught.value)
    assert str(caught.value).startswith(str(policy))


def test_increase_grammar() -> None:
    assert Increase.parse("10%") == Increase(Decimal("10"), percent=True)
    assert Increase.parse("$25.5") == Increase(Decimal("25.5"), percent=False)
    assert Increase.parse(3) == Increase(Decimal("3"), percent=False)
    for bad in ("-1", "x%", "nan", ""):
        with pytest.raises(ValueError):
            Increase.parse(bad)
