"""The planner's small vocabularies: a plan's status, a pool's capacity type, a failure domain."""

from __future__ import annotations

from typing import Literal

PlanStatus = Literal["optimal", "feasible", "infeasible"]
CapacityType = Literal["spot", "on-demand", "reserved", "existing"]
# One failure domain: a whole (backend, region) or one spot market (… and instance type).
FailureDomain = Literal["instance-type", "region"]
