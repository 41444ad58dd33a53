"""``chanjiao partnerships import/export``: a round trip, and a bad file that stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import _register_commands, cli
from app.commands import _db
from app.db.engine import make_engine, make_session_factory
from app.db.models import College, EducationLevel, Enterprise, Major, Partnership, PartnershipStatus, Program
from app.settings import get_settings
from tests.conftest import migrate


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, int]]]:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    migrate(url)
    with make_session_factory(make_engine(url)).begin() as session:
        major = Major(code="510205", name="大数据技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
                      category_name="电子与信息大类", class_code="5102", class_name="计算机类")
        college = College(name="贵州电子信息职业技术学院", province="贵州", city="贵阳",
                          level=EducationLevel.HIGHER_VOCATIONAL)
        enterprise = Enterprise(name="贵州大数据集团", province="贵州", city="贵阳", staff_count=500)
        session.add_all([major, college, enterprise])
        session.flush()
        program = Program(college_id=college.id, major_id=major.id, name="大数据技术", term="2027-spring")
        session.add(program)
        session.flush()
        ids = {"college": college.id, "enterprise": enterprise.id, "program": program.id}
    monkeypatch.setenv("CHANJIAO_DATABASE_URL", url)
    get_settings.cache_clear()
    _db.session_factory.cache_clear()
    _register_commands()
    yield url, ids
    get_settings.cache_clear()
    _db.session_factory.cache_clear()


def _count(url: str) -> int:
    with make_session_factory(make_engine(url))() as session:
        return int(session.scalar(select(func.count()).select_from(Partnership)) or 0)


def test_import_export_round_trip(db: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    url, ids = db
    document = {
        "alliances": [{"name": "贵阳大数据产教联合体", "kind": "city_alliance", "college_ids": [ids["college"]],
                       "enterprise_ids": [ids["enterprise"]]}],
        "partnerships": [{"name": "大数据产业学院", "college_id": ids["college"], "enterprise_id": ids["enterprise"],
                          "program_ids": [ids["program"]], "forms": ["industry_college", "order_class"],
                          "status": "active", "terms": [{"term": "2027-spring", "reserved_seats": 20,
                                                         "lecturer_hours": 12}]}],
    }
    source = tmp_path / "in.json"
    source.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    dry = runner.invoke(cli, ["partnerships", "import", str(source), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert _count(url) == 0
    result = runner.invoke(cli, ["partnerships", "import", str(source)])
    assert result.exit_code == 0, result.output
    assert "1 alliance(s) and 1 partnership(s)" in result.output
    with make_session_factory(make_engine(url))() as session:
        row = session.scalars(select(Partnership)).one()
        assert row.status is PartnershipStatus.ACTIVE and row.terms[0].reserved_seats == 20
    out = tmp_path / "out.json"
    exported = runner.invoke(cli, ["partnerships", "export", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    back = json.loads(out.read_text(encoding="utf-8"))
    assert back["alliances"][0]["name"] == "贵阳大数据产教联合体"
    assert back["partnerships"][0]["status"] == "active"
    assert back["partnerships"][0]["terms"] == [{"term": "2027-spring", "reserved_seats": 20, "lecturer_hours": 12,
                                                 "training_places": 0}]


def test_bad_rows_are_named_and_nothing_is_stored(db: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    url, ids = db
    good = {"name": "订单班", "college_id": ids["college"], "enterprise_id": ids["enterprise"],
            "program_ids": [ids["program"]], "forms": ["order_class"]}
    document = {"partnerships": [good, {**good, "forms": ["friendship"]}, {**good, "program_ids": [999]},
                                 {**good, "status": "married"}]}
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["partnerships", "import", str(source)])
    assert result.exit_code == 1
    assert "partnerships[1].forms.0" in result.output
    assert "partnerships[2].program_ids.0: program 999 does not exist" in result.output
    assert "partnerships[3].status" in result.output
    assert "nothing was stored" in result.output
    assert _count(url) == 0
    (tmp_path / "x.json").write_text("{", encoding="utf-8")
    assert CliRunner().invoke(cli, ["partnerships", "import", str(tmp_path / "x.json")]).exit_code == 1
