"""Queries of the demo data set: catalogue look-ups while seeding, the demo's actors and the
whole-table reads behind its content digest (the bulk inserts are :class:`ReferenceRepository`'s)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from app.db.models import Actor, College, EducationLevel, Enterprise, Major, Occupation, Placement, Program


class MajorRef(NamedTuple):
    """The columns of a catalogue major the demo builds programs from."""

    id: int
    code: str
    level: EducationLevel
    name: str
    class_name: str
    category_name: str


class DemoRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ catalogue look-ups

    def majors_by_code(self, codes: Collection[str]) -> list[MajorRef]:
        """Every catalogue major with one of these codes (at any level)."""
        stmt = select(Major.id, Major.code, Major.level, Major.name, Major.class_name, Major.category_name).where(
            Major.code.in_(set(codes))
        )
        return [MajorRef(*row) for row in self.session.execute(stmt)]

    def category_of_class(self) -> dict[str, str]:
        """专业类 name → 专业大类 name across the whole catalogue."""
        stmt = select(Major.class_name, Major.category_name).distinct()
        return dict(self.session.execute(stmt).all())

    def digital_occupations(self, codes: Collection[str]) -> dict[str, bool]:
        """Occupation code → is_digital, for the 细类 (level 4) among these codes that exist."""
        stmt = select(Occupation.code, Occupation.is_digital).where(
            Occupation.code.in_(set(codes)), Occupation.level == 4
        )
        return dict(self.session.execute(stmt).all())

    # ------------------------------------------------------------------ actors

    def actors_named_with_prefix(self, prefix: str) -> list[Actor]:
        """Actors whose name starts with ``prefix`` (LIKE wildcards escaped), in creation order."""
        stmt = select(Actor).where(Actor.name.startswith(prefix, autoescape=True)).order_by(Actor.id)
        return list(self.session.scalars(stmt))

    def college_names(self, ids: Collection[int]) -> dict[int, str]:
        stmt = select(College.id, College.name).where(College.id.in_(set(ids)))
        return dict(self.session.execute(stmt).all())

    def enterprise_names(self, ids: Collection[int]) -> dict[int, str]:
        stmt = select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(set(ids)))
        return dict(self.session.execute(stmt).all())

    # ------------------------------------------------------------------ content digest

    def programs_with_major(self) -> Sequence[Program]:
        """Every program that has a major, with the major loaded by the same query."""
        stmt = select(Program).join(Program.major).options(contains_eager(Program.major))
        return list(self.session.scalars(stmt))

    def history_placements(self) -> Sequence[Placement]:
        """Placements made outside any run (the demo's past internships)."""
        return list(self.session.scalars(select(Placement).where(Placement.run_id.is_(None))))
