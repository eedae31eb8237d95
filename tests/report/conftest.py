"""Fixtures for `planner report` tests (the inputs themselves are in report_files.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from report_files import write_catalog

import planner


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "catalog")


@pytest.fixture
def catalog(catalog_dir: Path) -> planner.Catalog:
    return planner.Catalog.load(str(catalog_dir))


@pytest.fixture
def services(tmp_path: Path) -> Callable[..., Path]:
    """Write service files into ``tmp_path/<name>/``: ``services("new", {"chat.yml": text})``."""

    def write(name: str, files: dict[str, str]) -> Path:
        root = tmp_path / name
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    return write
