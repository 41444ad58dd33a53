"""Batch allocation of internships and enterprise lecturers (pure: no I/O, configuration as arguments).

Entry points:

* :func:`internship_problem` / :func:`lecturer_problem` build problems from domain objects;
* :func:`solve_internships` (optimal or stable) and :func:`solve_lecturers` solve and verify them;
* :func:`make_executor` gives the ``inline`` or ``process`` executor for partitioned solves.
"""

from matching.allocation.build import internship_problem, lecturer_problem
from matching.allocation.checker import CheckFailedError, check_internships, check_lecturers
from matching.allocation.internships import solve_internships
from matching.allocation.lecturers import solve_lecturers
from matching.allocation.partition import Executor, InlineExecutor, ProcessExecutor, make_executor
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
    "ProcessExecutor",
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
    "make_executor",
    "solve_internships",
    "solve_lecturers",
]
