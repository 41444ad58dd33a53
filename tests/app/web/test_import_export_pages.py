"""Import and export pages in people's own words: Chinese headers, problems in Chinese naming the row and
the column the file used, templates, update mode, and placement exports (frozen header, widths, the
caller's own placements only)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Student
from app.services.columns import column_set
from tests.app.web.conftest import csrf_of
from tests.app.web.test_office_pages import publish_run
from tests.conftest import World

Login = Callable[[str], TestClient]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(header: list[str], rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _errors(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<tr><td[^>]*>(\d+)</td><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td></tr>', html)


def _count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Student)) or 0)


def test_office_imports_a_chinese_file_fixes_a_bad_row_and_updates(as_user: Login, market: dict[str, Any],
                                                                   session: Session) -> None:
    client = as_user("college_a")
    page = client.get("/students")
    assert 'href="/students/import/template?format=xlsx"' in page.text
    token = csrf_of(page.text)
    before = _count(session)
    header = ["学号", "姓名", "专业", "手机", "成绩"]
    bad = _workbook(header, [["2027101", "新生甲", "大数据技术-college_a", "13800138000", 90],
                             ["2027102", "新生乙", "大数据技术-college_a", "13800138001", 140]])
    response = client.post("/students/import", data={"csrf_token": token},
                           files={"file": ("学生名单.xlsx", bad, XLSX)})
    assert response.status_code == 422
    [(row, column, message)] = _errors(response.text)
    assert (row, column) == ("3", "成绩")
    assert message == "请输入不大于 100 的数字。"  # in Chinese, from the catalogue, never pydantic's English
    assert "未保存任何数据" in response.text
    assert _count(session) == before  # nothing stored

    good = _workbook(header, [["2027101", "新生甲", "大数据技术-college_a", "13800138000", 90],
                              ["2027102", "新生乙", "510205", "13800138001", 85]])
    response = client.post("/students/import", data={"csrf_token": token},
                           files={"file": ("学生名单.xlsx", good, XLSX)}, follow_redirects=True)
    assert response.status_code == 200, response.text
    assert _count(session) == before + 2

    # Update mode: the same file with a new phone updates one row and creates nothing.
    changed = _workbook(header, [["2027101", "新生甲", "510205", "13900000000", 90]])
    response = client.post("/students/import", data={"csrf_token": token, "mode": "upsert"},
                           files={"file": ("学生名单.xlsx", changed, XLSX)}, follow_redirects=True)
    assert response.status_code == 200 and "更新 1 条" in response.text
    session.expire_all()
    assert session.scalars(select(Student.phone).where(Student.student_no == "2027101")).one() == "13900000000"
    assert _count(session) == before + 2


def test_templates_and_exports_speak_the_page_language(as_user: Login, market: dict[str, Any]) -> None:
    client = as_user("college_a")
    template = client.get("/students/import/template?format=xlsx")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(template.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == column_set("students").headers("zh_CN")
    exported = client.get("/students/export?format=xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(exported.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("学号", "姓名", "专业") and len(rows) == 4
    # The unchanged export loads back in update mode: nothing changes.
    token = csrf_of(client.get("/students").text)
    response = client.post("/students/import", data={"csrf_token": token, "mode": "upsert", "dry_run": "true"},
                           files={"file": ("students.xlsx", exported.content, XLSX)})
    assert response.status_code == 200, response.text
    assert not _errors(response.text)
    # HR gets only its own kinds' templates.
    assert client.get("/openings/import/template").status_code in (403, 404)
    assert client.get("/nothing/import/template").status_code == 404
    hr = as_user("enterprise_a")
    assert hr.get("/openings/import/template?format=csv").content.decode("utf-8-sig").startswith("岗位编号,岗位名称")
    assert hr.get("/students/import/template").status_code in (403, 404)


def test_placement_exports_of_office_and_hr(as_user: Login, market: dict[str, Any], app_client: TestClient,
                                            world: World, session_factory: sessionmaker[Session]) -> None:
    publish_run(app_client, world, session_factory)
    client = as_user("college_a")
    assert 'href="/placements/export?format=xlsx' in client.get("/placements").text
    response = client.get("/placements/export?format=xlsx")
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:8] == ["学号", "姓名", "学校", "专业", "岗位编号", "岗位名称", "企业", "城市"]
    assert {"状态", "轮次"} <= set(header)
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert rows and {r["学校"] for r in rows} == {world.college_a.name}
    assert all(r["学号"].startswith("college_a-no-") and r["姓名"].startswith("college_a学生") for r in rows)
    assert {r["状态"] for r in rows} == {"已发布"} and {r["轮次"] for r in rows} == {1}
    assert {r["企业"] for r in rows} == {world.enterprise_a.name} and {r["城市"] for r in rows} == {"贵阳"}
    # Widths fit the contents: the Chinese college name is wider than the student number column's minimum.
    widths = {cell.value: sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]}
    assert widths["学校"] >= 2 * len(world.college_a.name) and 8 <= widths["轮次"] <= 12

    hr = as_user("enterprise_b")
    csv_rows = hr.get("/placements/export?format=csv").content.decode("utf-8-sig").splitlines()
    assert csv_rows[0].startswith("学号,学校,专业,岗位编号") and "姓名" not in csv_rows[0]  # no names for HR
    assert len(csv_rows) > 1 and all(world.enterprise_b.name in line for line in csv_rows[1:])
    assert not any("college_a" in line for line in csv_rows)
    assert as_user("scheduler").get("/placements/export").status_code == 403


def test_api_placement_exports_keep_to_the_tenancy(market: dict[str, Any], app_client: TestClient,
                                                           world: World,
                                                           session_factory: sessionmaker[Session]) -> None:
    publish_run(app_client, world, session_factory)

    def rows(who: str, **params: str) -> list[tuple[Any, ...]]:
        response = app_client.get("/api/v1/placements/export", params=params, headers=world.h(who))
        assert response.status_code == 200, response.text
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert sheet.freeze_panes == "A2"
        return list(sheet.iter_rows(values_only=True))

    english = rows("college_b")
    assert english[0][:3] == ("student_no", "student_name", "college")
    assert {r[2] for r in english[1:]} == {world.college_b.name}
    assert {r[english[0].index("status")] for r in english[1:]} == {"published"}
    chinese = rows("enterprise_a", lang="zh-CN")
    assert "姓名" not in chinese[0] and {r[chinese[0].index("企业")] for r in chinese[1:]} == {world.enterprise_a.name}
    assert len(rows("college_a", status="accepted")) == 1  # nothing accepted yet: the header alone
    everything = rows("admin")
    assert len(everything) == len(english) + len(rows("college_a")) - 1
    assert app_client.get("/api/v1/placements/export").status_code == 401

