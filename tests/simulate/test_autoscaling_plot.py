"""The optional PNG of an autoscaling replay (extra ``[plot]``: matplotlib)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.render.traffic_plot import plot_replay
from planner.simulate.autoscaling import ReplicaPrices, ScalingRule, replay_scaling
from planner.simulate.traffic import TrafficTrace

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("dated", [False, True])
def test_plot_writes_a_png_at_the_given_path_and_returns_it(tmp_path: Path, dated: bool) -> None:
    pytest.importorskip("matplotlib")
    start = 1_777_593_600.0 if dated else 0.0  # 2026-05-01 00:00 UTC
    trace = TrafficTrace.of(
        [start + seconds for seconds in (0, 600, 1800, 3600, 7200)],
        [5, 35, 0, 12, 12],
        service="api",
        dated=dated,
    )
    timeline = replay_scaling(trace, ScalingRule(10, 0, 4, 300, 600))
    prices = ReplicaPrices.from_marginal([(1.0, "on-demand")] + [(0.4, "spot")] * 3)
    target = tmp_path / "plots" / "api.png"
    target.parent.mkdir()
    written = plot_replay(timeline, prices, target)
    assert written == target
    data = target.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000  # three drawn axes, not a stub
    assert sorted(tmp_path.rglob("*")) == [target.parent, target]  # nothing written elsewhere


def test_without_matplotlib_the_plot_is_an_exit_2_error_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # what an absent extra looks like
    timeline = replay_scaling(TrafficTrace.of([0, 60], [1, 1]), ScalingRule(10, 1, 2, 0, 0))
    with pytest.raises(InputError) as caught:
        plot_replay(timeline, ReplicaPrices.from_marginal([(1.0, "spot")] * 2), tmp_path / "p.png")
    assert caught.value.exit_code == 2 and "planner[plot]" in str(caught.value)
    assert not (tmp_path / "p.png").exists()
