"""Read-only catalogues: majors and 大典 occupations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.deps import PrincipalDep, SessionDep
from app.api.problems import problem_responses
from app.db.models import EducationLevel
from app.schemas import ListPage, MajorRead, OccupationRead
from app.services.catalog_queries import search_majors, search_occupations

router = APIRouter(tags=["catalogues"])


@router.get("/majors", response_model=ListPage[MajorRead], responses=problem_responses(401, 422),
            summary="Search the major catalogue (专业目录)")
def list_majors(
    session: SessionDep,
    principal: PrincipalDep,
    q: Annotated[str | None, Query(max_length=100, description="Name contains, or code starts with")] = None,
    level: EducationLevel | None = None,
    category: Annotated[str | None, Query(max_length=100, description="专业大类 or 专业类: code or name")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    page = search_majors(session, principal, q=q, level=level, category=category, limit=limit, cursor=cursor)
    return {"items": [MajorRead.model_validate(m) for m in page.items], "next_cursor": page.next_cursor}


@router.get("/occupations", response_model=ListPage[OccupationRead], responses=problem_responses(401, 422),
            summary="Search 职业分类大典 (2022) occupations")
def list_occupations(
    session: SessionDep,
    principal: PrincipalDep,
    q: Annotated[str | None, Query(max_length=100, description="Name contains, or code starts with")] = None,
    level: Annotated[int | None, Query(ge=1, le=4)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> Any:
    page = search_occupations(session, q=q, level=level, cursor=cursor, limit=limit)
    return {"items": [OccupationRead.model_validate(o) for o in page.items], "next_cursor": page.next_cursor}
