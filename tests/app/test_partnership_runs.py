"""Partnerships in allocation runs: an alliance as a run's scope; reserved seats honoured."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.worker import Worker
from tests.app.test_runs import API, TERM, _run, _submit, market, worker  # noqa: F401  (fixtures)
from tests.conftest import World


def _alliance(client: TestClient, world: World, who: str = "scheduler", **extra: Any) -> int:
    body = {"name": "贵阳大数据产教联合体", "kind": "city_alliance", "college_ids": [world.college_a.id],
            "enterprise_ids": [world.enterprise_a.id]} | extra
    response = client.post(f"{API}/alliances", json=body, headers=world.h(who))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_an_alliance_is_a_run_scope(app_client: TestClient, world: World, market: dict[str, Any],  # noqa: F811
                                    worker: Worker, session: Session) -> None:  # noqa: F811
    alliance = _alliance(app_client, world)
    run = _run(app_client, world, worker, scope={"term": TERM, "alliance_id": alliance})
    assert run["status"] == "succeeded", run
    assert run["scope"]["alliance_id"] == alliance
    placements = app_client.get(f"{API}/allocation-runs/{run['id']}/placements",
                                headers=world.h("scheduler")).json()["items"]
    students_a = {v for (who, _), v in market["students"].items() if who == "college_a"}
    openings_a = {v for (who, _), v in market["openings"].items() if who == "enterprise_a"}
    assert placements and all(p["student_id"] in students_a and p["opening_id"] in openings_a for p in placements)
    # Its own scope: a province-wide run does not compete with it.
    assert _submit(app_client, world, scope={"term": TERM}).status_code == 202
    # Another alliance's scheduler (here: none) may not run it; an unknown alliance is a 404.
    assert _submit(app_client, world, scope={"term": TERM, "alliance_id": 999}).status_code == 404
    empty = _alliance(app_client, world, "admin", name="空联盟", college_ids=[], enterprise_ids=[])
    response = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {
        "term": TERM, "alliance_id": empty}}, headers=world.h("admin"))
    assert response.status_code == 422 and "no member" in response.text


def _order_class(client: TestClient, world: World, ids: dict[str, Any], *, seats: int = 3,
                 release: bool = False) -> int:
    """College B's big-data program and enterprise A: an order class holding ``seats`` seats, agreed."""
    body = {"name": "云数订单班", "college_id": world.college_b.id, "enterprise_id": world.enterprise_a.id,
            "program_ids": [ids["programs"]["college_b"]["id"]], "forms": ["order_class"],
            "release_unused": release, "terms": [{"term": TERM, "reserved_seats": seats}]}
    created = client.post(f"{API}/partnerships", json=body, headers=world.h("college_b"))
    assert created.status_code == 201, created.text
    pid = int(created.json()["id"])
    assert client.post(f"{API}/partnerships/{pid}/agree", headers=world.h("enterprise_a")).status_code == 200
    return pid


def _placed_at(client: TestClient, world: World, run_id: int) -> list[tuple[int, int]]:
    items = client.get(f"{API}/allocation-runs/{run_id}/placements", headers=world.h("scheduler"),
                       params={"limit": 500}).json()["items"]
    return [(p["student_id"], p["opening_id"]) for p in items if p["status"] in ("proposed", "published")]


def test_an_order_class_holds_its_seats_for_its_programs(app_client: TestClient, world: World,
                                                         market: dict[str, Any], worker: Worker) -> None:  # noqa: F811
    openings_a = {v for (who, _), v in market["openings"].items() if who == "enterprise_a"}
    students_a = {v for (who, _), v in market["students"].items() if who == "college_a"}
    before = _run(app_client, world, worker)
    assert any(s in students_a and o in openings_a for s, o in _placed_at(app_client, world, before["id"]))
    pid = _order_class(app_client, world, market)
    run = _run(app_client, world, worker, scope={"term": TERM, "province": "贵州"})
    assert run["status"] == "succeeded", run
    # College A's students are not partner students: enterprise A's three seats are all reserved.
    assert not [(s, o) for s, o in _placed_at(app_client, world, run["id"]) if o in openings_a]
    unplaced = app_client.get(f"{API}/allocation-runs/{run['id']}/unplaced", headers=world.h("scheduler")).json()
    reasons = {u["id"]: u for u in unplaced}
    assert reasons and all("reserved" in u["reasons"] for u in reasons.values())
    stored = app_client.get(f"{API}/allocation-runs/{run['id']}", headers=world.h("scheduler")).json()
    assert stored["input_digest"] != before["input_digest"]
    del pid


def test_unused_seats_go_to_others_in_a_later_round_only_when_released(
        app_client: TestClient, world: World, market: dict[str, Any], worker: Worker) -> None:  # noqa: F811
    openings_a = {v for (who, _), v in market["openings"].items() if who == "enterprise_a"}
    _order_class(app_client, world, market, seats=3, release=True)
    first = _run(app_client, world, worker, scope={"term": TERM, "province": "贵州"})
    assert not [o for _, o in _placed_at(app_client, world, first["id"]) if o in openings_a]
    assert app_client.post(f"{API}/allocation-runs/{first['id']}/publish",
                           headers=world.h("scheduler")).status_code == 200
    second = _run(app_client, world, worker, scope={"term": TERM, "province": "贵州"},
                  supplementary_to=first["id"])
    assert second["status"] == "succeeded", second
    assert [o for _, o in _placed_at(app_client, world, second["id"]) if o in openings_a]


def test_an_ended_partnership_holds_no_seats(
        app_client: TestClient, world: World, market: dict[str, Any], worker: Worker) -> None:  # noqa: F811
    """Held while agreed; once ended the next run gives the seats to anyone."""
    pid = _order_class(app_client, world, market)
    run = _run(app_client, world, worker, scope={"term": TERM, "province": "贵州"})
    openings_a = {v for (who, _), v in market["openings"].items() if who == "enterprise_a"}
    assert not [o for _, o in _placed_at(app_client, world, run["id"]) if o in openings_a]
    assert app_client.post(f"{API}/partnerships/{pid}/end", headers=world.h("college_b")).status_code == 200
    ended = _run(app_client, world, worker, scope={"term": TERM, "province": "贵州", "college_ids": [
        world.college_a.id]})
    assert [o for _, o in _placed_at(app_client, world, ended["id"]) if o in openings_a]


def test_recommendations_rank_enterprises_and_programs(app_client: TestClient, world: World,
                                                       market: dict[str, Any], session: Session) -> None:  # noqa: F811
    from app.db.models import Enterprise

    session.add(Enterprise(name="无数据公司", province="贵州", city="遵义", staff_count=10))
    session.commit()
    program = market["programs"]["college_a"]["id"]
    response = app_client.get(f"{API}/programs/{program}/partner-recommendations", headers=world.h("college_a"))
    assert response.status_code == 200, response.text
    body = response.json()
    ranked = [i["candidate_id"] for i in body["items"]]
    assert ranked[0] == world.enterprise_a.id and world.enterprise_b.id in ranked
    for item in body["items"]:
        assert item["points"] == sum(c["points"] for c in item["contributions"])
        assert {c["name"] for c in item["contributions"]} == {"opening_fit", "lecturer_fit", "industry",
                                                              "past_outcomes", "distance", "capacity"}
    top = {c["name"]: c for c in body["items"][0]["contributions"]}
    assert top["distance"]["points"] == 100 and top["opening_fit"]["points"] > 0
    assert [u["label"] for u in body["unscorable"]] == ["无数据公司"]
    assert body["unscorable"][0]["reason"] == "too_little_data"
    back = app_client.get(f"{API}/enterprises/{world.enterprise_a.id}/partner-recommendations",
                          headers=world.h("enterprise_a")).json()
    assert back["items"][0]["candidate_id"] == program
    assert app_client.get(f"{API}/programs/999999/partner-recommendations",
                          headers=world.h("college_a")).status_code == 404


def test_report_seats_filled_acceptance_and_lecturer_hours(app_client: TestClient, world: World,
                                                           market: dict[str, Any], worker: Worker) -> None:  # noqa: F811
    program_b = market["programs"]["college_b"]["id"]
    body = {"name": "云数产业学院", "college_id": world.college_b.id, "enterprise_id": world.enterprise_a.id,
            "program_ids": [program_b], "forms": ["order_class", "industry_college"],
            "terms": [{"term": TERM, "reserved_seats": 3, "lecturer_hours": 6}]}
    pid = app_client.post(f"{API}/partnerships", json=body, headers=world.h("college_b")).json()["id"]
    assert app_client.post(f"{API}/partnerships/{pid}/agree", headers=world.h("enterprise_a")).status_code == 200
    alliance = _alliance(app_client, world, college_ids=[world.college_a.id, world.college_b.id],
                         enterprise_ids=[world.enterprise_a.id, world.enterprise_b.id])
    need = app_client.post(f"{API}/course-needs", json={"program_id": program_b, "course_name": "Hadoop 实战",
                                                        "weekly_hours": 4, "term": TERM, "topics": ["Hadoop"]},
                           headers=world.h("college_b")).json()["id"]
    app_client.post(f"{API}/course-needs", json={"program_id": program_b, "course_name": "Spark 开发",
                                                 "weekly_hours": 6, "term": TERM, "topics": ["Spark"]},
                    headers=world.h("college_b"))
    app_client.post(f"{API}/lecturers", json={"enterprise_id": world.enterprise_a.id, "name": "赵工",
                                              "max_weekly_hours": 4, "topics": ["Hadoop"], "cities": ["沈阳"]},
                    headers=world.h("enterprise_a"))
    run = _run(app_client, world, worker)
    published = app_client.post(f"{API}/allocation-runs/{run['id']}/publish", headers=world.h("scheduler"))
    assert published.status_code == 200
    openings_a = {v for (who, _), v in market["openings"].items() if who == "enterprise_a"}
    items = app_client.get(f"{API}/allocation-runs/{run['id']}/placements", headers=world.h("scheduler"),
                           params={"limit": 500}).json()["items"]
    at_a = [p for p in items if p["opening_id"] in openings_a]
    students_b = {v for (who, _), v in market["students"].items() if who == "college_b"}
    assert at_a and all(p["student_id"] in students_b for p in at_a)
    first, *rest = at_a
    assert app_client.post(f"{API}/placements/{first['id']}/accept", headers=world.h("college_b")).status_code == 200
    for p in rest:
        assert app_client.post(f"{API}/placements/{p['id']}/decline", headers=world.h("college_b")).status_code == 200
    lecturer_run = _run(app_client, world, worker, kind="lecturer")
    assert lecturer_run["status"] == "succeeded", lecturer_run
    app_client.post(f"{API}/allocation-runs/{lecturer_run['id']}/publish", headers=world.h("scheduler"))
    [taught] = [p for p in app_client.get(f"{API}/allocation-runs/{lecturer_run['id']}/placements",
                                          headers=world.h("scheduler")).json()["items"] if p["course_need_id"] == need]
    assert app_client.post(f"{API}/placements/{taught['id']}/accept", headers=world.h("college_b")).status_code == 200

    report = app_client.get(f"{API}/partnerships/{pid}/report", headers=world.h("enterprise_a")).json()
    [row] = report["terms"]
    assert (row["seats_committed"], row["seats_filled"], row["accepted"], row["declined"]) == (3, 1, 1, len(rest))
    assert row["acceptance_rate"] == round(1 / (1 + len(rest)), 4)
    assert (row["lecturer_hours_committed"], row["lecturer_hours_taught"], row["professional_hours"]) == (6, 4, 10)
    assert row["enterprise_share"] == 0.4 and row["meets_target"] is True
    assert row["placed_by_program"] == {str(program_b): 1}
    whole = app_client.get(f"{API}/alliances/{alliance}/report", headers=world.h("scheduler")).json()
    assert whole["terms"][0]["seats_filled"] == 1
    assert [c["name"] for c in whole["industry_colleges"]] == ["云数产业学院"]
    assert whole["industry_colleges"][0]["terms"][0]["enterprise_share"] == 0.4
    xlsx = app_client.get(f"{API}/partnerships/{pid}/report.xlsx", headers=world.h("college_b"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "term" and rows[1][:3] == (TERM, 3, 1)
    kpis = app_client.get(f"{API}/allocation-runs/{lecturer_run['id']}/kpis", headers=world.h("scheduler")).json()
    [commitment] = kpis["totals"]["partnerships"]
    assert (commitment["partnership_id"], commitment["committed_hours"], commitment["run_hours"]) == (pid, 6, 4)
    [college] = kpis["totals"]["industry_colleges"]
    assert college["professional_hours"] == 10 and college["enterprise_hours"] == 4
