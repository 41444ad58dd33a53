"""Concurrent clients on a committed PostgreSQL database: each race on the ledger has exactly one
winner, the others get 409 (or the same run), and the audit trail records one event.

Real threads, each with its own connection and its own HTTP request through the app (the same
unit of work as production); the requests start together behind a barrier.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app.db.engine import make_engine, make_session_factory
from app.db.models import (
    AllocationRun,
    AuditEvent,
    College,
    EducationLevel,
    Enterprise,
    Major,
    Opening,
    Placement,
    PlacementStatus,
    Program,
    Role,
    RunKind,
    RunStatus,
    Student,
)
from app.main import SessionFactories, create_app
from app.services.auth import create_api_key, ensure_actor
from app.settings import Settings
from tests.conftest import migrate, postgres_database
from tests.support.postgres import PgServer

TERM = "2027-spring"
N = 8
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest) -> str:
    server: PgServer = request.getfixturevalue("pg_server")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = postgres_database(server, f"chanjiao_races_{worker}_{time.monotonic_ns()}")
    migrate(url)
    return url


@pytest.fixture(scope="module")
def engine(pg_url: str) -> Iterator[Engine]:
    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    factory = make_session_factory(engine)
    settings = Settings(database_url="sqlite://", rate_limit_enabled=False)  # the races, not the limiter
    app = create_app(settings, session_factories=SessionFactories(write=factory, read=factory))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


_counter = iter(range(1, 10_000))


@pytest.fixture
def market(engine: Engine) -> dict[str, Any]:
    """A succeeded run of one college and one enterprise proposing two students for one opening
    of two seats, with keys for the college's office and a scheduler."""
    n = next(_counter)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        major = session.scalars(select(Major).where(Major.code == "510205")).first()
        if major is None:
            major = Major(code="510205", name="大数据技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
                          category_name="电子与信息大类", class_code="5102", class_name="计算机类")
            session.add(major)
        college = College(name=f"并发职业学院{n}", province="贵州", city="贵阳", level=EducationLevel.HIGHER_VOCATIONAL)
        enterprise = Enterprise(name=f"并发科技{n}", province="贵州", city="贵阳", staff_count=500)
        session.add_all([college, enterprise])
        session.flush()
        program = Program(college_id=college.id, major_id=major.id, name="大数据技术", term=TERM)
        opening = Opening(enterprise_id=enterprise.id, title="数据实习生", seats=2, province="贵州", city="贵阳",
                          term=TERM)
        session.add_all([program, opening])
        session.flush()
        students = [Student(program_id=program.id, student_no=f"S{n}-{i}", name=f"学生{i}") for i in range(2)]
        session.add_all(students)
        run = AllocationRun(kind=RunKind.INTERNSHIP, term=TERM, scope={"term": TERM, "college_ids": [college.id]},
                            scope_key=f"internship|{TERM}|race={n}", status=RunStatus.SUCCEEDED)
        session.add(run)
        session.flush()
        offers = [Placement(run_id=run.id, kind=RunKind.INTERNSHIP, student_id=s.id, opening_id=opening.id, term=TERM,
                            score=0.5, status=PlacementStatus.PROPOSED) for s in students]
        session.add_all(offers)
        session.flush()
        office = create_api_key(session, ensure_actor(session, Role.PLACEMENT_OFFICE, college_id=college.id))
        scheduler = create_api_key(session, ensure_actor(session, Role.SCHEDULER))
        return {"run": run.id, "opening": opening.id, "offers": [o.id for o in offers],
                "office": {"Authorization": f"Bearer {office}"}, "scheduler": {"Authorization": f"Bearer {scheduler}"},
                "college": college.id}


def _race(n: int, call: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)

    def go(i: int) -> Any:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(go, range(n)))


def _statuses(responses: list[Any]) -> list[int]:
    return sorted(r.status_code for r in responses)


def _events(engine: Engine, entity: str, entity_id: int, action: str) -> int:
    with make_session_factory(engine).begin() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id), AuditEvent.action == action)) or 0)


def _publish(client: TestClient, market: dict[str, Any]) -> None:
    response = client.post(f"/api/v1/allocation-runs/{market['run']}/publish", headers=market["scheduler"])
    assert response.status_code == 200, response.text


def test_concurrent_publishes_of_one_run(client: TestClient, engine: Engine, market: dict[str, Any]) -> None:
    responses = _race(N, lambda i: client.post(f"/api/v1/allocation-runs/{market['run']}/publish",
                                               headers=market["scheduler"]))
    # Before: 7 × 200 and 7 audit events.
    assert _statuses(responses) == [200] + [409] * (N - 1)
    assert _events(engine, "allocation-run", market["run"], "publish") == 1


def test_concurrent_answers_to_one_placement(client: TestClient, engine: Engine, market: dict[str, Any]) -> None:
    _publish(client, market)
    offer = market["offers"][0]
    responses = _race(N, lambda i: client.post(f"/api/v1/placements/{offer}/{'accept' if i % 2 else 'decline'}",
                                               headers=market["office"]))
    # Before: several contradicting 200s (one row ended declined with locked=true).
    assert _statuses(responses) == [200] + [409] * (N - 1)
    winner = next(r for r in responses if r.status_code == 200).json()
    with make_session_factory(engine).begin() as session:
        row = session.get(Placement, offer)
        assert row is not None and row.status.value == winner["status"]
        assert row.locked is (row.status == PlacementStatus.ACCEPTED)
        assert session.get(Opening, market["opening"]).filled_seats == (  # type: ignore[union-attr]
            1 if row.status == PlacementStatus.ACCEPTED else 0)
    assert _events(engine, "placement", offer, "accept") + _events(engine, "placement", offer, "decline") == 1


def test_concurrent_accepts_of_the_last_seat(client: TestClient, engine: Engine, market: dict[str, Any]) -> None:
    _publish(client, market)
    with make_session_factory(engine).begin() as session:
        session.get(Opening, market["opening"]).seats = 1  # type: ignore[union-attr]  # HR's cut after publishing
    offers = market["offers"]  # two students, one seat now
    responses = _race(2 * len(offers), lambda i: client.post(f"/api/v1/placements/{offers[i % len(offers)]}/accept",
                                                             headers=market["office"]))
    assert _statuses(responses) == [200] + [409] * (2 * len(offers) - 1)
    with make_session_factory(engine).begin() as session:
        accepted = session.scalar(select(func.count()).select_from(Placement).where(
            Placement.opening_id == market["opening"], Placement.status == PlacementStatus.ACCEPTED))
        assert accepted == 1
        assert session.get(Opening, market["opening"]).filled_seats == 1  # type: ignore[union-attr]


def test_concurrent_answers_to_two_offers_of_one_student(client: TestClient, engine: Engine,
                                                         market: dict[str, Any]) -> None:
    # A second run of another scope offers the same student another opening: publishing it while
    # the first offer stands is refused, whatever the timing.
    _publish(client, market)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        first = session.get(Placement, market["offers"][0])
        assert first is not None
        opening = session.get(Opening, market["opening"])
        assert opening is not None
        other_opening = Opening(enterprise_id=opening.enterprise_id, title="第二岗位", seats=3, province="贵州",
                                city="贵阳", term=TERM)
        session.add(other_opening)
        run = AllocationRun(kind=RunKind.INTERNSHIP, term=TERM, scope={"term": TERM},
                            scope_key=f"internship|{TERM}|other={market['run']}", status=RunStatus.SUCCEEDED)
        session.add(run)
        session.flush()
        session.add(Placement(run_id=run.id, kind=RunKind.INTERNSHIP, student_id=first.student_id,
                              opening_id=other_opening.id, term=TERM, score=0.5, status=PlacementStatus.PROPOSED))
        other_run = run.id
    responses = _race(N, lambda i: client.post(
        f"/api/v1/placements/{market['offers'][0]}/accept" if i % 2 else f"/api/v1/allocation-runs/{other_run}/publish",
        headers=market["office"] if i % 2 else market["scheduler"]))
    accepts = [r for i, r in enumerate(responses) if i % 2]
    publishes = [r for i, r in enumerate(responses) if not i % 2]
    assert _statuses(accepts) == [200] + [409] * (len(accepts) - 1)
    assert all(r.status_code == 409 for r in publishes), [r.text for r in publishes]
    with factory.begin() as session:
        current = session.scalar(select(func.count()).select_from(Placement).where(
            Placement.student_id == first.student_id, Placement.term == TERM,
            Placement.status.in_(("published", "accepted", "confirmed", "completed"))))
        assert current == 1


def test_concurrent_seat_cut_and_accept(client: TestClient, engine: Engine, market: dict[str, Any]) -> None:
    _publish(client, market)
    etag = client.get(f"/api/v1/openings/{market['opening']}", headers=market["scheduler"]).headers.get("ETag")
    with make_session_factory(engine).begin() as session:
        hr = create_api_key(session, ensure_actor(session, Role.ENTERPRISE_HR, enterprise_id=session.get(
            Opening, market["opening"]).enterprise_id))  # type: ignore[union-attr]
    responses = _race(2, lambda i: client.post(f"/api/v1/placements/{market['offers'][0]}/accept",
                                               headers=market["office"]) if i == 0 else client.patch(
        f"/api/v1/openings/{market['opening']}", json={"seats": 0},
        headers={"Authorization": f"Bearer {hr}", "If-Match": etag or "*"}))
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    with make_session_factory(engine).begin() as session:
        opening = session.get(Opening, market["opening"])
        assert opening is not None and opening.filled_seats <= opening.seats


def test_concurrent_submissions_with_one_idempotency_key(client: TestClient, engine: Engine,
                                                         market: dict[str, Any]) -> None:
    body = {"kind": "internship", "scope": {"term": TERM, "college_ids": [market["college"]]}}
    headers = market["scheduler"] | {"Idempotency-Key": f"race-{market['run']}"}
    responses = _race(N, lambda i: client.post("/api/v1/allocation-runs", json=body, headers=headers))
    # Before: the losers got 409 instead of the run their retry made.
    assert _statuses(responses) == [200] * (N - 1) + [202]
    assert len({r.json()["id"] for r in responses}) == 1
    assert _events(engine, "allocation-run", responses[0].json()["id"], "submit") == 1


def test_concurrent_program_move_and_publication(client: TestClient, engine: Engine, market: dict[str, Any]) -> None:
    """An office moves a proposed student to a program of another 专业大类 while the scheduler
    publishes: either the move waits and is refused (the student now holds a placement), or the
    publication sees the move and is refused (the opening does not admit the new category) —
    never a published offer to a student the opening no longer admits."""
    with make_session_factory(engine).begin() as session:
        other = session.scalars(select(Major).where(Major.code == "530701")).first()
        if other is None:
            other = Major(code="530701", name="电子商务", level=EducationLevel.HIGHER_VOCATIONAL, category_code="53",
                          category_name="财经商贸大类", class_code="5307", class_name="电子商务类")
            session.add(other)
            session.flush()
        program = Program(college_id=market["college"], major_id=other.id, name="电子商务", term=TERM)
        session.add(program)
        opening = session.get(Opening, market["opening"])
        assert opening is not None
        opening.eligible_major_codes = ["510205"]
        session.flush()
        new_program = program.id
        student = session.get(Placement, market["offers"][0]).student_id  # type: ignore[union-attr]
    responses = _race(2, lambda i: client.post(f"/api/v1/allocation-runs/{market['run']}/publish",
                                               headers=market["scheduler"]) if i == 0 else client.patch(
        f"/api/v1/students/{student}", json={"program_id": new_program}, headers=market["office"]))
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    with make_session_factory(engine).begin() as session:
        moved = session.get(Student, student).program_id == new_program  # type: ignore[union-attr]
        published = session.get(AllocationRun, market["run"]).published_at is not None  # type: ignore[union-attr]
        assert moved != published


def test_concurrent_import_seat_cut_and_accept(client: TestClient, engine: Engine, market: dict[str, Any]) -> None:
    """An update-mode import cutting the seats races an accept: one wins, the other is refused, and
    never more live placements than seats (the import's refusal names the row and column)."""
    _publish(client, market)
    with make_session_factory(engine).begin() as session:
        opening = session.get(Opening, market["opening"])
        assert opening is not None
        opening.code = f"RACE-{opening.id}"
        hr = create_api_key(session, ensure_actor(session, Role.ENTERPRISE_HR, enterprise_id=opening.enterprise_id))
        # One seat is already taken, so cutting to one seat leaves none for the accept.
        opening.filled_seats = 1
        code = opening.code
    body = f"岗位编号,岗位名称,人数,省份,城市,学期\n{code},数据实习生,1,贵州,贵阳,{TERM}\n".encode()

    def call(i: int) -> Any:
        if i == 0:
            return client.post(f"/api/v1/placements/{market['offers'][0]}/accept", headers=market["office"])
        return client.post("/api/v1/openings/import", params={"mode": "upsert"},
                           files={"file": ("o.csv", body, "text/csv")}, headers={"Authorization": f"Bearer {hr}"})

    accept, imported = _race(2, call)
    assert sorted([accept.status_code, imported.status_code]) in ([200, 422], [201, 409]), (accept.text, imported.text)
    if imported.status_code == 422:
        assert [(e["row"], e["column"]) for e in imported.json()["errors"]] == [(2, "人数")]
    with make_session_factory(engine).begin() as session:
        stored = session.get(Opening, market["opening"])
        assert stored is not None and stored.filled_seats <= stored.seats
        assert (stored.seats, stored.filled_seats) in ((2, 2), (1, 1))
