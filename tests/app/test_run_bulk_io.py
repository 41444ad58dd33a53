"""A run's inputs stream out of the database in batches and its proposals go in with COPY
(PostgreSQL) or batched inserts (SQLite), inside the store's one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Major, Opening, Placement, Program, RunKind, Student, StudentPreference
from app.repositories import runs as runs_repository
from app.repositories.runs import RunRepository
from app.run_schemas import RunCreate
from app.security import SYSTEM
from app.services.runs import RunService
from tests.conftest import World

TERM = "2027-spring"


def _scope(session: Session, world: World, n_students: int) -> tuple[list[int], list[int]]:
    major = session.scalars(select(Major).where(Major.code == "510205")).one()
    program = Program(college_id=world.college_a.id, major_id=major.id, name="大数据技术", term=TERM)
    session.add(program)
    session.flush()
    openings = [Opening(enterprise_id=world.enterprise_a.id, title=f"实习{n}", seats=2, province="贵州",
                        city="贵阳", term=TERM) for n in range(3)]
    students = [Student(program_id=program.id, student_no=f"B{n:03d}", name=f"学生{n}", skills=["SQL", f"S{n}"],
                        grade=60.0 + n, province="贵州", city="贵阳") for n in range(n_students)]
    session.add_all([*openings, *students])
    session.flush()
    session.add_all([StudentPreference(student_id=s.id, opening_id=openings[r].id, rank=r + 1)
                     for s in students for r in range(2)])
    session.flush()
    return [s.id for s in students], [o.id for o in openings]


def test_student_and_preference_rows_stream_in_batches(session: Session, world: World,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_repository, "STREAM_BATCH", 3)  # ten students: four round trips
    students, openings = _scope(session, world, 10)
    repo = RunRepository(session)
    program_ids = [session.scalars(select(Student.program_id).where(Student.id == students[0])).one()]
    rows = repo.student_rows(program_ids)
    assert not isinstance(rows, list)  # an iterator over the cursor, not a materialised list
    got = [tuple(r) for r in rows]
    assert [r[0] for r in got] == students
    assert got[4][2] == ["SQL", "S4"] and got[4][4] == 64.0 and got[4][5:] == ("贵州", "贵阳")
    prefs = sorted(tuple(r) for r in repo.preference_rows(program_ids))
    assert prefs == sorted((s, openings[r], r + 1) for s in students for r in range(2))
    assert list(repo.student_rows([])) == [] and list(repo.preference_rows([])) == []


def test_proposals_are_stored_in_bulk_in_the_callers_transaction(session: Session, world: World,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_repository, "INSERT_BATCH", 4)  # SQLite: three batches of at most four
    students, openings = _scope(session, world, 10)
    run, _ = RunService(session, SYSTEM).submit(RunCreate.model_validate(
        {"kind": "internship", "scope": {"term": TERM}}))
    rows = ({"run_id": run.id, "kind": RunKind.INTERNSHIP.value, "student_id": s, "opening_id": openings[n % 3],
             "term": TERM, "score": n / 10, "status": "proposed", "locked": False} for n, s in enumerate(students))
    repo = RunRepository(session)
    with session.begin_nested() as undone:
        assert repo.insert_placements(rows) == 10
        assert session.scalar(select(func.count()).select_from(Placement).where(Placement.run_id == run.id)) == 10
        undone.rollback()  # the rows are the transaction's: its rollback takes them back
    assert session.scalar(select(func.count()).select_from(Placement).where(Placement.run_id == run.id)) == 0

    again = ({"run_id": run.id, "kind": RunKind.INTERNSHIP.value, "student_id": s, "opening_id": openings[n % 3],
              "term": TERM, "score": n / 10, "status": "proposed", "locked": False} for n, s in enumerate(students))
    assert repo.insert_placements(again) == 10
    stored = repo.placements_of(run.id)
    assert [(p.student_id, p.opening_id, p.score) for p in stored] == [
        (s, openings[n % 3], n / 10) for n, s in enumerate(students)]
    assert {(p.kind, p.status.value, p.locked, p.lecturer_id, p.course_need_id) for p in stored} == {
        (RunKind.INTERNSHIP, "proposed", False, None, None)}
    # One timestamp for the whole store, read back as the datetime it was (through the column's type).
    assert len({(p.created_at, p.updated_at, p.term) for p in stored}) == 1
    assert stored[0].created_at == stored[0].updated_at and stored[0].term == TERM
    assert repo.insert_placements(iter(())) == 0
