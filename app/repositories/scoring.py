"""Queries behind the scoring model: stored artifacts, placement history, past cooperation."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.db.models import Major, Occupation, Opening, Placement, Program, RunKind, ScoringModel, Student


class ScoringRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def active_model(self, pairing: str) -> ScoringModel | None:
        stmt = (select(ScoringModel).where(ScoringModel.pairing == pairing, ScoringModel.active.is_(True))
                .order_by(ScoringModel.version.desc()).limit(1))
        return self.session.scalars(stmt).first()

    def next_version(self, pairing: str) -> int:
        current = self.session.scalar(select(func.max(ScoringModel.version)).where(ScoringModel.pairing == pairing))
        return int(current or 0) + 1

    def add_model(self, row: ScoringModel) -> ScoringModel:
        self.session.add(row)
        self.session.flush()
        return row

    def recorded_outcomes(self) -> list[tuple[int, int, str, str, bool, int | None]]:
        """(student id, opening id, student's 专业类, opening's occupation code, completed, rating)
        of every internship placement with a recorded outcome, oldest first."""
        stmt = (
            select(Placement.student_id, Placement.opening_id, Major.class_code, Opening.occupation_code,
                   Placement.completed, Placement.rating)
            .join(Student, Student.id == Placement.student_id)
            .join(Program, Program.id == Student.program_id)
            .join(Major, Major.id == Program.major_id)
            .join(Opening, Opening.id == Placement.opening_id)
            .where(Placement.kind == RunKind.INTERNSHIP, Placement.completed.is_not(None))
            .order_by(Placement.id)
        )
        return [(int(r[0] or 0), int(r[1] or 0), r[2], r[3] or "", bool(r[4]), r[5])
                for r in self.session.execute(stmt)]

    def cooperation_counts(self) -> dict[tuple[int, int], int]:
        """Past internship placements per (enterprise id, college id)."""
        stmt = (
            select(Opening.enterprise_id, Program.college_id, func.count())
            .select_from(Placement)
            .join(Opening, Opening.id == Placement.opening_id)
            .join(Student, Student.id == Placement.student_id)
            .join(Program, Program.id == Student.program_id)
            .where(Placement.kind == RunKind.INTERNSHIP, Placement.completed.is_not(None))
            .group_by(Opening.enterprise_id, Program.college_id)
        )
        return {(r[0], r[1]): int(r[2]) for r in self.session.execute(stmt)}


class TrainingDataRepository:
    """Everything the student↔opening model trains on: recorded outcomes and their profiles."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def students(self, ids: list[int]) -> list[Student]:
        return list(self.session.scalars(select(Student).where(Student.id.in_(ids))
                                         .options(selectinload(Student.preferences)).order_by(Student.id)))

    def programs(self) -> list[Program]:
        return list(self.session.scalars(select(Program).options(joinedload(Program.major),
                                                                 joinedload(Program.college))).unique())

    def openings(self) -> list[Opening]:
        return list(self.session.scalars(select(Opening).order_by(Opening.id)))

    def occupations(self, codes: set[str]) -> dict[str, Occupation]:
        if not codes:
            return {}
        return {o.code: o for o in self.session.scalars(select(Occupation).where(Occupation.code.in_(sorted(codes))))}
