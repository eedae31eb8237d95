"""CP-SAT solver settings shared by every placement model (single service and replica groups)."""

from __future__ import annotations

from typing import Any, Final

# Deterministic work units the tie-break pass may spend after the cost is known.
TIE_BREAK_WORK: Final = 10.0


def cost_solver(num_workers: int, time_limit_seconds: float) -> Any:
    """A solver for the cost pass: reproducible (fixed seed), presolve off.

    CP-SAT's presolve spends most of its time on dominance detection among pools that the LP then
    settles at once; without it the solve is 2-3x faster on large pool sets.
    """
    from ortools.sat.python import cp_model  # lazy: start-up time of commands that never solve

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, num_workers)
    solver.parameters.max_time_in_seconds = max(0.01, time_limit_seconds)
    solver.parameters.random_seed = 0
    solver.parameters.cp_model_presolve = False
    return solver


def tie_break_solver(time_limit_seconds: float) -> Any:
    """A solver for the tie-break pass at fixed cost: one worker, bounded deterministic work."""
    solver = cost_solver(1, time_limit_seconds)
    solver.parameters.max_deterministic_time = TIE_BREAK_WORK
    return solver
