"""Lecturer placements: one test per rule."""

from __future__ import annotations

from matching.allocation import LecturerParams, Status, UnplacedReason, lecturer_problem, solve_lecturers
from matching.domain import CourseNeedProfile, LecturerProfile


def lecturer(lid: str, hours: int, slots: tuple[str, ...]) -> LecturerProfile:
    return LecturerProfile(id=lid, enterprise_id="e", max_weekly_hours=hours, available_slots=slots)


def need(nid: str, hours: int, slots: tuple[str, ...], program: str = "p", professional: bool = True):
    return CourseNeedProfile(id=nid, program_id=program, college_id="c", course_name=nid, weekly_hours=hours,
                             slots=slots, is_professional=professional)


def placed(problem, result) -> dict[str, str]:
    return {problem.need_ids[n]: problem.lecturer_ids[problem.pair_lecturer[a]]
            for n, a in enumerate(result.assigned_pair.tolist()) if a >= 0}


PARAMS = LecturerParams(time_limit_s=10, target_share=0.0)


def test_weekly_hours_cap() -> None:
    problem = lecturer_problem([lecturer("L", 4, ("mon1", "tue1"))],
                               [need("n1", 4, ("mon1",)), need("n2", 2, ("tue1",))],
                               [("L", "n1", 0.9), ("L", "n2", 0.8)])
    result = solve_lecturers(problem, PARAMS)
    assert result.status == Status.OPTIMAL
    assert placed(problem, result) == {"n1": "L"}
    assert [(u.id, u.reasons) for u in result.unplaced] == [("n2", (UnplacedReason.FULL,))]


def test_no_two_courses_in_one_slot() -> None:
    problem = lecturer_problem([lecturer("L", 10, ("mon1",))], [need("n1", 2, ("mon1",)), need("n2", 2, ("mon1",))],
                               [("L", "n1", 0.5), ("L", "n2", 0.6)])
    assert placed(problem, solve_lecturers(problem, PARAMS)) == {"n2": "L"}


def test_availability() -> None:
    problem = lecturer_problem([lecturer("L", 10, ("mon1",))], [need("n1", 2, ("mon1", "wed2"))], [("L", "n1", 0.9)])
    result = solve_lecturers(problem, PARAMS)
    assert placed(problem, result) == {}
    assert result.unplaced[0].reasons == (UnplacedReason.INELIGIBLE,)


def test_one_lecturer_per_need_and_best_fit() -> None:
    problem = lecturer_problem([lecturer("A", 10, ("mon1",)), lecturer("B", 10, ("mon1",))],
                               [need("n1", 2, ("mon1",)), need("n2", 2, ("tue1",))],
                               [("A", "n1", 0.4), ("B", "n1", 0.9)])
    result = solve_lecturers(problem, PARAMS)
    assert placed(problem, result) == {"n1": "B"}
    assert result.unplaced[0].reasons == (UnplacedReason.NO_CANDIDATES,)


def test_target_share_is_soft_and_reported() -> None:
    # Program p has 10 professional hours; 40 % = 4 h.  Only a 2 h course can be covered.
    problem = lecturer_problem([lecturer("A", 10, ("mon1", "tue1"))],
                               [need("n1", 2, ("mon1",)), need("n2", 8, ("tue1", "mon1")),
                                need("x", 4, ("tue1",), program="q", professional=False)],
                               [("A", "n1", 0.1), ("A", "x", 0.9)])
    result = solve_lecturers(problem, LecturerParams(time_limit_s=10))
    assert result.status == Status.OPTIMAL
    assert result.target_hours == {"p": 4, "q": 0}
    assert result.shortfall_hours == {"p": 2, "q": 0}
    assert placed(problem, result) == {"n1": "A", "x": "A"}


def test_target_share_beats_small_fit_gains() -> None:
    # Slot mon1 can hold one of two courses: the professional one wins despite lower fit.
    problem = lecturer_problem([lecturer("A", 10, ("mon1",))],
                               [need("pro", 2, ("mon1",)),
                                need("other", 2, ("mon1",), program="q", professional=False)],
                               [("A", "pro", 0.2), ("A", "other", 0.9)])
    result = solve_lecturers(problem, LecturerParams(time_limit_s=10))
    assert placed(problem, result) == {"pro": "A"}
    assert result.shortfall_hours["p"] == 0
