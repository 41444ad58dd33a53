"""Bulk reads and writes of reference catalogues and generated data (catalogue load, demo seed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from app.db.base import Base
from app.db.models import Major, Occupation

ModelT = TypeVar("ModelT", bound=Base)


class ReferenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all_majors(self) -> Sequence[Major]:
        return list(self.session.scalars(select(Major)))

    def all_occupations(self) -> Sequence[Occupation]:
        return list(self.session.scalars(select(Occupation)))

    def all_rows(self, model: type[ModelT]) -> Sequence[ModelT]:
        return list(self.session.scalars(select(model)))

    def insert_many(self, model: type[Base], rows: Sequence[dict[str, Any]], batch: int = 5000) -> None:
        for start in range(0, len(rows), batch):
            self.session.execute(insert(model), rows[start:start + batch])

    def insert_returning_ids(self, model: type[Any], rows: Sequence[dict[str, Any]]) -> list[int]:
        """Bulk insert in one executemany; the new ids come back in the order of ``rows``.

        ``model`` is a mapped class with an integer ``id`` primary key."""
        if not rows:
            return []
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(self.session.scalars(stmt, list(rows)))

    def update_many(self, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
        """ORM bulk UPDATE by primary key: one executemany instead of a round trip per row."""
        if rows:
            self.session.execute(update(model), list(rows))

    def count(self, model: type[Base]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(model)) or 0)

    def ping(self) -> None:
        self.session.execute(text("SELECT 1"))
