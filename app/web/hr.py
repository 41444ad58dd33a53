"""Enterprise HR pages: openings and lecturer offers (create, edit with conflict handling, import,
export), the 大典 occupation suggestion, and the programs and students matched to an opening."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError

from app.db.models import CURRENT_PLACEMENT_STATUSES, EducationLevel, Lecturer, Opening, PlacementStatus, Role
from app.errors import Conflict, Forbidden, NotScorable, PreconditionFailed, Unprocessable
from app.schemas import LecturerCreate, LecturerUpdate, OpeningCreate, OpeningUpdate
from app.services.catalog_queries import search_occupations
from app.services.matching import MatchService
from app.services.placement_views import PlacementViews
from app.services.resources import LecturerService, OpeningService, etag_of
from app.tabular import FileType
from app.web.core import (
    DbDep,
    StagedDbDep,
    StagedUserDep,
    UserDep,
    WebId,
    WebRoute,
    check_csrf,
    flash,
    gettext_of,
    redirect,
    render,
    require,
)
from app.web.forms import field_errors, form_values, join_list
from app.web.messages import service_message
from app.web.office import ModeForm, export_kind, import_file, opening_for_office

router = APIRouter(route_class=WebRoute, dependencies=[Depends(check_csrf)], include_in_schema=False)

HR = (Role.ENTERPRISE_HR,)
LEVELS = [level.value for level in EducationLevel]
OPENING_LISTS = ("required_skills", "eligible_major_codes")
OPENING_OPTIONAL = ("code", "occupation_code", "period_start", "period_end", "post_headcount")
LECTURER_LISTS = ("topics", "available_slots", "cities")


def _require_own(principal: Any, row: Opening | Lecturer) -> None:
    # Openings are public and admins read every lecturer: only the row's enterprise gets an edit
    # form (the service refuses another enterprise's save anyway).
    if principal.role is not Role.ADMIN and row.enterprise_id != principal.enterprise_id:
        raise Forbidden("this belongs to another enterprise", code="not_yours")


def _own(principal: Any) -> dict[str, Any]:
    return {"enterprise_id": principal.enterprise_id} if principal.enterprise_id else {}


def _code_taken(exc: Conflict, request: Request) -> dict[str, str]:
    """The one conflict an opening's own fields can cause: its code (岗位编号) is another opening's."""
    if exc.code != "opening_code_taken":
        raise exc
    return {"code": service_message(gettext_of(request), exc)}


def _opening_form(row: Opening | None) -> dict[str, Any]:
    """Field values of an opening as the form shows them."""
    if row is None:
        return {"code": "", "title": "", "description": "", "required_skills": "", "occupation_code": "", "seats": "1",
                "province": "", "city": "", "term": "", "period_start": "", "period_end": "",
                "eligible_levels": [], "eligible_major_codes": "", "post_headcount": "", "version": ""}
    return {"code": row.code or "", "title": row.title, "description": row.description,
            "required_skills": join_list(row.required_skills),
            "occupation_code": row.occupation_code or "", "seats": str(row.seats), "province": row.province,
            "city": row.city, "term": row.term, "period_start": row.period_start or "",
            "period_end": row.period_end or "", "eligible_levels": list(row.eligible_levels or []),
            "eligible_major_codes": join_list(row.eligible_major_codes),
            "post_headcount": "" if row.post_headcount is None else str(row.post_headcount),
            "version": str(row.version)}


def _submitted(form: Any) -> dict[str, Any]:
    shown = {key: value for key, value in form.items() if isinstance(value, str)}
    shown["eligible_levels"] = form.getlist("eligible_levels")
    return shown


# --------------------------------------------------------------------------- openings


@router.get("/openings")
def openings(request: Request, session: DbDep, user: UserDep,
             cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    principal = require(user, *HR)
    page = OpeningService(session, principal).page(_own(principal), limit=100, cursor=cursor)
    return render(request, "hr/openings.html", {"openings": page.items, "next_cursor": page.next_cursor})


@router.get("/openings/export")
def export_openings(request: Request, session: DbDep, user: UserDep,
                    file_format: Annotated[FileType, Query(alias="format")] = FileType.CSV) -> Response:
    return export_kind(session, user, "openings", file_format, HR, gettext_of(request).locale)


@router.get("/openings/new")
def new_opening(request: Request, user: UserDep) -> Response:
    require(user, *HR)
    return render(request, "hr/opening_form.html", {"opening": None, "values": _opening_form(None), "errors": {},
                                                    "levels": LEVELS, "conflict": None})


@router.post("/openings/new")
async def create_opening(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *HR)
    form = await request.form()
    values = form_values(form, lists=OPENING_LISTS, multi=("eligible_levels",), optional=OPENING_OPTIONAL)
    values.pop("version", None)
    try:
        data = OpeningCreate.model_validate({**values, "enterprise_id": principal.enterprise_id})
        row = OpeningService(session, principal).create(data)
    except (ValidationError, Unprocessable) as exc:
        return render(request, "hr/opening_form.html", {
            "opening": None, "values": _submitted(form), "levels": LEVELS,
            "errors": field_errors(exc, gettext_of(request)),
            "conflict": None}, status_code=422)
    except Conflict as exc:
        return render(request, "hr/opening_form.html", {
            "opening": None, "values": _submitted(form), "levels": LEVELS,
            "errors": _code_taken(exc, request), "conflict": None}, status_code=409)
    flash(request, "ok", gettext_of(request).gettext("Opening created."))
    return redirect(f"/openings/{row.id}")


@router.get("/openings/{opening_id}")
def opening_detail(request: Request, opening_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *HR, Role.PLACEMENT_OFFICE)
    if principal.role is Role.PLACEMENT_OFFICE:
        return opening_for_office(request, session, principal, opening_id)
    row = OpeningService(session, principal).get(opening_id)
    try:
        programs, _students = MatchService(session, principal).programs_for_opening(opening_id, limit=15, explain=3)
    except NotScorable:
        # Saved with only the required fields: the page says what to add instead of failing.
        programs = None
    placed = PlacementViews(session, principal).published(opening_id=opening_id)
    return render(request, "hr/opening.html", {"opening": row, "programs": programs, "placed": placed,
                                               "owned": principal.role is Role.ADMIN
                                               or row.enterprise_id == principal.enterprise_id})


@router.get("/openings/{opening_id}/edit")
def edit_opening(request: Request, opening_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *HR)
    row = OpeningService(session, principal).get(opening_id)
    _require_own(principal, row)
    return render(request, "hr/opening_form.html", {"opening": row, "values": _opening_form(row), "errors": {},
                                                    "levels": LEVELS, "conflict": None})


@router.post("/openings/{opening_id}/edit")
async def update_opening(request: Request, opening_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *HR)
    form = await request.form()
    values = form_values(form, lists=OPENING_LISTS, multi=("eligible_levels",), optional=OPENING_OPTIONAL)
    version = str(values.pop("version", "") or "")
    service = OpeningService(session, principal)
    try:
        data = OpeningUpdate.model_validate(values)
        # The version the form was loaded with is the ETag: if someone saved in between, the service refuses.
        row = service.update(opening_id, data, if_match=etag_of(int(version)) if _is_version(version) else None)
    except PreconditionFailed:
        session.rollback()
        current = service.get(opening_id)
        _ = gettext_of(request).gettext
        return render(request, "hr/opening_form.html", {
            "opening": current, "values": {**_submitted(form), "version": str(current.version)}, "errors": {},
            "levels": LEVELS, "conflict": {"current": _opening_form(current),
                                           "message": _("Someone else saved this opening after you opened it. "
                                                        "Their values are shown beside yours; check them and "
                                                        "save again to keep yours.")}}, status_code=409)
    except (ValidationError, Unprocessable) as exc:
        current = service.get(opening_id)
        return render(request, "hr/opening_form.html", {
            "opening": current, "values": _submitted(form), "levels": LEVELS,
            "errors": field_errors(exc, gettext_of(request)),
            "conflict": None}, status_code=422)
    except Conflict as exc:
        return render(request, "hr/opening_form.html", {
            "opening": service.get(opening_id), "values": _submitted(form), "levels": LEVELS,
            "errors": _code_taken(exc, request), "conflict": None}, status_code=409)
    flash(request, "ok", gettext_of(request).gettext("Opening saved."))
    return redirect(f"/openings/{row.id}")


@router.post("/openings/import")
def import_openings(request: Request, unit: StagedDbDep, user: StagedUserDep,
                    file: Annotated[UploadFile, File()], dry_run: Annotated[bool, Form()] = False,
                    mode: ModeForm = "create") -> Response:
    return import_file(request, unit, user, "openings", file, dry_run, "/openings", HR, mode)


@router.get("/occupations/suggest")
def suggest_occupations(request: Request, session: DbDep, user: UserDep,
                        title: Annotated[str, Query(max_length=200)] = "",
                        description: Annotated[str, Query(max_length=2000)] = "",
                        occupation_code: Annotated[str, Query(max_length=16)] = "") -> Response:
    """htmx: the 大典 occupations that fit the job title typed so far, as radio choices."""
    principal = require(user, *HR)
    suggestions: list[tuple[str, str, float | None]] = []
    if title.strip():
        try:
            ranked = MatchService(session, principal).occupations_for_title(title, description, top_k=6)
            suggestions = [(str(m.id), m.label, m.score) for m in ranked.items]
        except Unprocessable:
            # Too little text to rank: fall back to names containing what was typed.
            page = search_occupations(session, q=title.strip(), level=4, cursor=None, limit=6)
            suggestions = [(o.code, o.name, None) for o in page.items]
    return render(request, "fragments/occupations.html", {"suggestions": suggestions, "selected": occupation_code})


# --------------------------------------------------------------------------- lecturer offers


def _lecturer_form(row: Lecturer | None) -> dict[str, Any]:
    if row is None:
        return {"name": "", "title": "", "expertise": "", "topics": "", "max_weekly_hours": "4",
                "available_slots": "", "cities": ""}
    return {"name": row.name, "title": row.title, "expertise": row.expertise, "topics": join_list(row.topics),
            "max_weekly_hours": str(row.max_weekly_hours), "available_slots": join_list(row.available_slots),
            "cities": join_list(row.cities)}


@router.get("/lecturers")
def lecturers(request: Request, session: DbDep, user: UserDep,
              cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    principal = require(user, *HR)
    page = LecturerService(session, principal).page(_own(principal), limit=100, cursor=cursor)
    return render(request, "hr/lecturers.html", {"lecturers": page.items, "next_cursor": page.next_cursor})


@router.get("/lecturers/export")
def export_lecturers(request: Request, session: DbDep, user: UserDep,
                     file_format: Annotated[FileType, Query(alias="format")] = FileType.CSV) -> Response:
    return export_kind(session, user, "lecturers", file_format, HR, gettext_of(request).locale)


@router.get("/lecturers/new")
def new_lecturer(request: Request, user: UserDep) -> Response:
    require(user, *HR)
    return render(request, "hr/lecturer_form.html", {"lecturer": None, "values": _lecturer_form(None), "errors": {}})


@router.post("/lecturers/new")
async def create_lecturer(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *HR)
    form = await request.form()
    values = form_values(form, lists=LECTURER_LISTS)
    try:
        data = LecturerCreate.model_validate({**values, "enterprise_id": principal.enterprise_id})
        LecturerService(session, principal).create(data)
    except (ValidationError, Unprocessable) as exc:
        return render(request, "hr/lecturer_form.html", {"lecturer": None, "values": dict(form.items()),
                                                         "errors": field_errors(exc, gettext_of(request))},
                      status_code=422)
    flash(request, "ok", gettext_of(request).gettext("Lecturer offer created."))
    return redirect("/lecturers")


@router.get("/lecturers/{lecturer_id}/edit")
def edit_lecturer(request: Request, lecturer_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *HR)
    row = LecturerService(session, principal).get(lecturer_id)
    _require_own(principal, row)
    return render(request, "hr/lecturer_form.html", {"lecturer": row, "values": _lecturer_form(row), "errors": {}})


@router.post("/lecturers/{lecturer_id}/edit")
async def update_lecturer(request: Request, lecturer_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *HR)
    form = await request.form()
    service = LecturerService(session, principal)
    try:
        service.update(lecturer_id, LecturerUpdate.model_validate(form_values(form, lists=LECTURER_LISTS)))
    except (ValidationError, Unprocessable) as exc:
        return render(request, "hr/lecturer_form.html", {"lecturer": service.get(lecturer_id),
                                                         "values": dict(form.items()),
                                                         "errors": field_errors(exc, gettext_of(request))},
                      status_code=422)
    flash(request, "ok", gettext_of(request).gettext("Lecturer offer saved."))
    return redirect("/lecturers")


INTERN_FILTERS = {"current": tuple(PlacementStatus(s) for s in CURRENT_PLACEMENT_STATUSES), "": ()}
PAGE = 50


@router.get("/interns")
def interns(request: Request, session: DbDep, user: UserDep, status: Annotated[str, Query(max_length=20)] = "current",
            page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    """The students placed at the enterprise's openings by published runs.  HR sees a student's
    number, program and college always; the name and phone only while the placement stands
    (offered or live), as the API's contact rule says."""
    principal = require(user, *HR)
    status = status if status in INTERN_FILTERS else "current"
    views = PlacementViews(session, principal)
    rows = views.published(statuses=INTERN_FILTERS[status], limit=PAGE + 1, offset=(page - 1) * PAGE)
    has_next, rows = len(rows) > PAGE, rows[:PAGE]
    contacts = views.contacts([r["id"] for r in rows])
    return render(request, "hr/interns.html", {"rows": rows, "contacts": contacts, "status": status, "page": page,
                                               "has_next": has_next})


@router.get("/lecturers/placements")
def lecturer_placements(request: Request, session: DbDep, user: UserDep,
                        page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    """Where published lecturer runs placed the enterprise's lecturers: college, program, course,
    hours, status, run and round."""
    principal = require(user, *HR)
    rows = PlacementViews(session, principal).lecturer_placements(limit=PAGE + 1, offset=(page - 1) * PAGE)
    has_next, rows = len(rows) > PAGE, rows[:PAGE]
    return render(request, "hr/lecturer_placements.html", {"rows": rows, "page": page, "has_next": has_next})


@router.post("/lecturers/import")
def import_lecturers(request: Request, unit: StagedDbDep, user: StagedUserDep,
                     file: Annotated[UploadFile, File()], dry_run: Annotated[bool, Form()] = False,
                     mode: ModeForm = "create") -> Response:
    return import_file(request, unit, user, "lecturers", file, dry_run, "/lecturers", HR, mode)


def _is_version(text: str) -> bool:
    # isdigit() alone admits "²", which int() refuses.
    return text.isascii() and text.isdigit() and len(text) <= 18
