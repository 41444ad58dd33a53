"""Reference catalogue loading and the demo data set (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.db.models import (
    Actor,
    College,
    CourseNeed,
    EducationLevel,
    Enterprise,
    Lecturer,
    Major,
    Occupation,
    Opening,
    Placement,
    Program,
    Role,
    Student,
    StudentPreference,
)
from app.services import demo_data
from app.services.catalog import load_catalog
from app.services.demo import DemoAlreadySeeded, content_digest, demo_actors, seed_demo


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_catalog_load_is_idempotent_and_complete(session: Session) -> None:
    first = load_catalog(session)
    assert first.majors.inserted == 1572  # 1,570 scraped + 2 from the official catalogue addendum
    assert first.occupations.inserted > 2000
    counts = (_count(session, Major), _count(session, Occupation))

    second = load_catalog(session)
    assert (second.majors.inserted, second.majors.updated) == (0, 0)
    assert (second.occupations.inserted, second.occupations.updated) == (0, 0)
    assert second.majors.unchanged == first.majors.total
    assert (_count(session, Major), _count(session, Occupation)) == counts

    cloud = session.scalars(select(Major).where(Major.code == "510206")).one()
    assert (cloud.name, cloud.level, cloud.class_code, cloud.class_name) == (
        "云计算技术应用", EducationLevel.HIGHER_VOCATIONAL, "5102", "计算机类")
    assert session.scalar(
        select(func.count()).select_from(Major).where(Major.level == EducationLevel.VOCATIONAL_BACHELOR)
    ) == 212
    programmer = session.get(Occupation, "4-04-05-01")
    assert programmer is not None
    assert (programmer.level, programmer.name, programmer.is_digital) == (4, "计算机程序设计员", True)
    assert "程序设计" in programmer.definition
    assert programmer.tasks
    assert {lvl for (lvl,) in session.execute(select(Occupation.level).distinct())} == {1, 2, 3, 4}

    # A changed name in the database is put back by the next load: an update, not a new row.
    session.execute(update(Major).where(Major.code == "510205").values(name="旧名"))
    third = load_catalog(session)
    assert (third.majors.inserted, third.majors.updated) == (0, 1)
    assert session.scalars(select(Major.name).where(Major.code == "510205")).one() == "大数据技术"


def _check_contents(session: Session) -> None:
    assert _count(session, College) == 12
    assert {p for (p,) in session.execute(select(College.province).distinct())} == {"贵州", "辽宁"}
    assert 35 <= _count(session, Program) <= 50
    assert 55 <= _count(session, Enterprise) <= 65
    assert 2700 <= _count(session, Student) <= 3300
    assert _count(session, Lecturer) == 80
    assert 130 <= _count(session, CourseNeed) <= 170

    # Programs come from the real catalogue, including the three the product story needs.
    codes = {c for (c,) in session.execute(select(Major.code).join(Program, Program.major_id == Major.id))}
    assert set(demo_data.REQUIRED_MAJOR_CODES) <= codes
    classes = {c for (c,) in session.execute(select(Major.class_name).join(Program, Program.major_id == Major.id))}
    assert {"计算机类", "电子信息类", "自动化类", "机械设计制造类", "财务会计类", "电子商务类", "物流类",
            "护理类", "旅游类", "建筑设计类"} <= classes
    descriptions = [d for (d,) in session.execute(select(Program.description))]
    assert len(set(descriptions)) == len(descriptions)

    # Openings of the coming term carry real 细类 occupation codes.
    current = select(Opening).where(Opening.term == demo_data.TERM)
    openings = list(session.scalars(current))
    assert 330 <= len(openings) <= 470
    assert all(1 <= o.seats <= 10 for o in openings)
    level_of = dict(session.execute(select(Occupation.code, Occupation.level)).all())
    assert all(level_of[o.occupation_code] == 4 for o in openings if o.occupation_code)

    # Every student ranks 3-8 openings of the coming term, ranks 1..k without gaps.
    ranks: dict[int, list[int]] = defaultdict(list)
    for student_id, rank in session.execute(select(StudentPreference.student_id, StudentPreference.rank)):
        ranks[student_id].append(rank)
    assert len(ranks) == _count(session, Student)
    assert all(sorted(r) == list(range(1, len(r) + 1)) and 3 <= len(r) <= 8 for r in ranks.values())

    # History: past terms, no run, outcomes of both kinds, ratings in range.
    history = session.execute(
        select(Placement.term, Placement.completed, Placement.rating).where(Placement.run_id.is_(None))
    ).all()
    assert len(history) > 1000
    assert {t for t, _, _ in history} == set(demo_data.HISTORY_TERMS)
    assert {c for _, c, _ in history} == {True, False}
    assert {r for _, _, r in history} <= {1, 2, 3, 4, 5}

    roles = sorted(a.role.value for a in demo_actors(session))
    assert roles == sorted(["admin", "scheduler", "placement_office", "placement_office",
                            "enterprise_hr", "enterprise_hr"])
    assert session.scalars(select(Actor).where(Actor.role == Role.SCHEDULER)).one().scope == {}


def _completion_by_major_fit(session: Session) -> tuple[float, float]:
    """Completion rate of past internships with and without a major of the right 专业类."""
    industry_classes = {i.industry: set() for i in demo_data.INDUSTRIES}
    for i in demo_data.INDUSTRIES:
        industry_classes[i.industry].update(i.classes)
    rows = session.execute(
        select(Placement.completed, Major.class_name, Enterprise.industry)
        .join(Student, Student.id == Placement.student_id)
        .join(Program, Program.id == Student.program_id)
        .join(Major, Major.id == Program.major_id)
        .join(Opening, Opening.id == Placement.opening_id)
        .join(Enterprise, Enterprise.id == Opening.enterprise_id)
        .where(Placement.run_id.is_(None))
    ).all()
    fit = [c for c, cls, ind in rows if cls in industry_classes[ind]]
    misfit = [c for c, cls, ind in rows if cls not in industry_classes[ind]]
    return sum(fit) / len(fit), sum(misfit) / len(misfit)


@pytest.mark.slow
def test_demo_seed_is_realistic_and_deterministic(session: Session) -> None:
    savepoint = session.begin_nested()
    summary = seed_demo(session, seed=7)
    assert not summary.skipped
    assert summary.counts["students"] > 0
    _check_contents(session)
    fit, misfit = _completion_by_major_fit(session)
    assert fit > misfit + 0.1  # the hidden fit shows in the outcomes
    first = content_digest(session)
    savepoint.rollback()
    assert _count(session, College) == 0

    seed_demo(session, seed=7)
    assert content_digest(session) == first

    assert seed_demo(session, seed=7, if_empty=True).skipped
    with pytest.raises(DemoAlreadySeeded):
        seed_demo(session, seed=7)


@pytest.mark.slow
def test_demo_commands_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import _register_commands, cli
    from app.commands import _db
    from app.settings import get_settings
    from tests.conftest import migrate

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    monkeypatch.setenv("CHANJIAO_DATABASE_URL", url)
    get_settings.cache_clear()
    _db.session_factory.cache_clear()
    try:
        _register_commands()
        runner = CliRunner()
        for args in (["catalog", "load"], ["catalog", "load"], ["demo", "seed", "--seed", "3"],
                     ["demo", "seed", "--if-empty"]):
            result = runner.invoke(cli, args)
            assert result.exit_code == 0, result.output
        assert "skipped" in result.output
        again = runner.invoke(cli, ["demo", "seed"])
        assert again.exit_code == 1

        result = runner.invoke(cli, ["demo", "keys"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert result.output.count("cj_") == 6
        assert "placement_office" in result.output
        assert "enterprise_hr" in result.output
    finally:
        _db.session_factory().kw["bind"].dispose()
        get_settings.cache_clear()
        _db.session_factory.cache_clear()
