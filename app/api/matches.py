"""Explained matches: ranked candidates with their score and its named contributions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import IdPath, PrincipalDep, SessionDep
from app.api.problems import problem_responses
from app.db.models import EducationLevel
from app.services.matching import MatchList, MatchService

router = APIRouter(tags=["matches"])


class Contribution(BaseModel):
    feature: str
    value: float
    weight: float
    contribution: float = Field(description="weight × value; in log-odds for pairings, in score for catalogues")


class MatchItem(BaseModel):
    id: int | str
    label: str
    score: float = Field(ge=0, le=1)
    explanation: list[Contribution] = Field(description="The largest named contributions, biggest first.")
    logit: float | None = Field(default=None, description="intercept + Σ contributions (pairings only)")
    intercept: float | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Unscored(BaseModel):
    kind: str
    id: str
    reason: str


class MatchResponse(BaseModel):
    subject: str
    model_version: str
    items: list[MatchItem]
    unscorable: list[Unscored] = Field(description="Candidates with too little data to score, and why.")


class OpeningMatches(BaseModel):
    programs: MatchResponse
    students: MatchResponse = Field(description="Eligible students: only the caller's own college's (or all, admin).")


class NeedText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20_000, description="The need: title, description, skills.")
    level: EducationLevel | None = None
    top_k: int = Field(default=10, ge=1, le=100)


class JobTitle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    top_k: int = Field(default=10, ge=1, le=100)


def _render(result: MatchList) -> MatchResponse:
    return MatchResponse(
        subject=result.subject, model_version=result.model_version,
        items=[MatchItem(id=m.id, label=m.label, score=m.score, explanation=m.explanation,
                         logit=m.logit, intercept=m.intercept, details=m.extra) for m in result.items],
        unscorable=[Unscored(**u) for u in result.unscorable],
    )


Limit = Annotated[int, Query(ge=1, le=200, description="How many candidates")]
Explain = Annotated[int, Query(ge=1, le=20, description="How many contributions per candidate")]


@router.get("/programs/{program_id}/matches", response_model=MatchResponse,
            responses=problem_responses(401, 403, 404, 422), summary="Openings ranked for a program")
def program_matches(program_id: IdPath, session: SessionDep, principal: PrincipalDep, limit: Limit = 20,
                    explain: Explain = 5) -> Any:
    return _render(MatchService(session, principal).openings_for_program(program_id, limit=limit, explain=explain))


@router.get("/openings/{opening_id}/matches", response_model=OpeningMatches,
            responses=problem_responses(401, 403, 404, 422), summary="Programs and eligible students for an opening")
def opening_matches(opening_id: IdPath, session: SessionDep, principal: PrincipalDep, limit: Limit = 20,
                    explain: Explain = 5) -> Any:
    programs, students = MatchService(session, principal).programs_for_opening(opening_id, limit=limit,
                                                                              explain=explain)
    return OpeningMatches(programs=_render(programs), students=_render(students))


@router.get("/course-needs/{need_id}/matches", response_model=MatchResponse,
            responses=problem_responses(401, 403, 404, 422), summary="Lecturers ranked for a course need")
def course_need_matches(need_id: IdPath, session: SessionDep, principal: PrincipalDep, limit: Limit = 20,
                        explain: Explain = 5) -> Any:
    return _render(MatchService(session, principal).lecturers_for_course_need(need_id, limit=limit, explain=explain))


@router.post("/match/majors", response_model=MatchResponse, responses=problem_responses(401, 404, 422),
             summary="Catalogue majors ranked for a free-text need")
def match_majors(body: NeedText, session: SessionDep, principal: PrincipalDep) -> Any:
    level = body.level.value if body.level else None
    return _render(MatchService(session, principal).majors_for_text(body.text, level=level, top_k=body.top_k))


@router.post("/match/occupations", response_model=MatchResponse, responses=problem_responses(401, 404, 422),
             summary="职业分类大典 occupations ranked for a job title (helps HR classify an opening)")
def match_occupations(body: JobTitle, session: SessionDep, principal: PrincipalDep) -> Any:
    return _render(MatchService(session, principal).occupations_for_title(body.title, body.description,
                                                                          top_k=body.top_k))
