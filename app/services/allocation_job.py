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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

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
from app.instances import INTERNSHIP_PLACEMENTS_HEADER, LECTURER_PLACEMENTS_HEADER, placements_csv
from app.repositories.ledger import LedgerRepository
from app.repositories.runs import RunRepository
from app.run_schemas import RunParameters, RunScope
from app.services.ledger import Ledger
from app.services.scoring_context import ScoringContext, scoring_context
from app.translate import (
    course_need_profile,
    lecturer_profile,
    opening_profile,
    program_profile,
    student_profiles_from_rows,
)
from matching.allocation import (
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
)
from matching.allocation.problem import NOT_RANKED, UNLIMITED
from matching.domain import CourseNeedProfile, LecturerProfile, OpeningProfile, ProgramProfile, StudentProfile
from matching.scoring import Pairing, score_lecturers_for_course, top_k_openings_per_student
from matching.scoring.results import Unscorable

PHASES = ("load", "candidates", "solve", "check", "store")
PHASE_START = {"load": 0, "candidates": 10, "solve": 40, "check": 85, "store": 90}

# A still-pending proposal of the previous round keeps this much extra fit (one solver weight unit,
# 1/1000 of a perfect fit): among allocations of equal fit the one that changes fewest wins.
KEEP_PROPOSAL_BONUS = 0.001


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


@dataclass
class LecturerInputs:
    lecturers: list[LecturerProfile]
    needs: list[CourseNeedProfile]
    context: ScoringContext
    basis: dict[str, Any] = field(default_factory=dict)


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
    scope = RunScope.model_validate(run.scope)
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
        opening_profiles.append(_with_seats(profile, seats))
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
    return inputs


def _with_seats(profile: OpeningProfile, seats: int) -> OpeningProfile:
    return replace(profile, seats=max(0, seats))


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
    scope = RunScope.model_validate(run.scope)
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
    return inputs


# --------------------------------------------------------------------------- candidates


def internship_instance(inputs: InternshipInputs, run_mode: RunMode,
                        params: RunParameters) -> tuple[InternshipProblem, InternshipParams, list[dict[str, Any]]]:
    """Candidate openings per student (eligibility, then the top-k by fit) and the solver problem.

    Returns the problem, the solver parameters and the students left without any candidate (with
    the reason), which the solver never sees.
    """
    ctx = inputs.context
    found = top_k_openings_per_student(inputs.students, inputs.openings, inputs.programs, k=params.top_k,
                                       model=ctx.model, history=ctx.history, cooperation=ctx.cooperation)
    students, openings = inputs.students, inputs.openings
    caps = inputs.enterprise_caps
    if run_mode == RunMode.STABLE:
        # Deferred acceptance knows seats per opening only: the staff-share cap becomes seats.
        openings = apportion_caps(openings, caps)
        caps = {}
    pairs = CandidatePairs(students, openings, found.student_index, found.opening_index, found.score)
    pairs.drop(pairs.keys_of(inputs.forbidden))
    if not params.allow_cross_category:
        pairs.keep_only(pairs.same_category(inputs.programs))
    pairs.bump(pairs.keys_of(inputs.keep), KEEP_PROPOSAL_BONUS)
    # A locked placement is kept even if it fell out of the top-k since; so is a scheduler's pin.
    locks = pairs.add_missing([*inputs.locks, *((str(s), str(o)) for s, o in params.pinned)])
    problem = pairs.problem(caps)
    solver_params = InternshipParams(
        mode=Mode(run_mode.value), proposer=Proposer(params.proposer), time_limit_s=params.time_limit_s,
        seed=params.seed, college_floor=params.college_floor, program_floor=params.program_floor,
        quotas=tuple(Quota(str(q.college_id), str(q.enterprise_id), q.max_students) for q in params.quotas),
        default_quota=params.default_quota,
        locks=tuple(sorted(locks)), fairness=params.fairness,
    )
    unscorable = [{"id": u.id, "reasons": ["no_candidates"], "detail": u.reason}
                  for u in found.unscorable_students]
    return problem, solver_params, unscorable


class CandidatePairs:
    """Candidate (student, opening) pairs as arrays, filtered and turned into a solver problem
    without a Python loop per pair (a province-wide run has millions of pairs)."""

    def __init__(self, students: Sequence[StudentProfile], openings: Sequence[OpeningProfile],
                 student_index: np.ndarray, opening_index: np.ndarray, score: np.ndarray) -> None:
        self.students, self.openings = students, openings
        self.n_openings = max(len(openings), 1)
        self.student = np.asarray(student_index, dtype=np.int64)
        self.opening = np.asarray(opening_index, dtype=np.int64)
        self.score = np.asarray(score, dtype=np.float64).copy()
        self._student_pos = {s.id: i for i, s in enumerate(students)}
        self._opening_pos = {o.id: j for j, o in enumerate(openings)}

    @property
    def keys(self) -> np.ndarray:
        return self.student * self.n_openings + self.opening

    def keys_of(self, pairs: Iterable[tuple[str, str]]) -> np.ndarray:
        found = [self._student_pos[s] * self.n_openings + self._opening_pos[o] for s, o in pairs
                 if s in self._student_pos and o in self._opening_pos]
        return np.asarray(sorted(set(found)), dtype=np.int64)

    def _select(self, mask: np.ndarray) -> None:
        self.student, self.opening, self.score = self.student[mask], self.opening[mask], self.score[mask]

    def drop(self, keys: np.ndarray) -> None:
        if keys.size:
            self._select(~np.isin(self.keys, keys))

    def keep_only(self, mask: np.ndarray) -> None:
        self._select(mask)

    def bump(self, keys: np.ndarray, bonus: float) -> None:
        if keys.size:
            hit = np.isin(self.keys, keys)
            self.score[hit] = np.minimum(1.0, self.score[hit] + bonus)

    def same_category(self, programs: dict[str, ProgramProfile]) -> np.ndarray:
        """Pairs allowed by the 专业大类 rule: the opening targets no major, or one of the
        student's 专业大类."""
        opening_categories = [_categories(o) for o in self.openings]
        codes = sorted({c for cats in opening_categories for c in cats}
                       | {programs[s.program_id].category_code for s in self.students})
        position = {c: i for i, c in enumerate(codes)}
        allowed = np.zeros((len(self.openings), max(len(codes), 1)), dtype=bool)
        for j, cats in enumerate(opening_categories):
            allowed[j, [position[c] for c in cats]] = True
        unrestricted = np.array([not cats for cats in opening_categories], dtype=bool)
        student_category = np.array([position[programs[s.program_id].category_code] for s in self.students],
                                    dtype=np.int64)
        if not self.student.size:
            return np.zeros(0, dtype=bool)
        return unrestricted[self.opening] | allowed[self.opening, student_category[self.student]]

    def add_missing(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Add these pairs (score 0) where absent; returns the ones that exist in the scope."""
        present = set(self.keys.tolist())
        known = []
        for s, o in pairs:
            if s not in self._student_pos or o not in self._opening_pos:
                continue
            known.append((s, o))
            key = self._student_pos[s] * self.n_openings + self._opening_pos[o]
            if key not in present:
                present.add(key)
                self.student = np.append(self.student, self._student_pos[s])
                self.opening = np.append(self.opening, self._opening_pos[o])
                self.score = np.append(self.score, 0.0)
        return known

    def problem(self, caps: dict[str, int]) -> InternshipProblem:
        """The solver problem: the same ids, codes and order ``app/instances.py`` reads back."""
        students, openings = self.students, self.openings
        colleges, college_code = np.unique(np.array([s.college_id for s in students], dtype=str),
                                           return_inverse=True)
        programs, program_code = np.unique(np.array([s.program_id for s in students], dtype=str),
                                           return_inverse=True)
        enterprises, enterprise_code = np.unique(np.array([o.enterprise_id for o in openings], dtype=str),
                                                 return_inverse=True)
        scopes, scope_code = np.unique(np.array([s.province for s in students] + [o.province for o in openings],
                                                dtype=str), return_inverse=True)
        enterprise_ids = tuple(str(e) for e in enterprises)
        cap = np.array([caps.get(e, UNLIMITED) for e in enterprise_ids], dtype=np.int64)
        ranked = [(i * self.n_openings + self._opening_pos[o], r) for i, s in enumerate(students)
                  for o, r in s.preferences.items() if o in self._opening_pos]
        rank_keys = np.array(sorted(ranked), dtype=np.int64).reshape(-1, 2)
        keys = self.keys
        where = np.searchsorted(rank_keys[:, 0], keys) if rank_keys.size else np.zeros(keys.size, dtype=np.int64)
        where = np.minimum(where, max(len(rank_keys) - 1, 0))
        hit = rank_keys[where, 0] == keys if rank_keys.size else np.zeros(keys.size, dtype=bool)
        student_rank = np.where(hit, rank_keys[where, 1] if rank_keys.size else 0, NOT_RANKED)
        n = len(students)
        return InternshipProblem(
            student_ids=tuple(s.id for s in students),
            student_college=college_code.astype(np.int32), student_program=program_code.astype(np.int32),
            student_scope=scope_code[:n].astype(np.int32),
            opening_ids=tuple(o.id for o in openings),
            opening_enterprise=enterprise_code.astype(np.int32),
            opening_seats=np.array([o.seats for o in openings], dtype=np.int64),
            opening_scope=scope_code[n:].astype(np.int32),
            enterprise_ids=enterprise_ids, enterprise_cap=cap,
            college_ids=tuple(str(c) for c in colleges), program_ids=tuple(str(p) for p in programs),
            scope_ids=tuple(str(p) for p in scopes),
            pair_student=self.student.astype(np.int32), pair_opening=self.opening.astype(np.int32),
            pair_score=self.score, pair_student_rank=student_rank.astype(np.int32),
            pair_opening_rank=np.zeros(keys.size, dtype=np.int32),
            student_ranks_given=any(s.preferences for s in students), opening_ranks_given=False,
        )


def apportion_caps(openings: Sequence[OpeningProfile], caps: dict[str, int]) -> list[OpeningProfile]:
    """Reduce the seats of each capped enterprise's openings so they sum to at most its cap,
    in proportion to their seats (largest remainders first, then opening order)."""
    by_enterprise: dict[str, list[int]] = defaultdict(list)
    for i, o in enumerate(openings):
        by_enterprise[o.enterprise_id].append(i)
    seats = [o.seats for o in openings]
    for enterprise, members in by_enterprise.items():
        cap, total = caps.get(enterprise), sum(seats[i] for i in members)
        if cap is None or total <= cap:
            continue
        shares = [(cap * seats[i] / total, i) for i in members]
        granted = {i: math.floor(share) for share, i in shares}
        left = cap - sum(granted.values())
        for _, i in sorted(shares, key=lambda si: (-(si[0] - math.floor(si[0])), si[1]))[:left]:
            granted[i] += 1
        for i in members:
            seats[i] = granted[i]
    return [_with_seats(o, n) for o, n in zip(openings, seats, strict=True)]


def _categories(opening: OpeningProfile) -> frozenset[str]:
    # An opening's 专业大类 are those of the majors it targets; without targets it states none.
    return frozenset(code[:2] for code in opening.eligible_major_codes if len(code) >= 2)


def _same_category(program: ProgramProfile, categories: frozenset[str]) -> bool:
    return not categories or program.category_code in categories


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


def internship_outcome(problem: InternshipProblem, params: InternshipParams, result: InternshipResult,
                       unscorable: Sequence[dict[str, Any]], inputs: InternshipInputs) -> Solved:
    violations = check_internships(problem, params, result.assigned_pair,
                                   check_floors_and_stability=result.status in (Status.OPTIMAL, Status.FEASIBLE))
    placements = _placed(violations, result.assigned_pair, problem.student_ids, problem.opening_ids,
                         problem.pair_opening, problem.pair_score)
    college_of = {s.id: s.college_id for s in inputs.students}
    unplaced = [{"id": u.id, "college_id": u.group, "reasons": [r.value for r in u.reasons]} for u in result.unplaced]
    unplaced += [{**u, "college_id": college_of.get(u["id"], "")} for u in unscorable]
    return Solved(
        kind=RunKind.INTERNSHIP, status=result.status,
        objective=float(result.objective) if result.status in (Status.OPTIMAL, Status.FEASIBLE) else None,
        bound=float(result.bound), gap=None if math.isnan(result.gap) else float(result.gap),
        placements=placements, unplaced=sorted(unplaced, key=lambda u: str(u["id"])),
        kpis=internship_kpis(inputs, placements), input_digest=input_digest(problem, params),
        conflicts=result.conflicts, carried=dict(inputs.carried), basis=dict(inputs.basis),
    )


def internship_kpis(inputs: InternshipInputs, placements: Sequence[tuple[str, str, float]]) -> dict[str, Any]:
    student = {s.id: s for s in inputs.students}
    opening = {o.id: o for o in inputs.openings}
    per_college: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for s in inputs.students:
        per_college[s.college_id]["students"] += 1
    per_enterprise: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for o in inputs.openings:
        per_enterprise[o.enterprise_id]["seats"] += o.seats
    per_program: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for s in inputs.students:
        per_program[s.program_id]["students"] += 1
    for sid, oid, score in placements:
        s, o = student[sid], opening[oid]
        college = per_college[s.college_id]
        college["placed"] += 1
        college["fit"] += score
        rank = s.preferences.get(oid)
        if rank is not None and rank <= 3:
            college["top3"] += 1
        per_enterprise[o.enterprise_id]["placed"] += 1
        per_program[s.program_id]["placed"] += 1
    colleges = [{"college_id": int(cid), "students": int(v["students"]), "placed": int(v["placed"]),
                 "placement_rate": _ratio(v["placed"], v["students"]), "mean_fit": _ratio(v["fit"], v["placed"]),
                 "top3_share": _ratio(v["top3"], v["placed"])} for cid, v in sorted(per_college.items(), key=_by_int)]
    enterprises = [{"enterprise_id": int(eid), "seats": int(v["seats"]), "placed": int(v["placed"]),
                    "fill_rate": _ratio(v["placed"], v["seats"])}
                   for eid, v in sorted(per_enterprise.items(), key=_by_int)]
    programs = [{"program_id": int(pid), "students": int(v["students"]), "placed": int(v["placed"]),
                 "placement_rate": _ratio(v["placed"], v["students"])}
                for pid, v in sorted(per_program.items(), key=_by_int)]
    rank_counts: dict[str, int] = defaultdict(int)
    for sid, oid, _ in placements:
        rank = student[sid].preferences.get(oid)
        rank_counts[str(rank) if rank is not None else "unranked"] += 1
    totals = {"students": len(inputs.students), "placed": len(placements),
              "placement_rate": _ratio(len(placements), len(inputs.students)),
              "seats": int(sum(o.seats for o in inputs.openings)),
              "mean_fit": _ratio(sum(p[2] for p in placements), len(placements)),
              "preference_rank_received": dict(sorted(rank_counts.items()))}
    return {"colleges": colleges, "enterprises": enterprises, "programs": programs, "totals": totals}


def lecturer_outcome(problem: LecturerProblem, params: LecturerParams, result: LecturerResult,
                     inputs: LecturerInputs) -> Solved:
    placements = _placed(check_lecturers(problem, params, result.assigned_pair), result.assigned_pair,
                         problem.need_ids, problem.lecturer_ids, problem.pair_lecturer, problem.pair_score)
    need_program = {n.id: n.program_id for n in inputs.needs}
    covered: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for n in inputs.needs:
        total[n.program_id] += 1
    for nid, _, _ in placements:
        covered[need_program[nid]] += 1
    programs = [{"program_id": int(pid), "course_needs": total[pid], "covered": covered[pid],
                 "coverage": _ratio(covered[pid], total[pid]),
                 "target_hours": result.target_hours.get(pid, 0), "enterprise_hours": result.taught_hours.get(pid, 0),
                 "shortfall_hours": result.shortfall_hours.get(pid, 0),
                 "enterprise_hours_share": _share_of_target(result, pid, params.target_share)}
                for pid in sorted(total, key=int)]
    totals = {"course_needs": len(inputs.needs), "covered": len(placements),
              "coverage": _ratio(len(placements), len(inputs.needs)), "target_share": params.target_share,
              "shortfall_hours": int(sum(result.shortfall_hours.values()))}
    return Solved(
        kind=RunKind.LECTURER, status=result.status,
        objective=float(result.objective) if result.status in (Status.OPTIMAL, Status.FEASIBLE) else None,
        bound=float(result.bound), gap=None if math.isnan(result.gap) else float(result.gap),
        placements=placements,
        unplaced=[{"id": u.id, "college_id": u.group, "reasons": [r.value for r in u.reasons]}
                  for u in result.unplaced],
        kpis={"colleges": [], "enterprises": [], "programs": programs, "totals": totals},
        input_digest=input_digest(problem, params), conflicts=result.conflicts, basis=dict(inputs.basis),
    )


def _share_of_target(result: LecturerResult, program: str, share: float) -> float | None:
    # taught/target × share = the enterprise-taught share of the program's professional hours.
    target = result.target_hours.get(program, 0)
    if not target or not share:
        return None
    return round(share * result.taught_hours.get(program, 0) / target, 4)


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def _by_int(item: tuple[str, Any]) -> int:
    return int(item[0])


# --------------------------------------------------------------------------- store


def placements_digest(kind: RunKind, placements: Sequence[tuple[str, str, float]]) -> str:
    """SHA-256 of the run's ``placements.csv`` as ``chanjiao solve`` writes it."""
    if kind == RunKind.INTERNSHIP:
        text = placements_csv(INTERNSHIP_PLACEMENTS_HEADER, placements)
    else:  # stored as (course need, lecturer); the file lists the lecturer first
        text = placements_csv(LECTURER_PLACEMENTS_HEADER, ((b, a, v) for a, b, v in placements))
    return hashlib.sha256(text.encode()).hexdigest()


def store(session: Session, run: AllocationRun, solved: Solved, phase_times: dict[str, float],
          wall_time_s: float) -> None:
    """Write the run's new proposals and KPIs in the caller's one transaction, and finish it.

    A live placement carried over from an earlier round is part of the result (its KPIs, its
    digest) but stays the earlier round's row: a student never gets a second row for one seat.
    """
    repo = RunRepository(session)
    values: dict[str, Any] = {}
    if solved.status in (Status.OPTIMAL, Status.FEASIBLE):
        rows = []
        for a, b, score in solved.placements:
            if solved.kind == RunKind.INTERNSHIP:
                if (a, b) in solved.carried:
                    continue
                rows.append({"run_id": run.id, "kind": RunKind.INTERNSHIP.value, "student_id": int(a),
                             "opening_id": int(b), "term": run.term, "score": min(1.0, max(0.0, score)),
                             "status": PlacementStatus.PROPOSED.value, "locked": False})
            else:
                rows.append({"run_id": run.id, "kind": RunKind.LECTURER.value, "course_need_id": int(a),
                             "lecturer_id": int(b), "term": run.term, "score": min(1.0, max(0.0, score)),
                             "status": PlacementStatus.PROPOSED.value, "locked": False})
        repo.insert_placements(rows)
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
