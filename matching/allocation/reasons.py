"""Machine-readable reasons why each unplaced student has no placement."""

from __future__ import annotations

import numpy as np

from matching.allocation.constraints import Prepared
from matching.allocation.preferences import StrictPreferences
from matching.allocation.problem import UNLIMITED, IntArray, Unplaced, UnplacedReason


def unplaced_reasons(prepared: Prepared, assigned_pair: IntArray,
                     prefs: StrictPreferences | None = None) -> tuple[Unplaced, ...]:
    """For every unplaced student, what stood in the way on each of their candidate pairs.

    ``full``: the opening had no seat left or its enterprise reached its cap; ``quota``: the
    (college, enterprise) quota was used up; ``ineligible``: the pair is forbidden; ``not_ranked``
    (stable mode, when ``prefs`` are given): a side did not rank the other; ``no_candidates``: the
    student has no candidate pair at all.
    """
    problem = prepared.problem
    placed_students = np.flatnonzero(assigned_pair >= 0)
    pairs = assigned_pair[placed_students]
    seats_used = np.bincount(problem.pair_opening[pairs], minlength=problem.n_openings)
    ent_used = np.bincount(problem.opening_enterprise[problem.pair_opening[pairs]],
                           minlength=len(problem.enterprise_ids))
    groups = prepared.quotas.pair_group
    group_used = np.bincount(groups[pairs][groups[pairs] >= 0], minlength=prepared.quotas.n_groups)

    opening = problem.pair_opening
    enterprise = problem.opening_enterprise[opening]
    cap = problem.enterprise_cap[enterprise]
    full = (seats_used[opening] >= problem.opening_seats[opening]) | (
        (cap != UNLIMITED) & (ent_used[enterprise] >= cap))
    quota_hit = (groups >= 0) & (group_used[np.maximum(groups, 0)] >= prepared.quotas.limit[np.maximum(
        groups, 0)] if prepared.quotas.n_groups else np.zeros(problem.n_pairs, dtype=bool))
    not_ranked = ((prefs.student_position < 0) | (prefs.opening_position < 0) if prefs is not None
                  else np.zeros(problem.n_pairs, dtype=bool))
    flags = (full, quota_hit, prepared.forbidden, not_ranked)
    codes = (UnplacedReason.FULL, UnplacedReason.QUOTA, UnplacedReason.INELIGIBLE, UnplacedReason.NOT_RANKED)

    unplaced = assigned_pair < 0
    student = problem.pair_student
    n = problem.n_students
    # A reason holds for a student when it holds on any of their pairs (a count per student, no
    # sort); each student's reasons are one bit pattern, and the few distinct patterns become tuples once.
    pattern = np.zeros(n, dtype=np.int64)
    for bit, flag in enumerate(flags):
        pattern |= (np.bincount(student[flag], minlength=n) > 0).astype(np.int64) << bit
    has_pairs = np.bincount(student, minlength=n) > 0
    no_candidates = -1
    pattern[~has_pairs] = no_candidates
    students = np.flatnonzero(unplaced)
    reasons_of: dict[int, tuple[UnplacedReason, ...]] = {no_candidates: (UnplacedReason.NO_CANDIDATES,)}
    for bits in np.unique(pattern[students]).tolist():
        if bits != no_candidates:
            reasons_of[bits] = tuple(code for i, code in enumerate(codes) if bits >> i & 1)
    student_ids, college_ids = problem.student_ids, problem.college_ids
    return tuple(Unplaced(student_ids[s], college_ids[c], reasons_of[bits]) for s, c, bits in zip(
        students.tolist(), problem.student_college[students].tolist(), pattern[students].tolist(), strict=True))
