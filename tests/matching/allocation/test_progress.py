"""A partitioned solve reports each component as it is solved."""

from __future__ import annotations

import pytest

from matching.allocation import InlineExecutor, InternshipParams, Status, solve_internships
from tests.matching.allocation.helpers import make_problem


def _three_provinces():  # type: ignore[no-untyped-def]
    students = [(f"s{p}{i}", f"c{p}", f"g{p}") for p in "ABC" for i in range(2)]
    openings = [(f"o{p}", f"e{p}", 1) for p in "ABC"]
    candidates = [(s, f"o{s[1]}", 0.5 + 0.1 * int(s[2])) for s, _, _ in students]
    province = {s: f"P{s[1]}" for s, _, _ in students} | {o: f"P{o[1]}" for o, _, _ in openings}
    return make_problem(students, openings, candidates, province_of=province)


def test_progress_per_component() -> None:
    problem = _three_provinces()
    heard: list[tuple[int, int]] = []
    executor = InlineExecutor()
    result = solve_internships(problem, InternshipParams(), executor, lambda done, total: heard.append((done, total)))
    assert heard == [(1, 3), (2, 3), (3, 3)]
    quiet = solve_internships(problem, InternshipParams(), executor)
    assert result.status == Status.OPTIMAL and result.stats["parts"] == 3
    assert result.assigned_pair.tolist() == quiet.assigned_pair.tolist()  # progress changes nothing


def test_a_progress_callback_may_abort_the_solve() -> None:
    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        solve_internships(_three_provinces(), InternshipParams(), InlineExecutor(), stop)
