"""Authentication and tenancy: 401 without a key, 403 for a missing role, 404 for another tenant's
private rows, and writes confined to the caller's own college or enterprise."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ApiKey, AuditEvent
from tests.conftest import World

API = "/api/v1"


@pytest.fixture
def rows(app_client: TestClient, world: World) -> dict[str, Any]:
    """One program, student, course need, opening and lecturer owned by tenant A."""
    a_office, a_hr = world.h("college_a"), world.h("enterprise_a")
    program = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                         "term": "2027-spring"}, headers=a_office).json()
    student = app_client.post(f"{API}/students", json={"program_id": program["id"], "student_no": "S1",
                                                         "name": "王小明", "phone": "13800000000"},
                              headers=a_office).json()
    need = app_client.post(f"{API}/course-needs", json={"program_id": program["id"], "course_name": "Hadoop",
                                                          "weekly_hours": 2, "term": "2027-spring"},
                           headers=a_office).json()
    opening = app_client.post(f"{API}/openings", json={"enterprise_id": world.enterprise_a.id, "title": "运维",
                                                         "seats": 2, "province": "贵州", "city": "贵阳",
                                                         "term": "2027-spring"}, headers=a_hr).json()
    lecturer = app_client.post(f"{API}/lecturers", json={"enterprise_id": world.enterprise_a.id, "name": "赵工",
                                                           "max_weekly_hours": 4}, headers=a_hr).json()
    return {"programs": program, "students": student, "course-needs": need, "openings": opening,
            "lecturers": lecturer}


def test_no_key_is_401_with_challenge(app_client: TestClient, world: World) -> None:
    response = app_client.get(f"{API}/colleges")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


def test_wrong_key_is_401(app_client: TestClient, world: World) -> None:
    response = app_client.get(f"{API}/colleges", headers={"Authorization": "Bearer cj_not-a-real-key"})
    assert response.status_code == 401


def test_revoked_key_is_401(app_client: TestClient, world: World, session: Session) -> None:
    from app.db.base import utcnow
    from app.security import hash_api_key

    key = world.h("college_a")["Authorization"].removeprefix("Bearer ")
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key))).one()
    row.revoked_at = utcnow()
    session.commit()
    assert app_client.get(f"{API}/colleges", headers=world.h("college_a")).status_code == 401


def test_keys_are_stored_hashed(session: Session, world: World) -> None:
    key = world.h("admin")["Authorization"].removeprefix("Bearer ")
    stored = session.scalars(select(ApiKey.key_hash)).all()
    assert key not in stored
    assert all(len(h) == 64 for h in stored)


@pytest.mark.parametrize("who", ["enterprise_a", "enterprise_b", "scheduler"])
def test_roles_without_student_access_get_403(app_client: TestClient, world: World, rows: dict[str, Any],
                                              who: str) -> None:
    assert app_client.get(f"{API}/students", headers=world.h(who)).status_code == 403
    assert app_client.get(f"{API}/students/{rows['students']['id']}", headers=world.h(who)).status_code == 403


def test_other_college_cannot_see_students(app_client: TestClient, world: World, rows: dict[str, Any]) -> None:
    student_id = rows["students"]["id"]
    assert app_client.get(f"{API}/students/{student_id}", headers=world.h("college_b")).status_code == 404
    assert app_client.patch(f"{API}/students/{student_id}", json={"grade": 60},
                            headers=world.h("college_b")).status_code == 404
    assert app_client.delete(f"{API}/students/{student_id}", headers=world.h("college_b")).status_code == 404
    listed = app_client.get(f"{API}/students", headers=world.h("college_b")).json()
    assert listed["items"] == []
    own = app_client.get(f"{API}/students", headers=world.h("college_a")).json()
    assert [s["id"] for s in own["items"]] == [student_id]


@pytest.mark.parametrize(
    ("kind", "owner", "intruder", "change"),
    [
        ("programs", "college_a", "college_b", {"cohort_size": 1}),
        ("course-needs", "college_a", "college_b", {"weekly_hours": 3}),
        ("openings", "enterprise_a", "enterprise_b", {"seats": 9}),
        ("lecturers", "enterprise_a", "enterprise_b", {"max_weekly_hours": 6}),
        ("programs", "college_a", "enterprise_a", {"cohort_size": 1}),
        ("openings", "enterprise_a", "college_a", {"seats": 9}),
        ("openings", "enterprise_a", "scheduler", {"seats": 9}),
    ],
)
def test_writes_to_another_tenants_rows_are_refused(
    app_client: TestClient, world: World, rows: dict[str, Any], kind: str, owner: str, intruder: str,
    change: dict[str, Any],
) -> None:
    url = f"{API}/{kind}/{rows[kind]['id']}"
    before = app_client.get(url, headers=world.h(owner))
    headers = world.h(intruder) | {"If-Match": before.headers.get("ETag", "*")}
    assert app_client.patch(url, json=change, headers=headers).status_code in (403, 404)
    assert app_client.delete(url, headers=world.h(intruder)).status_code in (403, 404)
    after = app_client.get(url, headers=world.h(owner)).json()
    assert after == before.json()


def test_creating_for_another_tenant_is_403(app_client: TestClient, world: World, rows: dict[str, Any]) -> None:
    program = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510102",
                                                         "term": "2027-spring"}, headers=world.h("college_b"))
    assert program.status_code == 403
    student = app_client.post(f"{API}/students", json={"program_id": rows["programs"]["id"], "student_no": "X",
                                                         "name": "某某"}, headers=world.h("college_b"))
    assert student.status_code == 403
    lecturer = app_client.post(f"{API}/lecturers", json={"enterprise_id": world.enterprise_a.id, "name": "某",
                                                           "max_weekly_hours": 2}, headers=world.h("enterprise_b"))
    assert lecturer.status_code == 403
    opening = app_client.post(f"{API}/openings", json={"enterprise_id": world.enterprise_b.id, "title": "x",
                                                         "seats": 1, "province": "辽宁", "city": "沈阳",
                                                         "term": "2027-spring"}, headers=world.h("enterprise_a"))
    assert opening.status_code == 403


def test_only_admin_creates_colleges_and_enterprises(app_client: TestClient, world: World) -> None:
    body = {"name": "新学院", "province": "贵州", "city": "遵义", "level": "高职专科"}
    for who in ("college_a", "enterprise_a", "scheduler"):
        assert app_client.post(f"{API}/colleges", json=body, headers=world.h(who)).status_code == 403
    assert app_client.post(f"{API}/colleges", json=body, headers=world.h("admin")).status_code == 201


def test_a_college_may_edit_its_own_record_only(app_client: TestClient, world: World) -> None:
    own = app_client.patch(f"{API}/colleges/{world.college_a.id}", json={"city": "安顺"},
                           headers=world.h("college_a"))
    assert own.status_code == 200
    other = app_client.patch(f"{API}/colleges/{world.college_b.id}", json={"city": "大连"},
                             headers=world.h("college_a"))
    assert other.status_code == 403


def test_audit_records_writes_without_personal_data(app_client: TestClient, world: World, rows: dict[str, Any],
                                                    session: Session) -> None:
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert {(e.entity, e.action) for e in events} >= {("student", "create"), ("opening", "create"),
                                                       ("program", "create"), ("lecturer", "create")}
    assert all(e.actor_id is not None for e in events)
    dumped = json.dumps([e.details for e in events], ensure_ascii=False)
    assert "王小明" not in dumped
    assert "13800000000" not in dumped


def test_keys_create_cli_prints_key_last(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from app.cli import _register_commands, cli
    from app.commands._db import session_factory
    from app.settings import get_settings
    from tests.conftest import migrate

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    migrate(url)
    monkeypatch.setenv("CHANJIAO_DATABASE_URL", url)
    get_settings.cache_clear()
    session_factory.cache_clear()
    _register_commands()
    try:
        runner = CliRunner()
        result = runner.invoke(cli, ["keys", "create", "--role", "admin"])
        assert result.exit_code == 0, result.output
        key = result.stdout.strip().splitlines()[-1]
        assert key.startswith("cj_")
        missing = runner.invoke(cli, ["keys", "create", "--role", "placement_office"])
        assert missing.exit_code == 2
        unknown = runner.invoke(cli, ["keys", "create", "--role", "placement_office", "--college", "42"])
        assert unknown.exit_code == 2
    finally:
        get_settings.cache_clear()
        session_factory.cache_clear()
