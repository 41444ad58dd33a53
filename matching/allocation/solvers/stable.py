"""Deferred acceptance (Gale–Shapley) for internships with seats, student- or opening-proposing.

Plain Python over flat numpy-derived lists: the number of proposals, not the number of candidate
pairs, drives the cost, and it stays a small multiple of the number of students in practice.
"""

from __future__ import annotations

import heapq

import numpy as np

from matching.allocation.preferences import StrictPreferences
from matching.allocation.problem import BoolArray, IntArray, InternshipProblem


def _lists(owner: IntArray, position: IntArray, eligible: BoolArray, n_owners: int) -> tuple[
        list[int], list[int]]:
    """Pairs of each owner in preference order, as a flat list plus per-owner start offsets."""
    idx = np.flatnonzero(eligible)
    order = idx[np.lexsort((position[idx], owner[idx]))]
    starts = np.searchsorted(owner[order], np.arange(n_owners + 1), side="left")
    return order.tolist(), starts.tolist()


def student_proposing(problem: InternshipProblem, prefs: StrictPreferences, seats: IntArray,
                      usable: BoolArray) -> IntArray:
    """Student-optimal stable matching; returns the chosen pair per student, -1 if unplaced."""
    eligible = usable & (prefs.student_position >= 0) & (prefs.opening_position >= 0)
    pair_student = problem.pair_student.astype(np.int64)
    flat, starts = _lists(pair_student, prefs.student_position, eligible, problem.n_students)
    pair_opening = problem.pair_opening.tolist()
    opening_pos = prefs.opening_position.tolist()
    student_of = pair_student.tolist()
    capacity = seats.tolist()
    held: list[list[tuple[int, int]]] = [[] for _ in range(problem.n_openings)]
    cursor = starts[:-1]
    end = starts[1:]
    free = [s for s in range(problem.n_students - 1, -1, -1) if cursor[s] < end[s]]
    while free:
        s = free.pop()
        while cursor[s] < end[s]:
            a = flat[cursor[s]]
            cursor[s] += 1
            o = pair_opening[a]
            cap = capacity[o]
            if cap <= 0:
                continue
            heap = held[o]
            # Max-heap on the opening's position of each held student: the root is the worst held.
            if len(heap) < cap:
                heapq.heappush(heap, (-opening_pos[a], a))
                break
            if -heap[0][0] > opening_pos[a]:
                _, rejected = heapq.heapreplace(heap, (-opening_pos[a], a))
                free.append(student_of[rejected])
                break
    assigned = np.full(problem.n_students, -1, dtype=np.int64)
    for heap in held:
        for _, a in heap:
            assigned[student_of[a]] = a
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
