"""Repositories of the cooperation nouns, each with its tenancy."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, exists, false, func, insert, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.db.models import (
    College,
    CourseNeed,
    Enterprise,
    Lecturer,
    Major,
    Occupation,
    Opening,
    Placement,
    PlacementStatus,
    Program,
    Role,
    Student,
    StudentPreference,
)
from app.repositories.base import Repository, Tenancy, lookup_memo, memoized
from app.repositories.runs import RunRepository
from app.security import Principal


def _program_of_college(college_id: int) -> ColumnElement[bool]:
    return Program.college_id == college_id


def _in_college_programs(column: InstrumentedAttribute[int], college_id: int) -> ColumnElement[bool]:
    return column.in_(select(Program.id).where(Program.college_id == college_id))


class CollegeRepository(Repository[College]):
    model = College
    tenancy = Tenancy(by_college=lambda cid: College.id == cid)


class ProgramRepository(Repository[Program]):
    model = Program
    tenancy = Tenancy(by_college=_program_of_college)

    def college_of(self, program_id: int) -> int | None:
        return memoized(self.session, ("college_of", program_id), lambda: self.session.scalar(
            select(Program.college_id).where(Program.id == program_id)))


class EnterpriseRepository(Repository[Enterprise]):
    model = Enterprise
    tenancy = Tenancy(by_enterprise=lambda eid: Enterprise.id == eid)

    def has_published_placements(self, enterprise_id: int) -> bool:
        published = (PlacementStatus.PUBLISHED, PlacementStatus.ACCEPTED, PlacementStatus.CONFIRMED)
        stmt = select(
            exists().where(
                Placement.status.in_(published),
                or_(
                    Placement.opening_id.in_(select(Opening.id).where(Opening.enterprise_id == enterprise_id)),
                    Placement.lecturer_id.in_(select(Lecturer.id).where(Lecturer.enterprise_id == enterprise_id)),
                ),
            )
        )
        return bool(self.session.scalar(stmt))


class OpeningRepository(Repository[Opening]):
    model = Opening
    tenancy = Tenancy(by_enterprise=lambda eid: Opening.enterprise_id == eid)

    def existing_ids(self, ids: Sequence[int]) -> set[int]:
        wanted = set(ids)
        if not wanted:
            return set()
        memo = lookup_memo(self.session)
        if memo is None:
            return set(self.session.scalars(select(Opening.id).where(Opening.id.in_(wanted))))
        # Asked per id, so that ranked lists which differ but share openings are read once.
        unknown = {i for i in wanted if ("exists", Opening, i) not in memo}
        if unknown:
            found = set(self.session.scalars(select(Opening.id).where(Opening.id.in_(unknown))))
            memo.update({("exists", Opening, i): i in found for i in unknown})
        return {i for i in wanted if memo[("exists", Opening, i)]}

    def has_placements(self, opening_id: int) -> bool:
        return bool(self.session.scalar(select(exists().where(Placement.opening_id == opening_id))))

    def code_holder(self, enterprise_id: int, code: str) -> int | None:
        """The enterprise's opening with this code (岗位编号), if any."""
        return self.session.scalar(select(Opening.id).where(Opening.enterprise_id == enterprise_id,
                                                            Opening.code == code))


class StudentRepository(Repository[Student]):
    model = Student
    # Students carry personal data: only their own college (and admins) read them.
    tenancy = Tenancy(
        by_college=lambda cid: _in_college_programs(Student.program_id, cid),
        private=True,
        readers=frozenset({Role.ADMIN, Role.PLACEMENT_OFFICE}),
    )

    def replace_preferences(self, student: Student, opening_ids: Sequence[int]) -> None:
        self.session.execute(delete(StudentPreference).where(StudentPreference.student_id == student.id))
        self.session.add_all(
            StudentPreference(student_id=student.id, opening_id=oid, rank=rank)
            for rank, oid in enumerate(opening_ids, start=1)
        )
        self.session.flush()
        self.session.refresh(student, ["preferences"])

    def add_preferences(self, ranked: Sequence[tuple[Student, Sequence[int]]]) -> None:
        """The preferences of students who have none yet, in one flush."""
        values = [{"student_id": student.id, "opening_id": oid, "rank": rank}
                  for student, opening_ids in ranked for rank, oid in enumerate(opening_ids, start=1)]
        if values:
            self.session.execute(insert(StudentPreference), values)


def _lecturers_placed_with(principal: Principal) -> ColumnElement[bool]:
    # A college learns who teaches its course when it sees the placement: after publication, by
    # the rule that shows it the placement itself.
    if principal.role is not Role.PLACEMENT_OFFICE:
        return false()
    return Lecturer.id.in_(select(Placement.lecturer_id).where(Placement.lecturer_id.is_not(None),
                                                               RunRepository.placement_visibility(principal)))


class LecturerRepository(Repository[Lecturer]):
    model = Lecturer
    # Lecturers are people (a name, a weekly timetable): their own enterprise, schedulers, admins
    # and the colleges they were placed with read them; matches rank them for everyone by their
    # offer alone (see MatchService.lecturers_for_course_need).
    tenancy = Tenancy(by_enterprise=lambda eid: Lecturer.enterprise_id == eid, private=True,
                      sees_all=frozenset({Role.ADMIN, Role.SCHEDULER}), shared_with=_lecturers_placed_with)

    def has_placements(self, lecturer_id: int) -> bool:
        return bool(self.session.scalar(select(exists().where(Placement.lecturer_id == lecturer_id))))


class CourseNeedRepository(Repository[CourseNeed]):
    model = CourseNeed
    tenancy = Tenancy(by_college=lambda cid: _in_college_programs(CourseNeed.program_id, cid))

    def has_placements(self, course_need_id: int) -> bool:
        return bool(self.session.scalar(select(exists().where(Placement.course_need_id == course_need_id))))


class MajorRepository(Repository[Major]):
    model = Major
    tenancy = Tenancy()

    def by_code(self, code: str) -> Sequence[Major]:
        return list(self.session.scalars(select(Major).where(Major.code == code).order_by(Major.id)))

    @staticmethod
    def search_filters(q: str | None, level: str | None, category: str | None) -> list[ColumnElement[bool]]:
        filters: list[ColumnElement[bool]] = []
        if q:
            filters.append(or_(Major.name.contains(q, autoescape=True), Major.code.startswith(q, autoescape=True)))
        if level:
            filters.append(Major.level == level)
        if category:
            filters.append(
                or_(
                    Major.category_code == category,
                    Major.class_code == category,
                    Major.category_name == category,
                    Major.class_name == category,
                )
            )
        return filters


class OccupationRepository:
    """The 大典 is keyed by its code, not a surrogate id, so it pages by code."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str) -> Occupation | None:
        return self.session.get(Occupation, code)

    def search(self, q: str | None, level: int | None, after: str | None, limit: int) -> list[Occupation]:
        stmt = select(Occupation)
        if q:
            stmt = stmt.where(or_(Occupation.name.contains(q, autoescape=True),
                                  Occupation.code.startswith(q, autoescape=True)))
        if level:
            stmt = stmt.where(Occupation.level == level)
        if after:
            stmt = stmt.where(Occupation.code > after)
        return list(self.session.scalars(stmt.order_by(Occupation.code).limit(limit + 1)))

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Occupation)) or 0)
