"""Authorisation walk over every web page with an object id: signed out, the wrong role and the
wrong tenant each get the page they should (sign-in redirect, 403 or 404), never the object."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Notification, User
from app.main import create_app
from app.settings import Settings
from app.worker import Worker
from tests.app.web.conftest import TERM, csrf_of
from tests.conftest import World
from tests.support.routes import served_routes

API = "/api/v1"

# Path template -> (method, path with the objects filled in, [(who, status)]).  "owner" objects
# belong to college_a / enterprise_a; the run is unpublished.
Walk = list[tuple[str, str, list[tuple[str, int]]]]


def _web_id_routes() -> dict[str, set[str]]:
    app = create_app(Settings(database_url="sqlite://", secret_key="k" * 40))
    found: dict[str, set[str]] = {}
    for route in served_routes(app):
        if route.path.startswith((API, "/static")) or not re.search(r"{\w*id}", route.path):
            continue
        found.setdefault(route.path, set()).update(route.methods - {"HEAD", "OPTIONS"})
    # Listed through served_routes: app.routes alone holds only wrappers of the included routers
    # (FastAPI 0.165), and an empty list would let every page pass the walk unwalked.
    assert len(found) > 10, found
    return found


def _walk(o: dict[str, Any]) -> dict[str, Walk]:
    program, opening, lecturer, run = o["program"], o["opening"], o["lecturer"], o["run"]
    return {
        "/programs/{program_id}": [("GET", f"/programs/{program}", [("enterprise_a", 403), ("college_a", 200)])],
        "/programs/{program_id}/matches": [("GET", f"/programs/{program}/matches", [("scheduler", 403)])],
        "/openings/{opening_id}": [("GET", f"/openings/{opening}", [("scheduler", 403), ("college_a", 200),
                                                                    ("enterprise_a", 200)])],
        "/openings/{opening_id}/fit": [("GET", f"/openings/{opening}/fit", [("scheduler", 403), ("enterprise_a", 403),
                                                                            ("college_a", 200)])],
        "/openings/{opening_id}/edit": [
            ("GET", f"/openings/{opening}/edit", [("enterprise_b", 403), ("college_a", 403), ("enterprise_a", 200)]),
            ("POST", f"/openings/{opening}/edit", [("enterprise_b", 403), ("college_a", 403)])],
        "/lecturers/{lecturer_id}/edit": [
            # Another enterprise's lecturer is not found at all: lecturers are private to their enterprise.
            ("GET", f"/lecturers/{lecturer}/edit", [("enterprise_b", 404), ("enterprise_a", 200)]),
            ("POST", f"/lecturers/{lecturer}/edit", [("enterprise_b", 404), ("college_b", 403)])],
        "/placements/{placement_id}/accept": [
            ("POST", f"/placements/{o['placement']}/accept", [("college_b", 404), ("enterprise_a", 403)])],
        "/placements/{placement_id}/decline": [
            ("GET", f"/placements/{o['placement']}/decline", [("college_b", 404), ("enterprise_a", 403),
                                                                ("college_a", 200)]),
            ("POST", f"/placements/{o['placement']}/decline", [("college_b", 404), ("enterprise_a", 403)])],
        "/placements/{placement_id}/agreement": [
            ("POST", f"/placements/{o['placement']}/agreement", [("college_b", 404), ("enterprise_a", 403)])],
        "/placements/{placement_id}/withdraw": [
            ("GET", f"/placements/{o['placement']}/withdraw", [("college_b", 404), ("enterprise_a", 403)]),
            ("POST", f"/placements/{o['placement']}/withdraw", [("college_b", 404), ("enterprise_a", 403)])],
        "/students/{student_id}/edit": [
            ("GET", f"/students/{o['student']}/edit", [("college_b", 404), ("enterprise_a", 403), ("scheduler", 403),
                                                        ("college_a", 200)]),
            ("POST", f"/students/{o['student']}/edit", [("college_b", 404), ("enterprise_a", 403)])],
        "/course-needs/{need_id}": [
            ("GET", f"/course-needs/{o['need']}", [("college_b", 404), ("enterprise_a", 403), ("scheduler", 403),
                                                    ("college_a", 200)])],
        "/course-needs/{need_id}/edit": [
            ("GET", f"/course-needs/{o['need']}/edit", [("college_b", 404), ("enterprise_a", 403),
                                                         ("college_a", 200)]),
            ("POST", f"/course-needs/{o['need']}/edit", [("college_b", 404), ("enterprise_a", 403)])],
        "/runs/{run_id}": [("GET", f"/runs/{run}", [("college_a", 403), ("enterprise_a", 403)])],
        "/runs/{run_id}/status": [("GET", f"/runs/{run}/status", [("college_a", 403)])],
        "/runs/{run_id}/publish": [("POST", f"/runs/{run}/publish", [("college_a", 403), ("enterprise_a", 403)]),
                                   ("GET", f"/runs/{run}/publish", [("college_a", 403), ("scheduler", 200)])],
        "/runs/{run_id}/withdraw": [("POST", f"/runs/{run}/withdraw", [("college_a", 403), ("enterprise_a", 403)])],
        "/runs/{run_id}/supplementary": [("POST", f"/runs/{run}/supplementary", [("college_a", 403)])],
        "/runs/{run_id}/fork": [("POST", f"/runs/{run}/fork", [("college_a", 403), ("enterprise_a", 403)])],
        "/runs/{run_id}/adjust": [("POST", f"/runs/{run}/adjust", [("college_a", 403), ("enterprise_a", 403)])],
        "/runs/{run_id}/cancel": [("POST", f"/runs/{run}/cancel", [("college_a", 403)])],
        "/runs/{run_id}/export": [("GET", f"/runs/{run}/export", [("college_a", 404), ("enterprise_a", 404)])],
        # A partnership: its parties and the alliance's scheduler; college A proposed it, so it may not agree.
        "/partnerships/{partnership_id}": [
            ("GET", f"/partnerships/{o['partnership']}", [("college_b", 404), ("enterprise_b", 404), ("college_a", 200),
                                                          ("enterprise_a", 200), ("scheduler", 200)])],
        "/partnerships/{partnership_id}/agree": [
            ("POST", f"/partnerships/{o['partnership']}/agree", [("college_b", 404), ("college_a", 403),
                                                                 ("scheduler", 403)])],
        "/partnerships/{partnership_id}/activate": [
            ("POST", f"/partnerships/{o['partnership']}/activate", [("college_b", 404), ("scheduler", 403)])],
        "/partnerships/{partnership_id}/end": [
            ("POST", f"/partnerships/{o['partnership']}/end", [("enterprise_b", 404), ("scheduler", 403)])],
        "/partnerships/{partnership_id}/report.xlsx": [
            ("GET", f"/partnerships/{o['partnership']}/report.xlsx", [("college_b", 404), ("enterprise_a", 200)])],
        "/alliances/{alliance_id}": [
            ("GET", f"/alliances/{o['alliance']}", [("college_b", 404), ("college_a", 200), ("scheduler", 200)])],
        "/alliances/{alliance_id}/run": [
            ("POST", f"/alliances/{o['alliance']}/run", [("college_a", 403), ("enterprise_a", 403)])],
        "/alliances/{alliance_id}/report.xlsx": [
            ("GET", f"/alliances/{o['alliance']}/report.xlsx", [("enterprise_b", 404), ("scheduler", 200)])],
        # Another actor's notification is not found, whatever the role; its own is marked read.
        "/notifications/{notification_id}/read": [
            ("POST", f"/notifications/{o['notification']}/read",
             [("college_b", 404), ("enterprise_a", 404), ("scheduler", 404), ("college_a", 303)])],
    }


@pytest.fixture
def objects(app_client: TestClient, world: World, market: dict[str, Any],
            session_factory: sessionmaker[Session], session: Session) -> dict[str, Any]:
    lecturer = app_client.post(f"{API}/lecturers", json={"enterprise_id": world.enterprise_a.id, "name": "王工",
                                                         "max_weekly_hours": 4}, headers=world.h("enterprise_a"))
    assert lecturer.status_code == 201, lecturer.text
    need = app_client.post(f"{API}/course-needs", json={"program_id": market["programs"]["college_a"],
                                                         "course_name": "Spark", "weekly_hours": 2, "term": TERM},
                           headers=world.h("college_a"))
    assert need.status_code == 201, need.text
    worker = Worker(session_factory, Settings(database_url="sqlite://", solve_in_subprocess=False,
                                              allocation_executor="inline", worker_heartbeat_s=3600), owner="authz")
    published = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                                headers=world.h("scheduler")).json()["id"]
    assert worker.run_once() == published
    app_client.post(f"{API}/allocation-runs/{published}/publish", headers=world.h("scheduler"))
    placements = app_client.get(f"{API}/allocation-runs/{published}/placements", headers=world.h("college_a")).json()
    # A second, unpublished run of another scope: what colleges must not see yet.
    run = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM,
                                                                                         "province": "贵州"}},
                          headers=world.h("scheduler")).json()["id"]
    assert worker.run_once() == run
    user = session.scalars(select(User).where(User.username == "u-college_a")).one()
    notification = session.scalars(select(Notification.id).where(
        Notification.recipient_actor_id == user.actor_id)).first()  # of the publication
    partnership = app_client.post(f"{API}/partnerships", json={
        "name": "订单班", "college_id": world.college_a.id, "enterprise_id": world.enterprise_a.id,
        "program_ids": [market["programs"]["college_a"]], "forms": ["order_class"]}, headers=world.h("college_a"))
    assert partnership.status_code == 201, partnership.text
    alliance = app_client.post(f"{API}/alliances", json={"name": "联合体", "college_ids": [world.college_a.id],
                                                         "enterprise_ids": [world.enterprise_a.id]},
                               headers=world.h("scheduler"))
    assert alliance.status_code == 201, alliance.text
    return {"partnership": partnership.json()["id"], "alliance": alliance.json()["id"],
            "program": market["programs"]["college_a"], "opening": next(iter(market["openings"].values())),
            "lecturer": lecturer.json()["id"], "run": run, "placement": placements["items"][0]["id"],
            "notification": notification, "student": market["students"][("college_a", 0)],
            "need": need.json()["id"]}


def test_every_web_id_route_is_walked(objects: dict[str, Any], as_user: Callable[[str], TestClient]) -> None:
    walk = _walk(objects)
    routes = _web_id_routes()
    assert sorted(set(routes) - set(walk)) == [], "a web page with an id is not in the authorisation walk"
    for template, methods in routes.items():
        assert methods <= {method for method, _, _ in walk[template]}, template
    client = as_user("college_a")
    client.cookies.clear()
    for steps in walk.values():
        for method, path, _ in steps:  # signed out: always the sign-in page, never the object
            response = client.request(method, path, follow_redirects=False)
            assert response.status_code in (303, 403), (method, path, response.status_code)
            if method == "GET":
                assert response.headers["location"].startswith("/login"), path
    for steps in walk.values():
        for method, path, expected in steps:
            for who, status in expected:
                client = as_user(who)
                token = csrf_of(client.get("/login").text)
                response = client.request(method, path, data={"csrf_token": token} if method == "POST" else None,
                                          follow_redirects=False)
                assert response.status_code == status, (method, path, who, response.status_code)
