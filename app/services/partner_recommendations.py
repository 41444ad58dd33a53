"""Partners to seek: enterprises for a program, programs for an enterprise (``matching.partners``).

The opening fit is the scorer's own (``MatchService``: the program↔opening model, as on the
matches pages); the other evidence is read here and handed to the pure ranking as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.db.models import LIVE_PLACEMENT_STATUSES
from app.errors import NotFound, NotScorable
from app.repositories.entities import EnterpriseRepository, ProgramRepository
from app.repositories.partnerships import PartnershipRepository
from app.security import Principal
from app.services.matching import MatchService
from matching.partners import PartnerEvidence, PartnerScore, industry_fit, rank_partners, topic_overlap

_ALL = 100_000


@dataclass(frozen=True)
class Recommendations:
    subject: str
    ranked: list[tuple[PartnerScore, str]]  # score, label of the candidate
    unscorable: list[tuple[PartnerScore, str]]


def _as_dict(score: PartnerScore, label: str) -> dict[str, Any]:
    return {"candidate_id": int(score.candidate_id), "label": label, "points": score.points,
            "reason": score.reason,
            "contributions": [{"name": c.name, "value": c.value, "weight": c.weight, "points": c.points}
                              for c in score.contributions]}


def recommendations_dict(r: Recommendations) -> dict[str, Any]:
    return {"subject": r.subject, "items": [_as_dict(s, label) for s, label in r.ranked],
            "unscorable": [_as_dict(s, label) for s, label in r.unscorable]}


class PartnerRecommendationService:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.repo = PartnershipRepository(session)

    def enterprises_for_program(self, program_id: int, *, limit: int = 20) -> Recommendations:
        program = ProgramRepository(self.session).get(self.principal, program_id)
        if program is None:
            raise NotFound.of("program", program_id)
        fits: dict[int, float] = {}
        try:
            for item in MatchService(self.session, self.principal).openings_for_program(
                    program_id, limit=_ALL, explain=0).items:
                eid = int(item.extra["enterprise_id"])
                fits[eid] = max(fits.get(eid, 0.0), float(item.score))
        except NotScorable:
            pass  # no fit evidence: the other contributions still count, or too little data is said
        wanted = self.repo.course_topics([program_id]).get(program_id, []) + list(program.skills or [])
        topics = self.repo.lecturer_topics()
        seats = self.repo.seats_by_enterprise(program.term)
        history = self.repo.outcomes(college_id=program.college_id, live=LIVE_PLACEMENT_STATUSES)
        college = program.college
        categories = [program.major.category_name, program.major.class_name]
        evidence, labels = [], {}
        for e in self.repo.enterprises():
            accepted, completed = history.get((program.college_id, e.id), (0, 0))
            evidence.append(PartnerEvidence(
                str(e.id), opening_fit=fits.get(e.id),
                lecturer_fit=topic_overlap(topics[e.id], wanted) if e.id in topics else None,
                industry_fit=industry_fit(e.industry, categories), accepted=accepted, completed=completed,
                same_city=e.city == college.city and e.province == college.province,
                same_province=e.province == college.province, seats=seats.get(e.id, 0),
                demand=program.cohort_size))
            labels[str(e.id)] = e.name
        ranked, unscorable = rank_partners(evidence)
        return Recommendations(f"program:{program_id}", [(s, labels[s.candidate_id]) for s in ranked[:limit]],
                               [(s, labels[s.candidate_id]) for s in unscorable])

    def programs_for_enterprise(self, enterprise_id: int, *, limit: int = 20) -> Recommendations:
        enterprise = EnterpriseRepository(self.session).get(self.principal, enterprise_id)
        if enterprise is None:
            raise NotFound.of("enterprise", enterprise_id)
        fits: dict[int, float] = {}
        matches = MatchService(self.session, self.principal)
        for opening_id in self.repo.enterprise_openings(enterprise_id):
            try:
                programs, _students = matches.programs_for_opening(opening_id, limit=_ALL, explain=0)
            except NotScorable:
                continue
            for item in programs.items:
                fits[int(item.id)] = max(fits.get(int(item.id), 0.0), float(item.score))
        lecturer_topics = self.repo.lecturer_topics(enterprise_id).get(enterprise_id)
        course_topics = self.repo.course_topics()
        seats = self.repo.seats_by_enterprise(None).get(enterprise_id, 0)
        history = self.repo.outcomes(enterprise_id=enterprise_id, live=LIVE_PLACEMENT_STATUSES)
        evidence, labels = [], {}
        for program, college in self.repo.programs_with_colleges():
            accepted, completed = history.get((college.id, enterprise_id), (0, 0))
            wanted = course_topics.get(program.id, []) + list(program.skills or [])
            evidence.append(PartnerEvidence(
                str(program.id), opening_fit=fits.get(program.id),
                lecturer_fit=topic_overlap(lecturer_topics, wanted) if lecturer_topics is not None else None,
                industry_fit=industry_fit(enterprise.industry, [program.major.category_name,
                                                                program.major.class_name]),
                accepted=accepted, completed=completed,
                same_city=college.city == enterprise.city and college.province == enterprise.province,
                same_province=college.province == enterprise.province, seats=seats, demand=program.cohort_size))
            labels[str(program.id)] = f"{college.name} · {program.name}"
        ranked, unscorable = rank_partners(evidence)
        return Recommendations(f"enterprise:{enterprise_id}", [(s, labels[s.candidate_id]) for s in ranked[:limit]],
                               [(s, labels[s.candidate_id]) for s in unscorable])
