"""2027年春季学期, Spring 2027 and 2027-spring name one term on every input path, so a run's scope
finds the openings and programs however each was written; other terms are kept as written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.terms import normalise_term
from app.web.core import term_label
from tests.conftest import World

API = "/api/v1"


@pytest.mark.parametrize(("written", "stored"), [
    ("2027年春季学期", "2027-spring"), ("2027春季", "2027-spring"), ("2027 年 春", "2027-spring"),
    ("Spring 2027", "2027-spring"), ("2027-Spring", "2027-spring"), (" 2027_spring ", "2027-spring"),
    ("2026年秋季学期", "2026-fall"), ("2026-Autumn", "2026-autumn"), ("Autumn term 2026", "2026-autumn"),
    ("2027夏季", "2027-summer"), ("2028年冬季学期", "2028-winter"),
    ("T1", "T1"), ("2027年春季学期补", "2027年春季学期补"), ("spring", "spring")])
def test_terms_are_read_in_the_spellings_people_use(written: str, stored: str) -> None:
    assert normalise_term(written) == stored


@pytest.mark.parametrize("term", ["2027-spring", "2026-fall", "2028-winter"])
def test_a_stored_term_and_its_label_are_one_term(term: str) -> None:
    # What a page shows reads back as the stored term, in both languages.
    assert normalise_term(term_label(term, "zh_CN")) == term
    assert normalise_term(term_label(term, "en")) == term


def test_every_input_path_stores_one_spelling(app_client: TestClient, world: World) -> None:
    opening = app_client.post(f"{API}/openings", json={
        "enterprise_id": world.enterprise_a.id, "title": "数据标注实习生", "seats": 2, "province": "贵州",
        "city": "贵阳", "term": "2027年春季学期", "description": "数据清洗"}, headers=world.h("enterprise_a"))
    assert opening.status_code == 201, opening.text
    assert opening.json()["term"] == "2027-spring"
    program = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                       "term": "Spring 2027"}, headers=world.h("college_a"))
    assert program.status_code == 201, program.text
    assert program.json()["term"] == "2027-spring"
    csv = "专业代码,课程名称,每周学时,学期\n510205,数据采集,2,2027年春季学期\n".encode()
    imported = app_client.post(f"{API}/course-needs/import", files={"file": ("n.csv", csv, "text/csv")},
                               headers=world.h("college_a"))
    assert imported.status_code == 201, imported.text
    needs = app_client.get(f"{API}/course-needs", headers=world.h("college_a")).json()["items"]
    assert [n["term"] for n in needs] == ["2027-spring"]
    # A run written either way is the same scope.
    first = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": "2027年春季学期"}},
                            headers=world.h("scheduler"))
    assert first.status_code == 202, first.text
    assert first.json()["term"] == "2027-spring"
    bad = app_client.post(f"{API}/openings", json={
        "enterprise_id": world.enterprise_a.id, "title": "x", "seats": 1, "province": "贵州", "city": "贵阳",
        "term": "明年春天"}, headers=world.h("enterprise_a"))
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
