"""Seeded, realistic instance generator for the allocation benchmarks.

Shape taken from public reporting on vocational placements: provinces of very unequal size,
colleges with a handful of programs, enterprises whose intern caps are ~10 % of staff, openings
of 1–20 seats, and students who are offered openings mostly in their own province, favouring
enterprises in their program's industry.  Total seats ≈ 1.1 × students, so some openings stay
empty and popular ones are contested.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def _write(path: Path, header: str, columns: list[np.ndarray]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(header + "\n")
        n = len(columns[0])
        step = 500_000
        for start in range(0, n, step):
            parts = [c[start:start + step].astype(str) for c in columns]
            rows = parts[0]
            for p in parts[1:]:
                rows = np.char.add(np.char.add(rows, ","), p)
            handle.write("\n".join(rows.tolist()) + "\n")


def internship(out: Path, students: int, openings: int, k: int, seed: int, params: dict[str, object],
               students_per_college: int = 800, openings_per_enterprise: int = 5) -> None:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    n_prov = 31
    prov_weight = rng.lognormal(0, 0.6, n_prov)
    prov_weight /= prov_weight.sum()
    student_prov = rng.choice(n_prov, size=students, p=prov_weight)
    opening_prov = rng.choice(n_prov, size=openings, p=prov_weight)
    # Every province has at least one college and one enterprise; the rest follow province size.
    n_colleges = max(students // students_per_college, n_prov)
    college_prov = np.concatenate([np.arange(n_prov), rng.choice(n_prov, size=n_colleges - n_prov, p=prov_weight)])
    # Students attend a college of their own province (any college if the province has none).
    student_college = np.empty(students, dtype=np.int64)
    for p in range(n_prov):
        members = np.flatnonzero(student_prov == p)
        pool = np.flatnonzero(college_prov == p)
        student_college[members] = rng.choice(pool, size=len(members))
    student_prov = college_prov[student_college]
    student_program = student_college * 6 + rng.integers(0, 6, students)
    n_ent = max(openings // openings_per_enterprise, n_prov)
    ent_prov = np.concatenate([np.arange(n_prov), rng.choice(n_prov, size=n_ent - n_prov, p=prov_weight)])
    opening_ent = np.empty(openings, dtype=np.int64)
    for p in range(n_prov):
        members = np.flatnonzero(opening_prov == p)
        pool = np.flatnonzero(ent_prov == p)
        opening_ent[members] = rng.choice(pool, size=len(members))
    opening_prov = ent_prov[opening_ent]
    raw_seats = rng.gamma(1.5, 1.0, openings)
    seats = np.clip(np.rint(raw_seats * 1.1 * students / raw_seats.sum()), 0, 20).astype(np.int64)
    staff = np.rint(rng.lognormal(6.5, 0.8, n_ent)).astype(np.int64) + 20
    seats_per_ent = np.bincount(opening_ent, weights=seats, minlength=n_ent)
    max_interns = np.minimum(np.maximum(staff // 10, 1), seats_per_ent.astype(np.int64))
    # Candidates: k openings in the student's province (popularity-weighted), fit ~ Beta + industry match.
    order = np.argsort(opening_prov, kind="stable")
    starts = np.searchsorted(opening_prov[order], np.arange(n_prov + 1))
    popularity = rng.lognormal(0, 1.0, openings)
    pair_s = np.repeat(np.arange(students), k)
    pair_o = np.empty(students * k, dtype=np.int64)
    for p in range(n_prov):
        members = np.flatnonzero(student_prov == p)
        pool = order[starts[p]:starts[p + 1]]
        if len(members) == 0:
            continue
        kk = min(k, len(pool))
        weights = popularity[pool] / popularity[pool].sum()
        # Gumbel top-k: a weighted sample without replacement per student, vectorised.
        keys = np.log(weights)[None, :] - np.log(-np.log(rng.random((len(members), len(pool)))))
        top = np.argpartition(-keys, kk - 1, axis=1)[:, :kk] if kk < len(pool) else np.tile(
            np.arange(len(pool)), (len(members), 1))
        chosen = pool[top]
        if kk < k:  # small provinces: repeat is not allowed, so pad by dropping later
            chosen = np.concatenate([chosen, np.full((len(members), k - kk), -1)], axis=1)
        idx = (members[:, None] * k + np.arange(k)[None, :]).ravel()
        pair_o[idx] = chosen.ravel()
    keep = pair_o >= 0
    pair_s, pair_o = pair_s[keep], pair_o[keep]
    industry_match = (student_program[pair_s] % 6) == (opening_ent[pair_o] % 6)
    score = np.clip(rng.beta(2.0, 3.0, len(pair_s)) + 0.25 * industry_match, 0, 1).round(3)
    srank = np.zeros(len(pair_s), dtype=np.int64)
    # Students rank their candidates by a noisy view of fit.
    noisy = score + rng.normal(0, 0.1, len(score))
    o = np.lexsort((-noisy, pair_s))
    first = np.searchsorted(pair_s[o], pair_s[o])
    srank[o] = np.arange(len(o)) - first + 1
    _write(out / "students.csv", "id,college,program,province",
           [np.char.add("s", np.arange(students).astype(str)), np.char.add("c", student_college.astype(str)),
            np.char.add("p", student_program.astype(str)), np.char.add("P", student_prov.astype(str))])
    _write(out / "openings.csv", "id,enterprise,seats,province",
           [np.char.add("o", np.arange(openings).astype(str)), np.char.add("e", opening_ent.astype(str)),
            seats, np.char.add("P", opening_prov.astype(str))])
    _write(out / "enterprises.csv", "id,max_interns", [np.char.add("e", np.arange(n_ent).astype(str)), max_interns])
    _write(out / "candidates.csv", "student,opening,score,student_rank",
           [np.char.add("s", pair_s.astype(str)), np.char.add("o", pair_o.astype(str)), score, srank])
    (out / "params.json").write_text(json.dumps({"kind": "internship", **params}, indent=1), encoding="utf-8")


def lecturer(out: Path, lecturers: int, needs: int, k: int, seed: int, params: dict[str, object]) -> None:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    slots = np.array([f"{d}{p}" for d in ("mon", "tue", "wed", "thu", "fri") for p in range(1, 9)])
    lec_slots = [";".join(sorted(rng.choice(slots, size=int(rng.integers(8, 24)), replace=False)))
                 for _ in range(lecturers)]
    need_hours = rng.choice([2, 2, 4, 4, 6], size=needs)
    need_slots = [";".join(sorted(rng.choice(slots, size=int(h // 2), replace=False))) for h in need_hours]
    n_colleges = max(needs // 60, 2)
    need_college = rng.integers(0, n_colleges, needs)
    need_program = need_college * 5 + rng.integers(0, 5, needs)
    professional = (rng.random(needs) < 0.8).astype(int)
    pair_n = np.repeat(np.arange(needs), k)
    pair_l = np.concatenate([rng.choice(lecturers, size=k, replace=False) for _ in range(needs)])
    score = rng.beta(2, 3, len(pair_n)).round(3)
    _write(out / "lecturers.csv", "id,enterprise,max_weekly_hours,slots",
           [np.char.add("L", np.arange(lecturers).astype(str)),
            np.char.add("e", rng.integers(0, lecturers // 4 + 1, lecturers).astype(str)),
            rng.choice([4, 6, 8, 10], size=lecturers), np.array(lec_slots)])
    _write(out / "course_needs.csv", "id,college,program,weekly_hours,slots,professional",
           [np.char.add("n", np.arange(needs).astype(str)), np.char.add("c", need_college.astype(str)),
            np.char.add("p", need_program.astype(str)), need_hours, np.array(need_slots), professional])
    _write(out / "candidates.csv", "lecturer,course_need,score",
           [np.char.add("L", pair_l.astype(str)), np.char.add("n", pair_n.astype(str)), score])
    (out / "params.json").write_text(json.dumps({"kind": "lecturer", **params}, indent=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--kind", default="internship", choices=["internship", "lecturer"])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--openings", type=int, default=1_000)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--params", default="{}", help="extra params.json keys as JSON")
    args = parser.parse_args()
    if args.kind == "internship":
        internship(args.out, args.students, args.openings, args.k, args.seed, json.loads(args.params))
    else:
        lecturer(args.out, args.students, args.openings, args.k, args.seed, json.loads(args.params))


if __name__ == "__main__":
    main()
