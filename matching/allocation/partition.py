"""Splitting an internship problem into independent parts and solving them through an executor.

Parts follow a scope key (the province by default), merged wherever a candidate pair, an
enterprise cap, a college floor or a quota links two scopes, so that solving the parts separately
gives exactly the optimum of the whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from matching.allocation.problem import Int32Array, IntArray, InternshipProblem

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

Indices = IntArray | Int32Array  # dense indices, as the problem stores them

# (calls done, calls): how far a map has got; it may raise to abort the map.
Progress = Callable[[int, int], None]


class Executor(Protocol):
    """Runs one function over many inputs and returns the results in input order.

    The domain core only describes the work; the service decides where it runs (``app.executors``:
    a process pool, a Ray cluster), so that the core does no process management.  Every executor
    must give the results that :class:`InlineExecutor` gives, in the same order; functions and
    inputs must be picklable (top-level functions, plain data).
    """

    @property
    def parallelism(self) -> int:
        """How many calls can run at once (time budgets are shared out by it)."""
        ...

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(item) for item in items]``, possibly in parallel."""
        ...

    def map_shared(self, fn: Callable[[S, T], R], shared: S, items: Sequence[T],
                   progress: Progress | None = None) -> list[R]:
        """``[fn(shared, item) for item in items]``, with ``shared`` sent to the workers once.

        For a large input that every call reads (the whole problem, a fitted text space): an
        executor ships it once per worker or through its object store, not once per item.  ``fn``
        must not modify ``shared`` (workers may see a read-only copy).  ``progress(calls done,
        calls)`` is called as each call finishes, in the order they finish; if it raises, the calls
        not yet started are dropped and the exception propagates.
        """
        ...


class InlineExecutor:
    """Runs everything in the calling process (tests, small problems)."""

    parallelism = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]

    def map_shared(self, fn: Callable[[S, T], R], shared: S, items: Sequence[T],
                   progress: Progress | None = None) -> list[R]:
        results = []
        for item in items:
            results.append(fn(shared, item))
            if progress is not None:
                progress(len(results), len(items))
        return results


@dataclass(slots=True)
class Part:
    problem: InternshipProblem
    students: IntArray  # indices in the whole problem
    openings: IntArray
    pairs: IntArray


def _find(parent: list[int], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _union_all(parent: list[int], a: Iterable[int], b: Iterable[int]) -> None:
    for x, y in zip(a, b, strict=True):
        rx, ry = _find(parent, x), _find(parent, y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)


def _linked(n_scopes: int, a: Indices, b: Indices) -> list[int]:
    """Union-find parents of ``n_scopes`` scopes with scope ``a[i]`` merged with ``b[i]``.

    Millions of candidate pairs link a few dozen scopes: counting the pairs' codes finds the
    distinct links without a Python loop (and without a set of millions of tuples)."""
    codes = a.astype(np.int64) * n_scopes + b
    if n_scopes * n_scopes <= 1 << 22:
        codes = np.flatnonzero(np.bincount(codes, minlength=n_scopes * n_scopes))
    else:
        codes = np.unique(codes)
    parent = list(range(n_scopes))
    _union_all(parent, (codes // n_scopes).tolist(), (codes % n_scopes).tolist())
    return parent


def _roots(parent: list[int]) -> IntArray:
    return np.asarray([_find(parent, i) for i in range(len(parent))], dtype=np.int64)


def linked_components(n_scopes: int, a: Indices, b: Indices) -> IntArray:
    """Component (its smallest scope) of each of ``n_scopes`` scopes, merging ``a[i]`` with ``b[i]``."""
    return _roots(_linked(n_scopes, a, b))


def _union_groups(parent: list[int], group: Indices, scope: Indices) -> None:
    """Merge the scopes in which one group (an enterprise, a college) has members."""
    n = len(parent)
    codes = np.unique(group.astype(np.int64) * n + scope)
    groups, scopes = codes // n, codes % n
    first_scope = scopes[np.searchsorted(groups, groups)]  # codes sort by group, then scope
    _union_all(parent, first_scope.tolist(), scopes.tolist())


def scope_components(problem: InternshipProblem, link_colleges: bool, link_enterprises: bool) -> IntArray:
    """Component of each scope once every scope-crossing link is merged."""
    n = len(problem.scope_ids)
    parent = _linked(n, problem.student_scope[problem.pair_student], problem.opening_scope[problem.pair_opening])
    if link_enterprises:
        # An enterprise cap or quota couples every scope in which the enterprise has openings.
        _union_groups(parent, problem.opening_enterprise, problem.opening_scope)
    if link_colleges:
        _union_groups(parent, problem.student_college, problem.student_scope)
    return _roots(parent)


@dataclass(frozen=True, slots=True)
class PartIndices:
    """Which students, openings and candidate pairs of the whole problem form one part."""

    students: IntArray
    openings: IntArray
    pairs: IntArray


def part_indices(problem: InternshipProblem, link_colleges: bool, link_enterprises: bool) -> list[PartIndices]:
    """The independent parts as indices into ``problem``, largest first (so a pool starts the long
    ones early); :func:`subproblem` turns one into a problem of its own."""
    component = scope_components(problem, link_colleges, link_enterprises)
    student_comp = component[problem.student_scope]
    opening_comp = component[problem.opening_scope]
    pair_comp = student_comp[problem.pair_student]
    parts = []
    for comp in np.unique(component).tolist():
        students = np.flatnonzero(student_comp == comp)
        openings = np.flatnonzero(opening_comp == comp)
        if len(students) == 0:
            continue
        parts.append(PartIndices(students, openings, np.flatnonzero(pair_comp == comp)))
    parts.sort(key=lambda p: (-len(p.pairs), int(p.students[0])))
    return parts


def split(problem: InternshipProblem, link_colleges: bool, link_enterprises: bool) -> list[Part]:
    """Independent sub-problems, largest first (so a pool starts the long ones early)."""
    return [Part(subproblem(problem, p.students, p.openings, p.pairs), p.students, p.openings, p.pairs)
            for p in part_indices(problem, link_colleges, link_enterprises)]


def subproblem(problem: InternshipProblem, students: IntArray, openings: IntArray,
               pairs: IntArray) -> InternshipProblem:
    """The problem restricted to the given students, openings and pairs, renumbered densely.

    Colleges, programs, enterprises and scopes keep their full id tables so that quotas and
    floors given by id still resolve.
    """
    student_new = np.full(problem.n_students, -1, dtype=np.int64)
    student_new[students] = np.arange(len(students))
    opening_new = np.full(problem.n_openings, -1, dtype=np.int64)
    opening_new[openings] = np.arange(len(openings))
    return InternshipProblem(
        student_ids=tuple(problem.student_ids[i] for i in students.tolist()),
        student_college=problem.student_college[students],
        student_program=problem.student_program[students],
        student_scope=problem.student_scope[students],
        opening_ids=tuple(problem.opening_ids[i] for i in openings.tolist()),
        opening_enterprise=problem.opening_enterprise[openings],
        opening_seats=problem.opening_seats[openings],
        opening_scope=problem.opening_scope[openings],
        enterprise_ids=problem.enterprise_ids,
        enterprise_cap=problem.enterprise_cap,
        college_ids=problem.college_ids,
        program_ids=problem.program_ids,
        scope_ids=problem.scope_ids,
        pair_student=student_new[problem.pair_student[pairs]].astype(np.int32),
        pair_opening=opening_new[problem.pair_opening[pairs]].astype(np.int32),
        pair_score=problem.pair_score[pairs],
        pair_student_rank=problem.pair_student_rank[pairs],
        pair_opening_rank=problem.pair_opening_rank[pairs],
        student_ranks_given=problem.student_ranks_given,
        opening_ranks_given=problem.opening_ranks_given,
    )
