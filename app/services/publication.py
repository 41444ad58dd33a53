"""Before a run is published: is its result still valid on today's data?

The facts are read from the store (``LedgerRepository``) and judged by the pure checks of
``matching.allocation.recheck``; answers recorded in earlier rounds since the solve are compared
with the run's basis (the live placements it was solved around).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from app.db.models import LIVE_PLACEMENT_STATUSES, AllocationRun, RunKind
from app.repositories.ledger import LedgerRepository
from app.repositories.partnerships import PartnershipRepository
from app.run_schemas import RunParameters, RunScope
from app.services.alliance_scope import resolve_scope
from matching.allocation.problem import Reservation
from matching.allocation.recheck import (
    CourseNeedNow,
    Finding,
    InternshipScope,
    LecturerNow,
    OpeningNow,
    StudentNow,
    recheck_internships,
    recheck_lecturers,
)


def publication_findings(session: Session, run: AllocationRun, parent: AllocationRun | None, *,
                         lock_students: bool = False) -> list[Finding]:
    repo = LedgerRepository(session)
    scope = resolve_scope(session, RunScope.model_validate(run.scope))
    params = RunParameters.model_validate(run.parameters)
    frame = InternshipScope(term=run.term, province=scope.province,
                            college_ids=frozenset(str(c) for c in scope.college_ids),
                            enterprise_ids=frozenset(str(e) for e in scope.enterprise_ids),
                            same_category=not params.allow_cross_category)
    findings = [Finding("stale", reason) for reason in run.stale_reasons]
    chain = repo.chain_ids(run)[1:]
    findings += _answers_since_the_solve(repo, run, chain)
    proposals = repo.proposals(run.id)
    if run.kind == RunKind.INTERNSHIP:
        findings += _internship_findings(repo, run, params, frame, proposals, parent, chain, lock_students)
    else:
        findings += _lecturer_findings(repo, run, frame, proposals)
    return findings


def _answers_since_the_solve(repo: LedgerRepository, run: AllocationRun, chain: list[int]) -> list[Finding]:
    basis = {int(i) for i in (run.basis or {}).get("locked_placement_ids", [])}
    accepted_since = sorted(repo.live_ids(chain) - basis)
    if not accepted_since:
        return []
    shown = ", ".join(str(i) for i in accepted_since[:10])
    return [Finding("answered_since_solve",
                    f"{len(accepted_since)} placements of earlier rounds were accepted after this round was solved "
                    f"({shown}); run the round again", {"count": len(accepted_since), "placements": shown})]


def _internship_findings(repo: LedgerRepository, run: AllocationRun, params: RunParameters, frame: InternshipScope,
                         proposals: list[Any], parent: AllocationRun | None, chain: list[int],
                         lock_students: bool = False) -> list[Finding]:
    pairs = [(int(p.student_id), int(p.opening_id)) for p in proposals]
    basis = run.basis or {}
    staff_share = float(params.max_intern_share_of_staff or basis.get("staff_share") or 0.10)
    post_share = float(params.max_intern_share_of_post or basis.get("post_share") or 0.20)
    openings: dict[str, OpeningNow] = {}
    caps: dict[str, int] = {}
    for row in repo.openings_now(o for _, o in pairs):
        oid, title, term, province, enterprise, seats, filled, post, majors, _name, staff = tuple(row)
        usable = min(int(params.seat_overrides.get(str(oid), seats)), int(seats))
        if post:
            usable = min(usable, math.floor(post_share * post))
        openings[str(oid)] = OpeningNow(
            id=str(oid), label=f"opening {oid} «{title}»", term=term, province=province,
            enterprise_id=str(enterprise), seats=max(0, usable), live=int(filled),
            categories=frozenset(code[:2] for code in (majors or []) if len(code) >= 2))
        caps[str(enterprise)] = math.floor(staff_share * int(staff))
    students = {str(r[0]): StudentNow(id=str(r[0]), label=f"{r[1]} (id {r[0]})", college_id=str(r[3]),
                                      province=str(r[4]), category=str(r[5]))
                for r in repo.students_now((s for s, _ in pairs), share_lock=lock_students)}
    elsewhere = {str(r[0]): f"{r[1]} of run {r[2]} ({r[3].value})"
                 for r in repo.current_elsewhere(run.id, run.term, sorted({s for s, _ in pairs}),
                                                 parent.id if parent else None)}
    live_by_enterprise = {str(e): n for e, n in
                          repo.enterprise_live_counts((int(e) for e in caps), run.term).items()}
    refused = {(str(s), str(o)) for s, o in repo.declined_pairs(chain)}
    reservations, programs, live_programs = _reservations_now(repo.session, run, pairs)
    return recheck_internships([(str(s), str(o)) for s, o in pairs], openings, students, frame,
                               enterprise_cap=caps, enterprise_live=live_by_enterprise,
                               current_elsewhere=elsewhere, refused_pairs=refused, reservations=reservations,
                               student_programs=programs, live_programs=live_programs)


def _reservations_now(session: Session, run: AllocationRun, pairs: list[tuple[int, int]],
                      ) -> tuple[list[Reservation], dict[str, str], dict[str, list[str]]]:
    """The solve's reservations whose partnerships are still in force, the proposed students'
    programs today, and the programs of the students holding a seat at those openings."""
    stored = (run.basis or {}).get("reservations") or []
    if not stored:
        return [], {}, {}
    repo = PartnershipRepository(session)
    named = {int(part) for name, *_ in stored for part in str(name).split("+") if part.isdigit()}
    in_force = {str(i) for i in repo.in_force_ids(named)}
    reservations = [Reservation(str(name), str(opening), frozenset(str(p) for p in programs), int(seats))
                    for name, opening, programs, seats in stored
                    if any(part in in_force for part in str(name).split("+"))]
    programs = {str(s): str(p) for s, p in repo.student_programs(s for s, _ in pairs).items()}
    live: dict[str, list[str]] = {}
    for opening, program in repo.live_programs_at((int(r.opening) for r in reservations), run.term,
                                                  LIVE_PLACEMENT_STATUSES):
        live.setdefault(str(opening), []).append(str(program))
    return reservations, programs, live


def _lecturer_findings(repo: LedgerRepository, run: AllocationRun, frame: InternshipScope,
                       proposals: list[Any]) -> list[Finding]:
    pairs = [(int(p.course_need_id), int(p.lecturer_id)) for p in proposals]
    live = repo.live_hours_of((lec for _, lec in pairs), run.term)
    lecturers = {str(r[0]): LecturerNow(id=str(r[0]), label=f"{r[1]} (id {r[0]})", max_weekly_hours=int(r[2]),
                                        live_hours=live.get(int(r[0]), 0), enterprise_id=str(r[3]),
                                        province=str(r[4]))
                 for r in repo.lecturers_now(lec for _, lec in pairs)}
    needs = {str(r[0]): CourseNeedNow(id=str(r[0]), label=f"course need {r[0]} «{r[1]}»", term=r[2],
                                      weekly_hours=int(r[3]), college_id=str(r[4]), province=str(r[5]))
             for r in repo.needs_now(n for n, _ in pairs)}
    return recheck_lecturers([(str(n), str(lec)) for n, lec in pairs], lecturers, needs, frame)


__all__ = ["publication_findings"]
