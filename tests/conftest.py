"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ../shared folder (real catalogs, host captures); absent in a user's clone."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (a user's clone has no ../shared); real-data test skipped")
    return SHARED


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
