"""Lecturer placement: the one entry point, :func:`solve_lecturers`."""

from __future__ import annotations

import math
import time

import numpy as np

from matching.allocation.checker import CheckFailedError, check_lecturers
from matching.allocation.problem import (
    BoolArray,
    IntArray,
    LecturerParams,
    LecturerProblem,
    LecturerResult,
    Status,
    Unplaced,
    UnplacedReason,
)
from matching.allocation.solvers.lecturer import solve_lecturer_model
from matching.allocation.weights import fit_weights


def available_pairs(problem: LecturerProblem) -> BoolArray:
    """A lecturer can take a course only if free in all its slots and its hours fit the weekly cap."""
    slots_ok = np.fromiter(
        (problem.need_slots[n] <= problem.lecturer_slots[lec]
         for lec, n in zip(problem.pair_lecturer.tolist(), problem.pair_need.tolist(), strict=True)),
        dtype=bool, count=len(problem.pair_need))
    hours_ok = problem.need_hours[problem.pair_need] <= problem.lecturer_max_hours[problem.pair_lecturer]
    return slots_ok & hours_ok


def program_targets(problem: LecturerProblem, share: float) -> tuple[dict[str, int], IntArray]:
    """Target hours per program: ``ceil(share * professional hours)``; and each need's program index."""
    programs = sorted(set(problem.need_program))
    index = {p: i for i, p in enumerate(programs)}
    program_of_need = np.array([index[p] for p in problem.need_program], dtype=np.int64)
    totals = np.bincount(program_of_need, weights=np.where(problem.need_professional, problem.need_hours, 0),
                         minlength=len(programs))
    return {p: math.ceil(share * float(totals[i]) - 1e-9) for p, i in index.items()}, program_of_need


def _greedy(problem: LecturerProblem, pairs: IntArray, weights: IntArray) -> IntArray:
    """Best-first feasible start for CP-SAT (a hint, not an answer)."""
    used_hours = [0] * len(problem.lecturer_ids)
    busy: set[tuple[int, int]] = set()
    taken = [False] * len(problem.need_ids)
    chosen = []
    for a in pairs[np.argsort(-weights[pairs], kind="stable")].tolist():
        need, lecturer = int(problem.pair_need[a]), int(problem.pair_lecturer[a])
        hours = int(problem.need_hours[need])
        if taken[need] or used_hours[lecturer] + hours > problem.lecturer_max_hours[lecturer]:
            continue
        if any((lecturer, s) in busy for s in problem.need_slots[need]):
            continue
        taken[need] = True
        used_hours[lecturer] += hours
        busy.update((lecturer, s) for s in problem.need_slots[need])
        chosen.append(a)
    return np.asarray(chosen, dtype=np.int64)


def solve_lecturers(problem: LecturerProblem, params: LecturerParams) -> LecturerResult:
    """Place enterprise lecturers on course needs (CP-SAT) and verify the result.

    ``objective`` is total fit weight minus ``shortfall_penalty_per_hour`` per hour that a program's
    enterprise-taught professional hours fall below ``target_share``; ``shortfall_hours`` reports
    those hours per program.
    """
    started = time.monotonic()
    weights = fit_weights(problem.pair_score)
    available = available_pairs(problem)
    pairs = np.flatnonzero(available)
    targets, program_of_need = program_targets(problem, params.target_share)
    program_names = sorted(targets)
    target_by_index = {i: targets[name] for i, name in enumerate(program_names)}
    hint = _greedy(problem, pairs, weights)
    outcome = solve_lecturer_model(problem, params, pairs, weights, target_by_index, program_of_need, hint)
    assigned = np.full(len(problem.need_ids), -1, dtype=np.int64)
    assigned[problem.pair_need[outcome.chosen]] = outcome.chosen
    violations = check_lecturers(problem, params, assigned)
    if violations:
        raise CheckFailedError("; ".join(violations[:10]))
    taught = np.bincount(program_of_need[problem.pair_need[outcome.chosen]],
                         weights=np.where(problem.need_professional, problem.need_hours, 0)[
                             problem.pair_need[outcome.chosen]], minlength=len(program_names))
    taught_hours = {name: int(taught[i]) for i, name in enumerate(program_names)}
    solved = outcome.status in (Status.OPTIMAL, Status.FEASIBLE)
    return LecturerResult(
        status=outcome.status,
        assigned_pair=assigned,
        objective=outcome.objective,
        bound=outcome.bound,
        total_fit=float(problem.pair_score[outcome.chosen].sum()),
        wall_time_s=time.monotonic() - started,
        shortfall_hours={name: max(targets[name] - taught_hours[name], 0) for name in program_names},
        target_hours=targets,
        taught_hours=taught_hours,
        unplaced=_unplaced(problem, assigned, available) if solved else (),
    )


def _unplaced(problem: LecturerProblem, assigned: IntArray, available: BoolArray) -> tuple[Unplaced, ...]:
    has_pair = np.zeros(len(problem.need_ids), dtype=bool)
    has_pair[problem.pair_need] = True
    has_available = np.zeros(len(problem.need_ids), dtype=bool)
    has_available[problem.pair_need[available]] = True
    out = []
    for need in np.flatnonzero(assigned < 0).tolist():
        reasons: list[UnplacedReason] = []
        if not has_pair[need]:
            reasons.append(UnplacedReason.NO_CANDIDATES)
        else:
            if (~available[problem.pair_need == need]).any():
                reasons.append(UnplacedReason.INELIGIBLE)
            if has_available[need]:
                reasons.append(UnplacedReason.FULL)  # every available lecturer was busy or out of hours
        out.append(Unplaced(problem.need_ids[need], problem.need_college[need], tuple(reasons)))
    return tuple(out)
