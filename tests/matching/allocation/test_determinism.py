"""Same instance and seed, same result; every executor gives the same answer; time limits."""

from __future__ import annotations

import numpy as np

from matching.allocation import (
    InlineExecutor,
    InternshipParams,
    Mode,
    Quota,
    Status,
    solve_internships,
)
from tests.matching.allocation.helpers import make_problem


def regional_problem(seed: int, provinces: int = 3, per_province: int = 40):
    rng = np.random.default_rng(seed)
    students, openings, candidates, province_of = [], [], [], {}
    for p in range(provinces):
        for j in range(per_province // 4):
            oid = f"o{p}-{j}"
            openings.append((oid, f"e{p}-{j % 3}", int(rng.integers(0, 4))))
            province_of[oid] = f"P{p}"
        for i in range(per_province):
            sid = f"s{p}-{i}"
            students.append((sid, f"c{p}-{i % 2}", f"c{p}-{i % 2}-m{i % 3}"))
            province_of[sid] = f"P{p}"
            for j in rng.choice(per_province // 4, size=3, replace=False).tolist():
                candidates.append((sid, f"o{p}-{j}", round(float(rng.random()), 3)))
    return make_problem(students, openings, candidates, province_of=province_of)


def test_inline_executor_solves_every_part() -> None:
    problem = regional_problem(1)
    params = InternshipParams(default_quota=3, college_floor=0.2)
    calls: list[int] = []

    class Counting(InlineExecutor):
        def map_shared(self, fn, shared, items, progress=None):
            calls.append(len(items))
            return super().map_shared(fn, shared, items, progress)

    counted = solve_internships(problem, params, Counting())
    assert calls == [3]
    assert counted.stats["parts"] == 3
    whole = solve_internships(problem, params)
    assert np.array_equal(counted.assigned_pair, whole.assigned_pair)


def test_partitioned_equals_whole() -> None:
    problem = regional_problem(2)
    whole = solve_internships(problem, InternshipParams(partition_key=None))
    parts = solve_internships(problem, InternshipParams())
    assert parts.stats["parts"] == 3
    assert whole.stats["parts"] == 1
    assert whole.objective == parts.objective


def test_same_seed_same_result() -> None:
    problem = regional_problem(3)
    for params in (InternshipParams(seed=7), InternshipParams(seed=7, mode=Mode.STABLE),
                   InternshipParams(seed=7, default_quota=2, exact_max_pairs=0)):
        first = solve_internships(problem, params)
        assert np.array_equal(first.assigned_pair, solve_internships(problem, params).assigned_pair)


def test_lagrangian_reports_a_valid_bound() -> None:
    problem = regional_problem(4, provinces=1, per_province=120)
    exact = solve_internships(problem, InternshipParams(default_quota=2, partition_key=None))
    approx = solve_internships(problem, InternshipParams(default_quota=2, exact_max_pairs=0, partition_key=None))
    assert exact.status == Status.OPTIMAL
    assert approx.objective <= exact.objective <= approx.bound
    assert approx.gap < 0.02


def test_time_limit_without_solution_is_not_infeasible() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    students = [(f"s{i}", f"c{i % 40}", f"c{i % 40}") for i in range(n)]
    openings = [(f"o{j}", f"e{j % 50}", 4) for j in range(600)]
    candidates = [(f"s{i}", f"o{j}", round(float(rng.random()), 3))
                  for i in range(n) for j in rng.choice(600, size=5, replace=False).tolist()]
    problem = make_problem(students, openings, candidates)
    params = InternshipParams(quotas=tuple(Quota(f"c{c}", f"e{e}", 1) for c in range(40) for e in range(50)),
                              college_floor=0.5, time_limit_s=0.0, exact_max_pairs=10**6, partition_key=None)
    result = solve_internships(problem, params)
    # 10 ms cannot even finish presolve of 15k variables: no answer, and no claim of infeasibility.
    assert result.status == Status.NO_SOLUTION_IN_TIME
    assert (result.assigned_pair == -1).all()
    assert result.conflicts == ()
    assert result.unplaced == ()


def test_price_of_stability_optimum_split_by_province_equals_one_flow() -> None:
    from matching.allocation.constraints import prepare
    from matching.allocation.solvers.flow import seats_only_optimum, solve_flow

    for seed in range(6):
        problem = regional_problem(seed, provinces=4)
        rng = np.random.default_rng(seed)
        pairs = rng.choice(problem.n_pairs, size=4, replace=False).tolist()
        locks = [(problem.student_ids[problem.pair_student[pairs[0]]],
                  problem.opening_ids[problem.pair_opening[pairs[0]]])]
        forbidden = [(problem.student_ids[problem.pair_student[p]], problem.opening_ids[problem.pair_opening[p]])
                     for p in pairs[1:]]
        params = InternshipParams(mode=Mode.STABLE, locks=tuple(locks), forbidden=tuple(forbidden))
        prepared = prepare(problem, params)
        if prepared.conflicts:
            continue
        assert seats_only_optimum(prepared) == solve_flow(prepared).value
        result = solve_internships(problem, params)
        assert result.stats["optimal_objective"] == solve_flow(prepared).value + int(
            prepared.weights[prepared.locked_pairs].sum())


def test_price_of_stability_in_a_child_process_equals_inline(monkeypatch) -> None:
    from matching.allocation import internships

    problem = regional_problem(3, provinces=4)
    params = InternshipParams(mode=Mode.STABLE)
    monkeypatch.setattr(internships, "_overlap_pays", lambda prepared: False)
    inline = solve_internships(problem, params)
    monkeypatch.setattr(internships, "_overlap_pays", lambda prepared: True)
    forked = solve_internships(problem, params)
    assert forked.stats["optimal_objective"] == inline.stats["optimal_objective"]
    assert forked.stats["price_of_stability"] == inline.stats["price_of_stability"]
    assert np.array_equal(forked.assigned_pair, inline.assigned_pair)
