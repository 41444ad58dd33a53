"""Malformed addresses and forms give an HTML error page (4xx), never a 500, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.app.web.conftest import csrf_of

HUGE = str(2**31)  # one past the integer columns: PostgreSQL overflows from here


def _is_error_page(response: Any, status: int) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")


def test_nul_in_the_sign_in_form_is_an_error_page(app_client: TestClient, market: dict[str, Any]) -> None:
    token = csrf_of(app_client.get("/login").text)
    response = app_client.post("/login", data={"username": "u-admin\x00", "password": "x", "csrf_token": token})
    _is_error_page(response, 422)
    assert "控制字符" in response.text  # the default language is Chinese


def test_ids_beyond_the_columns_are_error_pages(as_user: Callable[[str], TestClient],
                                                market: dict[str, Any]) -> None:
    client = as_user("admin")
    for path in (f"/programs/{HUGE}", f"/programs/{HUGE}/matches", f"/openings/{HUGE}", f"/openings/{HUGE}/edit",
                 f"/lecturers/{HUGE}/edit", f"/runs/{HUGE}", f"/runs/{HUGE}/status", f"/runs/{HUGE}/export",
                 f"/students?program_id={HUGE}", f"/runs/compare?ids=1&ids={HUGE}", "/programs/0"):
        _is_error_page(client.get(path), 422)
    token = csrf_of(client.get("/runs").text)
    for path in (f"/runs/{HUGE}/publish", f"/runs/{HUGE}/cancel", f"/placements/{HUGE}/accept"):
        _is_error_page(client.post(path, data={"csrf_token": token}), 422)


def test_control_characters_in_pages_and_forms_are_error_pages(as_user: Callable[[str], TestClient],
                                                                market: dict[str, Any]) -> None:
    client = as_user("enterprise_a")
    _is_error_page(client.get("/openings", params={"q": "数据\x00"}), 422)
    token = csrf_of(client.get("/openings/new").text)
    response = client.post("/openings/new", data={"csrf_token": token, "title": "实习\x00生", "seats": "1",
                                                  "province": "贵州", "city": "贵阳", "term": "2027-spring"})
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]
    office = as_user("college_a")
    _is_error_page(office.get("/students", params={"q": "\x00"}), 422)
