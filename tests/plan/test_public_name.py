"""`planner.plan` is both a subpackage and the library call; both spellings must keep working."""

from __future__ import annotations

import subprocess
import sys


def test_planner_plan_is_callable_after_importing_the_subpackage(repo_dir) -> None:  # type: ignore[no-untyped-def]
    script = (
        "import planner, planner.plan\n"
        "from planner.plan import PlanOptions\n"
        "catalog = planner.Catalog.load()\n"
        "first = planner.plan('examples/cpu-only.yml', catalog)\n"
        "second = planner.plan('examples/cpu-only.yml', catalog, options=PlanOptions())\n"
        "assert first.status == second.status == 'optimal', (first.status, second.status)\n"
        "assert first.hourly_cost == second.hourly_cost\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=repo_dir, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
