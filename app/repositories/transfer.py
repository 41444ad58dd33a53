"""Queries of bulk import: checks made for a whole file at once rather than row by row."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Student
from app.repositories.entities import StudentRepository
from app.security import Principal

# Well under SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 500


class TransferRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def taken_student_numbers(
        self, principal: Principal, keys: Collection[tuple[int, str]]
    ) -> set[tuple[int, str]]:
        """Which (program id, student number) pairs already exist among the students the caller
        may read.  Limited to readable students so that the answer never reveals another
        college's students (such rows fail the tenancy check instead)."""
        found: set[tuple[int, str]] = set()
        readable = StudentRepository.tenancy.readable_by(principal)
        ordered = sorted(keys)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start:start + _CHUNK]
            programs = {program_id for program_id, _ in chunk}
            numbers = {number for _, number in chunk}
            stmt = select(Student.program_id, Student.student_no).where(
                Student.program_id.in_(programs), Student.student_no.in_(numbers), readable
            )
            found.update((program_id, number) for program_id, number in self.session.execute(stmt))
        return found & set(keys)
