"""Concurrent clients on a committed PostgreSQL database agreeing to and ending one partnership: exactly
one move wins, the others get 409 naming the current status, and the audit trail has one event."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app.db.engine import make_engine, make_session_factory
from app.db.models import AuditEvent, College, EducationLevel, Enterprise, Major, Partnership, Program, Role
from app.services.auth import create_api_key, ensure_actor
from tests.app.test_ledger_concurrency import N, _race, client, engine, pg_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.postgres
_counter = iter(range(1, 10_000))


@pytest.fixture
def parties(engine: Engine) -> dict[str, Any]:  # noqa: F811
    n = next(_counter)
    with make_session_factory(engine).begin() as session:
        major = session.scalars(select(Major).where(Major.code == "510205")).first()
        if major is None:
            major = Major(code="510205", name="大数据技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
                          category_name="电子与信息大类", class_code="5102", class_name="计算机类")
            session.add(major)
        college = College(name=f"合作并发学院{n}", province="贵州", city="贵阳", level=EducationLevel.HIGHER_VOCATIONAL)
        enterprise = Enterprise(name=f"合作并发企业{n}", province="贵州", city="贵阳", staff_count=100)
        session.add_all([college, enterprise])
        session.flush()
        program = Program(college_id=college.id, major_id=major.id, name="大数据技术", term="2027-spring")
        session.add(program)
        session.flush()
        office = create_api_key(session, ensure_actor(session, Role.PLACEMENT_OFFICE, college_id=college.id))
        hr = create_api_key(session, ensure_actor(session, Role.ENTERPRISE_HR, enterprise_id=enterprise.id))
        return {"college": college.id, "enterprise": enterprise.id, "program": program.id,
                "office": {"Authorization": f"Bearer {office}"}, "hr": {"Authorization": f"Bearer {hr}"}}


def _propose(client: TestClient, parties: dict[str, Any]) -> int:  # noqa: F811
    response = client.post("/api/v1/partnerships", json={
        "name": "并发订单班", "college_id": parties["college"], "enterprise_id": parties["enterprise"],
        "program_ids": [parties["program"]], "forms": ["order_class"],
        "terms": [{"term": "2027-spring", "reserved_seats": 2}]}, headers=parties["office"])
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _events(engine: Engine, pid: int) -> list[str]:  # noqa: F811
    with make_session_factory(engine).begin() as session:
        return sorted(session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "partnership", AuditEvent.entity_id == str(pid), AuditEvent.action != "propose")))


def test_agreeing_and_ending_at_once_follow_one_serial_order(client: TestClient, engine: Engine,  # noqa: F811
                                                             parties: dict[str, Any]) -> None:
    """The enterprise agrees while the college withdraws the proposal (ends it), N requests at once:
    at most one agreement and exactly one end win, in an order the transitions allow (an end after
    the agreement, or an end alone), and the audit trail has exactly the winners."""
    pid = _propose(client, parties)
    actions = ["agree" if i % 2 else "end" for i in range(N)]
    responses = _race(N, lambda i: client.post(f"/api/v1/partnerships/{pid}/{actions[i]}",
                                               headers=parties["hr" if i % 2 else "office"]))
    won = sorted(a for a, r in zip(actions, responses, strict=True) if r.status_code == 200)
    assert won in (["end"], ["agree", "end"]), [r.status_code for r in responses]
    assert all(r.status_code == 409 for r in responses if r.status_code != 200)
    with make_session_factory(engine).begin() as session:
        row = session.get(Partnership, pid)
        assert row is not None and row.status.value == "ended"
    assert _events(engine, pid) == won


def test_concurrent_agreements_have_one_winner(client: TestClient, engine: Engine,  # noqa: F811
                                               parties: dict[str, Any]) -> None:
    pid = _propose(client, parties)
    responses = _race(N, lambda i: client.post(f"/api/v1/partnerships/{pid}/agree", headers=parties["hr"]))
    assert sorted(r.status_code for r in responses) == [200] + [409] * (N - 1)
    assert {r.json()["current_status"] for r in responses if r.status_code == 409} == {"agreed"}
    assert _events(engine, pid) == ["agree"]


def test_concurrent_ends_of_an_active_partnership(client: TestClient, engine: Engine,  # noqa: F811
                                                  parties: dict[str, Any]) -> None:
    pid = _propose(client, parties)
    assert client.post(f"/api/v1/partnerships/{pid}/agree", headers=parties["hr"]).status_code == 200
    assert client.post(f"/api/v1/partnerships/{pid}/activate", headers=parties["office"]).status_code == 200
    responses = _race(N, lambda i: client.post(f"/api/v1/partnerships/{pid}/end",
                                               headers=parties["hr" if i % 2 else "office"]))
    assert sorted(r.status_code for r in responses) == [200] + [409] * (N - 1)
    assert _events(engine, pid) == ["activate", "agree", "end"]
    with make_session_factory(engine).begin() as session:
        assert session.scalar(select(func.count()).select_from(Partnership).where(Partnership.id == pid)) == 1


__all__ = ["make_engine"]
