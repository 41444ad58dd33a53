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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import AllocationRun, PlacementStatus, RunKind, RunMode, RunStatus
from app.repositories.runs import RunRepository
from app.run_schemas import RunParameters, RunScope
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
    internship_problem,
    lecturer_problem,
)
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


@dataclass
class LecturerInputs:
    lecturers: list[LecturerProfile]
    needs: list[CourseNeedProfile]
    context: ScoringContext


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
    if run.parent_run_id is not None and run.round > 1:
        _carry_over_previous_round(repo, run.parent_run_id, inputs)
    return inputs


def _with_seats(profile: OpeningProfile, seats: int) -> OpeningProfile:
    return replace(profile, seats=max(0, seats))


def _carry_over_previous_round(repo: RunRepository, parent_id: int, inputs: InternshipInputs) -> None:
    """Accepted placements stay locked; declined pairs are not offered again; pending proposals
    are kept when nothing better exists (see KEEP_PROPOSAL_BONUS)."""
    for p in repo.placements_of(parent_id):
        pair = (str(p.student_id), str(p.opening_id))
        if p.status in (PlacementStatus.ACCEPTED, PlacementStatus.CONFIRMED, PlacementStatus.COMPLETED):
            inputs.locks.append(pair)
        elif p.status == PlacementStatus.DECLINED:
            inputs.forbidden.append(pair)
        elif p.status in (PlacementStatus.PUBLISHED, PlacementStatus.PROPOSED):
            inputs.keep.add(pair)


def load_lecturer_inputs(session: Session, run: AllocationRun) -> LecturerInputs:
    repo = RunRepository(session)
    scope = RunScope.model_validate(run.scope)
    params = RunParameters.model_validate(run.parameters)
    programs = repo.scope_programs(scope.term, scope.province, scope.college_ids)
    program_rows = {p.id: p for p in programs}
    needs = repo.course_needs_of_programs(list(program_rows), scope.term)
    lecturers = repo.scope_lecturers(scope.province, scope.enterprise_ids)
    return LecturerInputs(
        lecturers=[lecturer_profile(lec) for lec in lecturers],
        needs=[course_need_profile(n, program_rows[n.program_id].college_id, program_rows[n.program_id].college.city)
               for n in needs],
        context=scoring_context(session, Pairing.LECTURER_COURSE, params.weights),
    )


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
    allowed_categories = [_categories(o) for o in openings]
    forbidden = set(inputs.forbidden)
    triples: dict[tuple[str, str], float] = {}
    for s_i, o_i, score in zip(found.student_index.tolist(), found.opening_index.tolist(), found.score.tolist(),
                               strict=True):
        student, opening = students[s_i], openings[o_i]
        pair = (student.id, opening.id)
        if pair in forbidden:
            continue
        if not params.allow_cross_category and not _same_category(inputs.programs[student.program_id],
                                                                   allowed_categories[o_i]):
            continue
        triples[pair] = min(1.0, score + KEEP_PROPOSAL_BONUS) if pair in inputs.keep else score
    # A locked placement is kept even if it fell out of the top-k since.
    opening_by_id = {o.id: o for o in openings}
    student_ids = {s.id for s in students}
    for pair in inputs.locks:
        if pair[0] in student_ids and pair[1] in opening_by_id:
            triples.setdefault(pair, 0.0)
    caps = inputs.enterprise_caps
    if run_mode == RunMode.STABLE:
        # Deferred acceptance knows seats per opening only: the staff-share cap becomes seats.
        openings = apportion_caps(openings, caps)
        caps = {}
    problem = internship_problem(students, openings, [(s, o, v) for (s, o), v in sorted(triples.items())],
                                 enterprise_caps=caps)
    solver_params = InternshipParams(
        mode=Mode(run_mode.value), proposer=Proposer(params.proposer), time_limit_s=params.time_limit_s,
        seed=params.seed, college_floor=params.college_floor, program_floor=params.program_floor,
        quotas=tuple(Quota(str(q.college_id), str(q.enterprise_id), q.max_students) for q in params.quotas),
        default_quota=params.default_quota,
        locks=tuple(sorted(p for p in inputs.locks if p in triples)), fairness=params.fairness,
    )
    unscorable = [{"id": u.id, "reasons": ["no_candidates"], "detail": u.reason}
                  for u in found.unscorable_students]
    return problem, solver_params, unscorable


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


def internship_outcome(problem: InternshipProblem, params: InternshipParams, result: InternshipResult,
                       unscorable: Sequence[dict[str, Any]], inputs: InternshipInputs) -> Solved:
    violations = check_internships(problem, params, result.assigned_pair,
                                   check_floors_and_stability=result.status in (Status.OPTIMAL, Status.FEASIBLE))
    if violations:
        raise RuntimeError("independent check failed: " + "; ".join(violations[:5]))
    placed = np.flatnonzero(result.assigned_pair >= 0)
    pairs = result.assigned_pair[placed]
    placements = [(problem.student_ids[s], problem.opening_ids[o], float(v)) for s, o, v in
                  zip(placed.tolist(), problem.pair_opening[pairs].tolist(), problem.pair_score[pairs].tolist(),
                      strict=True)]
    college_of = {s.id: s.college_id for s in inputs.students}
    unplaced = [{"id": u.id, "college_id": u.group, "reasons": [r.value for r in u.reasons]} for u in result.unplaced]
    unplaced += [{**u, "college_id": college_of.get(u["id"], "")} for u in unscorable]
    return Solved(
        kind=RunKind.INTERNSHIP, status=result.status,
        objective=float(result.objective) if result.status in (Status.OPTIMAL, Status.FEASIBLE) else None,
        bound=float(result.bound), gap=None if math.isnan(result.gap) else float(result.gap),
        placements=placements, unplaced=sorted(unplaced, key=lambda u: str(u["id"])),
        kpis=internship_kpis(inputs, placements), input_digest=input_digest(problem, params),
        conflicts=result.conflicts,
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
    violations = check_lecturers(problem, params, result.assigned_pair)
    if violations:
        raise RuntimeError("independent check failed: " + "; ".join(violations[:5]))
    placed = np.flatnonzero(result.assigned_pair >= 0)
    pairs = result.assigned_pair[placed]
    placements = [(problem.need_ids[n], problem.lecturer_ids[lec], float(v)) for n, lec, v in
                  zip(placed.tolist(), problem.pair_lecturer[pairs].tolist(), problem.pair_score[pairs].tolist(),
                      strict=True)]
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
        input_digest=input_digest(problem, params), conflicts=result.conflicts,
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
    header = "student,opening,score" if kind == RunKind.INTERNSHIP else "lecturer,course_need,score"
    lines = [header] + [f"{a},{b},{float(v)!r}" if kind == RunKind.INTERNSHIP else f"{b},{a},{float(v)!r}"
                        for a, b, v in placements]
    return hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()


def store(session: Session, run: AllocationRun, solved: Solved, phase_times: dict[str, float],
          wall_time_s: float) -> None:
    """Write all placements and KPIs of a finished run in the caller's one transaction."""
    repo = RunRepository(session)
    if solved.status in (Status.OPTIMAL, Status.FEASIBLE):
        locked = set()
        if run.parent_run_id is not None and run.round > 1:
            locked = {(str(p.student_id), str(p.opening_id)) for p in repo.locked_placements(run.parent_run_id)}
        rows = []
        for a, b, score in solved.placements:
            if solved.kind == RunKind.INTERNSHIP:
                keep = (a, b) in locked
                rows.append({"run_id": run.id, "kind": RunKind.INTERNSHIP.value, "student_id": int(a),
                             "opening_id": int(b), "term": run.term, "score": min(1.0, max(0.0, score)),
                             "status": (PlacementStatus.ACCEPTED if keep else PlacementStatus.PROPOSED).value,
                             "locked": keep})
            else:
                rows.append({"run_id": run.id, "kind": RunKind.LECTURER.value, "course_need_id": int(a),
                             "lecturer_id": int(b), "term": run.term, "score": min(1.0, max(0.0, score)),
                             "status": PlacementStatus.PROPOSED.value, "locked": False})
        repo.insert_placements(rows)
        run.status = RunStatus.SUCCEEDED
    elif solved.status == Status.INFEASIBLE:
        run.status = RunStatus.INFEASIBLE
        run.error = "constraints in conflict: " + "; ".join(solved.conflicts)
    else:
        run.status = RunStatus.NO_SOLUTION_IN_TIME
    run.objective, run.bound, run.gap = solved.objective, solved.bound, solved.gap
    run.kpis = solved.kpis
    run.unplaced = solved.unplaced
    run.input_digest = solved.input_digest
    run.placements_digest = placements_digest(solved.kind, solved.placements)
    run.versions = versions()
    run.phase_times = phase_times
    run.wall_time_s = wall_time_s
    run.phase, run.progress = "store", 100
    run.lease_owner = None
    run.lease_expires_at = None
    run.finished_at = utcnow()
    session.flush()
