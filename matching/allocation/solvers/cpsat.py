"""One place that sets CP-SAT's search parameters, so that runs are reproducible.

A wall-clock limit stops the search wherever the machine happens to be, so two runs of the same
instance and seed can return different answers.  CP-SAT's *deterministic* time (a count of work
units, about a second each on a typical core) stops at the same point every time, provided the
worker count is fixed and the workers are interleaved deterministically.  The deterministic
budget is the time limit scaled by :data:`DETERMINISTIC_PER_SECOND`, calibrated on the project's
2-core machine so that it usually binds first; the wall-clock limit stays as a safety net (a run
cut by it, on a much slower machine, is the only non-reproducible case).
"""

from __future__ import annotations

from ortools.sat.python import cp_model

DETERMINISTIC_PER_SECOND = 0.8
"""Deterministic-time units granted per second of time limit."""


def configure(solver: cp_model.CpSolver, time_limit_s: float, seed: int, workers: int) -> None:
    params = solver.parameters
    params.random_seed = seed
    params.num_workers = max(workers, 1)
    if workers > 1:
        # Interleaved search is deterministic for a given worker count (no racing threads).
        params.interleave_search = True
    params.max_deterministic_time = max(time_limit_s * DETERMINISTIC_PER_SECOND, 0.01)
    params.max_time_in_seconds = max(time_limit_s, 0.01)
