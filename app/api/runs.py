"""Batch allocation runs and placements."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from app.api.deps import IdPath, PrincipalDep, SessionDep
from app.api.problems import problem_responses
from app.db.models import RunKind, RunStatus
from app.errors import Unprocessable
from app.run_schemas import (
    AgreementRecord,
    PlacedStudentContact,
    PlacementRead,
    PlacementWithdraw,
    RunAdjust,
    RunComparison,
    RunCreate,
    RunDiff,
    RunFork,
    RunKpis,
    RunRead,
    UnplacedRead,
)
from app.schemas import MAX_ID, ListPage
from app.services.run_exports import export_run
from app.services.runs import RunService

router = APIRouter(tags=["allocation runs"])
RUNS = "/allocation-runs"


def _location(response: Response, run_id: int) -> None:
    response.headers["Location"] = f"/api/v1{RUNS}/{run_id}"


@router.post(RUNS, status_code=status.HTTP_202_ACCEPTED, response_model=RunRead,
             responses={**problem_responses(401, 403, 404, 409, 422), 200: {
                 "model": RunRead, "description": "A repeated Idempotency-Key with the same body: the run it made"}},
             summary="Submit a batch allocation run (queued; a worker executes it)")
def submit_run(
    body: RunCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200, description="Same key + same body → same run")]
    = None,
) -> Any:
    run, created = RunService(session, principal).submit(body, idempotency_key)
    _location(response, run.id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return RunRead.model_validate(run)


@router.get(RUNS, response_model=ListPage[RunRead], responses=problem_responses(401, 403, 422),
            summary="List runs, newest first")
def list_runs(
    session: SessionDep,
    principal: PrincipalDep,
    status_filter: Annotated[RunStatus | None, Query(alias="status")] = None,
    kind: RunKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    page = RunService(session, principal).page(status=status_filter, kind=kind, limit=limit, cursor=cursor)
    return {"items": [RunRead.model_validate(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get(RUNS + "/compare", response_model=RunComparison, responses=problem_responses(401, 403, 404, 422),
            summary="KPIs of several runs side by side, with the number of changed placements")
def compare_runs(session: SessionDep, principal: PrincipalDep,
                 ids: Annotated[str, Query(max_length=200, description="Comma-separated run ids")]) -> Any:
    try:
        run_ids = [int(part) for part in ids.split(",") if part.strip()]
        if not all(1 <= run_id <= MAX_ID for run_id in run_ids):
            raise ValueError("out of range")
    except ValueError as exc:
        raise Unprocessable("ids must be comma-separated run ids",
                            [{"loc": ["query", "ids"], "msg": "not a list of integers"}]) from exc
    return RunService(session, principal).compare(run_ids)


@router.get(RUNS + "/{run_id}", response_model=RunRead, responses=problem_responses(401, 403, 404),
            summary="Status and progress of a run")
def get_run(run_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return RunRead.model_validate(RunService(session, principal).get(run_id))


@router.post(RUNS + "/{run_id}/cancel", response_model=RunRead, responses=problem_responses(401, 403, 404, 409),
             summary="Cancel a queued or running run (no placements are written)")
def cancel_run(run_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return RunRead.model_validate(RunService(session, principal).cancel(run_id))


@router.post(RUNS + "/{run_id}/publish", response_model=RunRead, responses=problem_responses(401, 403, 404, 409),
             summary="Publish a succeeded run: colleges and enterprises see their placements",
             description="The result is re-checked against today's data (seats, eligibility, scope, answers "
                         "recorded since the solve); any finding is a 409 whose `reasons` list codes and "
                         "parameters. The run becomes its scope's one published allocation: a round-1 run of a "
                         "scope with a published run is a 409 naming it; a later round supersedes its parent "
                         "round and that round's unanswered offers, and keeps its accepted placements.")
def publish_run(run_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return RunRead.model_validate(RunService(session, principal).publish(run_id))


@router.post(RUNS + "/{run_id}/withdraw", response_model=RunRead, responses=problem_responses(401, 403, 404, 409),
             summary="Withdraw the current published run while nobody has answered it (its earlier round, "
                     "if any, is current again)")
def withdraw_run(run_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return RunRead.model_validate(RunService(session, principal).withdraw(run_id))


@router.post(RUNS + "/{run_id}/adjust", status_code=status.HTTP_202_ACCEPTED, response_model=RunRead,
             responses=problem_responses(401, 403, 404, 409, 422),
             summary="Adjust a run by hand before publishing: pin or forbid pairs (solved and checked again)")
def adjust_run(run_id: IdPath, body: RunAdjust, session: SessionDep, principal: PrincipalDep,
               response: Response) -> Any:
    run = RunService(session, principal).adjust(run_id, pin=body.pin, forbid=body.forbid)
    _location(response, run.id)
    return RunRead.model_validate(run)


@router.post(RUNS + "/{run_id}/fork", status_code=status.HTTP_202_ACCEPTED, response_model=RunRead,
             responses=problem_responses(401, 403, 404, 409, 422),
             summary="A what-if scenario: the run's scope with changed parameters or mode")
def fork_run(run_id: IdPath, body: RunFork, session: SessionDep, principal: PrincipalDep, response: Response) -> Any:
    run = RunService(session, principal).fork(run_id, body)
    _location(response, run.id)
    return RunRead.model_validate(run)


@router.get(RUNS + "/{run_id}/placements", response_model=ListPage[PlacementRead],
            responses=problem_responses(401, 403, 404, 422), summary="Placements of a run visible to the caller")
def run_placements(
    run_id: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    college_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    enterprise_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    program_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    service = RunService(session, principal)
    page = service.placements(
        run_id, {"college_id": college_id, "enterprise_id": enterprise_id, "program_id": program_id},
        limit=limit, cursor=cursor)
    contacts = service.placed_student_contacts(page.items)
    items = [PlacementRead.model_validate(p).model_copy(update={"student_contact": PlacedStudentContact(
        name=contacts[p.id][0], phone=contacts[p.id][1]) if p.id in contacts else None}) for p in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


@router.get(RUNS + "/{run_id}/kpis", response_model=RunKpis, responses=problem_responses(401, 403, 404),
            summary="Per college, enterprise and program KPIs of a run")
def run_kpis(run_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return RunService(session, principal).kpis(run_id)


@router.get(RUNS + "/{run_id}/unplaced", response_model=list[UnplacedRead],
            responses=problem_responses(401, 403, 404), summary="Unplaced students (or course needs) with reasons")
def run_unplaced(run_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return [UnplacedRead(id=str(u["id"]), college_id=str(u.get("college_id", "")), reasons=list(u["reasons"]))
            for u in RunService(session, principal).unplaced(run_id)]


@router.get(RUNS + "/{run_id}/diff", response_model=RunDiff, responses=problem_responses(401, 403, 404, 422),
            summary="Every placement that differs from another run, with its cause")
def run_diff(run_id: IdPath, session: SessionDep, principal: PrincipalDep,
             against: Annotated[int, Query(ge=1, le=MAX_ID)]) -> Any:
    return RunService(session, principal).diff(run_id, against)


@router.get(RUNS + "/{run_id}/export", responses={**problem_responses(401, 403, 404, 422), 200: {
    "description": "The run's placements as CSV or XLSX",
    "content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
    summary="Export a run's placements (CSV or XLSX)")
def run_export(run_id: IdPath, session: SessionDep, principal: PrincipalDep,
               format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv") -> Any:
    content, media_type = export_run(session, principal, run_id, format)
    filename = f"run-{run_id}-placements.{format}"
    return StreamingResponse(io.BytesIO(content), media_type=media_type,
                             headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                      "Cache-Control": "no-store"})


@router.post("/placements/{placement_id}/accept", response_model=PlacementRead,
             responses=problem_responses(401, 403, 404, 409), summary="Record that the student accepted")
def accept_placement(placement_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return PlacementRead.model_validate(RunService(session, principal).respond(placement_id, accept=True))


@router.post("/placements/{placement_id}/decline", response_model=PlacementRead,
             responses=problem_responses(401, 403, 404, 409), summary="Record that the student declined")
def decline_placement(placement_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return PlacementRead.model_validate(RunService(session, principal).respond(placement_id, accept=False))


@router.post("/placements/{placement_id}/agreement", response_model=PlacementRead,
             responses=problem_responses(401, 403, 404, 409),
             summary="Record the signed tripartite agreement: an accepted placement becomes confirmed")
def record_agreement(placement_id: IdPath, session: SessionDep, principal: PrincipalDep,
                     body: AgreementRecord | None = None) -> Any:
    agreement = body or AgreementRecord()
    return PlacementRead.model_validate(RunService(session, principal).record_agreement(
        placement_id, number=agreement.number, signed_on=agreement.signed_on))


@router.post("/placements/{placement_id}/withdraw", response_model=PlacementRead,
             responses=problem_responses(401, 403, 404, 409, 422),
             summary="An accepted or confirmed placement ends early, with the reason (its seat is free again)")
def withdraw_placement(placement_id: IdPath, body: PlacementWithdraw, session: SessionDep,
                       principal: PrincipalDep) -> Any:
    return PlacementRead.model_validate(RunService(session, principal).withdraw_placement(placement_id, body.reason))


__all__ = ["JSONResponse", "router"]
