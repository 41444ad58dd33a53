"""A placement office's course needs (courses that want an enterprise lecturer): list, new, edit,
import and export, each with the lecturers that published lecturer runs placed on it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError

from app.db.models import CourseNeed, Role
from app.errors import NotFound, NotScorable, Unprocessable
from app.schemas import CourseNeedCreate, CourseNeedUpdate
from app.services.matching import MatchService
from app.services.placement_views import PlacementViews
from app.services.resources import CourseNeedService, ProgramService
from app.tabular import FileType
from app.web.core import (
    DbDep,
    StagedDbDep,
    StagedUserDep,
    UserDep,
    WebId,
    WebIdQuery,
    WebRoute,
    check_csrf,
    flash,
    gettext_of,
    redirect,
    render,
    require,
)
from app.web.forms import field_errors, form_values, join_list
from app.web.office import OFFICE, ModeForm, export_kind, import_file

router = APIRouter(route_class=WebRoute, dependencies=[Depends(check_csrf)], include_in_schema=False)

NEED_LISTS = ("topics", "slots")
NEED_FIELDS = ("program_id", "course_name", "topics", "weekly_hours", "slots", "term", "is_professional")
PAGE = 100


def _programs(session: Any, principal: Any) -> list[Any]:
    own = {"college_id": principal.college_id} if principal.college_id else {}
    return list(ProgramService(session, principal).page(own, limit=200, cursor=None).items)


@router.get("/course-needs")
def course_needs(request: Request, session: DbDep, user: UserDep, program_id: WebIdQuery = None,
                 cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    principal = require(user, *OFFICE)
    params: dict[str, Any] = {"program_id": program_id}
    if principal.college_id:
        params["college_id"] = principal.college_id
    page = CourseNeedService(session, principal).page(params, limit=PAGE, cursor=cursor)
    placed = _placed_by_need(session, principal, [n.id for n in page.items])
    programs = _programs(session, principal)
    return render(request, "office/course_needs.html", {
        "needs": page.items, "next_cursor": page.next_cursor, "placed": placed, "programs": programs,
        "program_names": {p.id: p.name for p in programs}, "program_id": program_id})


def _placed_by_need(session: Any, principal: Any, need_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Course need → the lecturer placement that stands for it (offered or live; at most one, by
    the unique index), from the published lecturer runs."""
    if not need_ids:
        return {}
    rows = PlacementViews(session, principal).lecturer_placements(course_need_ids=need_ids, current_only=True)
    return {int(r["course_need_id"]): r for r in rows}


@router.get("/course-needs/export")
def export_course_needs(request: Request, session: DbDep, user: UserDep,
                        file_format: Annotated[FileType, Query(alias="format")] = FileType.CSV) -> Response:
    return export_kind(session, user, "course-needs", file_format, OFFICE, gettext_of(request).locale)


@router.post("/course-needs/import")
def import_course_needs(request: Request, unit: StagedDbDep, user: StagedUserDep,
                        file: Annotated[UploadFile, File()], dry_run: Annotated[bool, Form()] = False,
                        mode: ModeForm = "create") -> Response:
    return import_file(request, unit, user, "course-needs", file, dry_run, "/course-needs", OFFICE, mode)


def _need_form(row: CourseNeed | None, programs: list[Any]) -> dict[str, Any]:
    if row is None:
        first = programs[0] if programs else None
        return {"program_id": str(first.id) if first else "", "course_name": "", "topics": "", "weekly_hours": "2",
                "slots": "", "term": first.term if first else "", "is_professional": "true"}
    return {"program_id": str(row.program_id), "course_name": row.course_name, "topics": join_list(row.topics),
            "weekly_hours": str(row.weekly_hours), "slots": join_list(row.slots), "term": row.term,
            "is_professional": "true" if row.is_professional else ""}


def _values(form: Any, *, creating: bool) -> dict[str, Any]:
    values = {k: v for k, v in form_values(form, lists=NEED_LISTS).items() if k in NEED_FIELDS}
    # An unticked box is not submitted at all: that is "no", not "unchanged".
    values["is_professional"] = form.get("is_professional") == "true"
    if not creating:
        values.pop("program_id", None)  # a need stays with its program (its placements name it)
    return values


def _form_page(request: Request, session: Any, principal: Any, row: CourseNeed | None, values: dict[str, Any],
               errors: dict[str, str], status_code: int = 200) -> Response:
    programs = _programs(session, principal)
    return render(request, "office/course_need_form.html", {
        "need": row, "values": values, "errors": errors, "programs": programs,
        "program_names": {p.id: p.name for p in programs}}, status_code=status_code)


@router.get("/course-needs/new")
def new_course_need(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    return _form_page(request, session, principal, None, _need_form(None, _programs(session, principal)), {})


@router.post("/course-needs/new")
async def create_course_need(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    form = await request.form()
    try:
        with session.begin_nested():
            row = CourseNeedService(session, principal).create(
                CourseNeedCreate.model_validate(_values(form, creating=True)))
    except (ValidationError, Unprocessable) as exc:
        return _form_page(request, session, principal, None, _shown(form), field_errors(exc, gettext_of(request)),
                          status_code=422)
    flash(request, "ok", gettext_of(request).gettext("Course need “%(name)s” added.") % {"name": row.course_name})
    return redirect(f"/course-needs/{row.id}")


@router.get("/course-needs/{need_id}")
def course_need(request: Request, need_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    row = _own_need(session, principal, need_id)
    placements = PlacementViews(session, principal).lecturer_placements(course_need_ids=[need_id])
    try:
        candidates = MatchService(session, principal).lecturers_for_course_need(need_id, limit=5, explain=3).items
        scorable = True
    except NotScorable:
        candidates, scorable = [], False
    programs = {p.id: p for p in _programs(session, principal)}
    return render(request, "office/course_need.html", {
        "need": row, "program": programs.get(row.program_id), "placements": placements,
        "current": next((p for p in placements if p["status"].value in ("published", "accepted", "confirmed",
                                                                           "completed")), None),
        "candidates": candidates, "scorable": scorable})


@router.get("/course-needs/{need_id}/edit")
def edit_course_need(request: Request, need_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    row = _own_need(session, principal, need_id)
    return _form_page(request, session, principal, row, _need_form(row, []), {})


@router.post("/course-needs/{need_id}/edit")
async def update_course_need(request: Request, need_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    service = CourseNeedService(session, principal)
    row = _own_need(session, principal, need_id)  # another college's need is a 404 before the form is read
    form = await request.form()
    try:
        with session.begin_nested():
            service.update(need_id, CourseNeedUpdate.model_validate(_values(form, creating=False)))
    except (ValidationError, Unprocessable) as exc:
        session.expire(row)
        return _form_page(request, session, principal, row, {**_shown(form), "program_id": str(row.program_id)},
                          field_errors(exc, gettext_of(request)), status_code=422)
    flash(request, "ok", gettext_of(request).gettext("Course need “%(name)s” saved.") % {"name": row.course_name})
    return redirect(f"/course-needs/{need_id}")


def _own_need(session: Any, principal: Any, need_id: int) -> CourseNeed:
    """The college's own course need.  Course needs are public in the API (lecturers' enterprises
    rank them), but these pages are the office's own list: another college's need is not found."""
    row = CourseNeedService(session, principal).get(need_id)
    if principal.role is not Role.ADMIN and row.program_id not in {p.id for p in _programs(session, principal)}:
        raise NotFound.of("course-need", need_id)
    return row


def _shown(form: Any) -> dict[str, Any]:
    return {key: value for key, value in form.items() if isinstance(value, str)}
