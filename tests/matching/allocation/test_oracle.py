"""Random small instances: the solvers' optimum equals plain enumeration of all assignments."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.allocation import InternshipParams, Quota, Status, solve_internships
from tests.matching.allocation.helpers import brute_force_optimum, make_problem


@st.composite
def instances(draw: st.DrawFn) -> tuple:
    n_students = draw(st.integers(1, 5))
    n_openings = draw(st.integers(1, 3))
    students = [(f"s{i}", f"c{draw(st.integers(0, 1))}", f"p{draw(st.integers(0, 2))}") for i in range(n_students)]
    openings = [(f"o{j}", f"e{draw(st.integers(0, 1))}", draw(st.integers(0, 2))) for j in range(n_openings)]
    candidates = []
    for s in range(n_students):
        for o in range(n_openings):
            if draw(st.booleans()):
                candidates.append((f"s{s}", f"o{o}", draw(st.sampled_from([0.0, 0.1, 0.35, 0.5, 0.8, 1.0]))))
    caps = {f"e{e}": draw(st.integers(0, 3)) for e in range(2) if draw(st.booleans())}
    quotas = tuple(Quota(f"c{c}", f"e{e}", draw(st.integers(0, 2)))
                   for c in range(2) for e in range(2) if draw(st.integers(0, 3)) == 0)
    default_quota = draw(st.one_of(st.none(), st.integers(1, 2)))
    college_floor = draw(st.sampled_from([0.0, 0.0, 0.3, 0.5]))
    program_floor = draw(st.sampled_from([0.0, 0.0, 0.5]))
    return students, openings, candidates, caps, quotas, default_quota, college_floor, program_floor


FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(instances())
def test_flow_and_exact_solvers_match_the_oracle(case: tuple) -> None:
    students, openings, candidates, caps, quotas, default_quota, college_floor, program_floor = case
    problem = make_problem(students, openings, candidates, caps=caps)
    params = InternshipParams(quotas=quotas, default_quota=default_quota, college_floor=college_floor,
                              program_floor=program_floor)
    expected = brute_force_optimum(problem, params)
    result = solve_internships(problem, params)
    if expected is None:
        assert result.status == Status.INFEASIBLE
        assert result.conflicts
    else:
        assert result.status == Status.OPTIMAL
        assert result.objective == result.bound == expected


@settings(max_examples=60, deadline=None)
@given(instances())
def test_lagrangian_bound_and_value_bracket_the_oracle(case: tuple) -> None:
    students, openings, candidates, caps, quotas, default_quota, college_floor, _ = case
    problem = make_problem(students, openings, candidates, caps=caps)
    params = InternshipParams(quotas=quotas, default_quota=default_quota, college_floor=college_floor,
                              exact_max_pairs=0, partition_key=None)
    expected = brute_force_optimum(problem, params)
    result = solve_internships(problem, params)
    if expected is None:
        # The relaxation may miss an infeasibility that only the quotas cause; it must never invent one.
        assert result.status in (Status.INFEASIBLE, Status.NO_SOLUTION_IN_TIME)
    elif result.status in (Status.OPTIMAL, Status.FEASIBLE):
        assert result.objective <= expected <= result.bound
    else:
        assert result.status == Status.NO_SOLUTION_IN_TIME
        assert expected <= result.bound
