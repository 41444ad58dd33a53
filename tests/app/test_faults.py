"""Faults: SIGTERM with requests in flight (a real uvicorn), and the database going away in the
middle of a request (503 problem+json, nothing of the request stored)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from app.db.engine import make_engine, make_session_factory
from app.db.models import Student
from app.main import create_app
from app.services.resources import StudentService
from app.settings import Settings
from benchmarks.soak.run import Seed, _student_csv, free_port, running_app, seed
from tests.conftest import migrate, postgres_database

MARKER = "MARK-2027-0001"


@pytest.mark.slow
def test_sigterm_lets_accepted_requests_finish(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'graceful.db'}"
    migrate(url)
    data: Seed = seed(url)
    log = tmp_path / "server.log"
    college = {"Authorization": f"Bearer {data.keys['college0']}"}
    # Exports of a few thousand students as XLSX take a while: they are in flight at SIGTERM.
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        session.add_all(Student(program_id=data.programs[0], student_no=f"G-{i:06d}", name="学生", skills=["Python"])
                        for i in range(3000))
    engine.dispose()
    with running_app(url, log=log) as server, httpx.Client(timeout=60) as http:
        http.get(f"{server.base}/api/v1/students", params={"q": MARKER}, headers=college)  # for the access log

        def export(_: int) -> int:
            return http.get(f"{server.base}/api/v1/students/export", params={"format": "xlsx"},
                            headers=college).status_code

        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(export, i) for i in range(6)]
            time.sleep(0.5)  # sent, accepted and being processed
            assert not all(f.done() for f in futures)
            server.process.send_signal(signal.SIGTERM)
            statuses = [f.result() for f in futures]
        assert statuses == [200] * 6  # every accepted request completed
        # uvicorn re-raises the signal once it has shut down cleanly
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
        with pytest.raises(httpx.TransportError):  # and then it stopped listening
            http.get(f"{server.base}/health", timeout=2)
    text_log = log.read_text(errors="replace")
    assert "Shutting down" in text_log
    assert "Finished server process" in text_log
    assert "/api/v1/students/export" in text_log  # the access log is on ...
    assert MARKER not in text_log  # ... and keeps queries (personal data) out


# --------------------------------------------------------------------------- database away


def test_unreachable_database_gives_503_problem() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere?connect_timeout=2"
    app = create_app(Settings(database_url=url))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/colleges", headers={"Authorization": "Bearer cj_any"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"]
    assert response.json()["type"].endswith("/service-unavailable")


@pytest.fixture
def pg_live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    server = request.getfixturevalue("pg_server")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = postgres_database(server, f"chanjiao_fault_{worker}_{time.monotonic_ns()}")
    migrate(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def test_database_lost_mid_request_gives_503_and_stores_nothing(pg_live: tuple[str, Engine],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url, engine = pg_live
    data = seed(url)
    app = create_app(Settings(database_url=url), engine=engine)
    college = {"Authorization": f"Bearer {data.keys['college0']}"}
    original = StudentService.after_write

    def connection_dies(self: StudentService, row: Any, changes: dict[str, Any]) -> None:
        original(self, row, changes)
        # The row is flushed, the transaction is open: now the server drops this connection.
        self.session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")

    original_many = StudentService.after_insert

    def connection_dies_in_bulk(self: StudentService, prepared: Any) -> None:
        original_many(self, prepared)
        # An import's rows are inserted in batches (after_insert): the same fault, mid-transaction.
        self.session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")

    monkeypatch.setattr(StudentService, "after_write", connection_dies)
    monkeypatch.setattr(StudentService, "after_insert", connection_dies_in_bulk)
    with TestClient(app, raise_server_exceptions=False) as client:
        single = client.post("/api/v1/students", json={"program_id": data.programs[0], "student_no": "LOST-1",
                                                       "name": "某某"}, headers=college)
        bulk = client.post("/api/v1/students/import", headers=college, files={
            "file": ("s.csv", _student_csv(data.programs[0], [f"LOST-{i}" for i in range(2, 50)]), "text/csv")})
        for response in (single, bulk):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
        monkeypatch.undo()
        # The pool recovers (pre-ping) and nothing of the failed requests was stored.
        assert client.get("/api/v1/students", headers=college).status_code == 200
    with make_session_factory(make_engine(url))() as session:
        assert session.scalar(select(func.count()).select_from(Student)) == 0
        assert session.execute(text("SELECT 1")).scalar() == 1
