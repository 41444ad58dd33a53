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

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matching.allocation.constraints import Prepared, QuotaGroups
from matching.allocation.problem import UNLIMITED, BoolArray, IntArray, Status
from matching.allocation.solvers.cpsat import configure
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
    # One worker: deterministic, and on these models far quicker to prove optimality than several
    # (which spend seconds coordinating on a few hundred variables).
    configure(solver, time_limit_s, seed, workers=1)
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


def fold_quotas(prepared: Prepared) -> Prepared:
    """Fold into enterprise caps every quota that is one (exact, no relaxation).

    When all live pairs at an enterprise belong to one (college, enterprise) group, that quota bounds
    exactly the placements an enterprise cap bounds, so the cap becomes ``min(cap, quota)`` and the
    group disappears; groups without live pairs bind nothing and disappear too.  A part with a single
    college (common when parts follow provinces) thereby becomes a plain min-cost flow.
    """
    problem = prepared.problem
    quotas = prepared.quotas
    n_groups = quotas.n_groups
    if n_groups == 0:
        return prepared
    live = prepared.usable & (prepared.seats_left[problem.pair_opening] > 0)
    enterprise = problem.opening_enterprise[problem.pair_opening[live]].astype(np.int64)
    group = quotas.pair_group[live]
    keys = np.unique(enterprise * (n_groups + 1) + (group + 1))
    key_enterprise = keys // (n_groups + 1)
    key_group = keys % (n_groups + 1) - 1
    per_enterprise = np.bincount(key_enterprise, minlength=len(problem.enterprise_ids))
    sole = (per_enterprise[key_enterprise] == 1) & (key_group >= 0)
    folded_groups = key_group[sole]
    keep = np.zeros(n_groups, dtype=bool)
    keep[np.unique(group[group >= 0])] = True  # groups with live pairs
    keep[folded_groups] = False
    caps = prepared.cap_left.copy()
    folded_enterprises = key_enterprise[sole]
    limit = prepared.quota_left[folded_groups]
    current = caps[folded_enterprises]
    caps[folded_enterprises] = np.where(current == UNLIMITED, limit, np.minimum(current, limit))
    renumber = np.full(n_groups + 1, -1, dtype=np.int64)
    renumber[:-1][keep] = np.arange(int(keep.sum()), dtype=np.int64)
    folded = QuotaGroups(pair_group=renumber[quotas.pair_group], limit=quotas.limit[keep],
                         college=quotas.college[keep], enterprise=quotas.enterprise[keep])
    return dataclasses.replace(prepared, cap_left=caps, quotas=folded, quota_left=prepared.quota_left[keep])


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


def floors_met(prepared: Prepared, chosen: IntArray) -> bool:
    problem = prepared.problem
    students = problem.pair_student[chosen]
    college = np.bincount(problem.student_college[students], minlength=len(problem.college_ids))
    program = np.bincount(problem.student_program[students], minlength=len(problem.program_ids))
    return bool(np.all(college >= prepared.college_min_left) and np.all(program >= prepared.program_min_left))


def quick_repair(prepared: Prepared, chosen: IntArray, gains: IntArray) -> IntArray:
    """A quota-respecting allocation near ``chosen``: trim every group to its quota, then top up."""
    return _greedy_top_up(prepared, _trim_to_quotas(prepared, chosen, gains), prepared.usable)


def _floor_units(prepared: Prepared, chosen: IntArray) -> int:
    """Placements that count toward a floor (capped at each floor): what the flows maximise first."""
    problem = prepared.problem
    students = problem.pair_student[chosen]
    college = np.bincount(problem.student_college[students], minlength=len(problem.college_ids))
    program = np.bincount(problem.student_program[students], minlength=len(problem.program_ids))
    return int(np.minimum(college, prepared.college_min_left).sum()
               + np.minimum(program, prepared.program_min_left).sum())


def improve_by_college(prepared: Prepared, chosen: IntArray, deadline: float, rounds: int = 3) -> IntArray:
    """Block-coordinate ascent: re-solve one college at a time exactly, the others held fixed.

    With the other colleges' placements fixed, a single college's (college, enterprise) quotas are
    plain caps on enterprises, so its best re-placement (floors first, then fit) is one exact
    min-cost flow over its own pairs.  Each accepted step meets at least as many floor units and
    gains weight, so the allocation only improves; quotas, seats and caps hold throughout.
    """
    problem = prepared.problem
    quotas = prepared.quotas
    pair_college = problem.student_college[problem.pair_student].astype(np.int64)
    pair_opening = problem.pair_opening
    pair_enterprise = problem.opening_enterprise[pair_opening].astype(np.int64)
    live = prepared.usable & (prepared.seats_left[pair_opening] > 0)
    colleges = np.unique(pair_college[live]).tolist()
    n_colleges = len(problem.college_ids)
    n_enterprises = len(problem.enterprise_ids)
    current = np.sort(chosen)
    score = (_floor_units(prepared, current), int(prepared.weights[current].sum()))
    for round_number in range(rounds):
        improved = False
        for c in colleges:
            # The first round always completes: it is what turns a rough repair into a good answer.
            if round_number > 0 and time.monotonic() > deadline:
                return current
            mine = pair_college[current] == c
            others = current[~mine]
            seats = prepared.seats_left - np.bincount(pair_opening[others], minlength=problem.n_openings)
            used = np.bincount(pair_enterprise[others], minlength=n_enterprises)
            caps = np.where(prepared.cap_left == UNLIMITED, UNLIMITED, prepared.cap_left - used)
            own = quotas.college == c
            quota_enterprise = quotas.enterprise[own]
            limit = prepared.quota_left[own]
            cap_now = caps[quota_enterprise]
            caps[quota_enterprise] = np.where(cap_now == UNLIMITED, limit, np.minimum(cap_now, limit))
            college_min = np.zeros(n_colleges, dtype=np.int64)
            college_min[c] = prepared.college_min_left[c]
            other_students = problem.pair_student[others]
            program_min = np.maximum(prepared.program_min_left - np.bincount(
                problem.student_program[other_students], minlength=len(problem.program_ids)), 0)
            program_min[problem.student_program[problem.student_college != c]] = 0
            flow = solve_flow(prepared, usable=prepared.usable & (pair_college == c), seats=seats, caps=caps,
                              college_min=college_min, program_min=program_min)
            candidate = np.sort(np.concatenate([others, flow.chosen]))
            new_score = (_floor_units(prepared, candidate), int(prepared.weights[candidate].sum()))
            if new_score > score:
                current, score, improved = candidate, new_score, True
        if not improved:
            break
    return current


def solve_lagrangian(prepared: Prepared, iterations: int, target_gap: float, deadline: float) -> QuotaOutcome:
    """Subgradient optimisation of the quota multipliers over exact flows (the bound), with repairs.

    Every step's relaxed flow is trimmed to the quotas and topped up (cheap); the first and the most
    valuable of these are then improved by :func:`improve_by_college`, which also restores floors.
    Iteration counts (not the clock) drive the method so that results are reproducible; the deadline
    only cuts a run short.
    """
    base = prepared.weights * SCALE
    n_groups = prepared.quotas.n_groups
    multipliers = np.zeros(n_groups, dtype=np.float64)
    groups = prepared.quotas.pair_group
    best_bound = np.iinfo(np.int64).max  # in SCALE units
    best_value = -1
    best_chosen: IntArray | None = None
    seed_value = -1
    seed_chosen: IntArray | None = None
    seed_polished = False
    step_scale = 1.0
    stale = 0
    done = 0

    def polish(candidate: IntArray) -> None:
        nonlocal best_value, best_chosen
        improved = improve_by_college(prepared, candidate, deadline)
        if floors_met(prepared, improved):
            value = int(prepared.weights[improved].sum())
            if value > best_value:
                best_value, best_chosen = value, improved

    for it in range(max(iterations, 1)):
        done = it + 1
        lam = np.rint(multipliers).astype(np.int64)
        gains = base - np.where(groups >= 0, lam[np.maximum(groups, 0)], 0)
        flow = solve_flow(prepared, gains=gains)
        if flow.college_short.any() or flow.program_short.any():
            # The flow is a relaxation of the quota problem: floors it cannot reach are infeasible.
            empty = np.zeros(0, dtype=np.int64)
            return QuotaOutcome(Status.INFEASIBLE, empty, 0, 0, "lagrangian-flow", done)
        usage = _usage(prepared, flow.chosen)
        dual = flow.value + int((lam * prepared.quota_left).sum())
        if dual < best_bound:
            best_bound = dual
            stale = 0
        else:
            stale += 1
        if stale >= 3:
            step_scale /= 2
            stale = 0
        candidate = quick_repair(prepared, flow.chosen, gains)
        value = int(prepared.weights[candidate].sum())
        if value > seed_value:
            seed_value, seed_chosen, seed_polished = value, candidate, False
        if it == 0:
            polish(candidate)
            seed_polished = True
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
    if seed_chosen is not None and not seed_polished:
        polish(seed_chosen)
    bound_w = int(best_bound // SCALE)
    if best_chosen is None:
        empty = np.zeros(0, dtype=np.int64)
        return QuotaOutcome(Status.NO_SOLUTION_IN_TIME, empty, 0, bound_w, "lagrangian-flow", done)
    bound = max(bound_w, best_value)
    status = Status.OPTIMAL if bound == best_value else Status.FEASIBLE
    return QuotaOutcome(status, best_chosen, best_value, bound, "lagrangian-flow", done)
