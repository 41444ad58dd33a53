"""The placement ledger through the API, on SQLite and PostgreSQL: each way a term's record could
be corrupted (seen in outside testing of the previous release) is refused or made impossible."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import (
    CURRENT_PLACEMENT_STATUSES,
    AuditEvent,
    Opening,
    Placement,
    RunStatus,
)
from app.worker import Worker
from tests.app.test_runs import API, TERM, _run, _submit, market, worker
from tests.conftest import World

__all__ = ["market", "worker"]  # fixtures used here


def _placements(client: TestClient, world: World, run_id: int, who: str = "scheduler") -> list[dict[str, Any]]:
    response = client.get(f"{API}/allocation-runs/{run_id}/placements", headers=world.h(who),
                          params={"limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _publish(client: TestClient, world: World, run_id: int) -> Any:
    return client.post(f"{API}/allocation-runs/{run_id}/publish", headers=world.h("scheduler"))


def _answer(client: TestClient, world: World, placement: dict[str, Any], answer: str,
            market: dict[str, Any]) -> Any:
    a_students = {v for (who, _), v in market["students"].items() if who == "college_a"}
    office = "college_a" if placement["student_id"] in a_students else "college_b"
    return client.post(f"{API}/placements/{placement['id']}/{answer}", headers=world.h(office))


def _current_per_student(session: Session) -> dict[int, int]:
    session.expire_all()
    rows = session.execute(select(Placement.student_id, func.count()).where(
        Placement.term == TERM, Placement.status.in_(CURRENT_PLACEMENT_STATUSES)).group_by(Placement.student_id))
    return {int(s): int(n) for s, n in rows if s is not None}


def test_an_accepted_student_is_not_placed_again_in_a_later_round(
        app_client: TestClient, world: World, market: dict[str, Any], worker: Worker, session: Session) -> None:
    first = _run(app_client, world, worker)
    assert _publish(app_client, world, first["id"]).status_code == 200
    offers = _placements(app_client, world, first["id"])
    accepted = offers[0]
    assert _answer(app_client, world, accepted, "accept", market).status_code == 200

    second = _run(app_client, world, worker, supplementary_to=first["id"])
    assert second["status"] == "succeeded", second
    assert _publish(app_client, world, second["id"]).status_code == 200
    # Before: the round-2 run held a second, accepted copy of the placement (both could be answered
    # and signed).  Now the student's one placement is still round 1's row, carried over.
    mine = [p for p in _placements(app_client, world, second["id"]) if p["student_id"] == accepted["student_id"]]
    assert [(p["id"], p["run_id"], p["status"]) for p in mine] == [(accepted["id"], first["id"], "accepted")]
    assert set(_current_per_student(session).values()) == {1}
    # Round 1's unanswered offers were superseded by round 2 and can no longer be answered.
    stale = next(p for p in offers if p["id"] != accepted["id"])
    refused = _answer(app_client, world, stale, "accept", market)
    assert refused.status_code == 409
    assert refused.json()["current_status"] == "superseded"
    run_one = app_client.get(f"{API}/allocation-runs/{first['id']}", headers=world.h("scheduler")).json()
    assert run_one["status"] == "superseded"
    # One agreement per student and term.
    agreement = app_client.post(f"{API}/placements/{accepted['id']}/agreement",
                                headers=world.h("college_a" if accepted["student_id"] in {
                                    v for (w, _), v in market["students"].items() if w == "college_a"}
                                    else "college_b"))
    assert agreement.json()["status"] == "confirmed"


def test_a_scope_has_one_published_allocation(app_client: TestClient, world: World, market: dict[str, Any],
                                              worker: Worker, session: Session) -> None:
    first = _run(app_client, world, worker)
    other = _run(app_client, world, worker, parameters={"seed": 5})
    assert _publish(app_client, world, first["id"]).status_code == 200
    refused = _publish(app_client, world, other["id"])
    # Before: both published, 426 students with two published placements.
    assert refused.status_code == 409
    assert refused.json()["current_run_id"] == first["id"]
    assert set(_current_per_student(session).values()) == {1}
    # Withdrawn while nobody answered, the scope is free for the other run.
    withdrawn = app_client.post(f"{API}/allocation-runs/{first['id']}/withdraw", headers=world.h("scheduler"))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert {p["status"] for p in _placements(app_client, world, first["id"])} == {"withdrawn"}
    assert _publish(app_client, world, other["id"]).status_code == 200
    assert set(_current_per_student(session).values()) == {1}
    events = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "allocation-run",
                                                             AuditEvent.entity_id == str(first["id"]))).all()
    assert events.count("publish") == 1 and events.count("withdraw") == 1


def test_a_run_with_answers_cannot_be_withdrawn(app_client: TestClient, world: World, market: dict[str, Any],
                                                worker: Worker) -> None:
    run = _run(app_client, world, worker)
    _publish(app_client, world, run["id"])
    _answer(app_client, world, _placements(app_client, world, run["id"])[0], "decline", market)
    refused = app_client.post(f"{API}/allocation-runs/{run['id']}/withdraw", headers=world.h("scheduler"))
    assert refused.status_code == 409
    assert refused.json()["answered"] == 1


def test_seats_bound_accepted_placements(app_client: TestClient, world: World, market: dict[str, Any],
                                         worker: Worker, session: Session) -> None:
    run = _run(app_client, world, worker)
    _publish(app_client, world, run["id"])
    by_opening: dict[int, list[dict[str, Any]]] = {}
    for p in _placements(app_client, world, run["id"]):
        by_opening.setdefault(p["opening_id"], []).append(p)
    opening_id, offers = next((o, ps) for o, ps in by_opening.items() if len(ps) == 2)
    owner = "enterprise_a" if opening_id in {v for (w, _), v in market["openings"].items()
                                             if w == "enterprise_a"} else "enterprise_b"
    etag = app_client.get(f"{API}/openings/{opening_id}", headers=world.h(owner)).headers["ETag"]
    # HR cuts the seats below the offers: allowed (nobody accepted yet), and then only one can accept.
    cut = app_client.patch(f"{API}/openings/{opening_id}", json={"seats": 1},
                           headers=world.h(owner) | {"If-Match": etag})
    assert cut.status_code == 200, cut.text
    assert _answer(app_client, world, offers[0], "accept", market).status_code == 200
    full = _answer(app_client, world, offers[1], "accept", market)
    # Before: five accepted interns on three seats.
    assert full.status_code == 409
    assert full.json()["seats"] == 1 and full.json()["filled"] == 1
    session.expire_all()
    assert session.get(Opening, opening_id).filled_seats == 1  # type: ignore[union-attr]
    # Cutting below the accepted placements is refused with the count.
    etag = cut.headers["ETag"]
    zero = app_client.patch(f"{API}/openings/{opening_id}", json={"seats": 0},
                            headers=world.h(owner) | {"If-Match": etag})
    assert zero.status_code == 409
    assert zero.json()["filled_seats"] == 1
    # A withdrawal with a reason frees the seat for the other offer.
    office = "college_a" if offers[0]["student_id"] in {v for (w, _), v in market["students"].items()
                                                        if w == "college_a"} else "college_b"
    ended = app_client.post(f"{API}/placements/{offers[0]['id']}/withdraw", json={"reason": "学生因病退出实习"},
                            headers=world.h(office))
    assert ended.status_code == 200
    assert ended.json()["withdrawn_reason"] == "学生因病退出实习"
    assert _answer(app_client, world, offers[1], "accept", market).status_code == 200


def test_publish_rechecks_the_result_on_current_data(app_client: TestClient, world: World, market: dict[str, Any],
                                                     worker: Worker) -> None:
    run = _run(app_client, world, worker)
    placed = _placements(app_client, world, run["id"])
    opening_id = placed[0]["opening_id"]
    owner = "enterprise_a" if opening_id in {v for (w, _), v in market["openings"].items()
                                             if w == "enterprise_a"} else "enterprise_b"
    etag = app_client.get(f"{API}/openings/{opening_id}", headers=world.h(owner)).headers["ETag"]
    assert app_client.patch(f"{API}/openings/{opening_id}", json={"seats": 0},
                            headers=world.h(owner) | {"If-Match": etag}).status_code == 200
    refused = _publish(app_client, world, run["id"])
    # Before: published with placements on 0 seats.
    assert refused.status_code == 409
    codes = {r["code"] for r in refused.json()["reasons"]}
    assert "seats_exceeded" in codes
    assert any(r["params"].get("seats") == 0 for r in refused.json()["reasons"])
    assert all(p["status"] == "proposed" for p in _placements(app_client, world, run["id"]))
    # Re-run on today's data, and it publishes.
    again = _run(app_client, world, worker)
    assert _publish(app_client, world, again["id"]).status_code == 200
    assert opening_id not in {p["opening_id"] for p in _placements(app_client, world, again["id"])}


def test_rounds_follow_the_current_round_and_forks_keep_the_round(
        app_client: TestClient, world: World, market: dict[str, Any], worker: Worker) -> None:
    first = _run(app_client, world, worker)
    _publish(app_client, world, first["id"])
    accepted = _placements(app_client, world, first["id"])[0]
    _answer(app_client, world, accepted, "accept", market)
    second = _run(app_client, world, worker, supplementary_to=first["id"])
    fork = app_client.post(f"{API}/allocation-runs/{second['id']}/fork", json={"parameters": {"seed": 9}},
                           headers=world.h("scheduler"))
    # Before: the fork of a later round came out as round 1 with no locks.
    assert fork.status_code == 202, fork.text
    assert (fork.json()["round"], fork.json()["parent_run_id"], fork.json()["forked_from_id"]) == (
        2, first["id"], second["id"])
    assert worker.run_once() == fork.json()["id"]
    forked = _placements(app_client, world, fork.json()["id"])
    assert (accepted["id"], "accepted") in {(p["id"], p["status"]) for p in forked}
    assert _publish(app_client, world, second["id"]).status_code == 200
    # The fork's parent is no longer the current round: publishing it is refused.
    assert _publish(app_client, world, fork.json()["id"]).status_code == 409
    # Before: a supplementary round to an old round was accepted.
    stale = _submit(app_client, world, supplementary_to=first["id"])
    assert stale.status_code == 409
    assert stale.json()["current_run_id"] == second["id"]
    assert _submit(app_client, world, supplementary_to=second["id"]).status_code == 202


def _office_of(market: dict[str, Any], student_id: int) -> str:
    return "college_a" if student_id in {v for (w, _), v in market["students"].items() if w == "college_a"} \
        else "college_b"


def test_the_placement_record_is_never_deleted(app_client: TestClient, world: World, market: dict[str, Any],
                                               worker: Worker, session: Session) -> None:
    # A student who only appears in an unpublished what-if may go; that run can then not be published.
    what_if = _run(app_client, world, worker, parameters={"seed": 11})
    gone = _placements(app_client, world, what_if["id"])[0]["student_id"]
    assert app_client.delete(f"{API}/students/{gone}", headers=world.h(_office_of(market, gone))).status_code == 204
    refused_publish = _publish(app_client, world, what_if["id"])
    assert refused_publish.status_code == 409
    assert [r["code"] for r in refused_publish.json()["reasons"]] == ["stale"]

    run = _run(app_client, world, worker)
    assert _publish(app_client, world, run["id"]).status_code == 200
    placed = _placements(app_client, world, run["id"])[0]
    before = session.scalar(select(func.count()).select_from(Placement))
    refused = app_client.delete(f"{API}/students/{placed['student_id']}",
                                headers=world.h(_office_of(market, placed["student_id"])))
    # Before: 204, and the student's placements (signed agreements, completed history) were gone.
    assert refused.status_code == 409
    assert refused.json()["placements"] == {"published": 1}
    opening_owner = "enterprise_a" if placed["opening_id"] in {
        v for (w, _), v in market["openings"].items() if w == "enterprise_a"} else "enterprise_b"
    assert app_client.delete(f"{API}/openings/{placed['opening_id']}",
                             headers=world.h(opening_owner)).status_code == 409
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Placement)) == before


def test_enterprises_see_contacts_only_while_the_placement_stands(
        app_client: TestClient, world: World, market: dict[str, Any], worker: Worker) -> None:
    first = _run(app_client, world, worker)
    _publish(app_client, world, first["id"])
    seen = _placements(app_client, world, first["id"], "enterprise_a")
    assert seen and all(p["student_contact"] for p in seen)
    declined = seen[0]
    _answer(app_client, world, declined, "decline", market)
    second = _run(app_client, world, worker, supplementary_to=first["id"])
    _publish(app_client, world, second["id"])
    after = {p["id"]: p for p in _placements(app_client, world, first["id"], "enterprise_a")}
    # Before: the enterprise kept the name and phone of students placed elsewhere since.
    assert after[declined["id"]]["status"] == "declined"
    assert after[declined["id"]]["student_contact"] is None
    for p in after.values():
        assert (p["student_contact"] is not None) == (p["status"] in CURRENT_PLACEMENT_STATUSES), p


def test_lecturer_hours_and_one_lecturer_per_course(app_client: TestClient, world: World, market: dict[str, Any],
                                                    worker: Worker) -> None:
    program = market["programs"]["college_a"]["id"]
    for name, slots in (("Hadoop 平台运维", ["mon1"]), ("Spark 数据分析", ["tue1"])):
        app_client.post(f"{API}/course-needs", json={"program_id": program, "course_name": name, "weekly_hours": 2,
                                                      "slots": slots, "term": TERM, "topics": ["Hadoop", "Spark"]},
                        headers=world.h("college_a"))
    lecturer = app_client.post(f"{API}/lecturers", json={
        "enterprise_id": world.enterprise_a.id, "name": "赵工", "expertise": "Hadoop 集群运维与 Spark 数据分析",
        "topics": ["Hadoop", "Spark"], "max_weekly_hours": 4, "available_slots": ["mon1", "tue1"],
        "cities": ["贵阳"]}, headers=world.h("enterprise_a")).json()
    run = _run(app_client, world, worker, kind="lecturer")
    assert _publish(app_client, world, run["id"]).status_code == 200
    offers = _placements(app_client, world, run["id"], "college_a")
    assert len(offers) == 2
    for offer in offers:
        assert app_client.post(f"{API}/placements/{offer['id']}/accept",
                               headers=world.h("college_a")).json()["status"] == "accepted"
    cut = app_client.patch(f"{API}/lecturers/{lecturer['id']}", json={"max_weekly_hours": 2},
                           headers=world.h("enterprise_a"))
    assert cut.status_code == 409
    assert cut.json()["live_hours"] == 4
    # A later round offers nothing more to the covered needs.
    again = _run(app_client, world, worker, kind="lecturer", supplementary_to=run["id"])
    assert again["status"] in ("succeeded", "infeasible"), again
    own = [p for p in _placements(app_client, world, again["id"]) if p["run_id"] == again["id"]]
    assert own == []


def test_concurrent_idempotent_submissions_in_one_process_return_the_same_run(
        app_client: TestClient, world: World, market: dict[str, Any]) -> None:
    key = {"Idempotency-Key": "retry-after-timeout"}
    first = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                            headers=world.h("scheduler") | key)
    again = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                            headers=world.h("scheduler") | key)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] == RunStatus.QUEUED.value


def test_the_agreement_keeps_its_number_and_date(app_client: TestClient, world: World, market: dict[str, Any],
                                                 worker: Worker) -> None:
    run = _run(app_client, world, worker)
    _publish(app_client, world, run["id"])
    placed = _placements(app_client, world, run["id"])[0]
    office = _office_of(market, placed["student_id"])
    _answer(app_client, world, placed, "accept", market)
    future = app_client.post(f"{API}/placements/{placed['id']}/agreement", json={"signed_on": "2999-01-01"},
                             headers=world.h(office))
    assert future.status_code == 422
    signed = app_client.post(f"{API}/placements/{placed['id']}/agreement",
                             json={"number": "黔实协-2027-0042", "signed_on": "2026-11-20"}, headers=world.h(office))
    assert signed.status_code == 200, signed.text
    assert (signed.json()["status"], signed.json()["agreement_no"], signed.json()["agreement_signed_on"]) == (
        "confirmed", "黔实协-2027-0042", "2026-11-20")


def test_a_run_is_adjusted_by_hand_before_publishing(app_client: TestClient, world: World, market: dict[str, Any],
                                                     worker: Worker, session: Session) -> None:
    run = _run(app_client, world, worker)
    placed = {p["student_id"]: p["opening_id"] for p in _placements(app_client, world, run["id"])}
    openings = sorted(set(market["openings"].values()))
    student = next(iter(placed))
    target = next(o for o in openings if o != placed[student] and (
        (o in {v for (w, _), v in market["openings"].items() if w == "enterprise_a"})
        == (placed[student] in {v for (w, _), v in market["openings"].items() if w == "enterprise_a"})))
    adjusted = app_client.post(f"{API}/allocation-runs/{run['id']}/adjust",
                               json={"pin": [[student, target]], "forbid": [[student, placed[student]]]},
                               headers=world.h("scheduler"))
    assert adjusted.status_code == 202, adjusted.text
    body = adjusted.json()
    assert (body["forked_from_id"], body["round"]) == (run["id"], run["round"])
    assert [student, target] in body["parameters"]["pinned"]
    assert worker.run_once() == body["id"]
    after = {p["student_id"]: p["opening_id"] for p in _placements(app_client, world, body["id"])}
    assert after[student] == target
    diff = app_client.get(f"{API}/allocation-runs/{body['id']}/diff", params={"against": run["id"]},
                          headers=world.h("scheduler")).json()
    assert student in {item["subject_id"] for item in diff["items"]}
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "adjust")).all()
    assert [e.details["pinned"] for e in events] == [[[student, target]]]
    nothing = app_client.post(f"{API}/allocation-runs/{run['id']}/adjust", json={}, headers=world.h("scheduler"))
    assert nothing.status_code == 422
    both = app_client.post(f"{API}/allocation-runs/{run['id']}/adjust",
                           json={"pin": [[student, target]], "forbid": [[student, target]]},
                           headers=world.h("scheduler"))
    assert both.status_code == 422
