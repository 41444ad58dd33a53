"""Pages that broke for a new user in zh-CN (issue 12, "broken today"): each now works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

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
                                          "term": "2027 春季", "time_limit_s": "0"})
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
