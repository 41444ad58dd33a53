"""Read-only catalogue queries: majors (专业目录) and occupations (职业分类大典)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db.models import Major, Occupation
from app.repositories.base import Page, decode_key_cursor, encode_cursor
from app.repositories.entities import MajorRepository, OccupationRepository
from app.security import Principal


def search_majors(session: Session, principal: Principal, *, q: str | None, level: str | None,
                  category: str | None, limit: int, cursor: str | None) -> Page[Major]:
    repo = MajorRepository(session)
    return repo.list_page(principal, repo.search_filters(q, level, category), limit=limit, cursor=cursor)


def search_occupations(session: Session, *, q: str | None, level: int | None, cursor: str | None,
                       limit: int) -> Page[Occupation]:
    after = decode_key_cursor(cursor) if cursor else None
    rows = OccupationRepository(session).search(q, level, after, limit)
    next_cursor = encode_cursor(rows[limit - 1].code) if len(rows) > limit else None
    return Page(items=rows[:limit], next_cursor=next_cursor)
