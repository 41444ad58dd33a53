"""Placement office pages: programs and their matches, students (import, export), placements."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from app.db.engine import StagedUnit
from app.db.models import CURRENT_PLACEMENT_STATUSES, PlacementStatus, Role, Student
from app.errors import ChanjiaoError, Conflict, Forbidden, NotFound, NotScorable, Unprocessable
from app.run_schemas import AgreementRecord
from app.schemas import MAX_ID, StudentCreate, StudentUpdate
from app.services.imports import ExportService, ImportMode, ImportRejected, ImportService
from app.services.matching import MatchService
from app.services.placement_exports import placement_table
from app.services.placement_views import STUDENT_SORTS, UNPLACED, PlacementViews, StudentQuery
from app.services.resources import OpeningService, ProgramService, StudentService
from app.services.runs import RunService
from app.settings import Settings
from app.tabular import MEDIA_TYPES, FileType, read_table, write_table
from app.web.charts import contribution_bars
from app.web.core import (
    DbDep,
    StagedDbDep,
    StagedUserDep,
    UserDep,
    WebCohortQuery,
    WebGradeQuery,
    WebId,
    WebIdQuery,
    WebRoute,
    check_csrf,
    flash,
    gettext_of,
    is_htmx,
    redirect,
    render,
    require,
)
from app.web.forms import field_errors, form_values, join_list
from app.web.labels import feature_label
from app.web.messages import row_error_message, service_message, validation_message

router = APIRouter(route_class=WebRoute, dependencies=[Depends(check_csrf)], include_in_schema=False)

OFFICE = (Role.PLACEMENT_OFFICE,)
UNZIP_FACTOR = 10  # as the API: a workbook may inflate to ten times the upload limit
PAGE = 50


def _own_college(principal: Any) -> dict[str, Any]:
    return {"college_id": principal.college_id} if principal.college_id else {}


@router.get("/programs")
def programs(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    page = ProgramService(session, principal).page(_own_college(principal), limit=200, cursor=None)
    return render(request, "office/programs.html", {"programs": page.items})


@router.get("/programs/{program_id}")
def program(request: Request, program_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    row = ProgramService(session, principal).get(program_id)
    # The ranked openings come in a second request (htmx, on load): scoring every opening of the
    # term takes longer than the page itself, and the program's facts should not wait for it.
    return render(request, "office/program.html", {"program": row})


@router.get("/programs/{program_id}/matches")
def program_matches(request: Request, program_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    row = ProgramService(session, principal).get(program_id)
    matches = MatchService(session, principal).openings_for_program(program_id, limit=15, explain=8)
    _ = gettext_of(request).gettext
    charts = [contribution_bars(_("Why “%(title)s” fits") % {"title": m.label},
                                [(_(feature_label(str(c["feature"]))), float(c["contribution"]))
                                 for c in m.explanation]) for m in matches.items]
    # Without JavaScript the "show matches" link opens this as a page of its own.
    template = "fragments/program_matches.html" if is_htmx(request) else "office/program_matches.html"
    return render(request, template, {"program": row, "matches": matches,
                                      "rows": list(zip(matches.items, charts, strict=True))})


STUDENT_STATUSES = [UNPLACED, *CURRENT_PLACEMENT_STATUSES]
STUDENT_LISTS = ("skills", "certificates")
STUDENT_OPTIONAL = ("phone", "email", "grade", "cohort")
STUDENT_FIELDS = ("program_id", "student_no", "name", "phone", "email", "skills", "certificates", "grade",
                  "cohort", "province", "city")


def opening_for_office(request: Request, session: Any, principal: Any, opening_id: int) -> Response:
    """An opening as a placement office reads it (openings are public): its facts and the college's
    students placed there.  How it fits the college's programs comes in a second request (htmx, on
    load, as on a program's page): scoring takes longer than the facts should wait."""
    opening = OpeningService(session, principal).get(opening_id)
    placed = PlacementViews(session, principal).published(opening_id=opening_id)
    return render(request, "office/opening.html", {
        "opening": opening, "enterprise": opening.enterprise.name, "placed": placed,
        "open_seats": max(0, opening.seats - opening.filled_seats)})


@router.get("/openings/{opening_id}/fit")
def opening_fit(request: Request, opening_id: WebId, session: DbDep, user: UserDep) -> Response:
    """The fit of an opening to each of the college's own programs, with the reasons and their
    shares, and the college's best-fitting students.  Reached from a program's match list."""
    principal = require(user, *OFFICE)
    opening = OpeningService(session, principal).get(opening_id)
    _ = gettext_of(request).gettext
    try:
        programs, students = MatchService(session, principal).programs_for_opening(opening_id, limit=10_000, explain=8)
        own = [m for m in programs.items if m.extra.get("college_id") == principal.college_id]
        model_version: str | None = programs.model_version
        ranked = students.items[:10]
    except NotScorable:
        own, model_version, ranked = [], None, []
    charts = [contribution_bars(_("Why “%(title)s” fits") % {"title": m.label},
                                [(_(feature_label(str(c["feature"]))), float(c["contribution"]))
                                 for c in m.explanation]) for m in own]
    # Without JavaScript the link opens this as a page of its own.
    template = "fragments/opening_fit.html" if is_htmx(request) else "office/opening_fit.html"
    return render(request, template, {"opening": opening, "fits": list(zip(own, charts, strict=True)),
                                      "scorable": model_version is not None, "model_version": model_version,
                                      "students": ranked})


@router.get("/students")
def students(request: Request, session: DbDep, user: UserDep, q: Annotated[str, Query(max_length=40)] = "",
             program_id: WebIdQuery = None, grade_min: WebGradeQuery = None, grade_max: WebGradeQuery = None,
             cohort: WebCohortQuery = None, status: Annotated[str, Query(max_length=20)] = "",
             sort: Annotated[str, Query(max_length=20)] = "student_no",
             order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
             page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    """The college's students: search, filters, sort and a page at a time, each with the placement
    that stands for their term (or none)."""
    principal = require(user, *OFFICE)
    status = status if status in STUDENT_STATUSES else ""
    sort = sort if sort in STUDENT_SORTS else "student_no"
    query = StudentQuery(q=q.strip(), program_id=program_id, grade_min=grade_min, grade_max=grade_max,
                         cohort=cohort, status=status, sort=sort, descending=order == "desc", limit=PAGE,
                         offset=(page - 1) * PAGE)
    rows, total = PlacementViews(session, principal).students(query)
    programs = ProgramService(session, principal).page(_own_college(principal), limit=200, cursor=None).items
    filters = {"q": q.strip(), "program_id": program_id or "", "status": status,
               "grade_min": "" if grade_min is None else f"{grade_min:g}",
               "grade_max": "" if grade_max is None else f"{grade_max:g}",
               "cohort": "" if cohort is None else str(cohort)}
    return render(request, "office/students.html", {
        "students": rows, "total": total, "page": page, "has_next": page * PAGE < total, "filters": filters,
        "filter_query": urlencode({k: v for k, v in filters.items() if v != ""}), "sort": sort, "order": order,
        "statuses": STUDENT_STATUSES, "programs": programs, "report": None,
        "back": request.url.path + ("?" + request.url.query if request.url.query else "")})


def _student_form(row: Student | None) -> dict[str, Any]:
    if row is None:
        return dict.fromkeys(STUDENT_FIELDS, "")
    return {"program_id": str(row.program_id), "student_no": row.student_no, "name": row.name,
            "phone": row.phone or "", "email": row.email or "", "skills": join_list(row.skills),
            "certificates": join_list(row.certificates), "grade": "" if row.grade is None else f"{row.grade:g}",
            "cohort": "" if row.cohort is None else str(row.cohort), "province": row.province, "city": row.city}


def _student_page(request: Request, session: Any, principal: Any, row: Student | None, values: dict[str, Any],
                  errors: dict[str, str], status_code: int = 200) -> Response:
    programs = ProgramService(session, principal).page(_own_college(principal), limit=200, cursor=None).items
    standing = PlacementViews(session, principal).standing(row.id) if row is not None else None
    return render(request, "office/student_form.html", {"student": row, "values": values, "errors": errors,
                                                        "programs": programs, "standing": standing},
                  status_code=status_code)


@router.get("/students/new")
def new_student(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    return _student_page(request, session, principal, None, _student_form(None), {})


@router.post("/students/new")
async def create_student(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    form = await request.form()
    values = _student_values(form)
    g = gettext_of(request)
    try:
        with session.begin_nested():
            # The program decides the college: one of another college is refused by the service.
            row = StudentService(session, principal).create(StudentCreate.model_validate(values))
    except (ValidationError, Unprocessable, Forbidden) as exc:
        return _student_page(request, session, principal, None, _shown(form), _student_errors(exc, g),
                             status_code=403 if isinstance(exc, Forbidden) else 422)
    except IntegrityError:
        return _student_page(request, session, principal, None, _shown(form),
                             {"student_no": validation_message(g, {"type": "student_no_taken"})}, status_code=409)
    flash(request, "ok", g.gettext("Student %(no)s added.") % {"no": row.student_no})
    return redirect(f"/students?q={quote(row.student_no)}")


@router.get("/students/{student_id}/edit")
def edit_student(request: Request, student_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    row = StudentService(session, principal).get(student_id)
    return _student_page(request, session, principal, row, _student_form(row), {})


@router.post("/students/{student_id}/edit")
async def update_student(request: Request, student_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    service = StudentService(session, principal)
    row = service.get(student_id)  # another college's student is a 404 before the form is read
    form = await request.form()
    g = gettext_of(request)
    try:
        with session.begin_nested():
            service.update(student_id, StudentUpdate.model_validate(_student_values(form)))
    except (ValidationError, Unprocessable, Forbidden, Conflict) as exc:
        session.expire(row)
        status_code = 403 if isinstance(exc, Forbidden) else 409 if isinstance(exc, Conflict) else 422
        return _student_page(request, session, principal, row, _shown(form), _student_errors(exc, g),
                             status_code=status_code)
    except IntegrityError:
        session.expire(row)
        return _student_page(request, session, principal, row, _shown(form),
                             {"student_no": validation_message(g, {"type": "student_no_taken"})}, status_code=409)
    flash(request, "ok", g.gettext("Student %(no)s saved.") % {"no": row.student_no})
    return redirect(f"/students?q={quote(row.student_no)}")


def _student_values(form: Any) -> dict[str, Any]:
    values = form_values(form, lists=STUDENT_LISTS, optional=STUDENT_OPTIONAL)
    return {k: v for k, v in values.items() if k in STUDENT_FIELDS}


def _shown(form: Any) -> dict[str, Any]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _student_errors(exc: Exception, g: Any) -> dict[str, str]:
    if isinstance(exc, ValidationError | Unprocessable):
        return field_errors(exc, g)
    assert isinstance(exc, ChanjiaoError)
    return {"__all__": service_message(g, exc)}


ModeForm = Annotated[str, Form(max_length=10)]


@router.post("/students/import")
def import_students(request: Request, unit: StagedDbDep, user: StagedUserDep, file: Annotated[UploadFile, File()],
                    dry_run: Annotated[bool, Form()] = False, mode: ModeForm = "create") -> Response:
    return import_file(request, unit, user, "students", file, dry_run, "/students", OFFICE, mode)


def import_file(request: Request, unit: StagedUnit, user: Any, kind: str, upload: UploadFile, dry_run: bool,
                back: str, roles: tuple[Role, ...], mode: str = "create") -> Response:
    """Shared by every import form: the same checks as the API, the report shown row by row, each
    problem in the reader's language and named by the column the file used.

    As in the API, reading and checking the file take no write lock (``StagedUnit``); only the
    writing of the checked rows does, in one short write."""
    principal = require(user, *roles)
    import_mode = ImportMode.UPSERT if mode == ImportMode.UPSERT.value else ImportMode.CREATE
    settings: Settings = request.app.state.settings
    data = upload.file.read(settings.max_import_bytes + 1)
    _ = gettext_of(request).gettext
    if len(data) > settings.max_import_bytes:
        flash(request, "warn", _("The file is too large."))
        return redirect(back)
    table = read_table(data, upload.filename, upload.content_type, max_rows=settings.max_import_rows,
                       max_unzipped_bytes=settings.max_import_bytes * UNZIP_FACTOR)
    try:
        checked = ImportService(unit.read, principal).check(kind, table, dry_run=dry_run, mode=import_mode)
        if dry_run:
            report = checked.report()
        else:
            with unit.write() as session:
                report = ImportService(session, principal).store(checked)
    except ImportRejected as exc:
        report = exc.report
    if not dry_run and not report.error_count and (report.created or report.updated):
        if import_mode is ImportMode.UPSERT:
            flash(request, "ok", _("Imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.")
                  % {"created": report.created, "updated": report.updated, "unchanged": report.unchanged})
        else:
            flash(request, "ok", _("Imported %(n)d rows.") % {"n": report.created})
        return redirect(back)
    g = gettext_of(request)
    errors = [{"row": e.row, "column": e.column, "message": row_error_message(g, e)} for e in report.errors]
    return render(request, "import_report.html", {"report": report, "errors": errors, "back": back, "kind": kind,
                                                  "mode": import_mode.value},
                  status_code=422 if report.error_count else 200)


@router.get("/students/export")
def export_students(request: Request, session: DbDep, user: UserDep,
                    file_format: Annotated[FileType, Query(alias="format")] = FileType.CSV) -> Response:
    return export_kind(session, user, "students", file_format, OFFICE, gettext_of(request).locale)


def spreadsheet(header: list[str], rows: list[list[Any]], file_format: FileType, name: str) -> Response:
    return Response(write_table(header, rows, file_format, title=name), media_type=MEDIA_TYPES[file_format],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{file_format.value}"',
                             "Cache-Control": "no-store"})


def export_kind(session: Any, user: Any, kind: str, file_format: FileType, roles: tuple[Role, ...],
                locale: str = "en") -> Response:
    """The kind's rows the user may read, with the import's headers in the page's language (an
    unchanged export loads back in update mode)."""
    principal = require(user, *roles)
    header, rows = ExportService(session, principal).table(kind, locale)
    return spreadsheet(header, rows, file_format, kind)


# Who downloads which import template (the roles of the kind's import page).
TEMPLATE_ROLES = {"students": OFFICE, "course-needs": OFFICE, "openings": (Role.ENTERPRISE_HR,),
                  "lecturers": (Role.ENTERPRISE_HR,)}


@router.get("/{kind}/import/template")
def import_template(request: Request, kind: str, user: UserDep,
                    file_format: Annotated[FileType, Query(alias="format")] = FileType.XLSX) -> Response:
    """An empty file of the kind: its header row in the page's language."""
    if kind not in TEMPLATE_ROLES:
        raise NotFound(f"no import template for {kind}", code="not_found", params={"entity": kind, "id": ""})
    require(user, *TEMPLATE_ROLES[kind])
    return spreadsheet(ExportService.template(kind, gettext_of(request).locale), [], file_format, f"{kind}-template")


@router.get("/placements/export")
def export_placements(request: Request, session: DbDep, user: UserDep,
                      file_format: Annotated[FileType, Query(alias="format")] = FileType.XLSX,
                      status: Annotated[str, Query(max_length=20)] = "", program_id: WebIdQuery = None) -> Response:
    """The placements of the page (its filters kept) as a spreadsheet in the page's language."""
    principal = require(user, Role.PLACEMENT_OFFICE, Role.ENTERPRISE_HR)
    header, rows = placement_table(session, principal, gettext_of(request).locale,
                                   statuses=STATUS_FILTERS.get(status, ()), program_id=program_id)
    return spreadsheet(header, rows, file_format, "placements")


# What the placements page can filter by: a status, or the placements that still stand.
STATUS_FILTERS = {"": (), "current": tuple(PlacementStatus(s) for s in CURRENT_PLACEMENT_STATUSES),
                  **{s.value: (s,) for s in PlacementStatus if s is not PlacementStatus.PROPOSED}}


@router.get("/placements")
def placements(request: Request, session: DbDep, user: UserDep,
               status: Annotated[str, Query(max_length=20)] = "", program_id: WebIdQuery = None,
               page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    principal = require(user, Role.PLACEMENT_OFFICE, Role.ENTERPRISE_HR)
    if status not in STATUS_FILTERS:
        status = ""
    # One more than a page tells whether there is a next one.
    rows = PlacementViews(session, principal).published(statuses=STATUS_FILTERS[status], program_id=program_id,
                                                        limit=PAGE + 1, offset=(page - 1) * PAGE)
    has_next, rows = len(rows) > PAGE, rows[:PAGE]
    programs = (ProgramService(session, principal).page(_own_college(principal), limit=200, cursor=None).items
                if principal.role is Role.PLACEMENT_OFFICE else [])
    return render(request, "placements.html", {"placements": rows, "status": status, "statuses": list(STATUS_FILTERS),
                                               "program_id": program_id, "programs": programs, "page": page,
                                               "has_next": has_next,
                                               "runs": sorted({r["run_id"] for r in rows}, reverse=True)})


@router.get("/placements/unplaced")
def unplaced(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    return render(request, "office/unplaced.html", {"rows": PlacementViews(session, principal).unplaced()})


_COURSE_NEED_PAGE = re.compile(r"^/course-needs/[0-9]{1,10}$")


def _list_url(back: str) -> str:
    # Only a page of this list (its filters and page number) or the course need whose lecturer was
    # answered, never another site or page.
    if back.startswith("/placements") and not back.startswith("/placements/") and "//" not in back:
        return back.split("#", 1)[0]
    if _COURSE_NEED_PAGE.match(back):
        return back
    return "/placements"


def _answered(request: Request, placement: Any, back: str) -> Response:
    """Back to the row just answered, on the list page it was on, so the keyboard and the eye
    stay where they were."""
    _ = gettext_of(request).gettext
    flash(request, "ok", _("Placement %(id)d: %(status)s.") % {"id": placement.id,
                                                              "status": _(placement.status.value)})
    return redirect(f"{_list_url(back)}#placement-{placement.id}")


BackForm = Annotated[str, Form(max_length=300)]
BackQuery = Annotated[str, Query(max_length=300)]


@router.post("/placements/{placement_id}/accept")
def accept(request: Request, placement_id: WebId, session: DbDep, user: UserDep, back: BackForm = "") -> Response:
    principal = require(user, *OFFICE)
    return _answered(request, RunService(session, principal).respond(placement_id, accept=True), back)


@router.post("/placements/accept")
async def accept_selected(request: Request, session: DbDep, user: UserDep) -> Response:
    """Several offers at once; each one is its own answer (one refusal does not undo the others)."""
    principal = require(user, *OFFICE)
    _ = gettext_of(request).gettext
    form = await request.form()
    ids = sorted({int(v) for v in form.getlist("placement_id") if isinstance(v, str) and v.isdigit()
                  and 0 < int(v) <= MAX_ID})
    service = RunService(session, principal)
    accepted, refused = 0, []
    for placement_id in ids:
        try:
            with session.begin_nested():
                service.respond(placement_id, accept=True)
            accepted += 1
        except ChanjiaoError as exc:
            refused.append(f"{placement_id}: {service_message(gettext_of(request), exc)}")
    flash(request, "ok", _("%(n)d placements accepted.") % {"n": accepted})
    for line in refused[:10]:
        flash(request, "warn", line)
    return redirect("/placements")


@router.get("/placements/{placement_id}/decline")
def confirm_decline(request: Request, placement_id: WebId, session: DbDep, user: UserDep,
                    back: BackQuery = "") -> Response:
    """A decline cannot be undone: the page asks first (no script needed)."""
    return _confirm(request, session, user, placement_id, "decline", back)


@router.post("/placements/{placement_id}/decline")
def decline(request: Request, placement_id: WebId, session: DbDep, user: UserDep, back: BackForm = "") -> Response:
    principal = require(user, *OFFICE)
    return _answered(request, RunService(session, principal).respond(placement_id, accept=False), back)


@router.post("/placements/{placement_id}/agreement")
def agreement(request: Request, placement_id: WebId, session: DbDep, user: UserDep,
              number: Annotated[str, Form(max_length=64)] = "",
              signed_on: Annotated[str, Form(max_length=10)] = "", back: BackForm = "") -> Response:
    principal = require(user, *OFFICE)
    try:
        record = AgreementRecord.model_validate({"number": number.strip() or None, "signed_on": signed_on or None})
    except ValidationError as exc:
        raise Unprocessable("invalid agreement", [dict(e) for e in exc.errors(include_url=False)]) from exc
    return _answered(request, RunService(session, principal).record_agreement(
        placement_id, number=record.number, signed_on=record.signed_on), back)


@router.get("/placements/{placement_id}/withdraw")
def confirm_withdraw(request: Request, placement_id: WebId, session: DbDep, user: UserDep,
                     back: BackQuery = "") -> Response:
    return _confirm(request, session, user, placement_id, "withdraw", back)


def _confirm(request: Request, session: Any, user: Any, placement_id: int, action: str, back: str) -> Response:
    principal = require(user, *OFFICE)
    row = _own_placement(session, principal, placement_id)
    return render(request, "office/placement_confirm.html", {"p": row, "action": action, "back": _list_url(back)})


@router.post("/placements/{placement_id}/withdraw")
def withdraw(request: Request, placement_id: WebId, session: DbDep, user: UserDep,
             reason: Annotated[str, Form(max_length=500)] = "", back: BackForm = "") -> Response:
    principal = require(user, *OFFICE)
    _own_placement(session, principal, placement_id)  # another college's placement is a 404 first
    if not reason.strip():
        raise Unprocessable("a reason is required", [{"loc": ["reason"], "type": "missing", "msg": "required"}])
    return _answered(request, RunService(session, principal).withdraw_placement(placement_id, reason.strip()), back)


def _own_placement(session: Any, principal: Any, placement_id: int) -> dict[str, Any]:
    rows = PlacementViews(session, principal).published(placement_id=placement_id, limit=1)
    if not rows:
        raise NotFound.of("placement", placement_id)
    return rows[0]
