"""SQLite has one write lock: long work in a request (checking an import, hashing a password) must
not hold it, or every other tenant's write waits (and fails after the busy timeout).

Each test serves a real SQLite file with the application's own engine and session factories (the
shared-connection fixtures of the other tests cannot show locking), pauses a request in its long
phase, and writes from a second connection meanwhile: the write must commit at once.  Timings are
not asserted here; the figures are in ``make soak`` (benchmarks/soak/RESULTS.md).
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.engine import make_engine, make_session_factory
from app.db.models import College, EducationLevel, Major, Program, Role, Student
from app.main import create_app
from app.services.auth import create_api_key, ensure_actor
from app.settings import Settings
from tests.conftest import migrate

# The concurrent writer gives up this soon: a lock held by the paused request fails it.
WRITER_BUSY_TIMEOUT_MS = 1_000
PAUSE_LIMIT_S = 30


@dataclass
class Served:
    client: TestClient
    url: str
    key: str
    program_id: int


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            major = Major(code="510205", name="大数据技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
                          category_name="电子与信息大类", class_code="5102", class_name="计算机类")
            college = College(name="贵州测试职业技术学院", province="贵州", city="贵阳",
                              level=EducationLevel.HIGHER_VOCATIONAL)
            session.add_all([major, college])
            session.flush()
            program = Program(college_id=college.id, major_id=major.id, name="大数据技术", term="2027-spring")
            session.add(program)
            session.flush()
            key = create_api_key(session, ensure_actor(session, Role.PLACEMENT_OFFICE, college_id=college.id))
            program_id = program.id
    finally:
        engine.dispose()
    settings = Settings(database_url=url, secret_key="test-secret-" + "x" * 40)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Served(client, url, key, program_id)


def _write_elsewhere(url: str, name: str) -> None:
    """Another tenant's write on a connection of its own; raises when the lock is held."""
    engine = make_engine(url, busy_timeout_ms=WRITER_BUSY_TIMEOUT_MS)
    try:
        with make_session_factory(engine).begin() as session:
            session.add(College(name=name, province="辽宁", city="沈阳", level=EducationLevel.HIGHER_VOCATIONAL))
    finally:
        engine.dispose()


def _paused(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> tuple[threading.Event, threading.Event]:
    """Makes the first call of ``owner.name`` wait (after it ran) until released."""
    original: Callable[..., Any] = getattr(owner, name)
    reached, release = threading.Event(), threading.Event()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not reached.is_set():
            reached.set()
            release.wait(PAUSE_LIMIT_S)
        return result

    monkeypatch.setattr(owner, name, wrapper)
    return reached, release


def _in_thread(call: Callable[[], httpx.Response]) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    thread.start()
    return thread, answers


def _write_while_paused(served: Served, reached: threading.Event, release: threading.Event,
                        thread: threading.Thread) -> None:
    try:
        assert reached.wait(PAUSE_LIMIT_S), "the request never reached its pause"
        _write_elsewhere(served.url, "辽宁测试职业技术学院")  # "database is locked" if the request holds the lock
    finally:
        release.set()
        thread.join(PAUSE_LIMIT_S)


def _students_csv(program_id: int, numbers: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["program_id", "student_no", "name"])
    writer.writerows([program_id, number, "测试学生"] for number in numbers)
    return buffer.getvalue().encode()


def test_an_import_checking_its_rows_does_not_block_other_writers(
        served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.resources import StudentService

    # Paused in the middle of the row checks: the key was looked up, the file parsed, the
    # program's tenancy read.
    reached, release = _paused(monkeypatch, StudentService, "build")
    body = _students_csv(served.program_id, [f"2027{i:04d}" for i in range(50)])
    thread, answers = _in_thread(lambda: served.client.post(
        "/api/v1/students/import", headers={"Authorization": f"Bearer {served.key}"},
        files={"file": ("students.csv", body, "text/csv")}))
    _write_while_paused(served, reached, release, thread)
    assert answers and answers[0].status_code == 201, answers[0].text if answers else "no answer"
    assert answers[0].json()["created"] == 50
    engine = make_engine(served.url)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Student)) == 50
    finally:
        engine.dispose()


def test_an_import_rechecks_unique_keys_taken_while_it_checked(
        served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.resources import StudentService

    reached, release = _paused(monkeypatch, StudentService, "build")
    body = _students_csv(served.program_id, ["20270001", "20270002"])
    thread, answers = _in_thread(lambda: served.client.post(
        "/api/v1/students/import", headers={"Authorization": f"Bearer {served.key}"},
        files={"file": ("students.csv", body, "text/csv")}))
    try:
        assert reached.wait(PAUSE_LIMIT_S)
        engine = make_engine(served.url, busy_timeout_ms=WRITER_BUSY_TIMEOUT_MS)
        try:
            with make_session_factory(engine).begin() as session:
                session.add(Student(program_id=served.program_id, student_no="20270002", name="先到的学生"))
        finally:
            engine.dispose()
    finally:
        release.set()
        thread.join(PAUSE_LIMIT_S)
    answer = answers[0]
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["row"], error["column"], error["code"]) == (3, "student_no", "import_exists")
    assert "update mode" in error["message"]  # what to do instead: the row exists now
    engine = make_engine(served.url)
    try:
        with Session(engine) as session:  # all or nothing: row 2 was not stored either
            assert session.scalars(select(Student.student_no)).all() == ["20270002"]
    finally:
        engine.dispose()



_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_a_sign_in_hashing_a_password_does_not_block_other_writers(
        served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.services.users as users

    hasher = users._hasher()

    class PausedHasher:
        """The real hasher, paused after each check (the first one only, see _paused)."""

        hash = staticmethod(hasher.hash)
        verify = staticmethod(hasher.verify)
        verify_and_update = staticmethod(hasher.verify_and_update)

    reached, release = _paused(monkeypatch, PausedHasher, "verify")
    monkeypatch.setattr(users, "_hasher", lambda: PausedHasher)
    page = served.client.get("/login")
    token = _CSRF.search(page.text)
    assert token is not None
    form = {"csrf_token": token.group(1), "username": "nobody-at-all", "password": "not the password"}
    thread, answers = _in_thread(lambda: served.client.post("/login", data=form))
    _write_while_paused(served, reached, release, thread)
    assert answers and answers[0].status_code == 401


def test_a_web_import_checking_its_rows_does_not_block_other_writers(
        served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """The placement office's import form: the same staged unit as the API."""
    from app.services.resources import StudentService
    from app.services.users import create_user

    engine = make_engine(served.url)
    try:
        with make_session_factory(engine).begin() as session:
            college_id = session.scalars(select(College.id)).first()
            create_user(session, "office-web", "a long enough password", Role.PLACEMENT_OFFICE,
                        college_id=college_id)
    finally:
        engine.dispose()
    client = served.client
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    signed = client.post("/login", data={"username": "office-web", "password": "a long enough password",
                                         "csrf_token": token.group(1)}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/students").text)
    assert form_token
    reached, release = _paused(monkeypatch, StudentService, "build")
    body = _students_csv(served.program_id, [f"2028{i:04d}" for i in range(20)])
    thread, answers = _in_thread(lambda: client.post(
        "/students/import", data={"csrf_token": form_token.group(1)},
        files={"file": ("students.csv", body, "text/csv")}, follow_redirects=False))
    # Before: the page's request held SQLite's write lock from its first statement.
    _write_while_paused(served, reached, release, thread)
    assert answers and answers[0].status_code == 303, answers[0].text if answers else "no answer"
    engine = make_engine(served.url)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Student)) == 20
    finally:
        engine.dispose()
