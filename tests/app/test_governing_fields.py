"""Fields that govern a tenant (issue 11, defect 7): a college's province, name and level, an
enterprise's staff count, province and name.  A tenant changing them would leave a province
scheduler's scope or lift the intern cap on its staff, so only admins may."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, College, Enterprise
from tests.conftest import World

API = "/api/v1"


def _audit_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


@pytest.mark.parametrize(("who", "path", "patch", "fields"), [
    ("college_a", "colleges", {"province": "辽宁"}, ["province"]),
    ("college_a", "colleges", {"name": "改名学院", "level": "职业本科", "city": "安顺"}, ["level", "name"]),
    ("enterprise_a", "enterprises", {"staff_count": 10_000_000}, ["staff_count"]),
    ("enterprise_a", "enterprises", {"province": "辽宁", "name": "改名公司"}, ["name", "province"]),
])
def test_a_tenant_may_not_change_what_governs_it(who: str, path: str, patch: dict[str, Any], fields: list[str],
                                                 app_client: TestClient, world: World, session: Session) -> None:
    row = world.college_a if path == "colleges" else world.enterprise_a
    before = app_client.get(f"{API}/{path}/{row.id}", headers=world.h(who)).json()
    audits = _audit_count(session)
    response = app_client.patch(f"{API}/{path}/{row.id}", json=patch, headers=world.h(who))
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["fields"] == fields
    assert all(name in response.json()["detail"] for name in fields)
    # Nothing of the PATCH was applied (not even its allowed city) and nothing was audited.
    assert app_client.get(f"{API}/{path}/{row.id}", headers=world.h(who)).json() == before
    assert _audit_count(session) == audits


def test_a_tenant_may_resend_governing_fields_unchanged_and_edit_the_rest(
        app_client: TestClient, world: World) -> None:
    college = app_client.patch(f"{API}/colleges/{world.college_a.id}", headers=world.h("college_a"),
                               json={"province": "贵州", "name": world.college_a.name, "city": "安顺"})
    assert college.status_code == 200, college.text
    assert college.json()["city"] == "安顺"
    enterprise = app_client.patch(f"{API}/enterprises/{world.enterprise_a.id}", headers=world.h("enterprise_a"),
                                  json={"staff_count": 300, "industry": "互联网和相关服务"})
    assert enterprise.status_code == 200, enterprise.text
    assert enterprise.json()["industry"] == "互联网和相关服务"


def test_an_admin_changes_governing_fields(app_client: TestClient, world: World, session: Session) -> None:
    college = app_client.patch(f"{API}/colleges/{world.college_a.id}", headers=world.h("admin"),
                               json={"province": "辽宁", "level": "职业本科"})
    assert college.status_code == 200, college.text
    enterprise = app_client.patch(f"{API}/enterprises/{world.enterprise_a.id}", headers=world.h("admin"),
                                  json={"staff_count": 5000})
    assert enterprise.status_code == 200, enterprise.text
    session.expire_all()
    assert session.get(College, world.college_a.id).province == "辽宁"  # type: ignore[union-attr]
    assert session.get(Enterprise, world.enterprise_a.id).staff_count == 5000  # type: ignore[union-attr]
