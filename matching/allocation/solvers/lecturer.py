"""Lecturer placements as a CP-SAT model.

Variables: one boolean per available (lecturer, course need) pair.  Hard: one lecturer per need,
weekly-hours caps, no two courses of a lecturer in one slot.  Soft: per program, the hours of
professional courses taught by enterprise lecturers should reach a target share; the shortfall
(in hours) is penalised in the objective and reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matching.allocation.problem import IntArray, LecturerParams, LecturerProblem, Status
from matching.allocation.solvers.cpsat import configure


@dataclass(slots=True)
class LecturerOutcome:
    status: Status
    chosen: IntArray
    objective: int
    bound: int
    shortfall: dict[int, int]  # program index -> hours short


def solve_lecturer_model(problem: LecturerProblem, params: LecturerParams, pairs: IntArray,
                         weights: IntArray, targets: dict[int, int], program_of_need: IntArray,
                         hint: IntArray) -> LecturerOutcome:
    """Solve over ``pairs`` (already filtered for availability); ``targets`` are hours per program."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in pairs.tolist()]
    by_need: dict[int, list[int]] = defaultdict(list)
    by_lecturer: dict[int, list[int]] = defaultdict(list)
    by_slot: dict[tuple[int, int], list[int]] = defaultdict(list)
    hours = problem.need_hours
    for i, a in enumerate(pairs.tolist()):
        need = int(problem.pair_need[a])
        lecturer = int(problem.pair_lecturer[a])
        by_need[need].append(i)
        by_lecturer[lecturer].append(i)
        for slot in problem.need_slots[need]:
            by_slot[(lecturer, slot)].append(i)
    for members in by_need.values():
        if len(members) > 1:
            model.add_at_most_one(x[i] for i in members)
    for members in by_slot.values():
        if len(members) > 1:
            model.add_at_most_one(x[i] for i in members)
    pair_hours = hours[problem.pair_need[pairs]].tolist()
    for lecturer, members in by_lecturer.items():
        cap = int(problem.lecturer_max_hours[lecturer])
        if sum(pair_hours[i] for i in members) > cap:
            model.add(cp_model.LinearExpr.weighted_sum([x[i] for i in members],
                                                       [pair_hours[i] for i in members]) <= cap)
    by_program: dict[int, list[int]] = defaultdict(list)
    professional = problem.need_professional
    for i, a in enumerate(pairs.tolist()):
        need = int(problem.pair_need[a])
        if professional[need]:
            by_program[int(program_of_need[need])].append(i)
    shortfall_vars: dict[int, cp_model.IntVar] = {}
    for program, target in targets.items():
        if target <= 0:
            continue
        short = model.new_int_var(0, target, f"short{program}")
        members = by_program.get(program, [])
        model.add(short + cp_model.LinearExpr.weighted_sum([x[i] for i in members],
                                                           [pair_hours[i] for i in members]) >= target)
        shortfall_vars[program] = short
    penalty = params.shortfall_penalty_per_hour
    model.maximize(cp_model.LinearExpr.weighted_sum(x, weights[pairs].tolist())
                   - penalty * cp_model.LinearExpr.sum(list(shortfall_vars.values())))
    hinted = set(hint.tolist())
    for var, a in zip(x, pairs.tolist(), strict=True):
        model.add_hint(var, a in hinted)

    solver = cp_model.CpSolver()
    configure(solver, params.time_limit_s, params.seed, params.workers, params.deterministic)
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        objective = round(solver.objective_value)
        bound = (int(np.floor(solver.best_objective_bound + 1e-6)) if status == cp_model.FEASIBLE
                 else objective)
        return LecturerOutcome(
            Status.OPTIMAL if status == cp_model.OPTIMAL else Status.FEASIBLE, pairs[values], objective,
            max(bound, objective), {p: int(solver.value(v)) for p, v in shortfall_vars.items()})
    empty = np.zeros(0, dtype=np.int64)
    if status == cp_model.INFEASIBLE:
        return LecturerOutcome(Status.INFEASIBLE, empty, 0, 0, {})
    return LecturerOutcome(Status.NO_SOLUTION_IN_TIME, empty, 0, int(solver.best_objective_bound), {})
