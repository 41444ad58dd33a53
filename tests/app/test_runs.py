"""Batch runs through the API with an in-process worker: lifecycle, publish visibility, responses,
supplementary rounds, forks, comparisons, idempotency and replay."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Placement, PlacementStatus
from app.settings import Settings
from app.worker import Worker
from tests.conftest import World

API = "/api/v1"
TERM = "2027-spring"


@pytest.fixture
def worker(session_factory: sessionmaker[Session]) -> Worker:
    # Inline and without heartbeats: the test's one connection must not be shared across threads.
    settings = Settings(database_url="sqlite://", solve_in_subprocess=False, allocation_executor="inline",
                        worker_heartbeat_s=3600)
    return Worker(session_factory, settings, owner="test-worker")


@pytest.fixture
def market(app_client: TestClient, world: World) -> dict[str, Any]:
    """Two colleges' big-data students and two enterprises' openings in two provinces."""
    ids: dict[str, Any] = {"students": {}, "openings": {}}
    programs = {}
    for who, college in (("college_a", world.college_a), ("college_b", world.college_b)):
        programs[who] = app_client.post(f"{API}/programs", json={
            "college_id": college.id, "major_code": "510205", "term": TERM,
            "description": "大数据采集、清洗、存储、分析与可视化，Hadoop 与 Spark 平台运维",
            "skills": ["Python", "SQL", "Hadoop", "Linux"], "core_courses": ["数据采集", "Spark"]},
            headers=world.h(who)).json()
    for who, enterprise, province, city in (("enterprise_a", world.enterprise_a, "贵州", "贵阳"),
                                            ("enterprise_b", world.enterprise_b, "辽宁", "沈阳")):
        for title, seats in (("大数据运维实习生", 2), ("数据分析实习生", 1)):
            opening = app_client.post(f"{API}/openings", json={
                "enterprise_id": enterprise.id, "title": title, "seats": seats, "province": province, "city": city,
                "term": TERM, "description": "负责 Hadoop 集群巡检、数据清洗与报表",
                "required_skills": ["Linux", "SQL"],
                "occupation_code": "4-04-05-01"}, headers=world.h(who)).json()
            ids["openings"][(who, title)] = opening["id"]
    for who in ("college_a", "college_b"):
        partner = "enterprise_a" if who == "college_a" else "enterprise_b"
        own = [v for (e, _), v in ids["openings"].items() if e == partner]
        for n in range(4):
            student = app_client.post(f"{API}/students", json={
                "program_id": programs[who]["id"], "student_no": f"{who}-{n}", "name": f"学生{n}",
                "skills": ["Python", "SQL", "Linux"][: 1 + n % 3], "grade": 70 + 5 * n,
                "city": "贵阳" if who == "college_a" else "沈阳",
                "province": "贵州" if who == "college_a" else "辽宁",
                "preferences": own[n % 2:] + own[: n % 2]}, headers=world.h(who)).json()
            ids["students"][(who, n)] = student["id"]
    ids["programs"] = programs
    return ids


def _submit(client: TestClient, world: World, **body: Any) -> Any:
    payload = {"kind": "internship", "scope": {"term": TERM}} | body
    return client.post(f"{API}/allocation-runs", json=payload, headers=world.h("scheduler"))


def _run(client: TestClient, world: World, worker: Worker, **body: Any) -> dict[str, Any]:
    response = _submit(client, world, **body)
    assert response.status_code == 202, response.text
    assert worker.run_once() == response.json()["id"]
    return dict(client.get(response.headers["Location"], headers=world.h("scheduler")).json())


def test_lifecycle_submit_run_read_publish_respond(app_client: TestClient, world: World, market: dict[str, Any],
                                                   worker: Worker, session: Session) -> None:
    submitted = _submit(app_client, world)
    assert submitted.status_code == 202
    assert submitted.headers["Location"].endswith(f"/allocation-runs/{submitted.json()['id']}")
    assert submitted.json()["status"] == "queued"

    worker.run_once()
    run = app_client.get(submitted.headers["Location"], headers=world.h("scheduler")).json()
    assert run["status"] == "succeeded", run
    assert run["progress"] == 100
    assert set(run["phase_times"]) == {"load", "candidates", "solve", "check", "store"}
    assert run["gap"] == 0.0
    assert run["versions"]["ortools"] and run["versions"]["scikit-learn"]
    assert run["input_digest"] and run["placements_digest"]

    placements = app_client.get(f"{API}/allocation-runs/{run['id']}/placements",
                                headers=world.h("scheduler")).json()["items"]
    # 6 seats in all, but enterprise caps are 10 % of staff (30 and 80): seats bind.
    assert len(placements) == 6
    assert all(p["status"] == "proposed" for p in placements)
    kpis = app_client.get(f"{API}/allocation-runs/{run['id']}/kpis", headers=world.h("scheduler")).json()
    assert {c["college_id"] for c in kpis["colleges"]} == {world.college_a.id, world.college_b.id}
    assert kpis["totals"]["placed"] == 6
    assert all(0 <= c["top3_share"] <= 1 for c in kpis["colleges"] if c["top3_share"] is not None)
    unplaced = app_client.get(f"{API}/allocation-runs/{run['id']}/unplaced", headers=world.h("scheduler")).json()
    assert len(unplaced) == 2
    assert all(u["reasons"] for u in unplaced)

    # Before publication, colleges and enterprises see nothing.
    for who in ("college_a", "enterprise_a"):
        assert app_client.get(f"{API}/allocation-runs/{run['id']}", headers=world.h(who)).status_code == 404
    assert app_client.post(f"{API}/allocation-runs/{run['id']}/publish",
                           headers=world.h("college_a")).status_code == 403
    published = app_client.post(f"{API}/allocation-runs/{run['id']}/publish", headers=world.h("scheduler"))
    assert published.status_code == 200
    assert published.json()["published_at"]
    again = app_client.post(f"{API}/allocation-runs/{run['id']}/publish", headers=world.h("scheduler"))
    assert again.status_code == 409

    own_students = {v for (who, _), v in market["students"].items() if who == "college_a"}
    seen_by_a = app_client.get(f"{API}/allocation-runs/{run['id']}/placements",
                               headers=world.h("college_a")).json()["items"]
    assert seen_by_a and {p["student_id"] for p in seen_by_a} <= own_students
    a_openings = {v for (who, _), v in market["openings"].items() if who == "enterprise_a"}
    seen_by_hr = app_client.get(f"{API}/allocation-runs/{run['id']}/placements",
                                headers=world.h("enterprise_a")).json()["items"]
    assert seen_by_hr and {p["opening_id"] for p in seen_by_hr} <= a_openings

    mine, other = seen_by_a[0]["id"], next(p["id"] for p in placements if p["student_id"] not in own_students)
    assert app_client.post(f"{API}/placements/{other}/accept", headers=world.h("college_a")).status_code == 404
    assert app_client.post(f"{API}/placements/{mine}/accept", headers=world.h("enterprise_a")).status_code == 403
    early = app_client.post(f"{API}/placements/{mine}/agreement", headers=world.h("college_a"))
    assert early.status_code == 409
    accepted = app_client.post(f"{API}/placements/{mine}/accept", headers=world.h("college_a"))
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["locked"] is True
    assert app_client.post(f"{API}/placements/{mine}/decline", headers=world.h("college_a")).status_code == 409
    confirmed = app_client.post(f"{API}/placements/{mine}/agreement", headers=world.h("college_a"))
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["agreement_recorded_at"]

    exported = app_client.get(f"{API}/allocation-runs/{run['id']}/export", params={"format": "csv"},
                              headers=world.h("college_a"))
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {int(r["student_id"]) for r in rows} <= own_students
    xlsx = app_client.get(f"{API}/allocation-runs/{run['id']}/export", params={"format": "xlsx"},
                          headers=world.h("scheduler"))
    assert xlsx.content[:2] == b"PK"

    # An enterprise with published placements cannot be deleted, and nothing is lost trying.
    refused = app_client.delete(f"{API}/enterprises/{world.enterprise_a.id}", headers=world.h("admin"))
    assert refused.status_code == 409
    assert "published placements" in refused.json()["detail"]
    assert app_client.get(f"{API}/enterprises/{world.enterprise_a.id}", headers=world.h("admin")).status_code == 200


def test_one_active_run_per_scope_and_idempotency(app_client: TestClient, world: World, market: dict[str, Any],
                                                  worker: Worker) -> None:
    key = {"Idempotency-Key": "term-2027-spring-first"}
    first = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                            headers=world.h("scheduler") | key)
    assert first.status_code == 202
    same = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                           headers=world.h("scheduler") | key)
    assert same.status_code == 200
    assert same.json()["id"] == first.json()["id"]
    other_body = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM},
                                                                  "mode": "stable"},
                                 headers=world.h("scheduler") | key)
    assert other_body.status_code == 422
    conflict = _submit(app_client, world)
    assert conflict.status_code == 409
    assert conflict.json()["active_run_id"] == first.json()["id"]
    # A different scope is independent.
    assert _submit(app_client, world, scope={"term": TERM, "province": "辽宁"}).status_code == 202


def test_cancel_queued_run_writes_nothing(app_client: TestClient, world: World, market: dict[str, Any],
                                          worker: Worker, session: Session) -> None:
    run = _submit(app_client, world).json()
    cancelled = app_client.post(f"{API}/allocation-runs/{run['id']}/cancel", headers=world.h("scheduler"))
    assert cancelled.json()["status"] == "cancelled"
    assert worker.run_once() is None
    assert session.scalar(select(func.count()).select_from(Placement).where(Placement.run_id == run["id"])) == 0
    assert app_client.post(f"{API}/allocation-runs/{run['id']}/cancel",
                           headers=world.h("scheduler")).status_code == 409


def test_cancel_during_solve_writes_nothing(app_client: TestClient, world: World, market: dict[str, Any],
                                            worker: Worker, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.worker as worker_module

    run = _submit(app_client, world).json()
    real_solve = worker_module.solve_problem

    def solve_then_cancel(*args: Any) -> Any:
        result = real_solve(*args)
        app_client.post(f"{API}/allocation-runs/{run['id']}/cancel", headers=world.h("scheduler"))
        worker._cancelled.set()  # what the heartbeat does when it reads the flag
        return result

    monkeypatch.setattr(worker_module, "solve_problem", solve_then_cancel)
    worker.run_once()
    status = app_client.get(f"{API}/allocation-runs/{run['id']}", headers=world.h("scheduler")).json()
    assert status["status"] == "cancelled"
    assert session.scalar(select(func.count()).select_from(Placement).where(Placement.run_id == run["id"])) == 0


def test_a_run_pauses_the_cyclic_collector_and_restores_it_when_it_fails(
        app_client: TestClient, world: World, market: dict[str, Any], worker: Worker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import app.worker as worker_module

    run = _submit(app_client, world).json()
    seen: list[bool] = []

    def crashing_solve(*args: Any) -> Any:
        seen.append(gc.isenabled())
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(worker_module, "solve_problem", crashing_solve)
    assert gc.isenabled()
    assert worker.run_once() == run["id"]
    assert seen == [False] and gc.isenabled()
    status = app_client.get(f"{API}/allocation-runs/{run['id']}", headers=world.h("scheduler")).json()
    assert status["status"] == "failed" and "solver crashed" in status["error"]


def test_a_result_the_check_refuses_is_not_stored(app_client: TestClient, world: World, market: dict[str, Any],
                                                  worker: Worker, session: Session,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The solve and the run's check are one task: a result the check refuses fails the run and
    # writes no placement, whichever process solved it.
    from app.services import allocation_job

    run = _submit(app_client, world).json()
    monkeypatch.setattr(allocation_job, "check_internships", lambda *args, **kwargs: ["seat 1 over capacity"])
    worker.run_once()
    status = app_client.get(f"{API}/allocation-runs/{run['id']}", headers=world.h("scheduler")).json()
    assert status["status"] == "failed"
    assert "independent check failed: seat 1 over capacity" in status["error"]
    assert session.scalar(select(func.count()).select_from(Placement).where(Placement.run_id == run["id"])) == 0


def test_supplementary_round_keeps_accepted_placements(app_client: TestClient, world: World,
                                                       market: dict[str, Any], worker: Worker) -> None:
    first = _run(app_client, world, worker)
    app_client.post(f"{API}/allocation-runs/{first['id']}/publish", headers=world.h("scheduler"))
    placements = app_client.get(f"{API}/allocation-runs/{first['id']}/placements",
                                headers=world.h("scheduler")).json()["items"]
    by_college: dict[str, list[dict[str, Any]]] = {"college_a": [], "college_b": []}
    a_students = {v for (who, _), v in market["students"].items() if who == "college_a"}
    for p in placements:
        by_college["college_a" if p["student_id"] in a_students else "college_b"].append(p)
    accepted = by_college["college_a"][0]
    declined = by_college["college_b"][0]
    app_client.post(f"{API}/placements/{accepted['id']}/accept", headers=world.h("college_a"))
    app_client.post(f"{API}/placements/{declined['id']}/decline", headers=world.h("college_b"))

    second = _run(app_client, world, worker, supplementary_to=first["id"])
    assert second["round"] == 2
    assert second["parent_run_id"] == first["id"]
    after = app_client.get(f"{API}/allocation-runs/{second['id']}/placements",
                           headers=world.h("scheduler")).json()["items"]
    kept = [p for p in after if p["student_id"] == accepted["student_id"]]
    assert [(p["opening_id"], p["status"], p["locked"]) for p in kept] == [(accepted["opening_id"], "accepted", True)]
    assert (declined["student_id"], declined["opening_id"]) not in {(p["student_id"], p["opening_id"]) for p in after}

    diff = app_client.get(f"{API}/allocation-runs/{second['id']}/diff", params={"against": first["id"]},
                          headers=world.h("scheduler")).json()
    assert diff["changed"] == len(diff["items"])
    causes = {item["subject_id"]: item["cause"] for item in diff["items"]}
    assert causes.get(declined["student_id"]) == "declined"
    assert accepted["student_id"] not in causes


def test_fork_and_compare(app_client: TestClient, world: World, market: dict[str, Any], worker: Worker) -> None:
    base = _run(app_client, world, worker)
    fork = app_client.post(f"{API}/allocation-runs/{base['id']}/fork",
                           json={"mode": "stable", "parameters": {"seed": 7}}, headers=world.h("scheduler"))
    assert fork.status_code == 202, fork.text
    # A what-if of the same round: it remembers its source and keeps the source's parent (none here).
    assert fork.json()["forked_from_id"] == base["id"]
    assert fork.json()["parent_run_id"] is None
    assert fork.json()["round"] == 1
    assert fork.json()["mode"] == "stable"
    worker.run_once()
    bad = app_client.post(f"{API}/allocation-runs/{base['id']}/fork", json={"parameters": {"top_k": 0}},
                          headers=world.h("scheduler"))
    assert bad.status_code == 422
    compared = app_client.get(f"{API}/allocation-runs/compare", params={"ids": f"{base['id']},{fork.json()['id']}"},
                              headers=world.h("scheduler")).json()
    assert [r["run_id"] for r in compared["runs"]] == [base["id"], fork.json()["id"]]
    assert f"{base['id']}-{fork.json()['id']}" in compared["changed_placements"]


def test_cross_category_override_needs_a_logged_reason(app_client: TestClient, world: World,
                                                       market: dict[str, Any]) -> None:
    missing = _submit(app_client, world, parameters={"allow_cross_category": True})
    assert missing.status_code == 422
    ok = _submit(app_client, world, parameters={"allow_cross_category": True,
                                                "override_reason": "跨专业大类试点，经省教育厅批准"})
    assert ok.status_code == 202


def test_only_schedulers_submit_runs(app_client: TestClient, world: World) -> None:
    for who in ("college_a", "enterprise_a"):
        response = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                                   headers=world.h(who))
        assert response.status_code == 403


def test_replay_reproduces_placements(app_client: TestClient, world: World, market: dict[str, Any],
                                      worker: Worker, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """`runs export-instance` then `chanjiao solve` gives the stored placements byte for byte."""
    from typer.testing import CliRunner

    from app.cli import _register_commands, cli
    from app.services.replay import export_run_instance

    run = _run(app_client, world, worker, mode="stable", parameters={"seed": 3})
    export_run_instance(session_factory, worker.settings, run["id"], tmp_path / "instance")
    _register_commands()
    result = CliRunner().invoke(cli, ["solve", "--instance", str(tmp_path / "instance"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    replayed = hashlib.sha256((tmp_path / "out" / "placements.csv").read_bytes()).hexdigest()
    assert replayed == run["placements_digest"]


def test_lecturer_run(app_client: TestClient, world: World, market: dict[str, Any], worker: Worker) -> None:
    program = market["programs"]["college_a"]["id"]
    for name, slots in (("Hadoop 平台运维", ["mon1", "mon2"]), ("Spark 数据分析", ["tue1"])):
        app_client.post(f"{API}/course-needs", json={"program_id": program, "course_name": name, "weekly_hours": 2,
                                                      "slots": slots, "term": TERM, "topics": ["Hadoop", "Spark"]},
                        headers=world.h("college_a"))
    app_client.post(f"{API}/lecturers", json={"enterprise_id": world.enterprise_a.id, "name": "赵工",
                                               "expertise": "Hadoop 集群运维与 Spark 数据分析",
                                               "topics": ["Hadoop", "Spark"], "max_weekly_hours": 4,
                                               "available_slots": ["mon1", "mon2", "tue1"], "cities": ["贵阳"]},
                    headers=world.h("enterprise_a"))
    run = _run(app_client, world, worker, kind="lecturer")
    assert run["status"] == "succeeded", run
    kpis = app_client.get(f"{API}/allocation-runs/{run['id']}/kpis", headers=world.h("scheduler")).json()
    assert kpis["totals"]["covered"] == 2
    assert kpis["programs"][0]["coverage"] == 1.0


def test_placement_statuses_exist() -> None:
    assert {s.value for s in PlacementStatus} >= {"proposed", "published", "accepted", "declined", "confirmed"}
