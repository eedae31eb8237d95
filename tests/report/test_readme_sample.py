"""The sample comment in the README is what the tool renders today (regenerate it when this fails).

It is rendered over six of this repository's examples (those of the README's sample; later examples
such as replica groups do not change it): the pull request adds cpu-only.yml, removes
service.yml and takes spot-retry.yml from 2 to 3 replicas (as the README says).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

import planner
from planner.render.cost_report import COMMENT_MARKER, render_report_markdown

SAMPLE_EXAMPLES = (
    "autoscaled.yml",
    "cpu-only.yml",
    "reservation-volumes.yml",
    "service.yml",
    "spot-retry.yml",
    "vllm-openai.yml",
)


def test_readme_sample_comment_is_the_tools_output(
    repo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head, base = tmp_path / "services", tmp_path / "base" / "services"
    for directory in (head, base):
        directory.mkdir(parents=True)
        for example in SAMPLE_EXAMPLES:
            shutil.copy(repo_dir / "examples" / example, directory)
    (base / "cpu-only.yml").unlink()
    (head / "service.yml").unlink()
    spot = head / "spot-retry.yml"
    assert "\nreplicas: 2\n" in spot.read_text()
    spot.write_text(spot.read_text().replace("\nreplicas: 2\n", "\nreplicas: 3\n"))
    monkeypatch.chdir(tmp_path)
    result = planner.report(
        "services",
        baseline="base/services",
        budget_monthly=50000,
        max_increase="10%",
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    rendered = render_report_markdown(result)
    readme = (repo_dir / "README.md").read_text()
    start = readme.index(COMMENT_MARKER)
    end = readme.index("</details>\n", start) + len("</details>\n")
    assert readme[start:end] == rendered
