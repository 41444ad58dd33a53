"""Partnerships (校企合作项目) and alliances."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from app.api.deps import IdPath, PrincipalDep, SessionDep
from app.api.problems import problem_responses
from app.db.models import PartnershipStatus
from app.partnership_schemas import AllianceCreate, AllianceRead, PartnershipCreate, PartnershipRead
from app.schemas import MAX_ID
from app.services.partner_recommendations import PartnerRecommendationService, recommendations_dict
from app.services.partnership_reports import REPORT_COLUMNS, alliance_report, partnership_report, report_rows
from app.services.partnerships import AllianceService, PartnershipService, alliance_read, partnership_read
from app.tabular import write_xlsx

router = APIRouter(tags=["partnerships"])
PARTNERSHIPS = "/partnerships"
ALLIANCES = "/alliances"
_READ = problem_responses(401, 403, 404)
_MOVE = problem_responses(401, 403, 404, 409)


@router.get(PARTNERSHIPS, response_model=list[PartnershipRead], responses=problem_responses(401, 422),
            summary="Partnerships visible to the caller (its own, its alliances'; admins: all)")
def list_partnerships(
    session: SessionDep, principal: PrincipalDep,
    status_: Annotated[PartnershipStatus | None, Query(alias="status")] = None,
    college_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    enterprise_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Any:
    rows = PartnershipService(session, principal).visible(status=status_, college_id=college_id,
                                                          enterprise_id=enterprise_id)
    return [partnership_read(r) for r in rows]


@router.post(PARTNERSHIPS, status_code=status.HTTP_201_CREATED, response_model=PartnershipRead,
             responses=problem_responses(401, 403, 404, 409, 422),
             summary="Propose a partnership (the other party agrees to it)")
def propose_partnership(body: PartnershipCreate, session: SessionDep, principal: PrincipalDep,
                        response: Response) -> Any:
    row = PartnershipService(session, principal).propose(body)
    response.headers["Location"] = f"/api/v1{PARTNERSHIPS}/{row.id}"
    return partnership_read(row)


@router.get(PARTNERSHIPS + "/{partnership_id}", response_model=PartnershipRead, responses=_READ,
            summary="Read one partnership")
def read_partnership(partnership_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return partnership_read(PartnershipService(session, principal).get(partnership_id))


@router.post(PARTNERSHIPS + "/{partnership_id}/agree", response_model=PartnershipRead, responses=_MOVE,
             summary="Agree to a proposed partnership (the party that did not propose it)")
def agree_partnership(partnership_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return partnership_read(PartnershipService(session, principal).agree(partnership_id))


@router.post(PARTNERSHIPS + "/{partnership_id}/activate", response_model=PartnershipRead, responses=_MOVE,
             summary="Start an agreed partnership")
def activate_partnership(partnership_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return partnership_read(PartnershipService(session, principal).activate(partnership_id))


@router.post(PARTNERSHIPS + "/{partnership_id}/end", response_model=PartnershipRead, responses=_MOVE,
             summary="End a partnership (kept, with its commitments, for the reports)")
def end_partnership(partnership_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return partnership_read(PartnershipService(session, principal).end(partnership_id))


@router.get(ALLIANCES, response_model=list[AllianceRead], responses=problem_responses(401),
            summary="Alliances the caller belongs to or schedules (admins: all)")
def list_alliances(session: SessionDep, principal: PrincipalDep) -> Any:
    return [alliance_read(a) for a in AllianceService(session, principal).visible()]


@router.post(ALLIANCES, status_code=status.HTTP_201_CREATED, response_model=AllianceRead,
             responses=problem_responses(401, 403, 409, 422), summary="Create an alliance (admins, schedulers)")
def create_alliance(body: AllianceCreate, session: SessionDep, principal: PrincipalDep, response: Response) -> Any:
    row = AllianceService(session, principal).create(body)
    response.headers["Location"] = f"/api/v1{ALLIANCES}/{row.id}"
    return alliance_read(row)


@router.get(ALLIANCES + "/{alliance_id}", response_model=AllianceRead, responses=_READ, summary="Read one alliance")
def read_alliance(alliance_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return alliance_read(AllianceService(session, principal).get(alliance_id))


@router.get(ALLIANCES + "/{alliance_id}/partnerships", response_model=list[PartnershipRead], responses=_READ,
            summary="The partnerships among an alliance's members")
def alliance_partnerships(alliance_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return [partnership_read(p) for p in AllianceService(session, principal).partnerships(alliance_id)]


@router.get("/programs/{program_id}/partner-recommendations", responses=_READ,
            summary="Enterprises to partner with for a program, each the exact sum of named contributions")
def program_partner_recommendations(program_id: IdPath, session: SessionDep, principal: PrincipalDep,
                                    limit: Annotated[int, Query(ge=1, le=200)] = 20) -> Any:
    return recommendations_dict(PartnerRecommendationService(session, principal).enterprises_for_program(
        program_id, limit=limit))


@router.get("/enterprises/{enterprise_id}/partner-recommendations", responses=_READ,
            summary="Programs (and their colleges) to partner with for an enterprise")
def enterprise_partner_recommendations(enterprise_id: IdPath, session: SessionDep, principal: PrincipalDep,
                                       limit: Annotated[int, Query(ge=1, le=200)] = 20) -> Any:
    return recommendations_dict(PartnerRecommendationService(session, principal).programs_for_enterprise(
        enterprise_id, limit=limit))


def _xlsx(report: dict[str, Any], title: str) -> Response:
    body = write_xlsx(REPORT_COLUMNS, report_rows(report), title=title)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{title}.xlsx"'})


@router.get(PARTNERSHIPS + "/{partnership_id}/report", responses=_READ,
            summary="A partnership per term: seats committed vs filled, acceptance, lecturer hours vs the 40 % target")
def read_partnership_report(partnership_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return partnership_report(session, principal, partnership_id)


@router.get(PARTNERSHIPS + "/{partnership_id}/report.xlsx", responses=_READ, response_class=Response,
            summary="The partnership's report as XLSX")
def export_partnership_report(partnership_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    return _xlsx(partnership_report(session, principal, partnership_id), f"partnership-{partnership_id}")


@router.get(ALLIANCES + "/{alliance_id}/report", responses=_READ,
            summary="An alliance per term, per partnership, and the 40 % target per industry college")
def read_alliance_report(alliance_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return alliance_report(session, principal, alliance_id)


@router.get(ALLIANCES + "/{alliance_id}/report.xlsx", responses=_READ, response_class=Response,
            summary="The alliance's report as XLSX")
def export_alliance_report(alliance_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    return _xlsx(alliance_report(session, principal, alliance_id), f"alliance-{alliance_id}")
