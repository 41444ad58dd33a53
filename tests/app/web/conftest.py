"""Fixtures of the web UI tests: a small market (programs, students, openings) and a signed-in
browser-like client per role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.orm import Session

from app.db.models import Role
from app.services import users as users_service
from app.services.users import create_user
from tests.conftest import World

API = "/api/v1"
TERM = "2027-spring"
PASSWORD = "web-test-password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    # Still argon2id, at the lowest cost: the production cost (~0.3 s a hash) would dominate the suite.
    hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(users_service, "_hasher", lambda: hasher)
    monkeypatch.setattr(users_service, "_DUMMY_HASH", [])


@pytest.fixture
def market(app_client: TestClient, world: World, session: Session) -> dict[str, Any]:
    """Each college a big-data program with students; each enterprise two openings; a user per role."""
    ids: dict[str, Any] = {"programs": {}, "openings": {}, "students": {}}
    for who, college in (("college_a", world.college_a), ("college_b", world.college_b)):
        response = app_client.post(f"{API}/programs", json={
            "college_id": college.id, "major_code": "510205", "term": TERM, "name": f"大数据技术-{who}",
            "description": "大数据采集、清洗、存储、分析与可视化，Hadoop 与 Spark 平台运维",
            "skills": ["Python", "SQL", "Hadoop", "Linux"], "core_courses": ["数据采集", "Spark"]},
            headers=world.h(who))
        assert response.status_code == 201, response.text
        ids["programs"][who] = response.json()["id"]
    for who, enterprise, province, city in (("enterprise_a", world.enterprise_a, "贵州", "贵阳"),
                                            ("enterprise_b", world.enterprise_b, "辽宁", "沈阳")):
        for title, seats in ((f"大数据运维实习生-{who}", 2), (f"数据分析实习生-{who}", 1)):
            response = app_client.post(f"{API}/openings", json={
                "enterprise_id": enterprise.id, "title": title, "seats": seats, "province": province, "city": city,
                "term": TERM, "description": "负责 Hadoop 集群巡检、数据清洗与报表",
                "required_skills": ["Linux", "SQL"],
                "occupation_code": "4-04-05-01"}, headers=world.h(who))
            assert response.status_code == 201, response.text
            ids["openings"][title] = response.json()["id"]
    for who in ("college_a", "college_b"):
        partner = "enterprise_a" if who == "college_a" else "enterprise_b"
        own = [v for title, v in ids["openings"].items() if title.endswith(partner)]
        for n in range(3):
            response = app_client.post(f"{API}/students", json={
                "program_id": ids["programs"][who], "student_no": f"{who}-no-{n}", "name": f"{who}学生{n}",
                "skills": ["Python", "SQL", "Linux"][: 1 + n], "grade": 70 + 5 * n, "preferences": own},
                headers=world.h(who))
            assert response.status_code == 201, response.text
            ids["students"][(who, n)] = response.json()["id"]
    tenants = {"admin": (Role.ADMIN, {}), "scheduler": (Role.SCHEDULER, {}),
               "college_a": (Role.PLACEMENT_OFFICE, {"college_id": world.college_a.id}),
               "college_b": (Role.PLACEMENT_OFFICE, {"college_id": world.college_b.id}),
               "enterprise_a": (Role.ENTERPRISE_HR, {"enterprise_id": world.enterprise_a.id}),
               "enterprise_b": (Role.ENTERPRISE_HR, {"enterprise_id": world.enterprise_b.id})}
    for name, (role, tenant) in tenants.items():
        create_user(session, f"u-{name}", PASSWORD, role, **tenant)
    session.commit()
    return ids


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, who: str, password: str = PASSWORD) -> Any:
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": f"u-{who}", "password": password, "csrf_token": token},
                       follow_redirects=False)


@pytest.fixture
def as_user(app_client: TestClient, market: dict[str, Any]) -> Iterator[Callable[[str], TestClient]]:
    def switch(who: str) -> TestClient:
        response = sign_in(app_client, who)
        assert response.status_code == 303, response.text
        return app_client

    yield switch
    app_client.cookies.clear()


@pytest.fixture
def settings() -> Any:
    from app.settings import Settings

    # A fixed session key: tests never write var/secret_key.
    return Settings(database_url="sqlite://", secret_key="test-session-key-" + "x" * 32)
