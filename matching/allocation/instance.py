"""Building an internship problem from scored candidates: the service's rules as arrays.

The batch-run service scores candidate openings per student (``matching.scoring``) and hands them
here with the run's rules (forbidden pairs, pairs to keep, locks, the 专业大类 rule, enterprise
caps); :func:`internship_instance` returns the solver problem.  Pure: the same inputs always give
the same problem, array for array, which the run's input digest relies on.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from matching.allocation.problem import NOT_RANKED, UNLIMITED, InternshipProblem
from matching.domain import OpeningProfile, ProgramProfile, StudentProfile

__all__ = ["CandidatePairs", "InternshipInstance", "apportion_caps", "internship_instance", "with_seats"]

# A still-pending proposal of the previous round keeps this much extra fit (one solver weight unit,
# 1/1000 of a perfect fit): among allocations of equal fit the one that changes fewest wins.
KEEP_PROPOSAL_BONUS = 0.001


def with_seats(profile: OpeningProfile, seats: int) -> OpeningProfile:
    """The opening with ``seats`` seats (never fewer than 0)."""
    return replace(profile, seats=max(0, seats))


@dataclass(frozen=True)
class InternshipInstance:
    """A solver problem and the locks of it that exist in the scope (sorted)."""

    problem: InternshipProblem
    locks: tuple[tuple[str, str], ...]


def internship_instance(
    students: Sequence[StudentProfile],
    openings: Sequence[OpeningProfile],
    programs: Mapping[str, ProgramProfile],
    enterprise_caps: Mapping[str, int],
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    stable: bool = False,
    forbidden: Iterable[tuple[str, str]] = (),
    keep: Iterable[tuple[str, str]] = (),
    locks: Iterable[tuple[str, str]] = (),
    allow_cross_category: bool = True,
) -> InternshipInstance:
    """The internship problem of scored candidates under the run's rules.

    ``candidates`` are (student index, opening index, score) arrays over ``students`` and
    ``openings``.  Forbidden pairs are dropped; unless ``allow_cross_category``, pairs outside the
    student's 专业大类 are too; pairs in ``keep`` (pending proposals of the previous round) gain
    :data:`KEEP_PROPOSAL_BONUS`; locked pairs are added (score 0) where the candidates lack them.
    In ``stable`` mode the enterprise caps become seats (:func:`apportion_caps`), since deferred
    acceptance knows seats per opening only.
    """
    caps: Mapping[str, int] = enterprise_caps
    if stable:
        openings = apportion_caps(openings, dict(caps))
        caps = {}
    student_index, opening_index, score = candidates
    pairs = CandidatePairs(students, openings, student_index, opening_index, score)
    pairs.drop(pairs.keys_of(forbidden))
    if not allow_cross_category:
        pairs.keep_only(pairs.same_category(programs))
    pairs.bump(pairs.keys_of(keep), KEEP_PROPOSAL_BONUS)
    known = pairs.add_missing(locks)
    return InternshipInstance(pairs.problem(dict(caps)), tuple(sorted(known)))


class CandidatePairs:
    """Candidate (student, opening) pairs as arrays, filtered and turned into a solver problem
    without a Python loop per pair (a province-wide run has millions of pairs)."""

    def __init__(self, students: Sequence[StudentProfile], openings: Sequence[OpeningProfile],
                 student_index: np.ndarray, opening_index: np.ndarray, score: np.ndarray) -> None:
        self.students, self.openings = students, openings
        self.n_openings = max(len(openings), 1)
        self.student = np.asarray(student_index, dtype=np.int64)
        self.opening = np.asarray(opening_index, dtype=np.int64)
        self.score = np.asarray(score, dtype=np.float64).copy()
        self._student_pos = {s.id: i for i, s in enumerate(students)}
        self._opening_pos = {o.id: j for j, o in enumerate(openings)}

    @property
    def keys(self) -> np.ndarray:
        return self.student * self.n_openings + self.opening

    def keys_of(self, pairs: Iterable[tuple[str, str]]) -> np.ndarray:
        found = [self._student_pos[s] * self.n_openings + self._opening_pos[o] for s, o in pairs
                 if s in self._student_pos and o in self._opening_pos]
        return np.asarray(sorted(set(found)), dtype=np.int64)

    def _select(self, mask: np.ndarray) -> None:
        self.student, self.opening, self.score = self.student[mask], self.opening[mask], self.score[mask]

    def drop(self, keys: np.ndarray) -> None:
        if keys.size:
            self._select(~np.isin(self.keys, keys))

    def keep_only(self, mask: np.ndarray) -> None:
        self._select(mask)

    def bump(self, keys: np.ndarray, bonus: float) -> None:
        if keys.size:
            hit = np.isin(self.keys, keys)
            self.score[hit] = np.minimum(1.0, self.score[hit] + bonus)

    def same_category(self, programs: Mapping[str, ProgramProfile]) -> np.ndarray:
        """Pairs allowed by the 专业大类 rule: the opening targets no major, or one of the
        student's 专业大类."""
        opening_categories = [_categories(o) for o in self.openings]
        codes = sorted({c for cats in opening_categories for c in cats}
                       | {programs[s.program_id].category_code for s in self.students})
        position = {c: i for i, c in enumerate(codes)}
        allowed = np.zeros((len(self.openings), max(len(codes), 1)), dtype=bool)
        for j, cats in enumerate(opening_categories):
            allowed[j, [position[c] for c in cats]] = True
        unrestricted = np.array([not cats for cats in opening_categories], dtype=bool)
        student_category = np.array([position[programs[s.program_id].category_code] for s in self.students],
                                    dtype=np.int64)
        if not self.student.size:
            return np.zeros(0, dtype=bool)
        return unrestricted[self.opening] | allowed[self.opening, student_category[self.student]]

    def add_missing(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Add these pairs (score 0) where absent, in their order; returns the ones that exist in
        the scope."""
        known = [(s, o) for s, o in pairs if s in self._student_pos and o in self._opening_pos]
        if not known:
            return known
        wanted = np.array([self._student_pos[s] * self.n_openings + self._opening_pos[o] for s, o in known],
                          dtype=np.int64)
        _, first = np.unique(wanted, return_index=True)
        wanted = wanted[np.sort(first)]  # each pair once, where it first appears
        new = wanted[~np.isin(wanted, self.keys)]
        if new.size:
            self.student = np.concatenate([self.student, new // self.n_openings])
            self.opening = np.concatenate([self.opening, new % self.n_openings])
            self.score = np.concatenate([self.score, np.zeros(new.size)])
        return known

    def _ranked_keys(self) -> np.ndarray:
        """(pair key, rank) of every opening of the scope a student ranked, in student order.
        Flat arrays filled straight from the preference dicts (a list of 400k pairs turned into
        an array took twice as long)."""
        students, opening_pos = self.students, self._opening_pos
        counts = np.fromiter((len(s.preferences) for s in students), dtype=np.int64, count=len(students))
        total = int(counts.sum())
        position = np.fromiter((opening_pos.get(o, -1) for s in students for o in s.preferences),
                               dtype=np.int64, count=total)
        rank = np.fromiter((r for s in students for r in s.preferences.values()), dtype=np.int64, count=total)
        student = np.repeat(np.arange(len(students), dtype=np.int64), counts)
        known = position >= 0  # openings outside the scope
        return np.column_stack([student[known] * self.n_openings + position[known], rank[known]])

    def problem(self, caps: dict[str, int]) -> InternshipProblem:
        """The solver problem: the same ids, codes and order ``app/instances.py`` reads back."""
        students, openings = self.students, self.openings
        colleges, college_code = _coded([s.college_id for s in students])
        programs, program_code = _coded([s.program_id for s in students])
        enterprise_ids, enterprise_code = _coded([o.enterprise_id for o in openings])
        scopes, scope_code = _coded([s.province for s in students] + [o.province for o in openings])
        cap = np.array([caps.get(e, UNLIMITED) for e in enterprise_ids], dtype=np.int64)
        rank_keys = self._ranked_keys()
        # By key; a key is unique (a student ranks an opening once), so this is the sort of the pairs.
        rank_keys = rank_keys[np.argsort(rank_keys[:, 0], kind="stable")]
        keys = self.keys
        where = np.searchsorted(rank_keys[:, 0], keys) if rank_keys.size else np.zeros(keys.size, dtype=np.int64)
        where = np.minimum(where, max(len(rank_keys) - 1, 0))
        hit = rank_keys[where, 0] == keys if rank_keys.size else np.zeros(keys.size, dtype=bool)
        student_rank = np.where(hit, rank_keys[where, 1] if rank_keys.size else 0, NOT_RANKED)
        n = len(students)
        return InternshipProblem(
            student_ids=tuple(s.id for s in students),
            student_college=college_code.astype(np.int32), student_program=program_code.astype(np.int32),
            student_scope=scope_code[:n].astype(np.int32),
            opening_ids=tuple(o.id for o in openings),
            opening_enterprise=enterprise_code.astype(np.int32),
            opening_seats=np.array([o.seats for o in openings], dtype=np.int64),
            opening_scope=scope_code[n:].astype(np.int32),
            enterprise_ids=enterprise_ids, enterprise_cap=cap,
            college_ids=colleges, program_ids=programs, scope_ids=scopes,
            pair_student=self.student.astype(np.int32), pair_opening=self.opening.astype(np.int32),
            pair_score=self.score, pair_student_rank=student_rank.astype(np.int32),
            pair_opening_rank=np.zeros(keys.size, dtype=np.int32),
            student_ranks_given=any(s.preferences for s in students), opening_ranks_given=False,
        )


def _coded(values: list[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """The distinct values in sorted order, and each value's position among them (what
    ``np.unique(..., return_inverse=True)`` gives, without sorting an array of strings)."""
    table = sorted(set(values))
    position = {v: i for i, v in enumerate(table)}
    return tuple(table), np.fromiter((position[v] for v in values), dtype=np.int64, count=len(values))


def apportion_caps(openings: Sequence[OpeningProfile], caps: dict[str, int]) -> list[OpeningProfile]:
    """Reduce the seats of each capped enterprise's openings so they sum to at most its cap,
    in proportion to their seats (largest remainders first, then opening order)."""
    by_enterprise: dict[str, list[int]] = defaultdict(list)
    for i, o in enumerate(openings):
        by_enterprise[o.enterprise_id].append(i)
    seats = [o.seats for o in openings]
    for enterprise, members in by_enterprise.items():
        cap, total = caps.get(enterprise), sum(seats[i] for i in members)
        if cap is None or total <= cap:
            continue
        shares = [(cap * seats[i] / total, i) for i in members]
        granted = {i: math.floor(share) for share, i in shares}
        left = cap - sum(granted.values())
        for _, i in sorted(shares, key=lambda si: (-(si[0] - math.floor(si[0])), si[1]))[:left]:
            granted[i] += 1
        for i in members:
            seats[i] = granted[i]
    return [with_seats(o, n) for o, n in zip(openings, seats, strict=True)]


def _categories(opening: OpeningProfile) -> frozenset[str]:
    # An opening's 专业大类 are those of the majors it targets; without targets it states none.
    return frozenset(code[:2] for code in opening.eligible_major_codes if len(code) >= 2)
