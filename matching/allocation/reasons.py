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
    flags = np.stack([full, quota_hit, prepared.forbidden, not_ranked], axis=1)
    codes = (UnplacedReason.FULL, UnplacedReason.QUOTA, UnplacedReason.INELIGIBLE, UnplacedReason.NOT_RANKED)

    unplaced = assigned_pair < 0
    order = np.argsort(problem.pair_student, kind="stable")
    starts = np.searchsorted(problem.pair_student[order], np.arange(problem.n_students + 1))
    per_student = np.zeros((problem.n_students, len(codes)), dtype=bool)
    if problem.n_pairs:
        sorted_flags = flags[order]
        nonempty = starts[:-1] < starts[1:]
        reduced = np.logical_or.reduceat(sorted_flags, np.minimum(starts[:-1], problem.n_pairs - 1), axis=0)
        per_student[nonempty] = reduced[nonempty]
    has_pairs = starts[1:] > starts[:-1]
    out = []
    for s in np.flatnonzero(unplaced).tolist():
        if not has_pairs[s]:
            reasons: tuple[UnplacedReason, ...] = (UnplacedReason.NO_CANDIDATES,)
        else:
            reasons = tuple(code for code, hit in zip(codes, per_student[s].tolist(), strict=True) if hit)
        out.append(Unplaced(problem.student_ids[s], problem.college_ids[problem.student_college[s]], reasons))
    return tuple(out)
