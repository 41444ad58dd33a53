"""One place that sets CP-SAT's search parameters, so that runs are reproducible.

A wall-clock limit stops the search wherever the machine happens to be, so two runs of the same
instance and seed can return different answers.  CP-SAT's *deterministic* time (a count of work
units, about a second each on a typical core) stops at the same point every time, provided the
worker count is fixed and the workers are interleaved deterministically.  The deterministic
budget is the time limit scaled by :data:`DETERMINISTIC_PER_SECOND`; the wall-clock limit stays,
looser, as a safety net (a run cut by it, on a much slower or overloaded machine, is the only
non-reproducible case).
"""

from __future__ import annotations

from ortools.sat.python import cp_model

DETERMINISTIC_PER_SECOND = 0.5
"""Deterministic-time units granted per second of time limit."""

WALL_SAFETY = 1.25
"""Wall-clock limit, as a multiple of the time limit, behind a deterministic budget."""


def configure(solver: cp_model.CpSolver, time_limit_s: float, seed: int, workers: int,
              deterministic: bool = True) -> None:
    """Seed, workers and limits.  ``deterministic=False`` keeps CP-SAT's racing parallel portfolio
    stopped by the wall clock: stronger on big models within a fixed time, not reproducible."""
    params = solver.parameters
    params.random_seed = seed
    params.num_workers = max(workers, 1)
    params.max_time_in_seconds = max(time_limit_s, 0.01)
    if not deterministic:
        return
    if workers > 1:
        # Interleaved search is deterministic for a given worker count (no racing threads).
        params.interleave_search = True
    params.max_deterministic_time = max(time_limit_s * DETERMINISTIC_PER_SECOND, 0.01)
    # The wall clock is only a safety net here: loose enough that deterministic time binds first
    # even on a busy machine, so that the stop (and the answer) does not depend on the load.
    params.max_time_in_seconds = max(time_limit_s * WALL_SAFETY, time_limit_s + 0.5)
