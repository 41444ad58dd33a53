"""Building a run's internship problem from scored candidates, and the allocation's key figures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.allocation.instance import KEEP_PROPOSAL_BONUS, apportion_caps, internship_instance
from matching.allocation.kpis import internship_kpis, lecturer_kpis
from matching.allocation.problem import NOT_RANKED, UNLIMITED
from matching.domain import OpeningProfile, ProgramProfile, StudentProfile
from tests.matching.allocation.helpers import make_problem


def _opening(oid: str, enterprise: str, seats: int, majors: tuple[str, ...] = (),
             province: str = "贵州") -> OpeningProfile:
    return OpeningProfile(id=oid, enterprise_id=enterprise, title=oid, seats=seats, eligible_major_codes=majors,
                          province=province)


def _program(pid: str, category: str) -> ProgramProfile:
    return ProgramProfile(id=pid, college_id="c1", major_code=category + "0101", major_name=pid,
                          category_code=category, class_code=category + "01", level="高职专科")


STUDENTS = [StudentProfile(id="1", program_id="p51", college_id="c1", province="贵州", preferences={"o2": 1}),
            StudentProfile(id="2", program_id="p53", college_id="c2", province="辽宁")]
PROGRAMS = {"p51": _program("p51", "51"), "p53": _program("p53", "53")}
OPENINGS = [_opening("o1", "e1", 2), _opening("o2", "e1", 1, majors=("510201",)), _opening("o3", "e2", 4)]


def _pairs(problem) -> dict[tuple[str, str], float]:
    return {(problem.student_ids[s], problem.opening_ids[o]): v for s, o, v in
            zip(problem.pair_student.tolist(), problem.pair_opening.tolist(), problem.pair_score.tolist(), strict=True)}


def _candidates(rows: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, o, v = zip(*rows, strict=True)
    return np.array(s), np.array(o), np.array(v)


def test_apportion_caps_by_largest_remainder_then_opening_order() -> None:
    openings = [_opening("a", "e", 3), _opening("b", "e", 3), _opening("c", "e", 4), _opening("d", "f", 7)]
    # e: shares of 5 are 1.5, 1.5, 2.0 → floors 1, 1, 2 and one seat left for the first .5 (a).
    assert [o.seats for o in apportion_caps(openings, {"e": 5, "f": 9})] == [2, 1, 2, 7]
    assert [o.seats for o in apportion_caps(openings, {})] == [3, 3, 4, 7]
    assert [o.seats for o in apportion_caps(openings, {"e": 0})] == [0, 0, 0, 7]


def test_rules_of_the_run_shape_the_pairs() -> None:
    found = _candidates([(0, 0, 0.5), (0, 1, 0.9995), (1, 0, 0.4), (1, 1, 0.8), (1, 2, 0.3)])
    built = internship_instance(STUDENTS, OPENINGS, PROGRAMS, {"e1": 2}, found,
                                forbidden=[("2", "o3"), ("9", "o1")], keep=[("1", "o1"), ("1", "o2")],
                                locks=[("2", "o3"), ("1", "o1"), ("x", "o1")], allow_cross_category=False)
    pairs = _pairs(built.problem)
    # Forbidden (2, o3) is gone but comes back as a lock with score 0; (2, o2) breaks the 专业大类 rule;
    # kept pairs gain the bonus, never above 1; the unknown lock is ignored.
    assert pairs == {("1", "o1"): 0.5 + KEEP_PROPOSAL_BONUS, ("1", "o2"): 1.0, ("2", "o1"): 0.4, ("2", "o3"): 0.0}
    assert built.locks == (("1", "o1"), ("2", "o3"))
    problem = built.problem
    assert problem.enterprise_ids == ("e1", "e2")
    assert problem.enterprise_cap.tolist() == [2, UNLIMITED]
    assert problem.scope_ids == ("贵州", "辽宁")
    rank = {(problem.student_ids[s], problem.opening_ids[o]): r for s, o, r in zip(
        problem.pair_student.tolist(), problem.pair_opening.tolist(), problem.pair_student_rank.tolist(), strict=True)}
    assert rank[("1", "o2")] == 1 and rank[("1", "o1")] == NOT_RANKED
    assert problem.student_ranks_given


def test_cross_category_pairs_stay_when_allowed() -> None:
    found = _candidates([(1, 1, 0.8)])
    built = internship_instance(STUDENTS, OPENINGS, PROGRAMS, {}, found, allow_cross_category=True)
    assert _pairs(built.problem) == {("2", "o2"): 0.8}


def test_stable_runs_turn_caps_into_seats() -> None:
    found = _candidates([(0, 0, 0.5), (1, 2, 0.3)])
    built = internship_instance(STUDENTS, OPENINGS, PROGRAMS, {"e1": 2}, found, stable=True)
    assert built.problem.opening_seats.tolist() == [1, 1, 4]  # e1's 3 seats cut to its cap of 2
    assert built.problem.enterprise_cap.tolist() == [UNLIMITED, UNLIMITED]


def test_internship_kpis_per_college_enterprise_program_and_total() -> None:
    problem = make_problem([("a", "c1", "p1"), ("b", "c1", "p1"), ("d", "c2", "p2")],
                           [("o1", "e1", 2), ("o2", "e2", 3)],
                           [("a", "o1", 0.9), ("a", "o2", 0.4), ("b", "o1", 0.5), ("d", "o2", 0.7)],
                           student_ranks={("a", "o1"): 2, ("d", "o2"): 5})
    assigned = np.array([0, -1, 3])  # a → o1 (their second choice), b unplaced, d → o2 (their fifth)
    figures = internship_kpis(problem, assigned)
    assert figures["colleges"] == [
        {"college_id": "c1", "students": 2, "placed": 1, "placement_rate": 0.5, "mean_fit": 0.9, "top3_share": 1.0},
        {"college_id": "c2", "students": 1, "placed": 1, "placement_rate": 1.0, "mean_fit": 0.7, "top3_share": 0.0}]
    assert figures["enterprises"] == [{"enterprise_id": "e1", "seats": 2, "placed": 1, "fill_rate": 0.5},
                                      {"enterprise_id": "e2", "seats": 3, "placed": 1, "fill_rate": 0.333333}]
    assert figures["programs"] == [{"program_id": "p1", "students": 2, "placed": 1, "placement_rate": 0.5},
                                   {"program_id": "p2", "students": 1, "placed": 1, "placement_rate": 1.0}]
    assert figures["totals"] == {"students": 3, "placed": 2, "placement_rate": 0.666667, "seats": 5,
                                 "mean_fit": 0.8, "preference_rank_received": {"2": 1, "5": 1}}
    # Seats as the scope offers them (a stable run's solve saw fewer).
    reported = internship_kpis(problem, assigned, np.array([4, 3]))
    assert reported["enterprises"][0]["seats"] == 4 and reported["totals"]["seats"] == 7


def test_internship_kpis_of_nothing_placed_have_no_rates() -> None:
    problem = make_problem([("a", "c1", "p1")], [("o1", "e1", 1)], [("a", "o1", 0.9)])
    figures = internship_kpis(problem, np.array([-1]))
    assert figures["colleges"][0]["mean_fit"] is None and figures["colleges"][0]["top3_share"] is None
    assert figures["totals"]["mean_fit"] is None and figures["totals"]["preference_rank_received"] == {}


def test_lecturer_kpis_coverage_and_share_of_target() -> None:
    from matching.allocation import lecturer_problem
    from matching.domain import CourseNeedProfile, LecturerProfile

    problem = lecturer_problem(
        [LecturerProfile(id="L", enterprise_id="e", max_weekly_hours=8, available_slots=("mon1",))],
        [CourseNeedProfile(id="n1", program_id="p1", college_id="c", course_name="x", weekly_hours=4, slots=("mon1",)),
         CourseNeedProfile(id="n2", program_id="p1", college_id="c", course_name="y", weekly_hours=4, slots=("mon1",))],
        [("L", "n1", 0.8), ("L", "n2", 0.6)])
    figures = lecturer_kpis(problem, np.array([0, -1]), {"p1": 8}, {"p1": 4}, {"p1": 4}, 0.4)
    assert figures["programs"] == [{"program_id": "p1", "course_needs": 2, "covered": 1, "coverage": 0.5,
                                    "target_hours": 8, "enterprise_hours": 4, "shortfall_hours": 4,
                                    "enterprise_hours_share": 0.2}]
    assert figures["totals"] == {"course_needs": 2, "covered": 1, "coverage": 0.5, "target_share": 0.4,
                                 "shortfall_hours": 4}
    assert lecturer_kpis(problem, np.array([-1, -1]), {}, {}, {}, 0.4)["programs"][0]["enterprise_hours_share"] is None


@pytest.mark.parametrize("bad", [("9", "o1"), ("1", "zz")])
def test_unknown_ids_in_rules_are_ignored(bad: tuple[str, str]) -> None:
    found = _candidates([(0, 0, 0.5)])
    built = internship_instance(STUDENTS, OPENINGS, PROGRAMS, {}, found, forbidden=[bad], keep=[bad], locks=[bad])
    assert _pairs(built.problem) == {("1", "o1"): 0.5} and built.locks == ()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_each_pair_carries_the_rank_its_student_gave_the_opening(data: st.DataObject) -> None:
    n_openings = data.draw(st.integers(1, 6))
    openings = [_opening(f"o{j}", f"e{j % 2}", 3) for j in range(n_openings)]
    # Students may rank openings outside the scope ("x…"), or nothing at all.
    ids = [f"o{j}" for j in range(n_openings)] + ["x1", "x2"]
    students = [StudentProfile(id=str(i), program_id="p51", college_id="c1", province="贵州",
                               preferences={o: r for r, o in enumerate(data.draw(
                                   st.lists(st.sampled_from(ids), unique=True, max_size=4)), start=1)})
                for i in range(data.draw(st.integers(1, 5)))]
    pairs = sorted(data.draw(st.sets(st.tuples(st.integers(0, len(students) - 1), st.integers(0, n_openings - 1)),
                                     min_size=1)))
    problem = internship_instance(students, openings, {"p51": _program("p51", "51")}, {},
                                  _candidates([(s, o, 0.5) for s, o in pairs])).problem
    got = {(problem.student_ids[s], problem.opening_ids[o]): r for s, o, r in zip(
        problem.pair_student.tolist(), problem.pair_opening.tolist(), problem.pair_student_rank.tolist(), strict=True)}
    assert got == {(students[s].id, f"o{o}"): students[s].preferences.get(f"o{o}", NOT_RANKED) for s, o in pairs}
