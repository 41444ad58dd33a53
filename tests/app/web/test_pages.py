"""The web UI through the test client: sign-in, CSRF, each role's pages on real rows, tenancy,
languages and the edit conflict of openings."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Opening
from app.settings import Settings
from app.worker import Worker
from tests.app.web.conftest import TERM, csrf_of, sign_in
from tests.conftest import World

Login = Callable[[str], TestClient]


def test_sign_in_and_out(app_client: TestClient, market: dict[str, Any]) -> None:
    assert app_client.get("/programs", follow_redirects=False).headers["location"] == "/login?next=/programs"
    response = sign_in(app_client, "college_a")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    page = app_client.get("/programs")
    assert page.status_code == 200
    assert "大数据技术-college_a" in page.text
    assert page.headers["cache-control"] == "no-store"
    token = csrf_of(page.text)
    assert app_client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert app_client.get("/programs", follow_redirects=False).status_code == 303


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(app_client: TestClient,
                                                                   market: dict[str, Any]) -> None:
    token = csrf_of(app_client.get("/login?next=/students").text)
    response = app_client.post("/login", data={"username": "u-college_a", "password": "web-test-password",
                                               "csrf_token": token, "next": "/students"}, follow_redirects=False)
    assert response.headers["location"] == "/students"
    app_client.cookies.clear()
    token = csrf_of(app_client.get("/login").text)
    response = app_client.post("/login", data={"username": "u-college_a", "password": "web-test-password",
                                               "csrf_token": token, "next": "//evil.example/"},
                               follow_redirects=False)
    assert response.headers["location"] == "/dashboard"


def test_wrong_password_is_refused(app_client: TestClient, market: dict[str, Any]) -> None:
    response = sign_in(app_client, "college_a", password="not-the-password")
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert app_client.get("/programs", follow_redirects=False).status_code == 303
    assert sign_in(app_client, "nobody").status_code == 401


def test_posts_without_the_csrf_token_are_refused(app_client: TestClient, market: dict[str, Any]) -> None:
    app_client.get("/login")
    response = app_client.post("/login", data={"username": "u-college_a", "password": "web-test-password"},
                               follow_redirects=False)
    assert response.status_code == 403
    assert sign_in(app_client, "scheduler").status_code == 303
    for data in ({"kind": "internship", "mode": "optimal", "term": TERM},
                 {"kind": "internship", "mode": "optimal", "term": TERM, "csrf_token": "forged"}):
        assert app_client.post("/runs", data=data).status_code == 403
    # The same form with the session's token goes through.
    token = csrf_of(app_client.get("/runs").text)
    response = app_client.post("/runs", data={"kind": "internship", "mode": "optimal", "term": TERM,
                                              "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    # htmx sends the token as a header.
    run_path = response.headers["location"]
    assert app_client.post(run_path + "/cancel", headers={"X-CSRF-Token": token},
                           follow_redirects=False).status_code == 303


def test_roles_see_only_their_pages(as_user: Login) -> None:
    client = as_user("enterprise_a")
    assert client.get("/runs").status_code == 403
    assert client.get("/students").status_code == 403
    client = as_user("college_a")
    assert client.get("/openings/new").status_code == 403
    assert client.get("/runs").status_code == 403


def test_placement_office_pages_show_only_its_own_students(as_user: Login, market: dict[str, Any]) -> None:
    client = as_user("college_a")
    students = client.get("/students")
    assert students.status_code == 200
    assert "college_a-no-0" in students.text and "college_a学生0" in students.text
    assert "college_b" not in students.text
    export = client.get("/students/export?format=csv")
    assert export.status_code == 200
    assert "college_a-no-1" in export.text and "college_b" not in export.text
    program = client.get(f"/programs/{market['programs']['college_a']}")
    assert program.status_code == 200
    assert 'hx-trigger="load"' in program.text
    matches = client.get(f"/programs/{market['programs']['college_a']}/matches", headers={"HX-Request": "true"})
    assert matches.status_code == 200 and "<html" not in matches.text
    assert "class=\"chart\"" in matches.text and "数据分析实习生" in matches.text
    # Without htmx (no JavaScript) the same matches come as a page of their own.
    assert "<html" in client.get(f"/programs/{market['programs']['college_a']}/matches").text
    client = as_user("college_b")
    students = client.get("/students")
    assert "college_b-no-0" in students.text and "college_a" not in students.text


def test_students_import_shows_the_dry_run_report_row_by_row(as_user: Login, market: dict[str, Any]) -> None:
    client = as_user("college_a")
    token = csrf_of(client.get("/students").text)
    program = market["programs"]["college_a"]
    body = ("program_id,student_no,name,grade\n"
            f"{program},new-1,新生甲,88\n"
            f"{program},new-2,,77\n"
            f"{program},new-3,新生丙,140\n")
    response = client.post("/students/import", data={"csrf_token": token, "dry_run": "true"},
                           files={"file": ("students.csv", body.encode(), "text/csv")})
    assert response.status_code == 422
    rows = re.findall(r'<tr><td[^>]*>(\d+)</td><td[^>]*>([^<]+)</td>', response.text)
    assert ("3", "name") in rows and ("4", "grade") in rows
    good = f"program_id,student_no,name\n{program},new-9,新生丁\n"
    response = client.post("/students/import", data={"csrf_token": token},
                           files={"file": ("students.csv", good.encode(), "text/csv")}, follow_redirects=True)
    assert response.status_code == 200
    assert "new-9" in client.get("/students?q=new-9").text


def test_hr_pages_create_and_see_matches(as_user: Login, market: dict[str, Any]) -> None:
    client = as_user("enterprise_a")
    openings = client.get("/openings")
    assert "enterprise_a" in openings.text and "enterprise_b" not in openings.text
    form = client.get("/openings/new")
    assert 'hx-trigger="keyup changed delay:300ms"' in form.text
    suggest = client.get("/occupations/suggest?title=计算机程序设计", headers={"HX-Request": "true"})
    assert suggest.status_code == 200 and "4-04-05-01" in suggest.text
    token = csrf_of(form.text)
    response = client.post("/openings/new", data={
        "csrf_token": token, "title": "数据标注实习生", "seats": "3", "province": "贵州", "city": "贵阳", "term": TERM,
        "occupation_code": "4-04-05-01", "required_skills": "Python；SQL", "eligible_levels": "高职专科",
        "description": "", "eligible_major_codes": "", "period_start": "", "period_end": "", "post_headcount": ""},
        follow_redirects=False)
    assert response.status_code == 303, response.text
    detail = client.get(response.headers["location"])
    assert detail.status_code == 200
    assert "数据标注实习生" in detail.text and "大数据技术-college_a" in detail.text
    bad = client.post("/openings/new", data={"csrf_token": token, "title": "", "seats": "-1", "province": "贵州",
                                             "city": "贵阳", "term": TERM})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    lecturer = client.post("/lecturers/new", data={
        "csrf_token": token, "name": "王工", "title": "高级工程师", "expertise": "Hadoop 运维",
        "topics": "Hadoop; Spark",
        "max_weekly_hours": "4", "available_slots": "mon1; tue2", "cities": "贵阳"}, follow_redirects=True)
    assert lecturer.status_code == 200 and "王工" in lecturer.text


def test_opening_edit_conflict_shows_the_current_values(as_user: Login, market: dict[str, Any],
                                                       session: Session) -> None:
    client = as_user("enterprise_a")
    opening_id = market["openings"]["数据分析实习生-enterprise_a"]
    form = client.get(f"/openings/{opening_id}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form)
    assert version is not None
    token = csrf_of(form)
    fields = {"csrf_token": token, "version": version.group(1), "seats": "1", "province": "贵州", "city": "贵阳",
              "term": TERM, "occupation_code": "4-04-05-01"}
    # Someone else saves first.
    first = client.post(f"/openings/{opening_id}/edit", data={**fields, "title": "他人修改的标题"},
                        follow_redirects=False)
    assert first.status_code == 303
    # The stale form is refused with both versions side by side, and the new version to save over.
    stale = client.post(f"/openings/{opening_id}/edit", data={**fields, "title": "我的标题"})
    assert stale.status_code == 409
    assert 'id="conflict"' in stale.text and "他人修改的标题" in stale.text and "我的标题" in stale.text
    new_version = re.search(r'name="version" value="(\d+)"', stale.text)
    assert new_version is not None and int(new_version.group(1)) == int(version.group(1)) + 1
    again = client.post(f"/openings/{opening_id}/edit", data={**fields, "version": new_version.group(1),
                                                              "title": "我的标题"}, follow_redirects=False)
    assert again.status_code == 303
    session.expire_all()
    assert session.get(Opening, opening_id).title == "我的标题"  # type: ignore[union-attr]


def test_scheduler_runs_publishes_and_the_college_answers(
        as_user: Login, market: dict[str, Any], session_factory: sessionmaker[Session], world: World) -> None:
    client = as_user("scheduler")
    token = csrf_of(client.get("/runs").text)
    submitted = client.post("/runs", data={"csrf_token": token, "kind": "internship", "mode": "optimal",
                                           "term": TERM, "time_limit_s": "10"}, follow_redirects=False)
    assert submitted.status_code == 303
    run_path = submitted.headers["location"]
    status = client.get(run_path + "/status", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in status.text and "HX-Refresh" not in status.headers
    worker = Worker(session_factory, Settings(database_url="sqlite://", solve_in_subprocess=False,
                                              allocation_executor="inline", worker_heartbeat_s=3600),
                    owner="web-test")
    assert worker.run_once() is not None
    assert client.get(run_path + "/status", headers={"HX-Request": "true"}).headers.get("HX-Refresh") == "true"
    page = client.get(run_path)
    assert page.status_code == 200
    assert page.text.count("<figure class=\"chart\"") == 3  # placement rate, preference ranks, fill rate
    assert world.college_a.name in page.text
    export = client.get(run_path + "/export?format=csv")
    assert export.status_code == 200 and export.text.lstrip("\ufeff").startswith("placement_id")
    # Nothing is visible to colleges before publication.
    assert "college_a-no-0" not in as_user("college_a").get("/placements").text
    client = as_user("scheduler")
    assert client.post(run_path + "/publish", data={"csrf_token": csrf_of(client.get(run_path).text)},
                       follow_redirects=False).status_code == 303
    client = as_user("college_a")
    placements = client.get("/placements")
    assert "college_a-no-" in placements.text and "college_b-no-" not in placements.text
    placement_id = re.search(r'action="/placements/(\d+)/accept"', placements.text)
    assert placement_id is not None
    accepted = client.post(f"/placements/{placement_id.group(1)}/accept",
                           data={"csrf_token": csrf_of(placements.text)}, follow_redirects=True)
    assert accepted.status_code == 200
    assert "已接受" in accepted.text or "accepted" in accepted.text
    # The enterprise sees the numbers of the students placed with it, never their names.
    client = as_user("enterprise_a")
    seen = client.get("/placements").text
    assert "college_a-no-" in seen and "college_a学生" not in seen


def test_language_from_accept_language_and_the_switch(app_client: TestClient, market: dict[str, Any]) -> None:
    assert '<html lang="zh-CN">' in app_client.get("/login").text
    assert "登录" in app_client.get("/login").text
    english = app_client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    switched = app_client.get("/lang/en?next=/login", follow_redirects=False)
    assert switched.headers["location"] == "/login"
    assert "Sign in" in app_client.get("/login", headers={"Accept-Language": "zh-CN"}).text
    app_client.get("/lang/zh_CN?next=/login")
    assert "登录" in app_client.get("/login").text
    assert app_client.get("/lang/en?next=https://evil.example", follow_redirects=False).headers["location"] == "/"
