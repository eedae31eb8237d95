"""The planner's small vocabularies: a plan's status, a pool's capacity type, a failure domain."""

from __future__ import annotations

from typing import Literal

PlanStatus = Literal["optimal", "feasible", "infeasible"]
# A re-plan's status in explain: "time-limit" when it found no plan within the time limit.
RelaxedStatus = Literal["optimal", "feasible", "infeasible", "time-limit"]
CapacityType = Literal["spot", "on-demand", "reserved", "existing"]
# One failure domain: a whole (backend, region) or one spot market (… and instance type).
FailureDomain = Literal["instance-type", "region"]
