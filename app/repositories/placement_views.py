"""Read models of the web UI: published placements with the names people recognise them by."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.db.models import (
    CURRENT_PLACEMENT_STATUSES,
    AllocationRun,
    College,
    CourseNeed,
    Enterprise,
    Lecturer,
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
                   Placement.agreement_no, Placement.agreement_signed_on, Placement.withdrawn_reason,
                   Opening.code)
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
                "agreement_signed_on", "withdrawn_reason", "opening_code")
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

    def opening_titles(self, ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {int(i): f"{t}（{e}）" for i, t, e in self.session.execute(
            select(Opening.id, Opening.title, Enterprise.name).join(Enterprise, Enterprise.id == Opening.enterprise_id)
            .where(Opening.id.in_(wanted)))}

    def student_numbers(self, ids: Iterable[int]) -> dict[int, str]:
        """Student numbers (with the program) by id: for schedulers, who see every run's students."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {int(i): f"{no}（{p}）" for i, no, p in self.session.execute(
            select(Student.id, Student.student_no, Program.name).join(Program, Program.id == Student.program_id)
            .where(Student.id.in_(wanted)))}


# The student list's placement status filter: a current placement's status, or none at all.
UNPLACED = "unplaced"
STUDENT_SORTS = ("student_no", "name", "program", "status")


@dataclass(frozen=True)
class StudentQuery:
    """What the office's student list asks: text in the number or name, a program, a grade range,
    a 年级 (year of enrolment), a placement status of the student's term (or ``UNPLACED``), the order and the page."""

    q: str = ""
    program_id: int | None = None
    grade_min: float | None = None
    grade_max: float | None = None
    cohort: int | None = None
    status: str = ""
    sort: str = "student_no"
    descending: bool = False
    limit: int = 50
    offset: int = 0


def _current_internship(student_id: Any, term: Any) -> ColumnElement[bool]:
    # At most one such row per student and term (uq_placements_current_student_term).
    return and_(Placement.student_id == student_id, Placement.term == term, Placement.kind == RunKind.INTERNSHIP,
                Placement.status.in_([PlacementStatus(s) for s in CURRENT_PLACEMENT_STATUSES]))


class StudentDirectoryRepository:
    """The college's students with the placement that stands for their program's term."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _conditions(self, college_id: int, query: StudentQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [Program.college_id == college_id]
        if query.q:
            where.append(or_(Student.student_no.contains(query.q, autoescape=True),
                             Student.name.contains(query.q, autoescape=True)))
        if query.program_id is not None:
            where.append(Student.program_id == query.program_id)
        if query.grade_min is not None:
            where.append(Student.grade >= query.grade_min)
        if query.grade_max is not None:
            where.append(Student.grade <= query.grade_max)
        if query.cohort is not None:
            where.append(Student.cohort == query.cohort)
        if query.status == UNPLACED:
            where.append(Placement.id.is_(None))
        elif query.status:
            where.append(Placement.status == PlacementStatus(query.status))
        return where

    def _from(self, *columns: Any) -> Select[Any]:
        return (select(*columns).select_from(Student)
                .join(Program, Program.id == Student.program_id)
                .outerjoin(Placement, _current_internship(Student.id, Program.term))
                .outerjoin(Opening, Opening.id == Placement.opening_id)
                .outerjoin(Enterprise, Enterprise.id == Opening.enterprise_id))

    def page(self, college_id: int, query: StudentQuery) -> tuple[list[dict[str, Any]], int]:
        """One page of rows and the number of students the filters match."""
        where = self._conditions(college_id, query)
        status_order = case({s: i for i, s in enumerate(CURRENT_PLACEMENT_STATUSES, start=1)},
                            value=Placement.status, else_=0)
        keys = {"student_no": Student.student_no, "name": Student.name, "program": Program.name,
                "status": status_order}
        key = keys.get(query.sort, Student.student_no)
        order = [key.desc() if query.descending else key.asc(), Student.student_no, Student.id]
        columns: list[Any] = [Student.id, Student.student_no, Student.name, Program.id, Program.name, Program.term,
                              Student.grade, Student.cohort, Student.skills, Placement.id, Placement.status,
                              Opening.id, Opening.title, Enterprise.name]
        stmt = self._from(*columns).where(*where).order_by(*order).limit(query.limit).offset(query.offset)
        names = ("id", "student_no", "name", "program_id", "program", "term", "grade", "cohort", "skills",
                 "placement_id",
                 "status", "opening_id", "opening", "enterprise")
        rows = [dict(zip(names, row, strict=True)) for row in self.session.execute(stmt)]
        total = self.session.scalar(self._from(func.count(Student.id)).where(*where))
        return rows, int(total or 0)

    def current_placement(self, student_id: int) -> tuple[int, PlacementStatus] | None:
        """The student's standing internship placement of any term (the ledger's view of them)."""
        stmt = (select(Placement.id, Placement.status).where(
            Placement.student_id == student_id, Placement.kind == RunKind.INTERNSHIP,
            Placement.status.in_([PlacementStatus(s) for s in CURRENT_PLACEMENT_STATUSES])).limit(1))
        found = self.session.execute(stmt).first()
        return (int(found[0]), PlacementStatus(found[1])) if found else None


def lecturer_placements(session: Session, visible: ColumnElement[bool], *, enterprise_id: int | None = None,
                        course_need_ids: Iterable[int] = (), current_only: bool = False, limit: int = 500,
                        offset: int = 0) -> list[dict[str, Any]]:
    """Lecturer placements of published runs that ``visible`` admits (and, with ``enterprise_id``,
    only of that enterprise's lecturers), with the names of both sides."""
    stmt = (select(Placement.id, Placement.run_id, AllocationRun.round, Placement.status, Placement.score,
                   Lecturer.id, Lecturer.name, Lecturer.title, Enterprise.name, CourseNeed.id, CourseNeed.course_name,
                   CourseNeed.weekly_hours, CourseNeed.term, Program.name, College.name)
            .join(AllocationRun, AllocationRun.id == Placement.run_id)
            .join(Lecturer, Lecturer.id == Placement.lecturer_id)
            .join(Enterprise, Enterprise.id == Lecturer.enterprise_id)
            .join(CourseNeed, CourseNeed.id == Placement.course_need_id)
            .join(Program, Program.id == CourseNeed.program_id)
            .join(College, College.id == Program.college_id)
            .where(Placement.kind == RunKind.LECTURER, AllocationRun.published_at.is_not(None), visible)
            .order_by(Placement.run_id.desc(), Placement.id).limit(limit).offset(offset))
    if enterprise_id is not None:
        stmt = stmt.where(Lecturer.enterprise_id == enterprise_id)
    wanted = sorted(set(course_need_ids))
    if wanted:
        stmt = stmt.where(Placement.course_need_id.in_(wanted))
    if current_only:
        stmt = stmt.where(Placement.status.in_([PlacementStatus(s) for s in CURRENT_PLACEMENT_STATUSES]))
    names = ("id", "run_id", "round", "status", "score", "lecturer_id", "lecturer", "lecturer_title", "enterprise",
             "course_need_id", "course", "weekly_hours", "term", "program", "college")
    return [dict(zip(names, row, strict=True)) for row in session.execute(stmt)]
