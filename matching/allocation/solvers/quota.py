"""Internships with per-(college, enterprise) quotas, which break the flow structure.

Two methods, both reporting a valid upper bound:

* :func:`solve_exact` — CP-SAT on the whole model, for small instances (proves the optimum);
* :func:`solve_lagrangian` — the quotas are moved into the objective with multipliers λ ≥ 0 per
  (college, enterprise); each step is one exact min-cost flow (seats, caps and floors stay hard),
  whose value plus Σ λ·quota is an upper bound (weak duality).  Since the flow polytope is
  integral, the best such bound equals the LP bound.  Each step's flow is repaired into a feasible
  allocation (trim quota excess, refill by flow, greedy top-up), giving the lower bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matching.allocation.constraints import Prepared
from matching.allocation.problem import UNLIMITED, BoolArray, IntArray, Status
from matching.allocation.solvers.flow import solve_flow

# Multipliers are integers in units of 1/SCALE of a weight, so flow costs stay integral.
SCALE = 16


@dataclass(slots=True)
class QuotaOutcome:
    status: Status
    chosen: IntArray
    objective: int
    bound: int
    method: str
    iterations: int = 0


def _usage(prepared: Prepared, chosen: IntArray) -> IntArray:
    groups = prepared.quotas.pair_group[chosen]
    return np.bincount(groups[groups >= 0], minlength=prepared.quotas.n_groups).astype(np.int64)


def solve_exact(prepared: Prepared, time_limit_s: float, seed: int, hint: IntArray | None = None,
                extra_college_min: IntArray | None = None) -> QuotaOutcome:
    """CP-SAT over every usable pair; optimal when it finishes within the time limit."""
    problem = prepared.problem
    college_min = prepared.college_min_left if extra_college_min is None else extra_college_min
    pairs = np.flatnonzero(prepared.usable & (prepared.seats_left[problem.pair_opening] > 0))
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in pairs.tolist()]

    def rows(keys: IntArray, n: int) -> list[list[int]]:
        buckets: list[list[int]] = [[] for _ in range(n)]
        for i, k in enumerate(keys.tolist()):
            if k >= 0:
                buckets[k].append(i)
        return buckets

    for members in rows(problem.pair_student[pairs].astype(np.int64), problem.n_students):
        if len(members) > 1:
            model.add_at_most_one(x[i] for i in members)
    opening_rows = rows(problem.pair_opening[pairs].astype(np.int64), problem.n_openings)
    for o, members in enumerate(opening_rows):
        if len(members) > int(prepared.seats_left[o]):
            model.add(sum(x[i] for i in members) <= int(prepared.seats_left[o]))
    enterprise_rows = rows(problem.opening_enterprise[problem.pair_opening[pairs]].astype(np.int64),
                           len(problem.enterprise_ids))
    for e, members in enumerate(enterprise_rows):
        cap = int(prepared.cap_left[e])
        if cap != UNLIMITED and len(members) > cap:
            model.add(sum(x[i] for i in members) <= cap)
    for g, members in enumerate(rows(prepared.quotas.pair_group[pairs], prepared.quotas.n_groups)):
        if len(members) > int(prepared.quota_left[g]):
            model.add(sum(x[i] for i in members) <= int(prepared.quota_left[g]))
    college_rows = rows(problem.student_college[problem.pair_student[pairs]].astype(np.int64),
                        len(problem.college_ids))
    for c, members in enumerate(college_rows):
        if college_min[c] > 0:
            model.add(sum(x[i] for i in members) >= int(college_min[c]))
    program_rows = rows(problem.student_program[problem.pair_student[pairs]].astype(np.int64),
                        len(problem.program_ids))
    for p, members in enumerate(program_rows):
        if prepared.program_min_left[p] > 0:
            model.add(sum(x[i] for i in members) >= int(prepared.program_min_left[p]))
    weights = prepared.weights[pairs].tolist()
    model.maximize(cp_model.LinearExpr.weighted_sum(x, weights))
    if hint is not None:
        hinted = np.zeros(problem.n_pairs, dtype=bool)
        hinted[hint] = True
        for var, a in zip(x, pairs.tolist(), strict=True):
            model.add_hint(var, bool(hinted[a]))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
    solver.parameters.random_seed = seed
    # Interleaved search keeps several strategies while staying deterministic for a given seed.
    solver.parameters.num_workers = 4
    solver.parameters.interleave_search = True
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        chosen = pairs[values]
        objective = int(prepared.weights[chosen].sum())
        bound = objective if status == cp_model.OPTIMAL else int(np.floor(solver.best_objective_bound + 1e-6))
        return QuotaOutcome(Status.OPTIMAL if status == cp_model.OPTIMAL else Status.FEASIBLE,
                            chosen, objective, max(bound, objective), "cp-sat")
    empty = np.zeros(0, dtype=np.int64)
    if status == cp_model.INFEASIBLE:
        return QuotaOutcome(Status.INFEASIBLE, empty, 0, 0, "cp-sat")
    return QuotaOutcome(Status.NO_SOLUTION_IN_TIME, empty, 0, int(solver.best_objective_bound), "cp-sat")


def _trim_to_quotas(prepared: Prepared, chosen: IntArray, gains: IntArray) -> IntArray:
    """Drop the least valuable placements of every (college, enterprise) group above its quota."""
    groups = prepared.quotas.pair_group[chosen]
    order = np.lexsort((-gains[chosen], groups))
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank_in_group = np.arange(len(order)) - first
    limit = np.where(sorted_groups >= 0, prepared.quota_left[np.maximum(sorted_groups, 0)],
                     np.iinfo(np.int64).max)
    keep_sorted = rank_in_group < limit
    return np.sort(chosen[order[keep_sorted]])


def _greedy_top_up(prepared: Prepared, chosen: IntArray, candidates: BoolArray) -> IntArray:
    """Add placements best-first wherever a student, seat, cap and quota are all still free."""
    problem = prepared.problem
    placed = np.zeros(problem.n_students, dtype=bool)
    placed[problem.pair_student[chosen]] = True
    seats = prepared.seats_left - np.bincount(problem.pair_opening[chosen], minlength=problem.n_openings)
    ents = problem.opening_enterprise[problem.pair_opening[chosen]]
    cap = np.where(prepared.cap_left == UNLIMITED, np.iinfo(np.int64).max,
                   prepared.cap_left - np.bincount(ents, minlength=len(prepared.cap_left)))
    quota = prepared.quota_left - _usage(prepared, chosen)
    pool = np.flatnonzero(candidates & ~placed[problem.pair_student] & (seats[problem.pair_opening] > 0))
    pool = pool[np.argsort(-prepared.weights[pool], kind="stable")]
    added: list[int] = []
    placed_list = placed.tolist()
    seats_list = seats.tolist()
    cap_list = cap.tolist()
    quota_list = quota.tolist()
    student_of = problem.pair_student[pool].tolist()
    opening_of = problem.pair_opening[pool].tolist()
    enterprise_of = problem.opening_enterprise[problem.pair_opening[pool]].tolist()
    group_of = prepared.quotas.pair_group[pool].tolist()
    for i, a in enumerate(pool.tolist()):
        s, o, e, g = student_of[i], opening_of[i], enterprise_of[i], group_of[i]
        if placed_list[s] or seats_list[o] <= 0 or cap_list[e] <= 0 or (g >= 0 and quota_list[g] <= 0):
            continue
        placed_list[s] = True
        seats_list[o] -= 1
        cap_list[e] -= 1
        if g >= 0:
            quota_list[g] -= 1
        added.append(a)
    return np.sort(np.concatenate([chosen, np.asarray(added, dtype=np.int64)]))


def _floors_met(prepared: Prepared, chosen: IntArray) -> bool:
    problem = prepared.problem
    students = problem.pair_student[chosen]
    college = np.bincount(problem.student_college[students], minlength=len(problem.college_ids))
    program = np.bincount(problem.student_program[students], minlength=len(problem.program_ids))
    return bool(np.all(college >= prepared.college_min_left) and np.all(program >= prepared.program_min_left))


def repair(prepared: Prepared, chosen: IntArray, gains: IntArray) -> IntArray | None:
    """Turn a quota-violating flow solution into a feasible allocation, or None if floors break."""
    problem = prepared.problem
    current = _trim_to_quotas(prepared, chosen, gains)
    for _ in range(2):
        usage = _usage(prepared, current)
        if np.all(usage <= prepared.quota_left):
            placed = np.zeros(problem.n_students, dtype=bool)
            placed[problem.pair_student[current]] = True
            groups = prepared.quotas.pair_group
            slack = prepared.quota_left - usage
            open_group = (groups < 0) | (slack[np.maximum(groups, 0)] > 0)
            residual = prepared.usable & ~placed[problem.pair_student] & open_group
            seats = prepared.seats_left - np.bincount(problem.pair_opening[current],
                                                      minlength=problem.n_openings)
            ents = problem.opening_enterprise[problem.pair_opening[current]]
            caps = np.where(prepared.cap_left == UNLIMITED, UNLIMITED,
                            prepared.cap_left - np.bincount(ents, minlength=len(prepared.cap_left)))
            students = problem.pair_student[current]
            college_min = np.maximum(prepared.college_min_left - np.bincount(
                problem.student_college[students], minlength=len(problem.college_ids)), 0)
            program_min = np.maximum(prepared.program_min_left - np.bincount(
                problem.student_program[students], minlength=len(problem.program_ids)), 0)
            if not residual.any():
                break
            refill = solve_flow(prepared, gains=prepared.weights, usable=residual, seats=seats, caps=caps,
                                college_min=college_min, program_min=program_min)
            if len(refill.chosen) == 0:
                break
            current = _trim_to_quotas(prepared, np.concatenate([current, refill.chosen]), prepared.weights)
    current = _greedy_top_up(prepared, current, prepared.usable)
    return current if _floors_met(prepared, current) else None


def solve_lagrangian(prepared: Prepared, iterations: int, target_gap: float, deadline: float) -> QuotaOutcome:
    """Subgradient optimisation of the quota multipliers over exact flows, with repair each step.

    Iteration counts (not the clock) drive the method so that results are reproducible; the
    deadline only cuts a run short.
    """
    base = prepared.weights * SCALE
    n_groups = prepared.quotas.n_groups
    multipliers = np.zeros(n_groups, dtype=np.float64)
    groups = prepared.quotas.pair_group
    best_bound = np.iinfo(np.int64).max  # in SCALE units
    best_value = -1
    best_chosen: IntArray | None = None
    step_scale = 2.0
    stale = 0
    done = 0
    for it in range(max(iterations, 1)):
        done = it + 1
        lam = np.rint(multipliers).astype(np.int64)
        gains = base - np.where(groups >= 0, lam[np.maximum(groups, 0)], 0)
        flow = solve_flow(prepared, gains=gains)
        if flow.college_short.any() or flow.program_short.any():
            empty = np.zeros(0, dtype=np.int64)
            return QuotaOutcome(Status.INFEASIBLE, empty, 0, 0, "lagrangian-flow", done)
        usage = _usage(prepared, flow.chosen)
        dual = flow.value + int((lam * prepared.quota_left).sum())
        if dual < best_bound:
            best_bound = dual
            stale = 0
        else:
            stale += 1
        if stale >= 4:
            step_scale /= 2
            stale = 0
        candidate = repair(prepared, flow.chosen, gains)
        if candidate is not None:
            value = int(prepared.weights[candidate].sum())
            if value > best_value:
                best_value, best_chosen = value, candidate
        subgradient = (usage - prepared.quota_left).astype(np.float64)
        # Multipliers of groups with slack only fall; those already at zero stay there.
        subgradient[(multipliers <= 0) & (subgradient < 0)] = 0.0
        norm = float((subgradient ** 2).sum())
        bound_w = best_bound // SCALE
        if norm == 0.0:
            break  # the relaxed optimum respects every quota: it is optimal
        if best_value >= 0 and (bound_w - best_value) <= target_gap * max(bound_w, 1):
            break
        if time.monotonic() > deadline:
            break
        reference = best_value * SCALE if best_value >= 0 else 0.95 * best_bound
        step = step_scale * max(dual - reference, SCALE) / norm
        multipliers = np.maximum(multipliers + step * subgradient, 0.0)
    if best_chosen is None:
        empty = np.zeros(0, dtype=np.int64)
        return QuotaOutcome(Status.NO_SOLUTION_IN_TIME, empty, 0, int(best_bound // SCALE),
                            "lagrangian-flow", done)
    bound = max(int(best_bound // SCALE), best_value)
    status = Status.OPTIMAL if bound == best_value else Status.FEASIBLE
    return QuotaOutcome(status, best_chosen, best_value, bound, "lagrangian-flow", done)
