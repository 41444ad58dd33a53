"""SQLAlchemy 2 models: the nouns of docs/DESIGN.md.

The schema only changes through Alembic migrations (``migrations/``); a test checks that the
migrations and these models agree (``alembic check``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, utcnow
from matching.domain import EducationLevel as EducationLevel  # re-exported: the schema uses it

# JSON lists of short strings (skills, slots, topics).  Plain JSON works on SQLite and PostgreSQL.
StrList = JSON


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as VARCHAR + CHECK so both databases behave the same and values read in SQL.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class RunKind(enum.StrEnum):
    INTERNSHIP = "internship"
    LECTURER = "lecturer"


class RunMode(enum.StrEnum):
    OPTIMAL = "optimal"
    STABLE = "stable"


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    INFEASIBLE = "infeasible"
    NO_SOLUTION_IN_TIME = "no_solution_in_time"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # The ledger's side of a run (app/services/ledger.py): the current allocation of its scope,
    # replaced by a later round, or taken back before anyone answered.
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)
# A run with a result (placements, KPIs): succeeded, and whatever publication made of it since.
RESULT_RUN_STATUSES = (RunStatus.SUCCEEDED, RunStatus.PUBLISHED, RunStatus.SUPERSEDED, RunStatus.WITHDRAWN)


class PlacementStatus(enum.StrEnum):
    PROPOSED = "proposed"
    PUBLISHED = "published"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


# A placement that holds a seat (and a lecturer's hours): the student said yes.
LIVE_PLACEMENT_STATUSES = ("accepted", "confirmed", "completed")
# A placement that stands for the term: offered and not yet answered, or live.  A student (and a
# course need) has at most one, enforced by a partial unique index.
CURRENT_PLACEMENT_STATUSES = ("published", *LIVE_PLACEMENT_STATUSES)


def _sql_in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


CURRENT_PLACEMENT_SQL = _sql_in(CURRENT_PLACEMENT_STATUSES)


class Role(enum.StrEnum):
    ADMIN = "admin"
    SCHEDULER = "scheduler"
    PLACEMENT_OFFICE = "placement_office"
    ENTERPRISE_HR = "enterprise_hr"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------- reference data


class Major(Base):
    """An entry of the MoE major catalogue (专业目录): 专业大类 → 专业类 → 专业."""

    __tablename__ = "majors"
    __table_args__ = (UniqueConstraint("code", "level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    level: Mapped[EducationLevel] = mapped_column(_enum(EducationLevel, "education_level"))
    category_code: Mapped[str] = mapped_column(String(4))
    category_name: Mapped[str] = mapped_column(String(100))
    class_code: Mapped[str] = mapped_column(String(8))
    class_name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(200), default="")


class Occupation(Base):
    """An entry of 中华人民共和国职业分类大典（2022年版）: 大类/中类/小类/细类."""

    __tablename__ = "occupations"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),)

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), index=True)
    definition: Mapped[str] = mapped_column(Text, default="")
    tasks: Mapped[str] = mapped_column(Text, default="")
    is_digital: Mapped[bool] = mapped_column(Boolean, default=False)
    is_green: Mapped[bool] = mapped_column(Boolean, default=False)


# --------------------------------------------------------------------------- colleges and programs


class College(TimestampMixin, Base):
    __tablename__ = "colleges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    province: Mapped[str] = mapped_column(String(50), index=True)
    city: Mapped[str] = mapped_column(String(50))
    level: Mapped[EducationLevel] = mapped_column(_enum(EducationLevel, "education_level"))

    programs: Mapped[list[Program]] = relationship(back_populates="college")


class Program(TimestampMixin, Base):
    """A catalogue major as taught at one college, with its own description and cohort."""

    __tablename__ = "programs"
    __table_args__ = (
        UniqueConstraint("college_id", "major_id", "term"),
        CheckConstraint("cohort_size >= 0", name="cohort_size_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id", ondelete="RESTRICT"), index=True)
    major_id: Mapped[int] = mapped_column(ForeignKey("majors.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    core_courses: Mapped[list[str]] = mapped_column(StrList, default=list)
    skills: Mapped[list[str]] = mapped_column(StrList, default=list)
    cohort_size: Mapped[int] = mapped_column(Integer, default=0)
    term: Mapped[str] = mapped_column(String(20), index=True)

    college: Mapped[College] = relationship(back_populates="programs")
    major: Mapped[Major] = relationship()


# --------------------------------------------------------------------------- enterprises and openings


class Enterprise(TimestampMixin, Base):
    __tablename__ = "enterprises"
    __table_args__ = (CheckConstraint("staff_count >= 0", name="staff_count_nonnegative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    industry: Mapped[str] = mapped_column(String(100), default="")
    province: Mapped[str] = mapped_column(String(50), index=True)
    city: Mapped[str] = mapped_column(String(50))
    staff_count: Mapped[int] = mapped_column(Integer, default=0)


class Opening(TimestampMixin, Base):
    """An internship offer of an enterprise."""

    __tablename__ = "openings"
    __table_args__ = (
        CheckConstraint("seats >= 0", name="seats_nonnegative"),
        CheckConstraint("period_end IS NULL OR period_start IS NULL OR period_end >= period_start",
                        name="period_ordered"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("post_headcount IS NULL OR post_headcount > 0", name="post_headcount_positive"),
        # The seats that live placements hold: the ledger moves it with every accept and
        # withdrawal, and the database refuses more live placements than seats.
        CheckConstraint("filled_seats >= 0 AND filled_seats <= seats", name="filled_within_seats"),
        # The enterprise's own code (岗位编号) names an opening in imports and exports; NULL for
        # openings made before codes existed (NULLs never collide in a unique index).
        Index("uq_openings_enterprise_code", "enterprise_id", "code", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    required_skills: Mapped[list[str]] = mapped_column(StrList, default=list)
    occupation_code: Mapped[str | None] = mapped_column(
        ForeignKey("occupations.code", ondelete="RESTRICT"), index=True, nullable=True
    )
    seats: Mapped[int] = mapped_column(Integer)
    province: Mapped[str] = mapped_column(String(50), index=True)
    city: Mapped[str] = mapped_column(String(50))
    term: Mapped[str] = mapped_column(String(20), index=True)
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    eligible_levels: Mapped[list[str]] = mapped_column(StrList, default=list)
    eligible_major_codes: Mapped[list[str]] = mapped_column(StrList, default=list)
    # Staff in this post (岗位): interns may not exceed a share of it (职业学校学生实习管理规定).
    post_headcount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    filled_seats: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=1)

    enterprise: Mapped[Enterprise] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a plain dict


# --------------------------------------------------------------------------- students


class Student(TimestampMixin, Base):
    """A student of one program.  Personal fields (name, phone, email) are the minimum needed
    and are only shown to the student's own college."""

    __tablename__ = "students"
    __table_args__ = (
        UniqueConstraint("program_id", "student_no"),
        CheckConstraint("grade IS NULL OR (grade >= 0 AND grade <= 100)", name="grade_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"), index=True)
    student_no: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    skills: Mapped[list[str]] = mapped_column(StrList, default=list)
    certificates: Mapped[list[str]] = mapped_column(StrList, default=list)
    grade: Mapped[float | None] = mapped_column(Float, nullable=True)
    # 年级: the year the student enrolled (2024 for 2024级); not the 0-100 grade above.
    cohort: Mapped[int | None] = mapped_column(Integer, nullable=True)
    province: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(50), default="")

    program: Mapped[Program] = relationship()
    preferences: Mapped[list[StudentPreference]] = relationship(
        back_populates="student", cascade="all, delete-orphan", order_by="StudentPreference.rank"
    )


class StudentPreference(Base):
    """A student's ranked choice of an opening (rank 1 = first choice)."""

    __tablename__ = "student_preferences"
    __table_args__ = (
        UniqueConstraint("student_id", "rank"),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )

    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    opening_id: Mapped[int] = mapped_column(
        ForeignKey("openings.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    rank: Mapped[int] = mapped_column(Integer)

    student: Mapped[Student] = relationship(back_populates="preferences")


# --------------------------------------------------------------------------- lecturers and course needs


class Lecturer(TimestampMixin, Base):
    """Enterprise staff offered to teach professional courses at colleges."""

    __tablename__ = "lecturers"
    __table_args__ = (CheckConstraint("max_weekly_hours > 0", name="max_weekly_hours_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100), default="")
    expertise: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list[str]] = mapped_column(StrList, default=list)
    max_weekly_hours: Mapped[int] = mapped_column(Integer)
    available_slots: Mapped[list[str]] = mapped_column(StrList, default=list)
    cities: Mapped[list[str]] = mapped_column(StrList, default=list)

    enterprise: Mapped[Enterprise] = relationship()


class CourseNeed(TimestampMixin, Base):
    """A program's course that wants an enterprise lecturer."""

    __tablename__ = "course_needs"
    __table_args__ = (CheckConstraint("weekly_hours > 0", name="weekly_hours_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"), index=True)
    course_name: Mapped[str] = mapped_column(String(200))
    topics: Mapped[list[str]] = mapped_column(StrList, default=list)
    weekly_hours: Mapped[int] = mapped_column(Integer)
    slots: Mapped[list[str]] = mapped_column(StrList, default=list)
    term: Mapped[str] = mapped_column(String(20), index=True)
    is_professional: Mapped[bool] = mapped_column(Boolean, default=True)

    program: Mapped[Program] = relationship()


# --------------------------------------------------------------------------- allocation


class AllocationRun(Base):
    """A batch allocation of internships or lecturer placements over one scope and term."""

    __tablename__ = "allocation_runs"
    __table_args__ = (
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        # One active run per scope: enforced by the database, not by a check-then-insert race.
        Index(
            "uq_allocation_runs_active_scope",
            "kind",
            "scope_key",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        # One current allocation per scope: the published head of its chain of rounds.
        Index(
            "uq_allocation_runs_published_scope",
            "kind",
            "scope_key",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
        UniqueConstraint("idempotency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[RunKind] = mapped_column(_enum(RunKind, "run_kind"))
    mode: Mapped[RunMode] = mapped_column(_enum(RunMode, "run_mode"), default=RunMode.OPTIMAL)
    term: Mapped[str] = mapped_column(String(20))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scope_key: Mapped[str] = mapped_column(String(500))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"), default=RunStatus.QUEUED, index=True)
    phase: Mapped[str] = mapped_column(String(20), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    bound: Mapped[float | None] = mapped_column(Float, nullable=True)
    gap: Mapped[float | None] = mapped_column(Float, nullable=True)
    wall_time_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    phase_times: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    kpis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    unplaced: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    input_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    placements_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    versions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    parent_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("allocation_runs.id", ondelete="SET NULL"), nullable=True
    )
    round: Mapped[int] = mapped_column(Integer, default=1)
    # A what-if of the same round: the run it was forked from (its parent is the round's parent).
    forked_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("allocation_runs.id", ondelete="SET NULL"), nullable=True
    )
    # What the solve took as given, for the publication's re-check: the earlier rounds' live
    # placements it was solved around ("locked_placement_ids") and the intern shares it applied.
    basis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Reasons found after the solve that make the result unpublishable (a proposed student deleted).
    stale_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Placement(Base):
    """A student↔opening or lecturer↔course-need assignment, proposed by a run (or recorded
    history when ``run_id`` is NULL), with its outcome for training the scoring model."""

    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'internship' AND student_id IS NOT NULL AND opening_id IS NOT NULL"
            " AND lecturer_id IS NULL AND course_need_id IS NULL)"
            " OR (kind = 'lecturer' AND lecturer_id IS NOT NULL AND course_need_id IS NOT NULL"
            " AND student_id IS NULL AND opening_id IS NULL)",
            name="kind_parties",
        ),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 1)", name="score_range"),
        UniqueConstraint("run_id", "student_id"),
        UniqueConstraint("run_id", "course_need_id"),
        # One current placement per student per term, and one lecturer per course need: checked
        # by the database, so concurrent answers and publications have exactly one winner.
        Index(
            "uq_placements_current_student_term",
            "term",
            "student_id",
            unique=True,
            sqlite_where=text(f"kind = 'internship' AND status IN {CURRENT_PLACEMENT_SQL}"),
            postgresql_where=text(f"kind = 'internship' AND status IN {CURRENT_PLACEMENT_SQL}"),
        ),
        Index(
            "uq_placements_current_course_need",
            "course_need_id",
            unique=True,
            sqlite_where=text(f"kind = 'lecturer' AND status IN {CURRENT_PLACEMENT_SQL}"),
            postgresql_where=text(f"kind = 'lecturer' AND status IN {CURRENT_PLACEMENT_SQL}"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # RESTRICT everywhere: nothing a placement refers to disappears with it (the ledger keeps
    # what happened; services refuse such deletes with a 409 first).
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("allocation_runs.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    kind: Mapped[RunKind] = mapped_column(_enum(RunKind, "run_kind"))
    student_id: Mapped[int | None] = mapped_column(
        ForeignKey("students.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    opening_id: Mapped[int | None] = mapped_column(
        ForeignKey("openings.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    lecturer_id: Mapped[int | None] = mapped_column(
        ForeignKey("lecturers.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    course_need_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_needs.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    term: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[PlacementStatus] = mapped_column(
        _enum(PlacementStatus, "placement_status"), default=PlacementStatus.PROPOSED, index=True
    )
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    agreement_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The signed 三方协议 (college, enterprise, student): its number and the day it was signed.
    agreement_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agreement_signed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Why an accepted or confirmed placement was withdrawn (the student left, the agreement ended).
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    completed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------- actors, keys, audit


class Actor(Base):
    """Who acts: a placement office of one college, HR of one enterprise, a scheduler, an admin."""

    __tablename__ = "actors"
    __table_args__ = (
        CheckConstraint(
            "(role = 'placement_office' AND college_id IS NOT NULL AND enterprise_id IS NULL)"
            " OR (role = 'enterprise_hr' AND enterprise_id IS NOT NULL AND college_id IS NULL)"
            " OR (role IN ('admin', 'scheduler') AND college_id IS NULL AND enterprise_id IS NULL)",
            name="role_tenant",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    college_id: Mapped[int | None] = mapped_column(
        ForeignKey("colleges.id", ondelete="CASCADE"), nullable=True, index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # For schedulers: the scope they may allocate (e.g. {"province": "贵州"}); empty = everywhere.
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """A machine credential.  Only the SHA-256 of the key is stored: keys are 256-bit random
    tokens, so a fast hash is enough and lets each request be checked by one indexed lookup."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    actor: Mapped[Actor] = relationship()


class AuditEvent(Base):
    """Append-only record of a write: who, what, when.  Never holds personal data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("actors.id", ondelete="SET NULL"), nullable=True, index=True
    )
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ScoringModel(Base):
    """A trained, versioned scoring model artifact (the priors need no row)."""

    __tablename__ = "scoring_models"
    __table_args__ = (UniqueConstraint("pairing", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pairing: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    training_digest: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    library_versions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    """A person who signs in to the web UI.  Acts as one ``Actor``, so a user has exactly the role
    and tenant of that actor and every tenancy rule of the API applies unchanged."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    # argon2id (pwdlib): the PHC string carries its own salt and cost parameters.
    password_hash: Mapped[str] = mapped_column(String(255))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where notifications are mailed when an SMTP server is configured; none = in-app only.
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    actor: Mapped[Actor] = relationship()


class WebSession(Base):
    """A signed-in browser.  The cookie carries a random token and only its SHA-256 is stored, so
    a copy of this table signs nobody in; revoking the row ends every copy of the cookie, which a
    signed cookie alone cannot do."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Absolute: activity never moves it, so a stolen cookie is useful for a bounded time at most.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Notification(Base):
    """News for one actor (everyone signed in as it shares it): what happened, as a kind and its
    parameters, worded only when shown or mailed, so each reader gets it in their own language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient_unread", "recipient_actor_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# --------------------------------------------------------------------------- partnerships and alliances


class PartnershipStatus(enum.StrEnum):
    PROPOSED = "proposed"
    AGREED = "agreed"
    ACTIVE = "active"
    ENDED = "ended"


class PartnershipForm(enum.StrEnum):
    """The forms of school–enterprise cooperation (校企合作促进办法; the seeds' 订单班, 现代学徒制, 产业学院)."""

    INTERNSHIP_BASE = "internship_base"
    ORDER_CLASS = "order_class"
    APPRENTICESHIP = "apprenticeship"
    INDUSTRY_COLLEGE = "industry_college"
    LECTURER_EXCHANGE = "lecturer_exchange"
    JOINT_CURRICULUM = "joint_curriculum"
    TRAINING_BASE = "training_base"


# The forms whose committed seats are held for the partner programs' students in allocation.
RESERVING_FORMS = (PartnershipForm.ORDER_CLASS.value, PartnershipForm.APPRENTICESHIP.value)


class Partnership(TimestampMixin, Base):
    """A lasting partnership (校企合作项目) of one enterprise and one college over some of its programs."""

    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id", ondelete="RESTRICT"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    forms: Mapped[list[str]] = mapped_column(StrList, default=list)
    # Seats reserved for partner students that none of them took may go to other students.
    release_unused: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[PartnershipStatus] = mapped_column(
        _enum(PartnershipStatus, "partnership_status"), default=PartnershipStatus.PROPOSED, index=True)
    # Which side proposed it ("college" or "enterprise"): the other side agrees.
    proposed_by: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"), nullable=True)

    programs: Mapped[list[PartnershipProgram]] = relationship(
        cascade="all, delete-orphan", order_by="PartnershipProgram.program_id")
    terms: Mapped[list[PartnershipTerm]] = relationship(cascade="all, delete-orphan",
                                                         order_by="PartnershipTerm.term")
    college: Mapped[College] = relationship()
    enterprise: Mapped[Enterprise] = relationship()


class PartnershipProgram(Base):
    __tablename__ = "partnership_programs"

    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="RESTRICT"),
                                                primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"), primary_key=True,
                                            index=True)


class PartnershipTerm(Base):
    """What the partnership commits for one term."""

    __tablename__ = "partnership_terms"
    __table_args__ = (
        UniqueConstraint("partnership_id", "term"),
        CheckConstraint("reserved_seats >= 0 AND lecturer_hours >= 0 AND training_places >= 0",
                        name="commitments_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="RESTRICT"), index=True)
    term: Mapped[str] = mapped_column(String(20), index=True)
    reserved_seats: Mapped[int] = mapped_column(Integer, default=0)
    # Weekly hours of professional courses the enterprise's lecturers commit to teach.
    lecturer_hours: Mapped[int] = mapped_column(Integer, default=0)
    training_places: Mapped[int] = mapped_column(Integer, default=0)


class Alliance(TimestampMixin, Base):
    """A named group of colleges and enterprises (产教联合体, 职教集团), usable as a run's scope."""

    __tablename__ = "alliances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="alliance")
    # The scheduler who allocates for the alliance (sees its partnerships, runs it as a scope).
    scheduler_actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"),
                                                           nullable=True, index=True)

    members: Mapped[list[AllianceMember]] = relationship(cascade="all, delete-orphan",
                                                         order_by="AllianceMember.id")


class AllianceMember(Base):
    __tablename__ = "alliance_members"
    __table_args__ = (
        CheckConstraint("(college_id IS NULL) <> (enterprise_id IS NULL)", name="one_member"),
        UniqueConstraint("alliance_id", "college_id"),
        UniqueConstraint("alliance_id", "enterprise_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id", ondelete="RESTRICT"), nullable=True,
                                                   index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"),
                                                      nullable=True, index=True)
