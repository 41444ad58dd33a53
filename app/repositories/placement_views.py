"""Read models of the web UI: published placements with the names people recognise them by."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import (
    AllocationRun,
    College,
    Enterprise,
    Opening,
    Placement,
    PlacementStatus,
    Program,
    RunKind,
    RunStatus,
    Student,
)
from app.repositories.runs import RunRepository
from app.security import Principal


class PlacementViewRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def published_internships(self, principal: Principal, *, opening_id: int | None = None,
                              statuses: Sequence[PlacementStatus] = (), program_id: int | None = None,
                              placement_id: int | None = None, limit: int = 500,
                              offset: int = 0) -> list[dict[str, Any]]:
        """Internship placements of published runs the caller may see, newest run first."""
        stmt = (
            select(Placement.id, Placement.run_id, Placement.status, Placement.score, Placement.student_id,
                   Student.student_no, Student.name, Program.id, Program.name, College.name,
                   Opening.id, Opening.title, Enterprise.name, AllocationRun.round, Opening.city,
                   Placement.agreement_no, Placement.agreement_signed_on, Placement.withdrawn_reason)
            .join(AllocationRun, AllocationRun.id == Placement.run_id)
            .join(Student, Student.id == Placement.student_id)
            .join(Program, Program.id == Student.program_id)
            .join(College, College.id == Program.college_id)
            .join(Opening, Opening.id == Placement.opening_id)
            .join(Enterprise, Enterprise.id == Opening.enterprise_id)
            .where(Placement.kind == RunKind.INTERNSHIP, AllocationRun.published_at.is_not(None),
                   RunRepository.placement_visibility(principal))
            .order_by(Placement.run_id.desc(), Placement.id)
            .limit(limit)
            .offset(offset)
        )
        if opening_id is not None:
            stmt = stmt.where(Placement.opening_id == opening_id)
        if statuses:
            stmt = stmt.where(Placement.status.in_(list(statuses)))
        if program_id is not None:
            stmt = stmt.where(Program.id == program_id)
        if placement_id is not None:
            stmt = stmt.where(Placement.id == placement_id)
        keys = ("id", "run_id", "status", "score", "student_id", "student_no", "student_name", "program_id",
                "program", "college", "opening_id", "opening", "enterprise", "round", "city", "agreement_no",
                "agreement_signed_on", "withdrawn_reason")
        return [dict(zip(keys, row, strict=True)) for row in self.session.execute(stmt)]

    def current_internship_runs(self, principal: Principal) -> list[AllocationRun]:
        """The published (current) internship runs the caller may see, newest first."""
        stmt = (select(AllocationRun).where(AllocationRun.kind == RunKind.INTERNSHIP,
                                            AllocationRun.status == RunStatus.PUBLISHED,
                                            RunRepository.run_visibility(principal))
                .order_by(AllocationRun.id.desc()))
        return list(self.session.scalars(stmt))

    def students_of_college(self, college_id: int, student_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Number, name and program of these students, if they are the college's own."""
        wanted = sorted(set(student_ids))
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(wanted), 1000):
            stmt = (select(Student.id, Student.student_no, Student.name, Program.name)
                    .join(Program, Program.id == Student.program_id)
                    .where(Student.id.in_(wanted[start:start + 1000]), Program.college_id == college_id))
            out.update({int(i): {"student_no": no, "name": name, "program": program}
                        for i, no, name, program in self.session.execute(stmt)})
        return out

    def names(self, model: type[College] | type[Enterprise] | type[Program], ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {int(i): str(n) for i, n in self.session.execute(
            select(model.id, model.name).where(model.id.in_(wanted)))}
