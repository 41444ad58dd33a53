"""Object-level authorisation of every route with an id in its path.

The routes are discovered from the app itself: a route whose path template is not in ``CASES``
fails ``test_every_id_route_is_covered`` with its name, so a new endpoint cannot ship unwalked, and a
case whose route was renamed or removed fails ``test_every_case_is_a_route``.
Each case names the object (made by ``owned``), its owner, the non-owners that may read it (public
rows, published runs) and what the owner itself gets, which proves the refusals are about who calls.
Every non-owner (two colleges, two enterprises, a scheduler, a scheduler of another province, no
key) calls every method: refused (401 without a key, 403/404 with one), nothing written; readers
get no foreign private rows and no student's personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import Actor, AllocationRun, AuditEvent, Placement, PlacementStatus, Role, RunKind, RunStatus
from app.main import create_app
from app.services.auth import create_api_key
from app.services.ledger import Ledger
from app.settings import Settings
from tests.conftest import World

API = "/api/v1"
TERM = "2027-spring"
# Personal data of tenant A's student: no non-owner response may contain any of these.
MARKERS = {"name": "标记姓名XYZ", "phone": "13912345678", "email": "marker.xyz@example.edu.cn",
           "student_no": "MARK-2027-0001"}

# The student's own college sees all of it; the enterprise it is placed with, after publication,
# its name and phone in the run's placements.  Nobody else sees any of it.
PII_ALLOWED = {("enterprise_a", "/allocation-runs/{run_id}/placements"): {"name", "phone"}}

COLLEGES = ("college_a", "college_b")
ENTERPRISES = ("enterprise_a", "enterprise_b")
EVERYONE = ("college_a", "college_b", "enterprise_a", "enterprise_b", "scheduler", "scheduler_ln", "none")
TENANTS = COLLEGES + ENTERPRISES + ("scheduler", "scheduler_ln")


@dataclass(frozen=True)
class Call:
    method: str
    body: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    obj: str                    # key of the object in ``owned``
    owner: str                  # principal owning it
    calls: tuple[Call, ...]     # every method the route has, with a valid request
    readers: tuple[str, ...] = ()  # non-owners that may GET it
    # (method, principal, expected status): the route works for the right caller
    controls: tuple[tuple[str, str, int], ...] = ()
    # extra check of a reader's response: (principal, response, owned ids)
    check: Callable[[str, Any, dict[str, int]], None] | None = None
    # principals who share the object with its owner (a partnership's other party): not walked
    parties: tuple[str, ...] = ()


def _no_foreign_items(who: str, response: Any, ids: dict[str, int]) -> None:
    if who not in ("college_a", "enterprise_a"):
        assert response.json()["items"] == [], f"{who} sees another tenant's placements"


def _own_placements_only(who: str, response: Any, ids: dict[str, int]) -> None:
    items = response.json()["items"]
    if who in ("college_b", "enterprise_b"):
        assert items == []
    if who == "enterprise_a":
        # After publication the enterprise gets the minimum contact data of its placed students.
        contacts = {item["student_id"]: item["student_contact"] for item in items}
        assert contacts[ids["student"]] == {"name": MARKERS["name"], "phone": MARKERS["phone"]}


def _unplaced_of_own_college(who: str, response: Any, ids: dict[str, int]) -> None:
    if who != "college_a":
        assert response.json() == []


def _export_of_own_rows(who: str, response: Any, ids: dict[str, int]) -> None:
    lines = [line for line in response.text.splitlines() if line.strip()]
    if who in ("college_b", "enterprise_b"):
        assert len(lines) == 1, f"{who} exports another tenant's placements"


def _crud(obj: str, owner: str, patch: dict[str, Any], delete_by: tuple[str, int], *, public: bool = True,
          readers: tuple[str, ...] | None = None) -> Case:
    return Case(obj, owner, (Call("GET"), Call("PATCH", patch), Call("DELETE")),
                readers=readers if readers is not None else TENANTS if public else (),
                controls=(("GET", owner, 200), ("PATCH", owner, 200), ("DELETE", *delete_by)))


PUBLISHED_RUN_READERS = COLLEGES + ENTERPRISES

CASES: dict[str, Case] = {
    # Public rows: every tenant reads them; only the owner changes them; deleting a college or an
    # enterprise is for admins.
    "/colleges/{object_id}": _crud("college", "college_a", {"city": "安顺"}, ("admin", 409)),
    "/enterprises/{object_id}": _crud("enterprise", "enterprise_a", {"city": "遵义"}, ("admin", 409)),
    "/programs/{object_id}": _crud("program", "college_a", {"cohort_size": 7}, ("college_a", 409)),
    "/openings/{object_id}": _crud("opening", "enterprise_a", {"seats": 9}, ("enterprise_a", 409)),
    # Lecturers are people: their enterprise and schedulers read them (and a college once a
    # placement with it is published: tests/app/test_lecturer_privacy.py); other tenants get a 404.
    "/lecturers/{object_id}": _crud("lecturer", "enterprise_a", {"max_weekly_hours": 6}, ("enterprise_a", 204),
                                    readers=("scheduler", "scheduler_ln")),
    "/course-needs/{object_id}": _crud("course_need", "college_a", {"weekly_hours": 3}, ("college_a", 204)),
    # Students carry personal data: their own college only.
    # Deleting one that is part of the placement record is refused (nothing that happened is deleted).
    "/students/{object_id}": _crud("student", "college_a", {"grade": 80}, ("college_a", 409), public=False),
    # A published run: colleges and enterprises read it and their own placements; the rest is the
    # scheduler's.  A scheduler of another province sees none of it.
    "/allocation-runs/{run_id}": Case("run", "scheduler", (Call("GET"),), PUBLISHED_RUN_READERS,
                                      (("GET", "scheduler", 200),)),
    "/allocation-runs/{run_id}/placements": Case(
        "run", "scheduler", (Call("GET"),), PUBLISHED_RUN_READERS, (("GET", "scheduler", 200),),
        check=_own_placements_only),
    "/allocation-runs/{run_id}/unplaced": Case("run", "scheduler", (Call("GET"),), COLLEGES,
                                               (("GET", "scheduler", 200),), check=_unplaced_of_own_college),
    "/allocation-runs/{run_id}/export": Case("run", "scheduler", (Call("GET"),), PUBLISHED_RUN_READERS,
                                             (("GET", "scheduler", 200),), check=_export_of_own_rows),
    "/allocation-runs/{run_id}/kpis": Case("run", "scheduler", (Call("GET"),), controls=(("GET", "scheduler", 200),)),
    "/allocation-runs/{run_id}/diff": Case("run", "scheduler", (Call("GET", params={"against": "{run}"}),),
                                           controls=(("GET", "scheduler", 200),)),
    "/allocation-runs/{run_id}/cancel": Case("run", "scheduler", (Call("POST"),),
                                             controls=(("POST", "scheduler", 409),)),
    "/allocation-runs/{run_id}/publish": Case("run", "scheduler", (Call("POST"),),
                                              controls=(("POST", "scheduler", 409),)),
    "/allocation-runs/{run_id}/withdraw": Case("run", "scheduler", (Call("POST"),),
                                               controls=(("POST", "scheduler", 409),)),  # it has answers
    "/allocation-runs/{run_id}/adjust": Case("run", "scheduler", (Call("POST", {"forbid": [[1, 1]]}),),
                                             controls=(("POST", "scheduler", 202),)),
    "/allocation-runs/{run_id}/fork": Case("run", "scheduler", (Call("POST", {"parameters": {"seed": 3}}),),
                                           controls=(("POST", "scheduler", 202),)),
    # Students' answers are recorded by their own college.
    "/placements/{placement_id}/accept": Case("placement", "college_a", (Call("POST"),),
                                              controls=(("POST", "college_a", 200),)),
    "/placements/{placement_id}/decline": Case("placement", "college_a", (Call("POST"),),
                                               controls=(("POST", "college_a", 200),)),
    "/placements/{placement_id}/agreement": Case("accepted_placement", "college_a", (Call("POST"),),
                                                 controls=(("POST", "college_a", 200),)),
    "/placements/{placement_id}/withdraw": Case("accepted_placement", "college_a",
                                                (Call("POST", {"reason": "学生退学"}),),
                                                controls=(("POST", "college_a", 200),)),
    # Matches rank public rows; students appear only to their own college (checked by the markers).
    "/programs/{program_id}/matches": Case("program", "college_a", (Call("GET"),), TENANTS,
                                           (("GET", "college_a", 200),)),
    "/openings/{opening_id}/matches": Case("opening", "enterprise_a", (Call("GET"),), TENANTS,
                                           (("GET", "enterprise_a", 200),)),
    "/course-needs/{need_id}/matches": Case("course_need", "college_a", (Call("GET"),), TENANTS,
                                            (("GET", "college_a", 200),)),
    # A partnership: its two parties, the scheduler of an alliance of both, admins.  College A
    # proposed it, so enterprise A agrees (college A's own agreement is a 403); either ends it.
    "/partnerships/{partnership_id}": Case("partnership", "college_a", (Call("GET"),),
                                           ("enterprise_a", "scheduler"), (("GET", "college_a", 200),)),
    "/partnerships/{partnership_id}/agree": Case("partnership", "enterprise_a", (Call("POST"),),
                                                 controls=(("POST", "enterprise_a", 200),)),
    "/partnerships/{partnership_id}/activate": Case("partnership", "college_a", (Call("POST"),),
                                                    controls=(("POST", "college_a", 409),), parties=("enterprise_a",)),
    "/partnerships/{partnership_id}/end": Case("partnership", "college_a", (Call("POST"),),
                                               controls=(("POST", "college_a", 200),), parties=("enterprise_a",)),
    "/partnerships/{partnership_id}/report": Case("partnership", "college_a", (Call("GET"),),
                                                  ("enterprise_a", "scheduler"), (("GET", "college_a", 200),)),
    "/partnerships/{partnership_id}/report.xlsx": Case("partnership", "college_a", (Call("GET"),),
                                                       ("enterprise_a", "scheduler"), (("GET", "college_a", 200),)),
    # An alliance: its scheduler, its members, admins.
    "/alliances/{alliance_id}": Case("alliance", "scheduler", (Call("GET"),), ("college_a", "enterprise_a"),
                                     (("GET", "scheduler", 200),)),
    "/alliances/{alliance_id}/partnerships": Case("alliance", "scheduler", (Call("GET"),),
                                                  ("college_a", "enterprise_a"), (("GET", "scheduler", 200),)),
    "/alliances/{alliance_id}/report": Case("alliance", "scheduler", (Call("GET"),), ("college_a", "enterprise_a"),
                                            (("GET", "scheduler", 200),)),
    "/alliances/{alliance_id}/report.xlsx": Case("alliance", "scheduler", (Call("GET"),),
                                                 ("college_a", "enterprise_a"), (("GET", "scheduler", 200),)),
    # Partner recommendations rank public rows (openings, lecturers' topics, counts): every tenant.
    "/programs/{program_id}/partner-recommendations": Case("program", "college_a", (Call("GET"),), TENANTS,
                                                           (("GET", "college_a", 200),)),
    "/enterprises/{enterprise_id}/partner-recommendations": Case("enterprise", "enterprise_a", (Call("GET"),),
                                                                 TENANTS, (("GET", "enterprise_a", 200),)),
}


def _id_routes() -> dict[str, set[str]]:
    """Path template (without the API prefix) → methods, for every route with a path parameter."""
    app = create_app(Settings(database_url="sqlite://"))
    found: dict[str, set[str]] = {}
    for route in iter_route_contexts(app.routes):
        path = route.path
        if not path or not path.startswith(API):
            continue  # web pages call the same services; their walk is tests/app/web/test_web_authz.py
        # Path parameters that name an object ("object_id", "run_id", ...), not e.g. a locale.
        if not path or not any(name.endswith("id") for name in re.findall(r"{(\w+)(?::\w+)?}", path)):
            continue
        methods = set(route.methods or ()) - {"HEAD", "OPTIONS"}
        template = path.removeprefix(API)
        found.setdefault(template, set()).update(methods or {"GET"})
    return found


ID_ROUTES = _id_routes()


def test_every_case_is_a_route() -> None:
    # A case whose route was renamed or removed would otherwise walk nothing and look green.
    stale = sorted(t for t in CASES if t not in ID_ROUTES)
    assert not stale, f"cases of the authorisation walk that name no route of this app: {stale}"


def test_every_id_route_is_covered() -> None:
    unmapped = sorted(t for t in ID_ROUTES if t not in CASES)
    assert not unmapped, f"routes with an id that the authorisation walk does not cover: {unmapped}"
    for template, methods in ID_ROUTES.items():
        walked = {call.method for call in CASES[template].calls}
        assert methods <= walked, f"{template}: methods {sorted(methods - walked)} are not walked"


# --------------------------------------------------------------------------- the objects


def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


@pytest.fixture
def principals(world: World, session: Session) -> dict[str, dict[str, str]]:
    ln = Actor(name="scheduler 辽宁", role=Role.SCHEDULER, scope={"province": "辽宁"})
    session.add(ln)
    session.flush()
    headers = dict(world.keys)
    headers["scheduler_ln"] = {"Authorization": f"Bearer {create_api_key(session, ln)}"}
    headers["none"] = {}
    session.commit()
    return headers


@pytest.fixture
def owned(app_client: TestClient, world: World, session: Session) -> dict[str, int]:
    """Tenant A's objects: a program with a student (personal data = markers), a course need, an
    opening and a lecturer, and a published run (scope 贵州) placing the student at the opening."""
    a_office, a_hr = world.h("college_a"), world.h("enterprise_a")
    program = _ok(app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                           "term": TERM, "skills": ["Hadoop"]}, headers=a_office))
    opening = _ok(app_client.post(f"{API}/openings", json={
        "enterprise_id": world.enterprise_a.id, "title": "大数据运维实习生", "seats": 2, "province": "贵州",
        "city": "贵阳", "term": TERM, "required_skills": ["Hadoop"]}, headers=a_hr))
    student = _ok(app_client.post(f"{API}/students", json={
        "program_id": program["id"], **MARKERS, "skills": ["Hadoop"], "preferences": [opening["id"]]},
        headers=a_office))
    second = _ok(app_client.post(f"{API}/students", json={
        "program_id": program["id"], "student_no": "S-2", "name": "李四", "skills": ["Hadoop"]}, headers=a_office))
    need = _ok(app_client.post(f"{API}/course-needs", json={"program_id": program["id"], "course_name": "Hadoop 实战",
                                                            "weekly_hours": 2, "term": TERM, "topics": ["Hadoop"]},
                               headers=a_office))
    lecturer = _ok(app_client.post(f"{API}/lecturers", json={"enterprise_id": world.enterprise_a.id, "name": "赵工",
                                                             "max_weekly_hours": 4, "topics": ["Hadoop"]},
                                   headers=a_hr))
    now = utcnow()
    run = AllocationRun(kind=RunKind.INTERNSHIP, term=TERM, scope={"term": TERM, "province": "贵州"},
                        scope_key=f"internship|{TERM}|province=贵州|colleges=*|enterprises=*",
                        status=RunStatus.PUBLISHED, finished_at=now, published_at=now,
                        unplaced=[{"id": 999_999, "college_id": world.college_a.id, "reasons": ["full"]}],
                        kpis={"totals": {"placed": 2}})
    session.add(run)
    session.flush()
    placement = Placement(run_id=run.id, kind=RunKind.INTERNSHIP, student_id=student["id"],
                          opening_id=opening["id"], term=TERM, score=0.8, status=PlacementStatus.PUBLISHED)
    accepted = Placement(run_id=run.id, kind=RunKind.INTERNSHIP, student_id=second["id"],
                         opening_id=opening["id"], term=TERM, score=0.7, status=PlacementStatus.ACCEPTED, locked=True)
    session.add_all([placement, accepted])
    session.flush()
    Ledger(session, None).recount_seats([opening["id"]])  # the accepted placement holds a seat
    session.commit()
    partnership = _ok(app_client.post(f"{API}/partnerships", json={
        "name": "大数据订单班", "college_id": world.college_a.id, "enterprise_id": world.enterprise_a.id,
        "program_ids": [program["id"]], "forms": ["order_class"], "terms": [{"term": TERM, "reserved_seats": 1}]},
        headers=a_office))
    alliance = _ok(app_client.post(f"{API}/alliances", json={
        "name": "贵阳产教联合体", "college_ids": [world.college_a.id], "enterprise_ids": [world.enterprise_a.id]},
        headers=world.h("scheduler")))
    return {"partnership": partnership["id"], "alliance": alliance["id"],
            "college": world.college_a.id, "enterprise": world.enterprise_a.id, "program": program["id"],
            "opening": opening["id"], "student": student["id"], "second_student": second["id"],
            "course_need": need["id"], "lecturer": lecturer["id"], "run": run.id, "placement": placement.id,
            "accepted_placement": accepted.id}


# --------------------------------------------------------------------------- the walk


def _request(client: TestClient, template: str, call: Call, ids: dict[str, int], obj_id: int,
             headers: dict[str, str]) -> Any:
    path = API + template.replace(template[template.index("{"):template.index("}") + 1], str(obj_id))
    params = {k: str(ids[v[1:-1]]) if isinstance(v, str) and v.startswith("{") else v
              for k, v in call.params.items()}
    if call.method == "PATCH":
        headers = headers | {"If-Match": "*"}  # openings need one: refuse on who, not on a missing ETag
    return client.request(call.method, path, json=call.body, params=params, headers=headers)


def _audit_count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _snapshot(session: Session) -> str:
    """Every row of the tables a refused call could touch, as text."""
    session.expire_all()
    rows = []
    for table in ("colleges", "enterprises", "programs", "openings", "students", "student_preferences",
                  "lecturers", "course_needs", "allocation_runs", "placements", "partnerships",
                  "partnership_terms", "alliances", "alliance_members"):
        rows.append(table + repr(sorted(map(tuple, session.connection().exec_driver_sql(
            f"SELECT * FROM {table}").all()), key=repr)))
    return "\n".join(rows)


@pytest.mark.parametrize("template", sorted(CASES))
def test_non_owners_are_refused(template: str, app_client: TestClient, session: Session,
                                principals: dict[str, dict[str, str]], owned: dict[str, int]) -> None:
    if template not in ID_ROUTES:
        pytest.fail(f"{template} is in CASES but is not a route of this app: remove or rename its case")
    case = CASES[template]
    obj_id = owned[case.obj]
    before_rows, before_audit = _snapshot(session), _audit_count(session)
    for call in case.calls:
        for who in EVERYONE:
            if who == case.owner or who in case.parties:
                continue
            response = _request(app_client, template, call, owned, obj_id, principals[who])
            label = f"{call.method} {template} as {who}"
            if who == "none":
                assert response.status_code == 401, label
                continue
            if call.method == "GET" and who in case.readers:
                assert response.status_code == 200, f"{label}: {response.status_code} {response.text[:200]}"
                leaked = [k for k, v in MARKERS.items() if v in response.text]
                allowed = PII_ALLOWED.get((who, template), set(MARKERS) if who == "college_a" else set())
                assert set(leaked) <= allowed, f"{label} leaks a student's {leaked}"
                if case.check:
                    case.check(who, response, owned)
                continue
            assert response.status_code in (403, 404), f"{label}: {response.status_code} {response.text[:200]}"
            assert response.headers["content-type"] == "application/problem+json", label
            assert not any(v in response.text for v in MARKERS.values()), label
    assert _audit_count(session) == before_audit, "a refused call wrote an audit event"
    assert _snapshot(session) == before_rows, "a refused call changed data"
    # The same calls work for the owner (or fail on a business rule): the refusals were about who.
    order = {"GET": 0, "PATCH": 1, "POST": 2, "DELETE": 3}
    for method, who, status in sorted(case.controls, key=lambda c: order[c[0]]):
        call = next(c for c in case.calls if c.method == method)
        response = _request(app_client, template, call, owned, obj_id, principals[who])
        assert response.status_code == status, f"{method} {template} as {who}: {response.text[:300]}"


# --------------------------------------------------------------------------- lists


def _list_routes() -> list[str]:
    app = create_app(Settings(database_url="sqlite://"))
    return sorted({route.path for route in iter_route_contexts(app.routes)
                   if route.path and route.path.startswith(API) and "{" not in route.path
                   and "GET" in (route.methods or ())})


@pytest.mark.parametrize("who", ["college_b", "enterprise_a", "enterprise_b", "scheduler", "scheduler_ln"])
def test_lists_hold_no_foreign_private_rows(who: str, app_client: TestClient, principals: dict[str, dict[str, str]],
                                            owned: dict[str, int]) -> None:
    """Every list (and export) a non-owner can call is free of tenant A's students."""
    for path in _list_routes():
        response = app_client.get(path, headers=principals[who])
        assert response.status_code in (200, 403, 422), f"GET {path} as {who}: {response.status_code}"
        assert not [k for k, v in MARKERS.items() if v in response.text], f"GET {path} as {who} leaks personal data"
        if path == f"{API}/students" and response.status_code == 200:
            assert response.json()["items"] == []


def test_runs_are_scoped(app_client: TestClient, principals: dict[str, dict[str, str]], owned: dict[str, int],
                         session: Session) -> None:
    run = session.get(AllocationRun, owned["run"])
    assert run is not None
    listed = app_client.get(f"{API}/allocation-runs", headers=principals["scheduler_ln"]).json()
    assert owned["run"] not in [r["id"] for r in listed["items"]]
    assert owned["run"] in [r["id"] for r in app_client.get(f"{API}/allocation-runs",
                                                            headers=principals["scheduler"]).json()["items"]]
    # Until publication a run is the schedulers' alone.
    run.published_at = None
    session.commit()
    for who in ("college_a", "enterprise_a"):
        assert app_client.get(f"{API}/allocation-runs/{owned['run']}", headers=principals[who]).status_code == 404


def test_personal_fields_follow_the_role_allow_list(app_client: TestClient, principals: dict[str, dict[str, str]],
                                                    owned: dict[str, int]) -> None:
    """Which personal fields of tenant A's student each role sees, over every GET route."""
    allow: dict[str, dict[str, set[str]]] = {
        "college_a": {f"{API}/students": set(MARKERS), f"{API}/students/{{id}}": set(MARKERS),
                      f"{API}/students/export": set(MARKERS),
                      f"{API}/allocation-runs/{{id}}/placements": {"name", "phone"},
                      f"{API}/openings/{{id}}/matches": {"student_no"}},
        "enterprise_a": {f"{API}/allocation-runs/{{id}}/placements": {"name", "phone"}},
    }
    ids = {"{run_id}": owned["run"], "{partnership_id}": owned["partnership"], "{alliance_id}": owned["alliance"],
           "{enterprise_id}": owned["enterprise"], "{program_id}": owned["program"], "{opening_id}": owned["opening"],
           "{need_id}": owned["course_need"], "{placement_id}": owned["placement"]}
    paths: dict[str, str] = {}  # concrete path -> template with "{id}"
    for route in iter_route_contexts(create_app(Settings(database_url="sqlite://")).routes):
        template = route.path
        if not template or not template.startswith(API) or "GET" not in (route.methods or ()):
            continue
        if "{object_id}" in template:
            # Of the CRUD nouns only students carry personal data; the others are walked above.
            if template == f"{API}/students/{{object_id}}":
                paths[f"{API}/students/{owned['student']}"] = f"{API}/students/{{id}}"
            continue
        path, generic = template, template
        for param, value in ids.items():
            path, generic = path.replace(param, str(value)), generic.replace(param, "{id}")
        paths[path] = generic
    for who in ("college_a", "college_b", "enterprise_a", "enterprise_b", "scheduler"):
        seen: dict[str, set[str]] = {}
        for path, generic in paths.items():
            response = app_client.get(path, headers=principals[who], params={"against": owned["run"]})
            found = {k for k, v in MARKERS.items() if v in response.text}
            if found:
                seen[generic] = found
        allowed = allow.get(who, {})
        for generic, fields in seen.items():
            assert fields <= allowed.get(generic, set()), f"{who} sees {sorted(fields)} in GET {generic}"


def test_deleting_a_student_removes_its_personal_data(app_client: TestClient, principals: dict[str, dict[str, str]],
                                                      owned: dict[str, int], session: Session) -> None:
    # The placed student is part of the placement record: refused, nothing changed.
    before = _snapshot(session)
    refused = app_client.delete(f"{API}/students/{owned['student']}", headers=principals["college_a"])
    assert refused.status_code == 409
    assert refused.json()["placements"] == {"published": 1}
    assert _snapshot(session) == before
    # A student with no placements goes, and with it every trace of its personal data.
    other = {"name": "另一标记ABC", "phone": "13700001111", "email": "other.abc@example.edu.cn",
             "student_no": "MARK-2027-0002"}
    created = app_client.post(f"{API}/students", json={"program_id": owned["program"], **other},
                              headers=principals["college_a"]).json()
    response = app_client.delete(f"{API}/students/{created['id']}", headers=principals["college_a"])
    assert response.status_code == 204
    session.expire_all()
    dump = _snapshot(session) + repr(session.connection().exec_driver_sql("SELECT * FROM audit_events").all())
    assert not [k for k, v in other.items() if v in dump]
    events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "student",
                                                      AuditEvent.entity_id == str(created["id"]))).all()
    assert {e.action for e in events} == {"create", "delete"}
    # Pseudonymous: ids and field names, never values.
    assert all(set(e.details) <= {"fields"} for e in events)
