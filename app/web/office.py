"""Placement office pages: programs and their matches, students (import, export), placements."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from app.db.models import Role
from app.services.imports import ExportService, ImportRejected, ImportService
from app.services.matching import MatchService
from app.services.placement_views import PlacementViews
from app.services.resources import ProgramService, StudentService
from app.services.runs import RunService
from app.settings import Settings
from app.tabular import MEDIA_TYPES, FileType, read_table, write_csv, write_xlsx
from app.web.charts import contribution_bars
from app.web.core import (
    DbDep,
    UserDep,
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
from app.web.labels import feature_label

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


@router.get("/students")
def students(request: Request, session: DbDep, user: UserDep, q: Annotated[str, Query(max_length=40)] = "",
             program_id: WebIdQuery = None,
             cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    principal = require(user, *OFFICE)
    page = StudentService(session, principal).page({"q": q, "program_id": program_id, **_own_college(principal)},
                                                    limit=PAGE, cursor=cursor)
    programs = ProgramService(session, principal).page(_own_college(principal), limit=200, cursor=None).items
    return render(request, "office/students.html", {
        "students": page.items, "next_cursor": page.next_cursor, "q": q, "program_id": program_id,
        "programs": programs, "program_names": {p.id: p.name for p in programs}, "report": None})


@router.post("/students/import")
def import_students(request: Request, session: DbDep, user: UserDep, file: Annotated[UploadFile, File()],
                    dry_run: Annotated[bool, Form()] = False) -> Response:
    return import_file(request, session, user, "students", file, dry_run, "/students", OFFICE)


def import_file(request: Request, session: Any, user: Any, kind: str, upload: UploadFile, dry_run: bool,
                back: str, roles: tuple[Role, ...]) -> Response:
    """Shared by every import form: the same checks as the API, the report shown row by row."""
    principal = require(user, *roles)
    settings: Settings = request.app.state.settings
    data = upload.file.read(settings.max_import_bytes + 1)
    _ = gettext_of(request).gettext
    if len(data) > settings.max_import_bytes:
        flash(request, "warn", _("The file is too large."))
        return redirect(back)
    table = read_table(data, upload.filename, upload.content_type, max_rows=settings.max_import_rows,
                       max_unzipped_bytes=settings.max_import_bytes * UNZIP_FACTOR)
    try:
        report = ImportService(session, principal).run(kind, table, dry_run=dry_run)
    except ImportRejected as exc:
        report = exc.report
    if not dry_run and report.created:
        flash(request, "ok", _("Imported %(n)d rows.") % {"n": report.created})
        return redirect(back)
    return render(request, "import_report.html", {"report": report, "back": back, "kind": kind},
                  status_code=422 if report.error_count else 200)


@router.get("/students/export")
def export_students(session: DbDep, user: UserDep,
                    file_format: Annotated[FileType, Query(alias="format")] = FileType.CSV) -> Response:
    return export_kind(session, user, "students", file_format, OFFICE)


def export_kind(session: Any, user: Any, kind: str, file_format: FileType, roles: tuple[Role, ...]) -> Response:
    principal = require(user, *roles)
    header, rows = ExportService(session, principal).table(kind)
    body = write_csv(header, rows) if file_format is FileType.CSV else write_xlsx(header, rows, title=kind)
    return Response(body, media_type=MEDIA_TYPES[file_format],
                    headers={"Content-Disposition": f'attachment; filename="{kind}.{file_format.value}"',
                             "Cache-Control": "no-store"})


@router.get("/placements")
def placements(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, Role.PLACEMENT_OFFICE, Role.ENTERPRISE_HR)
    rows = PlacementViews(session, principal).published()
    return render(request, "placements.html", {"placements": rows,
                                               "runs": sorted({r["run_id"] for r in rows}, reverse=True)})


@router.post("/placements/{placement_id}/{answer}")
def respond(request: Request, placement_id: WebId, answer: str, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *OFFICE)
    _ = gettext_of(request).gettext
    if answer not in ("accept", "decline"):
        flash(request, "warn", _("Unknown answer."))
        return redirect("/placements")
    placement = RunService(session, principal).respond(placement_id, accept=answer == "accept")
    flash(request, "ok", _("Placement %(id)d: %(status)s.") % {"id": placement.id,
                                                              "status": _(placement.status.value)})
    return redirect("/placements")
