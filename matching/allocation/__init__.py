"""Batch allocation of internships and enterprise lecturers (pure: no I/O, configuration as arguments).

Entry points:

* :func:`internship_problem` / :func:`lecturer_problem` build problems from domain objects;
* :func:`solve_internships` (optimal or stable) and :func:`solve_lecturers` solve and verify them;
* :class:`Executor` is what a partitioned solve runs its parts through (:class:`InlineExecutor`
  here; process pools and Ray clusters are the service's, in ``app.executors``).
"""

from matching.allocation.build import internship_problem, lecturer_problem
from matching.allocation.checker import CheckFailedError, check_internships, check_lecturers
from matching.allocation.internships import solve_internships
from matching.allocation.lecturers import solve_lecturers
from matching.allocation.partition import Executor, InlineExecutor
from matching.allocation.problem import (
    InternshipParams,
    InternshipProblem,
    InternshipResult,
    LecturerParams,
    LecturerProblem,
    LecturerResult,
    Mode,
    ProblemError,
    Proposer,
    Quota,
    Status,
    Unplaced,
    UnplacedReason,
)
from matching.allocation.weights import fit_weights

__all__ = [
    "CheckFailedError",
    "Executor",
    "InlineExecutor",
    "InternshipParams",
    "InternshipProblem",
    "InternshipResult",
    "LecturerParams",
    "LecturerProblem",
    "LecturerResult",
    "Mode",
    "ProblemError",
    "Proposer",
    "Quota",
    "Status",
    "Unplaced",
    "UnplacedReason",
    "check_internships",
    "check_lecturers",
    "fit_weights",
    "internship_problem",
    "lecturer_problem",
    "solve_internships",
    "solve_lecturers",
]
