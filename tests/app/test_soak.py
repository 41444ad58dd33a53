"""A short soak of the real server on SQLite and PostgreSQL (``make soak`` runs the long one):
concurrent reads, If-Match edits, creations, imports and match queries; zero 5xx, and every
acknowledged write stored exactly once, none lost, none invented."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from benchmarks.soak.run import soak
from tests.conftest import migrate, postgres_database


@pytest.mark.slow
def test_short_soak(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'soak.db'}"
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = postgres_database(request.getfixturevalue("pg_server"), f"chanjiao_soak_{worker}_{time.monotonic_ns()}")
    migrate(url)
    report = soak(url, backend, duration_s=5, clients=8, log=tmp_path / "server.log")
    print(report.summary())
    assert report.requests > 20
    assert not report.server_errors
    assert report.transport_errors == 0
    assert report.students_acked > 0
    assert report.edits_acked > 0
    assert not report.students_missing
    assert not report.students_duplicated
    assert not report.students_phantom
    assert not report.openings_wrong
    assert report.ok
