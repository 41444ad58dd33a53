"""Seats reserved for partnerships' programs (order classes, apprenticeships).

A reservation holds ``seats`` seats of one opening for the students of some programs.  Solvers never
see it: :func:`expand` turns each reserved opening into seat types — a *free* copy with the seats
left after its reservations, open to everyone, and one *reserved* copy per reservation, open to that
partnership's students only — so every method (min-cost flow, CP-SAT, Lagrangian flow, deferred
acceptance) honours reservations as plain seats, and a result maps back to the original pairs.
The checker (:func:`matching.allocation.checker.check_reservations`) tests the rule on the original
problem by counting, without this expansion.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from matching.allocation.problem import (
    IntArray,
    InternshipParams,
    InternshipProblem,
    Mode,
    ProblemError,
    Reservation,
)

# Stable mode: a partner student prefers a reserved seat to a free seat of the same opening by this
# much fit (below the solvers' 1/1000 resolution), so that it leaves the free seats to others.
RESERVED_FIRST = 1e-6


def reserve_seats(partnership: str, programs: frozenset[str], seats: int,
                  openings: Sequence[tuple[str, int]]) -> tuple[Reservation, ...]:
    """Spread a partnership's ``seats`` over an enterprise's ``openings`` ((id, seats), in order) in
    proportion to their seats, largest remainders first (then opening order); never more than an
    opening has.  Openings that get no seat get no reservation."""
    total = sum(max(n, 0) for _, n in openings)
    wanted = min(max(seats, 0), total)
    if wanted == 0 or not programs:
        return ()
    shares = [(wanted * max(n, 0) / total, i) for i, (_, n) in enumerate(openings)]
    granted = [math.floor(share) for share, _ in shares]
    left = wanted - sum(granted)
    for _, i in sorted(shares, key=lambda si: (-(si[0] - math.floor(si[0])), si[1]))[:left]:
        granted[i] += 1
    return tuple(Reservation(partnership, oid, programs, n)
                 for (oid, _), n in zip(openings, granted, strict=True) if n > 0)


def validate_reservations(problem: InternshipProblem) -> dict[int, list[int]]:
    """Reservations by opening index; a :class:`ProblemError` for an unknown opening, a negative
    count, more reserved than seats, or two reservations of one opening sharing a program."""
    opening_index = {oid: i for i, oid in enumerate(problem.opening_ids)}
    by_opening: dict[int, list[int]] = defaultdict(list)
    for k, r in enumerate(problem.reservations):
        if r.opening not in opening_index:
            raise ProblemError(f"reservation of partnership {r.partnership} names unknown opening {r.opening!r}")
        if r.seats < 0:
            raise ProblemError(f"reservation of partnership {r.partnership} at opening {r.opening} is negative")
        by_opening[opening_index[r.opening]].append(k)
    for o, ks in by_opening.items():
        reserved = sum(problem.reservations[k].seats for k in ks)
        if reserved > problem.opening_seats[o]:
            raise ProblemError(f"opening {problem.opening_ids[o]} reserves {reserved} seats of "
                               f"{int(problem.opening_seats[o])}")
        seen: set[str] = set()
        for k in ks:
            shared = seen & problem.reservations[k].programs
            if shared:
                raise ProblemError(f"two reservations of opening {problem.opening_ids[o]} cover program "
                                   f"{sorted(shared)[0]}")
            seen |= problem.reservations[k].programs
    return dict(by_opening)


@dataclass(frozen=True)
class Expansion:
    """The problem with seat types, its locks and forbidden pairs, and the way back."""

    problem: InternshipProblem
    params: InternshipParams
    pair_origin: IntArray  # expanded pair -> original pair
    reservation_of_opening: dict[int, int]  # expanded opening index of a reserved copy -> reservation


def _reserved_id(r: Reservation) -> str:
    return f"{r.opening}~{r.partnership}"


def expand(problem: InternshipProblem, params: InternshipParams) -> Expansion:
    """Seat types for every reserved opening (see the module).  Free copies keep the original
    opening indices and ids; reserved copies follow them."""
    by_opening = validate_reservations(problem)
    reservations = problem.reservations
    n_open = problem.n_openings
    seats = problem.opening_seats.copy()
    for o, ks in by_opening.items():
        seats[o] -= sum(reservations[k].seats for k in ks)
    copy_opening = np.array([problem.opening_ids.index(r.opening) for r in reservations], dtype=np.int64)
    program_of_student = np.asarray(problem.program_ids, dtype=object)[problem.student_program] if (
        problem.program_ids) else np.zeros(0, dtype=object)
    new_pairs: list[IntArray] = []
    new_copy: list[IntArray] = []
    for k, r in enumerate(reservations):
        at = np.flatnonzero(problem.pair_opening == copy_opening[k])
        partner = np.array([program_of_student[s] in r.programs for s in problem.pair_student[at].tolist()],
                           dtype=bool)
        new_pairs.append(at[partner])
        new_copy.append(np.full(int(partner.sum()), n_open + k, dtype=np.int64))
    extra = np.concatenate(new_pairs) if new_pairs else np.zeros(0, dtype=np.int64)
    extra_opening = np.concatenate(new_copy) if new_copy else np.zeros(0, dtype=np.int64)
    origin = np.concatenate([np.arange(problem.n_pairs, dtype=np.int64), extra]).astype(np.int64)
    score = problem.pair_score[origin].copy()
    student_rank = problem.pair_student_rank[origin].astype(np.int64)
    stable = params.mode == Mode.STABLE
    if stable:
        # Deferred acceptance: a partner student asks for its reserved seat before a free one.
        if problem.student_ranks_given:
            ranked = student_rank > 0
            student_rank[ranked] *= 2
            reserved_part = np.zeros(len(origin), dtype=bool)
            reserved_part[problem.n_pairs:] = True
            student_rank[ranked & reserved_part] -= 1
        else:
            score[problem.n_pairs:] += RESERVED_FIRST
    expanded = replace(
        problem,
        opening_ids=problem.opening_ids + tuple(_reserved_id(r) for r in reservations),
        opening_enterprise=np.concatenate([problem.opening_enterprise,
                                           problem.opening_enterprise[copy_opening]]).astype(np.int32),
        opening_seats=np.concatenate([seats, np.array([r.seats for r in reservations], dtype=np.int64)]),
        opening_scope=np.concatenate([problem.opening_scope, problem.opening_scope[copy_opening]]).astype(np.int32),
        pair_student=problem.pair_student[origin].astype(np.int32),
        pair_opening=np.concatenate([problem.pair_opening.astype(np.int64), extra_opening]).astype(np.int32),
        pair_score=score,
        pair_student_rank=student_rank.astype(np.int32),
        pair_opening_rank=problem.pair_opening_rank[origin].astype(np.int32),
        reservations=(),
    )
    return Expansion(expanded, replace(params, locks=_locks(problem, params, by_opening),
                                       forbidden=_forbidden(problem, params, by_opening)),
                     origin, {n_open + k: k for k in range(len(reservations))})


def _partner_reservation(problem: InternshipProblem, by_opening: dict[int, list[int]], student: str,
                         opening: str, program_of: dict[str, str]) -> int | None:
    index = {oid: i for i, oid in enumerate(problem.opening_ids)}.get(opening)
    for k in by_opening.get(index, []) if index is not None else []:
        if program_of.get(student) in problem.reservations[k].programs:
            return k
    return None


def _program_of(problem: InternshipProblem) -> dict[str, str]:
    return {sid: problem.program_ids[p] for sid, p in zip(problem.student_ids, problem.student_program.tolist(),
                                                          strict=True)}


def _locks(problem: InternshipProblem, params: InternshipParams,
           by_opening: dict[int, list[int]]) -> tuple[tuple[str, str], ...]:
    """A partner student's lock takes a reserved seat while one is left, else a free one."""
    program_of = _program_of(problem)
    left = {k: r.seats for k, r in enumerate(problem.reservations)}
    out = []
    for student, opening in params.locks:
        k = _partner_reservation(problem, by_opening, student, opening, program_of)
        if k is not None and left[k] > 0:
            left[k] -= 1
            out.append((student, _reserved_id(problem.reservations[k])))
        else:
            out.append((student, opening))
    return tuple(out)


def _forbidden(problem: InternshipProblem, params: InternshipParams,
               by_opening: dict[int, list[int]]) -> tuple[tuple[str, str], ...]:
    program_of = _program_of(problem)
    out = list(params.forbidden)
    for student, opening in params.forbidden:
        k = _partner_reservation(problem, by_opening, student, opening, program_of)
        if k is not None:
            out.append((student, _reserved_id(problem.reservations[k])))
    return tuple(out)


def lock_conflicts(problem: InternshipProblem, params: InternshipParams) -> list[str]:
    """Locks of other programs' students that need more seats than an opening leaves unreserved."""
    by_opening = validate_reservations(problem)
    program_of = _program_of(problem)
    index = {oid: i for i, oid in enumerate(problem.opening_ids)}
    others: dict[int, int] = defaultdict(int)
    for student, opening in params.locks:
        o = index.get(opening)
        if o in by_opening and _partner_reservation(problem, by_opening, student, opening, program_of) is None:
            others[o] += 1
    out = []
    for o, n in sorted(others.items()):
        ks = by_opening[o]
        free = int(problem.opening_seats[o]) - sum(problem.reservations[k].seats for k in ks)
        if n > free:
            names = ", ".join(sorted({problem.reservations[k].partnership for k in ks}))
            out.append(f"locks of {n} students outside partnership {names} on opening {problem.opening_ids[o]} "
                       f"exceed the {free} seats it does not reserve")
    return out


@dataclass(frozen=True)
class Commitment:
    """A partnership's promise for one term: ``seats`` at ``enterprise`` for ``programs``' students."""

    partnership: str
    enterprise: str
    programs: frozenset[str]
    seats: int


def apply_commitments(problem: InternshipProblem, commitments: Sequence[Commitment]) -> InternshipProblem:
    """The problem with each commitment spread over its enterprise's openings (:func:`reserve_seats`,
    in opening order, over the seats earlier commitments left).  Commitments of one enterprise whose
    programs overlap are held together, as one reservation named after all of them, since one
    student cannot take two partnerships' seats."""
    if not commitments:
        return problem
    groups: list[Commitment] = []
    for c in sorted(commitments, key=lambda c: (c.enterprise, c.partnership)):
        merged = next((g for g in groups if g.enterprise == c.enterprise and g.programs & c.programs), None)
        if merged is None:
            groups.append(c)
        else:
            groups[groups.index(merged)] = Commitment(f"{merged.partnership}+{c.partnership}", c.enterprise,
                                                      merged.programs | c.programs, merged.seats + c.seats)
    left = dict(zip(problem.opening_ids, problem.opening_seats.tolist(), strict=True))
    by_enterprise: dict[str, list[str]] = defaultdict(list)
    for oid, e in zip(problem.opening_ids, problem.opening_enterprise.tolist(), strict=True):
        by_enterprise[problem.enterprise_ids[e]].append(oid)
    reservations: list[Reservation] = []
    for c in groups:
        spread = reserve_seats(c.partnership, c.programs, c.seats,
                               [(oid, left[oid]) for oid in by_enterprise.get(c.enterprise, [])])
        for r in spread:
            left[r.opening] -= r.seats
        reservations += spread
    return replace(problem, reservations=tuple(reservations))
