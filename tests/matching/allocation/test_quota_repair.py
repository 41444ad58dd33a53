"""Quotas with floors on the scalable (Lagrangian) path: the 10k benchmark defect and its neighbours.

The 10k × 1k benchmark with quota 30 and a 20 % college floor came back ``no_solution_in_time``
even with a minute to spare: one province had a single college with two reachable enterprises,
whose quotas (2 × 30) could never meet its floor (69).  The Lagrangian relaxation cannot see that
(its dual just keeps falling), so the run spun until the time limit.  These tests pin the fix:
quota-caused infeasibility is named at once, and whenever the oracle finds a feasible allocation
the scalable path returns one between its value and its bound.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.allocation import InternshipParams, Quota, Status, solve_internships
from matching.allocation.constraints import prepare
from matching.allocation.solvers.flow import solve_flow
from matching.allocation.solvers.quota import fold_quotas, improve_by_college, quick_repair, solve_exact
from matching.allocation.weights import fit_weights
from tests.matching.allocation.helpers import brute_force_optimum, make_problem

LAGRANGIAN = {"exact_max_pairs": 0, "partition_key": None}


def benchmark_defect_in_miniature():
    """One college, two enterprises with quota 1 each, and a floor that needs three placements."""
    students = [(f"s{i}", "c2", "p") for i in range(4)]
    openings = [("o1", "e2", 3), ("o2", "e147", 3)]
    candidates = [(f"s{i}", o, 0.5 + 0.1 * i) for i in range(4) for o in ("o1", "o2")]
    return make_problem(students, openings, candidates)


def test_floor_beyond_what_quotas_allow_is_infeasible_at_once() -> None:
    problem = benchmark_defect_in_miniature()
    params = InternshipParams(default_quota=1, college_floor=0.75, time_limit_s=30, **LAGRANGIAN)
    assert brute_force_optimum(problem, params) is None
    result = solve_internships(problem, params)
    assert result.status == Status.INFEASIBLE
    # The precheck's own sentence: decided before any search, not by the 30 s time limit.
    assert result.conflicts == ("floor of college c2 needs 3 more placements, its students and "
                                "(college, enterprise) quotas allow at most 2",)


def test_single_college_quotas_fold_into_caps_and_are_optimal() -> None:
    problem = benchmark_defect_in_miniature()
    params = InternshipParams(default_quota=1, college_floor=0.5, **LAGRANGIAN)
    expected = brute_force_optimum(problem, params)
    result = solve_internships(problem, params)
    assert result.status == Status.OPTIMAL
    assert result.method == "min-cost-flow"
    assert result.objective == result.bound == expected


def crossing_problem():
    """Two colleges share enterprise e2, so their quotas cross its seats (no flow expresses it).

    The relaxed flow places s0 at o1 and both of c1's students at o2; trimming c1 to its quota
    frees a seat at o2 that only moving s0 (a placed student of another college) can use.
    """
    students = [("s0", "c0", "p0"), ("s1", "c1", "p1"), ("s2", "c0", "p0"), ("s3", "c1", "p1")]
    openings = [("o1", "e1", 1), ("o2", "e2", 2)]
    candidates = [("s0", "o1", 0.5), ("s0", "o2", 0.9), ("s1", "o2", 0.9), ("s3", "o2", 0.7)]
    return make_problem(students, openings, candidates)


def test_college_by_college_repair_reaches_the_optimum_from_a_trimmed_flow() -> None:
    problem = crossing_problem()
    params = InternshipParams(default_quota=1, college_floor=0.3, **LAGRANGIAN)
    prepared = fold_quotas(prepare(problem, params))
    assert prepared.quotas.n_groups > 0  # two colleges per enterprise: a real quota problem
    relaxed = solve_flow(prepared)  # ignores quotas: s0 at o1, s1 and s3 at o2
    trimmed = quick_repair(prepared, relaxed.chosen, prepared.weights)
    improved = improve_by_college(prepared, trimmed, time.monotonic() + 10)
    exact = solve_exact(prepared, 10.0, seed=0)
    assert exact.status == Status.OPTIMAL
    assert int(prepared.weights[trimmed].sum()) < exact.objective
    assert int(prepared.weights[improved].sum()) == exact.objective == brute_force_optimum(problem, params)
    result = solve_internships(problem, params)
    assert result.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert result.objective == exact.objective <= result.bound


@st.composite
def quota_floor_instances(draw: st.DrawFn) -> tuple:
    n_students = draw(st.integers(2, 6))
    n_openings = draw(st.integers(1, 3))
    students = [(f"s{i}", f"c{draw(st.integers(0, 1))}", f"p{i % 2}") for i in range(n_students)]
    openings = [(f"o{j}", f"e{draw(st.integers(0, 1))}", draw(st.integers(0, 2))) for j in range(n_openings)]
    candidates = [(f"s{s}", f"o{o}", draw(st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0])))
                  for s in range(n_students) for o in range(n_openings) if draw(st.booleans())]
    quotas = tuple(Quota(f"c{c}", f"e{e}", draw(st.integers(0, 2)))
                   for c in range(2) for e in range(2) if draw(st.integers(0, 2)) == 0)
    default_quota = draw(st.one_of(st.none(), st.integers(1, 2)))
    college_floor = draw(st.sampled_from([0.3, 0.5, 0.7, 1.0]))
    return students, openings, candidates, quotas, default_quota, college_floor


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quota_floor_instances())
def test_scalable_path_is_decisive_and_brackets_the_oracle(case: tuple) -> None:
    students, openings, candidates, quotas, default_quota, college_floor = case
    problem = make_problem(students, openings, candidates)
    params = InternshipParams(quotas=quotas, default_quota=default_quota, college_floor=college_floor,
                              **LAGRANGIAN)
    expected = brute_force_optimum(problem, params)
    result = solve_internships(problem, params)
    if expected is None:
        assert result.status == Status.INFEASIBLE
        assert result.conflicts
    else:
        assert result.status in (Status.OPTIMAL, Status.FEASIBLE)
        assert result.objective <= expected <= result.bound
        assert result.objective == int(fit_weights(problem.pair_score)[result.assigned_pair[
            result.assigned_pair >= 0]].sum())
