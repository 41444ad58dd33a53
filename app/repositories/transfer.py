"""Queries of bulk import: checks made for a whole file at once rather than row by row."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import College, CourseNeed, Enterprise, Lecturer, Major, Opening, Program, Student

# Well under SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 500


class TransferRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self, model: type[College] | type[Enterprise], ids: Collection[int]) -> dict[int, str]:
        wanted = sorted(set(ids))
        out: dict[int, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            stmt = select(model.id, model.name).where(model.id.in_(wanted[start:start + _CHUNK]))
            out.update({int(i): str(n) for i, n in self.session.execute(stmt)})
        return out

    # -- names and codes people write, resolved to rows (imports never ask for an internal id)

    def ids_by_name(self, model: type[College] | type[Enterprise], names: Collection[str]) -> dict[str, int]:
        """College or enterprise names (unique in the schema) → ids.  Names are not personal data."""
        found: dict[str, int] = {}
        ordered = sorted(set(names))
        for start in range(0, len(ordered), _CHUNK):
            stmt = select(model.name, model.id).where(model.name.in_(ordered[start:start + _CHUNK]))
            found.update({str(name): int(i) for name, i in self.session.execute(stmt)})
        return found

    def program_candidates(self, college_id: int | None) -> list[dict[str, Any]]:
        """Every program of a college (of all colleges for None) with what people name it by."""
        stmt = (select(Program.id, Program.college_id, College.name, Program.name, Major.code, Major.name,
                       Program.term)
                .join(Major, Major.id == Program.major_id).join(College, College.id == Program.college_id)
                .order_by(Program.id))
        if college_id is not None:
            stmt = stmt.where(Program.college_id == college_id)
        keys = ("id", "college_id", "college", "name", "major_code", "major_name", "term")
        return [dict(zip(keys, row, strict=True)) for row in self.session.execute(stmt)]

    def openings_by_code(self, codes: Collection[str]) -> list[tuple[int, int, str, str]]:
        """(id, enterprise id, enterprise name, code) of the openings with these codes (openings are public)."""
        out: list[tuple[int, int, str, str]] = []
        ordered = sorted(set(codes))
        for start in range(0, len(ordered), _CHUNK):
            stmt = (select(Opening.id, Opening.enterprise_id, Enterprise.name, Opening.code)
                    .join(Enterprise, Enterprise.id == Opening.enterprise_id)
                    .where(Opening.code.in_(ordered[start:start + _CHUNK])))
            out.extend((int(i), int(e), str(n), str(c)) for i, e, n, c in self.session.execute(stmt))
        return out

    def opening_refs(self, ids: Collection[int]) -> dict[int, tuple[str | None, str]]:
        """Opening id → (code, enterprise name), for writing preferences as people name them."""
        out: dict[int, tuple[str | None, str]] = {}
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), _CHUNK):
            stmt = (select(Opening.id, Opening.code, Enterprise.name)
                    .join(Enterprise, Enterprise.id == Opening.enterprise_id)
                    .where(Opening.id.in_(ordered[start:start + _CHUNK])))
            out.update({int(i): (code, str(name)) for i, code, name in self.session.execute(stmt)})
        return out

    def program_labels(self, ids: Collection[int]) -> dict[int, dict[str, Any]]:
        wanted = sorted(set(ids))
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(wanted), _CHUNK):
            stmt = (select(Program.id, Program.name, Major.code, Major.level, Program.term, College.name)
                    .join(Major, Major.id == Program.major_id).join(College, College.id == Program.college_id)
                    .where(Program.id.in_(wanted[start:start + _CHUNK])))
            out.update({int(i): {"name": n, "major_code": c, "major_level": lv, "term": t, "college": cn}
                        for i, n, c, lv, t, cn in self.session.execute(stmt)})
        return out

    # -- the rows an update-mode import would change, by their natural keys

    def existing(self, kind: str, keys: Collection[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[int]]:
        """Ids of the rows with these natural keys (see ``KEY_COLUMNS``); callers pass keys of
        their own tenancy only (the owner id is part of every key)."""
        if kind not in KEY_COLUMNS or not keys:
            return {}
        model, columns = KEY_COLUMNS[kind]
        found: dict[tuple[Any, ...], list[int]] = {}
        ordered = sorted(set(keys), key=repr)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start:start + _CHUNK]
            conditions = [column.in_({key[i] for key in chunk}) for i, column in enumerate(columns)]
            stmt = select(model.id, *columns).where(*conditions)
            if kind == "students":
                stmt = (select(Student.id, Program.college_id, Student.student_no)
                        .join(Program, Program.id == Student.program_id)
                        .where(Program.college_id.in_({k[0] for k in chunk}),
                               Student.student_no.in_({k[1] for k in chunk})))
            elif kind == "programs":
                stmt = (select(Program.id, Program.college_id, Major.code, Program.term)
                        .join(Major, Major.id == Program.major_id)
                        .where(Program.college_id.in_({k[0] for k in chunk}), Major.code.in_({k[1] for k in chunk}),
                               Program.term.in_({k[2] for k in chunk})))
            wanted = set(chunk)
            for row_id, *key in self.session.execute(stmt):
                if tuple(key) in wanted:
                    found.setdefault(tuple(key), []).append(int(row_id))
        return found


# Natural keys of the kinds an import can update.  Students: 学号 within the college (the program
# may change); programs: the major within the college and term (the schema's unique key).
KEY_COLUMNS: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "students": (Student, (Program.college_id, Student.student_no)),
    "openings": (Opening, (Opening.enterprise_id, Opening.code)),
    "lecturers": (Lecturer, (Lecturer.enterprise_id, Lecturer.name)),
    "course-needs": (CourseNeed, (CourseNeed.program_id, CourseNeed.course_name, CourseNeed.term)),
    "programs": (Program, (Program.college_id, Major.code, Program.term)),
    "enterprises": (Enterprise, (Enterprise.name,)),
    "colleges": (College, (College.name,)),
}
