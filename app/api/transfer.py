"""Bulk import (CSV/XLSX upload), templates and export of every kind with columns (students, openings,
lecturers, course needs, programs, enterprises, colleges).

Included before the CRUD routers: ``/students/export`` must not reach ``/students/{object_id}``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status
from pydantic import Field

from app.api.deps import PrincipalDep, SessionDep, StagedDep, StagedPrincipalDep
from app.api.problems import PROBLEM_MEDIA_TYPE, FieldProblem, Problem, problem_responses
from app.db.models import PlacementStatus
from app.errors import PayloadTooLarge
from app.services.imports import KINDS, ExportService, ImportMode, ImportReport, ImportService, RowError
from app.services.placement_exports import placement_table
from app.settings import Settings
from app.tabular import MEDIA_TYPES, FileType, read_table, write_table

# A workbook may inflate to this many times the upload limit (real sheets compress 5-20x).
UNZIP_FACTOR = 10

# Each route is tagged with its noun, so that imports and exports sit beside the noun's other operations.
router = APIRouter()


class ImportProblem(Problem):
    """422 of an import: nothing was stored; every bad row is listed."""

    errors: list[RowError | FieldProblem] | None = Field(  # type: ignore[assignment]
        default=None, description="Bad rows as (row, column, message); header = row 1.")
    kind: str | None = None
    rows: int | None = None
    created: int | None = None
    valid: int | None = None
    error_count: int | None = None


def _import_responses() -> dict[int | str, dict[str, Any]]:
    responses = problem_responses(401, 403, 409, 413, 415)
    responses[200] = {"model": ImportReport, "description": "Dry run: the report; nothing was stored."}
    responses[422] = {
        "model": ImportProblem,
        "description": "Bad rows (nothing was stored), an unreadable file or invalid parameters.",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ImportProblem"}}},
    }
    return responses


def _read_upload(upload: UploadFile, settings: Settings) -> bytes:
    # The middleware already stops bodies over the limit; this also covers a multipart body whose
    # file part alone is within it but whose form is not, and servers run without the middleware.
    data = upload.file.read(settings.max_import_bytes + 1)
    if len(data) > settings.max_import_bytes:
        raise PayloadTooLarge(f"the file exceeds {settings.max_import_bytes} bytes")
    return data


def _import_endpoint(kind: str) -> Callable[..., ImportReport]:
    def import_rows(
        request: Request,
        response: Response,
        unit: StagedDep,
        principal: StagedPrincipalDep,
        file: Annotated[UploadFile, File(description="A .csv (UTF-8 or GB18030) or .xlsx file; "
                                                     "row 1 names the columns.")],
        dry_run: Annotated[bool, Query(description="Validate every row and store nothing.")] = False,
        mode: Annotated[ImportMode, Query(description="create: refuse rows whose natural key exists; upsert: "
                                                      "update those rows (the columns the file fills) and create "
                                                      "the others. Nothing is ever deleted.")] = ImportMode.CREATE,
    ) -> ImportReport:
        settings: Settings = request.app.state.settings
        table = read_table(_read_upload(file, settings), file.filename, file.content_type,
                           max_rows=settings.max_import_rows,
                           max_unzipped_bytes=settings.max_import_bytes * UNZIP_FACTOR)
        # Reading the file and checking every row can take many seconds: none of it holds the write lock.
        checked = ImportService(unit.read, principal).check(kind, table, dry_run=dry_run, mode=mode)
        if dry_run:
            response.status_code = status.HTTP_200_OK
            return checked.report()
        with unit.write() as session:
            return ImportService(session, principal).store(checked)

    return import_rows


class Language(StrEnum):
    EN = "en"
    ZH_CN = "zh-CN"


FormatQuery = Annotated[FileType, Query(alias="format", description="csv or xlsx")]
LanguageQuery = Annotated[Language, Query(alias="lang", description="Headers in English (the field names) or "
                                                                  "Chinese (学号, 姓名 …); both import.")]


def spreadsheet(header: list[str], rows: list[list[Any]], file_format: FileType, name: str) -> Response:
    body = write_table(header, rows, file_format, title=name)
    return Response(
        body, media_type=MEDIA_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{file_format.value}"',
                 # Exports may hold personal data: keep them out of shared caches.
                 "Cache-Control": "no-store"},
    )


def _export_endpoint(kind: str) -> Callable[..., Response]:
    def export_rows(session: SessionDep, principal: PrincipalDep, file_format: FormatQuery = FileType.CSV,
                    lang: LanguageQuery = Language.EN) -> Response:
        header, rows = ExportService(session, principal).table(kind, lang.value)
        return spreadsheet(header, rows, file_format, kind)

    return export_rows


def _template_endpoint(kind: str) -> Callable[..., Response]:
    def template(principal: PrincipalDep, file_format: FormatQuery = FileType.XLSX,
                 lang: LanguageQuery = Language.ZH_CN) -> Response:
        return spreadsheet(ExportService.template(kind, lang.value), [], file_format, f"{kind}-template")

    return template


def _export_doc() -> dict[int | str, dict[str, Any]]:
    responses = problem_responses(401, 403, 422)
    responses[200] = {
        "description": "Every row the caller may read. Cells starting with = + - @ (or tab, CR) are "
                       "prefixed with ' so spreadsheet programs show them as text.",
        "content": {MEDIA_TYPES[FileType.CSV].split(";")[0]: {"schema": {"type": "string"}},
                    MEDIA_TYPES[FileType.XLSX]: {"schema": {"type": "string", "format": "binary"}}},
    }
    return responses


for _kind in KINDS:
    router.add_api_route(
        f"/{_kind}/import", _import_endpoint(_kind), methods=["POST"], response_model=ImportReport,
        status_code=status.HTTP_201_CREATED, responses=_import_responses(),
        summary=f"Import {_kind} from CSV or XLSX (all or nothing; ?dry_run=true to only check)", tags=[_kind],
    )
    router.add_api_route(
        f"/{_kind}/import/template", _template_endpoint(_kind), methods=["GET"], response_class=Response,
        responses=_export_doc(), summary=f"An empty {_kind} file to fill in (the header row only)", tags=[_kind],
    )
    router.add_api_route(
        f"/{_kind}/export", _export_endpoint(_kind), methods=["GET"], response_class=Response,
        responses=_export_doc(), summary=f"Export the {_kind} visible to the caller as CSV or XLSX", tags=[_kind],
    )


@router.get("/placements/export", response_class=Response, responses=_export_doc(), tags=["placements"],
            summary="Export the caller's published internship placements (student, opening, enterprise, city, "
                    "status in words, round) as CSV or XLSX")
def export_placements(
    session: SessionDep, principal: PrincipalDep, file_format: FormatQuery = FileType.XLSX,
    lang: LanguageQuery = Language.EN,
    placement_status: Annotated[list[PlacementStatus] | None, Query(alias="status",
                                                                    description="Only these statuses.")] = None,
    program_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only this program's students.")] = None,
) -> Response:
    header, rows = placement_table(session, principal, lang.value, statuses=placement_status or (),
                                   program_id=program_id)
    return spreadsheet(header, rows, file_format, "placements")
