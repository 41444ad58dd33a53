"""What reserved seats (order classes, apprenticeships) cost a solve: the same seeded instance solved
without and with reservations on a share of its openings, by min-cost flow (optimal mode) and by
deferred acceptance (stable mode).  Prints wall time, placements and objective of each.

    python -m benchmarks.allocation.reservations --students 20000 --openings 2000 --reserved 0.1
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from matching.allocation import InternshipParams, Mode, solve_internships
from matching.allocation.problem import InternshipProblem, Reservation


def instance(students: int, openings: int, k: int, programs: int, seed: int) -> InternshipProblem:
    rng = np.random.default_rng(seed)
    pair_student = np.repeat(np.arange(students), k)
    pair_opening = rng.integers(0, openings, size=students * k)
    keys = np.unique(pair_student.astype(np.int64) * openings + pair_opening)
    pair_student, pair_opening = keys // openings, keys % openings
    n = len(keys)
    return InternshipProblem(
        student_ids=tuple(f"s{i}" for i in range(students)),
        student_college=(np.arange(students) % 50).astype(np.int32),
        student_program=rng.integers(0, programs, size=students).astype(np.int32),
        student_scope=np.zeros(students, dtype=np.int32),
        opening_ids=tuple(f"o{j}" for j in range(openings)),
        opening_enterprise=(np.arange(openings) // 5).astype(np.int32),
        opening_seats=rng.integers(1, 21, size=openings).astype(np.int64) * students // (10 * openings) + 1,
        opening_scope=np.zeros(openings, dtype=np.int32),
        enterprise_ids=tuple(f"e{e}" for e in range((openings + 4) // 5)),
        enterprise_cap=np.full((openings + 4) // 5, -1, dtype=np.int64),
        college_ids=tuple(f"c{c}" for c in range(50)), program_ids=tuple(f"p{p}" for p in range(programs)),
        scope_ids=("P",), pair_student=pair_student.astype(np.int32), pair_opening=pair_opening.astype(np.int32),
        pair_score=rng.random(n), pair_student_rank=np.zeros(n, dtype=np.int32),
        pair_opening_rank=np.zeros(n, dtype=np.int32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--openings", type=int, default=2_000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--programs", type=int, default=200)
    parser.add_argument("--reserved", type=float, default=0.1, help="share of openings with a reservation")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    problem = instance(args.students, args.openings, args.k, args.programs, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    chosen = rng.choice(args.openings, size=int(args.reserved * args.openings), replace=False)
    reservations = tuple(Reservation(f"P{j}", problem.opening_ids[j],
                                     frozenset(f"p{p}" for p in rng.choice(args.programs, size=3, replace=False)),
                                     int(problem.opening_seats[j]) // 2 + 1) for j in sorted(chosen.tolist()))
    reserved = dataclasses.replace(problem, reservations=reservations)
    print(f"{args.students} students, {args.openings} openings, {problem.n_pairs} pairs; "
          f"{len(reservations)} reservations holding {sum(r.seats for r in reservations)} of "
          f"{int(problem.opening_seats.sum())} seats")
    for mode in (Mode.OPTIMAL, Mode.STABLE):
        params = InternshipParams(mode=mode, price_of_stability=False, partition_key=None)
        for label, p in (("without", problem), ("with", reserved)):
            started = time.monotonic()
            result = solve_internships(p, params)
            placed = int((result.assigned_pair >= 0).sum())
            print(f"{mode.value:8s} {label:8s} reservations: {time.monotonic() - started:6.2f} s, "
                  f"{placed} placed, objective {result.objective}, status {result.status.value}")


if __name__ == "__main__":
    main()
