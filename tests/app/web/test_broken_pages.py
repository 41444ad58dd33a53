"""Pages that broke for a new user in zh-CN (issue 12, "broken today"): each now works."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Opening
from tests.app.web.conftest import TERM, csrf_of

Login = Callable[[str], TestClient]


def test_student_search_with_all_programs_is_a_page(as_user: Login, market: dict[str, Any]) -> None:
    client = as_user("college_a")
    # The form's default "全部专业" submits program_id empty: before, a raw JSON 422.
    response = client.get("/students", params={"q": "", "program_id": ""})
    assert response.status_code == 200, response.text[:300]
    assert "college_a-no-0" in response.text


def test_an_opening_with_only_the_required_fields_shows_its_page(as_user: Login, market: dict[str, Any]) -> None:
    client = as_user("enterprise_a")
    token = csrf_of(client.get("/openings/new").text)
    response = client.post("/openings/new", data={
        "csrf_token": token, "title": "实习生", "seats": "2", "province": "贵州", "city": "贵阳", "term": TERM},
        follow_redirects=True)
    assert response.status_code == 200, response.text[response.text.find("<main"):][:1500]
    assert "实习生" in response.text



def test_hr_gives_an_opening_its_own_code_and_a_taken_code_is_marked(as_user: Login, market: dict[str, Any],
                                                                    session: Session) -> None:
    client = as_user("enterprise_a")
    token = csrf_of(client.get("/openings/new").text)
    base = {"csrf_token": token, "title": "运维实习生", "seats": "2", "province": "贵州", "city": "贵阳", "term": TERM}
    made = client.post("/openings/new", data={**base, "code": " OPS-01 "}, follow_redirects=False)
    assert made.status_code == 303, made.text[:500]
    row = session.scalars(select(Opening).where(Opening.code == "OPS-01")).one()
    assert row.title == "运维实习生"
    before = session.scalar(select(func.count(Opening.id)))
    taken = client.post("/openings/new", data={**base, "title": "另一个岗位", "code": "OPS-01"})
    assert taken.status_code == 409
    assert "本企业已有岗位编号为 OPS-01 的岗位。" in taken.text
    assert 'id="f-code"' in taken.text and 'aria-invalid="true"' in taken.text
    assert session.scalar(select(func.count(Opening.id))) == before
    edit = client.get(f"/openings/{row.id}/edit")
    assert 'value="OPS-01"' in edit.text

def test_a_new_opening_for_the_programs_level_is_not_marked_ineligible(as_user: Login, market: dict[str, Any]) -> None:
    client = as_user("enterprise_a")
    token = csrf_of(client.get("/openings/new").text)
    response = client.post("/openings/new", data={
        "csrf_token": token, "title": "数据分析实习生", "seats": "2", "province": "贵州", "city": "贵阳", "term": TERM,
        "description": "数据清洗、SQL 报表与可视化", "required_skills": "SQL；Python", "eligible_levels": "高职专科"},
        follow_redirects=True)
    assert response.status_code == 200
    # Before: "层次不符 -4.00" on every row, the level of the form never matching the programs'.
    assert "层次不符" not in response.text


def test_times_are_shown_in_the_service_time_zone() -> None:
    from datetime import UTC, datetime

    from app.web.core import local_time

    stored = datetime(2027, 3, 1, 8, 5, tzinfo=UTC)
    # Before: 08:05 with no zone, eight hours off for a reader in China.
    assert local_time(stored, "Asia/Shanghai") == "2027-03-01 16:05 (UTC+08:00)"
    assert local_time(stored.replace(tzinfo=None), "Asia/Shanghai") == "2027-03-01 16:05 (UTC+08:00)"
    assert local_time(stored, "Europe/Berlin") == "2027-03-01 09:05 (UTC+01:00)"


def test_an_unknown_time_zone_setting_is_refused() -> None:
    import pytest
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(database_url="sqlite://", timezone="Mars/Olympus")


ENGLISH_VALIDATOR_TEXT = ("String should", "Input should", "Field required", "Value error", "should match pattern",
                          "valid integer", "greater than", "cannot be scored", "is already")


def test_the_run_form_marks_its_fields_in_chinese(as_user: Login, market: dict[str, Any]) -> None:
    client = as_user("scheduler")
    token = csrf_of(client.get("/runs").text)
    response = client.post("/runs", data={"csrf_token": token, "kind": "internship", "mode": "optimal",
                                          "term": "明年春季", "time_limit_s": "0"})
    assert response.status_code == 422
    # Before: "请修改标出的字段" with nothing marked, and the raw regex in English.
    assert response.text.count('aria-invalid="true"') == 2, response.text
    assert "例如 2027-spring" in response.text
    assert not [t for t in ENGLISH_VALIDATOR_TEXT if t in response.text]


def test_service_errors_are_chinese_in_the_chinese_ui(as_user: Login, market: dict[str, Any]) -> None:
    client = as_user("scheduler")
    token = csrf_of(client.get("/runs").text)
    first = client.post("/runs", data={"csrf_token": token, "kind": "internship", "mode": "optimal", "term": TERM},
                        follow_redirects=False)
    assert first.status_code == 303
    second = client.post("/runs", data={"csrf_token": token, "kind": "internship", "mode": "optimal", "term": TERM})
    # Before: "run 1 is already running" in English.
    assert second.status_code == 409
    assert "在排队或运行中" in second.text
    assert not [t for t in ENGLISH_VALIDATOR_TEXT if t in second.text]
    missing = client.get("/runs/999999")
    assert missing.status_code == 404 and "not found" not in missing.text


def test_the_english_ui_shows_no_raw_keys() -> None:
    from app.web.i18n import Gettext

    g = Gettext("en")
    # Before: "placement_rate" as a KPI's label in the English UI.
    for key in ("placement_rate", "mean_fit", "no_solution_in_time", "placement_office", "enterprise_hr"):
        assert "_" not in g.gettext(key), key


def test_the_office_answers_a_term_on_its_placements_page(as_user: Login, market: dict[str, Any],
                                                          app_client: TestClient, world: Any,
                                                          session_factory: Any) -> None:
    """Filters, the round, bulk accept, decline after a confirmation page, the agreement's number and
    date, a withdrawal with its reason: each answer comes back to its own row."""
    from app.settings import Settings
    from app.worker import Worker

    submitted = app_client.post("/api/v1/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                                headers=world.h("scheduler"))
    Worker(session_factory, Settings(database_url="sqlite://", solve_in_subprocess=False,
                                     allocation_executor="inline", worker_heartbeat_s=3600), owner="t").run_once()
    assert app_client.post(f"/api/v1/allocation-runs/{submitted.json()['id']}/publish",
                           headers=world.h("scheduler")).status_code == 200
    client = as_user("college_a")
    page = client.get("/placements")
    assert page.status_code == 200
    ids = [int(i) for i in __import__("re").findall(r'name="placement_id" value="(\d+)"', page.text)]
    assert len(ids) >= 2
    token = csrf_of(page.text)
    first, second = ids[0], ids[1]
    bulk = client.post("/placements/accept", data={"csrf_token": token, "placement_id": [str(first)]},
                       follow_redirects=True)
    assert "已接受 1 个安排" in bulk.text
    confirm = client.get(f"/placements/{second}/decline")
    assert confirm.status_code == 200 and "确定拒绝该安排" in confirm.text
    declined = client.post(f"/placements/{second}/decline", data={"csrf_token": token}, follow_redirects=False)
    assert declined.headers["location"] == f"/placements#placement-{second}"
    # The signing day defaults to today in China, which the service accepts even while UTC is still
    # on the day before (00:00–08:00 UTC).
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert f'name="signed_on" type="date" value="{today}" max="{today}"' in client.get("/placements").text
    signed = client.post(f"/placements/{first}/agreement",
                         data={"csrf_token": token, "number": "XY-42", "signed_on": today},
                         follow_redirects=True)
    assert "XY-42" in signed.text and today in signed.text
    no_reason = client.post(f"/placements/{first}/withdraw", data={"csrf_token": token, "reason": " "})
    assert no_reason.status_code == 422 and "此项为必填" in no_reason.text
    ended = client.post(f"/placements/{first}/withdraw", data={"csrf_token": token, "reason": "学生转学"},
                        follow_redirects=True)
    assert "学生转学" in ended.text
    standing = client.get("/placements", params={"status": "current"})
    assert f'id="placement-{first}"' not in standing.text and f'id="placement-{second}"' not in standing.text
    declined_only = client.get("/placements", params={"status": "declined"})
    assert f'id="placement-{second}"' in declined_only.text


def test_the_scheduler_runs_a_term_from_the_run_page(as_user: Login, market: dict[str, Any],
                                                     session_factory: Any) -> None:
    """Publish after a confirmation that says what it does, a what-if of the same round, a
    supplementary round, withdrawal, and a comparison with the parameters side by side."""
    from app.settings import Settings
    from app.worker import Worker

    worker = Worker(session_factory, Settings(database_url="sqlite://", solve_in_subprocess=False,
                                              allocation_executor="inline", worker_heartbeat_s=3600), owner="t")
    client = as_user("scheduler")
    token = csrf_of(client.get("/runs").text)
    first = client.post("/runs", data={"csrf_token": token, "kind": "internship", "mode": "optimal", "term": TERM},
                        follow_redirects=False).headers["location"]
    run_id = int(first.rsplit("/", 1)[1])
    worker.run_once()
    page = client.get(first)
    assert f'href="/runs/{run_id}/publish"' in page.text
    confirm = client.get(f"/runs/{run_id}/publish")
    assert confirm.status_code == 200 and "将向院校和企业发布" in confirm.text
    what_if = client.post(f"/runs/{run_id}/fork", data={"csrf_token": token, "seed": "7", "mode": ""},
                          follow_redirects=False)
    assert what_if.status_code == 303
    fork_id = int(what_if.headers["location"].rsplit("/", 1)[1])
    worker.run_once()
    assert client.post(f"/runs/{run_id}/publish", data={"csrf_token": token}).status_code == 200
    # The what-if of round 1 can no longer be published: the page says why, in Chinese.
    blocked = client.get(f"/runs/{fork_id}/publish")
    assert "当前无法发布" in blocked.text and "已有已发布的分配结果" in blocked.text
    compared = client.get("/runs/compare", params={"ids": [run_id, fork_id]})
    assert compared.status_code == 200 and "随机种子" in compared.text and ">7<" in compared.text
    withdrawn = client.post(f"/runs/{run_id}/withdraw", data={"csrf_token": token}, follow_redirects=True)
    assert "已撤回" in withdrawn.text
    assert client.post(f"/runs/{fork_id}/publish", data={"csrf_token": token}).status_code == 200
    second = client.post(f"/runs/{fork_id}/supplementary", data={"csrf_token": token}, follow_redirects=False)
    assert second.status_code == 303
    worker.run_once()
    second_page = client.get(second.headers["location"])
    assert "接续运行" in second_page.text and f"#{fork_id}" in second_page.text


def test_match_reasons_are_shares_in_words(as_user: Login, market: dict[str, Any]) -> None:
    from app.web.charts import contribution_shares, share_text

    shares = contribution_shares([1.4, -0.6, 2.0])
    assert [share_text(s) for s in shares] == ["+35 %", "-15 %", "+50 %"]
    assert abs(sum(abs(s) for s in shares) - 100) < 1e-9
    client = as_user("college_a")
    matches = client.get(f"/programs/{market['programs']['college_a']}/matches", headers={"HX-Request": "true"})
    # Before: log-odds such as "+1.40" and "模型：prior".
    assert matches.status_code == 200
    assert " %</text>" in matches.text or " %<" in matches.text
    assert "prior" not in matches.text and "log-odds" not in matches.text


def test_the_scheduler_adjusts_a_run_by_hand(as_user: Login, market: dict[str, Any], session_factory: Any) -> None:
    from app.settings import Settings
    from app.worker import Worker

    worker = Worker(session_factory, Settings(database_url="sqlite://", solve_in_subprocess=False,
                                              allocation_executor="inline", worker_heartbeat_s=3600), owner="t")
    client = as_user("scheduler")
    token = csrf_of(client.get("/runs").text)
    location = client.post("/runs", data={"csrf_token": token, "kind": "internship", "mode": "optimal",
                                          "term": TERM}, follow_redirects=False).headers["location"]
    worker.run_once()
    page = client.get(location)
    assert 'action="' + location + '/adjust"' in page.text
    student = market["students"][("college_a", 0)]
    opening = market["openings"]["数据分析实习生-enterprise_a"]
    missing = client.post(f"{location}/adjust", data={"csrf_token": token})
    assert missing.status_code == 422 and "此项为必填" in missing.text
    moved = client.post(f"{location}/adjust", data={"csrf_token": token, "student_id": str(student),
                                                     "opening_id": str(opening), "action": "pin"},
                        follow_redirects=False)
    assert moved.status_code == 303
    worker.run_once()
    export = client.get(moved.headers["location"] + "/export?format=csv")
    assert f"{student},{opening}" in export.text


def test_terms_read_as_people_say_them(as_user: Login, market: dict[str, Any]) -> None:
    from app.web.core import term_label

    assert term_label("2027-spring", "zh_CN") == "2027年春季学期"
    assert term_label("2027-autumn", "en") == "Autumn 2027"
    assert term_label("2027-fall", "zh_CN") == "2027年秋季学期"
    assert term_label("T3-2027", "zh_CN") == "T3-2027"  # another spelling stays as written
    client = as_user("scheduler")
    token = csrf_of(client.get("/runs").text)
    client.post("/runs", data={"csrf_token": token, "kind": "internship", "mode": "optimal", "term": TERM})
    assert "2027年春季学期" in client.get("/runs").text


def test_the_office_reads_why_its_students_are_unplaced(as_user: Login, market: dict[str, Any],
                                                        app_client: TestClient, world: Any,
                                                        session_factory: Any) -> None:
    from app.settings import Settings
    from app.worker import Worker

    for n in range(3, 9):  # more students than seats: some stay unplaced
        extra = app_client.post("/api/v1/students", json={
            "program_id": market["programs"]["college_a"], "student_no": f"college_a-no-{n}", "name": f"学生{n}",
            "skills": ["Python"]}, headers=world.h("college_a"))
        assert extra.status_code == 201, extra.text
        market["students"][("college_a", n)] = extra.json()["id"]
    submitted = app_client.post("/api/v1/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                                headers=world.h("scheduler"))
    Worker(session_factory, Settings(database_url="sqlite://", solve_in_subprocess=False,
                                     allocation_executor="inline", worker_heartbeat_s=3600), owner="t").run_once()
    run = app_client.get(f"/api/v1/allocation-runs/{submitted.json()['id']}", headers=world.h("scheduler")).json()
    unplaced = app_client.get(f"/api/v1/allocation-runs/{run['id']}/unplaced", headers=world.h("scheduler")).json()
    assert unplaced, "the market leaves students unplaced (more students than seats)"
    assert app_client.post(f"/api/v1/allocation-runs/{run['id']}/publish",
                           headers=world.h("scheduler")).status_code == 200
    college_a_students = {v for (w, _), v in market["students"].items() if w == "college_a"}
    own = [u for u in unplaced if int(u["id"]) in college_a_students]
    page = as_user("college_a").get("/placements/unplaced")
    assert page.status_code == 200
    for item in own:
        number = next(f"college_a-no-{n}" for (w, n), v in market["students"].items() if v == int(item["id"]))
        assert number in page.text
    assert "college_b-no-" not in page.text
    # Reasons in words, in Chinese: no solver codes such as "full".
    assert own
    assert "匹配的岗位都已满员" in page.text or "没有可接收该学生" in page.text or "学生资料太少" in page.text
    assert ">full<" not in page.text
    assert as_user("enterprise_a").get("/placements/unplaced").status_code == 403
