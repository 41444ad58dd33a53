"""Bulk import (CSV/XLSX, dry run, all-or-nothing, tenancy, hostile files) and export."""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.db.models import AuditEvent, College, EducationLevel, Major, Program, Student
from app.main import SessionFactories, create_app
from app.settings import Settings
from tests.conftest import World

T = TypeVar("T")

API = "/api/v1"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STUDENT_HEADER = ["program_id", "student_no", "name", "phone", "skills", "grade", "city", "preferences"]


# --------------------------------------------------------------------------- helpers


def _program(client: TestClient, world: World, who: str = "college_a") -> int:
    college = world.college_a if who == "college_a" else world.college_b
    response = client.post(f"{API}/programs", json={"college_id": college.id, "major_code": "510205",
                                                    "term": "2027-spring"}, headers=world.h(who))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _opening(client: TestClient, world: World, **overrides: Any) -> int:
    body = {"enterprise_id": world.enterprise_a.id, "title": "大数据运维实习生", "seats": 5, "province": "贵州",
            "city": "贵阳", "term": "2027-spring"} | overrides
    response = client.post(f"{API}/openings", json=body, headers=world.h("enterprise_a"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _csv(header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(client: TestClient, world: World, kind: str, data: bytes, *, who: str = "college_a",
            filename: str = "rows.csv", dry_run: bool = False, content_type: str = "text/csv") -> Any:
    return client.post(f"{API}/{kind}/import", params={"dry_run": str(dry_run).lower()},
                       files={"file": (filename, data, content_type)}, headers=world.h(who))


def _count(session: Session, model: type[Any]) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _rewrite_member(xlsx: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, content if item.filename == name else source.read(item.filename))
    return out.getvalue()


# --------------------------------------------------------------------------- dry run, commit, rollback


def test_dry_run_reports_every_bad_row_and_stores_nothing(
    app_client: TestClient, world: World, session: Session
) -> None:
    program = _program(app_client, world)
    students_before, audit_before = _count(session, Student), _count(session, AuditEvent)
    data = _csv(STUDENT_HEADER, [
        [program, "2027001", "张三", "13800138000", "Python;SQL", "88.5", "贵阳", ""],
        [program, "2027002", "李四", "", "", "150", "", ""],            # row 3: grade out of range
        [999999, "2027003", "王五", "", "", "", "", ""],                # row 4: no such program
        [program, "2027001", "赵六", "", "", "", "", ""],               # row 5: duplicates row 2
        [program, "", "", "", "", "", "", "77777"],                     # row 6: three problems
    ])
    response = _upload(app_client, world, "students", data, dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["kind"], report["dry_run"], report["rows"], report["created"]) == ("students", True, 5, 0)
    failing = {(e["row"], e["column"]) for e in report["errors"]}
    assert {(3, "grade"), (4, "program_id"), (5, "student_no"), (6, "student_no"), (6, "name")} <= failing
    assert 2 not in {e["row"] for e in report["errors"]}
    assert report["valid"] == 1
    assert _count(session, Student) == students_before
    assert _count(session, AuditEvent) == audit_before


def test_import_commits_every_row_with_audit(app_client: TestClient, world: World, session: Session) -> None:
    program = _program(app_client, world)
    first, second = _opening(app_client, world), _opening(app_client, world, title="数据标注实习生")
    data = _csv(STUDENT_HEADER, [
        [program, "2027001", "张三", "13800138000", "Python；SQL", "88.5", "贵阳", f"{second};{first}"],
        [program, "2027002", "李四", "", "Linux", "", "", ""],
    ])
    response = _upload(app_client, world, "students", data)
    assert response.status_code == 201, response.text
    assert response.json() | {"errors": []} == {"kind": "students", "dry_run": False, "mode": "create", "rows": 2,
                                                 "created": 2, "updated": 0, "unchanged": 0, "valid": 2,
                                                 "error_count": 0, "errors": []}
    listed = app_client.get(f"{API}/students", params={"program_id": program}, headers=world.h("college_a"))
    items = {s["student_no"]: s for s in listed.json()["items"]}
    assert items["2027001"]["skills"] == ["Python", "SQL"]
    assert items["2027001"]["preferences"] == [second, first]
    assert items["2027002"]["grade"] is None
    events = session.execute(select(AuditEvent.action, AuditEvent.details).where(
        AuditEvent.entity == "student")).all()
    assert [a for a, _ in events].count("create") == 2
    summary = next(d for a, d in events if a == "import")
    assert summary == {"rows": 2, "created": 2, "file_type": "csv"}  # counts only, no personal data


def test_one_bad_row_rolls_back_the_whole_import(app_client: TestClient, world: World, session: Session) -> None:
    program = _program(app_client, world)
    before = _count(session, Student)
    data = _csv(STUDENT_HEADER, [[program, f"20270{i:02d}", "学生", "", "", "", "", ""] for i in range(10)]
                + [[program, "2027999", "学生", "", "", "101", "", ""]])
    response = _upload(app_client, world, "students", data)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [{k: e[k] for k in ("row", "column", "message", "type")} for e in problem["errors"]] == [
        {"row": 12, "column": "grade", "message": "Input should be less than or equal to 100",
         "type": "less_than_equal"}]
    assert (problem["created"], problem["valid"], problem["error_count"]) == (0, 10, 1)
    assert _count(session, Student) == before


def test_duplicates_against_the_database_and_header_errors(app_client: TestClient, world: World) -> None:
    program = _program(app_client, world)
    assert _upload(app_client, world, "students",
                   _csv(STUDENT_HEADER, [[program, "2027001", "张三", "", "", "", "", ""]])).status_code == 201
    again = _upload(app_client, world, "students",
                    _csv(STUDENT_HEADER, [[program, "2027001", "张三", "", "", "", "", ""]]), dry_run=True)
    assert [(e["row"], e["column"]) for e in again.json()["errors"]] == [(2, "student_no")]

    bad_header = _csv(["program_id", "name", "nickname"], [[program, "张三", "x"]])
    errors = _upload(app_client, world, "students", bad_header, dry_run=True).json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(1, "nickname"), (1, "student_no")}


# --------------------------------------------------------------------------- encodings and formats


def test_gb18030_csv(app_client: TestClient, world: World) -> None:
    program = _program(app_client, world)
    data = _csv(["program_id", "student_no", "name", "city"], [[program, "2027001", "欧阳娜娜", "遵义"]],
                encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    response = _upload(app_client, world, "students", data)
    assert response.status_code == 201, response.text
    students = app_client.get(f"{API}/students", params={"program_id": program}, headers=world.h("college_a"))
    assert [(s["name"], s["city"]) for s in students.json()["items"]] == [("欧阳娜娜", "遵义")]


def test_utf8_bom_csv_and_course_needs(app_client: TestClient, world: World) -> None:
    program = _program(app_client, world)
    data = _csv(["Program_ID", "course_name", "topics", "weekly_hours", "slots", "term"],
                [[program, "Spark 大数据分析", "Spark;Hive", "4", "MON1;wed3", "2027-spring"]],
                encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    response = _upload(app_client, world, "course-needs", data)
    assert response.status_code == 201, response.text
    needs = app_client.get(f"{API}/course-needs", params={"program_id": program}, headers=world.h("college_a"))
    assert [(n["topics"], n["slots"]) for n in needs.json()["items"]] == [(["Spark", "Hive"], ["mon1", "wed3"])]


def test_xlsx_openings_and_lecturers(app_client: TestClient, world: World) -> None:
    from datetime import date

    header = ["enterprise_id", "title", "seats", "province", "city", "term", "period_start", "period_end",
              "eligible_levels", "eligible_major_codes", "occupation_code"]
    data = _xlsx(header, [[world.enterprise_a.id, "数据分析实习生", 3, "贵州", "贵阳", "2027-spring",
                           date(2027, 3, 1), date(2027, 6, 30), "高职专科;职业本科", 510205, "4-04-05-01"]])
    response = _upload(app_client, world, "openings", data, who="enterprise_a", filename="openings.xlsx",
                       content_type=XLSX_TYPE)
    assert response.status_code == 201, response.text
    openings = app_client.get(f"{API}/openings", params={"q": "数据分析"}, headers=world.h("enterprise_a"))
    [opening] = openings.json()["items"]
    assert (opening["period_start"], opening["eligible_levels"], opening["eligible_major_codes"]) == (
        "2027-03-01", ["高职专科", "职业本科"], ["510205"])

    lecturers = _xlsx(["enterprise_id", "name", "max_weekly_hours", "available_slots", "cities"],
                      [[world.enterprise_a.id, "陈工", 6, "tue1;thu3", "贵阳;遵义"],
                       [world.enterprise_a.id, "刘工", 0, "someday", ""]])
    response = _upload(app_client, world, "lecturers", lecturers, who="enterprise_a", filename="l.xlsx",
                       dry_run=True, content_type=XLSX_TYPE)
    assert {(e["row"], e["column"]) for e in response.json()["errors"]} == {
        (3, "max_weekly_hours"), (3, "available_slots")}


# --------------------------------------------------------------------------- tenancy


def test_tenancy_applies_to_every_row(app_client: TestClient, world: World, session: Session) -> None:
    program_a = _program(app_client, world)
    data = _csv(STUDENT_HEADER, [[program_a, "2027001", "张三", "", "", "", "", ""]])
    before = _count(session, Student)

    response = _upload(app_client, world, "students", data, who="college_b")
    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(2, "program_id")]
    assert "own college" in response.json()["errors"][0]["message"]
    # A role that may not create students at all is refused as a whole.
    assert _upload(app_client, world, "students", data, who="enterprise_a").status_code == 403
    # An enterprise cannot import openings for another enterprise.
    openings = _csv(["enterprise_id", "title", "seats", "province", "city", "term"],
                    [[world.enterprise_a.id, "实习生", 1, "贵州", "贵阳", "2027-spring"]])
    refused = _upload(app_client, world, "openings", openings, who="enterprise_b", dry_run=True)
    assert [(e["row"], e["column"]) for e in refused.json()["errors"]] == [(2, "enterprise_id")]
    assert _count(session, Student) == before


# --------------------------------------------------------------------------- limits and hostile files


@pytest.fixture
def small_client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = Settings(database_url="sqlite://", max_import_bytes=4096, max_import_rows=3)
    app = create_app(settings, session_factories=SessionFactories(write=session_factory, read=session_factory))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_size_and_row_limits_give_413(small_client: TestClient, world: World) -> None:
    program = _program(small_client, world)
    too_big = _csv(STUDENT_HEADER, [[program, f"{i:07d}", "学生" * 20, "", "", "", "", ""] for i in range(100)])
    assert len(too_big) > 4096
    response = _upload(small_client, world, "students", too_big)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    four_rows = _csv(STUDENT_HEADER, [[program, f"{i:07d}", "学生", "", "", "", "", ""] for i in range(4)])
    response = _upload(small_client, world, "students", four_rows, dry_run=True)
    assert response.status_code == 413
    assert "3 data rows" in response.json()["detail"]


def test_macro_and_binary_files_give_415(app_client: TestClient, world: World) -> None:
    workbook = _xlsx(["program_id"], [[1]])
    assert _upload(app_client, world, "students", workbook, filename="rows.xlsm").status_code == 415
    macro_types = _rewrite_member(workbook, "[Content_Types].xml", zipfile.ZipFile(io.BytesIO(workbook)).read(
        "[Content_Types].xml").replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml"))
    response = _upload(app_client, world, "students", macro_types, filename="rows.xlsx")
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert _upload(app_client, world, "students", workbook, filename="rows.csv").status_code == 415
    assert _upload(app_client, world, "students", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
                   filename="old.xls").status_code == 415
    assert _upload(app_client, world, "students", b"a,b\x00c", filename="rows.pdf").status_code == 415


def _traced(call: Callable[[], T]) -> tuple[T, int]:
    """The call's result and the peak of Python memory allocated while it ran."""
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_billion_laughs_workbook_is_refused_quickly(app_client: TestClient, world: World) -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                        for i in range(1, 10))
              + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
    bomb = _rewrite_member(_xlsx(["program_id"], [[1]]), "xl/worksheets/sheet1.xml", laughs.encode())
    # Refused before any entity is expanded: the work is bounded by memory, which load cannot skew.
    response, peak = _traced(lambda: _upload(app_client, world, "students", bomb, filename="laughs.xlsx"))
    assert response.status_code == 422
    assert "entities" in response.json()["detail"]
    assert peak < 20 * 1024 * 1024  # expanded, the entity would be 3 GB


def test_zip_bomb_workbook_is_refused_without_inflating(app_client: TestClient, world: World) -> None:
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             + b" " * (64 * 1024 * 1024) + b"<sheetData/></worksheet>")
    bomb = _rewrite_member(_xlsx(["program_id"], [[1]]), "xl/worksheets/sheet1.xml", sheet)
    assert len(bomb) < 200_000
    response, peak = _traced(lambda: _upload(app_client, world, "students", bomb, filename="bomb.xlsx"))
    assert response.status_code == 413
    assert "compressed suspiciously" in response.json()["detail"]
    assert peak < 20 * 1024 * 1024  # never inflated: the member is 64 MiB


def _sheet_rows(rows: str) -> bytes:
    """A workbook whose first sheet holds exactly these ``<row>`` elements (inline strings)."""
    sheet = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"<sheetData>{rows}</sheetData></worksheet>")
    return _rewrite_member(_xlsx(["program_id"], [[1]]), "xl/worksheets/sheet1.xml", sheet.encode())


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def test_a_cell_in_column_xfd_per_row_is_refused_fast_and_small(app_client: TestClient, world: World) -> None:
    header = "".join(_inline(f"{col}1", name) for col, name in zip("ABC", STUDENT_HEADER, strict=False))
    body = "".join(f'<row r="{r}">{_inline(f"XFD{r}", "x")}</row>' for r in range(2, 5_002))
    wide = _sheet_rows(f'<row r="1">{header}</row>{body}')
    assert len(wide) < 40 * 1024
    response, peak = _traced(lambda: _upload(app_client, world, "students", wide, filename="wide.xlsx",
                                             dry_run=True))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "column XFD" in response.json()["detail"]
    # Memory, not seconds, measures the work (rows padded to column XFD took 650 MiB and 9 s).
    assert peak < 50 * 1024 * 1024


def test_workbook_rows_are_read_to_the_header_width(app_client: TestClient, world: World) -> None:
    program = _program(app_client, world)
    header = "".join(_inline(f"{col}1", name) for col, name in zip("ABC", STUDENT_HEADER, strict=False))
    # A blank (styled) cell far right of the table is no data: the row is read to column C only.
    row = (f'<c r="A2"><v>{program}</v></c>{_inline("B2", "2027001")}{_inline("C2", "张三")}'
           '<c r="XFD2" s="0"/>' f'<c r="XFC2" t="inlineStr"><is><t>  </t></is></c>')
    response = _upload(app_client, world, "students", _sheet_rows(f'<row r="1">{header}</row><row r="2">{row}</row>'),
                       filename="rows.xlsx", dry_run=True)
    assert response.status_code == 200, response.text
    assert (response.json()["rows"], response.json()["valid"]) == (1, 1)
    # A value right of the last named column is refused, naming where it is.
    stray = _sheet_rows(f'<row r="1">{header}</row><row r="2">{row}{_inline("E2", "note")}</row>')
    response = _upload(app_client, world, "students", stray, filename="rows.xlsx", dry_run=True)
    assert response.status_code == 422
    assert "row 2 has a value in column E" in response.json()["detail"]
    # A header of thousands of columns is not an import header.
    many = _sheet_rows('<row r="1">' + "".join(_inline(_letters(i) + "1", f"c{i}")
                                               for i in range(1, 1_100)) + "</row>")
    response = _upload(app_client, world, "students", many, filename="rows.xlsx", dry_run=True)
    assert response.status_code == 413
    assert "more than 1000" in response.json()["detail"]


def _letters(position: int) -> str:
    letters = ""
    while position > 0:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def test_cell_cap_refuses_a_sheet_of_blank_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import tabular

    monkeypatch.setattr(tabular, "MAX_READ_CELLS", 100_000)
    body = "".join(f'<row r="{r}"><c r="XFD{r}" s="0"/></row>' for r in range(2, 20))
    workbook = _sheet_rows(f'<row r="1">{_inline("A1", "program_id")}</row>{body}')
    with pytest.raises(tabular.PayloadTooLarge, match="reaches column XFD"):
        tabular.read_table(workbook, "rows.xlsx", max_rows=100, max_unzipped_bytes=10**7)
    monkeypatch.setattr(tabular, "MAX_CELLS", 10)
    csv_data = _csv(["program_id", "name"], [[1, "a"]] * 6)
    with pytest.raises(tabular.PayloadTooLarge, match="more than 10 cells"):
        tabular.read_table(csv_data, "rows.csv", max_rows=100, max_unzipped_bytes=10**7)


# --------------------------------------------------------------------------- export


def test_export_neutralises_formulas_and_round_trips(app_client: TestClient, world: World) -> None:
    payload = "=cmd|' /C calc'!A0"
    _opening(app_client, world, title=payload, description="@SUM(1+1)")
    response = app_client.get(f"{API}/openings/export", params={"format": "csv"}, headers=world.h("enterprise_b"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="openings.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert (rows[0]["title"], rows[0]["description"]) == ("'" + payload, "'@SUM(1+1)")

    response = app_client.get(f"{API}/openings/export", params={"format": "xlsx"}, headers=world.h("admin"))
    assert response.headers["content-type"] == XLSX_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    title = sheet.cell(row=2, column=2)  # code, title, enterprise, ...: names, never ids
    assert (sheet.cell(row=1, column=2).value, title.value, title.data_type) == ("title", "'" + payload, "s")

    # The export is importable as it stands: the id column is ignored, the neutralising undone.
    again = _upload(app_client, world, "openings", response.content, who="enterprise_a", filename="o.xlsx",
                    dry_run=True, content_type=XLSX_TYPE)
    assert again.status_code == 200, again.text
    assert (again.json()["valid"], again.json()["errors"]) == (1, [])


def test_export_holds_only_rows_the_caller_may_read(app_client: TestClient, world: World) -> None:
    for who, prefix in (("college_a", "A"), ("college_b", "B")):
        program = _program(app_client, world, who)
        data = _csv(STUDENT_HEADER, [[program, f"{prefix}{i}", "学生", "", "", "", "", ""] for i in range(3)])
        assert _upload(app_client, world, "students", data, who=who).status_code == 201

    def numbers(who: str) -> set[str]:
        response = app_client.get(f"{API}/students/export", headers=world.h(who))
        assert response.status_code == 200, response.text
        return {row["student_no"] for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))}

    assert numbers("college_b") == {"B0", "B1", "B2"}
    assert numbers("college_a") == {"A0", "A1", "A2"}
    assert {"A0", "B0"} <= numbers("admin")
    assert app_client.get(f"{API}/students/export", headers=world.h("enterprise_a")).status_code == 403
    assert app_client.get(f"{API}/students/export").status_code == 401
    # The transfer routes come first, yet /students/{id} still resolves.
    assert app_client.get(f"{API}/students/999999", headers=world.h("admin")).status_code == 404


def test_openapi_describes_import_and_export(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    for kind in ("students", "openings", "lecturers", "course-needs"):
        responses = paths[f"{API}/{kind}/import"]["post"]["responses"]
        assert {"200", "201", "401", "403", "413", "415", "422"} <= set(responses)
        assert {"200", "401", "403"} <= set(paths[f"{API}/{kind}/export"]["get"]["responses"])


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from app.commands._db import session_factory
    from app.settings import get_settings
    from tests.conftest import migrate

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHANJIAO_DATABASE_URL", url)
    get_settings.cache_clear()
    session_factory.cache_clear()
    migrate(url)
    yield url
    get_settings.cache_clear()
    session_factory.cache_clear()


def test_cli_import_and_export(cli_db: str, tmp_path: Path) -> None:
    from app.commands import transfer
    from app.commands._db import session_factory

    with session_factory().begin() as session:
        college = College(name="贵州测试职业技术学院", province="贵州", city="贵阳",
                          level=EducationLevel.HIGHER_VOCATIONAL)
        major = Major(code="510205", name="大数据技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
                      category_name="电子与信息大类", class_code="5102", class_name="计算机类")
        session.add_all([college, major])
        session.flush()
        program = Program(college_id=college.id, major_id=major.id, name="大数据技术", term="2027-spring")
        session.add(program)
        session.flush()
        program_id = program.id

    cli = typer.Typer()
    transfer.register(cli)
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(["program_id", "student_no", "name", "grade"],
                         [[program_id, "2027001", "张三", "90"], [program_id, "2027002", "李四", "abc"]],
                         encoding="gb18030"))
    result = runner.invoke(cli, ["import", "students", str(bad)])
    assert result.exit_code == 1, result.output
    assert "grade" in result.output
    assert "nothing was stored" in result.output

    good = tmp_path / "good.xlsx"
    good.write_bytes(_xlsx(["program_id", "student_no", "name", "phone"],
                           [[program_id, 2027001, "张三", "+86 13800138000"], [program_id, 2027002, "李四", None]]))
    result = runner.invoke(cli, ["import", "students", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    with session_factory()() as session:
        assert session.scalar(select(func.count()).select_from(Student)) == 0
    result = runner.invoke(cli, ["import", "students", str(good)])
    assert result.exit_code == 0, result.output
    assert "imported 2" in result.output

    out = tmp_path / "students.csv"
    result = runner.invoke(cli, ["export", "students", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert [(r["student_no"], r["phone"]) for r in rows] == [("2027001", "'+86 13800138000"), ("2027002", "")]
    result = runner.invoke(cli, ["import", "students", str(out), "--dry-run"])
    assert result.exit_code == 1  # the same students again: duplicates, reported per row
    assert result.output.count("already exists") == 2
