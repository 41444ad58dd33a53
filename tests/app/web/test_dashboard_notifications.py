"""Dashboards (a placement office's and HR's term, from the ledger), the header's tenant and
unread count, notifications of publications and answers, and their e-mail through a local SMTP
server that the tests start and stop."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Actor, Notification, Opening, Role
from app.main import SessionFactories, create_app
from app.security import Principal
from app.services.notifications import POSTMAN_KEY, Mail, set_email
from app.services.runs import RunService
from app.settings import Settings
from app.web.notices import compose_mail
from app.worker import Worker
from tests.app.web.conftest import TERM, csrf_of
from tests.conftest import World
from tests.support.smtp import smtp_server

API = "/api/v1"
Login = Callable[[str], TestClient]


def _publish(client: TestClient, world: World, factory: sessionmaker[Session], body: dict[str, Any]) -> int:
    worker = Worker(factory, Settings(database_url="sqlite://", solve_in_subprocess=False,
                                      allocation_executor="inline", worker_heartbeat_s=3600), owner="notices")
    run = client.post(f"{API}/allocation-runs", json={"kind": "internship", **body}, headers=world.h("scheduler"))
    assert run.status_code == 202, run.text
    assert worker.run_once() == run.json()["id"]
    published = client.post(f"{API}/allocation-runs/{run.json()['id']}/publish", headers=world.h("scheduler"))
    assert published.status_code == 200, published.text
    return int(run.json()["id"])


def _placements(client: TestClient, world: World, run_id: int, who: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/allocation-runs/{run_id}/placements?limit=100", headers=world.h(who))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _numbers(html: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'id="n-(\w+)">(\d+)<', html)}


def _unread(html: str) -> int:
    found = re.search(r'id="unread-count">(\d+)', html)
    return int(found.group(1)) if found else 0


def test_dashboards_count_the_term_of_the_own_college_and_enterprise(
        app_client: TestClient, as_user: Login, world: World, market: dict[str, Any],
        session_factory: sessionmaker[Session], session: Session) -> None:
    client = as_user("college_a")
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboard"
    before = client.get("/dashboard")
    assert before.status_code == 200
    assert world.college_a.name in before.text  # the header names the signed-in college
    assert _numbers(before.text) == {"students": 3, "placed": 0, "unplaced": 3, "pending": 0,
                                     "agreements": 0, "confirmed": 0}

    run_id = _publish(app_client, world, session_factory, {"scope": {"term": TERM}})
    own = _placements(app_client, world, run_id, "college_a")
    assert len(own) >= 2
    accepted, declined = own[0]["id"], own[1]["id"]
    for placement_id, answer in ((accepted, "accept"), (declined, "decline")):
        response = app_client.post(f"{API}/placements/{placement_id}/{answer}", headers=world.h("college_a"))
        assert response.status_code == 200, response.text
    numbers = _numbers(as_user("college_a").get("/dashboard").text)
    pending = len(own) - 2
    assert numbers == {"students": 3, "placed": 1, "pending": pending, "unplaced": 3 - 1 - pending,
                       "agreements": 1, "confirmed": 0}
    assert app_client.post(f"{API}/placements/{accepted}/agreement", headers=world.h("college_a")).status_code == 200
    numbers = _numbers(as_user("college_a").get("/dashboard").text)
    assert (numbers["placed"], numbers["agreements"], numbers["confirmed"]) == (1, 0, 1)

    # The other college's numbers are its own: nothing answered there.
    other = _numbers(as_user("college_b").get("/dashboard").text)
    placed_b = len(_placements(app_client, world, run_id, "college_b"))
    assert other == {"students": 3, "placed": 0, "pending": placed_b, "unplaced": 3 - placed_b,
                     "agreements": 0, "confirmed": 0}

    hr = as_user("enterprise_a")
    assert hr.get("/", follow_redirects=False).headers["location"] == "/dashboard"
    page = hr.get("/dashboard").text
    assert world.enterprise_a.name in page and world.enterprise_b.name not in page
    filled = sum(o.filled_seats for o in session.scalars(
        select(Opening).where(Opening.enterprise_id == world.enterprise_a.id)))
    at_a = _placements(app_client, world, run_id, "enterprise_a")
    assert _numbers(page) == {"openings": 2, "seats": 3, "filled": filled,
                              "pending": sum(p["status"] == "published" for p in at_a)}
    assert filled == sum(p["status"] in ("accepted", "confirmed") for p in at_a)
    # Another term shows zeros; a scheduler has no dashboard.
    assert _numbers(hr.get("/dashboard?term=2030-autumn").text)["openings"] == 0
    assert as_user("scheduler").get("/dashboard").status_code == 403


def test_publication_and_answers_notify_the_parties_in_their_language(
        app_client: TestClient, as_user: Login, world: World, market: dict[str, Any],
        session_factory: sessionmaker[Session], session: Session) -> None:
    run_id = _publish(app_client, world, session_factory, {"scope": {"term": TERM}})
    office = as_user("college_a")
    page = office.get("/notifications")
    assert _unread(page.text) == 1
    assert f"运行 {run_id}" in page.text and "已发布" in page.text  # zh_CN by default
    office.get("/lang/en")
    english = office.get("/notifications").text
    assert f"Run {run_id} (term {TERM}, round 1) was published" in english
    hr_page = as_user("enterprise_a").get("/notifications").text
    assert _unread(hr_page) == 1

    own = _placements(app_client, world, run_id, "college_a")
    at_a = [p for p in own if p["opening_id"] in {o.id for o in session.scalars(
        select(Opening).where(Opening.enterprise_id == world.enterprise_a.id))}]
    assert at_a, "college_a has no offer at enterprise_a"
    assert app_client.post(f"{API}/placements/{at_a[0]['id']}/accept", headers=world.h("college_a")).status_code == 200
    hr = as_user("enterprise_a")
    hr.get("/lang/en")
    listed = hr.get("/notifications").text
    assert _unread(listed) == 2
    assert "accepted the offer for" in listed and f"placement {at_a[0]['id']}" in listed
    assert "college_a学生" not in listed  # an enterprise is told student numbers, never names
    # The answer concerns enterprise_a alone; the college that answered is not told its own answer.
    assert _unread(as_user("enterprise_b").get("/notifications").text) == 1
    assert _unread(as_user("college_a").get("/notifications").text) == 1

    # Marking one read, then all: the header's count follows.
    hr = as_user("enterprise_a")
    listed = hr.get("/notifications").text
    first = re.search(r'action="/notifications/(\d+)/read"', listed)
    assert first is not None
    response = hr.post(f"/notifications/{first.group(1)}/read", data={"csrf_token": csrf_of(listed)},
                       follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith(f"#n{first.group(1)}")
    assert _unread(hr.get("/notifications").text) == 1
    # Nobody marks another actor's notification: it is not found, and stays unread.
    office = as_user("college_a")
    assert office.post(f"/notifications/{first.group(1)}/read",
                       data={"csrf_token": csrf_of(office.get("/notifications").text)}).status_code == 404
    hr = as_user("enterprise_a")
    assert hr.post("/notifications/read", data={"csrf_token": csrf_of(hr.get("/notifications").text)},
                   follow_redirects=False).status_code == 303
    assert _unread(hr.get("/notifications").text) == 0
    assert _unread(as_user("college_a").get("/notifications").text) == 1


def test_a_supplementary_round_tells_colleges_with_unplaced_students(
        app_client: TestClient, as_user: Login, world: World, market: dict[str, Any],
        session_factory: sessionmaker[Session], session: Session) -> None:
    # Eight students for six seats: whatever the solver does, someone stays unplaced.
    for n in range(3, 5):
        response = app_client.post(f"{API}/students", json={
            "program_id": market["programs"]["college_a"], "student_no": f"college_a-no-{n}",
            "name": f"college_a学生{n}", "skills": ["Python"], "grade": 60}, headers=world.h("college_a"))
        assert response.status_code == 201, response.text
    first = _publish(app_client, world, session_factory, {"scope": {"term": TERM}})
    for p in _placements(app_client, world, first, "college_a")[:1]:
        assert app_client.post(f"{API}/placements/{p['id']}/decline", headers=world.h("college_a")).status_code == 200
    second = _publish(app_client, world, session_factory, {"scope": {"term": TERM}, "supplementary_to": first})
    unplaced = app_client.get(f"{API}/allocation-runs/{second}/unplaced", headers=world.h("scheduler")).json()
    items = unplaced["items"] if isinstance(unplaced, dict) else unplaced
    colleges_unplaced = {int(u["college_id"]) for u in items}
    assert colleges_unplaced
    told = session.execute(select(Notification.params, Notification.recipient_actor_id).where(
        Notification.kind == "supplementary_published")).all()
    assert told and all(params["run_id"] == second and params["round"] == 2 for params, _ in told)
    for who, college in (("college_a", world.college_a), ("college_b", world.college_b)):
        client = as_user(who)
        client.get("/lang/en")
        text = client.get("/notifications").text
        if college.id in colleges_unplaced:
            count = sum(int(u["college_id"]) == college.id for u in items)
            assert f"{count} of your students are still unplaced" in text, who
        else:
            assert "still unplaced" not in text, who


def test_notification_mail_goes_through_the_smtp_server_after_commit(
        world: World, market: dict[str, Any], session_factory: sessionmaker[Session], session: Session,
        caplog: pytest.LogCaptureFixture) -> None:
    addresses = {"u-enterprise_a": "hr.a@example.com", "u-enterprise_b": "hr.b@example.com",
                 "u-college_a": "office.a@example.com"}  # u-college_b has none
    for username, address in addresses.items():
        set_email(session, username, address)
    session.commit()
    with smtp_server() as mailbox:
        settings = Settings(database_url="sqlite://", secret_key="k" * 40, smtp_host="127.0.0.1",
                            smtp_port=mailbox.port, smtp_from="chanjiao@college.example")
        app = create_app(settings, session_factories=SessionFactories(write=session_factory, read=session_factory))
        client = TestClient(app, raise_server_exceptions=False)
        run_id = _publish(client, world, session_factory, {"scope": {"term": TERM}})
        app.state.postman.wait()
        to = sorted(address for r in mailbox.received for address in r.recipients)
        assert to == sorted(addresses.values())  # a user without an address gets no mail
        message = mailbox.received[0].message
        assert message["From"] == "chanjiao@college.example"
        assert "实习安排已发布" in message["Subject"] and "Placements published" in message["Subject"]
        body = message.get_content()
        assert f"运行 {run_id}" in body and f"Run {run_id}" in body
        # A refused answer mails nothing; a recorded one mails the enterprise of the opening.
        offers = _placements(client, world, run_id, "college_a")
        assert len(offers) >= 2
        assert client.post(f"{API}/placements/{offers[0]['id']}/agreement",
                           headers=world.h("college_a")).status_code == 409
        assert client.post(f"{API}/placements/{offers[0]['id']}/accept",
                           headers=world.h("college_a")).status_code == 200
        app.state.postman.wait()
        opening = session.get(Opening, offers[0]["opening_id"])
        assert opening is not None
        hr = "hr.a@example.com" if opening.enterprise_id == world.enterprise_a.id else "hr.b@example.com"
        assert [r.recipients for r in mailbox.received[3:]] == [[hr]]
        assert "Offer accepted" in mailbox.received[3].message["Subject"]
    # The server is gone: the answer is still recorded, the failure logged without the addresses.
    with caplog.at_level(logging.WARNING, logger="chanjiao.mail"):
        assert client.post(f"{API}/placements/{offers[1]['id']}/decline",
                           headers=world.h("college_a")).status_code == 200
        app.state.postman.wait()
    assert "notification mail not sent" in caplog.text and "example.com" not in caplog.text
    assert session.scalars(select(Notification).where(Notification.kind == "placement_declined")).first()


class _Recorder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.calls: list[tuple[list[Mail], bool]] = []

    def deliver(self, mails: list[Mail]) -> None:
        transaction = self.session.get_transaction()
        self.calls.append((mails, transaction is not None and transaction.is_active))


def test_mail_waits_for_the_commit_and_a_rollback_sends_nothing(
        app_client: TestClient, world: World, market: dict[str, Any],
        session_factory: sessionmaker[Session], session: Session) -> None:
    set_email(session, "u-enterprise_a", "hr.a@example.com")
    set_email(session, "u-enterprise_b", "hr.b@example.com")
    session.commit()
    run_id = _publish(app_client, world, session_factory, {"scope": {"term": TERM}})
    offers = [p["id"] for p in _placements(app_client, world, run_id, "college_a")]
    actor = session.scalars(select(Actor).where(Actor.college_id == world.college_a.id)).first()
    assert actor is not None
    office = Principal(actor_id=actor.id, role=Role.PLACEMENT_OFFICE, college_id=world.college_a.id)
    with session_factory() as work:
        recorder = _Recorder(work)
        work.info[POSTMAN_KEY] = recorder
        RunService(work, office).respond(offers[0], accept=True)
        assert recorder.calls == []  # nothing while the transaction is open
        work.rollback()
        assert recorder.calls == []
        RunService(work, office).respond(offers[0], accept=True)
        work.commit()
        assert len(recorder.calls) == 1
        mails, in_transaction = recorder.calls[0]
        assert not in_transaction and len(mails) == 1 and mails[0].kind == "placement_accepted"


def test_mail_text_is_composed_in_both_languages_from_kind_and_parameters() -> None:
    subject, body = compose_mail("placement_declined", {"placement_id": 7, "opening": "数据分析实习生",
                                                       "student_no": "S-1", "run_id": 2, "term": TERM})
    assert subject.startswith("[Chanjiao]") and "Offer declined" in subject
    assert "Student S-1 declined the offer for “数据分析实习生” (placement 7)." in body
    # Parameters that do not fit (an older version's) still give the title, never an error.
    assert "Placements published" in compose_mail("run_published", {"run_id": "x"})[1]
