"""Lecturer hours partnerships committed, as a lecturer run delivers them (pure).

A partnership commits weekly hours of its enterprise's lecturers for its programs' professional
courses; a run reports, per partnership, the hours its result gives those programs from that
enterprise, and per industry college (产业学院) the share of its programs' professional course hours
the run's enterprise lecturers (of any enterprise) teach, against the target share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matching.allocation.problem import IntArray, LecturerProblem


@dataclass(frozen=True)
class HoursCommitment:
    partnership: str
    enterprise: str
    programs: frozenset[str]
    hours: int
    industry_college: bool = False


def partnership_hours(problem: LecturerProblem, assigned_pair: IntArray, commitments: Sequence[HoursCommitment],
                      target_share: float) -> dict[str, list[dict[str, Any]]]:
    """``partnerships``: committed against run hours; ``industry_colleges``: the share against the target."""
    taught: list[tuple[str, str, int, bool]] = []  # (lecturer's enterprise, program, hours, professional)
    for need, pair in enumerate(assigned_pair.tolist()):
        if pair >= 0:
            lecturer = int(problem.pair_lecturer[pair])
            taught.append((problem.lecturer_enterprise[lecturer], problem.need_program[need],
                           int(problem.need_hours[need]), bool(problem.need_professional[need])))
    partnerships, colleges = [], []
    for c in commitments:
        run_hours = sum(h for e, p, h, _ in taught if e == c.enterprise and p in c.programs)
        partnerships.append({"partnership_id": int(c.partnership) if c.partnership.isdigit() else c.partnership,
                             "committed_hours": c.hours, "run_hours": run_hours,
                             "shortfall_hours": max(0, c.hours - run_hours)})
        if c.industry_college:
            professional = sum(int(problem.need_hours[n]) for n, p in enumerate(problem.need_program)
                               if p in c.programs and problem.need_professional[n])
            enterprise = sum(h for _, p, h, prof in taught if p in c.programs and prof)
            share = round(enterprise / professional, 4) if professional else None
            colleges.append({"partnership_id": partnerships[-1]["partnership_id"],
                             "programs": sorted(c.programs, key=lambda p: (len(p), p)),
                             "professional_hours": professional, "enterprise_hours": enterprise,
                             "enterprise_share": share, "target_share": target_share,
                             "meets_target": None if share is None else share >= target_share})
    return {"partnerships": partnerships, "industry_colleges": colleges}
