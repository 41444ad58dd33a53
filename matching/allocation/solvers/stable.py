"""Deferred acceptance (Gale–Shapley) for internships with seats, student- or opening-proposing.

Student-proposing runs in vectorised rounds (numpy); opening-proposing is plain Python over flat
numpy-derived lists, where the number of proposals, not of candidate pairs, drives the cost.
"""

from __future__ import annotations

import numpy as np

from matching.allocation.preferences import StrictPreferences
from matching.allocation.problem import BoolArray, IntArray, InternshipProblem


def _order_by(owner: IntArray, position: IntArray) -> IntArray:
    """Indices sorted by (owner, position); positions are distinct per owner, so the keys are unique.

    Packed into one integer when both fit (a stable sort of nearly ordered keys: pairs usually come
    grouped by owner), several times faster than ``np.lexsort((position, owner))``, same order.
    """
    if owner.size == 0:
        return np.zeros(0, dtype=np.int64)
    owner = owner.astype(np.int64)
    position = position.astype(np.int64)
    bits = int(position.max()).bit_length()
    if int(position.min()) < 0 or int(owner.max()).bit_length() + bits > 63:
        return np.lexsort((position, owner))
    key = owner << bits
    key |= position
    return np.argsort(key, kind="stable")


def _lists(owner: IntArray, position: IntArray, eligible: BoolArray, n_owners: int) -> tuple[
        list[int], list[int]]:
    """Pairs of each owner in preference order, as a flat list plus per-owner start offsets."""
    idx = np.flatnonzero(eligible)
    order = idx[_order_by(owner[idx], position[idx])]
    starts = np.searchsorted(owner[order], np.arange(n_owners + 1), side="left")
    return order.tolist(), starts.tolist()


def student_proposing(problem: InternshipProblem, prefs: StrictPreferences, seats: IntArray,
                      usable: BoolArray) -> IntArray:
    """Student-optimal stable matching; returns the chosen pair per student, -1 if unplaced.

    Vectorised deferred acceptance in rounds: every free student proposes to the next opening on
    their list at once; each opening keeps its best ``seats`` among held and new proposals and
    rejects the rest.  A proposal to a full opening that ranks the student below its worst held
    one is rejected without sorting.  The student-optimal stable matching does not depend on the
    order of proposals, so this equals the one-at-a-time algorithm.
    """
    eligible = usable & (prefs.student_position >= 0) & (prefs.opening_position >= 0)
    pair_student = problem.pair_student.astype(np.int64)
    idx = np.flatnonzero(eligible)
    order = idx[_order_by(pair_student[idx], prefs.student_position[idx])]
    n_students, n_openings = problem.n_students, problem.n_openings
    student_of = pair_student[order]
    opening_of = problem.pair_opening[order].astype(np.int64)
    rank_of = prefs.opening_position[order].astype(np.int64)
    starts = np.searchsorted(student_of, np.arange(n_students + 1), side="left")
    cursor = starts[:-1].copy()
    end = starts[1:]
    capacity = np.maximum(seats.astype(np.int64), 0)
    held_count = np.zeros(n_openings, dtype=np.int64)
    worst = np.full(n_openings, -1, dtype=np.int64)  # opening's position of its worst held student
    held = np.zeros(0, dtype=np.int64)  # positions in ``order`` of the proposals being held
    affected = np.zeros(n_openings, dtype=bool)
    free = np.flatnonzero(cursor < end)
    while free.size:
        pos = cursor[free]
        o = opening_of[pos]
        quick = (held_count[o] >= capacity[o]) & (rank_of[pos] > worst[o])
        rejected = free[quick]
        proposals = pos[~quick]
        if proposals.size:
            touched = np.unique(opening_of[proposals])
            affected[touched] = True
            reopened = affected[opening_of[held]]
            pool = np.concatenate([held[reopened], proposals])
            pool = pool[_order_by(opening_of[pool], rank_of[pool])]
            pool_opening = opening_of[pool]
            first = np.searchsorted(pool_opening, pool_opening, side="left")
            accept = (np.arange(pool.size) - first) < capacity[pool_opening]
            kept = pool[accept]
            held = np.concatenate([held[~reopened], kept])
            kept_opening = opening_of[kept]
            held_count[touched] = 0
            held_count += np.bincount(kept_opening, minlength=n_openings)
            worst[touched] = -1
            np.maximum.at(worst, kept_opening, rank_of[kept])
            affected[touched] = False
            rejected = np.concatenate([rejected, student_of[pool[~accept]]])
        cursor[rejected] += 1
        free = rejected[cursor[rejected] < end[rejected]]
    assigned = np.full(n_students, -1, dtype=np.int64)
    assigned[student_of[held]] = order[held]
    return assigned


def opening_proposing(problem: InternshipProblem, prefs: StrictPreferences, seats: IntArray,
                      usable: BoolArray) -> IntArray:
    """Opening-(enterprise-)optimal stable matching; openings offer seats in priority order."""
    eligible = usable & (prefs.student_position >= 0) & (prefs.opening_position >= 0)
    pair_opening = problem.pair_opening.astype(np.int64)
    flat, starts = _lists(pair_opening, prefs.opening_position, eligible, problem.n_openings)
    student_of = problem.pair_student.tolist()
    opening_of = pair_opening.tolist()
    student_pos = prefs.student_position.tolist()
    cursor = starts[:-1]
    end = starts[1:]
    open_offers = [max(int(s), 0) for s in seats.tolist()]
    holding = [-1] * problem.n_students  # pair currently held by each student
    queue = [o for o in range(problem.n_openings - 1, -1, -1) if open_offers[o] > 0 and cursor[o] < end[o]]
    while queue:
        o = queue.pop()
        while open_offers[o] > 0 and cursor[o] < end[o]:
            a = flat[cursor[o]]
            cursor[o] += 1
            s = student_of[a]
            current = holding[s]
            if current == -1 or student_pos[a] < student_pos[current]:
                holding[s] = a
                open_offers[o] -= 1
                if current != -1:
                    previous = opening_of[current]
                    open_offers[previous] += 1
                    if open_offers[previous] == 1:
                        queue.append(previous)
    return np.asarray(holding, dtype=np.int64)
