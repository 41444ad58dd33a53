"""The cooperation nouns exposed under /api/v1."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.api.crud import Resource
from app.db.models import EducationLevel, Program, Student
from app.schemas import (
    MAX_ID,
    CollegeCreate,
    CollegeRead,
    CollegeUpdate,
    CourseNeedCreate,
    CourseNeedRead,
    CourseNeedUpdate,
    EnterpriseCreate,
    EnterpriseRead,
    EnterpriseUpdate,
    LecturerCreate,
    LecturerRead,
    LecturerUpdate,
    OpeningCreate,
    OpeningRead,
    OpeningUpdate,
    ProgramCreate,
    ProgramRead,
    ProgramUpdate,
    StudentCreate,
    StudentRead,
    StudentUpdate,
)
from app.services.resources import (
    CollegeService,
    CourseNeedService,
    EnterpriseService,
    LecturerService,
    OpeningService,
    ProgramService,
    StudentService,
)

_Q = Field(default=None, max_length=100, description="Text the name (or title) contains.")


class _Filters(BaseModel):
    # Not extra="forbid": FastAPI hands the model every query parameter, limit and cursor included.
    model_config = ConfigDict(extra="ignore")


class CollegeFilters(_Filters):
    q: str | None = _Q
    province: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)
    level: EducationLevel | None = None


class ProgramFilters(_Filters):
    q: str | None = _Q
    college_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    major_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    term: str | None = Field(default=None, max_length=20)


class EnterpriseFilters(_Filters):
    q: str | None = _Q
    province: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)
    industry: str | None = Field(default=None, max_length=100)


class OpeningFilters(_Filters):
    q: str | None = _Q
    enterprise_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    province: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)
    term: str | None = Field(default=None, max_length=20)
    occupation_code: str | None = Field(default=None, max_length=16)


class StudentFilters(_Filters):
    q: str | None = Field(default=None, max_length=40, description="Student number contains.")
    program_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    college_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class LecturerFilters(_Filters):
    q: str | None = _Q
    enterprise_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class CourseNeedFilters(_Filters):
    q: str | None = _Q
    program_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    college_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    term: str | None = Field(default=None, max_length=20)


def _program_read(row: Program) -> ProgramRead:
    return ProgramRead.model_validate(
        {**{k: getattr(row, k) for k in ProgramRead.model_fields if hasattr(row, k)},
         "major_code": row.major.code, "major_name": row.major.name}
    )


def _student_read(row: Student) -> StudentRead:
    return StudentRead.model_validate(
        {**{k: getattr(row, k) for k in StudentRead.model_fields if k != "preferences"},
         "preferences": [p.opening_id for p in sorted(row.preferences, key=lambda p: p.rank)]}
    )


RESOURCES = (
    Resource("/colleges", "colleges", CollegeService, CollegeCreate, CollegeUpdate, CollegeRead, CollegeFilters),
    Resource("/programs", "programs", ProgramService, ProgramCreate, ProgramUpdate, ProgramRead, ProgramFilters,
             render=_program_read),
    Resource("/enterprises", "enterprises", EnterpriseService, EnterpriseCreate, EnterpriseUpdate,
             EnterpriseRead, EnterpriseFilters),
    Resource("/openings", "openings", OpeningService, OpeningCreate, OpeningUpdate, OpeningRead, OpeningFilters),
    Resource("/students", "students", StudentService, StudentCreate, StudentUpdate, StudentRead, StudentFilters,
             render=_student_read),
    Resource("/lecturers", "lecturers", LecturerService, LecturerCreate, LecturerUpdate, LecturerRead,
             LecturerFilters),
    Resource("/course-needs", "course-needs", CourseNeedService, CourseNeedCreate, CourseNeedUpdate,
             CourseNeedRead, CourseNeedFilters),
)
