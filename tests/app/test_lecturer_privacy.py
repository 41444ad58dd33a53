"""Lecturers are people (issue 11, defect 8): their names and weekly timetables are read by their own
enterprise, schedulers and admins, and by a college only once a lecturer placement with it has
been published.  Matches still rank every lecturer for a course need, by the offer alone."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import AllocationRun, Placement, PlacementStatus, RunKind, RunStatus
from tests.conftest import World

API = "/api/v1"
TERM = "2027-spring"
NAME = "隐私标记赵工"
SLOT = "thu3"


@pytest.fixture
def lecturer_world(app_client: TestClient, world: World) -> dict[str, int]:
    """College A's course need and enterprise A's lecturer who fits it."""
    program = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                       "term": TERM, "skills": ["Hadoop"]},
                              headers=world.h("college_a"))
    assert program.status_code == 201, program.text
    need = app_client.post(f"{API}/course-needs", json={
        "program_id": program.json()["id"], "course_name": "Hadoop 集群运维", "weekly_hours": 2, "term": TERM,
        "topics": ["Hadoop", "Linux"], "slots": [SLOT]}, headers=world.h("college_a"))
    assert need.status_code == 201, need.text
    lecturer = app_client.post(f"{API}/lecturers", json={
        "enterprise_id": world.enterprise_a.id, "name": NAME, "title": "高级运维工程师",
        "expertise": "Hadoop 集群运维与 Linux 系统管理", "topics": ["Hadoop", "Linux"], "max_weekly_hours": 4,
        "available_slots": [SLOT], "cities": ["贵阳"]}, headers=world.h("enterprise_a"))
    assert lecturer.status_code == 201, lecturer.text
    return {"need": need.json()["id"], "lecturer": lecturer.json()["id"]}


def _place(session: Session, ids: dict[str, int], status: PlacementStatus) -> None:
    now = utcnow()
    run = AllocationRun(kind=RunKind.LECTURER, term=TERM, scope={"term": TERM, "province": "贵州"},
                        scope_key=f"lecturer|{TERM}|province=贵州|colleges=*|enterprises=*",
                        status=RunStatus.PUBLISHED if status is not PlacementStatus.PROPOSED else RunStatus.SUCCEEDED,
                        finished_at=now, published_at=now if status is not PlacementStatus.PROPOSED else None)
    session.add(run)
    session.flush()
    session.add(Placement(run_id=run.id, kind=RunKind.LECTURER, lecturer_id=ids["lecturer"],
                          course_need_id=ids["need"], term=TERM, score=0.9, status=status))
    session.commit()


def _reads(client: TestClient, world: World, who: str, ids: dict[str, int]) -> dict[str, Any]:
    one = client.get(f"{API}/lecturers/{ids['lecturer']}", headers=world.h(who))
    listed = client.get(f"{API}/lecturers", headers=world.h(who))
    exported = client.get(f"{API}/lecturers/export", headers=world.h(who))
    assert listed.status_code == exported.status_code == 200, (listed.text, exported.text)
    return {"get": one.status_code, "listed": [r["id"] for r in listed.json()["items"]],
            "exported": NAME in exported.text}


def test_only_the_enterprise_schedulers_and_admins_read_unplaced_lecturers(
        app_client: TestClient, world: World, lecturer_world: dict[str, int]) -> None:
    mine = {"get": 200, "listed": [lecturer_world["lecturer"]], "exported": True}
    hidden = {"get": 404, "listed": [], "exported": False}
    for who in ("enterprise_a", "scheduler", "admin"):
        assert _reads(app_client, world, who, lecturer_world) == mine, who
    # A competitor's HR and every college (before any placement) get nothing, not even the name.
    for who in ("enterprise_b", "college_a", "college_b"):
        assert _reads(app_client, world, who, lecturer_world) == hidden, who


def test_a_college_reads_the_lecturer_placed_with_it_after_publication(
        app_client: TestClient, world: World, session: Session, lecturer_world: dict[str, int]) -> None:
    _place(session, lecturer_world, PlacementStatus.PROPOSED)
    # A proposal nobody published yet shows the college nothing.
    assert _reads(app_client, world, "college_a", lecturer_world)["get"] == 404
    _place(session, {**lecturer_world}, PlacementStatus.PUBLISHED)
    placed = {"get": 200, "listed": [lecturer_world["lecturer"]], "exported": True}
    assert _reads(app_client, world, "college_a", lecturer_world) == placed
    body = app_client.get(f"{API}/lecturers/{lecturer_world['lecturer']}", headers=world.h("college_a")).json()
    assert body["name"] == NAME and body["available_slots"] == [SLOT]
    # Another college and another enterprise still see nothing; the college may not edit it.
    for who in ("college_b", "enterprise_b"):
        assert _reads(app_client, world, who, lecturer_world)["get"] == 404, who
    edit = app_client.patch(f"{API}/lecturers/{lecturer_world['lecturer']}", json={"name": "改名"},
                            headers=world.h("college_a"))
    assert edit.status_code == 403


def test_matches_rank_lecturers_by_their_offer_without_name_or_timetable(
        app_client: TestClient, world: World, lecturer_world: dict[str, int]) -> None:
    for who in ("college_a", "enterprise_b"):
        response = app_client.get(f"{API}/course-needs/{lecturer_world['need']}/matches", headers=world.h(who))
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        match = next(item for item in items if item["id"] == lecturer_world["lecturer"])
        assert match["label"] == "高级运维工程师"
        assert match["details"]["enterprise_id"] == world.enterprise_a.id
        assert NAME not in response.text and SLOT not in response.text, who
