"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """tests/fixtures: small excerpts of real data (SkyPilot catalogs, a host capture, dstack's docs).

    Where each file comes from is in tests/fixtures/README.md.
    """
    return FIXTURES


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real CLI in a subprocess (`python -m planner ...`), from tmp_path by default."""

    def run(
        *args: str,
        input: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.setdefault("PLANNER_CACHE_DIR", str(tmp_path / "cache"))
        full_env["NO_COLOR"] = "1"
        if env:
            full_env.update(env)
        return subprocess.run(
            [sys.executable, "-m", "planner", *args],
            input=input,
            capture_output=True,
            text=True,
            cwd=cwd or tmp_path,
            env=full_env,
            timeout=timeout,
        )

    return run
