"""Enterprise HR's interns (students placed at its openings, names only while the placement stands)
and its lecturers' placements (college, course, hours, status, run and round)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.app.web.conftest import TERM
from tests.app.web.test_office_pages import _lecturer, publish_run
from tests.conftest import World

API = "/api/v1"
Login = Callable[[str], TestClient]


def test_hr_sees_its_interns_with_names_only_while_placed(as_user: Login, market: dict[str, Any], world: World,
                                                         app_client: TestClient,
                                                         session_factory: sessionmaker[Session]) -> None:
    hr = as_user("enterprise_a")
    assert "暂无实习学生" in hr.get("/interns").text
    run_id = publish_run(app_client, world, session_factory)
    at_a = list(app_client.get(f"{API}/allocation-runs/{run_id}/placements?limit=100",
                               headers=world.h("enterprise_a")).json()["items"])
    assert at_a
    page = as_user("enterprise_a").get("/interns")
    assert page.status_code == 200
    for placement in at_a:
        assert f'id="intern-{placement["id"]}"' in page.text
    assert "college_a-no-" in page.text and "college_a学生" in page.text  # offered: the name is shown
    assert world.college_a.name in page.text and "college_b-no-" not in page.text
    # A declined placement leaves the standing list; in "all" it shows without the name.
    declined = at_a[0]
    assert app_client.post(f"{API}/placements/{declined['id']}/decline",
                           headers=world.h("college_a")).status_code == 200
    hr = as_user("enterprise_a")
    assert f'id="intern-{declined["id"]}"' not in hr.get("/interns").text
    everything = hr.get("/interns?status=").text
    row = everything.split(f'id="intern-{declined["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "已拒绝" in row and "学生" not in row
    assert "Interns" in hr.get("/interns", headers={"Accept-Language": "en"}).text
    other = as_user("enterprise_b").get("/interns").text
    assert "college_a-no-" not in other
    assert as_user("college_a").get("/interns").status_code == 403


def test_hr_sees_where_its_lecturers_were_placed(as_user: Login, market: dict[str, Any], world: World,
                                                app_client: TestClient,
                                                session_factory: sessionmaker[Session]) -> None:
    hr = as_user("enterprise_a")
    assert "本企业的兼职教师尚无安排" in hr.get("/lecturers/placements").text
    need = app_client.post(f"{API}/course-needs", json={
        "program_id": market["programs"]["college_a"], "course_name": "Hadoop 平台运维", "weekly_hours": 2,
        "slots": ["mon1"], "term": TERM, "topics": ["Hadoop", "Spark"]}, headers=world.h("college_a"))
    assert need.status_code == 201, need.text
    _lecturer(app_client, world)
    run_id = publish_run(app_client, world, session_factory, kind="lecturer")
    page = as_user("enterprise_a").get("/lecturers/placements")
    assert page.status_code == 200
    row = page.text.split('id="lecturer-placement-', 1)[1].split("</tr>", 1)[0]
    assert "赵工" in row and world.college_a.name in row and "Hadoop 平台运维" in row and "大数据技术-college_a" in row
    assert f">{run_id}<" in row and "已发布" in row and ">2<" in row  # weekly hours
    assert 'aria-current="page">兼职教师安排' in page.text and 'aria-current="page">兼职教师<' not in page.text
    assert "赵工" not in as_user("enterprise_b").get("/lecturers/placements").text
    assert as_user("scheduler").get("/lecturers/placements").status_code == 403
