"""The placement office's student list (search, filters, sort, pages), its add and edit forms
(translated errors, nothing stored on a refusal, a placed student keeps the program its placement
was offered for), an opening's details for the office and the course needs with their lecturers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Placement, PlacementStatus, Student
from app.settings import Settings
from app.web import office
from app.worker import Worker
from tests.app.web.conftest import TERM, csrf_of
from tests.conftest import World

API = "/api/v1"
Login = Callable[[str], TestClient]


def publish_run(client: TestClient, world: World, factory: sessionmaker[Session], kind: str = "internship") -> int:
    worker = Worker(factory, Settings(database_url="sqlite://", solve_in_subprocess=False,
                                      allocation_executor="inline", worker_heartbeat_s=3600), owner="pages")
    run = client.post(f"{API}/allocation-runs", json={"kind": kind, "scope": {"term": TERM}},
                      headers=world.h("scheduler"))
    assert run.status_code == 202, run.text
    assert worker.run_once() == run.json()["id"]
    published = client.post(f"{API}/allocation-runs/{run.json()['id']}/publish", headers=world.h("scheduler"))
    assert published.status_code == 200, published.text
    return int(run.json()["id"])


def _numbers(html: str) -> list[str]:
    return re.findall(r'data-label="学号">([^<]+)</td>', html)


def test_student_list_searches_filters_sorts_and_pages(as_user: Login, market: dict[str, Any], world: World,
                                                       app_client: TestClient,
                                                       session_factory: sessionmaker[Session],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    client = as_user("college_a")
    page = client.get("/students")
    assert page.status_code == 200
    assert _numbers(page.text) == ["college_a-no-0", "college_a-no-1", "college_a-no-2"]
    assert "共 3 名学生符合条件" in page.text and "college_b" not in page.text
    # The "all programs" choice submits an empty value: no filter, not a 422.
    assert _numbers(client.get("/students?program_id=&status=&grade_min=&q=").text) == [
        "college_a-no-0", "college_a-no-1", "college_a-no-2"]
    assert _numbers(client.get("/students?q=学生1").text) == ["college_a-no-1"]  # by name
    assert _numbers(client.get("/students?q=no-2").text) == ["college_a-no-2"]  # by number
    assert _numbers(client.get("/students?grade_min=75").text) == ["college_a-no-1", "college_a-no-2"]
    assert _numbers(client.get("/students?grade_min=71&grade_max=79").text) == ["college_a-no-1"]
    assert _numbers(client.get("/students?sort=name&order=desc").text) == [
        "college_a-no-2", "college_a-no-1", "college_a-no-0"]
    assert 'aria-sort="descending"' in client.get("/students?sort=name&order=desc").text
    # Another college's program is no filter of this one: nothing matches.
    other = market["programs"]["college_b"]
    assert _numbers(client.get(f"/students?program_id={other}").text) == []
    bad = client.get("/students?grade_min=101")
    assert bad.status_code == 422 and "100" in bad.text and "less_than_equal" not in bad.text
    monkeypatch.setattr(office, "PAGE", 2)
    first = client.get("/students?sort=student_no&order=desc")
    assert _numbers(first.text) == ["college_a-no-2", "college_a-no-1"]
    assert "page=2" in first.text
    second = client.get("/students?sort=student_no&order=desc&page=2")
    assert _numbers(second.text) == ["college_a-no-0"] and "下一页" not in second.text
    monkeypatch.undo()
    # After publication each student shows the placement that stands for the term.
    publish_run(app_client, world, session_factory)
    client = as_user("college_a")
    offered = _numbers(client.get("/students?status=published").text)
    unplaced = _numbers(client.get("/students?status=unplaced").text)
    assert offered and sorted(offered + unplaced) == ["college_a-no-0", "college_a-no-1", "college_a-no-2"]
    assert "已推荐，待答复" in client.get("/students?status=published").text
    english = client.get("/students?status=published", headers={"Accept-Language": "en"})
    assert "Offered, no answer yet" in english.text
    by_status = _numbers(client.get("/students?sort=status&order=desc").text)
    assert set(by_status[:len(offered)]) == set(offered)


def test_add_a_student_with_translated_errors_and_nothing_stored_on_refusal(
        as_user: Login, market: dict[str, Any], session: Session) -> None:
    client = as_user("college_a")
    form = client.get("/students/new")
    assert form.status_code == 200 and "大数据技术-college_a" in form.text and "college_b" not in form.text
    token = csrf_of(form.text)
    program = market["programs"]["college_a"]

    def count() -> int:
        session.expire_all()
        return int(session.scalar(select(func.count(Student.id))) or 0)

    before = count()
    missing = client.post("/students/new", data={"csrf_token": token, "program_id": str(program), "student_no": "n-9",
                                                 "name": "", "phone": "12ab"})
    assert missing.status_code == 422
    assert "此项为必填" in missing.text and "格式" in missing.text
    assert "String should" not in missing.text and 'aria-invalid="true"' in missing.text
    assert 'value="n-9"' in missing.text  # what was typed stays in the form
    taken = client.post("/students/new", data={"csrf_token": token, "program_id": str(program),
                                               "student_no": "college_a-no-0", "name": "重号"})
    assert taken.status_code == 409 and "该专业中已有这个学号" in taken.text
    other_program = str(market["programs"]["college_b"])
    foreign = client.post("/students/new", data={"csrf_token": token, "program_id": other_program,
                                                 "student_no": "x-1", "name": "外校"})
    assert foreign.status_code == 403
    assert count() == before
    created = client.post("/students/new", data={"csrf_token": token, "program_id": str(program),
                                                 "student_no": " n-9 ", "name": "新同学", "skills": "Python；SQL",
                                                 "grade": "88.5", "phone": "", "email": ""}, follow_redirects=False)
    assert created.status_code == 303
    row = session.scalars(select(Student).where(Student.student_no == "n-9")).one()
    assert (row.program_id, row.name, row.skills, row.grade, row.phone) == (program, "新同学", ["Python", "SQL"],
                                                                           88.5, None)
    assert "n-9" in client.get(created.headers["location"]).text



def test_the_year_of_enrolment_is_entered_shown_and_filtered(as_user: Login, market: dict[str, Any],
                                                            session: Session) -> None:
    client = as_user("college_a")
    token = csrf_of(client.get("/students/new").text)
    program = str(market["programs"]["college_a"])
    bad = client.post("/students/new", data={"csrf_token": token, "program_id": program, "student_no": "y-1",
                                             "name": "新生", "cohort": "去年"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and "Input should" not in bad.text
    assert session.scalar(select(func.count(Student.id)).where(Student.student_no == "y-1")) == 0
    created = client.post("/students/new", data={"csrf_token": token, "program_id": program, "student_no": "y-1",
                                                 "name": "新生", "cohort": "2024级"}, follow_redirects=False)
    assert created.status_code == 303, created.text
    assert session.scalars(select(Student.cohort).where(Student.student_no == "y-1")).one() == 2024
    listed = client.get("/students?cohort=2024")
    assert _numbers(listed.text) == ["y-1"] and "年级" in listed.text
    assert _numbers(client.get("/students?cohort=2023").text) == []
    assert len(_numbers(client.get("/students?cohort=").text)) == 4  # empty: every year
    assert client.get("/students?cohort=1800").status_code == 422
    row = session.scalars(select(Student).where(Student.student_no == "y-1")).one()
    assert 'value="2024"' in client.get(f"/students/{row.id}/edit").text

def test_edit_a_student_never_moves_a_placed_one(as_user: Login, market: dict[str, Any], world: World,
                                                 app_client: TestClient, session: Session,
                                                 session_factory: sessionmaker[Session]) -> None:
    second = app_client.post(f"{API}/programs", json={
        "college_id": world.college_a.id, "major_code": "510206", "term": TERM, "name": "云计算-college_a",
        "description": "云平台运维", "skills": ["Linux"]}, headers=world.h("college_a"))
    assert second.status_code == 201, second.text
    publish_run(app_client, world, session_factory)
    placed = session.scalars(select(Placement).join(Student, Student.id == Placement.student_id).where(
        Placement.status == PlacementStatus.PUBLISHED, Student.student_no.startswith("college_a"))).first()
    assert placed is not None
    student = session.get(Student, placed.student_id)
    assert student is not None
    client = as_user("college_a")
    edit = client.get(f"/students/{student.id}/edit")
    assert edit.status_code == 200 and 'id="standing"' in edit.text and student.student_no in edit.text
    token = csrf_of(edit.text)
    fields = {"csrf_token": token, "program_id": str(student.program_id), "student_no": student.student_no,
              "name": "改过的名字", "skills": "Python", "grade": "90", "phone": "138 0000 0000"}
    saved = client.post(f"/students/{student.id}/edit", data=fields, follow_redirects=False)
    assert saved.status_code == 303
    session.expire_all()
    assert (student.name, student.phone, student.grade) == ("改过的名字", "138 0000 0000", 90.0)
    moved = client.post(f"/students/{student.id}/edit", data={**fields, "program_id": str(second.json()["id"])})
    assert moved.status_code == 409 and "请先撤回或拒绝该安排" in moved.text
    session.expire_all()
    assert student.program_id == market["programs"]["college_a"]
    # The API refuses the same move with the placement named (its state as current_status).
    api = app_client.patch(f"{API}/students/{student.id}", json={"program_id": second.json()["id"]},
                           headers=world.h("college_a"))
    assert api.status_code == 409 and api.json()["placement_id"] == placed.id
    assert api.json()["current_status"] == "published" and api.json()["status"] == 409
    # A student with no placement may move to another program of the college.
    fresh = app_client.post(f"{API}/students", json={"program_id": market["programs"]["college_a"],
                                                     "student_no": "late-1", "name": "后来者"},
                            headers=world.h("college_a")).json()["id"]
    assert client.post(f"/students/{fresh}/edit", data={
        "csrf_token": token, "program_id": str(second.json()["id"]), "student_no": "late-1", "name": "后来者"},
        follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.get(Student, fresh).program_id == second.json()["id"]  # type: ignore[union-attr]
    # Another college's student is not found at all.
    other = as_user("college_b")
    assert other.get(f"/students/{student.id}/edit").status_code == 404
    session.expire_all()
    assert session.get(Placement, placed.id).status is PlacementStatus.PUBLISHED  # type: ignore[union-attr]


def test_an_opening_for_the_office_with_the_fit_to_its_own_programs(as_user: Login, market: dict[str, Any],
                                                                   world: World, app_client: TestClient,
                                                                   session_factory: sessionmaker[Session]) -> None:
    client = as_user("college_a")
    opening = market["openings"]["大数据运维实习生-enterprise_a"]
    matches = client.get(f"/programs/{market['programs']['college_a']}/matches", headers={"HX-Request": "true"})
    assert f'href="/openings/{opening}"' in matches.text  # reachable from the match list
    page = client.get(f"/openings/{opening}")
    assert page.status_code == 200
    assert "大数据运维实习生-enterprise_a" in page.text and world.enterprise_a.name in page.text
    assert re.search(r'id="o-seats">2<', page.text) and re.search(r'id="o-filled">0<', page.text)
    assert "Linux; SQL" in page.text and f'hx-get="/openings/{opening}/fit"' in page.text
    fit = client.get(f"/openings/{opening}/fit", headers={"HX-Request": "true"})
    assert fit.status_code == 200 and "<html" not in fit.text and "与本校专业的匹配" in fit.text
    assert "大数据技术-college_a" in fit.text and "大数据技术-college_b" not in fit.text
    assert "%" in fit.text and '<figure class="chart">' in fit.text
    assert "college_a-no-" in fit.text and "college_b-no-" not in fit.text  # its own students only
    assert "<html" in client.get(f"/openings/{opening}/fit").text  # without JavaScript, a page of its own
    assert "How it fits your programs" in client.get(f"/openings/{opening}/fit",
                                                     headers={"Accept-Language": "en"}).text
    # After publication and an accept, the seat is filled and the student listed.
    run_id = publish_run(app_client, world, session_factory)
    mine = [p for p in app_client.get(f"{API}/allocation-runs/{run_id}/placements?limit=100",
                                      headers=world.h("college_a")).json()["items"] if p["opening_id"] == opening]
    assert mine
    assert app_client.post(f"{API}/placements/{mine[0]['id']}/accept", headers=world.h("college_a")).status_code == 200
    page = as_user("college_a").get(f"/openings/{opening}")
    assert re.search(r'id="o-filled">1<', page.text) and re.search(r'id="o-open">1<', page.text)
    assert "已接受" in page.text
    # An opening saved with only the required fields is shown, and says why it has no fit.
    bare = app_client.post(f"{API}/openings", json={"enterprise_id": world.enterprise_b.id, "title": "岗位",
                                                    "seats": 1, "province": "辽宁", "city": "沈阳", "term": TERM},
                           headers=world.h("enterprise_b"))
    assert bare.status_code == 201, bare.text
    shown = as_user("college_a").get(f"/openings/{bare.json()['id']}")
    assert shown.status_code == 200 and "岗位" in shown.text
    unscored = as_user("college_a").get(f"/openings/{bare.json()['id']}/fit", headers={"HX-Request": "true"})
    assert unscored.status_code == 200 and "信息太少" in unscored.text


def _lecturer(app_client: TestClient, world: World, name: str = "赵工") -> int:
    response = app_client.post(f"{API}/lecturers", json={
        "enterprise_id": world.enterprise_a.id, "name": name, "title": "高级工程师",
        "expertise": "Hadoop 集群运维与 Spark 数据分析", "topics": ["Hadoop", "Spark"], "max_weekly_hours": 4,
        "available_slots": ["mon1", "mon2", "tue1"], "cities": ["贵阳"]}, headers=world.h("enterprise_a"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_course_needs_new_edit_import_and_the_lecturer_placed(as_user: Login, market: dict[str, Any], world: World,
                                                              app_client: TestClient, session: Session,
                                                              session_factory: sessionmaker[Session]) -> None:
    from app.db.models import CourseNeed

    client = as_user("college_a")
    program = market["programs"]["college_a"]
    empty = client.get("/course-needs")
    assert empty.status_code == 200 and "暂无课程需求" in empty.text and 'href="/course-needs"' in empty.text
    form = client.get("/course-needs/new")
    assert form.status_code == 200 and f'value="{TERM}"' in form.text  # the program's term, ready
    token = csrf_of(form.text)
    bad = client.post("/course-needs/new", data={"csrf_token": token, "program_id": str(program), "course_name": "",
                                                 "weekly_hours": "99", "term": TERM, "slots": "monday"})
    assert bad.status_code == 422
    assert "此项为必填" in bad.text and "40" in bad.text and "mon1" in bad.text and "String should" not in bad.text
    assert session.scalar(select(func.count(CourseNeed.id))) == 0
    created = client.post("/course-needs/new", data={
        "csrf_token": token, "program_id": str(program), "course_name": "Hadoop 平台运维", "weekly_hours": "2",
        "term": TERM, "slots": "mon1；mon2", "topics": "Hadoop, Spark", "is_professional": "true"},
        follow_redirects=False)
    assert created.status_code == 303
    need = session.scalars(select(CourseNeed)).one()
    assert (need.program_id, need.slots, need.topics, need.is_professional) == (
        program, ["mon1", "mon2"], ["Hadoop", "Spark"], True)
    # An edit keeps the program; unticking the box is "no".
    edited = client.post(f"/course-needs/{need.id}/edit", data={
        "csrf_token": token, "program_id": str(market["programs"]["college_b"]), "course_name": "Hadoop 运维",
        "weekly_hours": "1", "term": TERM, "slots": "mon1; mon2", "topics": "Hadoop; Spark"},
        follow_redirects=False)
    assert edited.status_code == 303
    session.expire_all()
    assert (need.course_name, need.weekly_hours, need.is_professional, need.program_id) == (
        "Hadoop 运维", 1, False, program)
    # Import through the shared import machinery: a bad row stores nothing.
    body = ("program_id,course_name,weekly_hours,term,slots,topics\n"
            f"{program},Spark 数据分析,2,{TERM},tue1,Spark\n"
            f"{program},坏课,0,{TERM},,\n")
    report = client.post("/course-needs/import", data={"csrf_token": token},
                         files={"file": ("needs.csv", body.encode(), "text/csv")})
    assert report.status_code == 422 and "坏课" not in [n.course_name for n in session.scalars(select(CourseNeed))]
    assert session.scalar(select(func.count(CourseNeed.id))) == 1
    good = client.post("/course-needs/import", data={"csrf_token": token},
                       files={"file": ("needs.csv", body.splitlines()[0].encode() + b"\n" + body.splitlines()[1]
                                       .encode() + b"\n", "text/csv")}, follow_redirects=False)
    assert good.status_code == 303
    assert session.scalar(select(func.count(CourseNeed.id))) == 2
    # A published lecturer run places a lecturer: the list and the need's page name them.
    _lecturer(app_client, world)
    publish_run(app_client, world, session_factory, kind="lecturer")
    client = as_user("college_a")
    listing = client.get("/course-needs")
    assert "赵工" in listing.text and world.enterprise_a.name in listing.text and "已发布" in listing.text
    page = client.get(f"/course-needs/{need.id}")
    assert page.status_code == 200 and 'id="current-lecturer">赵工' in page.text and "高级工程师" in page.text
    assert "Lecturers placed on this course" in client.get(f"/course-needs/{need.id}",
                                                           headers={"Accept-Language": "en"}).text
    # The office answers the lecturer on the need's own page and comes back to that row.
    placement = session.scalars(select(Placement).where(Placement.course_need_id == need.id)).one()
    token = csrf_of(page.text)
    back = f"/course-needs/{need.id}"
    accepted = client.post(f"/placements/{placement.id}/accept", data={"csrf_token": token, "back": back},
                           follow_redirects=False)
    assert accepted.headers["location"] == f"{back}#placement-{placement.id}"
    session.expire_all()
    assert session.get(Placement, placement.id).status == PlacementStatus.ACCEPTED  # type: ignore[union-attr]
    signed = client.post(f"/placements/{placement.id}/agreement",
                         data={"csrf_token": token, "back": back, "number": "JS-7"}, follow_redirects=True)
    session.expire_all()
    row = session.get(Placement, placement.id)
    assert row is not None and (row.status, row.agreement_no) == (PlacementStatus.CONFIRMED, "JS-7")
    assert signed.url.path == back and f'id="placement-{placement.id}"' in signed.text
    assert 'class="badge confirmed">已签协议' in signed.text
    # Only a course need's own page is a place to come back to, never another site or page.
    assert office._list_url(back) == back
    assert [office._list_url(b) for b in ("//evil.example", f"{back}/edit", "/course-needs/x")] == ["/placements"] * 3
    # Another college sees neither the need nor its lecturer.
    other = as_user("college_b")
    assert other.get(f"/course-needs/{need.id}").status_code == 404
    assert "赵工" not in other.get("/course-needs").text


ENGLISH_PHRASE = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,})+\b")


def _main_text(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_the_new_pages_speak_chinese_and_english(as_user: Login, market: dict[str, Any], world: World,
                                                 app_client: TestClient) -> None:
    need = app_client.post(f"{API}/course-needs", json={"program_id": market["programs"]["college_a"],
                                                        "course_name": "数据采集", "weekly_hours": 2, "term": TERM,
                                                        "topics": ["Hadoop"]}, headers=world.h("college_a"))
    assert need.status_code == 201, need.text
    student = market["students"][("college_a", 0)]
    opening = next(iter(market["openings"].values()))
    pages = {"college_a": ["/students", "/students/new", f"/students/{student}/edit", f"/openings/{opening}",
                           f"/openings/{opening}/fit",
                           "/course-needs", "/course-needs/new", f"/course-needs/{need.json()['id']}",
                           f"/course-needs/{need.json()['id']}/edit"],
             "enterprise_a": ["/interns", "/lecturers/placements", "/dashboard"]}
    for who, paths in pages.items():
        client = as_user(who)
        for path in paths:
            zh = client.get(path)
            assert zh.status_code == 200, path
            text = _main_text(zh.text)
            assert not ENGLISH_PHRASE.findall(text), (path, ENGLISH_PHRASE.findall(text)[:5])
            en = client.get(path, headers={"Accept-Language": "en"})
            assert en.status_code == 200 and '<html lang="en">' in en.text, path
            # The page's own words are English there (data such as names stay as entered).
            english = _main_text(en.text)
            assert not any(word in english for word in ("编辑", "保存", "专业", "状态", "请选择", "课时", "岗位")), path
