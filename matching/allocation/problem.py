"""Problem and result types of the allocation core.

A problem is a set of numpy arrays indexed by dense integer ids (students, openings, ...), with the
external string ids kept beside them.  Arrays rather than objects because instances reach millions of
candidate pairs; :func:`matching.allocation.build.internship_problem_from_profiles` builds one from
domain objects and ``app/instances.py`` builds one straight from CSV columns.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

UNLIMITED = -1
"""Capacity value meaning "no cap" (enterprise caps, quotas)."""

NOT_RANKED = 0
"""Rank value meaning "this side did not rank the pair" (ranks themselves start at 1)."""


class Mode(enum.StrEnum):
    OPTIMAL = "optimal"
    STABLE = "stable"


class Proposer(enum.StrEnum):
    STUDENTS = "students"
    ENTERPRISES = "enterprises"


class Status(enum.StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION_IN_TIME = "no_solution_in_time"


class UnplacedReason(enum.StrEnum):
    """Why a student (or course need) ended without a placement; several may apply at once."""

    FULL = "full"  # a candidate opening (or its enterprise) had no seat left
    INELIGIBLE = "ineligible"  # a candidate pair is forbidden or otherwise unusable
    NOT_RANKED = "not_ranked"  # stable mode: one side did not rank the pair
    QUOTA = "quota"  # the (college, enterprise) quota of a candidate was exhausted
    NO_CANDIDATES = "no_candidates"  # the student has no candidate opening at all
    RESERVED = "reserved"  # a candidate opening's free seats were taken, the rest held for a partnership


@dataclass(frozen=True, slots=True)
class Quota:
    """At most ``max_students`` students of ``college`` placed at ``enterprise``."""

    college: str
    enterprise: str
    max_students: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """``seats`` seats of opening ``opening`` held for the students of ``programs``: what a
    partnership (an order class, an apprenticeship) named ``partnership`` committed.

    Students of other programs may hold at most the opening's seats minus its reservations; a
    partner student beyond its reservation competes for those free seats like anyone.  Reservations
    at one opening cover disjoint programs.
    """

    partnership: str
    opening: str
    programs: frozenset[str]
    seats: int


@dataclass(frozen=True, slots=True)
class InternshipParams:
    """How to solve an internship problem.  Every side constraint is optional.

    ``college_floor`` / ``program_floor``: minimum share of each college's (program's) students that
    must be placed; a single number applies to all, a mapping to the named ones.  ``quotas`` and
    ``default_quota`` bound students of one college at one enterprise.  ``locks`` are (student,
    opening) pairs that must be kept, ``forbidden`` pairs that must not be used.  ``fairness`` first
    maximises the minimum college placement rate, then total fit.
    """

    mode: Mode = Mode.OPTIMAL
    proposer: Proposer = Proposer.STUDENTS
    time_limit_s: float = 60.0
    seed: int = 0
    college_floor: float | dict[str, float] = 0.0
    program_floor: float | dict[str, float] = 0.0
    quotas: tuple[Quota, ...] = ()
    default_quota: int | None = None
    locks: tuple[tuple[str, str], ...] = ()
    forbidden: tuple[tuple[str, str], ...] = ()
    fairness: bool = False
    partition_key: str | None = "province"
    # Above this many candidate pairs, quota problems use Lagrangian flow instead of exact CP-SAT.
    exact_max_pairs: int = 5_000
    lagrangian_iterations: int = 60
    target_gap: float = 0.002
    # A large part whose Lagrangian repair never met the floors falls back to CP-SAT up to this size.
    fallback_max_pairs: int = 200_000
    # Stable mode: also solve the optimum to report the price of stability (one extra flow).
    price_of_stability: bool = True


@dataclass(slots=True)
class InternshipProblem:
    """Students, openings and candidate pairs as aligned arrays.

    Every ``*_ids`` tuple maps a dense index to the external id.  Candidate pair ``a`` links student
    ``pair_student[a]`` to opening ``pair_opening[a]`` with fit ``pair_score[a]`` in [0, 1].  Ranks
    are 1-based, :data:`NOT_RANKED` where a side gave none.  ``*_ranked_given`` say whether the ranks
    columns were supplied at all (otherwise the preference order falls back to scores).
    """

    student_ids: tuple[str, ...]
    student_college: Int32Array
    student_program: Int32Array
    student_scope: Int32Array
    opening_ids: tuple[str, ...]
    opening_enterprise: Int32Array
    opening_seats: IntArray
    opening_scope: Int32Array
    enterprise_ids: tuple[str, ...]
    enterprise_cap: IntArray
    college_ids: tuple[str, ...]
    program_ids: tuple[str, ...]
    scope_ids: tuple[str, ...]
    pair_student: Int32Array
    pair_opening: Int32Array
    pair_score: FloatArray
    pair_student_rank: Int32Array
    pair_opening_rank: Int32Array
    student_ranks_given: bool = False
    opening_ranks_given: bool = False
    # Seats held for partnerships' programs (:class:`Reservation`); none by default.
    reservations: tuple[Reservation, ...] = ()

    @property
    def n_students(self) -> int:
        return len(self.student_ids)

    @property
    def n_openings(self) -> int:
        return len(self.opening_ids)

    @property
    def n_pairs(self) -> int:
        return int(self.pair_student.shape[0])


@dataclass(slots=True)
class LecturerProblem:
    """Lecturers, course needs and candidate pairs.  Slots are dense indices into ``slot_ids``."""

    lecturer_ids: tuple[str, ...]
    lecturer_enterprise: tuple[str, ...]
    lecturer_max_hours: IntArray
    lecturer_slots: tuple[frozenset[int], ...]
    need_ids: tuple[str, ...]
    need_college: tuple[str, ...]
    need_program: tuple[str, ...]
    need_hours: IntArray
    need_slots: tuple[frozenset[int], ...]
    need_professional: BoolArray
    slot_ids: tuple[str, ...]
    pair_lecturer: Int32Array
    pair_need: Int32Array
    pair_score: FloatArray


@dataclass(frozen=True, slots=True)
class LecturerParams:
    time_limit_s: float = 60.0
    seed: int = 0
    target_share: float = 0.4
    # Objective units lost per hour of shortfall against a program's target share: 1000 equals the
    # weight of one placement with perfect fit, so meeting the target wins over small fit gains.
    shortfall_penalty_per_hour: int = 1000
    workers: int = 2
    # True: CP-SAT stops on deterministic time with interleaved workers, so the same instance and seed
    # give the same placements; on the 1k × 3k benchmark that search ends ~24 % from its bound
    # where the default racing portfolio (wall clock, not reproducible once cut) ends ~2.5 %.
    deterministic: bool = False


@dataclass(slots=True)
class Unplaced:
    id: str
    group: str  # college of a student, college of a course need
    reasons: tuple[UnplacedReason, ...]
    # With ``reserved``: the partnerships whose reserved seats the student could not take.
    partnerships: tuple[str, ...] = ()


@dataclass(slots=True)
class InternshipResult:
    """Outcome of one internship solve.

    ``assigned_pair[s]`` is the candidate pair index placing student ``s`` or -1.  ``objective`` and
    ``bound`` are in integer weight units (see :func:`matching.allocation.weights.fit_weights`);
    ``gap`` is ``(bound - objective) / max(|bound|, 1)``.  ``conflicts`` name the constraints in
    conflict when the status is infeasible.
    """

    status: Status
    assigned_pair: IntArray
    objective: int
    bound: int
    total_fit: float
    wall_time_s: float
    method: str
    conflicts: tuple[str, ...] = ()
    unplaced: tuple[Unplaced, ...] = ()
    blocking_pairs: int = 0
    stats: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        if self.status in (Status.INFEASIBLE, Status.NO_SOLUTION_IN_TIME):
            return float("nan")
        return (self.bound - self.objective) / max(abs(self.bound), 1)


@dataclass(slots=True)
class LecturerResult:
    status: Status
    assigned_pair: IntArray  # per course need: pair index or -1
    objective: int
    bound: int
    total_fit: float
    wall_time_s: float
    shortfall_hours: dict[str, int]  # program -> hours below its target share
    target_hours: dict[str, int]
    taught_hours: dict[str, int]
    unplaced: tuple[Unplaced, ...] = ()
    conflicts: tuple[str, ...] = ()

    @property
    def gap(self) -> float:
        if self.status in (Status.INFEASIBLE, Status.NO_SOLUTION_IN_TIME):
            return float("nan")
        return (self.bound - self.objective) / max(abs(self.bound), 1)


class ProblemError(ValueError):
    """The problem refers to something that does not exist (unknown id, bad value)."""
