"""The home pages' numbers: a placement office's term and an enterprise's term, from the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.models import LIVE_PLACEMENT_STATUSES, PlacementStatus
from app.errors import Forbidden
from app.repositories.dashboards import DashboardRepository
from app.repositories.notifications import NotificationRepository
from app.security import Principal

P = PlacementStatus


@dataclass(frozen=True)
class CollegeTerm:
    term: str | None
    terms: list[str]
    students: int
    placed: int  # accepted, confirmed or completed: the student holds a seat
    pending: int  # offered, the student's answer not yet recorded
    unplaced: int  # neither
    agreements_outstanding: int  # accepted, the 三方协议 not yet recorded
    confirmed: int


@dataclass(frozen=True)
class EnterpriseTerm:
    term: str | None
    terms: list[str]
    openings: int
    seats: int
    filled: int
    pending: int


@dataclass(frozen=True)
class Header:
    tenant: str | None
    unread: int


class DashboardService:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.repo = DashboardRepository(session)
        self.session = session
        self.principal = principal

    def college(self, term: str | None) -> CollegeTerm:
        college_id = self.principal.college_id
        if college_id is None:
            raise Forbidden("the dashboard shows a college's or an enterprise's own term", code="wrong_role")
        terms = self.repo.college_terms(college_id)
        term = _chosen(term, terms)
        if term is None:
            return CollegeTerm(None, terms, 0, 0, 0, 0, 0, 0)
        students = self.repo.college_students(college_id, term)
        by_status = self.repo.college_placements_by_status(college_id, term)
        placed = sum(by_status.get(PlacementStatus(s), 0) for s in LIVE_PLACEMENT_STATUSES)
        pending = by_status.get(P.PUBLISHED, 0)
        return CollegeTerm(term, terms, students, placed, pending, max(0, students - placed - pending),
                           by_status.get(P.ACCEPTED, 0), by_status.get(P.CONFIRMED, 0))

    def enterprise(self, term: str | None) -> EnterpriseTerm:
        enterprise_id = self.principal.enterprise_id
        if enterprise_id is None:
            raise Forbidden("the dashboard shows a college's or an enterprise's own term", code="wrong_role")
        terms = self.repo.enterprise_terms(enterprise_id)
        term = _chosen(term, terms)
        if term is None:
            return EnterpriseTerm(None, terms, 0, 0, 0, 0)
        openings, seats, filled = self.repo.enterprise_openings(enterprise_id, term)
        return EnterpriseTerm(term, terms, openings, seats, filled, self.repo.enterprise_pending(enterprise_id, term))

    def header(self) -> Header:
        """What the page header names: the signed-in tenant and the unread notifications."""
        tenant = self.repo.tenant_name(college_id=self.principal.college_id,
                                       enterprise_id=self.principal.enterprise_id)
        actor_id = self.principal.actor_id
        unread = NotificationRepository(self.session).unread_count(actor_id) if actor_id is not None else 0
        return Header(tenant, unread)


def _chosen(asked: str | None, terms: list[str]) -> str | None:
    # A term the tenant has nothing in shows zeros rather than an error: it may be next term's.
    if asked:
        return asked
    return terms[0] if terms else None
