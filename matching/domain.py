"""Frozen domain objects shared by scoring and allocation.

These are plain values: the service (``app/translate.py``) builds them from database rows, the
CLI builds them from CSV files, and the tests build them by hand.  Nothing here does I/O.
Identifiers are strings so that any external catalogue or instance file can be used unchanged.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class EducationLevel(enum.StrEnum):
    """Levels of the vocational and higher-education system (中职 → 普通本科)."""

    SECONDARY = "中职"
    HIGHER_VOCATIONAL = "高职专科"
    VOCATIONAL_BACHELOR = "职业本科"
    BACHELOR = "普通本科"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One entry of a catalogue being matched against (a major, an occupation, a program...).

    ``category`` and ``subcategory`` carry the catalogue hierarchy when known (for majors:
    专业大类 and 专业类 codes; for 大典 occupations: 中类 and 小类 codes).
    """

    code: str
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    category: str = ""
    subcategory: str = ""
    level: str = ""


@dataclass(frozen=True, slots=True)
class ProgramProfile:
    """A major as taught at one college."""

    id: str
    college_id: str
    major_code: str
    major_name: str
    category_code: str  # 专业大类, e.g. "51"
    class_code: str  # 专业类, e.g. "5102"
    level: str
    description: str = ""
    core_courses: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    province: str = ""
    city: str = ""
    cohort_size: int = 0


@dataclass(frozen=True, slots=True)
class OpeningProfile:
    """An enterprise's internship opening, with its 大典 occupation text when classified."""

    id: str
    enterprise_id: str
    title: str
    description: str = ""
    required_skills: tuple[str, ...] = ()
    occupation_code: str = ""
    occupation_text: str = ""  # 大典 definition and tasks of occupation_code
    eligible_levels: tuple[str, ...] = ()
    eligible_major_codes: tuple[str, ...] = ()
    province: str = ""
    city: str = ""
    seats: int = 0


@dataclass(frozen=True, slots=True)
class StudentProfile:
    """A student, without personal data: only what scoring and allocation need."""

    id: str
    program_id: str
    college_id: str
    skills: tuple[str, ...] = ()
    certificates: tuple[str, ...] = ()
    grade: float | None = None
    province: str = ""
    city: str = ""
    # opening id -> rank (1 = first choice)
    preferences: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LecturerProfile:
    id: str
    enterprise_id: str
    expertise: str = ""
    topics: tuple[str, ...] = ()
    max_weekly_hours: int = 0
    available_slots: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CourseNeedProfile:
    id: str
    program_id: str
    college_id: str
    course_name: str
    topics: tuple[str, ...] = ()
    weekly_hours: int = 0
    slots: tuple[str, ...] = ()
    city: str = ""
    is_professional: bool = True


@dataclass(frozen=True, slots=True)
class PlacementOutcome:
    """A past placement and how it went: the training signal of the scoring model."""

    student_id: str
    opening_id: str
    completed: bool
    rating: int | None = None
