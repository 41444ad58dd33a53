"""ORM rows → matching domain objects: the only place the two meet.

The domain core never sees SQLAlchemy; it receives frozen profiles with string identifiers and
without personal data (a student's name or contact never leaves the service layer).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Row

from app.db.models import CourseNeed, Lecturer, Major, Occupation, Opening, Program, Student
from matching.domain import (
    CatalogEntry,
    CourseNeedProfile,
    LecturerProfile,
    OpeningProfile,
    ProgramProfile,
    StudentProfile,
)


def occupation_text(occupation: Occupation | None) -> str:
    if occupation is None:
        return ""
    return "\n".join(part for part in (occupation.name, occupation.definition, occupation.tasks) if part)


def program_profile(row: Program) -> ProgramProfile:
    return ProgramProfile(
        id=str(row.id),
        college_id=str(row.college_id),
        major_code=row.major.code,
        major_name=row.major.name,
        category_code=row.major.category_code,
        class_code=row.major.class_code,
        level=row.major.level.value,
        description=row.description,
        core_courses=tuple(row.core_courses or ()),
        skills=tuple(row.skills or ()),
        province=row.college.province,
        city=row.college.city,
        cohort_size=row.cohort_size,
    )


def opening_profile(row: Opening, occupation: Occupation | None = None) -> OpeningProfile:
    return OpeningProfile(
        id=str(row.id),
        enterprise_id=str(row.enterprise_id),
        title=row.title,
        description=row.description,
        required_skills=tuple(row.required_skills or ()),
        occupation_code=row.occupation_code or "",
        occupation_text=occupation_text(occupation),
        eligible_levels=tuple(row.eligible_levels or ()),
        eligible_major_codes=tuple(row.eligible_major_codes or ()),
        province=row.province,
        city=row.city,
        seats=row.seats,
    )


def student_profile(row: Student, college_id: int) -> StudentProfile:
    return StudentProfile(
        id=str(row.id),
        program_id=str(row.program_id),
        college_id=str(college_id),
        skills=tuple(row.skills or ()),
        certificates=tuple(row.certificates or ()),
        grade=row.grade,
        province=row.province,
        city=row.city,
        preferences={str(p.opening_id): p.rank for p in row.preferences},
    )


def student_profiles_from_rows(rows: Iterable[Row[Any]], preference_rows: Iterable[Row[Any]],
                               college_of_program: Mapping[int, int]) -> list[StudentProfile]:
    """Profiles from the plain rows of ``RunRepository.student_rows`` / ``preference_rows``."""
    preferences: dict[int, dict[str, int]] = defaultdict(dict)
    for student_id, opening_id, rank in map(tuple, preference_rows):
        preferences[student_id][str(opening_id)] = rank
    return [StudentProfile(id=str(sid), program_id=str(pid), college_id=str(college_of_program[pid]),
                           skills=tuple(skills or ()), certificates=tuple(certificates or ()), grade=grade,
                           province=province, city=city, preferences=preferences.get(sid, {}))
            for sid, pid, skills, certificates, grade, province, city in map(tuple, rows)]


def lecturer_profile(row: Lecturer) -> LecturerProfile:
    return LecturerProfile(
        id=str(row.id),
        enterprise_id=str(row.enterprise_id),
        expertise=row.expertise,
        topics=tuple(row.topics or ()),
        max_weekly_hours=row.max_weekly_hours,
        available_slots=tuple(row.available_slots or ()),
        cities=tuple(row.cities or ()),
    )


def course_need_profile(row: CourseNeed, college_id: int, city: str = "") -> CourseNeedProfile:
    return CourseNeedProfile(
        id=str(row.id),
        program_id=str(row.program_id),
        college_id=str(college_id),
        course_name=row.course_name,
        topics=tuple(row.topics or ()),
        weekly_hours=row.weekly_hours,
        slots=tuple(row.slots or ()),
        city=city,
        is_professional=row.is_professional,
    )


def major_entries(rows: Iterable[Major]) -> list[CatalogEntry]:
    return [CatalogEntry(code=m.code, name=m.name, category=m.category_code, subcategory=m.class_code,
                         level=m.level.value) for m in rows]


def occupation_entries(rows: Iterable[Occupation]) -> list[CatalogEntry]:
    # 大典 codes "4-04-05-01": 中类 is the first two groups, 小类 the first three.
    return [CatalogEntry(code=o.code, name=o.name, description="\n".join(p for p in (o.definition, o.tasks) if p),
                         category=o.code[:4], subcategory=o.code[:7], level=str(o.level)) for o in rows]
