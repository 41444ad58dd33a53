"""The phases of one allocation run: load → candidates → solve → check → store.

``load`` and ``store`` take a Session (the worker opens one short transaction for each); the
phases between them are pure and hold no session, so a long solve never holds database locks.
The worker (``app/worker.py``) drives the phases, the lease and cancellation.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

import numpy as np
from sqlalchemy.orm import Session

from app.db.models import (
    LIVE_PLACEMENT_STATUSES,
    AllocationRun,
    Placement,
    PlacementStatus,
    RunKind,
    RunMode,
    RunStatus,
)
from app.executors import make_executor
from app.instances import INTERNSHIP_PLACEMENTS_HEADER, LECTURER_PLACEMENTS_HEADER, placements_csv
from app.repositories.ledger import LedgerRepository
from app.repositories.runs import RunRepository
from app.run_schemas import RunParameters, RunScope
from app.services.alliance_scope import resolve_scope
from app.services.ledger import Ledger
from app.services.partnership_seats import hours_commitments, seat_commitments
from app.services.scoring_context import ScoringContext, scoring_context
from app.translate import (
    course_need_profile,
    lecturer_profile,
    opening_profile,
    program_profile,
    student_profiles_from_rows,
)
from matching.allocation import (
    Executor,
    InlineExecutor,
    InternshipParams,
    InternshipProblem,
    InternshipResult,
    LecturerParams,
    LecturerProblem,
    LecturerResult,
    Mode,
    Proposer,
    Quota,
    Status,
    check_internships,
    check_lecturers,
    lecturer_problem,
    solve_internships,
    solve_lecturers,
)
from matching.allocation.instance import internship_instance as build_internship_instance
from matching.allocation.instance import with_seats
from matching.allocation.kpis import internship_kpis, lecturer_kpis
from matching.allocation.partnership_hours import HoursCommitment, partnership_hours
from matching.allocation.reservations import Commitment, apply_commitments
from matching.domain import CourseNeedProfile, LecturerProfile, OpeningProfile, ProgramProfile, StudentProfile
from matching.scoring import Candidates, Pairing, TextSpace, score_lecturers_for_course, top_k_openings_per_student
from matching.scoring.candidates import OpeningIndex, index_openings, merge_candidates, scoring_corpus
from matching.scoring.results import Unscorable

PHASES = ("load", "candidates", "solve", "check", "store")
PHASE_START = {"load": 0, "candidates": 10, "solve": 40, "check": 85, "store": 90}



@dataclass
class InternshipInputs:
    students: list[StudentProfile]
    openings: list[OpeningProfile]
    programs: dict[str, ProgramProfile]
    enterprise_caps: dict[str, int]
    context: ScoringContext
    locks: list[tuple[str, str]] = field(default_factory=list)
    keep: set[tuple[str, str]] = field(default_factory=set)
    forbidden: list[tuple[str, str]] = field(default_factory=list)
    excluded_students: set[str] = field(default_factory=set)
    # What the solve takes as given (stored with the run, re-checked at publication): the live
    # placements of earlier rounds by (student, opening), and the intern shares applied.
    carried: dict[tuple[str, str], int] = field(default_factory=dict)
    basis: dict[str, Any] = field(default_factory=dict)
    # Seats partnerships (order classes, apprenticeships) hold for their programs this term.
    commitments: list[Commitment] = field(default_factory=list)


@dataclass
class LecturerInputs:
    lecturers: list[LecturerProfile]
    needs: list[CourseNeedProfile]
    context: ScoringContext
    basis: dict[str, Any] = field(default_factory=dict)
    # Lecturer hours partnerships committed for the term (reported, not solved for).
    commitments: list[HoursCommitment] = field(default_factory=list)


@dataclass
class Solved:
    """A pure phase's output, ready to store."""

    kind: RunKind
    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    placements: list[tuple[str, str, float]]  # (student|need, opening|lecturer, score)
    unplaced: list[dict[str, Any]]
    kpis: dict[str, Any]
    input_digest: str
    conflicts: tuple[str, ...] = ()
    carried: dict[tuple[str, str], int] = field(default_factory=dict)
    basis: dict[str, Any] = field(default_factory=dict)


def versions() -> dict[str, str]:
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return {"chanjiao": version("chanjiao"), "ortools": version("ortools"),
            "scikit-learn": version("scikit-learn"), "numpy": version("numpy")}


# --------------------------------------------------------------------------- load


def load_internship_inputs(session: Session, run: AllocationRun, *, staff_share: float,
                           post_share: float) -> InternshipInputs:
    repo = RunRepository(session)
    scope = resolve_scope(session, RunScope.model_validate(run.scope))
    params = RunParameters.model_validate(run.parameters)
    programs = repo.scope_programs(scope.term, scope.province, scope.college_ids)
    program_rows = {p.id: p for p in programs}
    students = student_profiles_from_rows(repo.student_rows(list(program_rows)),
                                          repo.preference_rows(list(program_rows)),
                                          {p.id: p.college_id for p in programs})
    openings = repo.scope_openings(scope.term, scope.province, scope.enterprise_ids)
    occupations = {o.code: o for o in repo.occupations(o.occupation_code for o in openings if o.occupation_code)}
    enterprises = repo.enterprises(o.enterprise_id for o in openings)

    staff_share = params.max_intern_share_of_staff or staff_share
    post_share = params.max_intern_share_of_post or post_share
    opening_profiles = []
    for row in openings:
        profile = opening_profile(row, occupations.get(row.occupation_code or ""))
        seats = params.seat_overrides.get(str(row.id), row.seats)
        if row.post_headcount:
            seats = min(seats, math.floor(post_share * row.post_headcount))
        opening_profiles.append(with_seats(profile, seats))
    caps = {str(e.id): math.floor(staff_share * e.staff_count) for e in enterprises}
    inputs = InternshipInputs(
        students=students,
        openings=opening_profiles,
        programs={str(p.id): program_profile(p) for p in programs},
        enterprise_caps=caps,
        context=scoring_context(session, Pairing.STUDENT_OPENING, params.weights),
        forbidden=[(str(s), str(o)) for s, o in params.forbidden],
    )
    if run.parent_run_id is not None:
        _carry_over_earlier_rounds(LedgerRepository(session).chain_placements(
            LedgerRepository(session).chain_ids(run)[1:]), inputs)
    inputs.basis = {"locked_placement_ids": sorted(inputs.carried.values()), "staff_share": staff_share,
                    "post_share": post_share}
    inputs.commitments = seat_commitments(session, scope.term, sorted(program_rows),
                                          sorted({o.enterprise_id for o in openings}), run.round)
    return inputs


def _carry_over_earlier_rounds(placements: Sequence[Placement], inputs: InternshipInputs) -> None:
    """Live placements of earlier rounds stay, locked (they remain the earlier round's rows); pairs
    declined or withdrawn are not offered again; offers still unanswered are kept when nothing
    better exists (see KEEP_PROPOSAL_BONUS)."""
    for p in placements:
        pair = (str(p.student_id), str(p.opening_id))
        if p.status in LIVE_PLACEMENT_STATUSES:
            inputs.locks.append(pair)
            inputs.carried[pair] = p.id
        elif p.status in (PlacementStatus.DECLINED, PlacementStatus.WITHDRAWN):
            inputs.forbidden.append(pair)
        elif p.status == PlacementStatus.PUBLISHED:
            inputs.keep.add(pair)


def load_lecturer_inputs(session: Session, run: AllocationRun) -> LecturerInputs:
    repo = RunRepository(session)
    scope = resolve_scope(session, RunScope.model_validate(run.scope))
    params = RunParameters.model_validate(run.parameters)
    programs = repo.scope_programs(scope.term, scope.province, scope.college_ids)
    program_rows = {p.id: p for p in programs}
    all_needs = repo.course_needs_of_programs(list(program_rows), scope.term)
    ledger = LedgerRepository(session)
    # Course needs that already have a lecturer who said yes are not offered again, and lecturers
    # teach only the weekly hours they have left in the term.
    taken = ledger.live_course_needs([n.id for n in all_needs])
    needs = [n for n in all_needs if n.id not in taken]
    lecturers = repo.scope_lecturers(scope.province, scope.enterprise_ids)
    used = ledger.live_hours_of((lec.id for lec in lecturers), scope.term)
    profiles = [replace(lecturer_profile(lec), max_weekly_hours=lec.max_weekly_hours - used.get(lec.id, 0))
                for lec in lecturers]
    inputs = LecturerInputs(
        lecturers=[p for p in profiles if p.max_weekly_hours > 0],
        needs=[course_need_profile(n, program_rows[n.program_id].college_id, program_rows[n.program_id].college.city)
               for n in needs],
        context=scoring_context(session, Pairing.LECTURER_COURSE, params.weights),
    )
    inputs.basis = {"locked_placement_ids": sorted(ledger.live_ids(ledger.chain_ids(run)[1:]))}
    inputs.commitments = hours_commitments(session, scope.term, sorted({lec.enterprise_id for lec in lecturers}))
    return inputs


# --------------------------------------------------------------------------- candidates


def internship_instance(inputs: InternshipInputs, run_mode: RunMode, params: RunParameters,
                        executor: Executor | None = None, progress: Progress | None = None,
                        ) -> tuple[InternshipProblem, InternshipParams, list[dict[str, Any]]]:
    """Candidate openings per student (eligibility, then the top-k by fit) and the solver problem.

    The students are scored province by province, each province one task on ``executor`` (inline
    by default), against all openings and one text space fitted for the whole run; the merged
    candidates equal scoring everyone at once (``merge_candidates``), so the problem does not
    depend on the executor.  Returns the problem, the solver parameters and the students left
    without any candidate (with the reason), which the solver never sees.
    """
    found = scope_candidates(inputs, params.top_k, executor or InlineExecutor(), progress)
    built = build_internship_instance(
        inputs.students, inputs.openings, inputs.programs, inputs.enterprise_caps,
        (found.student_index, found.opening_index, found.score), stable=run_mode == RunMode.STABLE,
        forbidden=inputs.forbidden, keep=inputs.keep, allow_cross_category=params.allow_cross_category,
        # A locked placement is kept even if it fell out of the top-k since; so is a scheduler's pin.
        locks=[*inputs.locks, *((str(s), str(o)) for s, o in params.pinned)])
    unscorable = [{"id": u.id, "reasons": ["no_candidates"], "detail": u.reason}
                  for u in found.unscorable_students]
    problem = apply_commitments(built.problem, inputs.commitments)
    if problem.reservations:  # re-checked at publication against the partnerships then in force
        inputs.basis["reservations"] = [[r.partnership, r.opening, sorted(r.programs), r.seats]
                                        for r in problem.reservations]
    return problem, internship_params(run_mode, params, built.locks), unscorable


# Reports a phase's progress as (parts done, parts in all); may raise to abort the run.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CandidateInputs:
    """What every province's candidate task reads: shipped to the workers once (map_shared)."""

    openings: list[OpeningProfile]
    programs: dict[str, ProgramProfile]
    k: int
    context: ScoringContext
    space: TextSpace | None
    opening_index: OpeningIndex | None = None  # the openings indexed in ``space``, built once for all tasks


def province_candidates(shared: CandidateInputs, students: list[StudentProfile]) -> Candidates:
    """One task: the top-k openings of one province's students (top level, so workers can run it)."""
    ctx = shared.context
    return top_k_openings_per_student(students, shared.openings, shared.programs, k=shared.k, model=ctx.model,
                                      history=ctx.history, cooperation=ctx.cooperation, text_space=shared.space,
                                      opening_index=shared.opening_index)


def scope_candidates(inputs: InternshipInputs, k: int, executor: Executor,
                     progress: Progress | None = None) -> Candidates:
    """The candidates of every student of the scope, a province per task (progress moves as
    provinces finish)."""
    provinces: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(inputs.students):
        provinces[s.province].append(i)
    # Largest first, so the long tasks start early; the merge makes the order irrelevant to the result.
    groups = sorted(provinces.values(), key=lambda members: (-len(members), members[0]))
    corpus = scoring_corpus(inputs.students, inputs.openings, inputs.programs)
    space = text_space_of(corpus) if corpus else None
    shared = CandidateInputs(inputs.openings, inputs.programs, k, inputs.context, space,
                             index_openings(inputs.openings, space) if space is not None else None)
    found = executor.map_shared(province_candidates, shared,
                                [[inputs.students[i] for i in members] for members in groups], progress)
    parts = [(np.asarray(members, dtype=np.int64), c) for members, c in zip(groups, found, strict=True)]
    return merge_candidates(parts, [s.id for s in inputs.students])


# Fitted text spaces by the digest of their corpus: a worker running the same scope again (a
# what-if, a supplementary round) does not refit.  A fit is a pure function of the texts and
# their counts, so a cached space is the one a fit would give.
_TEXT_SPACES: OrderedDict[str, TextSpace] = OrderedDict()
_TEXT_SPACES_KEPT = 4
_text_spaces_lock = threading.Lock()


def text_space_of(corpus: Sequence[str]) -> TextSpace:
    """``TextSpace.fit(corpus)``, from the cache when this multiset of texts was fitted before."""
    h = hashlib.sha256()
    for text in sorted(corpus):
        h.update(text.encode())
        h.update(b"\x00")
    key = h.hexdigest()
    with _text_spaces_lock:
        if key in _TEXT_SPACES:
            _TEXT_SPACES.move_to_end(key)
            return _TEXT_SPACES[key]
    space = TextSpace.fit(corpus)
    with _text_spaces_lock:
        _TEXT_SPACES[key] = space
        while len(_TEXT_SPACES) > _TEXT_SPACES_KEPT:
            _TEXT_SPACES.popitem(last=False)
    return space


def internship_params(run_mode: RunMode, params: RunParameters,
                      locks: tuple[tuple[str, str], ...]) -> InternshipParams:
    return InternshipParams(
        mode=Mode(run_mode.value), proposer=Proposer(params.proposer), time_limit_s=params.time_limit_s,
        seed=params.seed, college_floor=params.college_floor, program_floor=params.program_floor,
        quotas=tuple(Quota(str(q.college_id), str(q.enterprise_id), q.max_students) for q in params.quotas),
        default_quota=params.default_quota, locks=locks, fairness=params.fairness,
    )


def lecturer_instance(inputs: LecturerInputs, params: RunParameters) -> tuple[LecturerProblem, LecturerParams]:
    ctx = inputs.context
    triples: list[tuple[str, str, float]] = []
    for need in inputs.needs:
        matches = score_lecturers_for_course(need, inputs.lecturers, model=ctx.model, cooperation=ctx.cooperation)
        if isinstance(matches, Unscorable):
            continue
        triples += [(m.id, need.id, m.score) for m in matches.scored[: params.top_k]]
    problem = lecturer_problem(inputs.lecturers, inputs.needs, sorted(triples))
    return problem, LecturerParams(time_limit_s=params.time_limit_s, seed=params.seed,
                                   target_share=params.target_share)


def input_digest(problem: InternshipProblem | LecturerProblem, solver_params: Any) -> str:
    """SHA-256 over every array and id of the problem and the solver parameters."""
    h = hashlib.sha256()
    for name in sorted(problem.__dataclass_fields__):
        value = getattr(problem, name)
        if name == "reservations":
            if not value:
                continue  # the digests of problems without reservations are what they always were
            value = [[r.partnership, r.opening, sorted(r.programs), r.seats] for r in value]
        h.update(name.encode())
        if isinstance(value, np.ndarray):
            h.update(np.ascontiguousarray(value).tobytes())
        else:
            h.update(json.dumps(value, default=sorted, ensure_ascii=False).encode())
    h.update(repr(solver_params).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------- solve results → rows


def _placed(violations: list[str], assigned_pair: np.ndarray, subject_ids: Sequence[str],
            target_ids: Sequence[str], pair_target: np.ndarray, pair_score: np.ndarray) -> list[tuple[str, str, float]]:
    """(subject, target, score) of every placement, once the independent checker found nothing."""
    if violations:
        raise RuntimeError("independent check failed: " + "; ".join(violations[:5]))
    placed = np.flatnonzero(assigned_pair >= 0)
    pairs = assigned_pair[placed]
    return [(subject_ids[s], target_ids[t], float(v)) for s, t, v in
            zip(placed.tolist(), pair_target[pairs].tolist(), pair_score[pairs].tolist(), strict=True)]


@dataclass(frozen=True)
class ScopeFacts:
    """What the check and the KPIs need of the scope's inputs once the problem is built: the
    inputs themselves (every student's profile) are let go before the solve."""

    college_of: dict[str, str]  # student id → college id
    seats: np.ndarray  # the seats each opening of the scope offers

    @classmethod
    def of(cls, inputs: InternshipInputs) -> ScopeFacts:
        return cls({s.id: s.college_id for s in inputs.students},
                   np.array([o.seats for o in inputs.openings], dtype=np.int64))


def internship_outcome(problem: InternshipProblem, params: InternshipParams, result: InternshipResult,
                       unscorable: Sequence[dict[str, Any]], inputs: InternshipInputs, facts: ScopeFacts,
                       digest: str) -> Solved:
    violations = check_internships(problem, params, result.assigned_pair,
                                   check_floors_and_stability=result.status in (Status.OPTIMAL, Status.FEASIBLE))
    placements = _placed(violations, result.assigned_pair, problem.student_ids, problem.opening_ids,
                         problem.pair_opening, problem.pair_score)
    college_of = facts.college_of
    unplaced = [{"id": u.id, "college_id": u.group, "reasons": [r.value for r in u.reasons],
                 **({"partnerships": list(u.partnerships)} if u.partnerships else {})} for u in result.unplaced]
    unplaced += [{**u, "college_id": college_of.get(u["id"], "")} for u in unscorable]
    # The seats the scope offers (a stable run solved with the caps turned into seats).
    seats = facts.seats
    return Solved(
        kind=RunKind.INTERNSHIP, status=result.status,
        objective=float(result.objective) if result.status in (Status.OPTIMAL, Status.FEASIBLE) else None,
        bound=float(result.bound), gap=None if math.isnan(result.gap) else float(result.gap),
        placements=placements, unplaced=sorted(unplaced, key=lambda u: str(u["id"])),
        kpis=run_kpis(internship_kpis(problem, result.assigned_pair, seats)),
        input_digest=digest,
        conflicts=result.conflicts, carried=dict(inputs.carried), basis=dict(inputs.basis),
    )


def run_kpis(figures: dict[str, Any]) -> dict[str, Any]:
    """The run's stored KPIs: the figures of ``matching.allocation.kpis`` with integer ids, in id order."""
    out: dict[str, Any] = {"totals": figures["totals"]}
    for table, key in (("colleges", "college_id"), ("enterprises", "enterprise_id"), ("programs", "program_id")):
        out[table] = sorted(({**row, key: int(row[key])} for row in figures[table]), key=lambda row: row[key])
    return {"colleges": out["colleges"], "enterprises": out["enterprises"], "programs": out["programs"],
            "totals": out["totals"]}


def lecturer_outcome(problem: LecturerProblem, params: LecturerParams, result: LecturerResult,
                     inputs: LecturerInputs, digest: str) -> Solved:
    placements = _placed(check_lecturers(problem, params, result.assigned_pair), result.assigned_pair,
                         problem.need_ids, problem.lecturer_ids, problem.pair_lecturer, problem.pair_score)
    figures = lecturer_kpis(problem, result.assigned_pair, result.target_hours, result.taught_hours,
                                 result.shortfall_hours, params.target_share)
    if inputs.commitments:
        figures["totals"] = {**figures["totals"], **partnership_hours(problem, result.assigned_pair,
                                                                      inputs.commitments, params.target_share)}
    return Solved(
        kind=RunKind.LECTURER, status=result.status,
        objective=float(result.objective) if result.status in (Status.OPTIMAL, Status.FEASIBLE) else None,
        bound=float(result.bound), gap=None if math.isnan(result.gap) else float(result.gap),
        placements=placements,
        unplaced=[{"id": u.id, "college_id": u.group, "reasons": [r.value for r in u.reasons]}
                  for u in result.unplaced],
        kpis=run_kpis(figures), input_digest=digest, conflicts=result.conflicts,
        basis=dict(inputs.basis),
    )


# --------------------------------------------------------------------------- job types

# Runs a solve: (problem, solver parameters) → result.  The worker passes one that runs it in a
# child process it can terminate on cancel; tests and the CLI pass one that runs it inline.
Solver = Callable[[Any, Any], Any]


class RunJob(Protocol):
    """The pure phases of one run kind, between ``load`` (a classmethod taking a Session) and
    :func:`store`.  The worker times each phase and checks for cancellation between them."""

    kind: ClassVar[RunKind]

    def candidates(self, executor: Executor | None = None, progress: Progress | None = None) -> None: ...

    def solve(self, solver: Solver) -> None: ...

    def input_digest(self) -> str: ...

    def check(self, digest: str) -> Solved: ...

    def instance(self) -> tuple[Any, Any]:
        """The solver problem and parameters (after ``candidates``)."""
        ...

    def release(self) -> None:
        """Let the problem and the inputs go (once a solver child has its own copy of the job)."""
        ...


@dataclass
class InternshipJob:
    kind: ClassVar[RunKind] = RunKind.INTERNSHIP
    inputs: InternshipInputs
    mode: RunMode
    params: RunParameters
    problem: InternshipProblem | None = None
    solver_params: InternshipParams | None = None
    unscorable: list[dict[str, Any]] = field(default_factory=list)
    result: InternshipResult | None = None
    facts: ScopeFacts | None = None

    @classmethod
    def load(cls, session: Session, run: AllocationRun, *, staff_share: float, post_share: float) -> InternshipJob:
        inputs = load_internship_inputs(session, run, staff_share=staff_share, post_share=post_share)
        return cls(inputs, run.mode, RunParameters.model_validate(run.parameters))

    @staticmethod
    def solve_instance(problem: InternshipProblem, params: InternshipParams, executor: str,
                       ray_address: str | None = None, progress: Progress | None = None) -> InternshipResult:
        """Top level (a child process runs it): the solve with the named executor for partitions,
        reporting progress per component."""
        return solve_internships(problem, params, make_executor(executor, ray_address=ray_address), progress)

    def candidates(self, executor: Executor | None = None, progress: Progress | None = None) -> None:
        self.problem, self.solver_params, self.unscorable = internship_instance(self.inputs, self.mode, self.params,
                                                                                executor, progress)
        # The profiles are the largest thing a run holds (a national scope: gigabytes); the solve
        # and the check need only the problem and these facts, so the profiles go now.
        self.facts = ScopeFacts.of(self.inputs)
        self.inputs = replace(self.inputs, students=[], openings=[], programs={})

    def instance(self) -> tuple[InternshipProblem, InternshipParams]:
        assert self.problem is not None and self.solver_params is not None, "candidates first"
        return self.problem, self.solver_params

    def solve(self, solver: Solver) -> None:
        self.result = solver(*self.instance())

    def input_digest(self) -> str:
        return input_digest(*self.instance())

    def check(self, digest: str) -> Solved:
        assert self.result is not None, "solve first"
        problem, params = self.instance()
        assert self.facts is not None, "candidates first"
        return internship_outcome(problem, params, self.result, self.unscorable, self.inputs, self.facts, digest)

    def release(self) -> None:
        # The profiles went after the candidates; what is left is the problem and its facts.
        self.problem = self.result = self.facts = None


@dataclass
class LecturerJob:
    kind: ClassVar[RunKind] = RunKind.LECTURER
    inputs: LecturerInputs
    params: RunParameters
    problem: LecturerProblem | None = None
    solver_params: LecturerParams | None = None
    result: LecturerResult | None = None

    @classmethod
    def load(cls, session: Session, run: AllocationRun, *, staff_share: float, post_share: float) -> LecturerJob:
        return cls(load_lecturer_inputs(session, run), RunParameters.model_validate(run.parameters))

    @staticmethod
    def solve_instance(problem: LecturerProblem, params: LecturerParams, executor: str,
                       ray_address: str | None = None, progress: Progress | None = None) -> LecturerResult:
        return solve_lecturers(problem, params)

    def candidates(self, executor: Executor | None = None, progress: Progress | None = None) -> None:
        self.problem, self.solver_params = lecturer_instance(self.inputs, self.params)

    def instance(self) -> tuple[LecturerProblem, LecturerParams]:
        assert self.problem is not None and self.solver_params is not None, "candidates first"
        return self.problem, self.solver_params

    def solve(self, solver: Solver) -> None:
        self.result = solver(*self.instance())

    def input_digest(self) -> str:
        return input_digest(*self.instance())

    def check(self, digest: str) -> Solved:
        assert self.result is not None, "solve first"
        problem, params = self.instance()
        return lecturer_outcome(problem, params, self.result, self.inputs, digest)

    def release(self) -> None:
        self.problem = self.result = None


JOB_TYPES: dict[RunKind, type[InternshipJob] | type[LecturerJob]] = {
    RunKind.INTERNSHIP: InternshipJob, RunKind.LECTURER: LecturerJob}


def load_job(session: Session, run: AllocationRun, *, staff_share: float, post_share: float) -> RunJob:
    """The job of ``run``'s kind with its inputs loaded (in the caller's transaction)."""
    return JOB_TYPES[run.kind].load(session, run, staff_share=staff_share, post_share=post_share)


def solve_instance(kind: RunKind, problem: Any, params: Any, executor: str, ray_address: str | None = None,
                   progress: Progress | None = None) -> Any:
    """Solve a problem of ``kind`` (top level, so a child process can run it)."""
    return JOB_TYPES[kind].solve_instance(problem, params, executor, ray_address, progress)


class SolveReport(Protocol):
    """What a solve-and-check task tells its caller: progress per component, then that the solve
    is done and the check begins."""

    def __call__(self, done: int, total: int) -> None: ...

    def checking(self) -> None: ...


def solve_and_check(run_job: RunJob, executor: str, ray_address: str | None, report: SolveReport) -> Solved:
    """The solve and the run's own check as one task (top level: the worker's solver child runs
    it), so the worker need not hold the problem while it is solved.

    The input digest needs the problem only: it is hashed in a thread meanwhile.  The solvers let
    go of the GIL while they work (OR-Tools' flow and CP-SAT), so on a second core it costs the run
    nothing (0.13 s of the check at 100k students)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="input-digest") as side:
        digest = side.submit(run_job.input_digest)
        run_job.solve(lambda problem, params: solve_instance(run_job.kind, problem, params, executor, ray_address,
                                                             report))
        report.checking()
        return run_job.check(digest.result())


# --------------------------------------------------------------------------- store


def placements_digest(kind: RunKind, placements: Sequence[tuple[str, str, float]]) -> str:
    """SHA-256 of the run's ``placements.csv`` as ``chanjiao solve`` writes it."""
    if kind == RunKind.INTERNSHIP:
        text = placements_csv(INTERNSHIP_PLACEMENTS_HEADER, placements)
    else:  # stored as (course need, lecturer); the file lists the lecturer first
        text = placements_csv(LECTURER_PLACEMENTS_HEADER, ((b, a, v) for a, b, v in placements))
    return hashlib.sha256(text.encode()).hexdigest()


def _proposal_rows(run: AllocationRun, solved: Solved) -> Iterator[dict[str, Any]]:
    """The run's new proposals as rows, made one at a time as the store writes them."""
    for a, b, score in solved.placements:
        if solved.kind == RunKind.INTERNSHIP:
            if (a, b) in solved.carried:
                continue
            yield {"run_id": run.id, "kind": RunKind.INTERNSHIP.value, "student_id": int(a), "opening_id": int(b),
                   "term": run.term, "score": min(1.0, max(0.0, score)), "status": PlacementStatus.PROPOSED.value,
                   "locked": False}
        else:
            yield {"run_id": run.id, "kind": RunKind.LECTURER.value, "course_need_id": int(a), "lecturer_id": int(b),
                   "term": run.term, "score": min(1.0, max(0.0, score)), "status": PlacementStatus.PROPOSED.value,
                   "locked": False}


def store(session: Session, run: AllocationRun, solved: Solved, phase_times: dict[str, float],
          wall_time_s: float) -> None:
    """Write the run's new proposals and KPIs in the caller's one transaction, and finish it.

    A live placement carried over from an earlier round is part of the result (its KPIs, its
    digest) but stays the earlier round's row: a student never gets a second row for one seat.
    """
    repo = RunRepository(session)
    values: dict[str, Any] = {}
    if solved.status in (Status.OPTIMAL, Status.FEASIBLE):
        repo.insert_placements(_proposal_rows(run, solved))
        target = RunStatus.SUCCEEDED
    elif solved.status == Status.INFEASIBLE:
        target = RunStatus.INFEASIBLE
        values["error"] = "constraints in conflict: " + "; ".join(solved.conflicts)
    else:
        target = RunStatus.NO_SOLUTION_IN_TIME
    Ledger(session, None).finish(
        run, target, objective=solved.objective, bound=solved.bound, gap=solved.gap, kpis=solved.kpis,
        unplaced=solved.unplaced, input_digest=solved.input_digest,
        placements_digest=placements_digest(solved.kind, solved.placements), versions=versions(),
        phase_times=phase_times, wall_time_s=wall_time_s, phase="store", progress=100, basis=solved.basis,
        **values)
