"""Pydantic v2 schemas: what the API and the importers accept and return.

Inputs forbid unknown fields so that a typo is an error, not silently dropped data.  The same
``*Create`` schemas validate API bodies and import rows, so both reject the same things.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.data import normalise_province
from app.db.models import EducationLevel
from app.terms import normalise_term
from app.text_guard import MESSAGE as TEXT_MESSAGE
from app.text_guard import has_control_characters

T = TypeVar("T")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
OptionalShort = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
# 贵州省, 贵州 and Guizhou name one province, on every input path (API, imports, web forms).
Province = Annotated[ShortName, AfterValidator(normalise_province)]
OptionalProvince = Annotated[OptionalShort, AfterValidator(normalise_province)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
# 2027年春季学期, Spring 2027 and 2027-spring name one term, on every input path (app/terms.py).
Term = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z_\-]{1,20}$"),
                 BeforeValidator(normalise_term)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Tags = Annotated[list[Tag], Field(max_length=200)]
# A teaching slot: weekday and period, e.g. "mon1", "thu10".
Slot = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                        pattern=r"^(?i:mon|tue|wed|thu|fri|sat|sun)([1-9]|1[0-9]|20)$")]
Slots = Annotated[list[Slot], Field(max_length=140)]
MajorCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{4,6}[A-Z]{0,2}$")]
OccupationCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}$")]
# The enterprise's own code of an opening (岗位编号): any short text without "/" (preferences in
# imports name an opening as 企业/岗位编号).
OpeningCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                                               pattern=r"^[^/／]+$")]

MAX_ID = 2**31 - 1  # ids are 32-bit integers in both databases


def _not_a_boolean(value: Any) -> Any:
    # Python's bool is an int, so lax validation would store JSON true as 1 seat; a string of digits
    # (a CSV cell, a form field) must still pass, so strict mode is not the answer.
    if isinstance(value, bool):
        raise ValueError("a number is required, not a boolean")
    return value


NotBoolean = BeforeValidator(_not_a_boolean)


def _cohort_year(value: Any) -> Any:
    # Rosters write 2024级 (or 2024 级); the cohort is the year.
    if isinstance(value, str):
        return value.strip().removesuffix("级").strip()
    return value


# 年级: the year of enrolment, as 2024 or 2024级.
Cohort = Annotated[int, NotBoolean, BeforeValidator(_cohort_year),
                   Field(ge=1950, le=2100, description="Year of enrolment (年级), as 2024 or 2024级.")]
WholeNumber = Annotated[int, NotBoolean]
RealNumber = Annotated[float, NotBoolean]
Id = Annotated[int, NotBoolean, Field(ge=1, le=MAX_ID)]


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # Every text field of every input, nested lists and objects included: one rule, so that no
        # field is forgotten and both databases refuse the same inputs.
        if has_control_characters(value):
            raise ValueError(TEXT_MESSAGE)
        return value


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        # Timestamps are stored in UTC, but SQLite hands them back without their offset, and an
        # RFC 3339 date-time (what the schema promises) needs one.
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class ListPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


# --------------------------------------------------------------------------- colleges


class CollegeCreate(InputModel):
    name: Name
    province: Province
    city: ShortName
    level: EducationLevel


_ADMIN_ONLY = "Only an admin may change it (a tenant's change is a 403 naming the field)."


class CollegeUpdate(InputModel):
    name: Name | None = Field(default=None, description=_ADMIN_ONLY)
    province: Province | None = Field(default=None, description=_ADMIN_ONLY)
    city: ShortName | None = None
    level: EducationLevel | None = Field(default=None, description=_ADMIN_ONLY)


class CollegeRead(OutputModel):
    id: int
    name: str
    province: str
    city: str
    level: EducationLevel
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- programs


class ProgramCreate(InputModel):
    college_id: Id
    major_code: MajorCode
    major_level: EducationLevel | None = Field(
        default=None, description="Level of the catalogue entry; defaults to the college's level."
    )
    name: Name | None = Field(default=None, description="Defaults to the major's catalogue name.")
    description: LongText = ""
    core_courses: Tags = []
    skills: Tags = []
    cohort_size: WholeNumber = Field(default=0, ge=0, le=100_000)
    term: Term


class ProgramUpdate(InputModel):
    name: Name | None = None
    description: LongText | None = None
    core_courses: Tags | None = None
    skills: Tags | None = None
    cohort_size: WholeNumber | None = Field(default=None, ge=0, le=100_000)
    term: Term | None = None


class ProgramRead(OutputModel):
    id: int
    college_id: int
    major_id: int
    major_code: str
    major_name: str
    name: str
    description: str
    core_courses: list[str]
    skills: list[str]
    cohort_size: int
    term: str
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- enterprises


class EnterpriseCreate(InputModel):
    name: Name
    industry: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    province: Province
    city: ShortName
    staff_count: WholeNumber = Field(default=0, ge=0, le=10_000_000)


class EnterpriseUpdate(InputModel):
    name: Name | None = Field(default=None, description=_ADMIN_ONLY)
    industry: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    province: Province | None = Field(default=None, description=_ADMIN_ONLY)
    city: ShortName | None = None
    staff_count: WholeNumber | None = Field(default=None, ge=0, le=10_000_000, description=_ADMIN_ONLY)


class EnterpriseRead(OutputModel):
    id: int
    name: str
    industry: str
    province: str
    city: str
    staff_count: int
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- openings


class _OpeningFields(InputModel):
    @model_validator(mode="after")
    def _period_ordered(self) -> Any:
        start, end = getattr(self, "period_start", None), getattr(self, "period_end", None)
        if start and end and end < start:
            raise ValueError("period_end must not be before period_start")
        return self


class OpeningCreate(_OpeningFields):
    enterprise_id: Id
    code: OpeningCode | None = Field(default=None, description="The enterprise's own code (岗位编号), unique "
                                                               "within the enterprise.")
    title: Name
    description: LongText = ""
    required_skills: Tags = []
    occupation_code: OccupationCode | None = None
    seats: WholeNumber = Field(ge=0, le=100_000)
    province: Province
    city: ShortName
    term: Term
    period_start: date | None = None
    period_end: date | None = None
    eligible_levels: list[EducationLevel] = []
    eligible_major_codes: Annotated[list[MajorCode], Field(max_length=500)] = []
    post_headcount: WholeNumber | None = Field(default=None, gt=0, le=10_000_000,
                                       description="Staff in this post; caps interns at a share of it.")


class OpeningUpdate(_OpeningFields):
    code: OpeningCode | None = None
    title: Name | None = None
    description: LongText | None = None
    required_skills: Tags | None = None
    occupation_code: OccupationCode | None = None
    seats: WholeNumber | None = Field(default=None, ge=0, le=100_000)
    province: Province | None = None
    city: ShortName | None = None
    term: Term | None = None
    period_start: date | None = None
    period_end: date | None = None
    eligible_levels: list[EducationLevel] | None = None
    eligible_major_codes: Annotated[list[MajorCode], Field(max_length=500)] | None = None
    post_headcount: WholeNumber | None = Field(default=None, gt=0, le=10_000_000)


class OpeningRead(OutputModel):
    id: int
    enterprise_id: int
    code: str | None
    title: str
    description: str
    required_skills: list[str]
    occupation_code: str | None
    seats: int
    province: str
    city: str
    term: str
    period_start: date | None
    period_end: date | None
    eligible_levels: list[str]
    eligible_major_codes: list[str]
    post_headcount: int | None
    version: int
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- students


class StudentCreate(InputModel):
    program_id: Id
    student_no: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 \-]{5,20}$")] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                            max_length=200)] | None = None
    skills: Tags = []
    certificates: Tags = []
    grade: RealNumber | None = Field(default=None, ge=0, le=100)
    cohort: Cohort | None = None
    province: OptionalProvince = ""
    city: OptionalShort = ""
    preferences: Annotated[list[Id], Field(max_length=50, description="Opening ids, first choice first.")] = []

    @model_validator(mode="after")
    def _distinct_preferences(self) -> StudentCreate:
        if len(set(self.preferences)) != len(self.preferences):
            raise ValueError("preferences must not name an opening twice")
        return self


class StudentUpdate(InputModel):
    program_id: Id | None = None
    student_no: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 \-]{5,20}$")] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                            max_length=200)] | None = None
    skills: Tags | None = None
    certificates: Tags | None = None
    grade: RealNumber | None = Field(default=None, ge=0, le=100)
    cohort: Cohort | None = None
    province: OptionalProvince | None = None
    city: OptionalShort | None = None
    preferences: Annotated[list[Id], Field(max_length=50)] | None = None

    @model_validator(mode="after")
    def _distinct_preferences(self) -> StudentUpdate:
        if self.preferences is not None and len(set(self.preferences)) != len(self.preferences):
            raise ValueError("preferences must not name an opening twice")
        return self


class StudentRead(OutputModel):
    id: int
    program_id: int
    student_no: str
    name: str
    phone: str | None
    email: str | None
    skills: list[str]
    certificates: list[str]
    grade: float | None
    cohort: int | None
    province: str
    city: str
    preferences: list[int]
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- lecturers


class LecturerCreate(InputModel):
    enterprise_id: Id
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    expertise: LongText = ""
    topics: Tags = []
    max_weekly_hours: WholeNumber = Field(gt=0, le=60)
    available_slots: Slots = []
    cities: Annotated[list[ShortName], Field(max_length=50)] = []


class LecturerUpdate(InputModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    expertise: LongText | None = None
    topics: Tags | None = None
    max_weekly_hours: WholeNumber | None = Field(default=None, gt=0, le=60)
    available_slots: Slots | None = None
    cities: Annotated[list[ShortName], Field(max_length=50)] | None = None


class LecturerRead(OutputModel):
    id: int
    enterprise_id: int
    name: str
    title: str
    expertise: str
    topics: list[str]
    max_weekly_hours: int
    available_slots: list[str]
    cities: list[str]
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- course needs


class CourseNeedCreate(InputModel):
    program_id: Id
    course_name: Name
    topics: Tags = []
    weekly_hours: WholeNumber = Field(gt=0, le=40)
    slots: Slots = []
    term: Term
    is_professional: bool = True


class CourseNeedUpdate(InputModel):
    course_name: Name | None = None
    topics: Tags | None = None
    weekly_hours: WholeNumber | None = Field(default=None, gt=0, le=40)
    slots: Slots | None = None
    term: Term | None = None
    is_professional: bool | None = None


class CourseNeedRead(OutputModel):
    id: int
    program_id: int
    course_name: str
    topics: list[str]
    weekly_hours: int
    slots: list[str]
    term: str
    is_professional: bool
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- catalogues


class MajorRead(OutputModel):
    id: int
    code: str
    name: str
    level: EducationLevel
    category_code: str
    category_name: str
    class_code: str
    class_name: str


class OccupationRead(OutputModel):
    code: str
    level: int
    name: str
    definition: str
    tasks: str
    is_digital: bool
    is_green: bool


class Health(BaseModel):
    status: str
    database: str
