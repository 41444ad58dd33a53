"""The reasons of the unplaced equal, student by student, what their pairs say one by one."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.allocation import InternshipParams, UnplacedReason
from matching.allocation.constraints import prepare
from matching.allocation.problem import UNLIMITED
from matching.allocation.reasons import unplaced_reasons
from tests.matching.allocation.helpers import make_problem


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6))
def test_reasons_equal_a_pair_by_pair_reading(seed: int) -> None:
    rng = random.Random(seed)
    students = [(f"s{i}", f"c{i % 3}", f"g{i % 4}") for i in range(rng.randint(1, 14))]
    openings = [(f"o{j}", f"e{j % 3}", rng.randint(0, 2)) for j in range(rng.randint(1, 6))]
    candidates = [(s, o, round(rng.random(), 2)) for s, _, _ in students for o, _, _ in openings
                  if rng.random() < 0.5]
    problem = make_problem(students, openings, candidates, caps={"e0": rng.randint(0, 2)})
    forbidden = tuple((s, o) for s, o, _ in candidates if rng.random() < 0.2)
    params = InternshipParams(default_quota=rng.randint(1, 3), forbidden=forbidden)
    prepared = prepare(problem, params)
    # Any assignment will do (the reasons only read what it uses): each student on a random pair or none.
    assigned = [-1] * problem.n_students
    for i in range(problem.n_pairs):
        if rng.random() < 0.3:
            assigned[int(problem.pair_student[i])] = i
    assignment = np.asarray(assigned, dtype=np.int64)
    used = [i for i in assigned if i >= 0]
    seats_used = {o: sum(1 for i in used if int(problem.pair_opening[i]) == o) for o in range(problem.n_openings)}
    enterprise_of = problem.opening_enterprise
    ent_used = {e: sum(1 for i in used if int(enterprise_of[problem.pair_opening[i]]) == e)
                for e in range(len(problem.enterprise_ids))}
    groups = prepared.quotas.pair_group
    group_used = {g: sum(1 for i in used if groups[i] == g) for g in range(prepared.quotas.n_groups)}

    expected = []
    for s in range(problem.n_students):
        if assigned[s] >= 0:
            continue
        own = [i for i in range(problem.n_pairs) if int(problem.pair_student[i]) == s]
        if not own:
            expected.append((problem.student_ids[s], (UnplacedReason.NO_CANDIDATES,)))
            continue
        hits = set()
        for i in own:
            o = int(problem.pair_opening[i])
            e = int(enterprise_of[o])
            cap = int(problem.enterprise_cap[e])
            if seats_used[o] >= problem.opening_seats[o] or (cap != UNLIMITED and ent_used[e] >= cap):
                hits.add(UnplacedReason.FULL)
            if groups[i] >= 0 and group_used[int(groups[i])] >= prepared.quotas.limit[groups[i]]:
                hits.add(UnplacedReason.QUOTA)
            if prepared.forbidden[i]:
                hits.add(UnplacedReason.INELIGIBLE)
        order = (UnplacedReason.FULL, UnplacedReason.QUOTA, UnplacedReason.INELIGIBLE, UnplacedReason.NOT_RANKED)
        expected.append((problem.student_ids[s], tuple(r for r in order if r in hits)))
    got = unplaced_reasons(prepared, assignment)
    assert [(u.id, u.reasons) for u in got] == expected
    assert all(u.group == problem.college_ids[problem.student_college[problem.student_ids.index(u.id)]]
               for u in got)
