"""Seats reserved for partnerships' programs: against brute force, against the plain flow, and in
every mode; the checker catches a reserved seat held by anyone else; reasons name the partnership."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.allocation import InternshipParams, Mode, Quota, Status, UnplacedReason, solve_internships
from matching.allocation.checker import check_internships, check_reservations
from matching.allocation.problem import InternshipProblem, Reservation
from matching.allocation.reservations import reserve_seats
from matching.allocation.weights import fit_weights
from tests.matching.allocation.helpers import all_assignments, feasible, make_problem


def reservations_hold(problem: InternshipProblem, assigned: np.ndarray) -> bool:
    """The rule restated for the oracle: try every way to seat the opening's students."""
    for o, oid in enumerate(problem.opening_ids):
        rs = [r for r in problem.reservations if r.opening == oid]
        if not rs:
            continue
        held = [problem.program_ids[problem.student_program[s]] for s, a in enumerate(assigned.tolist())
                if a >= 0 and problem.pair_opening[a] == o]
        left = {i: r.seats for i, r in enumerate(rs)}
        free = int(problem.opening_seats[o]) - sum(left.values())
        for program in held:  # programs are disjoint per opening, so the greedy seating is exact
            own = next((i for i, r in enumerate(rs) if program in r.programs and left[i] > 0), None)
            if own is not None:
                left[own] -= 1
            elif free > 0:
                free -= 1
            else:
                return False
    return True


def oracle(problem: InternshipProblem, params: InternshipParams) -> int | None:
    weights = fit_weights(problem.pair_score)
    best: int | None = None
    for assigned in all_assignments(problem):
        if feasible(problem, params, assigned) and reservations_hold(problem, assigned):
            value = int(weights[assigned[assigned >= 0]].sum())
            best = value if best is None else max(best, value)
    return best


@st.composite
def reserved_instances(draw: st.DrawFn) -> tuple:
    n_students = draw(st.integers(1, 5))
    n_openings = draw(st.integers(1, 3))
    students = [(f"s{i}", f"c{draw(st.integers(0, 1))}", f"p{draw(st.integers(0, 2))}") for i in range(n_students)]
    openings = [(f"o{j}", f"e{draw(st.integers(0, 1))}", draw(st.integers(0, 3))) for j in range(n_openings)]
    candidates = [(f"s{s}", f"o{o}", draw(st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0])))
                  for s in range(n_students) for o in range(n_openings) if draw(st.booleans())]
    reservations = []
    for j, (oid, _, seats) in enumerate(openings):
        # Up to two partnerships per opening over disjoint programs.
        programs = draw(st.permutations(["p0", "p1", "p2"]))
        split = draw(st.integers(0, 3))
        groups = [frozenset(programs[:split]), frozenset(programs[split:])]
        room = seats
        for k, group in enumerate(groups):
            if group and room and draw(st.booleans()):
                n = draw(st.integers(0, room))
                room -= n
                reservations.append(Reservation(f"P{j}{k}", oid, group, n))
    caps = {f"e{e}": draw(st.integers(0, 3)) for e in range(2) if draw(st.booleans())}
    quotas = tuple(Quota(f"c{c}", f"e{e}", draw(st.integers(0, 2)))
                   for c in range(2) for e in range(2) if draw(st.integers(0, 4)) == 0)
    college_floor = draw(st.sampled_from([0.0, 0.0, 0.0, 0.3, 0.5]))
    return students, openings, candidates, tuple(reservations), caps, quotas, college_floor


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(reserved_instances())
def test_reserved_seats_match_brute_force(case: tuple) -> None:
    students, openings, candidates, reservations, caps, quotas, college_floor = case
    problem = dataclasses.replace(make_problem(students, openings, candidates, caps=caps), reservations=reservations)
    params = InternshipParams(quotas=quotas, college_floor=college_floor)
    expected = oracle(problem, params)
    result = solve_internships(problem, params)
    if expected is None:
        assert result.status == Status.INFEASIBLE
        assert result.conflicts
    else:
        assert result.status == Status.OPTIMAL, result.conflicts
        assert result.objective == expected
        assert reservations_hold(problem, result.assigned_pair)
        assert check_internships(problem, params, result.assigned_pair) == []


@FAST
@given(reserved_instances(), st.sampled_from(["none", "empty"]))
def test_without_binding_reservations_the_flow_is_unchanged(case: tuple, kind: str) -> None:
    """No reservations, or reservations of no seat: the same allocation as the plain flow."""
    students, openings, candidates, reservations, caps, _, _ = case
    plain = make_problem(students, openings, candidates, caps=caps)
    if kind == "none":
        reserved = dataclasses.replace(plain, reservations=())
    else:
        reserved = dataclasses.replace(plain, reservations=tuple(dataclasses.replace(r, seats=0)
                                                                 for r in reservations))
    expected = solve_internships(plain, InternshipParams())
    got = solve_internships(reserved, InternshipParams())
    assert got.status == expected.status == Status.OPTIMAL
    assert got.objective == expected.objective
    assert got.total_fit == expected.total_fit
    if kind == "none":
        assert np.array_equal(got.assigned_pair, expected.assigned_pair)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reserved_instances(), st.integers(0, 5))
def test_stable_mode_keeps_reservations(case: tuple, seed: int) -> None:
    students, openings, candidates, reservations, _, _, _ = case
    problem = dataclasses.replace(make_problem(students, openings, candidates), reservations=reservations)
    params = InternshipParams(mode=Mode.STABLE, seed=seed, price_of_stability=False)
    result = solve_internships(problem, params)  # checks the seat types' stability itself
    assert result.status == Status.OPTIMAL
    assert reservations_hold(problem, result.assigned_pair)


def _order_class() -> InternshipProblem:
    # o1 has 2 seats, 1 held for partnership 订单班 (program p0); three students of p1 want it.
    problem = make_problem([("a", "c", "p1"), ("b", "c", "p1"), ("z", "c", "p0")], [("o1", "e", 2)],
                           [("a", "o1", 0.9), ("b", "o1", 0.8)])
    return dataclasses.replace(problem, reservations=(Reservation("订单班", "o1", frozenset({"p0"}), 1),))


def test_a_reserved_seat_stays_free_and_the_reason_names_the_partnership() -> None:
    problem = _order_class()
    result = solve_internships(problem, InternshipParams())
    placed = [problem.student_ids[s] for s in np.flatnonzero(result.assigned_pair >= 0)]
    assert placed == ["a"]
    unplaced = {u.id: u for u in result.unplaced}["b"]
    assert UnplacedReason.RESERVED in unplaced.reasons and unplaced.partnerships == ("订单班",)


def test_the_checker_catches_a_reserved_seat_taken_by_another_program() -> None:
    problem = _order_class()
    both = np.array([0, 1, -1], dtype=np.int64)  # a and b on o1: b takes the reserved seat
    violations = check_reservations(problem, both)
    assert violations and "订单班" in violations[0]
    assert check_internships(problem, InternshipParams(), both)


def test_locks_beyond_the_free_seats_are_a_conflict_naming_the_partnership() -> None:
    problem = _order_class()
    result = solve_internships(problem, InternshipParams(locks=(("a", "o1"), ("b", "o1"))))
    assert result.status == Status.INFEASIBLE
    assert any("订单班" in c and "o1" in c for c in result.conflicts)


def test_floors_unmet_because_of_reservations_say_so() -> None:
    problem = _order_class()
    result = solve_internships(problem, InternshipParams(college_floor=1.0))
    assert result.status == Status.INFEASIBLE
    assert any("reserved for partnership 订单班" in c for c in result.conflicts)


def test_partner_students_beyond_the_reservation_compete_for_free_seats() -> None:
    problem = make_problem([("a", "c", "p0"), ("b", "c", "p0"), ("x", "c", "p1")], [("o1", "e", 2)],
                           [("a", "o1", 0.9), ("b", "o1", 0.8), ("x", "o1", 0.5)])
    problem = dataclasses.replace(problem, reservations=(Reservation("学徒制", "o1", frozenset({"p0"}), 1),))
    result = solve_internships(problem, InternshipParams())
    assert Counter(problem.student_ids[s] for s in np.flatnonzero(result.assigned_pair >= 0)) == {"a": 1, "b": 1}


def test_reserve_seats_spreads_a_commitment_over_openings() -> None:
    programs = frozenset({"p"})
    spread = reserve_seats("P", programs, 5, [("o1", 4), ("o2", 2), ("o3", 0)])
    assert [(r.opening, r.seats) for r in spread] == [("o1", 3), ("o2", 2)]
    assert sum(r.seats for r in reserve_seats("P", programs, 50, [("o1", 4), ("o2", 2)])) == 6
    assert reserve_seats("P", programs, 0, [("o1", 4)]) == ()
    assert reserve_seats("P", frozenset(), 3, [("o1", 4)]) == ()


def test_the_publication_recheck_names_the_partnership() -> None:
    from matching.allocation.recheck import InternshipScope, OpeningNow, StudentNow, recheck_internships

    opening = OpeningNow(id="o1", label="opening o1", term="T", province="P", enterprise_id="e", seats=2, live=1)
    students = {s: StudentNow(id=s, label=s, college_id="c", province="P", category="51") for s in ("a", "b")}
    reservation = Reservation("订单班", "o1", frozenset({"p0"}), 1)
    common = {"enterprise_cap": {}, "enterprise_live": {}, "current_elsewhere": {}, "reservations": [reservation]}
    # One seat is already held by a student of another program: the reserved seat is all that is left.
    findings = recheck_internships([("a", "o1")], {"o1": opening}, students, InternshipScope(term="T"),
                                   student_programs={"a": "p1"}, live_programs={"o1": ["p1"]}, **common)
    assert [f.code for f in findings] == ["reserved_seats_taken"] and findings[0].params["partnership"] == "订单班"
    fine = recheck_internships([("b", "o1")], {"o1": opening}, students, InternshipScope(term="T"),
                               student_programs={"b": "p0"}, live_programs={"o1": ["p1"]}, **common)
    assert fine == []
