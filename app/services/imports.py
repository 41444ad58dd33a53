"""Bulk import and export of students, openings, lecturers, course needs, programs, enterprises and
colleges.

An import goes through the same ``*Create``/``*Update`` schemas and the same resource services as
the API, so a row is accepted exactly when the equivalent ``POST`` (or ``PATCH``) would be: tenancy,
references, the ledger's limits and audit all apply.  Every row is checked before anything is
written, and the rows are written only when none is bad, so an import is all-or-nothing and a dry
run stores nothing.  Every bad row is reported (not only the first) as (row, column, message), with
the row numbered as the spreadsheet shows it (header = row 1) and the column named by the header
the file used (学号 or student_no).

Files name things as people do: columns by any header of ``app/data/transfer/columns.csv``, a
student's program by its major code or name within the college, an opening by its own code.
Internal ids are never needed (legacy ``program_id``/``enterprise_id`` columns still load).

Modes: ``create`` adds rows and refuses a row whose natural key exists; ``upsert`` updates the row
with that key (only the columns the file fills; an empty cell changes nothing) and creates the
others.  An upsert never deletes, and each update passes the service's own checks, so it cannot cut
an opening's seats below its accepted placements or a lecturer's hours below the accepted ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum, StrEnum
from functools import cached_property
from typing import Any, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import College, Enterprise, Role
from app.errors import ChanjiaoError, Conflict, Forbidden, NotFound, Unprocessable
from app.repositories.access import AccessRepository
from app.repositories.base import memoized_lookups
from app.repositories.entities import ProgramRepository
from app.repositories.transfer import TransferRepository
from app.schemas import (
    CollegeCreate,
    CollegeUpdate,
    CourseNeedCreate,
    CourseNeedUpdate,
    EnterpriseCreate,
    EnterpriseUpdate,
    InputModel,
    LecturerCreate,
    LecturerUpdate,
    OpeningCreate,
    OpeningUpdate,
    ProgramCreate,
    ProgramUpdate,
    StudentCreate,
    StudentUpdate,
)
from app.security import Principal
from app.services.columns import ColumnSet, boolean_word, boolean_words, column_set, has_cjk
from app.services.resources import (
    CollegeService,
    CourseNeedService,
    EnterpriseService,
    LecturerService,
    OpeningService,
    ProgramService,
    ResourceService,
    StudentService,
)
from app.tabular import FileType, Table

# Separators of list cells; the full-width one is what a Chinese keyboard types.
LIST_SEPARATORS = (";", "；")
# The id column of an old export: accepted on import, but ignored (ids are the database's).
IGNORED_COLUMNS = frozenset({"id"})
# A file where every row is wrong would otherwise make a report larger than the file.
MAX_REPORTED_ERRORS = 10_000
_PAGE = 500
_MAJOR_CODE = re.compile(r"^[0-9]{4,6}[A-Z]{0,2}$")
# Columns that name a row's owner or program instead of an id, per schema id field.
_REFERENCE_COLUMNS = {"program_id": ("program", "major_code", "program_id"),
                      "enterprise_id": ("enterprise", "enterprise_id"),
                      "college_id": ("college", "college_id")}


class ImportMode(StrEnum):
    CREATE = "create"
    UPSERT = "upsert"


@dataclass(frozen=True)
class Kind:
    name: str  # as in the URL: "course-needs"
    schema: type[InputModel]
    update_schema: type[InputModel]
    service: type[ResourceService[Any]]
    owner_column: str  # the schema field whose tenant must be the caller's
    key: tuple[str, ...]  # the natural key, of the resolved values (college_id is derived for students)
    unique: bool  # a second row with the key is refused (else only upsert matches by it)

    @property
    def columns(self) -> ColumnSet:
        return column_set(self.name)

    @cached_property
    def required(self) -> list[str]:
        return [name for name, f in self.schema.model_fields.items() if f.is_required()]

    @cached_property  # asked for every cell
    def list_columns(self) -> frozenset[str]:
        return frozenset(name for name, f in self.schema.model_fields.items() if _is_list(f.annotation))

    @cached_property
    def boolean_columns(self) -> frozenset[str]:
        return frozenset(name for name, f in self.schema.model_fields.items() if f.annotation is bool)


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in get_args(annotation))


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("students", StudentCreate, StudentUpdate, StudentService, "program_id", ("college_id", "student_no"),
             True),
        Kind("openings", OpeningCreate, OpeningUpdate, OpeningService, "enterprise_id", ("enterprise_id", "code"),
             True),
        Kind("lecturers", LecturerCreate, LecturerUpdate, LecturerService, "enterprise_id", ("enterprise_id", "name"),
             False),
        Kind("course-needs", CourseNeedCreate, CourseNeedUpdate, CourseNeedService, "program_id",
             ("program_id", "course_name", "term"), False),
        Kind("programs", ProgramCreate, ProgramUpdate, ProgramService, "college_id",
             ("college_id", "major_code", "term"), True),
        Kind("enterprises", EnterpriseCreate, EnterpriseUpdate, EnterpriseService, "name", ("name",), True),
        Kind("colleges", CollegeCreate, CollegeUpdate, CollegeService, "name", ("name",), True),
    )
}


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise NotFound(f"cannot import or export {name!r}; kinds are {', '.join(KINDS)}") from None


class RowError(BaseModel):
    row: int = Field(description="Row number as the spreadsheet shows it: the header is row 1.")
    column: str | None = Field(description="The column as the file names it (学号 or student_no), or null "
                                           "when the row as a whole is wrong.")
    message: str
    field: str | None = Field(default=None, description="The field the column fills.")
    code: str | None = Field(default=None, description="What is wrong, as a stable code (for translations).")
    type: str | None = Field(default=None, description="The validation error type, for a value the schema refused.")
    params: dict[str, Any] = Field(default_factory=dict, description="Values the message names.")


class ImportReport(BaseModel):
    kind: str
    dry_run: bool
    mode: ImportMode = ImportMode.CREATE
    rows: int = Field(description="Data rows read (blank rows are skipped).")
    created: int = Field(description="Rows stored as new (0 for a dry run or when any row is bad).")
    updated: int = Field(default=0, description="Existing rows changed (update mode).")
    unchanged: int = Field(default=0, description="Rows that match an existing row and change nothing.")
    valid: int = Field(description="Rows that passed every check.")
    error_count: int = Field(description="Number of errors, including any not listed.")
    errors: list[RowError] = Field(description=f"Every bad row, ordered by row (at most {MAX_REPORTED_ERRORS}).")


class ImportRejected(Unprocessable):
    """A real import with bad rows: nothing was stored; the problem body carries the report."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"{report.error_count} error(s) in {report.kind} file; nothing was imported",
            [error.model_dump() for error in report.errors],
            code="import_rejected", params={"count": report.error_count},
        )
        self.report = report
        self.extra.update(report.model_dump(exclude={"errors"}))


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class Update:
    row: int
    object_id: int
    data: InputModel
    columns: dict[str, str]  # field → column as written


@dataclass(frozen=True)
class CheckedImport:
    """A file after every check made by reading, with the rows it would create and update."""

    kind: Kind
    file_type: FileType
    rows: int  # data rows read
    dry_run: bool
    prepared: list[tuple[int, Any, InputModel]]  # (row number, row to insert, its data); empty if any is bad
    errors: list[RowError]  # ordered by row
    valid: int
    mode: ImportMode = ImportMode.CREATE
    updates: list[Update] = field(default_factory=list)
    unchanged: int = 0
    keys: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # row → natural key of a new row
    written: dict[str, str] = field(default_factory=dict)  # field → column as written

    def report(self, created: int = 0, updated: int = 0) -> ImportReport:
        return ImportReport(kind=self.kind.name, dry_run=self.dry_run, mode=self.mode, rows=self.rows,
                            created=created, updated=updated, unchanged=self.unchanged, valid=self.valid,
                            error_count=len(self.errors), errors=self.errors[:MAX_REPORTED_ERRORS])

    def rejected(self, errors: list[RowError], *, valid: int) -> ImportRejected:
        errors.sort(key=lambda e: (e.row, e.column or ""))
        return ImportRejected(replace(self, prepared=[], updates=[], errors=errors, valid=valid).report())


class _Row:
    """One data row being checked: its cells by field, and where to report what is wrong."""

    def __init__(self, number: int, values: dict[str, Any], written: dict[str, str], labels: ColumnSet,
                 chinese: bool) -> None:
        self.number = number
        self.values = values
        self.written = written
        self.labels = labels
        self.chinese = chinese
        self.errors: list[RowError] = []
        self.college_id: int | None = None

    def column(self, name: str) -> str:
        """The column a field's problem is reported in: the header the file used for it (or for
        the column that named it), else the header the file's language would use."""
        for candidate in (name, *_REFERENCE_COLUMNS.get(name, ())):
            if candidate in self.written:
                return self.written[candidate]
        reference = _REFERENCE_COLUMNS.get(name, (name,))[0]
        return self.labels.label(reference, "zh_CN" if self.chinese else "en")

    def fail(self, name: str | None, message: str, code: str | None = None, **params: Any) -> None:
        self.errors.append(RowError(row=self.number, column=self.column(name) if name else None, field=name,
                                    message=message, code=code, params=params))


class ImportService:
    """An import in two steps: ``check`` only reads (parse, validate, resolve names, references,
    tenancy, unique keys, the ledger's limits), so a request can run it before it takes the write
    lock; ``store`` then writes the checked rows, re-checking what another writer could have changed
    meanwhile.  ``run`` does both in one transaction (the CLI)."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.repo = TransferRepository(session)
        self._memo: dict[tuple[Any, ...], Any] = {}

    def run(self, kind_name: str, table: Table, *, dry_run: bool, mode: ImportMode = ImportMode.CREATE) -> ImportReport:
        checked = self.check(kind_name, table, dry_run=dry_run, mode=mode)
        return checked.report() if dry_run else self.store(checked)

    def check(self, kind_name: str, table: Table, *, dry_run: bool,
              mode: ImportMode = ImportMode.CREATE) -> CheckedImport:
        """Every check of the file, by reads only.  Bad rows raise ``ImportRejected``, except in a
        dry run, whose report lists them."""
        kind = kind_of(kind_name)
        self._require_creator(kind)
        checked = CheckedImport(kind, table.file_type, len(table.rows), dry_run, [], [], 0, mode)
        fields, errors = self._header(kind, table.header)
        written = {f: table.header[i].strip() for i, f in enumerate(fields) if f}
        checked = replace(checked, written=written)
        if errors:
            return self._checked(checked, errors, [])
        chinese = any(has_cjk(name) for name in table.header)

        rows: list[tuple[_Row, InputModel]] = []
        with memoized_lookups(self.session):
            for number, cells in table.rows:
                row = self._read_row(kind, fields, number, cells, written, chinese)
                if row is None:
                    errors.append(RowError(row=number, column=None, code="import_outside_columns",
                                           message="a cell is outside every named column"))
                    continue
                data = self._resolve(kind, row) if not row.errors else None
                if data is not None:
                    rows.append((row, data))
                errors.extend(row.errors)
            return self._decide(checked, rows, errors)

    def _decide(self, checked: CheckedImport, rows: list[tuple[_Row, InputModel]],
                errors: list[RowError]) -> CheckedImport:
        """Which rows create and which update, with every check of each."""
        kind, mode = checked.kind, checked.mode
        keyed: dict[tuple[Any, ...], int] = {}
        keys: dict[int, tuple[Any, ...]] = {}
        kept: list[tuple[_Row, InputModel, tuple[Any, ...] | None]] = []
        for row, data in rows:
            key = self._key(kind, row, data)
            if row.errors:
                pass
            elif key is None and mode is ImportMode.UPSERT:
                row.fail(kind.key[-1], "update mode finds rows by this column; it is empty", "import_key_missing")
            elif key is not None and (kind.unique or mode is ImportMode.UPSERT) and key in keyed:
                row.fail(kind.key[-1], f"duplicates row {keyed[key]} (same {_key_words(kind, row)})",
                         "import_duplicate_row", other=keyed[key])
            else:
                if key is not None:
                    keyed[key] = row.number
                kept.append((row, data, key))
            errors.extend(row.errors)
            row.errors = []
        lookup = [key for _, _, key in kept if key is not None]
        existing = self.repo.existing(kind.name, lookup) if (kind.unique or mode is ImportMode.UPSERT) else {}

        service = kind.service(self.session, self.principal)
        prepared: list[tuple[int, Any, InputModel]] = []
        updates: list[Update] = []
        unchanged = 0
        with memoized_lookups(self.session):
            for row, data, key in kept:
                ids = existing.get(key, []) if key is not None else []
                try:
                    if ids and mode is ImportMode.CREATE:
                        row.fail(kind.key[-1], f"a {service.entity} with this {_key_words(kind, row)} already exists; "
                                 "import in update mode to change it", "import_exists", entity=service.entity)
                    elif len(ids) > 1:
                        row.fail(kind.key[-1], f"{len(ids)} {service.entity}s have this {_key_words(kind, row)}; "
                                 "change them one by one", "import_key_ambiguous", count=len(ids),
                                 entity=service.entity)
                    elif ids:
                        update = self._update(kind, service, row, data, ids[0])
                        if update is None:
                            unchanged += 1
                        else:
                            updates.append(update)
                    else:
                        prepared.append((row.number, service.prepare(data), data))
                        if key is not None:
                            keys[row.number] = key
                except ChanjiaoError as exc:
                    self._service_errors(kind, row, exc)
                errors.extend(row.errors)
        checked = replace(checked, updates=updates, unchanged=unchanged, keys=keys)
        return self._checked(checked, errors, prepared)

    def _update(self, kind: Kind, service: ResourceService[Any], row: _Row, data: InputModel,
                object_id: int) -> Update | None:
        """The update of an existing row by the columns the file filled, or None when it changes
        nothing; refused as ``update`` would refuse it (tenancy, the ledger's limits)."""
        current = service.repo.get_owned(self.principal, object_id)
        if current is None:
            raise Forbidden(f"{service.entity} {object_id} belongs to another tenant", code="not_yours")
        given = data.model_dump(include=data.model_fields_set & set(kind.update_schema.model_fields))
        changes = {name: value for name, value in given.items()
                   if _plain(value) != _plain(_current(current, name))}
        if not changes:
            return None
        update = kind.update_schema.model_validate(changes)
        service.precheck_update(current, update.model_dump(exclude_unset=True))
        return Update(row.number, object_id, update, dict(row.written))

    def store(self, checked: CheckedImport) -> ImportReport:
        """Writes what ``check`` accepted, all rows or none (the caller's transaction).  Another
        writer may have taken a key since the check, or answered a placement that an update's
        limit depends on: those rows are reported as bad."""
        kind = checked.kind
        errors: list[RowError] = []
        if checked.keys and kind.unique:
            taken = self.repo.existing(kind.name, list(checked.keys.values()))
            for number, key in checked.keys.items():
                if key in taken:
                    errors.append(RowError(row=number, column=checked.written.get(kind.key[-1], kind.key[-1]),
                                           field=kind.key[-1], code="import_exists",
                                           params={"entity": kind.service.entity},
                                           message="the row was created by someone else meanwhile; import in update "
                                                   "mode to change it"))
        if errors:
            raise checked.rejected(errors, valid=len(checked.prepared) - len(errors))
        service = kind.service(self.session, self.principal)
        try:
            service.insert_prepared([(row, data) for _, row, data in checked.prepared])
        except IntegrityError as exc:
            # A row it refers to was deleted meanwhile (the constraints re-check what reads found).
            raise Conflict("the import conflicts with changes made meanwhile; run it again") from exc
        for update in checked.updates:
            row = _Row(update.row, {}, update.columns, kind.columns, any(has_cjk(c) for c in update.columns.values()))
            try:
                with self.session.begin_nested():
                    service.update(update.object_id, update.data, if_match="*")
            except ChanjiaoError as exc:
                self._service_errors(kind, row, exc)
            except IntegrityError:
                row.fail(None, "the row conflicts with changes made meanwhile", "ledger_conflict")
            errors.extend(row.errors)
        if errors:
            raise checked.rejected(errors, valid=checked.valid - len({e.row for e in errors}))
        created = len(checked.prepared)
        # One summary event besides the per-row events: counts only, never cell values.
        AccessRepository(self.session).record(
            self.principal.actor_id, "import", kind.service.entity, None,
            {"rows": checked.rows, "created": created, "updated": len(checked.updates),
             "file_type": checked.file_type.value, "mode": checked.mode.value}
            if checked.mode is ImportMode.UPSERT else
            {"rows": checked.rows, "created": created, "file_type": checked.file_type.value},
        )
        return checked.report(created, len(checked.updates))

    @staticmethod
    def _checked(checked: CheckedImport, errors: list[RowError],
                 prepared: list[tuple[int, Any, InputModel]]) -> CheckedImport:
        valid = len(prepared) + len(checked.updates) + checked.unchanged
        if errors and not checked.dry_run:
            raise checked.rejected(errors, valid=valid)
        errors.sort(key=lambda e: (e.row, e.column or ""))
        if errors:
            return replace(checked, prepared=[], updates=[], errors=errors, valid=valid)
        return replace(checked, prepared=prepared, errors=errors, valid=valid)

    # -- steps

    def _require_creator(self, kind: Kind) -> None:
        allowed = kind.service.creators or kind.service.writers
        if self.principal.role not in allowed:
            raise Forbidden(f"role {self.principal.role.value} may not import {kind.name}", code="wrong_role")

    def _header(self, kind: Kind, header: list[str]) -> tuple[list[str | None], list[RowError]]:
        errors: list[RowError] = []
        fields: list[str | None] = []
        seen: dict[str, str] = {}
        for position, name in enumerate(header, start=1):
            column = kind.columns.match(name) if name else None
            fields.append(column.field if column else None)
            if not name.strip():
                errors.append(RowError(row=1, column=f"#{position}", message="the column has no name",
                                       code="import_unnamed_column", params={"position": position}))
            elif column is None:
                if name.strip().lower() in IGNORED_COLUMNS:
                    continue
                chinese = has_cjk(name)
                expected = ", ".join(kind.columns.headers("zh_CN" if chinese else "en"))
                errors.append(RowError(row=1, column=name.strip(), code="import_unknown_column",
                                       params={"columns": expected},
                                       message=f"unknown column; expected some of: {expected}"))
            elif column.field in seen:
                errors.append(RowError(row=1, column=name.strip(), field=column.field, code="import_duplicate_column",
                                       params={"other": seen[column.field]},
                                       message=f"the column appears twice (also as {seen[column.field]})"))
            else:
                seen[column.field] = name.strip()
        chinese = any(has_cjk(name) for name in header)
        locale = "zh_CN" if chinese else "en"
        for name in kind.required:
            group = _REFERENCE_COLUMNS.get(name, (name,))
            if any(member in seen for member in group) or not self._needs_column(kind, name):
                continue
            errors.append(RowError(row=1, column=kind.columns.label(group[0], locale), field=group[0],
                                   code="import_missing_column",
                                   message="required column is missing"))
        return fields, errors

    def _needs_column(self, kind: Kind, name: str) -> bool:
        # The owner is the caller's own college or enterprise unless a column names it.
        if name == "enterprise_id":
            return self.principal.enterprise_id is None
        if name == "college_id":
            return self.principal.college_id is None
        return True

    def _read_row(self, kind: Kind, fields: list[str | None], number: int, cells: list[str | None],
                  written: dict[str, str], chinese: bool) -> _Row | None:
        values: dict[str, Any] = {}
        for position, cell in enumerate(cells):
            if cell is None:
                continue  # an empty cell means "not given": the schema's default applies (or, on update, no change)
            if position >= len(fields):
                return None
            name = fields[position]
            if name is None:
                continue  # an ignored column ("id" of an old export)
            if name in kind.list_columns:
                values[name] = _split(cell)
            elif name in kind.boolean_columns:
                values[name] = boolean_words().get(cell.strip().casefold(), cell)
            else:
                values[name] = cell
        return _Row(number, values, written, kind.columns, chinese)

    # -- names to ids, within the caller's tenancy

    def _resolve(self, kind: Kind, row: _Row) -> InputModel | None:
        values = row.values
        if kind.name in ("students", "course-needs"):
            self._resolve_program(kind, row)
        elif kind.name in ("openings", "lecturers"):
            self._resolve_enterprise(row)
        elif kind.name == "programs":
            college_id = self._resolve_college(row)
            if college_id is not None and "college_id" not in values:
                values["college_id"] = college_id
        if kind.name == "students" and values.get("preferences"):
            values["preferences"] = self._resolve_preferences(row, values["preferences"])
        if row.errors:
            return None
        try:
            return kind.schema.model_validate(values)
        except ValidationError as exc:
            for error in _validation_errors(exc):
                row.fail(error["field"], error["message"], None)
                row.errors[-1].type = error["type"]
                row.errors[-1].params = error["params"]
            return None

    def _resolve_college(self, row: _Row) -> int | None:
        name = row.values.pop("college", None)
        own = self.principal.college_id
        if name is None:
            return own
        found = self._cached(("college", name), lambda: self.repo.ids_by_name(College, [name]).get(name))
        if found is None:
            row.fail("college", f"no college is named {name}", "import_not_found", entity="college", value=name)
        elif self.principal.role is not Role.ADMIN and found != own:
            row.fail("college", "you may only import rows of your own college", "import_not_own", entity="college")
            return None
        return int(found) if found is not None else None

    def _resolve_enterprise(self, row: _Row) -> None:
        values = row.values
        name = values.pop("enterprise", None)
        own = self.principal.enterprise_id
        if "enterprise_id" in values:
            return  # an old file's id: the service checks it
        if name is None:
            if own is not None:
                values["enterprise_id"] = own
            return
        found = self._cached(("enterprise", name), lambda: self.repo.ids_by_name(Enterprise, [name]).get(name))
        if found is None:
            row.fail("enterprise", f"no enterprise is named {name}", "import_not_found", entity="enterprise",
                     value=name)
        elif self.principal.role is not Role.ADMIN and found != own:
            row.fail("enterprise", "you may only import rows of your own enterprise", "import_not_own",
                     entity="enterprise")
        else:
            values["enterprise_id"] = found

    def _resolve_program(self, kind: Kind, row: _Row) -> None:
        values = row.values
        text, code = values.pop("program", None), values.pop("major_code", None)
        term = values.pop("program_term", None)
        college_id = self._resolve_college(row)
        if row.errors:
            return
        if "program_id" in values:  # an old file's id
            try:
                program_id = int(values["program_id"])
            except ValueError:
                return  # the schema reports it
            row.college_id = self._cached(("college_of", program_id),
                                          lambda: ProgramRepository(self.session).college_of(program_id))
            return
        if text is None and code is None:
            row.fail("program_id", "the program is missing: give its major code or name", "import_missing_value")
            return
        candidates: list[dict[str, Any]] = self._cached(
            ("programs", college_id), lambda: self.repo.program_candidates(college_id))
        found = [c for c in candidates if _names_program(c, text, code)]
        if term is not None:
            found = [c for c in found if c["term"] == term]
        elif len(found) > 1 and values.get("term"):
            # A course need's term picks the program of that term when the major is taught in several.
            found = [c for c in found if c["term"] == values["term"]] or found
        column = "program" if text is not None else "major_code"
        value = text if text is not None else code
        if not found:
            row.fail(column, f"no program of {'the college' if college_id else 'any college'} is named {value}",
                     "import_not_found", entity="program", value=value)
        elif len(found) > 1:
            colleges = {c["college_id"] for c in found}
            hint = "college" if len(colleges) > 1 else ("program_term" if kind.name == "students" else "term")
            hint_label = row.labels.label(hint, "zh_CN" if row.chinese else "en")
            listing = "; ".join(f"{c['name']} ({c['major_code']}, {c['term']}, {c['college']})" for c in found[:5])
            row.fail(column, f"{value} names {len(found)} programs ({listing}); add the {hint_label} column to choose",
                     "import_ambiguous", value=value, count=len(found), candidates=listing, hint=hint_label)
        else:
            values["program_id"] = found[0]["id"]
            row.college_id = found[0]["college_id"]

    def _resolve_preferences(self, row: _Row, items: list[str]) -> list[Any]:
        """Openings as people name them: 企业/岗位编号, a 岗位编号 that one enterprise uses, or (old
        files) an opening id."""
        out: list[Any] = []
        for item in items:
            enterprise, _, code = item.replace("／", "/").rpartition("/")
            code = code.strip()
            openings = self._cached(("opening_code", code), lambda code=code: self.repo.openings_by_code([code]))
            if enterprise:
                openings = [o for o in openings if o[2] == enterprise.strip()]
            if len(openings) == 1:
                out.append(openings[0][0])
            elif not openings and not enterprise and code.isdigit():
                out.append(code)  # an old file's opening id: the schema and the service check it
            elif not openings:
                row.fail("preferences", f"no opening has the code {item}", "import_not_found", entity="opening",
                         value=item)
            else:
                names = ", ".join(sorted({o[2] for o in openings}))
                row.fail("preferences", f"{code} is the code of openings of {names}; write it as enterprise/{code}",
                         "import_ambiguous_opening", value=code, candidates=names)
        return out

    def _key(self, kind: Kind, row: _Row, data: InputModel) -> tuple[Any, ...] | None:
        """The row's natural key, after checking that the row is the caller's own: a key of another
        tenant's row is never looked up (the answer would tell whether that row exists)."""
        college: int | None = None
        if kind.owner_column == "program_id":
            college = row.college_id
            if college is None:
                program_id = int(getattr(data, "program_id", 0))
                college = self._cached(("college_of", program_id),
                                       lambda: ProgramRepository(self.session).college_of(program_id))
            if college is None:
                return None  # no such program: the service names it
        elif kind.owner_column == "college_id":
            college = getattr(data, "college_id", None)
        p = self.principal
        if p.role is not Role.ADMIN:
            if kind.owner_column in ("program_id", "college_id") and college != p.college_id:
                row.fail(kind.owner_column, f"you may only create {kind.service.entity}s of your own college",
                         "import_not_own", entity="college")
                return None
            if kind.owner_column == "enterprise_id" and getattr(data, "enterprise_id", None) != p.enterprise_id:
                row.fail(kind.owner_column, f"you may only create {kind.service.entity}s of your own enterprise",
                         "import_not_own", entity="enterprise")
                return None
        if kind.name == "students":
            return (college, getattr(data, "student_no", None))
        key = tuple(getattr(data, name, None) for name in kind.key)
        return None if any(part is None for part in key) else key

    def _cached(self, key: tuple[Any, ...], lookup: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = lookup()
        return self._memo[key]

    @staticmethod
    def _service_errors(kind: Kind, row: _Row, exc: ChanjiaoError) -> None:
        if isinstance(exc, Forbidden | NotFound):
            row.fail(kind.owner_column, exc.detail, exc.code, **{**exc.extra, **exc.params})
            return
        located = [item for item in exc.extra.get("errors", []) if isinstance(item, Mapping)]
        if exc.code == "seats_below_filled":
            row.fail("seats", exc.detail, exc.code, **{**exc.extra, **exc.params})
        elif exc.code == "hours_below_live":
            row.fail("max_weekly_hours", exc.detail, exc.code, **{**exc.extra, **exc.params})
        elif located:
            for item in located:
                message = exc.detail if exc.code else str(item.get("msg", exc.detail))
                row.fail(_column_of(item.get("loc", [])), message, exc.code, **exc.params)
        else:
            row.fail(None, exc.detail, exc.code, **{k: v for k, v in {**exc.extra, **exc.params}.items()
                                                     if k != "errors"})


def _names_program(candidate: dict[str, Any], text: str | None, code: str | None) -> bool:
    if code is not None and candidate["major_code"] != code.strip():
        return False
    if text is None:
        return True
    text = text.strip()
    if _MAJOR_CODE.match(text):
        return bool(candidate["major_code"] == text)
    return text in (candidate["name"], candidate["major_name"])


def _key_words(kind: Kind, row: _Row) -> str:
    return " and ".join(row.column(name) for name in kind.key if name not in ("college_id", "enterprise_id"))


def _current(row: Any, name: str) -> Any:
    if name == "preferences":
        return [p.opening_id for p in sorted(row.preferences, key=lambda p: p.rank)]
    return getattr(row, name, None)


def _plain(value: Any) -> Any:
    """A value as stored, for telling a real change from a cell that repeats the stored value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _split(cell: str) -> list[str]:
    for separator in LIST_SEPARATORS[1:]:
        cell = cell.replace(separator, LIST_SEPARATORS[0])
    return [item.strip() for item in cell.split(LIST_SEPARATORS[0]) if item.strip()]


def _column_of(loc: Any) -> str | None:
    # Service errors locate fields as ["body", field]; the column is the last string part.
    names = [part for part in loc if isinstance(part, str) and part != "body"]
    return names[-1] if names else None


def _validation_errors(exc: ValidationError) -> Iterator[dict[str, Any]]:
    # Messages only: pydantic's "input" would echo the cell, which may be personal data.
    for err in exc.errors(include_input=False, include_url=False):
        loc = err.get("loc", ())
        message = str(err.get("msg", "invalid"))
        if len(loc) > 1 and isinstance(loc[1], int):
            message = f"item {loc[1] + 1}: {message}"
        ctx = {k: v if isinstance(v, int | float | str) else str(v) for k, v in (err.get("ctx") or {}).items()}
        yield {"field": str(loc[0]) if loc else None, "message": message.removeprefix("Value error, "),
               "type": str(err.get("type", "")), "params": ctx}


# --------------------------------------------------------------------------- export


class ExportService:
    """Every row of a kind the caller may read, as a header and cells ready for a spreadsheet: the
    import's columns with the headers of ``locale``, names instead of ids, so that an export loads
    back unchanged (in update mode: nothing changes)."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.repo = TransferRepository(session)

    @staticmethod
    def template(kind_name: str, locale: str | None) -> list[str]:
        return kind_of(kind_name).columns.headers(locale)

    def table(self, kind_name: str, locale: str | None = "en") -> tuple[list[str], list[list[Any]]]:
        kind = kind_of(kind_name)
        columns = kind.columns.template_columns()
        service = kind.service(self.session, self.principal)
        items: list[Any] = []
        cursor: str | None = None
        while True:
            page = service.page({}, limit=_PAGE, cursor=cursor)
            items.extend(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        context = self._context(kind, items)
        rows = [[self._cell(kind, item, column.field, context, locale) for column in columns] for item in items]
        return [column.header(locale) for column in columns], rows

    def _context(self, kind: Kind, items: list[Any]) -> dict[str, Any]:
        context: dict[str, Any] = {}
        if kind.name in ("students", "course-needs"):
            context["programs"] = self.repo.program_labels({item.program_id for item in items})
        if kind.name in ("openings", "lecturers"):
            context["enterprises"] = self.repo.names(Enterprise, {item.enterprise_id for item in items})
        if kind.name == "programs":
            context["colleges"] = self.repo.names(College, {item.college_id for item in items})
        if kind.name == "students":
            context["openings"] = self.repo.opening_refs({p.opening_id for item in items for p in item.preferences})
        return context

    @staticmethod
    def _cell(kind: Kind, row: Any, name: str, context: dict[str, Any], locale: str | None) -> Any:
        program = context.get("programs", {}).get(getattr(row, "program_id", None), {})
        if name == "program":
            value: Any = program.get("name")
        elif name == "major_code" and kind.name != "programs":
            value = program.get("major_code")
        elif name == "program_term":
            value = program.get("term")
        elif name == "college":
            value = program.get("college") if program else context.get("colleges", {}).get(row.college_id)
        elif name == "enterprise":
            value = context["enterprises"].get(row.enterprise_id)
        elif name == "major_code":
            value = row.major.code
        elif name == "major_level":
            value = row.major.level
        elif name == "preferences":
            refs = context["openings"]
            value = [f"{refs[p.opening_id][1]}/{refs[p.opening_id][0]}" if refs.get(p.opening_id, (None,))[0]
                     else str(p.opening_id) for p in sorted(row.preferences, key=lambda p: p.rank)]
        else:
            value = getattr(row, name)
        if isinstance(value, bool):
            return boolean_word(value, locale)
        if isinstance(value, list):
            return LIST_SEPARATORS[0].join(str(v.value if isinstance(v, Enum) else v) for v in value)
        if isinstance(value, Enum):
            return value.value
        return value


__all__ = ["KINDS", "ExportService", "FileType", "ImportMode", "ImportRejected", "ImportReport", "ImportService",
           "RowError"]
