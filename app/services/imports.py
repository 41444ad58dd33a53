"""Bulk import and export of students, openings, lecturers and course needs.

An import goes through the same ``*Create`` schemas and the same resource services as the API, so
a row is accepted exactly when the equivalent ``POST`` would be: tenancy, references and audit all
apply.  Every row is checked before anything is written, and the rows are written only when none
is bad, so an import is all-or-nothing and a dry run stores nothing.
Every bad row is reported (not only the first) as (row, column, message), with the row numbered
as the spreadsheet shows it (header = row 1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from functools import cached_property
from typing import Any, get_origin

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ChanjiaoError, Conflict, Forbidden, NotFound, Unprocessable
from app.repositories.access import AccessRepository
from app.repositories.base import memoized_lookups
from app.repositories.transfer import TransferRepository
from app.schemas import CourseNeedCreate, InputModel, LecturerCreate, OpeningCreate, StudentCreate
from app.security import Principal
from app.services.resources import (
    CourseNeedService,
    LecturerService,
    OpeningService,
    ResourceService,
    StudentService,
)
from app.tabular import FileType, Table

# Separators of list cells; the full-width one is what a Chinese keyboard types.
LIST_SEPARATORS = (";", "；")
# The id column of an export: accepted on import so an export can be loaded elsewhere, but ignored,
# because ids are always assigned by the database.
IGNORED_COLUMNS = frozenset({"id"})
# A file where every row is wrong would otherwise make a report larger than the file.
MAX_REPORTED_ERRORS = 10_000
_PAGE = 500


@dataclass(frozen=True)
class Kind:
    name: str  # as in the URL: "course-needs"
    schema: type[InputModel]
    service: type[ResourceService[Any]]
    owner_column: str  # the column whose tenant must be the caller's

    @property
    def columns(self) -> list[str]:
        return list(self.schema.model_fields)

    @property
    def required(self) -> list[str]:
        return [name for name, field in self.schema.model_fields.items() if field.is_required()]

    @cached_property  # asked for every cell
    def list_columns(self) -> frozenset[str]:
        return frozenset(name for name, field in self.schema.model_fields.items()
                         if get_origin(field.annotation) is list)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("students", StudentCreate, StudentService, "program_id"),
        Kind("openings", OpeningCreate, OpeningService, "enterprise_id"),
        Kind("lecturers", LecturerCreate, LecturerService, "enterprise_id"),
        Kind("course-needs", CourseNeedCreate, CourseNeedService, "program_id"),
    )
}


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise NotFound(f"cannot import or export {name!r}; kinds are {', '.join(KINDS)}") from None


class RowError(BaseModel):
    row: int = Field(description="Row number as the spreadsheet shows it: the header is row 1.")
    column: str | None = Field(description="Column name, or null when the row as a whole is wrong.")
    message: str


class ImportReport(BaseModel):
    kind: str
    dry_run: bool
    rows: int = Field(description="Data rows read (blank rows are skipped).")
    created: int = Field(description="Rows stored (0 for a dry run or when any row is bad).")
    valid: int = Field(description="Rows that passed every check.")
    error_count: int = Field(description="Number of errors, including any not listed.")
    errors: list[RowError] = Field(description=f"Every bad row, ordered by row (at most {MAX_REPORTED_ERRORS}).")


class ImportRejected(Unprocessable):
    """A real import with bad rows: nothing was stored; the problem body carries the report."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"{report.error_count} error(s) in {report.kind} file; nothing was imported",
            [error.model_dump() for error in report.errors],
        )
        self.report = report
        self.extra.update(report.model_dump(exclude={"errors"}))


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class CheckedImport:
    """A file after every check made by reading, with the rows it would create."""

    kind: Kind
    file_type: FileType
    rows: int  # data rows read
    dry_run: bool
    prepared: list[tuple[int, Any, InputModel]]  # (row number, row to insert, its data); empty if any is bad
    errors: list[RowError]  # ordered by row
    valid: int

    def report(self, created: int = 0) -> ImportReport:
        return ImportReport(kind=self.kind.name, dry_run=self.dry_run, rows=self.rows, created=created,
                            valid=self.valid, error_count=len(self.errors), errors=self.errors[:MAX_REPORTED_ERRORS])

    def rejected(self, errors: list[RowError], *, valid: int) -> ImportRejected:
        errors.sort(key=lambda e: (e.row, e.column or ""))
        return ImportRejected(replace(self, prepared=[], errors=errors, valid=valid).report())


class ImportService:
    """An import in two steps: ``check`` only reads (parse, validate, references, tenancy, unique
    keys), so a request can run it before it takes the write lock; ``store`` then inserts the
    checked rows in a few batched statements, re-checking what another writer could have changed
    meanwhile.  ``run`` does both in one transaction (the CLI)."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def run(self, kind_name: str, table: Table, *, dry_run: bool) -> ImportReport:
        checked = self.check(kind_name, table, dry_run=dry_run)
        return checked.report() if dry_run else self.store(checked)

    def check(self, kind_name: str, table: Table, *, dry_run: bool) -> CheckedImport:
        """Every check of the file, by reads only.  Bad rows raise ``ImportRejected``, except in a
        dry run, whose report lists them."""
        kind = kind_of(kind_name)
        self._require_creator(kind)
        # Column names are the schema's field names; people type them in any case.
        table = Table(table.file_type, [name.strip().lower() for name in table.header], table.rows)
        checked = CheckedImport(kind, table.file_type, len(table.rows), dry_run, [], [], 0)
        errors = self._header_errors(kind, table.header)
        if errors:
            return self._checked(checked, errors, [])

        parsed: list[tuple[int, InputModel]] = []
        for number, cells in table.rows:
            data = self._parse_row(kind, table.header, number, cells, errors)
            if data is not None:
                parsed.append((number, data))
        parsed = self._drop_duplicates(kind, parsed, errors)

        service = kind.service(self.session, self.principal)
        prepared: list[tuple[int, Any, InputModel]] = []
        with memoized_lookups(self.session):
            for number, data in parsed:
                try:
                    prepared.append((number, service.prepare(data), data))
                except ChanjiaoError as exc:
                    errors.extend(self._service_errors(kind, number, exc))
        return self._checked(checked, errors, prepared)

    def store(self, checked: CheckedImport) -> ImportReport:
        """Inserts what ``check`` accepted, all rows or none (the caller's transaction).  Another
        writer may have taken a student number since the check: those rows are reported as bad."""
        kind = checked.kind
        errors: list[RowError] = []
        self._drop_duplicates(kind, [(number, data) for number, _, data in checked.prepared], errors)
        if errors:
            raise checked.rejected(errors, valid=len(checked.prepared) - len(errors))
        try:
            kind.service(self.session, self.principal).insert_prepared(
                [(row, data) for _, row, data in checked.prepared])
        except IntegrityError as exc:
            # A row it refers to was deleted meanwhile (the constraints re-check what reads found).
            raise Conflict("the import conflicts with changes made meanwhile; run it again") from exc
        created = len(checked.prepared)
        # One summary event besides the per-row "create" events: counts only, never cell values.
        AccessRepository(self.session).record(
            self.principal.actor_id, "import", kind.service.entity, None,
            {"rows": checked.rows, "created": created, "file_type": checked.file_type.value},
        )
        return checked.report(created)

    @staticmethod
    def _checked(checked: CheckedImport, errors: list[RowError],
                 prepared: list[tuple[int, Any, InputModel]]) -> CheckedImport:
        if errors and not checked.dry_run:
            raise checked.rejected(errors, valid=len(prepared))
        errors.sort(key=lambda e: (e.row, e.column or ""))
        return replace(checked, prepared=[] if errors else prepared, errors=errors, valid=len(prepared))

    # -- steps

    def _require_creator(self, kind: Kind) -> None:
        allowed = kind.service.creators or kind.service.writers
        if self.principal.role not in allowed:
            raise Forbidden(f"role {self.principal.role.value} may not import {kind.name}")

    @staticmethod
    def _header_errors(kind: Kind, header: list[str]) -> list[RowError]:
        errors: list[RowError] = []
        known = set(kind.columns)
        seen: set[str] = set()
        for position, name in enumerate(header, start=1):
            if not name:
                errors.append(RowError(row=1, column=f"#{position}", message="the column has no name"))
            elif name in seen:
                errors.append(RowError(row=1, column=name, message="the column appears twice"))
            elif name not in known and name not in IGNORED_COLUMNS:
                errors.append(RowError(row=1, column=name,
                                       message=f"unknown column; expected some of: {', '.join(kind.columns)}"))
            seen.add(name)
        for name in kind.required:
            if name not in seen:
                errors.append(RowError(row=1, column=name, message="required column is missing"))
        return errors

    @staticmethod
    def _parse_row(kind: Kind, header: list[str], number: int, cells: list[str | None],
                   errors: list[RowError]) -> InputModel | None:
        values: dict[str, Any] = {}
        for position, cell in enumerate(cells):
            if cell is None:
                continue  # an empty cell means "not given": the schema's default applies
            if position >= len(header):
                errors.append(RowError(row=number, column=f"#{position + 1}",
                                       message="the cell is outside every named column"))
                return None
            name = header[position]
            if name in IGNORED_COLUMNS:
                continue
            values[name] = _split(cell) if name in kind.list_columns else cell
        try:
            return kind.schema.model_validate(values)
        except ValidationError as exc:
            errors.extend(_validation_errors(number, exc))
            return None

    def _drop_duplicates(self, kind: Kind, parsed: list[tuple[int, InputModel]],
                         errors: list[RowError]) -> list[tuple[int, InputModel]]:
        """Students are unique by (program, student number), within the file and in the DB.

        Checked before inserting so that the report names the row, and so that no insert ever
        fails on the constraint (which would spoil the savepoint for the rows after it)."""
        if kind.name != "students":
            return parsed
        keys = {(data.program_id, data.student_no): number  # type: ignore[attr-defined]
                for number, data in reversed(parsed)}
        taken = TransferRepository(self.session).taken_student_numbers(self.principal, keys.keys())
        kept: list[tuple[int, InputModel]] = []
        for number, data in parsed:
            key = (data.program_id, data.student_no)  # type: ignore[attr-defined]
            if keys[key] != number:
                errors.append(RowError(row=number, column="student_no",
                                       message=f"duplicates row {keys[key]} (same program_id and student_no)"))
            elif key in taken:
                errors.append(RowError(row=number, column="student_no",
                                       message=f"a student with this number already exists in program {key[0]}"))
            else:
                kept.append((number, data))
        return kept

    @staticmethod
    def _service_errors(kind: Kind, number: int, exc: ChanjiaoError) -> list[RowError]:
        if isinstance(exc, Forbidden | NotFound):
            return [RowError(row=number, column=kind.owner_column, message=exc.detail)]
        located = [
            RowError(row=number, column=_column_of(item.get("loc", [])), message=str(item.get("msg", exc.detail)))
            for item in exc.extra.get("errors", []) if isinstance(item, Mapping)
        ]
        return located or [RowError(row=number, column=None, message=exc.detail)]


def _split(cell: str) -> list[str]:
    for separator in LIST_SEPARATORS[1:]:
        cell = cell.replace(separator, LIST_SEPARATORS[0])
    return [item.strip() for item in cell.split(LIST_SEPARATORS[0]) if item.strip()]


def _column_of(loc: Any) -> str | None:
    # Service errors locate fields as ["body", field]; the column is the last string part.
    names = [part for part in loc if isinstance(part, str) and part != "body"]
    return names[-1] if names else None


def _validation_errors(number: int, exc: ValidationError) -> Iterator[RowError]:
    # Messages only: pydantic's "input" would echo the cell, which may be personal data.
    for err in exc.errors(include_input=False, include_url=False):
        loc = err.get("loc", ())
        column = str(loc[0]) if loc else None
        message = str(err.get("msg", "invalid"))
        if len(loc) > 1 and isinstance(loc[1], int):
            message = f"item {loc[1] + 1}: {message}"
        yield RowError(row=number, column=column, message=message.removeprefix("Value error, "))


# --------------------------------------------------------------------------- export


class ExportService:
    """Every row of a kind the caller may read, as a header and cells ready for a spreadsheet."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def table(self, kind_name: str) -> tuple[list[str], list[list[Any]]]:
        kind = kind_of(kind_name)
        # The import columns, so an export loads back unchanged; "id" first for reference.
        header = ["id", *kind.columns]
        service = kind.service(self.session, self.principal)
        rows: list[list[Any]] = []
        cursor: str | None = None
        while True:
            page = service.page({}, limit=_PAGE, cursor=cursor)
            rows.extend([self._cell(row, name) for name in header] for row in page.items)
            if page.next_cursor is None:
                return header, rows
            cursor = page.next_cursor

    @staticmethod
    def _cell(row: Any, name: str) -> Any:
        if name == "preferences":
            value: Any = [p.opening_id for p in sorted(row.preferences, key=lambda p: p.rank)]
        else:
            value = getattr(row, name)
        if isinstance(value, list):
            return LIST_SEPARATORS[0].join(str(v.value if isinstance(v, Enum) else v) for v in value)
        if isinstance(value, Enum):
            return value.value
        return value


__all__ = ["KINDS", "ExportService", "FileType", "ImportRejected", "ImportReport", "ImportService", "RowError"]
