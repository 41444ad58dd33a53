"""CRUD, validation, problem+json, pagination and optimistic locking over the REST API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, Opening, Student
from tests.conftest import World

API = "/api/v1"


def _program(client: TestClient, world: World, who: str = "college_a", **overrides: Any) -> dict[str, Any]:
    body = {"college_id": world.college_a.id, "major_code": "510205", "term": "2027-spring",
            "description": "大数据采集、清洗、存储与分析", "skills": ["Python", "Hadoop", "SQL"],
            "core_courses": ["数据采集技术", "Spark 大数据分析"], "cohort_size": 120} | overrides
    response = client.post(f"{API}/programs", json=body, headers=world.h(who))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _opening(client: TestClient, world: World, who: str = "enterprise_a", **overrides: Any) -> dict[str, Any]:
    body = {"enterprise_id": world.enterprise_a.id, "title": "大数据运维实习生", "seats": 5, "province": "贵州",
            "city": "贵阳", "term": "2027-spring", "required_skills": ["Linux", "Hadoop"],
            "occupation_code": "4-04-05-01"} | overrides
    response = client.post(f"{API}/openings", json=body, headers=world.h(who))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_health_reports_database(app_client: TestClient) -> None:
    response = app_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_program_crud_round_trip(app_client: TestClient, world: World, session: Session) -> None:
    created = _program(app_client, world)
    assert created["major_code"] == "510205"
    assert created["name"] == "大数据技术"  # defaults to the catalogue name
    url = f"{API}/programs/{created['id']}"

    assert app_client.get(url, headers=world.h("enterprise_b")).json()["skills"] == ["Python", "Hadoop", "SQL"]
    patched = app_client.patch(url, json={"cohort_size": 90}, headers=world.h("college_a"))
    assert patched.status_code == 200
    assert patched.json()["cohort_size"] == 90

    assert app_client.delete(url, headers=world.h("college_a")).status_code == 204
    assert app_client.get(url, headers=world.h("college_a")).status_code == 404
    actions = session.execute(
        select(AuditEvent.action).where(AuditEvent.entity == "program").order_by(AuditEvent.id)
    ).scalars().all()
    assert actions == ["create", "update", "delete"]


def test_validation_errors_are_problem_json_with_fields(app_client: TestClient, world: World) -> None:
    response = app_client.post(
        f"{API}/openings",
        json={"enterprise_id": world.enterprise_a.id, "title": "", "seats": -1, "province": "贵州",
              "city": "贵阳", "term": "2027-spring"},
        headers=world.h("enterprise_a"),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert body["type"].endswith("/validation-error")
    failing = {tuple(err["loc"][-1:]) for err in body["errors"]}
    assert {("title",), ("seats",)} <= failing


def test_unknown_fields_are_rejected(app_client: TestClient, world: World) -> None:
    response = app_client.post(f"{API}/colleges", json={"name": "x", "province": "贵州", "city": "贵阳",
                                                         "level": "高职专科", "rank": 1},
                               headers=world.h("admin"))
    assert response.status_code == 422
    assert ["body", "rank"] in [err["loc"] for err in response.json()["errors"]]


def test_reference_errors_name_the_field(app_client: TestClient, world: World) -> None:
    response = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "999999",
                                                         "term": "2027-spring"}, headers=world.h("college_a"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "major_code"]


def test_duplicate_name_is_a_conflict(app_client: TestClient, world: World) -> None:
    body = {"name": world.college_a.name, "province": "贵州", "city": "贵阳", "level": "高职专科"}
    response = app_client.post(f"{API}/colleges", json=body, headers=world.h("admin"))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_cursor_pagination_walks_every_row_once(app_client: TestClient, world: World) -> None:
    for i in range(7):
        _opening(app_client, world, title=f"实习岗位 {i}")
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3, "enterprise_id": world.enterprise_a.id}
        if cursor:
            params["cursor"] = cursor
        page = app_client.get(f"{API}/openings", params=params, headers=world.h("college_a")).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7
    assert seen == sorted(set(seen))


def test_bad_cursor_is_422(app_client: TestClient, world: World) -> None:
    response = app_client.get(f"{API}/openings", params={"cursor": "garbage!"}, headers=world.h("admin"))
    assert response.status_code == 422


def test_opening_update_needs_if_match(app_client: TestClient, world: World, session: Session) -> None:
    opening = _opening(app_client, world)
    url = f"{API}/openings/{opening['id']}"
    read = app_client.get(url, headers=world.h("enterprise_a"))
    etag = read.headers["ETag"]

    missing = app_client.patch(url, json={"seats": 8}, headers=world.h("enterprise_a"))
    assert missing.status_code == 428

    ok = app_client.patch(url, json={"seats": 8}, headers=world.h("enterprise_a") | {"If-Match": etag})
    assert ok.status_code == 200
    assert ok.headers["ETag"] != etag

    stale = app_client.patch(url, json={"seats": 2}, headers=world.h("enterprise_a") | {"If-Match": etag})
    assert stale.status_code == 412
    assert session.scalar(select(Opening.seats).where(Opening.id == opening["id"])) == 8


def test_student_preferences_are_ranked_and_checked(app_client: TestClient, world: World) -> None:
    program = _program(app_client, world)
    first, second = _opening(app_client, world)["id"], _opening(app_client, world, title="数据标注实习")["id"]
    body = {"program_id": program["id"], "student_no": "2024001", "name": "张三", "grade": 88.5,
            "preferences": [second, first]}
    created = app_client.post(f"{API}/students", json=body, headers=world.h("college_a"))
    assert created.status_code == 201, created.text
    assert created.json()["preferences"] == [second, first]

    missing = app_client.patch(f"{API}/students/{created.json()['id']}", json={"preferences": [999_999]},
                               headers=world.h("college_a"))
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "preferences"]

    bad_grade = app_client.post(f"{API}/students", json=body | {"student_no": "2024002", "grade": 101},
                                headers=world.h("college_a"))
    assert bad_grade.status_code == 422


def test_delete_with_dependents_is_409_and_keeps_rows(app_client: TestClient, world: World, session: Session) -> None:
    program = _program(app_client, world)
    app_client.post(f"{API}/students", json={"program_id": program["id"], "student_no": "1", "name": "李四"},
                    headers=world.h("college_a"))
    response = app_client.delete(f"{API}/programs/{program['id']}", headers=world.h("college_a"))
    assert response.status_code == 409
    assert session.scalar(select(func.count()).select_from(Student)) == 1


def test_lecturer_and_course_need_validation(app_client: TestClient, world: World) -> None:
    program = _program(app_client, world)
    need = app_client.post(f"{API}/course-needs", json={"program_id": program["id"], "course_name": "Spark 大数据分析",
                                                         "weekly_hours": 4, "slots": ["mon1", "WED3"],
                                                         "term": "2027-spring"}, headers=world.h("college_a"))
    assert need.status_code == 201, need.text
    assert need.json()["slots"] == ["mon1", "wed3"]
    bad = app_client.post(f"{API}/lecturers", json={"enterprise_id": world.enterprise_a.id, "name": "王工",
                                                     "max_weekly_hours": 0, "available_slots": ["someday"]},
                          headers=world.h("enterprise_a"))
    assert bad.status_code == 422
    assert {err["loc"][1] for err in bad.json()["errors"]} == {"max_weekly_hours", "available_slots"}


def test_majors_and_occupations_are_searchable(app_client: TestClient, world: World) -> None:
    majors = app_client.get(f"{API}/majors", params={"category": "5102"}, headers=world.h("college_b")).json()
    assert {m["code"] for m in majors["items"]} == {"510205", "510206"}
    by_name = app_client.get(f"{API}/majors", params={"q": "物联网"}, headers=world.h("college_b")).json()
    assert [m["code"] for m in by_name["items"]] == ["510102"]
    occupations = app_client.get(f"{API}/occupations", params={"q": "程序"}, headers=world.h("college_b")).json()
    assert [o["code"] for o in occupations["items"]] == ["4-04-05-01"]
