"""Queries that feed the matches endpoints: the candidates of a subject, with what scoring needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.db.models import College, CourseNeed, Enterprise, Lecturer, Major, Occupation, Opening, Program, Student


class MatchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def openings_of_term(self, term: str, limit: int = 20_000) -> list[Opening]:
        stmt = select(Opening).where(Opening.term == term).order_by(Opening.id).limit(limit)
        return list(self.session.scalars(stmt))

    def programs(self, limit: int = 20_000) -> list[Program]:
        stmt = (select(Program).options(joinedload(Program.major), joinedload(Program.college))
                .order_by(Program.id).limit(limit))
        return list(self.session.scalars(stmt).unique())

    def program(self, program_id: int) -> Program | None:
        stmt = (select(Program).where(Program.id == program_id)
                .options(joinedload(Program.major), joinedload(Program.college)))
        return self.session.scalars(stmt).unique().one_or_none()

    def students(self, visible: ColumnElement[bool], limit: int = 20_000) -> list[Student]:
        stmt = (select(Student).where(visible).options(selectinload(Student.preferences))
                .order_by(Student.id).limit(limit))
        return list(self.session.scalars(stmt))

    def lecturers(self, limit: int = 20_000) -> list[Lecturer]:
        return list(self.session.scalars(select(Lecturer).order_by(Lecturer.id).limit(limit)))

    def occupations(self, codes: Iterable[str]) -> dict[str, Occupation]:
        wanted = sorted({c for c in codes if c})
        if not wanted:
            return {}
        return {o.code: o for o in self.session.scalars(select(Occupation).where(Occupation.code.in_(wanted)))}

    def enterprise_names(self, ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self.session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(wanted)))
        return {r[0]: r[1] for r in rows}

    def college_names(self, ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self.session.execute(select(College.id, College.name).where(College.id.in_(wanted)))
        return {r[0]: r[1] for r in rows}

    def course_need_college(self, need: CourseNeed) -> tuple[int, str]:
        row = self.session.execute(select(College.id, College.city).join(Program, Program.college_id == College.id)
                                   .where(Program.id == need.program_id)).one()
        return int(row[0]), str(row[1])

    def all_majors(self) -> Sequence[Major]:
        return list(self.session.scalars(select(Major).order_by(Major.id)))

    def program_texts_by_major(self) -> dict[int, list[str]]:
        """What colleges wrote about each major: descriptions, core courses and skills of programs."""
        out: dict[int, list[str]] = {}
        for major_id, description, courses, skills in self.session.execute(
                select(Program.major_id, Program.description, Program.core_courses, Program.skills)
                .order_by(Program.id)):
            out.setdefault(major_id, []).append(" ".join([description or "", *(courses or []), *(skills or [])]))
        return out

    def occupations_of_level(self, level: int) -> Sequence[Occupation]:
        return list(self.session.scalars(select(Occupation).where(Occupation.level == level)
                                         .order_by(Occupation.code)))

    def catalogue_version(self) -> tuple[int, int, int, datetime | None]:
        """Changes whenever the major catalogue, the occupations or a program's text change."""
        majors = self.session.scalar(select(func.count()).select_from(Major)) or 0
        occupations = self.session.scalar(select(func.count()).select_from(Occupation)) or 0
        programs, updated = self.session.execute(select(func.count(), func.max(Program.updated_at))).one()
        return int(majors), int(occupations), int(programs or 0), updated
