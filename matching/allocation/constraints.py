"""Side constraints of internship allocation, one function per rule.

Each function turns a parameter into arrays over the problem's dense indices; :func:`prepare` applies
them all and subtracts the locked placements, so that solvers only see the free part of the problem.
The checker (:mod:`matching.allocation.checker`) re-derives every rule on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.allocation.problem import (
    UNLIMITED,
    BoolArray,
    IntArray,
    InternshipParams,
    InternshipProblem,
    ProblemError,
    Quota,
)
from matching.allocation.weights import fit_weights


def pair_lookup(problem: InternshipProblem, pairs: tuple[tuple[str, str], ...]) -> IntArray:
    """Candidate pair index of each (student, opening); -1 where the two are not candidates."""
    if not pairs:
        return np.zeros(0, dtype=np.int64)
    student_index = {sid: i for i, sid in enumerate(problem.student_ids)}
    opening_index = {oid: i for i, oid in enumerate(problem.opening_ids)}
    keys = []
    for student, opening in pairs:
        if student not in student_index:
            raise ProblemError(f"unknown student {student!r} in a lock or forbidden pair")
        if opening not in opening_index:
            raise ProblemError(f"unknown opening {opening!r} in a lock or forbidden pair")
        keys.append(student_index[student] * problem.n_openings + opening_index[opening])
    wanted = np.asarray(keys, dtype=np.int64)
    pair_keys = problem.pair_student.astype(np.int64) * problem.n_openings + problem.pair_opening
    order = np.argsort(pair_keys, kind="stable")
    sorted_keys = pair_keys[order]
    pos = np.searchsorted(sorted_keys, wanted)
    pos_clipped = np.minimum(pos, max(len(sorted_keys) - 1, 0))
    found = (pos < len(sorted_keys)) & (sorted_keys[pos_clipped] == wanted) if len(sorted_keys) else (
        np.zeros(len(wanted), dtype=bool))
    return np.where(found, order[pos_clipped] if len(sorted_keys) else -1, -1).astype(np.int64)


def forbidden_pairs(problem: InternshipProblem, forbidden: tuple[tuple[str, str], ...]) -> BoolArray:
    """Mask of candidate pairs that must not be used."""
    mask = np.zeros(problem.n_pairs, dtype=bool)
    found = pair_lookup(problem, forbidden)
    mask[found[found >= 0]] = True
    return mask


def group_floors(sizes: IntArray, ids: tuple[str, ...], floor: float | dict[str, float]) -> IntArray:
    """Minimum number of placed members per group: ``ceil(share * size)``."""
    if isinstance(floor, dict):
        shares = np.zeros(len(ids), dtype=np.float64)
        index = {gid: i for i, gid in enumerate(ids)}
        for gid, share in floor.items():
            if gid not in index:
                raise ProblemError(f"floor given for unknown group {gid!r}")
            shares[index[gid]] = share
    else:
        shares = np.full(len(ids), float(floor))
    if np.any((shares < 0) | (shares > 1)):
        raise ProblemError("floor shares must lie in [0, 1]")
    # The epsilon keeps 0.3 * 10 at 3 rather than the 4 that float rounding would give.
    return np.ceil(shares * sizes - 1e-9).astype(np.int64)


def college_floors(problem: InternshipProblem, floor: float | dict[str, float]) -> IntArray:
    sizes = np.bincount(problem.student_college, minlength=len(problem.college_ids)).astype(np.int64)
    return group_floors(sizes, problem.college_ids, floor)


def program_floors(problem: InternshipProblem, floor: float | dict[str, float]) -> IntArray:
    sizes = np.bincount(problem.student_program, minlength=len(problem.program_ids)).astype(np.int64)
    return group_floors(sizes, problem.program_ids, floor)


@dataclass(slots=True)
class QuotaGroups:
    """Pairs grouped by (college of the student, enterprise of the opening) where a quota applies."""

    pair_group: IntArray  # group of each pair, -1 where no quota applies
    limit: IntArray
    college: IntArray
    enterprise: IntArray

    @property
    def n_groups(self) -> int:
        return int(self.limit.shape[0])


def quota_groups(
    problem: InternshipProblem, quotas: tuple[Quota, ...], default_quota: int | None
) -> QuotaGroups:
    """Per-(college, enterprise) quota groups over the candidate pairs."""
    n_ent = max(len(problem.enterprise_ids), 1)
    explicit: dict[int, int] = {}
    if quotas:
        college_index = {cid: i for i, cid in enumerate(problem.college_ids)}
        enterprise_index = {eid: i for i, eid in enumerate(problem.enterprise_ids)}
        for quota in quotas:
            if quota.max_students < 0:
                raise ProblemError(f"quota for ({quota.college}, {quota.enterprise}) is negative")
            c = college_index.get(quota.college)
            e = enterprise_index.get(quota.enterprise)
            if c is None or e is None:
                continue  # a quota on a pair without students or openings binds nothing
            explicit[c * n_ent + e] = quota.max_students
    empty = np.zeros(0, dtype=np.int64)
    if not explicit and default_quota is None:
        return QuotaGroups(np.full(problem.n_pairs, -1, dtype=np.int64), empty, empty, empty)
    if problem.n_pairs == 0:
        return QuotaGroups(np.zeros(0, dtype=np.int64), empty, empty, empty)
    keys = (problem.student_college[problem.pair_student].astype(np.int64) * n_ent
            + problem.opening_enterprise[problem.pair_opening])
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    limits = np.full(len(unique_keys), UNLIMITED if default_quota is None else default_quota,
                     dtype=np.int64)
    if explicit:
        explicit_keys = np.fromiter(explicit.keys(), dtype=np.int64)
        explicit_limits = np.fromiter(explicit.values(), dtype=np.int64)
        pos = np.searchsorted(unique_keys, explicit_keys)
        pos_clipped = np.minimum(pos, len(unique_keys) - 1)
        hit = (pos < len(unique_keys)) & (unique_keys[pos_clipped] == explicit_keys)
        limits[pos_clipped[hit]] = explicit_limits[hit]
    bounded = limits != UNLIMITED
    renumber = np.full(len(unique_keys), -1, dtype=np.int64)
    renumber[bounded] = np.arange(int(bounded.sum()), dtype=np.int64)
    kept_keys = unique_keys[bounded]
    return QuotaGroups(
        pair_group=renumber[inverse].astype(np.int64),
        limit=limits[bounded],
        college=kept_keys // n_ent,
        enterprise=kept_keys % n_ent,
    )


@dataclass(slots=True)
class Prepared:
    """The free part of a problem once locks are placed and forbidden pairs removed.

    Capacities here are what is *left* for the solver; ``locked_pairs`` are already placed.
    """

    problem: InternshipProblem
    weights: IntArray
    usable: BoolArray  # pairs the solver may choose (not forbidden, student and opening not locked out)
    forbidden: BoolArray
    locked_pairs: IntArray
    student_free: BoolArray
    seats_left: IntArray
    cap_left: IntArray  # per enterprise, UNLIMITED where no cap
    college_min_left: IntArray
    program_min_left: IntArray
    college_min: IntArray
    program_min: IntArray
    quotas: QuotaGroups
    quota_left: IntArray
    conflicts: list[str]

    @property
    def has_floors(self) -> bool:
        return bool(self.college_min_left.any() or self.program_min_left.any())

    @property
    def has_caps(self) -> bool:
        return bool((self.cap_left != UNLIMITED).any())


def prepare(problem: InternshipProblem, params: InternshipParams) -> Prepared:
    """Apply every side constraint of ``params`` and place the locks."""
    conflicts: list[str] = []
    forbidden = forbidden_pairs(problem, params.forbidden)
    quotas = quota_groups(problem, params.quotas, params.default_quota)
    college_min = college_floors(problem, params.college_floor)
    program_min = program_floors(problem, params.program_floor)

    lock_index = pair_lookup(problem, params.locks)
    for (student, opening), idx in zip(params.locks, lock_index, strict=True):
        if idx < 0:
            conflicts.append(f"lock ({student}, {opening}) is not a candidate pair")
        elif forbidden[idx]:
            conflicts.append(f"lock ({student}, {opening}) is also a forbidden pair")
    locked = np.unique(lock_index[lock_index >= 0])
    locked_students = problem.pair_student[locked]
    counts = np.bincount(locked_students, minlength=problem.n_students)
    for s in np.flatnonzero(counts > 1):
        conflicts.append(f"student {problem.student_ids[s]} is locked to {int(counts[s])} openings")

    seats_left = problem.opening_seats - np.bincount(problem.pair_opening[locked],
                                                      minlength=problem.n_openings)
    for o in np.flatnonzero(seats_left < 0):
        conflicts.append(f"locks on opening {problem.opening_ids[o]} exceed its "
                         f"{int(problem.opening_seats[o])} seats")
    locked_enterprises = problem.opening_enterprise[problem.pair_opening[locked]]
    cap = problem.enterprise_cap
    cap_left = np.where(cap == UNLIMITED, UNLIMITED,
                        cap - np.bincount(locked_enterprises, minlength=len(cap)))
    for e in np.flatnonzero((cap != UNLIMITED) & (cap_left < 0)):
        conflicts.append(f"locks at enterprise {problem.enterprise_ids[e]} exceed its cap "
                         f"max_interns={int(cap[e])}")
    locked_groups = quotas.pair_group[locked]
    quota_left = quotas.limit - np.bincount(locked_groups[locked_groups >= 0], minlength=quotas.n_groups)
    for g in np.flatnonzero(quota_left < 0):
        conflicts.append(
            f"locks exceed quota ({problem.college_ids[quotas.college[g]]}, "
            f"{problem.enterprise_ids[quotas.enterprise[g]]}) of {int(quotas.limit[g])}")

    student_free = np.ones(problem.n_students, dtype=bool)
    student_free[locked_students] = False
    college_min_left = np.maximum(
        college_min - np.bincount(problem.student_college[locked_students],
                                  minlength=len(problem.college_ids)), 0)
    program_min_left = np.maximum(
        program_min - np.bincount(problem.student_program[locked_students],
                                  minlength=len(problem.program_ids)), 0)
    usable = ~forbidden & student_free[problem.pair_student]
    return Prepared(
        problem=problem,
        weights=fit_weights(problem.pair_score),
        usable=usable,
        forbidden=forbidden,
        locked_pairs=locked.astype(np.int64),
        student_free=student_free,
        seats_left=np.maximum(seats_left, 0).astype(np.int64),
        cap_left=np.where(cap == UNLIMITED, UNLIMITED, np.maximum(cap_left, 0)).astype(np.int64),
        college_min_left=college_min_left.astype(np.int64),
        program_min_left=program_min_left.astype(np.int64),
        college_min=college_min,
        program_min=program_min,
        quotas=quotas,
        quota_left=np.maximum(quota_left, 0).astype(np.int64),
        conflicts=conflicts,
    )


def floor_conflicts(prepared: Prepared, college_short: IntArray, program_short: IntArray) -> list[str]:
    """Name the floors a solver could not meet, with what was needed and what was reachable."""
    problem = prepared.problem
    messages: list[str] = []
    total_floor = int(prepared.college_min_left.sum())
    total_seats = int(prepared.seats_left.sum())
    if total_floor > total_seats:
        messages.append(f"college floors need {total_floor} placements but only {total_seats} seats remain")
    for c in np.flatnonzero(college_short > 0):
        need = int(prepared.college_min[c])
        messages.append(f"floor of college {problem.college_ids[c]} needs {need} placements, "
                        f"at most {need - int(college_short[c])} reachable with seats, caps and quotas")
    for p in np.flatnonzero(program_short > 0):
        need = int(prepared.program_min[p])
        messages.append(f"floor of program {problem.program_ids[p]} needs {need} placements, "
                        f"at most {need - int(program_short[p])} reachable with seats, caps and quotas")
    return messages


