"""Tiny hand-built instances and brute-force oracles for the allocation tests."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

import numpy as np

from matching.allocation import InternshipParams, InternshipProblem, internship_problem
from matching.allocation.problem import UNLIMITED
from matching.allocation.weights import fit_weights
from matching.domain import OpeningProfile, StudentProfile


def make_problem(
    students: Sequence[tuple[str, str, str]],  # id, college, program
    openings: Sequence[tuple[str, str, int]],  # id, enterprise, seats
    candidates: Sequence[tuple[str, str, float]],
    caps: dict[str, int] | None = None,
    student_ranks: dict[tuple[str, str], int] | None = None,
    opening_ranks: dict[tuple[str, str], int] | None = None,
    province_of: dict[str, str] | None = None,
) -> InternshipProblem:
    prefs: dict[str, dict[str, int]] = {}
    for (s, o), r in (student_ranks or {}).items():
        prefs.setdefault(s, {})[o] = r
    province = province_of or {}
    return internship_problem(
        [StudentProfile(id=s, program_id=p, college_id=c, province=province.get(s, "P"),
                        preferences=prefs.get(s, {})) for s, c, p in students],
        [OpeningProfile(id=o, enterprise_id=e, title=o, seats=n, province=province.get(o, "P"))
         for o, e, n in openings],
        candidates, enterprise_caps=caps, opening_ranks=opening_ranks)


def all_assignments(problem: InternshipProblem) -> Iterator[np.ndarray]:
    """Every way to give each student one candidate pair or nothing."""
    options: list[list[int]] = [[-1] for _ in range(problem.n_students)]
    for a in range(problem.n_pairs):
        options[int(problem.pair_student[a])].append(a)
    for combo in itertools.product(*options):
        yield np.array(combo, dtype=np.int64)


def feasible(problem: InternshipProblem, params: InternshipParams, assigned: np.ndarray) -> bool:
    """Plain restatement of every optimal-mode rule, for the oracle."""
    placed = [(s, int(a)) for s, a in enumerate(assigned.tolist()) if a >= 0]
    seat_use: dict[int, int] = {}
    ent_use: dict[int, int] = {}
    quota_use: dict[tuple[str, str], int] = {}
    for s, a in placed:
        o = int(problem.pair_opening[a])
        e = int(problem.opening_enterprise[o])
        seat_use[o] = seat_use.get(o, 0) + 1
        ent_use[e] = ent_use.get(e, 0) + 1
        key = (problem.college_ids[problem.student_college[s]], problem.enterprise_ids[e])
        quota_use[key] = quota_use.get(key, 0) + 1
    if any(n > problem.opening_seats[o] for o, n in seat_use.items()):
        return False
    if any(problem.enterprise_cap[e] != UNLIMITED and n > problem.enterprise_cap[e] for e, n in ent_use.items()):
        return False
    explicit = {(q.college, q.enterprise): q.max_students for q in params.quotas}
    for key, n in quota_use.items():
        limit = explicit.get(key, params.default_quota)
        if limit is not None and n > limit:
            return False
    by_pair = {(problem.student_ids[s], problem.opening_ids[problem.pair_opening[a]]) for s, a in placed}
    if any(pair not in by_pair for pair in params.locks) or any(pair in by_pair for pair in params.forbidden):
        return False
    for ids, members, floor in ((problem.college_ids, problem.student_college, params.college_floor),
                                (problem.program_ids, problem.student_program, params.program_floor)):
        for g in set(members.tolist()):
            size = int((members == g).sum())
            share = floor.get(ids[g], 0.0) if isinstance(floor, dict) else floor
            got = sum(1 for s, _ in placed if members[s] == g)
            if got < math.ceil(share * size - 1e-9):
                return False
    return True


def brute_force_optimum(problem: InternshipProblem, params: InternshipParams) -> int | None:
    weights = fit_weights(problem.pair_score)
    best: int | None = None
    for assigned in all_assignments(problem):
        if feasible(problem, params, assigned):
            value = int(weights[assigned[assigned >= 0]].sum())
            best = value if best is None else max(best, value)
    return best
