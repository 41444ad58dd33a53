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
