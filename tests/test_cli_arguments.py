"""Flag values are checked the same way by every command: a bad value is exit 2 with a message."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("offers", "examples/cpu-only.yml", "--max-offers", "0"), "expected a positive integer"),
        (("offers", "examples/cpu-only.yml", "--max-offers", "two"), "expected an integer"),
        (("plan", "examples/cpu-only.yml", "--time-limit", "0"), "expected a positive number"),
        (("plan", "examples/cpu-only.yml", "--budget-hourly", "nan"), "expected a finite number"),
        (("plan", "examples/cpu-only.yml", "--availability-target", "1.5"), "fraction in (0, 1]"),
        (("plan", "examples/cpu-only.yml", "--on-demand-floor", "-1"), "expected an integer ≥ 0"),
        (("catalog", "update", "--timeout", "inf"), "expected a finite number"),
        (("catalog", "update", "--retries", "-2"), "expected an integer ≥ 0"),
    ],
)
def test_bad_flag_values_exit_2(run_cli, repo_dir, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(*args, cwd=repo_dir)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
