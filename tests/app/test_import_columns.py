"""Imports people can read: Chinese headers and aliases (data), names instead of ids, templates,
exports that load back unchanged, update mode (upsert) within the ledger's limits."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Lecturer, Opening, Program, Student
from app.services.columns import column_set, normalise_header, status_labels
from app.services.imports import KINDS
from tests.app.test_import_export import API, XLSX_TYPE, _csv, _opening, _program, _upload, _xlsx
from tests.app.test_import_export import cli_db as cli_db
from tests.conftest import World

ZH_STUDENTS = ["学号", "姓名", "专业", "年级", "手机", "邮箱", "技能", "证书", "成绩", "省份", "城市"]


def _count(session: Session, model: type[Any]) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _students(session: Session, college_id: int) -> dict[str, Student]:
    session.expire_all()
    rows = session.scalars(select(Student).join(Program).where(Program.college_id == college_id))
    return {s.student_no: s for s in rows}


def _export(client: TestClient, world: World, kind: str, who: str, *, lang: str = "zh-CN",
            file_format: str = "xlsx") -> bytes:
    response = client.get(f"{API}/{kind}/export", params={"format": file_format, "lang": lang}, headers=world.h(who))
    assert response.status_code == 200, response.text
    return response.content


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --------------------------------------------------------------------------- the header data


def test_every_kind_has_columns_and_no_header_means_two_things() -> None:
    for name, kind in KINDS.items():
        columns = column_set(name)
        spellings: dict[str, str] = {}
        for column in columns.columns:
            for spelling in (column.field, column.zh, *column.aliases):
                if spelling:
                    other = spellings.setdefault(normalise_header(spelling), column.field)
                    assert other == column.field, f"{name}: {spelling!r} names {other} and {column.field}"
        ids = {"program_id", "enterprise_id", "college_id"}
        assert set(kind.schema.model_fields) - ids <= set(columns.by_field), name
        # Templates never ask for an internal id, and every template column has a Chinese header.
        assert not ids & {c.field for c in columns.template_columns()}
        assert all(c.zh for c in columns.template_columns())


def test_status_words_agree_with_the_web_catalogue() -> None:
    from app.web.i18n import translations

    catalogue = translations("zh_CN")
    assert status_labels("zh_CN") == {s: catalogue.gettext(s) for s in status_labels("en")}


def test_headers_match_ignoring_case_spaces_and_required_marks() -> None:
    students = column_set("students")
    for written in ("学号", " 学号* ", "学号（必填）", "Student Number", "STUDENT_NO", "学生编号", "学\u3000号"):
        assert (column := students.match(written)) is not None and column.field == "student_no", written
    # 年级 is the cohort (the year of enrolment), never the 0-100 grade (成绩).
    assert (students.match("年级"), students.match("成绩")) == (students.by_field["cohort"], students.by_field["grade"])


# --------------------------------------------------------------------------- Chinese headers, names not ids


def test_students_with_chinese_headers_and_a_program_by_code_or_name(
        app_client: TestClient, world: World, session: Session) -> None:
    program = _program(app_client, world)
    data = _xlsx(ZH_STUDENTS, [
        ["2027001", "张三", "510205", "2024级", "13800138000", "a@b.cn", "Python；SQL", "1+X", 88, "贵州省", "贵阳"],
        ["2027002", "李四", "大数据技术", 2025, None, None, None, None, None, "Guizhou", None],
    ])
    response = _upload(app_client, world, "students", data, filename="学生.xlsx", content_type=XLSX_TYPE)
    assert response.status_code == 201, response.text
    assert (response.json()["created"], response.json()["errors"]) == (2, [])
    stored = _students(session, world.college_a.id)
    assert {s.program_id for s in stored.values()} == {program}
    assert (stored["2027001"].skills, stored["2027001"].province, stored["2027002"].province) == (
        ["Python", "SQL"], "贵州", "贵州")
    assert (stored["2027001"].cohort, stored["2027002"].cohort) == (2024, 2025)


def test_bad_rows_are_named_by_the_chinese_header_used(app_client: TestClient, world: World,
                                                       session: Session) -> None:
    _program(app_client, world)
    before = _count(session, Student)
    data = _csv(["学生编号", "姓名", "所学专业", "手机号", "成绩"], [
        ["2027001", "张三", "510205", "13800138000", "90"],
        ["2027002", "李四", "烹饪", "", ""],             # row 3: no such program in the college
        ["2027003", "王五", "510205", "phone?", "101"],  # row 4: two bad cells
    ])
    response = _upload(app_client, world, "students", data)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = {(e["row"], e["column"]): e for e in response.json()["errors"]}
    assert set(errors) == {(3, "所学专业"), (4, "手机号"), (4, "成绩")}
    assert (errors[(3, "所学专业")]["code"], errors[(3, "所学专业")]["params"]["value"]) == ("import_not_found", "烹饪")
    assert errors[(4, "成绩")]["type"] == "less_than_equal"
    assert _count(session, Student) == before

    teacher = _csv(["学号", "姓名", "班主任", "专业"], [["1", "张三", "王老师", "510205"]])
    unknown = _upload(app_client, world, "students", teacher, dry_run=True).json()["errors"]
    assert [(e["row"], e["column"], e["code"]) for e in unknown] == [(1, "班主任", "import_unknown_column")]
    assert "学号" in unknown[0]["params"]["columns"]  # the expected columns, in the file's language
    missing = _upload(app_client, world, "students", _csv(["学号", "姓名"], [["1", "张三"]]), dry_run=True).json()
    assert [(e["column"], e["code"]) for e in missing["errors"]] == [("专业", "import_missing_column")]


def test_a_program_named_ambiguously_asks_for_the_column_that_chooses(
        app_client: TestClient, world: World, session: Session) -> None:
    _program(app_client, world)
    autumn = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                      "term": "2027-autumn"}, headers=world.h("college_a"))
    assert autumn.status_code == 201, autumn.text
    rows = [["2027001", "张三", "大数据技术"]]
    errors = _upload(app_client, world, "students", _csv(["学号", "姓名", "专业"], rows), dry_run=True).json()["errors"]
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [(2, "专业", "import_ambiguous")]
    assert errors[0]["params"]["hint"] == "专业学期" and "2027-autumn" in errors[0]["message"]
    chosen = _upload(app_client, world, "students", _csv(["学号", "姓名", "专业", "专业学期"],
                                                         [["2027001", "张三", "大数据技术", "2027-autumn"]]))
    assert chosen.status_code == 201, chosen.text
    assert _students(session, world.college_a.id)["2027001"].program_id == autumn.json()["id"]
    # Another college's program is never found by name, and another college is refused by name.
    other = _upload(app_client, world, "students", _csv(["学号", "姓名", "专业"], rows), who="college_b", dry_run=True)
    assert [e["code"] for e in other.json()["errors"]] == ["import_not_found"]
    foreign = _upload(app_client, world, "students", _csv(["学号", "姓名", "专业", "学校"],
                                                          [["9", "赵六", "510205", world.college_a.name]]),
                      who="college_b", dry_run=True)
    assert [(e["column"], e["code"]) for e in foreign.json()["errors"]] == [("学校", "import_not_own")]


def test_openings_by_chinese_headers_for_hr_without_an_enterprise_column(
        app_client: TestClient, world: World, session: Session) -> None:
    header = ["岗位编号", "岗位名称", "名额", "技能要求", "职业代码", "省份", "城市", "学期", "学历层次"]
    data = _csv(header, [["GY-01", "大数据运维实习生", "3", "Linux;Python", "4-04-05-01", "贵州", "贵阳", "2027-spring",
                          "高职专科"]])
    response = _upload(app_client, world, "openings", data, who="enterprise_a")
    assert response.status_code == 201, response.text
    session.expire_all()
    opening = session.scalars(select(Opening).where(Opening.code == "GY-01")).one()
    assert (opening.enterprise_id, opening.seats, opening.required_skills) == (world.enterprise_a.id, 3,
                                                                               ["Linux", "Python"])
    # The same code again is refused in create mode, naming the column.
    again = _upload(app_client, world, "openings", data, who="enterprise_a", dry_run=True).json()["errors"]
    assert [(e["row"], e["column"], e["code"]) for e in again] == [(2, "岗位编号", "import_exists")]
    # An admin names the enterprise; HR may not name another one.
    other = _csv(["企业", *header], [[world.enterprise_a.name, "GY-02", "实习生", "1", "", "", "贵州", "贵阳",
                                      "2027-spring", ""]])
    assert _upload(app_client, world, "openings", other, who="admin").status_code == 201
    refused = _upload(app_client, world, "openings", other, who="enterprise_b", dry_run=True).json()["errors"]
    assert [(e["column"], e["code"]) for e in refused] == [("企业", "import_not_own")]


# --------------------------------------------------------------------------- templates


@pytest.mark.parametrize("kind", list(KINDS))
def test_templates_in_both_languages_and_formats(app_client: TestClient, world: World, kind: str) -> None:
    response = app_client.get(f"{API}/{kind}/import/template", params={"format": "xlsx", "lang": "zh-CN"},
                              headers=world.h("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{kind}-template.xlsx"'
    [header] = _xlsx_rows(response.content)
    assert header == [c.zh for c in column_set(kind).template_columns()]
    response = app_client.get(f"{API}/{kind}/import/template", params={"format": "csv", "lang": "en"},
                              headers=world.h("admin"))
    assert response.content.decode("utf-8-sig").strip().split(",") == [
        c.field for c in column_set(kind).template_columns()]
    assert app_client.get(f"{API}/{kind}/import/template").status_code == 401


# --------------------------------------------------------------------------- round trips


def _seed_every_kind(client: TestClient, world: World) -> None:
    _program(client, world)
    first = _opening(client, world, code="GY-01", required_skills=["Linux", "Python"], eligible_levels=["高职专科"],
                     period_start="2027-03-01", occupation_code="4-04-05-01")
    _opening(client, world, code="GY-02", title="数据标注实习生", description="=1+1")
    students = _csv(["学号", "姓名", "专业", "年级", "手机", "技能", "成绩", "志愿"], [
        ["2027001", "张三", "510205", "2024级", "+86 138", "Python;SQL", "88.5",
         f"{world.enterprise_a.name}/GY-02;GY-01"],
        ["2027002", "李四", "510205", "", "", "", "", ""]])
    assert _upload(client, world, "students", students).status_code == 201
    lecturers = _csv(["姓名", "每周最多课时", "可授课时段", "可授课城市"], [["陈工", "6", "tue1;thu3", "贵阳;遵义"]])
    assert _upload(client, world, "lecturers", lecturers, who="enterprise_a").status_code == 201
    needs = _csv(["课程名称", "专业", "每周课时", "学期", "专业课"],
                 [["Spark 大数据分析", "大数据技术", "4", "2027-spring", "否"]])
    assert _upload(client, world, "course-needs", needs).status_code == 201
    assert first


@pytest.mark.parametrize(("kind", "who"), [("students", "college_a"), ("openings", "enterprise_a"),
                                           ("lecturers", "enterprise_a"), ("course-needs", "college_a"),
                                           ("programs", "college_a"), ("enterprises", "admin"), ("colleges", "admin")])
@pytest.mark.parametrize(("lang", "file_format"), [("zh-CN", "xlsx"), ("en", "csv")])
def test_an_unchanged_export_imports_back_without_errors(app_client: TestClient, world: World, session: Session,
                                                         kind: str, who: str, lang: str, file_format: str) -> None:
    _seed_every_kind(app_client, world)
    exported = _export(app_client, world, kind, who, lang=lang, file_format=file_format)
    if lang == "zh-CN":
        assert _xlsx_rows(exported)[0] == column_set(kind).headers("zh_CN")
    before = {model: _count(session, model) for model in (Student, Opening, Lecturer, Program)}
    filename = f"export.{file_format}"
    response = app_client.post(f"{API}/{kind}/import", params={"mode": "upsert"},
                               files={"file": (filename, exported, "application/octet-stream")}, headers=world.h(who))
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["errors"], report["created"], report["updated"]) == ([], 0, 0)
    assert report["unchanged"] == report["rows"] > 0
    assert {model: _count(session, model) for model in before} == before
    assert _export(app_client, world, kind, who, lang=lang, file_format=file_format) == exported or \
        file_format == "xlsx"  # a workbook's zip carries timestamps; its cells are compared below
    if file_format == "xlsx":
        assert _xlsx_rows(_export(app_client, world, kind, who, lang=lang)) == _xlsx_rows(exported)


def test_exports_in_chinese_name_things_and_stay_in_the_tenancy(app_client: TestClient, world: World) -> None:
    _seed_every_kind(app_client, world)
    rows = _xlsx_rows(_export(app_client, world, "students", "college_a"))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert (record["学号"], record["专业"], record["专业代码"], record["学校"]) == (
        "2027001", "大数据技术", "510205", world.college_a.name)
    assert record["志愿"] == f"{world.enterprise_a.name}/GY-02;{world.enterprise_a.name}/GY-01"
    assert len(_xlsx_rows(_export(app_client, world, "students", "college_b"))) == 1  # the header alone
    needs = _xlsx_rows(_export(app_client, world, "course-needs", "college_a"))
    assert dict(zip(needs[0], needs[1], strict=True))["专业课"] == "否"
    lecturers = _xlsx_rows(_export(app_client, world, "lecturers", "enterprise_b"))
    assert len(lecturers) == 1  # lecturers are private to their enterprise


# --------------------------------------------------------------------------- update mode


def test_upsert_updates_by_student_number_creates_the_rest_and_deletes_nothing(
        app_client: TestClient, world: World, session: Session) -> None:
    _seed_every_kind(app_client, world)
    data = _csv(["学号", "姓名", "专业", "手机"], [["2027001", "张三", "510205", "13900000000"],
                                                ["2027003", "王五", "510205", ""]])
    response = app_client.post(
        f"{API}/students/import", params={"mode": "upsert"}, files={"file": ("s.csv", data, "text/csv")},
        headers=world.h("college_a"))
    assert response.status_code == 201, response.text
    assert {k: response.json()[k] for k in ("created", "updated", "unchanged")} == {
        "created": 1, "updated": 1, "unchanged": 0}
    stored = _students(session, world.college_a.id)
    assert set(stored) == {"2027001", "2027002", "2027003"}
    # Only the filled columns changed: the skills and grade the file left out are kept.
    assert (stored["2027001"].phone, stored["2027001"].skills, stored["2027001"].grade) == (
        "13900000000", ["Python", "SQL"], 88.5)
    # Create mode refuses the existing number, naming the column the file used.
    again = _upload(app_client, world, "students", data, dry_run=True).json()["errors"]
    assert {(e["row"], e["column"], e["code"]) for e in again} == {(2, "学号", "import_exists"),
                                                                   (3, "学号", "import_exists")}


def test_upsert_refuses_seats_below_live_placements_and_stores_nothing(
        app_client: TestClient, world: World, session: Session) -> None:
    _seed_every_kind(app_client, world)
    opening = session.scalars(select(Opening).where(Opening.code == "GY-01")).one()
    opening.filled_seats = 3  # three accepted placements hold seats (what the ledger keeps)
    session.commit()
    data = _csv(["岗位编号", "岗位名称", "人数", "省份", "城市", "学期"], [
        ["GY-02", "数据标注实习生（新）", "5", "贵州", "贵阳", "2027-spring"],
        ["GY-01", "大数据运维实习生", "2", "贵州", "贵阳", "2027-spring"]])
    response = app_client.post(f"{API}/openings/import", params={"mode": "upsert"},
                               files={"file": ("o.csv", data, "text/csv")}, headers=world.h("enterprise_a"))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["row"], error["column"], error["code"], error["params"]["filled_seats"]) == (
        3, "人数", "seats_below_filled", 3)
    session.expire_all()
    assert session.scalars(select(Opening.title).where(Opening.code == "GY-02")).one() == "数据标注实习生"
    assert session.scalars(select(Opening.seats).where(Opening.code == "GY-01")).one() == 5
    # Without a code, update mode cannot find an opening: the row is refused, not duplicated.
    nameless = _csv(["岗位名称", "人数", "省份", "城市", "学期"], [["实习生", "1", "贵州", "贵阳", "2027-spring"]])
    errors = app_client.post(f"{API}/openings/import", params={"mode": "upsert", "dry_run": "true"},
                             files={"file": ("o.csv", nameless, "text/csv")}, headers=world.h("enterprise_a"))
    assert [(e["column"], e["code"]) for e in errors.json()["errors"]] == [("岗位编号", "import_key_missing")]


def test_upsert_of_lecturers_finds_them_by_name_within_the_enterprise(
        app_client: TestClient, world: World, session: Session) -> None:
    _seed_every_kind(app_client, world)
    data = _csv(["姓名", "职称", "每周最多课时"], [["陈工", "高级工程师", "8"], ["刘工", "", "4"]])
    response = app_client.post(f"{API}/lecturers/import", params={"mode": "upsert"},
                               files={"file": ("l.csv", data, "text/csv")}, headers=world.h("enterprise_a"))
    assert response.status_code == 201, response.text
    assert (response.json()["created"], response.json()["updated"]) == (1, 1)
    session.expire_all()
    titles = dict(session.execute(select(Lecturer.name, Lecturer.title)).all())
    assert titles == {"陈工": "高级工程师", "刘工": ""}


def test_cli_templates_in_both_languages(tmp_path: Any) -> None:
    import typer
    from typer.testing import CliRunner

    from app.commands import transfer

    cli = typer.Typer()
    transfer.register(cli)
    out = tmp_path / "students.xlsx"
    result = CliRunner().invoke(cli, ["template", "students", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _xlsx_rows(out.read_bytes()) == [column_set("students").headers("zh_CN")]
    out_csv = tmp_path / "openings.csv"
    result = CliRunner().invoke(cli, ["template", "openings", "--out", str(out_csv), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert next(csv.reader(io.StringIO(out_csv.read_bytes().decode("utf-8-sig"))))[:2] == ["code", "title"]


def test_cli_imports_chinese_files_in_update_mode_and_exports_placements(cli_db: str, tmp_path: Any) -> None:
    import typer
    from typer.testing import CliRunner

    from app.commands import transfer
    from app.commands._db import session_factory
    from app.db.models import College, EducationLevel, Major

    with session_factory().begin() as session:
        college = College(name="贵州测试职业技术学院", province="贵州", city="贵阳",
                          level=EducationLevel.HIGHER_VOCATIONAL)
        major = Major(code="510205", name="大数据技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
                      category_name="电子与信息大类", class_code="5102", class_name="计算机类")
        session.add_all([college, major])
        session.flush()
        session.add(Program(college_id=college.id, major_id=major.id, name="大数据技术", term="2027-spring"))
    cli = typer.Typer()
    transfer.register(cli)
    runner = CliRunner()
    header = ["学号", "姓名", "学校", "专业", "手机", "成绩"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(header, [["2027001", "张三", "贵州测试职业技术学院", "510205", "", "90"],
                                  ["2027002", "李四", "贵州测试职业技术学院", "大数据技术", "", "abc"]]))
    result = runner.invoke(cli, ["import", "students", str(bad)])
    assert result.exit_code == 1 and "nothing was stored" in result.output
    assert "│   3 │ 成绩" in result.output  # the row and the column as the file named it
    good = tmp_path / "good.csv"
    good.write_bytes(_csv(header, [["2027001", "张三", "贵州测试职业技术学院", "510205", "", "90"]]))
    assert runner.invoke(cli, ["import", "students", str(good)]).exit_code == 0
    good.write_bytes(_csv(header, [["2027001", "张三", "贵州测试职业技术学院", "510205", "13800138000", "90"],
                                   ["2027002", "李四", "贵州测试职业技术学院", "510205", "", "80"]]))
    result = runner.invoke(cli, ["import", "students", str(good), "--mode", "upsert"])
    assert result.exit_code == 0, result.output
    assert "imported 1 row(s), updated 1, unchanged 0" in result.output
    out = tmp_path / "placements.xlsx"
    result = runner.invoke(cli, ["export", "placements", "--format", "xlsx", "--out", str(out), "--lang", "zh-CN"])
    assert result.exit_code == 0, result.output
    assert _xlsx_rows(out.read_bytes())[0][:4] == ["学号", "姓名", "学校", "专业"]
