"""Explained matches over the API, with tenancy, and the model's life cycle on recorded outcomes."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ScoringModel
from tests.conftest import World

API = "/api/v1"
TERM = "2027-spring"
CLOUD_OPENING = {"title": "云计算运维实习生", "seats": 3, "province": "贵州", "city": "贵阳", "term": TERM,
                 "description": "负责公有云与私有云平台的部署、虚拟化、容器编排（Docker、Kubernetes）与云主机运维监控",
                 "required_skills": ["Linux", "Docker", "Kubernetes", "云平台运维"]}


def _programs(client: TestClient, world: World) -> dict[str, int]:
    specs = {
        "510206": ("云计算平台部署与运维、虚拟化技术、容器技术、云存储与云安全",
                   ["Linux", "Docker", "Kubernetes", "OpenStack"], ["云计算平台运维", "虚拟化技术", "容器技术"]),
        "510102": ("物联网感知层设备安装调试、传感器与嵌入式开发、无线传感网络",
                   ["传感器", "嵌入式C", "单片机", "ZigBee"], ["传感器技术", "嵌入式系统", "物联网工程布线"]),
    }
    out = {}
    for code, (description, skills, courses) in specs.items():
        response = client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": code,
                                                         "term": TERM, "description": description, "skills": skills,
                                                         "core_courses": courses}, headers=world.h("college_a"))
        assert response.status_code == 201, response.text
        out[code] = response.json()["id"]
    return out


def _opening(client: TestClient, world: World, **overrides: Any) -> int:
    body = {"enterprise_id": world.enterprise_a.id, **CLOUD_OPENING, **overrides}
    response = client.post(f"{API}/openings", json=body, headers=world.h("enterprise_a"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_cloud_opening_ranks_cloud_program_above_iot(app_client: TestClient, world: World) -> None:
    programs = _programs(app_client, world)
    opening = _opening(app_client, world)
    result = app_client.get(f"{API}/openings/{opening}/matches", params={"explain": 20},
                            headers=world.h("enterprise_a")).json()
    ranked = [item["id"] for item in result["programs"]["items"]]
    assert ranked.index(programs["510206"]) < ranked.index(programs["510102"])
    assert result["programs"]["model_version"] == "prior"
    for item in result["programs"]["items"]:
        total = item["intercept"] + sum(c["contribution"] for c in item["explanation"])
        assert math.isclose(item["logit"], total, abs_tol=1e-6)
        assert math.isclose(item["score"], 1 / (1 + math.exp(-item["logit"])), abs_tol=1e-9)


def test_match_majors_golden(app_client: TestClient, world: World) -> None:
    need = {"text": "云计算运维：云平台部署、虚拟化与云主机运维", "top_k": 3}
    response = app_client.post(f"{API}/match/majors", json=need, headers=world.h("enterprise_a"))
    assert response.status_code == 200, response.text
    codes = [item["id"] for item in response.json()["items"]]
    assert codes.index("510206") < codes.index("510102")
    assert all(item["explanation"] for item in response.json()["items"][:1])


def test_match_occupations_suggests_the_code(app_client: TestClient, world: World) -> None:
    response = app_client.post(f"{API}/match/occupations", json={"title": "计算机程序设计员"},
                               headers=world.h("enterprise_a"))
    assert response.status_code == 200
    assert response.json()["items"][0]["id"] == "4-04-05-01"
    empty = app_client.post(f"{API}/match/occupations", json={"title": "   "}, headers=world.h("enterprise_a"))
    assert empty.status_code == 422


def test_program_matches_list_openings_with_enterprise(app_client: TestClient, world: World) -> None:
    programs = _programs(app_client, world)
    opening = _opening(app_client, world)
    result = app_client.get(f"{API}/programs/{programs['510206']}/matches", headers=world.h("college_b")).json()
    assert result["items"][0]["id"] == opening
    assert result["items"][0]["details"]["enterprise"] == world.enterprise_a.name
    assert result["items"][0]["explanation"][0]["feature"]


def test_unscorable_program_gets_a_reason_not_a_number(app_client: TestClient, world: World) -> None:
    empty = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                      "term": TERM}, headers=world.h("college_a")).json()
    _opening(app_client, world)
    response = app_client.get(f"{API}/programs/{empty['id']}/matches", headers=world.h("college_a"))
    assert response.status_code == 422
    assert "cannot be scored" in response.json()["detail"]


def test_students_in_opening_matches_respect_tenancy(app_client: TestClient, world: World) -> None:
    programs = _programs(app_client, world)
    other = app_client.post(f"{API}/programs", json={"college_id": world.college_b.id, "major_code": "510206",
                                                      "term": TERM, "skills": ["Linux"]},
                            headers=world.h("college_b")).json()
    mine = app_client.post(f"{API}/students", json={"program_id": programs["510206"], "student_no": "A1",
                                                     "name": "甲", "skills": ["Linux", "Docker"]},
                           headers=world.h("college_a")).json()
    theirs = app_client.post(f"{API}/students", json={"program_id": other["id"], "student_no": "B1", "name": "乙",
                                                       "skills": ["Linux"]}, headers=world.h("college_b")).json()
    opening = _opening(app_client, world)
    as_a = app_client.get(f"{API}/openings/{opening}/matches", headers=world.h("college_a")).json()
    assert [s["id"] for s in as_a["students"]["items"]] == [mine["id"]]
    as_b = app_client.get(f"{API}/openings/{opening}/matches", headers=world.h("college_b")).json()
    assert [s["id"] for s in as_b["students"]["items"]] == [theirs["id"]]
    as_hr = app_client.get(f"{API}/openings/{opening}/matches", headers=world.h("enterprise_a")).json()
    assert as_hr["students"]["items"] == []
    assert app_client.get(f"{API}/openings/999999/matches", headers=world.h("college_a")).status_code == 404


def test_course_need_matches_rank_the_expert_first(app_client: TestClient, world: World) -> None:
    programs = _programs(app_client, world)
    need = app_client.post(f"{API}/course-needs", json={"program_id": programs["510206"], "course_name": "容器技术",
                                                         "topics": ["Docker", "Kubernetes"], "weekly_hours": 2,
                                                         "slots": ["mon1"], "term": TERM},
                           headers=world.h("college_a")).json()
    expert = app_client.post(f"{API}/lecturers", json={"enterprise_id": world.enterprise_a.id, "name": "容器专家",
                                                        "expertise": "Kubernetes 集群与 Docker 容器平台建设",
                                                        "topics": ["Docker", "Kubernetes"], "max_weekly_hours": 4,
                                                        "available_slots": ["mon1"]},
                             headers=world.h("enterprise_a")).json()
    app_client.post(f"{API}/lecturers", json={"enterprise_id": world.enterprise_b.id, "name": "焊接技师",
                                              "expertise": "焊接工艺与焊接机器人编程", "topics": ["焊接"],
                                              "max_weekly_hours": 4, "available_slots": ["tue1"]},
                    headers=world.h("enterprise_b"))
    result = app_client.get(f"{API}/course-needs/{need['id']}/matches", headers=world.h("college_a")).json()
    assert result["items"][0]["id"] == expert["id"]
    assert app_client.get(f"{API}/course-needs/{need['id']}/matches",
                          headers=world.h("college_b")).status_code == 200


@pytest.mark.slow
def test_trained_model_beats_priors_and_serves_matches(session: Session, app_client: TestClient) -> None:
    from app.services.demo import seed_demo
    from app.services.model_training import train_and_store

    seed_demo(session, seed=2027)
    trained = train_and_store(session, seed=0)
    session.commit()
    assert trained.result.trained["ndcg@10"] > trained.result.prior["ndcg@10"]
    row = session.scalars(select(ScoringModel)).one()
    assert row.version == 1
    assert row.active
    assert row.metrics["trained.roc_auc"] > 0.5
    assert set(row.library_versions) >= {"sklearn", "numpy"}

    from app.services.scoring_context import active_model
    from matching.scoring import Pairing

    model, version = active_model(session, Pairing.STUDENT_OPENING)
    assert version == "v1"
    assert list(model.feature_names_)

    row.artifact = row.artifact.replace(b'"numpy"', b'"numpy_other"')
    session.commit()
    from app.errors import ServiceUnavailable

    with pytest.raises(ServiceUnavailable, match="chanjiao model train"):
        active_model(session, Pairing.STUDENT_OPENING)
