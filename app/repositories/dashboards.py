"""The numbers of the dashboards: a college's term and an enterprise's term, read from the ledger."""

from __future__ import annotations

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from app.db.models import (
    CURRENT_PLACEMENT_STATUSES,
    College,
    Enterprise,
    Opening,
    Placement,
    PlacementStatus,
    Program,
    RunKind,
    Student,
)


class DashboardRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def tenant_name(self, *, college_id: int | None, enterprise_id: int | None) -> str | None:
        if college_id is not None:
            return self.session.scalar(select(College.name).where(College.id == college_id))
        if enterprise_id is not None:
            return self.session.scalar(select(Enterprise.name).where(Enterprise.id == enterprise_id))
        return None

    def college_terms(self, college_id: int) -> list[str]:
        """The college's terms, the most recently worked on first (terms are free text, so their
        spelling says nothing about their order)."""
        stmt = (select(Program.term).where(Program.college_id == college_id).group_by(Program.term)
                .order_by(func.max(Program.created_at).desc(), Program.term.desc()))
        return list(self.session.scalars(stmt))

    def enterprise_terms(self, enterprise_id: int) -> list[str]:
        stmt = (select(Opening.term).where(Opening.enterprise_id == enterprise_id).group_by(Opening.term)
                .order_by(func.max(Opening.created_at).desc(), Opening.term.desc()))
        return list(self.session.scalars(stmt))

    def college_students(self, college_id: int, term: str) -> int:
        stmt = (select(func.count(Student.id)).join(Program, Program.id == Student.program_id)
                .where(Program.college_id == college_id, Program.term == term))
        return int(self.session.scalar(stmt) or 0)

    def college_placements_by_status(self, college_id: int, term: str) -> dict[PlacementStatus, int]:
        """The college's students' current internship placements of the term, by status (a student
        has at most one, so these are also counts of students)."""
        stmt = (select(Placement.status, func.count(distinct(Placement.student_id)))
                .join(Student, Student.id == Placement.student_id)
                .join(Program, Program.id == Student.program_id)
                .where(Program.college_id == college_id, Placement.term == term,
                       Placement.kind == RunKind.INTERNSHIP,
                       Placement.status.in_([PlacementStatus(s) for s in CURRENT_PLACEMENT_STATUSES]))
                .group_by(Placement.status))
        return {PlacementStatus(status): int(n) for status, n in self.session.execute(stmt)}

    def enterprise_openings(self, enterprise_id: int, term: str) -> tuple[int, int, int]:
        """Openings, seats and filled seats (``filled_seats``: what the ledger's live placements hold)."""
        stmt = (select(func.count(Opening.id), func.coalesce(func.sum(Opening.seats), 0),
                       func.coalesce(func.sum(Opening.filled_seats), 0))
                .where(Opening.enterprise_id == enterprise_id, Opening.term == term))
        openings, seats, filled = self.session.execute(stmt).one()
        return int(openings), int(seats), int(filled)

    def enterprise_pending(self, enterprise_id: int, term: str) -> int:
        """Offers at the enterprise's openings still waiting for the student's answer."""
        stmt = (select(func.count(Placement.id)).join(Opening, Opening.id == Placement.opening_id)
                .where(Opening.enterprise_id == enterprise_id, Placement.term == term,
                       Placement.status == PlacementStatus.PUBLISHED))
        return int(self.session.scalar(stmt) or 0)
