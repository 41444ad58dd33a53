"""Partnerships and alliances through the API: propose, agree, activate, end; who sees what."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Actor, AuditEvent, Partnership, Role
from tests.conftest import World

API = "/api/v1"
TERM = "2027-spring"


def _program(client: TestClient, world: World, code: str = "510205") -> int:
    response = client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": code,
                                                     "term": TERM}, headers=world.h("college_a"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _body(world: World, program_id: int, **extra: Any) -> dict[str, Any]:
    return {"name": "大数据订单班", "college_id": world.college_a.id, "enterprise_id": world.enterprise_a.id,
            "program_ids": [program_id], "forms": ["order_class"],
            "terms": [{"term": TERM, "reserved_seats": 3, "lecturer_hours": 6}], **extra}


def _scheduler_id(session: Session) -> int:
    return int(session.scalar(select(Actor.id).where(Actor.role == Role.SCHEDULER).order_by(Actor.id).limit(1))
               or 0)


def test_propose_agree_activate_end_each_audited(app_client: TestClient, world: World, session: Session) -> None:
    program = _program(app_client, world)
    created = app_client.post(f"{API}/partnerships", json=_body(world, program), headers=world.h("college_a"))
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert created.json()["status"] == "proposed" and created.json()["proposed_by"] == "college"
    assert created.json()["terms"] == [{"term": TERM, "reserved_seats": 3, "lecturer_hours": 6,
                                        "training_places": 0}]
    # The proposer cannot agree to its own proposal; an outsider does not even see it.
    own = app_client.post(f"{API}/partnerships/{pid}/agree", headers=world.h("college_a"))
    assert own.status_code == 403
    assert app_client.post(f"{API}/partnerships/{pid}/agree", headers=world.h("enterprise_b")).status_code == 404
    assert app_client.post(f"{API}/partnerships/{pid}/activate", headers=world.h("college_a")).status_code == 409
    agreed = app_client.post(f"{API}/partnerships/{pid}/agree", headers=world.h("enterprise_a"))
    assert agreed.status_code == 200 and agreed.json()["status"] == "agreed"
    again = app_client.post(f"{API}/partnerships/{pid}/agree", headers=world.h("enterprise_a"))
    assert again.status_code == 409 and again.json()["current_status"] == "agreed"
    assert app_client.post(f"{API}/partnerships/{pid}/activate", headers=world.h("enterprise_a")).json()[
        "status"] == "active"
    assert app_client.post(f"{API}/partnerships/{pid}/end", headers=world.h("college_a")).json()["status"] == "ended"
    assert app_client.post(f"{API}/partnerships/{pid}/end", headers=world.h("college_a")).status_code == 409
    events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "partnership",
                                                      AuditEvent.entity_id == str(pid)).order_by(AuditEvent.id))
    assert [(e.action, e.details["to"]) for e in events] == [
        ("propose", "proposed"), ("agree", "agreed"), ("activate", "active"), ("end", "ended")]
    # Ended, not deleted: it stays with its commitments.
    assert session.scalar(select(func.count()).select_from(Partnership)) == 1
    assert app_client.get(f"{API}/partnerships/{pid}", headers=world.h("enterprise_a")).json()["terms"][0][
        "reserved_seats"] == 3


def test_bad_input_is_named(app_client: TestClient, world: World) -> None:
    program = _program(app_client, world)
    cases = [
        ({"forms": ["friendship"]}, "forms"),
        ({"program_ids": [program, program]}, "program_ids"),
        ({"terms": [{"term": TERM}, {"term": TERM}]}, "body"),
        ({"terms": [{"term": TERM, "reserved_seats": -1}]}, "reserved_seats"),
        ({"program_ids": [999_999]}, "program_ids.0"),
    ]
    for change, where in cases:
        response = app_client.post(f"{API}/partnerships", json=_body(world, program, **change),
                                   headers=world.h("college_a"))
        assert response.status_code == 422, (change, response.text)
        assert where in response.text, (change, response.text)
    # Another college's partnership is not this office's to propose.
    other = app_client.post(f"{API}/partnerships", json={**_body(world, program), "college_id": world.college_b.id},
                            headers=world.h("college_a"))
    assert other.status_code == 403
    # A program of another college cannot be covered.
    program_b = app_client.post(f"{API}/programs", json={"college_id": world.college_b.id, "major_code": "510205",
                                                         "term": TERM}, headers=world.h("college_b")).json()["id"]
    foreign = app_client.post(f"{API}/partnerships", json=_body(world, program_b), headers=world.h("college_a"))
    assert foreign.status_code == 422 and "another college" in foreign.text


def test_visibility_parties_alliance_scheduler_admin(app_client: TestClient, world: World, session: Session) -> None:
    program = _program(app_client, world)
    pid = app_client.post(f"{API}/partnerships", json=_body(world, program),
                          headers=world.h("enterprise_a")).json()["id"]

    def sees(who: str) -> bool:
        listed = [p["id"] for p in app_client.get(f"{API}/partnerships", headers=world.h(who)).json()]
        single = app_client.get(f"{API}/partnerships/{pid}", headers=world.h(who)).status_code
        assert (pid in listed) == (single == 200), who
        return pid in listed

    assert {w: sees(w) for w in ("college_a", "enterprise_a", "college_b", "enterprise_b", "scheduler", "admin")} \
        == {"college_a": True, "enterprise_a": True, "college_b": False, "enterprise_b": False,
            "scheduler": False, "admin": True}
    alliance = app_client.post(f"{API}/alliances", json={
        "name": "贵阳大数据产教联合体", "kind": "city_alliance", "college_ids": [world.college_a.id],
        "enterprise_ids": [world.enterprise_a.id]}, headers=world.h("scheduler"))
    assert alliance.status_code == 201, alliance.text
    assert alliance.json()["scheduler_actor_id"] == _scheduler_id(session)
    assert sees("scheduler")
    aid = alliance.json()["id"]
    assert [p["id"] for p in app_client.get(f"{API}/alliances/{aid}/partnerships",
                                            headers=world.h("scheduler")).json()] == [pid]
    assert app_client.get(f"{API}/alliances/{aid}", headers=world.h("college_a")).status_code == 200
    assert app_client.get(f"{API}/alliances/{aid}", headers=world.h("college_b")).status_code == 404
    assert app_client.post(f"{API}/alliances", json={"name": "x"}, headers=world.h("college_a")).status_code == 403
    dup = app_client.post(f"{API}/alliances", json={"name": "贵阳大数据产教联合体"}, headers=world.h("admin"))
    assert dup.status_code == 409


def test_the_demo_seeds_partnerships_in_the_seeds_shape(session: Session) -> None:
    from app.db.models import Alliance, Major, Program
    from app.services.demo import seed_demo

    seed_demo(session, seed=2027)
    rows = {p.name: p for p in session.scalars(select(Partnership))}
    college = rows["筑云大数据产业学院"]
    majors = {session.get(Major, session.get(Program, pp.program_id).major_id).name  # type: ignore[union-attr]
              for pp in college.programs}
    assert majors == {"大数据技术", "物联网应用技术", "云计算技术应用"}
    assert "industry_college" in college.forms and college.terms[0].lecturer_hours > 0
    order = rows["黔创大数据订单班"]
    assert order.forms == ["order_class"] and order.terms[0].reserved_seats == 4
    alliance = session.scalars(select(Alliance)).one()
    assert alliance.scheduler_actor_id is not None
    assert {m.college_id for m in alliance.members if m.college_id} >= {college.college_id, order.college_id}
    assert {m.enterprise_id for m in alliance.members if m.enterprise_id} >= {college.enterprise_id,
                                                                              order.enterprise_id}
