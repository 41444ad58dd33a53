"""贵州省, 贵州 and Guizhou name one province on every input path, so scopes, caps and matches agree;
a value that names no Chinese division is kept as written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.data import normalise_province
from tests.conftest import World

API = "/api/v1"


@pytest.mark.parametrize(("written", "stored"), [
    ("贵州省", "贵州"), ("贵州", "贵州"), (" Guizhou ", "贵州"), ("guizhou", "贵州"), ("广西壮族自治区", "广西"),
    ("内蒙古自治区", "内蒙古"), ("Inner Mongolia", "内蒙古"), ("北京市", "北京"), ("香港特别行政区", "香港"),
    ("Bavaria", "Bavaria"), ("贵州省贵阳市", "贵州省贵阳市")])
def test_provinces_are_normalised_to_their_short_name(written: str, stored: str) -> None:
    assert normalise_province(written) == stored


def test_every_input_path_stores_the_short_name(app_client: TestClient, world: World) -> None:
    opening = app_client.post(f"{API}/openings", json={
        "enterprise_id": world.enterprise_a.id, "title": "数据标注实习生", "seats": 2, "province": "贵州省",
        "city": "贵阳", "term": "2027-spring", "description": "数据清洗"}, headers=world.h("enterprise_a"))
    assert opening.status_code == 201, opening.text
    assert opening.json()["province"] == "贵州"
    program = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                       "term": "2027-spring"}, headers=world.h("college_a")).json()
    csv = f"program_id,student_no,name,province\n{program['id']},S-1,学生甲,Guizhou\n".encode()
    imported = app_client.post(f"{API}/students/import", files={"file": ("s.csv", csv, "text/csv")},
                               headers=world.h("college_a"))
    assert imported.status_code == 201, imported.text
    students = app_client.get(f"{API}/students", headers=world.h("college_a")).json()["items"]
    assert [s["province"] for s in students] == ["贵州"]
    # One scope, however it is written: the second submission competes with the first.
    first = app_client.post(f"{API}/allocation-runs", json={"kind": "internship",
                                                            "scope": {"term": "2027-spring", "province": "贵州省"}},
                            headers=world.h("scheduler"))
    assert first.status_code == 202 and first.json()["scope"]["province"] == "贵州"
    second = app_client.post(f"{API}/allocation-runs", json={"kind": "internship",
                                                             "scope": {"term": "2027-spring", "province": "贵州"}},
                             headers=world.h("scheduler"))
    assert second.status_code == 409
