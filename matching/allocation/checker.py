"""Independent verification of allocation results.

Nothing here reuses solver code or :mod:`matching.allocation.constraints`: every rule is re-derived
from the problem and the parameters, so a bug in a solver's model cannot hide in the check.  Each
function returns human-readable violations; an empty list means the rule holds.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.allocation.preferences import StrictPreferences, strict_preferences
from matching.allocation.problem import (
    UNLIMITED,
    IntArray,
    InternshipParams,
    InternshipProblem,
    LecturerParams,
    LecturerProblem,
    Mode,
)


class CheckFailedError(AssertionError):
    """A solver produced a result that breaks a constraint: a bug, never a user error."""


def _placed(problem: InternshipProblem, assigned_pair: IntArray) -> tuple[IntArray, IntArray]:
    students = np.flatnonzero(assigned_pair >= 0)
    return students, assigned_pair[students]


def check_pairs_are_candidates(problem: InternshipProblem, assigned_pair: IntArray) -> list[str]:
    if assigned_pair.shape != (problem.n_students,):
        return [f"assignment has shape {assigned_pair.shape}, expected ({problem.n_students},)"]
    students, pairs = _placed(problem, assigned_pair)
    if np.any(pairs >= problem.n_pairs):
        return ["assignment refers to a pair that does not exist"]
    wrong = students[problem.pair_student[pairs] != students]
    return [f"student {problem.student_ids[s]} placed through another student's candidate pair"
            for s in wrong[:20]]


def check_seats(problem: InternshipProblem, assigned_pair: IntArray) -> list[str]:
    _, pairs = _placed(problem, assigned_pair)
    used = Counter(problem.pair_opening[pairs].tolist())
    return [f"opening {problem.opening_ids[o]} has {n} placements for {int(problem.opening_seats[o])} seats"
            for o, n in sorted(used.items()) if n > problem.opening_seats[o]]


def check_enterprise_caps(problem: InternshipProblem, assigned_pair: IntArray) -> list[str]:
    _, pairs = _placed(problem, assigned_pair)
    used = Counter(problem.opening_enterprise[problem.pair_opening[pairs]].tolist())
    out = []
    for e, n in sorted(used.items()):
        cap = int(problem.enterprise_cap[e])
        if cap != UNLIMITED and n > cap:
            out.append(f"enterprise {problem.enterprise_ids[e]} has {n} interns, cap {cap}")
    return out


def check_reservations(problem: InternshipProblem, assigned_pair: IntArray) -> list[str]:
    """Seats reserved for a partnership's programs are held by no one else: at each opening, the
    students outside every reservation's programs, plus the partner students beyond their
    reservation, fit into the seats the opening does not reserve (counted here, not expanded)."""
    if not problem.reservations:
        return []
    students, pairs = _placed(problem, assigned_pair)
    program_of = [problem.program_ids[p] for p in problem.student_program.tolist()]
    held: dict[str, list[str]] = {}
    for s, o in zip(students.tolist(), problem.pair_opening[pairs].tolist(), strict=True):
        held.setdefault(problem.opening_ids[o], []).append(program_of[s])
    seats = dict(zip(problem.opening_ids, problem.opening_seats.tolist(), strict=True))
    at: dict[str, list[tuple[str, frozenset[str], int]]] = {}
    for r in problem.reservations:
        at.setdefault(r.opening, []).append((r.partnership, r.programs, r.seats))
    out = []
    for opening, rs in sorted(at.items()):
        reserved = sum(n for _, _, n in rs)
        if opening not in seats or reserved > seats[opening]:
            out.append(f"opening {opening} reserves {reserved} seats of {seats.get(opening, 0)}")
            continue
        programs = Counter(held.get(opening, []))
        covered: set[str] = set()
        beyond = 0
        for _, members, n in rs:
            if covered & members:
                out.append(f"opening {opening}: reservations share programs {sorted(covered & members)}")
            covered |= members
            beyond += max(0, sum(programs[p] for p in members) - n)
        others = sum(c for p, c in programs.items() if p not in covered)
        free = seats[opening] - reserved
        if others + beyond > free:
            names = ", ".join(sorted({name for name, _, _ in rs}))
            out.append(f"opening {opening}: {others} students outside partnership {names} and {beyond} beyond "
                       f"its reservation hold more than the {free} seats it does not reserve")
    return out


def check_quotas(problem: InternshipProblem, params: InternshipParams, assigned_pair: IntArray) -> list[str]:
    if not params.quotas and params.default_quota is None:
        return []
    students, pairs = _placed(problem, assigned_pair)
    used = Counter(zip(
        (problem.college_ids[c] for c in problem.student_college[students].tolist()),
        (problem.enterprise_ids[e] for e in problem.opening_enterprise[problem.pair_opening[pairs]].tolist()),
        strict=True))
    explicit = {(q.college, q.enterprise): q.max_students for q in params.quotas}
    out = []
    for key, n in sorted(used.items()):
        limit = explicit.get(key, params.default_quota)
        if limit is not None and n > limit:
            out.append(f"quota ({key[0]}, {key[1]}) is {limit}, {n} placed")
    return out


def _floor_violations(kind: str, ids: tuple[str, ...], members: npt.NDArray[Any],
                      placed_members: npt.NDArray[Any],
                      floor: float | dict[str, float]) -> list[str]:
    sizes = Counter(members.tolist())
    placed = Counter(placed_members.tolist())
    out = []
    for g, size in sorted(sizes.items()):
        share = floor.get(ids[g], 0.0) if isinstance(floor, dict) else floor
        need = math.ceil(share * size - 1e-9)
        if placed.get(g, 0) < need:
            out.append(f"floor of {kind} {ids[g]}: {placed.get(g, 0)} placed, {need} required")
    return out


def check_floors(problem: InternshipProblem, params: InternshipParams, assigned_pair: IntArray) -> list[str]:
    students, _ = _placed(problem, assigned_pair)
    return (_floor_violations("college", problem.college_ids, problem.student_college,
                              problem.student_college[students], params.college_floor)
            + _floor_violations("program", problem.program_ids, problem.student_program,
                                problem.student_program[students], params.program_floor))


def _placement_of(problem: InternshipProblem, assigned_pair: IntArray) -> dict[str, str]:
    students, pairs = _placed(problem, assigned_pair)
    return {problem.student_ids[s]: problem.opening_ids[o]
            for s, o in zip(students.tolist(), problem.pair_opening[pairs].tolist(), strict=True)}


def check_locks_and_forbidden(problem: InternshipProblem, params: InternshipParams,
                              assigned_pair: IntArray) -> list[str]:
    if not params.locks and not params.forbidden:
        return []
    placement = _placement_of(problem, assigned_pair)
    out = [f"locked pair ({s}, {o}) not kept" for s, o in params.locks if placement.get(s) != o]
    out += [f"forbidden pair ({s}, {o}) used" for s, o in params.forbidden if placement.get(s) == o]
    return out


def count_blocking_pairs(problem: InternshipProblem, assigned_pair: IntArray, seed: int,
                         forbidden: tuple[tuple[str, str], ...] = (),
                         locks: tuple[tuple[str, str], ...] = (),
                         prefs: StrictPreferences | None = None) -> int:
    """Pairs (s, o), acceptable to both, where s prefers o and o has room or prefers s to someone.

    Locked students neither move nor can be displaced, so they take part only by holding seats.
    ``prefs`` may pass the orders already derived for ``seed`` (the one shared definition of the
    instance's strict preferences); the count itself is computed here, from scratch.
    """
    prefs = strict_preferences(problem, seed) if prefs is None else prefs
    n = problem.n_students
    locked_ids = {s for s, _ in locks}
    locked = np.array([sid in locked_ids for sid in problem.student_ids], dtype=bool) if locks else (
        np.zeros(n, dtype=bool))
    current = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    students, pairs = _placed(problem, assigned_pair)
    current[students] = prefs.student_position[pairs]
    held = np.bincount(problem.pair_opening[pairs], minlength=problem.n_openings)
    movable = ~locked[students]
    worst = np.full(problem.n_openings, -1, dtype=np.int64)
    np.maximum.at(worst, problem.pair_opening[pairs[movable]], prefs.opening_position[pairs[movable]])
    acceptable = (prefs.student_position >= 0) & (prefs.opening_position >= 0) & ~locked[problem.pair_student]
    if forbidden:
        banned = {(s, o) for s, o in forbidden}
        acceptable &= np.array([(problem.student_ids[s], problem.opening_ids[o]) not in banned
                                for s, o in zip(problem.pair_student.tolist(), problem.pair_opening.tolist(),
                                                strict=True)], dtype=bool)
    student_wants = prefs.student_position < current[problem.pair_student]
    o = problem.pair_opening
    opening_wants = (held[o] < problem.opening_seats[o]) | (prefs.opening_position < worst[o])
    return int(np.count_nonzero(acceptable & student_wants & opening_wants))


def check_internships(problem: InternshipProblem, params: InternshipParams, assigned_pair: IntArray,
                      check_floors_and_stability: bool = True,
                      prefs: StrictPreferences | None = None) -> list[str]:
    """All internship rules.

    ``check_floors_and_stability`` is off only for a result without placements (infeasible, or no
    solution in time), where locks, floors and stability cannot hold and are not claimed to.
    """
    problems = check_pairs_are_candidates(problem, assigned_pair)
    if problems:
        return problems
    problems += check_seats(problem, assigned_pair)
    problems += check_enterprise_caps(problem, assigned_pair)
    problems += check_quotas(problem, params, assigned_pair)
    problems += check_reservations(problem, assigned_pair)
    if check_floors_and_stability:
        problems += check_locks_and_forbidden(problem, params, assigned_pair)
        problems += check_floors(problem, params, assigned_pair)
        # With reservations stability is a property of the seat types (reserved and free seats of
        # an opening), which solve_internships checks on that expansion of the problem.
        if params.mode == Mode.STABLE and not problem.reservations:
            blocking = count_blocking_pairs(problem, assigned_pair, params.seed, params.forbidden,
                                            params.locks, prefs)
            if blocking:
                problems.append(f"{blocking} blocking pairs in a stable result")
    return problems


def check_lecturers(problem: LecturerProblem, params: LecturerParams, assigned_pair: IntArray) -> list[str]:
    """One lecturer per need, candidates only, availability, weekly hours and slot overlaps."""
    out: list[str] = []
    if assigned_pair.shape != (len(problem.need_ids),):
        return [f"assignment has shape {assigned_pair.shape}"]
    hours: Counter[int] = Counter()
    slot_use: Counter[tuple[int, int]] = Counter()
    for need, pair in enumerate(assigned_pair.tolist()):
        if pair < 0:
            continue
        if pair >= len(problem.pair_need) or problem.pair_need[pair] != need:
            out.append(f"course need {problem.need_ids[need]} placed through a foreign pair")
            continue
        lecturer = int(problem.pair_lecturer[pair])
        if not problem.need_slots[need] <= problem.lecturer_slots[lecturer]:
            out.append(f"lecturer {problem.lecturer_ids[lecturer]} unavailable for {problem.need_ids[need]}")
        hours[lecturer] += int(problem.need_hours[need])
        for slot in problem.need_slots[need]:
            slot_use[(lecturer, slot)] += 1
    for lecturer, total in sorted(hours.items()):
        if total > problem.lecturer_max_hours[lecturer]:
            out.append(f"lecturer {problem.lecturer_ids[lecturer]} teaches {total} h, "
                       f"max {int(problem.lecturer_max_hours[lecturer])}")
    for (lecturer, slot), n in sorted(slot_use.items()):
        if n > 1:
            out.append(f"lecturer {problem.lecturer_ids[lecturer]} has {n} courses in slot "
                       f"{problem.slot_ids[slot]}")
    return out
