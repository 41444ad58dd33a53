"""Deferred acceptance against exhaustive enumeration of stable matchings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.allocation import InternshipParams, Mode, ProblemError, Proposer, Status, solve_internships
from matching.allocation.checker import count_blocking_pairs
from matching.allocation.preferences import strict_preferences
from tests.matching.allocation.helpers import all_assignments, make_problem


def stable_matchings(problem, seed: int) -> list[np.ndarray]:
    prefs = strict_preferences(problem, seed)
    out = []
    for assigned in all_assignments(problem):
        pairs = assigned[assigned >= 0]
        if np.any(prefs.student_position[pairs] < 0) or np.any(prefs.opening_position[pairs] < 0):
            continue
        if np.any(np.bincount(problem.pair_opening[pairs], minlength=problem.n_openings) > problem.opening_seats):
            continue
        if count_blocking_pairs(problem, assigned, seed) == 0:
            out.append(assigned)
    return out


def student_value(problem, prefs, assigned: np.ndarray, s: int) -> int:
    a = assigned[s]
    return int(prefs.student_position[a]) if a >= 0 else 10**6


@st.composite
def ranked_instances(draw: st.DrawFn) -> tuple:
    n_students = draw(st.integers(1, 5))
    n_openings = draw(st.integers(1, 3))
    students = [(f"s{i}", "c", "p") for i in range(n_students)]
    openings = [(f"o{j}", f"e{j}", draw(st.integers(0, 2))) for j in range(n_openings)]
    candidates, s_rank, o_rank = [], {}, {}
    for s in range(n_students):
        for o in range(n_openings):
            if draw(st.booleans()):
                candidates.append((f"s{s}", f"o{o}", draw(st.sampled_from([0.2, 0.5, 0.9]))))
                if draw(st.integers(0, 4)):  # mostly ranked; unranked pairs are unacceptable
                    s_rank[(f"s{s}", f"o{o}")] = draw(st.integers(1, 3))
                if draw(st.integers(0, 4)):
                    o_rank[(f"s{s}", f"o{o}")] = draw(st.integers(1, 3))
    return students, openings, candidates, s_rank, o_rank, draw(st.integers(0, 5))


@settings(max_examples=120, deadline=None)
@given(ranked_instances())
def test_both_proposing_sides_give_the_extreme_stable_matchings(case: tuple) -> None:
    students, openings, candidates, s_rank, o_rank, seed = case
    problem = make_problem(students, openings, candidates, student_ranks=s_rank or None, opening_ranks=o_rank or None)
    stable = stable_matchings(problem, seed)
    assert stable, "a stable matching always exists"
    prefs = strict_preferences(problem, seed)
    by_students = solve_internships(problem, InternshipParams(mode=Mode.STABLE, seed=seed))
    by_openings = solve_internships(problem, InternshipParams(mode=Mode.STABLE, seed=seed,
                                                              proposer=Proposer.ENTERPRISES))
    assert any(np.array_equal(by_students.assigned_pair, m) for m in stable)
    assert any(np.array_equal(by_openings.assigned_pair, m) for m in stable)
    for s in range(problem.n_students):
        values = [student_value(problem, prefs, m, s) for m in stable]
        # Student-proposing is best for every student, opening-proposing worst (lattice extremes).
        assert student_value(problem, prefs, by_students.assigned_pair, s) == min(values)
        assert student_value(problem, prefs, by_openings.assigned_pair, s) == max(values)


def test_stable_result_reports_price_of_stability_and_reasons() -> None:
    problem = make_problem([("a", "c", "p"), ("b", "c", "p"), ("d", "c", "p")], [("o1", "e1", 1), ("o2", "e2", 1)],
                           [("a", "o1", 0.9), ("a", "o2", 0.8), ("b", "o1", 0.85), ("d", "o2", 0.1)],
                           student_ranks={("a", "o1"): 1, ("a", "o2"): 2, ("b", "o1"): 1},
                           opening_ranks={("a", "o1"): 1, ("b", "o1"): 2, ("a", "o2"): 1, ("d", "o2"): 2})
    result = solve_internships(problem, InternshipParams(mode=Mode.STABLE))
    assert result.status == Status.OPTIMAL
    placed = {problem.student_ids[s]: problem.opening_ids[problem.pair_opening[a]]
              for s, a in enumerate(result.assigned_pair.tolist()) if a >= 0}
    # d did not rank o2: in stable mode an unranked pair is unacceptable.
    assert placed == {"a": "o1"}
    assert result.stats["optimal_objective"] > result.objective
    assert result.stats["price_of_stability"] > 1
    reasons = {u.id: {r.value for r in u.reasons} for u in result.unplaced}
    assert reasons == {"b": {"full"}, "d": {"not_ranked"}}
    # Without the price of stability the same stable matching comes back, minus the extra flow.
    lean = solve_internships(problem, InternshipParams(mode=Mode.STABLE, price_of_stability=False))
    assert np.array_equal(lean.assigned_pair, result.assigned_pair)
    assert "price_of_stability" not in lean.stats and "optimal_objective" not in lean.stats


def test_not_ranked_reason() -> None:
    # Openings gave ranks, but none for a: the opening does not accept a.
    problem = make_problem([("a", "c", "p"), ("b", "c", "p")], [("o1", "e", 1)], [("a", "o1", 0.9), ("b", "o1", 0.1)],
                           opening_ranks={("b", "o1"): 1})
    result = solve_internships(problem, InternshipParams(mode=Mode.STABLE))
    assert [(u.id, tuple(r.value for r in u.reasons)) for u in result.unplaced] == [("a", ("full", "not_ranked"))]


def test_stable_mode_refuses_constraints_it_cannot_honour() -> None:
    problem = make_problem([("a", "c", "p")], [("o1", "e", 1)], [("a", "o1", 0.9)], caps={"e": 1})
    with pytest.raises(ProblemError, match="stable mode"):
        solve_internships(problem, InternshipParams(mode=Mode.STABLE))


def test_lottery_breaks_ties_by_seed() -> None:
    students = [(f"s{i}", "c", "p") for i in range(6)]
    problem = make_problem(students, [("o1", "e", 1)], [(f"s{i}", "o1", 0.5) for i in range(6)])
    winners = {int(np.flatnonzero(solve_internships(problem, InternshipParams(mode=Mode.STABLE, seed=seed))
                                  .assigned_pair >= 0)[0]) for seed in range(12)}
    assert len(winners) > 1
    again = solve_internships(problem, InternshipParams(mode=Mode.STABLE, seed=3)).assigned_pair
    assert np.array_equal(again, solve_internships(problem, InternshipParams(mode=Mode.STABLE, seed=3)).assigned_pair)
