"""Writing allocation problems as instance directories (the inverse of ``app/instances.py``).

What this writes, ``read_instance`` reads back into an equal problem: same ids in the same order,
scores as exact float reprs, ranks only where they were given.  So ``chanjiao solve`` on an
exported run reproduces the run's placements byte for byte.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from matching.allocation import InternshipParams, InternshipProblem, LecturerParams, LecturerProblem
from matching.allocation.problem import UNLIMITED


def _write_csv(path: Path, header: list[str], rows: Any) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_internship_instance(directory: Path, problem: InternshipProblem, params: InternshipParams,
                              executor: str = "process") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    _write_csv(directory / "students.csv", ["id", "college", "program", "province"],
               zip(problem.student_ids, np.asarray(problem.college_ids)[problem.student_college],
                   np.asarray(problem.program_ids)[problem.student_program],
                   np.asarray(problem.scope_ids)[problem.student_scope], strict=True))
    _write_csv(directory / "openings.csv", ["id", "enterprise", "seats", "province"],
               zip(problem.opening_ids, np.asarray(problem.enterprise_ids)[problem.opening_enterprise],
                   problem.opening_seats.tolist(), np.asarray(problem.scope_ids)[problem.opening_scope], strict=True))
    capped = [(e, int(c)) for e, c in zip(problem.enterprise_ids, problem.enterprise_cap.tolist(), strict=True)
              if c != UNLIMITED]
    if capped:
        _write_csv(directory / "enterprises.csv", ["id", "max_interns"], capped)
    if problem.reservations:
        # Seats a partnership holds for its programs: without them a replay solves another problem.
        _write_csv(directory / "reservations.csv", ["partnership", "opening", "programs", "seats"],
                   [(r.partnership, r.opening, ";".join(sorted(r.programs)), r.seats) for r in problem.reservations])
    header = ["student", "opening", "score"]
    columns: list[Any] = [np.asarray(problem.student_ids)[problem.pair_student],
                          np.asarray(problem.opening_ids)[problem.pair_opening],
                          [repr(float(v)) for v in problem.pair_score.tolist()]]
    if problem.student_ranks_given:
        header.append("student_rank")
        columns.append([str(r) if r else "" for r in problem.pair_student_rank.tolist()])
    if problem.opening_ranks_given:
        header.append("opening_rank")
        columns.append([str(r) if r else "" for r in problem.pair_opening_rank.tolist()])
    _write_csv(directory / "candidates.csv", header, zip(*columns, strict=True))
    (directory / "params.json").write_text(json.dumps(internship_params_json(params, executor), ensure_ascii=False,
                                                      indent=1) + "\n", encoding="utf-8")


def internship_params_json(params: InternshipParams, executor: str) -> dict[str, Any]:
    return {
        "kind": "internship", "mode": params.mode.value, "proposer": params.proposer.value,
        "time_limit_s": params.time_limit_s, "seed": params.seed, "college_floor": params.college_floor,
        "program_floor": params.program_floor,
        "quotas": [{"college": q.college, "enterprise": q.enterprise, "max_students": q.max_students}
                   for q in params.quotas],
        "default_quota": params.default_quota, "locks": [list(p) for p in params.locks],
        "forbidden": [list(p) for p in params.forbidden], "fairness": params.fairness,
        "partition_key": params.partition_key, "exact_max_pairs": params.exact_max_pairs,
        "lagrangian_iterations": params.lagrangian_iterations, "target_gap": params.target_gap,
        "executor": executor,
    }


def write_lecturer_instance(directory: Path, problem: LecturerProblem, params: LecturerParams,
                            executor: str = "process") -> None:
    directory.mkdir(parents=True, exist_ok=True)

    def slots(indices: frozenset[int]) -> str:
        return ";".join(problem.slot_ids[i] for i in sorted(indices))

    _write_csv(directory / "lecturers.csv", ["id", "enterprise", "max_weekly_hours", "slots"],
               ([lid, ent, int(hours), slots(sl)] for lid, ent, hours, sl in
                zip(problem.lecturer_ids, problem.lecturer_enterprise, problem.lecturer_max_hours.tolist(),
                    problem.lecturer_slots, strict=True)))
    _write_csv(directory / "course_needs.csv", ["id", "college", "program", "weekly_hours", "slots", "professional"],
               ([nid, col, prog, int(hours), slots(sl), int(bool(pro))] for nid, col, prog, hours, sl, pro in
                zip(problem.need_ids, problem.need_college, problem.need_program, problem.need_hours.tolist(),
                    problem.need_slots, problem.need_professional.tolist(), strict=True)))
    _write_csv(directory / "candidates.csv", ["lecturer", "course_need", "score"],
               zip(np.asarray(problem.lecturer_ids)[problem.pair_lecturer],
                   np.asarray(problem.need_ids)[problem.pair_need],
                   [repr(float(v)) for v in problem.pair_score.tolist()], strict=True))
    (directory / "params.json").write_text(json.dumps({
        "kind": "lecturer", "time_limit_s": params.time_limit_s, "seed": params.seed,
        "target_share": params.target_share, "shortfall_penalty_per_hour": params.shortfall_penalty_per_hour,
        "workers": params.workers, "executor": executor}, indent=1) + "\n", encoding="utf-8")
