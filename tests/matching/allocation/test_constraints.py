"""One test per internship rule on tiny hand-built instances."""

from __future__ import annotations

import numpy as np
import pytest

from matching.allocation import (
    InternshipParams,
    Quota,
    Status,
    UnplacedReason,
    check_internships,
    solve_internships,
)
from matching.allocation.weights import fit_weights
from tests.matching.allocation.helpers import make_problem


def placements(problem, result) -> dict[str, str]:
    return {problem.student_ids[s]: problem.opening_ids[problem.pair_opening[a]]
            for s, a in enumerate(result.assigned_pair.tolist()) if a >= 0}


def test_weights_come_from_one_scaling_function() -> None:
    assert fit_weights(np.array([0.0, 0.5, 1.0, 0.1234])).tolist() == [1, 501, 1001, 124]


def test_seats_and_one_placement_per_student() -> None:
    problem = make_problem([("a", "c", "p"), ("b", "c", "p"), ("d", "c", "p")], [("o1", "e", 2), ("o2", "e", 1)],
                           [("a", "o1", 0.9), ("a", "o2", 0.8), ("b", "o1", 0.7), ("d", "o1", 0.6)])
    result = solve_internships(problem, InternshipParams())
    assert result.status == Status.OPTIMAL
    # o1 has two seats: a moves to o2 so that b and d both get o1.
    assert placements(problem, result) == {"a": "o2", "b": "o1", "d": "o1"}
    assert result.objective == result.bound == int(fit_weights(np.array([0.8, 0.7, 0.6])).sum())
    assert result.gap == 0


def test_enterprise_cap() -> None:
    problem = make_problem([("a", "c", "p"), ("b", "c", "p")], [("o1", "e", 1), ("o2", "e", 1)],
                           [("a", "o1", 0.9), ("b", "o2", 0.5)], caps={"e": 1})
    result = solve_internships(problem, InternshipParams())
    assert placements(problem, result) == {"a": "o1"}
    assert [u.reasons for u in result.unplaced] == [(UnplacedReason.FULL,)]


def test_college_enterprise_quota() -> None:
    problem = make_problem([("a", "c1", "p"), ("b", "c1", "p"), ("d", "c2", "q")], [("o1", "e", 3)],
                           [("a", "o1", 0.9), ("b", "o1", 0.8), ("d", "o1", 0.1)])
    params = InternshipParams(quotas=(Quota("c1", "e", 1),))
    result = solve_internships(problem, params)
    assert result.status == Status.OPTIMAL
    assert placements(problem, result) == {"a": "o1", "d": "o1"}
    assert [(u.id, u.reasons) for u in result.unplaced] == [("b", (UnplacedReason.QUOTA,))]


def test_default_quota_applies_to_every_pair() -> None:
    problem = make_problem([("a", "c1", "p"), ("b", "c1", "p")], [("o1", "e", 2)],
                           [("a", "o1", 0.9), ("b", "o1", 0.8)])
    result = solve_internships(problem, InternshipParams(default_quota=1))
    assert placements(problem, result) == {"a": "o1"}


def test_college_floor_trades_fit_for_coverage() -> None:
    problem = make_problem([("a", "c1", "p1"), ("b", "c2", "p2")], [("o1", "e", 1)],
                           [("a", "o1", 0.9), ("b", "o1", 0.2)])
    assert placements(problem, solve_internships(problem, InternshipParams())) == {"a": "o1"}
    result = solve_internships(problem, InternshipParams(college_floor={"c2": 1.0}))
    assert result.status == Status.OPTIMAL
    assert placements(problem, result) == {"b": "o1"}


def test_program_floor() -> None:
    problem = make_problem([("a", "c", "p1"), ("b", "c", "p2")], [("o1", "e", 1)],
                           [("a", "o1", 0.9), ("b", "o1", 0.2)])
    result = solve_internships(problem, InternshipParams(program_floor={"p2": 0.5}))
    assert placements(problem, result) == {"b": "o1"}


def test_floors_exceeding_seats_are_infeasible_and_named() -> None:
    problem = make_problem([("a", "c1", "p"), ("b", "c1", "p")], [("o1", "e", 1)],
                           [("a", "o1", 0.9), ("b", "o1", 0.2)])
    result = solve_internships(problem, InternshipParams(college_floor=1.0))
    assert result.status == Status.INFEASIBLE
    assert any("college floors need 2 placements but only 1 seats remain" in c for c in result.conflicts)
    assert any("floor of college c1 needs 2" in c for c in result.conflicts)
    assert (result.assigned_pair == -1).all()


def test_floor_against_quota_is_infeasible() -> None:
    problem = make_problem([("a", "c1", "p"), ("b", "c1", "p")], [("o1", "e", 2)],
                           [("a", "o1", 0.9), ("b", "o1", 0.2)])
    result = solve_internships(problem, InternshipParams(college_floor=1.0, default_quota=1))
    assert result.status == Status.INFEASIBLE
    assert result.conflicts


def test_lock_is_kept_even_against_fit() -> None:
    problem = make_problem([("a", "c", "p"), ("b", "c", "p")], [("o1", "e", 1), ("o2", "e", 1)],
                           [("a", "o1", 0.9), ("a", "o2", 0.1), ("b", "o1", 0.8)])
    result = solve_internships(problem, InternshipParams(locks=(("b", "o1"),)))
    assert placements(problem, result) == {"a": "o2", "b": "o1"}


def test_locks_beyond_seats_are_named() -> None:
    problem = make_problem([("a", "c", "p"), ("b", "c", "p")], [("o1", "e", 1)],
                           [("a", "o1", 0.9), ("b", "o1", 0.8)])
    result = solve_internships(problem, InternshipParams(locks=(("a", "o1"), ("b", "o1"))))
    assert result.status == Status.INFEASIBLE
    assert result.conflicts == ("locks on opening o1 exceed its 1 seats",)


def test_forbidden_pair_is_never_used() -> None:
    problem = make_problem([("a", "c", "p")], [("o1", "e", 1), ("o2", "e", 1)],
                           [("a", "o1", 0.9), ("a", "o2", 0.1)])
    result = solve_internships(problem, InternshipParams(forbidden=(("a", "o1"),)))
    assert placements(problem, result) == {"a": "o2"}
    only = solve_internships(problem, InternshipParams(forbidden=(("a", "o1"), ("a", "o2"))))
    assert [u.reasons for u in only.unplaced] == [(UnplacedReason.INELIGIBLE,)]


def test_fairness_maximises_the_minimum_college_rate_first() -> None:
    problem = make_problem(
        [("a", "c1", "p"), ("b", "c1", "p"), ("d", "c2", "q"), ("f", "c2", "q")], [("o1", "e", 2)],
        [("a", "o1", 0.9), ("b", "o1", 0.9), ("d", "o1", 0.1), ("f", "o1", 0.2)])
    plain = solve_internships(problem, InternshipParams())
    assert set(placements(problem, plain)) == {"a", "b"}
    fair = solve_internships(problem, InternshipParams(fairness=True))
    # One seat per college (rate 1/2 each), and within that the better fit of each college.
    assert placements(problem, fair) in ({"a": "o1", "f": "o1"}, {"b": "o1", "f": "o1"})
    assert fair.stats["min_college_rate"] == 0.5


def test_students_without_candidates_are_reported() -> None:
    problem = make_problem([("a", "c", "p"), ("b", "c", "p")], [("o1", "e", 1)], [("a", "o1", 0.5)])
    result = solve_internships(problem, InternshipParams())
    assert [(u.id, u.reasons) for u in result.unplaced] == [("b", (UnplacedReason.NO_CANDIDATES,))]


def test_zero_seat_openings_are_full() -> None:
    problem = make_problem([("a", "c", "p")], [("o1", "e", 0)], [("a", "o1", 0.5)])
    result = solve_internships(problem, InternshipParams())
    assert [u.reasons for u in result.unplaced] == [(UnplacedReason.FULL,)]


def test_checker_catches_each_broken_rule() -> None:
    problem = make_problem([("a", "c", "p"), ("b", "c", "p")], [("o1", "e", 1)],
                           [("a", "o1", 0.9), ("b", "o1", 0.8)], caps={"e": 1})
    both = np.array([0, 1])
    params = InternshipParams(quotas=(Quota("c", "e", 1),), locks=(("b", "o1"),), forbidden=(("a", "o1"),),
                              college_floor=1.0)
    messages = " | ".join(check_internships(problem, params, both))
    for expected in ("opening o1 has 2 placements", "enterprise e has 2 interns", "quota (c, e) is 1",
                     "forbidden pair (a, o1) used"):
        assert expected in messages
    assert "locked pair (b, o1) not kept" in " ".join(check_internships(problem, params, np.array([0, -1])))
    assert "floor of college c" in " ".join(check_internships(problem, params, np.array([-1, 1])))
    assert check_internships(problem, params, np.array([1, -1])) == [
        "student a placed through another student's candidate pair"]


@pytest.mark.parametrize("exact_max_pairs", [0, 10_000])
def test_quota_methods_agree_on_a_small_case(exact_max_pairs: int) -> None:
    problem = make_problem(
        [(f"s{i}", f"c{i % 2}", "p") for i in range(6)], [("o1", "e1", 3), ("o2", "e2", 3)],
        [(f"s{i}", o, round(0.1 + 0.13 * i + (0.2 if o == "o1" else 0), 3)) for i in range(6) for o in ("o1", "o2")])
    params = InternshipParams(default_quota=2, exact_max_pairs=exact_max_pairs, partition_key=None)
    result = solve_internships(problem, params)
    assert result.status == Status.OPTIMAL
    assert result.objective == result.bound
    assert len(placements(problem, result)) == 6


def test_an_infeasible_result_reports_a_bound() -> None:
    """An infeasible instance still says what any allocation could weigh at most: the optimum with
    the conflicting floors relaxed, or (when locks already conflict) every student at their best."""
    weights = fit_weights(np.array([0.9, 0.2]))
    problem = make_problem([("a", "c1", "p"), ("b", "c1", "p")], [("o1", "e", 1)],
                           [("a", "o1", 0.9), ("b", "o1", 0.2)])
    floors = solve_internships(problem, InternshipParams(college_floor=1.0))
    assert floors.status == Status.INFEASIBLE
    assert floors.bound == int(weights[0])  # one seat: the best the relaxed flow can do
    locks = solve_internships(problem, InternshipParams(locks=(("a", "o1"), ("b", "o1"))))
    assert locks.status == Status.INFEASIBLE
    assert locks.bound == int(weights.sum())  # each student at their best pair
