"""Queries that feed the matches endpoints: the candidates of a subject, with what scoring needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session, joinedload

from app.db.models import (
    College,
    CourseNeed,
    Enterprise,
    Lecturer,
    Major,
    Occupation,
    Opening,
    Program,
    Student,
    StudentPreference,
)


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

    def student_rows(self, visible: ColumnElement[bool], limit: int = 50_000) -> list[Row[Any]]:
        """Scoring fields of the students the caller may see, as plain rows (no personal data)."""
        stmt = (select(Student.id, Student.program_id, Student.skills, Student.certificates, Student.grade,
                       Student.province, Student.city, Student.student_no)
                .where(visible).order_by(Student.id).limit(limit))
        return list(self.session.execute(stmt))

    def preference_rows(self, student_ids: Sequence[int]) -> list[Row[Any]]:
        if not student_ids:
            return []
        stmt = select(StudentPreference.student_id, StudentPreference.opening_id, StudentPreference.rank)
        if len(student_ids) <= 1000:
            stmt = stmt.where(StudentPreference.student_id.in_(student_ids))
            return list(self.session.execute(stmt))
        wanted = set(student_ids)
        rows: list[Row[Any]] = list(self.session.execute(stmt))
        return [r for r in rows if r[0] in wanted]

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

    def corpus_version(self) -> tuple[Any, ...]:
        """Changes whenever a program, opening, lecturer or course need is added, edited or removed."""
        out: list[Any] = []
        for model in (Program, Opening, Lecturer, CourseNeed):
            count, updated = self.session.execute(select(func.count(), func.max(model.updated_at))).one()
            out += [int(count or 0), updated]
        return tuple(out)

    def all_openings(self) -> list[Opening]:
        return list(self.session.scalars(select(Opening).order_by(Opening.id)))

    def course_needs(self) -> list[CourseNeed]:
        return list(self.session.scalars(select(CourseNeed).order_by(CourseNeed.id)))

    def catalogue_version(self) -> tuple[int, int, int, datetime | None]:
        """Changes whenever the major catalogue, the occupations or a program's text change."""
        majors = self.session.scalar(select(func.count()).select_from(Major)) or 0
        occupations = self.session.scalar(select(func.count()).select_from(Occupation)) or 0
        programs, updated = self.session.execute(select(func.count(), func.max(Program.updated_at))).one()
        return int(majors), int(occupations), int(programs or 0), updated
