"""Key figures of an allocation, computed once for batch runs and for ``chanjiao solve``.

Per college, enterprise and program (placed, rates, mean fit, first-three-choices share) and in
total, from the problem and the assignment alone.  Sums run in student order, so a figure is the
same float whichever caller asks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from matching.allocation.problem import NOT_RANKED, InternshipProblem, LecturerProblem

__all__ = ["internship_kpis", "lecturer_kpis", "ratio"]

# A placement "in the first three choices" counts towards a college's top3_share.
TOP_CHOICES = 3


def ratio(num: float, den: float) -> float | None:
    """``num / den`` rounded to 6 places; None when there is nothing to divide by."""
    return round(num / den, 6) if den else None


def internship_kpis(problem: InternshipProblem, assigned_pair: np.ndarray,
                    opening_seats: np.ndarray | None = None) -> dict[str, Any]:
    """Figures of an internship allocation (``assigned_pair``: a pair index or -1 per student).

    ``opening_seats`` are the seats to report (the problem's by default; a stable run reports the
    seats before enterprise caps were turned into seats).  Ids stay the problem's strings, in the
    problem's order; the rows list only colleges and programs with students and enterprises with
    openings, as the problem does.
    """
    seats = problem.opening_seats if opening_seats is None else np.asarray(opening_seats)
    placed = np.flatnonzero(assigned_pair >= 0)
    pairs = assigned_pair[placed]
    score = problem.pair_score[pairs]
    rank = problem.pair_student_rank[pairs]
    college = problem.student_college[placed]
    n_college, n_program = len(problem.college_ids), len(problem.program_ids)
    n_enterprise = len(problem.enterprise_ids)
    college_students = np.bincount(problem.student_college, minlength=n_college)
    college_placed = np.bincount(college, minlength=n_college)
    # bincount adds the weights one by one in index (= student) order, as a loop over placements would.
    college_fit = np.bincount(college, weights=score, minlength=n_college)
    top = (rank != NOT_RANKED) & (rank <= TOP_CHOICES)
    college_top = np.bincount(college[top], minlength=n_college)
    enterprise_seats = np.bincount(problem.opening_enterprise, weights=seats, minlength=n_enterprise)
    has_openings = np.bincount(problem.opening_enterprise, minlength=n_enterprise) > 0
    enterprise_placed = np.bincount(problem.opening_enterprise[problem.pair_opening[pairs]], minlength=n_enterprise)
    program_students = np.bincount(problem.student_program, minlength=n_program)
    program_placed = np.bincount(problem.student_program[placed], minlength=n_program)
    colleges = [{"college_id": cid, "students": int(college_students[c]), "placed": int(college_placed[c]),
                 "placement_rate": ratio(college_placed[c], college_students[c]),
                 "mean_fit": ratio(college_fit[c], college_placed[c]),
                 "top3_share": ratio(college_top[c], college_placed[c])}
                for c, cid in enumerate(problem.college_ids) if college_students[c]]
    enterprises = [{"enterprise_id": eid, "seats": int(enterprise_seats[e]), "placed": int(enterprise_placed[e]),
                    "fill_rate": ratio(enterprise_placed[e], enterprise_seats[e])}
                   for e, eid in enumerate(problem.enterprise_ids) if has_openings[e]]
    programs = [{"program_id": pid, "students": int(program_students[p]), "placed": int(program_placed[p]),
                 "placement_rate": ratio(program_placed[p], program_students[p])}
                for p, pid in enumerate(problem.program_ids) if program_students[p]]
    counts: dict[str, int] = defaultdict(int)
    for r in rank.tolist():
        counts["unranked" if r == NOT_RANKED else str(r)] += 1
    totals = {"students": problem.n_students, "placed": len(placed),
              "placement_rate": ratio(len(placed), problem.n_students), "seats": int(seats.sum()),
              "mean_fit": ratio(_in_order(score), len(placed)),
              "preference_rank_received": dict(sorted(counts.items()))}
    return {"colleges": colleges, "enterprises": enterprises, "programs": programs, "totals": totals}


def lecturer_kpis(problem: LecturerProblem, assigned_pair: np.ndarray, target_hours: Mapping[str, int],
                  taught_hours: Mapping[str, int], shortfall_hours: Mapping[str, int],
                  target_share: float) -> dict[str, Any]:
    """Figures of a lecturer allocation (``assigned_pair``: a pair index or -1 per course need),
    per program with course needs, and in total."""
    placed = np.flatnonzero(assigned_pair >= 0)
    total: dict[str, int] = defaultdict(int)
    covered: dict[str, int] = defaultdict(int)
    for program in problem.need_program:
        total[program] += 1
    for n in placed.tolist():
        covered[problem.need_program[n]] += 1
    programs = [{"program_id": pid, "course_needs": total[pid], "covered": covered[pid],
                 "coverage": ratio(covered[pid], total[pid]),
                 "target_hours": target_hours.get(pid, 0), "enterprise_hours": taught_hours.get(pid, 0),
                 "shortfall_hours": shortfall_hours.get(pid, 0),
                 "enterprise_hours_share": _share_of_target(target_hours, taught_hours, pid, target_share)}
                for pid in total]
    totals = {"course_needs": len(problem.need_ids), "covered": len(placed),
              "coverage": ratio(len(placed), len(problem.need_ids)), "target_share": target_share,
              "shortfall_hours": int(sum(shortfall_hours.values()))}
    return {"colleges": [], "enterprises": [], "programs": programs, "totals": totals}


def _share_of_target(target_hours: Mapping[str, int], taught_hours: Mapping[str, int], program: str,
                     share: float) -> float | None:
    # taught/target × share = the enterprise-taught share of the program's professional hours.
    target = target_hours.get(program, 0)
    if not target or not share:
        return None
    return round(share * taught_hours.get(program, 0) / target, 4)


def _in_order(values: Sequence[float] | np.ndarray) -> float:
    # Python's left-to-right sum (np.sum pairs terms up and can differ in the last bit).
    return sum(np.asarray(values, dtype=np.float64).tolist(), 0.0)
