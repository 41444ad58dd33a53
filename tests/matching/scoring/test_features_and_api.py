from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.domain import CourseNeedProfile, LecturerProfile, PlacementOutcome
from matching.scoring import (
    PROGRAM_OPENING_FEATURES,
    STUDENT_OPENING_FEATURES,
    Matches,
    Pairing,
    PlacementHistory,
    Scored,
    Unscorable,
    prior_model,
    score_lecturers_for_course,
    score_openings_for_program,
    score_programs_for_opening,
    score_students_for_opening,
)
from matching.scoring.features import (
    catalogue_relation,
    geo_values,
    grade_value,
    occupation_group,
    program_opening_row,
    share_covered,
    student_opening_row,
)
from tests.matching.scoring.factories import opening, program, random_world, student


def feats(row: np.ndarray, names: tuple[str, ...] = PROGRAM_OPENING_FEATURES) -> dict[str, float]:
    return dict(zip(names, row.tolist(), strict=True))


def test_catalogue_relation_levels() -> None:
    assert catalogue_relation("510206", "5102", "51", ("510206",)) == 3
    assert catalogue_relation("510205", "5102", "51", ("510206",)) == 2
    assert catalogue_relation("510102", "5101", "51", ("510206",)) == 1
    assert catalogue_relation("520201", "5202", "52", ("510206",)) == 0
    assert catalogue_relation("510206", "5102", "51", ()) == 0


def test_occupation_groups_of_several_catalogues() -> None:
    assert occupation_group("4-04-05-01") == "4-04-05"
    assert occupation_group("15-1252.00") == "15-1252"
    assert occupation_group("2511.14") == "2511"
    assert occupation_group("") == ""


def test_geo_is_one_hot() -> None:
    assert geo_values("杭州", "浙江", "杭州", "浙江") == (1.0, 0.0)
    assert geo_values("宁波", "浙江", "杭州", "浙江") == (0.0, 1.0)
    assert geo_values("南京", "江苏", "杭州", "浙江") == (0.0, 0.0)
    assert geo_values("", "", "杭州", "浙江") == (0.0, 0.0)


def test_grade_and_skill_overlap() -> None:
    assert grade_value(None) == 0.0
    assert grade_value(100) == 1.0
    assert grade_value(0) == -1.0
    assert share_covered(["linux", "ＤＯＣＫＥＲ"], ["Linux", "Docker", "K8s", "linux"]) == pytest.approx(2 / 3)
    assert share_covered(["x"], []) == 0.0


def test_program_opening_row_features() -> None:
    f = feats(program_opening_row(program(), opening(), 0.4, cooperation={("e1", "c1"): 20}))
    assert f["text_similarity"] == 0.4
    assert f["target_major"] == 1.0
    assert f["same_major_class"] == 0.0
    assert f["same_city"] == 1.0
    assert f["same_province"] == 0.0
    assert f["past_cooperation"] == 1.0
    assert f["level_ineligible"] == 0.0
    g = feats(program_opening_row(program(level="职业本科", major="510205"), opening(city="宁波"), 0.1))
    assert g["level_ineligible"] == 1.0
    assert g["same_major_class"] == 1.0
    assert g["same_province"] == 1.0


def test_history_feature_counts_outcomes_of_the_major_class_in_the_occupation_group() -> None:
    outcomes = [PlacementOutcome(f"s{i}", "o1", completed=True, rating=5) for i in range(10)]
    hist = PlacementHistory.from_outcomes(outcomes, {f"s{i}": "5102" for i in range(10)}, {"o1": "4-04-05-01"})
    amount, success = hist.features("5102", "4-04-05-03")  # same 小类, other 细类
    assert 0.0 < amount < 1.0
    assert success > 0.5
    assert hist.features("5101", "4-04-05-03") == (0.0, 0.0)
    bad = [PlacementOutcome(f"s{i}", "o1", completed=False) for i in range(10)]
    hist_bad = PlacementHistory.from_outcomes(bad, {f"s{i}": "5102" for i in range(10)}, {"o1": "4-04-05-01"})
    assert hist_bad.features("5102", "4-04-05-01")[1] < 0.0
    # leave-one-out removes the row's own outcome
    one = PlacementHistory.from_outcomes(outcomes[:1], {"s0": "5102"}, {"o1": "4-04-05-01"})
    assert one.features("5102", "4-04-05-01", exclude=outcomes[0]) == (0.0, 0.0)


def test_student_row_features() -> None:
    s = student(skills=("linux", "docker"), certificates=("Kubernetes",), preferences={"o1": 2}, grade=100.0)
    f = feats(student_opening_row(s, program(), opening(), 0.3), STUDENT_OPENING_FEATURES)
    assert f["skill_overlap"] == 1.0
    assert f["preference"] == 0.5
    assert f["grade"] == 1.0


def test_openings_for_program_are_ranked_and_explained() -> None:
    ops = [
        opening("cloud"),
        opening(
            "iot",
            title="物联网设备调试",
            description="传感器 嵌入式 设备联网调试",
            required_skills=("C语言",),
            eligible_major_codes=("510102",),
            city="南京",
            province="江苏",
        ),
    ]
    out = score_openings_for_program(program(), ops)
    assert isinstance(out, Matches)
    assert [s.id for s in out.scored] == ["cloud", "iot"]
    top = out.scored[0]
    assert {c.feature for c in top.contributions} >= {"text_similarity", "target_major", "same_city"}
    assert top.logit == pytest.approx(top.intercept + sum(c.contribution for c in top.contributions), abs=1e-9)
    assert top.score == pytest.approx(1.0 / (1.0 + np.exp(-top.logit)))
    sizes = [abs(c.contribution) for c in top.contributions]
    assert sizes == sorted(sizes, reverse=True)


def test_programs_for_opening_prefer_the_target_major() -> None:
    progs = [
        program("cloud"),
        program("nurse", "520201", description="病人护理 护理记录", core_courses=("基础护理",), skills=("护理",)),
    ]
    out = score_programs_for_opening(opening(), progs)
    assert isinstance(out, Matches)
    assert out.scored[0].id == "cloud"


def test_too_little_data_gives_a_reason_not_a_score() -> None:
    bare_opening = opening("bare", description="", required_skills=(), occupation_text="")
    bare_program = program("bare", description="", core_courses=(), skills=())
    out = score_openings_for_program(program(), [opening(), bare_opening])
    assert isinstance(out, Matches)
    assert [s.id for s in out.scored] == ["o1"]
    assert out.unscorable == (Unscorable("bare", out.unscorable[0].reason),)
    assert "too little" in out.unscorable[0].reason
    subject = score_openings_for_program(bare_program, [opening()])
    assert isinstance(subject, Unscorable)
    assert "no description" in subject.reason
    lazy = student("lazy", skills=(), grade=None)
    res = score_students_for_opening(opening(), [student(), lazy], {"p1": program()})
    assert isinstance(res, Matches)
    assert [u.id for u in res.unscorable] == ["lazy"]
    orphan = score_students_for_opening(opening(), [student("x", "nope")], {})
    assert isinstance(orphan, Matches)
    assert "unknown" in orphan.unscorable[0].reason


def test_students_for_opening_use_skills_and_preferences() -> None:
    a = student("a", skills=("Linux", "Docker", "Kubernetes"), preferences={"o1": 1})
    b = student("b", skills=("Excel",))
    out = score_students_for_opening(opening(), [b, a], {"p1": program()})
    assert isinstance(out, Matches)
    assert [s.id for s in out.scored] == ["a", "b"]
    feats_a = {c.feature for c in out.scored[0].contributions}
    assert {"skill_overlap", "preference"} <= feats_a


def test_lecturers_for_course() -> None:
    course = CourseNeedProfile(
        "k1",
        "p1",
        "c1",
        "云计算平台运维",
        topics=("OpenStack", "容器编排"),
        weekly_hours=4,
        slots=("mon-1", "wed-3"),
        city="杭州",
    )
    good = LecturerProfile(
        "good",
        "e1",
        expertise="十年云平台运维与容器编排经验",
        topics=("OpenStack", "容器编排"),
        available_slots=("mon-1", "wed-3"),
        cities=("杭州",),
    )
    other = LecturerProfile("other", "e2", expertise="会计师，擅长财务报表", topics=("财务",), cities=("南京",))
    empty = LecturerProfile("empty", "e3")
    out = score_lecturers_for_course(course, [other, good, empty], cooperation={("e1", "c1"): 3})
    assert isinstance(out, Matches)
    assert [s.id for s in out.scored] == ["good", "other"]
    assert [u.id for u in out.unscorable] == ["empty"]
    names = {c.feature for c in out.scored[0].contributions}
    assert {"expertise_similarity", "topic_overlap", "slot_overlap", "same_city", "past_cooperation"} <= names
    no_topics = score_lecturers_for_course(CourseNeedProfile("k2", "p1", "c1", "课"), [good])
    assert isinstance(no_topics, Unscorable)


def test_a_model_of_the_wrong_pairing_is_refused() -> None:
    with pytest.raises(ValueError, match="not the program_opening features"):
        score_openings_for_program(program(), [opening()], model=prior_model(Pairing.STUDENT_OPENING))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_every_score_is_a_probability_and_the_sum_of_its_contributions(seed: int) -> None:
    progs, opens, studs = random_world(seed, n_openings=8, n_students=10)
    for p in progs[:2]:
        out = score_openings_for_program(p, opens, cooperation={("e1", p.college_id): 4})
        assert isinstance(out, Matches)
        _check(out.scored)
    res = score_students_for_opening(opens[0], studs, {p.id: p for p in progs})
    assert isinstance(res, Matches)
    _check(res.scored)


def _check(items: tuple[Scored, ...]) -> None:
    for s in items:
        assert 0.0 <= s.score <= 1.0
        assert abs(s.logit - (s.intercept + sum(c.contribution for c in s.contributions))) < 1e-9
    assert [s.score for s in items] == sorted((s.score for s in items), reverse=True)
