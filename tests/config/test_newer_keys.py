"""Keys dstack 0.22.5 does not know are refused, at every level, as possibly of a newer release.

No key added after 0.22.5 can be shown from the dstack sources on record (docs/configuration.md
§3.8), so the key used here is a made-up one that no dstack release has: what is checked is that
any such key, wherever it is written, stops `planner validate` with exit code 2 at its file, line
and column, names the key and says a newer dstack release is a possible cause.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., subprocess.CompletedProcess[str]]

KEY = "zz_later_option"

# (the document, the path planner reports, line, column) with KEY written at one level each.
LEVELS = [
    (
        f"type: service\nport: 8000\nimage: vllm/vllm-openai:latest\n{KEY}: true\n",
        KEY,
        4,
        1,
    ),
    (
        "type: service\nport: 8000\nimage: vllm/vllm-openai:latest\n"
        f"groups:\n  - name: decode\n    replicas: 2\n    {KEY}: true\n",
        f"groups[0].{KEY}",
        7,
        5,
    ),
    (
        "type: service\nport: 8000\nimage: vllm/vllm-openai:latest\n"
        f"replicas:\n  - count: 1\n  - count: 1\n    {KEY}: 1\n",
        f"replicas[1].{KEY}",
        7,
        5,
    ),
    (
        "type: service\nport: 8000\nimage: vllm/vllm-openai:latest\n"
        f"resources:\n  gpu: 24GB\n  {KEY}: 1\n",
        f"resources.{KEY}",
        6,
        3,
    ),
    (
        "type: service\nport: 8000\nimage: vllm/vllm-openai:latest\nreplicas: 1..4\n"
        f"scaling:\n  metric: rps\n  target: 10\n  {KEY}: 1\n",
        f"scaling.{KEY}",
        8,
        3,
    ),
    (
        "type: service\nport: 8000\nimage: vllm/vllm-openai:latest\n"
        f"probes:\n  - type: http\n    url: /health\n    {KEY}: 1\n",
        f"probes[0].{KEY}",
        7,
        5,
    ),
]


@pytest.mark.parametrize(
    ("document", "path", "line", "column"), LEVELS, ids=[level[1] for level in LEVELS]
)
def test_unknown_key_is_refused_as_possibly_newer(
    run_cli: RunCli, tmp_path: Path, document: str, path: str, line: int, column: int
) -> None:
    (tmp_path / "service.dstack.yml").write_text(document)
    result = run_cli("validate", "service.dstack.yml")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    [message] = result.stderr.splitlines()
    assert message.startswith(
        f"service.dstack.yml:{line}:{column}: {path}: unknown field `{KEY}`"
    ), message
    assert "newer dstack release" in message


def test_the_same_document_without_the_key_is_valid(run_cli: RunCli, tmp_path: Path) -> None:
    # The refusals above come from the key alone: each document is valid once it is removed.
    for document, _path, line, _column in LEVELS:
        kept = [text for number, text in enumerate(document.splitlines(), 1) if number != line]
        (tmp_path / "service.dstack.yml").write_text("\n".join(kept) + "\n")
        result = run_cli("validate", "service.dstack.yml")
        assert result.returncode == 0, (document, result.stderr)


def test_a_key_close_to_a_known_one_gets_a_suggestion(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "service.dstack.yml").write_text(
        "type: service\nport: 8000\nimage: vllm/vllm-openai:latest\n"
        "groups:\n  - replicas: 1\n    spot_polcy: auto\n"
    )
    result = run_cli("validate", "service.dstack.yml")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "service.dstack.yml:6:5: groups[0].spot_polcy: unknown field `spot_polcy`"
    )
    assert "did you mean `spot_policy`?" in result.stderr
