"""What partnerships delivered, per term and as a trend: per partnership and per alliance.

Per term: seats committed against seats filled (live placements of the partner programs' students
at the enterprise), acceptance (live of live + declined) and completion (completed of live), weekly
lecturer hours committed against taught by the enterprise's lecturers in the partner programs'
professional courses, and the share of those courses' hours that enterprise lecturers teach against
the 40 % target; students placed by program.  An alliance adds its partnerships up per term and
reports the target per industry college (产业学院) across its programs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from app.db.models import LIVE_PLACEMENT_STATUSES, Partnership, PartnershipForm
from app.repositories.partnerships import PartnershipRepository
from app.security import Principal
from app.services.partnerships import AllianceService, PartnershipService

TARGET_SHARE = 0.4  # 职业教育产教融合: enterprise lecturers carry ≥ 40 % of professional course hours
REPORT_COLUMNS = ("term", "seats_committed", "seats_filled", "offers_answered", "accepted", "declined",
                  "completed", "acceptance_rate", "completion_rate", "lecturer_hours_committed",
                  "lecturer_hours_taught", "professional_hours", "enterprise_hours", "enterprise_share",
                  "meets_target")


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _term_figures(repo: PartnershipRepository, p: Partnership) -> dict[str, dict[str, Any]]:
    programs = repo.partner_program_ids(p)
    terms: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "seats_committed": 0, "seats_filled": 0, "accepted": 0, "declined": 0, "completed": 0,
        "lecturer_hours_committed": 0, "lecturer_hours_taught": 0, "professional_hours": 0,
        "enterprise_hours": 0, "placed_by_program": Counter()})
    for t in p.terms:
        terms[t.term]["seats_committed"] = t.reserved_seats
        terms[t.term]["lecturer_hours_committed"] = t.lecturer_hours
    for term, program, status in repo.placements_at(p.enterprise_id, programs, None):
        row = terms[term]
        if status in LIVE_PLACEMENT_STATUSES:
            row["seats_filled"] += 1
            row["accepted"] += 1
            row["placed_by_program"][program] += 1
            if status == "completed":
                row["completed"] += 1
        elif status == "declined":
            row["declined"] += 1
    for term, _program, hours, partner in repo.lecturer_hours(p.enterprise_id, programs, LIVE_PLACEMENT_STATUSES):
        terms[term]["enterprise_hours"] += hours
        if partner:
            terms[term]["lecturer_hours_taught"] += hours
    for term, _program, hours in repo.professional_hours(programs):
        terms[term]["professional_hours"] += hours
    return terms


def _finish(term: str, row: dict[str, Any]) -> dict[str, Any]:
    share = _ratio(row["enterprise_hours"], row["professional_hours"])
    answered = row["accepted"] + row["declined"]
    return {"term": term, **{k: v for k, v in row.items() if k != "placed_by_program"},
            "offers_answered": answered, "acceptance_rate": _ratio(row["accepted"], answered),
            "completion_rate": _ratio(row["completed"], row["accepted"]), "enterprise_share": share,
            "target_share": TARGET_SHARE, "meets_target": None if share is None else share >= TARGET_SHARE,
            "placed_by_program": {str(k): v for k, v in sorted(row["placed_by_program"].items())}}


def partnership_report(session: Session, principal: Principal, partnership_id: int) -> dict[str, Any]:
    p = PartnershipService(session, principal).get(partnership_id)
    repo = PartnershipRepository(session)
    terms = _term_figures(repo, p)
    return {"partnership_id": p.id, "name": p.name, "status": p.status.value, "forms": list(p.forms),
            "programs": {str(k): v for k, v in repo.program_names(repo.partner_program_ids(p)).items()},
            "terms": [_finish(t, terms[t]) for t in sorted(terms)]}


def _add(total: dict[str, Any], row: dict[str, Any]) -> None:
    for key, value in row.items():
        if key == "placed_by_program":
            total[key].update(value)
        else:
            total[key] += value


def alliance_report(session: Session, principal: Principal, alliance_id: int) -> dict[str, Any]:
    service = AllianceService(session, principal)
    alliance = service.get(alliance_id)
    repo = PartnershipRepository(session)
    totals: dict[str, dict[str, Any]] = {}
    partnerships, industry_colleges = [], []
    for p in service.partnerships(alliance_id):
        terms = _term_figures(repo, p)
        for term, row in terms.items():
            total = totals.setdefault(term, {**{k: 0 for k in row if k != "placed_by_program"},
                                             "placed_by_program": Counter()})
            _add(total, row)
        finished = [_finish(t, terms[t]) for t in sorted(terms)]
        partnerships.append({"partnership_id": p.id, "name": p.name, "status": p.status.value, "terms": finished})
        if PartnershipForm.INDUSTRY_COLLEGE.value in p.forms:
            industry_colleges.append({
                "partnership_id": p.id, "name": p.name,
                "programs": {str(k): v for k, v in repo.program_names(repo.partner_program_ids(p)).items()},
                "terms": [{k: f[k] for k in ("term", "professional_hours", "enterprise_hours", "enterprise_share",
                                             "target_share", "meets_target")} for f in finished]})
    return {"alliance_id": alliance.id, "name": alliance.name,
            "terms": [_finish(t, totals[t]) for t in sorted(totals)],
            "partnerships": partnerships, "industry_colleges": industry_colleges}


def report_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    for row in report["terms"]:
        yield [row[c] for c in REPORT_COLUMNS]
