"""A simulated month of interruptions: all on-demand vs SpotHedge vs `planner plan`.

Run: ``python3 -m pytest benchmarks/test_simulation.py -s`` (prints the table; about half a
minute on 2 cores). Every policy is replayed on the same scenarios (one per seed and regime);
the table goes to benchmarks/results/simulation.md and is discussed in docs/simulation.md.

The assertions are sanity properties of the simulation, not of who wins: the winner is a
measurement, reported as measured.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from planner.catalog import Catalog
from planner.config import load_config
from planner.placement import PlanOptions
from planner.render.simulation import describe_plan, render_overall, render_summary
from planner.simulate import Prepared, ScenarioParams, compare, prepare
from planner.simulate.compare import overall

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "simulation.md"
SEEDS = range(20)

# A 6-replica 8B-model service on any 24 GB+ GPU, from every provider of the catalog.
LLAMA8B_6 = """\
type: service
name: llama8b-6
image: vllm/vllm-openai:v0.6.3
commands:
  - vllm serve meta-llama/Llama-3.1-8B-Instruct --port 8000
port: 8000
replicas: 6
resources:
  gpu: 24GB..:1
spot_policy: auto
retry:
  on_events: [no-capacity, interruption]
  duration: 1h
"""

# A 4-replica 32B-model service on 4×L4 machines of the three hyperscalers (their spot
# discounts are the ones SkyServe's evaluation used).
QWEN32B_4 = """\
type: service
name: qwen32b-4xl4
image: vllm/vllm-openai:v0.6.3
commands:
  - vllm serve Qwen/Qwen2.5-32B-Instruct --tensor-parallel-size 4 --port 8000
port: 8000
replicas: 4
backends: [aws, gcp, azure]
resources:
  gpu: L4:4
spot_policy: auto
retry:
  on_events: [no-capacity, interruption]
  duration: 1h
"""

REGIMES = {
    # The Spot Advisor buckets taken at their word; rare shortages.
    "advisor": ScenarioParams(),
    # GPU spot is reclaimed far more often than the buckets (general-purpose instances) say.
    "gpu-stress": ScenarioParams(rate_multiplier=20.0, shortage_per_month=8.0),
    # Long shortages (a day on average), hit markets short for 12 h, on-demand short 1 h/month.
    "scarce": ScenarioParams(
        rate_multiplier=5.0,
        shortage_per_month=4.0,
        shortage_minutes=24 * 60.0,
        post_wave_shortage_minutes=12 * 60.0,
        on_demand_shortage_per_month=1.0,
        on_demand_shortage_minutes=60.0,
    ),
}

PLAN_VARIANTS = {
    # The default: wave survival over whole (provider, region/zone) failure domains.
    "planner plan": PlanOptions(explain=False),
    # The previous default: wave survival over spot markets (provider, region, instance type).
    "planner plan, instance-type domains": PlanOptions(
        explain=False, failure_domain="instance-type"
    ),
    # --no-wave-survival: at most half the replicas per (provider, region) instead.
    "planner plan, no wave survival": PlanOptions(explain=False, wave_survival=False),
    "planner plan, ≤1 spot/region": PlanOptions(explain=False, max_per_domain=1),
}


@pytest.fixture(scope="module")
def prepared() -> list[Prepared]:
    catalog = Catalog.load()
    services = [
        load_config(REPO / "examples" / "spot-retry.yml"),
        load_config(text=LLAMA8B_6, name="llama8b-6.yml"),
        load_config(text=QWEN32B_4, name="qwen32b-4xl4.yml"),
    ]
    return [
        prepare(service, catalog, spot_hedge_extra=(0, 1), plan_variants=PLAN_VARIANTS)
        for service in services
    ]


def test_policy_comparison(prepared: list[Prepared]) -> None:
    started = time.perf_counter()
    comparison = compare(prepared, REGIMES, SEEDS)
    seconds = time.perf_counter() - started
    runs = comparison.runs
    policies = {policy.name for item in prepared for policy in item.policies}

    # Same scenarios for all policies: one fingerprint per (service, regime, seed), every policy
    # replayed on it.
    per_scenario = runs.groupby(["service", "regime", "seed"])
    assert (per_scenario["scenario"].nunique() == 1).all()
    assert (per_scenario["policy"].nunique() == len(policies)).all()
    assert len(runs) == len(prepared) * len(REGIMES) * len(SEEDS) * len(policies)
    # Different seeds are different scenarios.
    assert runs.groupby(["service", "regime"])["scenario"].nunique().min() == len(SEEDS)

    assert (runs["cost"] >= 0).all()
    assert runs["availability"].between(0.0, 1.0).all()
    on_demand = runs[runs["policy"] == "all on-demand"]
    # On-demand is never preempted: only its (rare, short) shortages in "scarce" can matter,
    # and a running replica is never lost, so it stays at 100%.
    assert on_demand["availability"].min() >= 0.999
    assert (on_demand["interruptions"] == 0).all()
    # Spot policies must actually see the interruptions of the stressed regimes.
    stressed = runs[(runs["regime"] == "gpu-stress") & (runs["policy"] != "all on-demand")]
    assert (stressed.groupby(["service", "policy"])["interruptions"].sum() > 0).all()
    # Fast enough to rerun at will: 3 services × 3 regimes × 20 seeds × 7 policies.
    assert seconds < 60.0, f"the comparison took {seconds:.1f} s"

    summary = comparison.summary()
    table = render_summary(summary)
    plans = "\n".join(
        f"- **{item.name}** (target {item.target}, {len(item.markets)} markets): "
        + "; ".join(f"*{label}*: {describe_plan(plan)}" for label, plan in item.plans.items())
        for item in prepared
    )
    text = (
        "# Simulated month: all on-demand vs SpotHedge vs `planner plan`\n\n"
        "Generated by `python3 -m pytest benchmarks/test_simulation.py -s` "
        f"({len(SEEDS)} seeds per regime, {len(runs)} simulated months in {seconds:.1f} s). "
        "Scenario model and discussion: docs/simulation.md.\n\n"
        "Cost is relative to all on-demand on the same scenario (mean over seeds); "
        "availability is the fraction of minutes with at least the target number of ready "
        "replicas.\n\n"
        "## Mean over the 3 services × 3 regimes\n\n"
        f"{render_overall(overall(summary))}\n\n"
        f"## Per service and regime\n\n{table}\n\n## Plans\n\n{plans}\n"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print()
    print(text)
