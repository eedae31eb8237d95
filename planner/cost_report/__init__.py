"""Cost reports for CI: ``report(paths, ...) -> Report`` over service files.

Per service the plan's hourly and monthly cost, its placements and, for a replica range, the cost
at min and at max; a total; with a baseline, what changed and whether the configuration or the
catalog's prices moved it; budget gates. ``Report.to_json()`` follows ``report.schema.json``
(shipped next to this file; ``SCHEMA_PATH``). planner/render/cost_report.py words it as Markdown
and text. See docs/cli.md ("planner report") and docs/contracts.md.

    import planner
    result = planner.report(["services/"], baseline="main-report.json", budget_monthly=20000)
    result.total.monthly_cost, result.diff.of_kind("changed"), result.passed
"""

from __future__ import annotations

from pathlib import Path

from planner.cost_report.build import report
from planner.cost_report.envelope import ServiceEnvelope
from planner.cost_report.gates import Increase, Limits, Policy, load_policy
from planner.cost_report.model import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    CatalogIdentity,
    Diff,
    GateFailure,
    PlacementLine,
    Report,
    ServiceChange,
    ServiceCost,
    SkippedFile,
    Total,
)

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "CatalogIdentity",
    "Diff",
    "GateFailure",
    "Increase",
    "Limits",
    "PlacementLine",
    "Policy",
    "Report",
    "ServiceChange",
    "ServiceCost",
    "ServiceEnvelope",
    "SkippedFile",
    "Total",
    "load_policy",
    "report",
]
