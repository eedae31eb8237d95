"""`planner.plan` is the library call, a plain function; the planning subpackage is
`planner.placement`, so importing it never shadows the function."""

from __future__ import annotations

import subprocess
import sys


def test_planner_plan_is_a_plain_function_whatever_was_imported(repo_dir) -> None:  # type: ignore[no-untyped-def]
    # A fresh interpreter: another test's imports must not decide what `planner.plan` is.
    script = (
        "import importlib.util, inspect\n"
        "import planner\n"
        "from planner import plan\n"
        "assert inspect.isfunction(planner.plan), type(planner.plan)\n"
        "assert plan is planner.plan\n"
        "import planner.placement\n"
        "from planner.placement import PlanOptions\n"
        "assert planner.plan is plan is planner.placement.plan\n"
        "assert importlib.util.find_spec('planner.plan') is None\n"
        "catalog = planner.Catalog.load()\n"
        "first = planner.plan('examples/cpu-only.yml', catalog)\n"
        "second = plan('examples/cpu-only.yml', catalog, options=PlanOptions())\n"
        "assert first.status == second.status == 'optimal', (first.status, second.status)\n"
        "assert first.hourly_cost == second.hourly_cost\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=repo_dir, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
