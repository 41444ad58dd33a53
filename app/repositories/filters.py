"""List filters: query parameters of the list endpoints turned into SQL conditions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from app.db.base import Base
from app.db.models import College, CourseNeed, Enterprise, Lecturer, Opening, Program, Student

Condition = Callable[[Any], ColumnElement[bool]]


def _contains(*columns: Any) -> Condition:
    return lambda value: or_(*(column.contains(value, autoescape=True) for column in columns))


def _equals(column: Any) -> Condition:
    return lambda value: column == value


def _of_college(program_fk: Any) -> Condition:
    return lambda value: program_fk.in_(select(Program.id).where(Program.college_id == value))


FILTERS: dict[type[Base], dict[str, Condition]] = {
    College: {"q": _contains(College.name), "province": _equals(College.province),
              "city": _equals(College.city), "level": _equals(College.level)},
    Program: {"q": _contains(Program.name, Program.description), "college_id": _equals(Program.college_id),
              "major_id": _equals(Program.major_id), "term": _equals(Program.term)},
    Enterprise: {"q": _contains(Enterprise.name), "province": _equals(Enterprise.province),
                 "city": _equals(Enterprise.city), "industry": _equals(Enterprise.industry)},
    Opening: {"q": _contains(Opening.title, Opening.description), "enterprise_id": _equals(Opening.enterprise_id),
              "province": _equals(Opening.province), "city": _equals(Opening.city),
              "term": _equals(Opening.term), "occupation_code": _equals(Opening.occupation_code)},
    Student: {"q": _contains(Student.student_no), "program_id": _equals(Student.program_id),
              "college_id": _of_college(Student.program_id)},
    Lecturer: {"q": _contains(Lecturer.expertise, Lecturer.title), "enterprise_id": _equals(Lecturer.enterprise_id)},
    CourseNeed: {"q": _contains(CourseNeed.course_name), "program_id": _equals(CourseNeed.program_id),
                 "college_id": _of_college(CourseNeed.program_id), "term": _equals(CourseNeed.term)},
}


def filters_for(model: type[Base], params: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    known = FILTERS.get(model, {})
    return [known[name](value) for name, value in params.items() if value not in (None, "") and name in known]
