"""Create/read/update/delete use cases of the cooperation nouns.

One generic service does the authorisation, auditing and optimistic locking for every resource;
each resource adds only what is particular to it (who owns a new row, how a payload becomes a row,
what blocks a delete).  Services flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from app.db.base import Base
from app.db.models import (
    College,
    CourseNeed,
    EducationLevel,
    Enterprise,
    Lecturer,
    Opening,
    Placement,
    PlacementStatus,
    Program,
    Role,
    Student,
)
from app.errors import Conflict, Forbidden, NotFound, PreconditionFailed, PreconditionRequired, field_error
from app.repositories.access import AccessRepository
from app.repositories.base import Page, Repository
from app.repositories.entities import (
    CollegeRepository,
    CourseNeedRepository,
    EnterpriseRepository,
    LecturerRepository,
    MajorRepository,
    OccupationRepository,
    OpeningRepository,
    ProgramRepository,
    StudentRepository,
)
from app.repositories.filters import filters_for
from app.repositories.ledger import LedgerRepository
from app.repositories.placement_views import StudentDirectoryRepository
from app.schemas import (
    OpeningCreate,
    OpeningUpdate,
    ProgramCreate,
    StudentCreate,
    StudentUpdate,
)
from app.security import Principal

ModelT = TypeVar("ModelT", bound=Base)


def etag_of(version: int) -> str:
    return f'"v{version}"'


class ResourceService(Generic[ModelT]):
    """Authorised CRUD of one resource for one principal."""

    entity: ClassVar[str]
    repository_class: ClassVar[type[Repository[Any]]]
    # Roles allowed to write at all; tenancy then narrows to the caller's own rows.
    writers: ClassVar[frozenset[Role]]
    creators: ClassVar[frozenset[Role] | None] = None  # None: same as writers
    deleters: ClassVar[frozenset[Role] | None] = None
    versioned: ClassVar[bool] = False
    # Columns a PATCH may change but not set to null.
    non_nullable: ClassVar[tuple[str, ...]] = ()
    # Columns that decide which rules govern the tenant itself (a scheduler's province scope, the
    # intern cap on staff): a tenant editing them would lift its own limits, so only admins may.
    admin_only: ClassVar[tuple[str, ...]] = ()

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.repo: Repository[ModelT] = self.repository_class(session)
        self.audit = AccessRepository(session)

    # -- reads

    def get(self, object_id: int) -> ModelT:
        self._require_reader()
        row = self.repo.get(self.principal, object_id)
        if row is None:
            raise NotFound.of(self.entity, object_id)
        return row

    def page(self, params: Mapping[str, Any], *, limit: int, cursor: str | None) -> Page[ModelT]:
        self._require_reader()
        filters: list[ColumnElement[bool]] = filters_for(self.repo.model, params)
        return self.repo.list_page(self.principal, filters, limit=limit, cursor=cursor)

    # -- writes

    def create(self, data: BaseModel) -> ModelT:
        row = self.prepare(data)
        self.repo.add(row)
        self.after_write(row, data.model_dump(exclude_unset=True))
        self._record("create", row, sorted(data.model_fields_set))
        return row

    def prepare(self, data: BaseModel) -> ModelT:
        """The row ``data`` would create, after every check of ``create`` (role, tenancy,
        references); reads only, so it can run before the write lock is taken."""
        self._require_role(self.creators or self.writers, "create")
        self._check_new_owner(data)
        return self.build(data)

    def insert_prepared(self, prepared: Sequence[tuple[ModelT, BaseModel]]) -> None:
        """Stores rows made by ``prepare`` as ``create`` would, in a few batched statements instead
        of a flush per row: this runs while a write lock is held.  What could have changed since
        ``prepare`` is left to the constraints (an ``IntegrityError``)."""
        self.repo.add_many([row for row, _ in prepared])
        self.after_insert(prepared)
        self.audit.record_many(self.principal.actor_id, "create", self.entity, [
            (getattr(row, "id", None), _audit_details(sorted(data.model_fields_set))) for row, data in prepared])

    def update(self, object_id: int, data: BaseModel, *, if_match: str | None = None) -> ModelT:
        self._require_role(self.writers, "update")
        row = self._writable(object_id)
        if self.versioned:
            self._check_version(row, if_match)
        changes = data.model_dump(exclude_unset=True)
        for key in self.non_nullable:
            if key in changes and changes[key] is None:
                raise field_error(key, f"{key} may not be null")
        self._check_admin_only(row, changes)
        self.check_update(row, changes)
        self.apply(row, changes)
        self.session.flush()
        self.after_write(row, changes)
        self._record("update", row, sorted(changes))
        return row

    def precheck_update(self, row: ModelT, changes: dict[str, Any]) -> None:
        """The checks ``update`` makes of these changes to ``row`` (reads only), so that an import
        can report a refused update before it writes; ``update`` makes them again when it writes."""
        self._require_role(self.writers, "update")
        for key in self.non_nullable:
            if key in changes and changes[key] is None:
                raise field_error(key, f"{key} may not be null")
        self._check_admin_only(row, changes)
        self.check_update(row, dict(changes))

    def delete(self, object_id: int) -> None:
        self._require_role(self.deleters or self.writers, "delete")
        row = self._writable(object_id)
        self.check_delete(row)
        self._record("delete", row, [])
        self.repo.delete(row)

    # -- hooks for each resource

    def owner_of_new(self, data: BaseModel) -> tuple[int | None, int | None]:
        """(college id, enterprise id) that will own the row ``data`` creates."""
        return None, None

    def build(self, data: BaseModel) -> ModelT:
        return self.repo.model(**data.model_dump())

    def check_update(self, row: ModelT, changes: dict[str, Any]) -> None:
        """Reject changes that would move the row to another tenant or break a reference."""

    def apply(self, row: ModelT, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(row, name, value)

    def after_write(self, row: ModelT, changes: dict[str, Any]) -> None:
        """Write dependent rows (e.g. a student's preferences)."""

    def after_insert(self, prepared: Sequence[tuple[ModelT, BaseModel]]) -> None:
        """``after_write`` of many new rows; a resource with dependent rows batches them."""
        for row, data in prepared:
            self.after_write(row, data.model_dump(exclude_unset=True))

    def keep_history_of(self, column: Any, row_id: int) -> None:
        """Nothing that happened is deleted: a row named by a published or answered placement (or
        recorded history) cannot go (409 with the counts).  Proposals of unpublished runs are what-ifs
        nobody saw: they are dropped with the row, and those runs can no longer be published."""
        ledger = LedgerRepository(self.session)
        held: dict[str, int] = {}
        for status, _run_id, _run_status in ledger.references(column, row_id):
            if status != PlacementStatus.PROPOSED:
                held[status.value] = held.get(status.value, 0) + 1
        if held:
            counts = ", ".join(f"{n} {status}" for status, n in sorted(held.items()))
            raise Conflict(f"{self.entity} {row_id} is part of the placement record ({counts}) and cannot be "
                           "deleted", extra={"placements": held}, code="record_kept", params={"entity": self.entity})
        runs = ledger.drop_unpublished_proposals(column, row_id)
        if runs:
            ledger.add_stale_reason(runs, f"{self.entity} {row_id} was deleted after the solve")
            self.audit.record(self.principal.actor_id, "drop-proposals", self.entity, row_id, {"runs": runs})

    def check_delete(self, row: ModelT) -> None:
        """Raise Conflict when other rows still need this one."""

    # -- helpers

    def _require_reader(self) -> None:
        if self.principal.role not in self.repo.tenancy.readers:
            raise Forbidden(f"role {self.principal.role.value} may not read {self.entity}s")

    def _require_role(self, roles: frozenset[Role], verb: str) -> None:
        if self.principal.role not in roles:
            raise Forbidden(f"role {self.principal.role.value} may not {verb} {self.entity}s")

    def _check_admin_only(self, row: ModelT, changes: dict[str, Any]) -> None:
        if self.principal.is_admin:
            return
        # Sending a field back unchanged is no change: forms and PUT-style clients resend them all.
        governed = sorted(k for k in self.admin_only if k in changes and changes[k] != getattr(row, k))
        if governed:
            raise Forbidden(f"only an admin may change the {', '.join(governed)} of a {self.entity}",
                            extra={"fields": governed})

    def _writable(self, object_id: int) -> ModelT:
        row = self.repo.get(self.principal, object_id)
        if row is None:
            raise NotFound.of(self.entity, object_id)
        if self.repo.get_owned(self.principal, object_id) is None:
            raise Forbidden(f"{self.entity} {object_id} belongs to another tenant")
        return row

    def _check_new_owner(self, data: BaseModel) -> None:
        college_id, enterprise_id = self.owner_of_new(data)
        p = self.principal
        if p.role is Role.ADMIN:
            return
        if p.role is Role.PLACEMENT_OFFICE and college_id is not None and college_id == p.college_id:
            return
        if p.role is Role.ENTERPRISE_HR and enterprise_id is not None and enterprise_id == p.enterprise_id:
            return
        raise Forbidden(f"you may only create {self.entity}s of your own "
                        f"{'college' if p.role is Role.PLACEMENT_OFFICE else 'enterprise'}")

    def _check_version(self, row: ModelT, if_match: str | None) -> None:
        current = etag_of(row.version)  # type: ignore[attr-defined]
        if not if_match:
            raise PreconditionRequired(
                f"updating a {self.entity} needs an If-Match header with its ETag (currently {current})"
            )
        candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
        if current not in candidates and "*" not in candidates:
            raise PreconditionFailed(
                f"{self.entity} {row.id} was changed by someone else; its ETag is now {current}",  # type: ignore[attr-defined]
                headers={"ETag": current},
            )

    def _record(self, action: str, row: ModelT, fields: list[str]) -> None:
        self.audit.record(self.principal.actor_id, action, self.entity, getattr(row, "id", None),
                          _audit_details(fields))


def _audit_details(fields: list[str]) -> dict[str, Any]:
    # Field names only, never values: values may be personal data.
    return {"fields": fields} if fields else {}


# --------------------------------------------------------------------------- resources


class CollegeService(ResourceService[College]):
    entity = "college"
    repository_class = CollegeRepository
    writers = frozenset({Role.ADMIN, Role.PLACEMENT_OFFICE})
    non_nullable = ('name', 'province', 'city', 'level')
    admin_only = ('level', 'name', 'province')
    creators = frozenset({Role.ADMIN})
    deleters = frozenset({Role.ADMIN})

    def check_delete(self, row: College) -> None:
        if ProgramRepository(self.session).list_page(
            self.principal, [Program.college_id == row.id], limit=1, cursor=None
        ).items:
            raise Conflict(f"college {row.id} still has programs; delete or move them first")


class ProgramService(ResourceService[Program]):
    entity = "program"
    repository_class = ProgramRepository
    writers = frozenset({Role.ADMIN, Role.PLACEMENT_OFFICE})
    non_nullable = ('name', 'description', 'core_courses', 'skills', 'cohort_size', 'term')

    def owner_of_new(self, data: BaseModel) -> tuple[int | None, int | None]:
        assert isinstance(data, ProgramCreate)
        return data.college_id, None

    def build(self, data: BaseModel) -> Program:
        assert isinstance(data, ProgramCreate)
        college = CollegeRepository(self.session).get(self.principal, data.college_id)
        if college is None:
            raise field_error("college_id", f"college {data.college_id} does not exist")
        majors = MajorRepository(self.session).by_code(data.major_code)
        if not majors:
            raise field_error("major_code", f"major {data.major_code} is not in the catalogue")
        level = data.major_level or college.level
        major = next((m for m in majors if m.level == level), None)
        if major is None:
            if data.major_level is not None:
                raise field_error("major_level", f"major {data.major_code} has no {level.value} entry")
            major = majors[0]
        fields = data.model_dump(exclude={"major_code", "major_level", "name"})
        return Program(major_id=major.id, name=data.name or major.name, **fields)

    def check_delete(self, row: Program) -> None:
        students = StudentRepository(self.session)
        if students.list_page(_ADMIN, [Student.program_id == row.id], limit=1, cursor=None).items:
            raise Conflict(f"program {row.id} still has students")
        needs = CourseNeedRepository(self.session)
        if needs.list_page(_ADMIN, [CourseNeed.program_id == row.id], limit=1, cursor=None).items:
            raise Conflict(f"program {row.id} still has course needs")


class EnterpriseService(ResourceService[Enterprise]):
    entity = "enterprise"
    repository_class = EnterpriseRepository
    writers = frozenset({Role.ADMIN, Role.ENTERPRISE_HR})
    non_nullable = ('name', 'industry', 'province', 'city', 'staff_count')
    admin_only = ('name', 'province', 'staff_count')
    creators = frozenset({Role.ADMIN})
    deleters = frozenset({Role.ADMIN})

    def check_delete(self, row: Enterprise) -> None:
        repo = EnterpriseRepository(self.session)
        if repo.has_published_placements(row.id):
            raise Conflict(f"enterprise {row.id} has published placements and cannot be deleted")
        if OpeningRepository(self.session).list_page(
            _ADMIN, [Opening.enterprise_id == row.id], limit=1, cursor=None
        ).items:
            raise Conflict(f"enterprise {row.id} still has openings; delete them first")
        if LecturerRepository(self.session).list_page(
            _ADMIN, [Lecturer.enterprise_id == row.id], limit=1, cursor=None
        ).items:
            raise Conflict(f"enterprise {row.id} still has lecturers; delete them first")


class OpeningService(ResourceService[Opening]):
    entity = "opening"
    repository_class = OpeningRepository
    writers = frozenset({Role.ADMIN, Role.ENTERPRISE_HR})
    non_nullable = ('title', 'description', 'required_skills', 'seats', 'province', 'city', 'term',
                    'eligible_levels', 'eligible_major_codes')
    versioned = True

    def owner_of_new(self, data: BaseModel) -> tuple[int | None, int | None]:
        assert isinstance(data, OpeningCreate)
        return None, data.enterprise_id

    def build(self, data: BaseModel) -> Opening:
        assert isinstance(data, OpeningCreate)
        if not EnterpriseRepository(self.session).exists(data.enterprise_id):
            raise field_error("enterprise_id", f"enterprise {data.enterprise_id} does not exist")
        self._check_occupation(data.occupation_code)
        self._check_code(data.enterprise_id, data.code, None)
        return Opening(**data.model_dump(mode="json", exclude={"period_start", "period_end"}),
                       period_start=data.period_start, period_end=data.period_end)

    def _check_occupation(self, code: str | None) -> None:
        if code and OccupationRepository(self.session).get(code) is None:
            raise field_error("occupation_code", f"occupation {code} is not in the 大典 catalogue")

    def _check_code(self, enterprise_id: int, code: str | None, own_id: int | None) -> None:
        # The unique index refuses it too; this names the field (and the web form can mark it).
        holder = OpeningRepository(self.session).code_holder(enterprise_id, code) if code else None
        if holder is not None and holder != own_id:
            raise Conflict(f"the enterprise already has an opening with code {code} (opening {holder})",
                           extra={"errors": [{"loc": ["body", "code"], "msg": "code taken"}]},
                           code="opening_code_taken", params={"code": code})

    def check_update(self, row: Opening, changes: dict[str, Any]) -> None:
        self._check_occupation(changes.get("occupation_code"))
        if changes.get("code"):
            self._check_code(row.enterprise_id, changes["code"], row.id)
        start = changes.get("period_start", row.period_start)
        end = changes.get("period_end", row.period_end)
        if start and end and end < start:
            raise field_error("period_end", "period_end must not be before period_start")
        for key in ("eligible_levels",):
            if key in changes and changes[key] is not None:
                changes[key] = [EducationLevel(v).value for v in changes[key]]
        seats = changes.get("seats")
        if seats is not None and seats < row.seats:
            LedgerRepository(self.session).lock_opening(row.id)  # an accept waits, or this cut sees it
        if seats is not None and seats < row.filled_seats:
            # The CHECK constraint refuses it too (also when an accept races this edit).
            raise Conflict(f"opening {row.id} has {row.filled_seats} accepted placements; seats cannot be cut "
                           f"to {seats}", extra={"filled_seats": row.filled_seats, "seats": seats},
                           code="seats_below_filled")

    def check_delete(self, row: Opening) -> None:
        self.keep_history_of(Placement.opening_id, row.id)


class StudentService(ResourceService[Student]):
    entity = "student"
    repository_class = StudentRepository
    writers = frozenset({Role.ADMIN, Role.PLACEMENT_OFFICE})
    non_nullable = ('program_id', 'student_no', 'name', 'skills', 'certificates', 'province', 'city')

    def owner_of_new(self, data: BaseModel) -> tuple[int | None, int | None]:
        assert isinstance(data, StudentCreate)
        return ProgramRepository(self.session).college_of(data.program_id), None

    def build(self, data: BaseModel) -> Student:
        assert isinstance(data, StudentCreate)
        if not ProgramRepository(self.session).exists(data.program_id):
            raise field_error("program_id", f"program {data.program_id} does not exist")
        self._check_preferences(data.preferences)
        return Student(**data.model_dump(exclude={"preferences"}))

    def check_update(self, row: Student, changes: dict[str, Any]) -> None:
        new_program = changes.get("program_id")
        if new_program is not None and new_program != row.program_id:
            college = ProgramRepository(self.session).college_of(new_program)
            if college is None:
                raise field_error("program_id", f"program {new_program} does not exist")
            if not self.principal.is_admin and college != self.principal.college_id:
                raise Forbidden("a student can only move to a program of your own college")
            # A standing placement was offered for the program's term and major: moving the student
            # would leave it behind the unique index's back (another term) or the opening's rules.
            LedgerRepository(self.session).lock_student(row.id)  # a publication checking it ends first
            standing = StudentDirectoryRepository(self.session).current_placement(row.id)
            if standing is not None:
                raise Conflict(f"student {row.id} holds placement {standing[0]} ({standing[1].value}); withdraw or "
                               "decline it before moving the student to another program",
                               extra={"placement_id": standing[0], "current_status": standing[1].value},
                               code="student_placed")
        if changes.get("preferences") is not None:
            self._check_preferences(changes["preferences"])

    def apply(self, row: Student, changes: dict[str, Any]) -> None:
        super().apply(row, {k: v for k, v in changes.items() if k != "preferences"})

    def check_delete(self, row: Student) -> None:
        self.keep_history_of(Placement.student_id, row.id)

    def after_write(self, row: Student, changes: dict[str, Any]) -> None:
        if changes.get("preferences") is not None:
            StudentRepository(self.session).replace_preferences(row, changes["preferences"])

    def after_insert(self, prepared: Sequence[tuple[Student, BaseModel]]) -> None:
        # New students have no preferences to replace.
        StudentRepository(self.session).add_preferences(
            [(row, data.preferences) for row, data in prepared
             if isinstance(data, StudentCreate) and data.preferences])

    def _check_preferences(self, opening_ids: list[int]) -> None:
        missing = sorted(set(opening_ids) - OpeningRepository(self.session).existing_ids(opening_ids))
        if missing:
            raise field_error("preferences", f"openings {missing} do not exist")


class LecturerService(ResourceService[Lecturer]):
    entity = "lecturer"
    repository_class = LecturerRepository
    writers = frozenset({Role.ADMIN, Role.ENTERPRISE_HR})
    non_nullable = ('name', 'title', 'expertise', 'topics', 'max_weekly_hours', 'available_slots', 'cities')

    def owner_of_new(self, data: BaseModel) -> tuple[int | None, int | None]:
        return None, getattr(data, "enterprise_id", None)

    def build(self, data: BaseModel) -> Lecturer:
        enterprise_id = getattr(data, "enterprise_id", 0)
        if not EnterpriseRepository(self.session).exists(enterprise_id):
            raise field_error("enterprise_id", f"enterprise {enterprise_id} does not exist")
        return Lecturer(**data.model_dump())

    def check_update(self, row: Lecturer, changes: dict[str, Any]) -> None:
        hours = changes.get("max_weekly_hours")
        if hours is not None and hours < row.max_weekly_hours:
            ledger = LedgerRepository(self.session)
            ledger.lock_lecturer(row.id)  # an accept waits for this edit, or this edit sees it
            busiest = max(ledger.live_hours(row.id).items(), key=lambda th: th[1], default=None)
            if busiest is not None and busiest[1] > hours:
                raise Conflict(f"lecturer {row.id} teaches {busiest[1]} weekly hours in {busiest[0]} on accepted "
                               f"placements; max_weekly_hours cannot be cut to {hours}",
                               extra={"live_hours": busiest[1], "term": busiest[0]}, code="hours_below_live")

    def check_delete(self, row: Lecturer) -> None:
        self.keep_history_of(Placement.lecturer_id, row.id)


class CourseNeedService(ResourceService[CourseNeed]):
    entity = "course-need"
    repository_class = CourseNeedRepository
    writers = frozenset({Role.ADMIN, Role.PLACEMENT_OFFICE})
    non_nullable = ('course_name', 'topics', 'weekly_hours', 'slots', 'term', 'is_professional')

    def owner_of_new(self, data: BaseModel) -> tuple[int | None, int | None]:
        return ProgramRepository(self.session).college_of(getattr(data, "program_id", 0)), None

    def build(self, data: BaseModel) -> CourseNeed:
        program_id = getattr(data, "program_id", 0)
        if not ProgramRepository(self.session).exists(program_id):
            raise field_error("program_id", f"program {program_id} does not exist")
        return CourseNeed(**data.model_dump())

    def check_delete(self, row: CourseNeed) -> None:
        self.keep_history_of(Placement.course_need_id, row.id)


_ADMIN = Principal(actor_id=None, role=Role.ADMIN)


__all__ = [
    "CollegeService",
    "CourseNeedService",
    "EnterpriseService",
    "LecturerService",
    "OpeningService",
    "OpeningUpdate",
    "ProgramService",
    "ResourceService",
    "StudentService",
    "StudentUpdate",
    "etag_of",
]
