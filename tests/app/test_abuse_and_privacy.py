"""Personal data stays out of logs and error bodies; abuse limits (rate limits per API key, hostile
import files refused without unpacking them) and security headers."""

from __future__ import annotations

import logging
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.main import SessionFactories, create_app
from app.services.resources import StudentService
from app.settings import Settings
from tests.app.test_import_export import STUDENT_HEADER, _csv, _rewrite_member, _xlsx
from tests.conftest import World

API = "/api/v1"
TERM = "2027-spring"
MARKERS = {"name": "标记姓名XYZ", "phone": "13912345678", "email": "marker.xyz@example.edu.cn",
           "student_no": "MARK-2027-0001"}


def _leaks(text: str) -> list[str]:
    return [field for field, value in MARKERS.items() if value in text]


@pytest.fixture
def program_id(app_client: TestClient, world: World) -> int:
    response = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                         "term": TERM}, headers=world.h("college_a"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_personal_data_never_reaches_logs_or_error_bodies(
    app_client: TestClient, world: World, program_id: int, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, SQLAlchemy's statements included
    office = world.h("college_a")
    created = app_client.post(f"{API}/students", json={"program_id": program_id, **MARKERS}, headers=office)
    assert created.status_code == 201
    student_id = created.json()["id"]

    errors: list[Any] = [
        # a duplicate (unique constraint), invalid fields, unknown fields, wrong types
        app_client.post(f"{API}/students", json={"program_id": program_id, **MARKERS}, headers=office),
        app_client.post(f"{API}/students", json={"program_id": program_id, **MARKERS,
                                                 "email": MARKERS["name"] + "@"}, headers=office),
        app_client.post(f"{API}/students", json={"program_id": program_id, **MARKERS, MARKERS["name"]: 1},
                        headers=office),
        app_client.patch(f"{API}/students/{student_id}", json={"phone": MARKERS["phone"] + "x"}, headers=office),
        app_client.patch(f"{API}/students/{student_id}", json={"grade": MARKERS["name"]}, headers=office),
        app_client.post(f"{API}/students", content=f'{{"name": "{MARKERS["name"]}"', headers=office
                        | {"content-type": "application/json"}),
        # other tenants and roles, with personal data in the query
        app_client.get(f"{API}/students", params={"q": MARKERS["student_no"]}, headers=world.h("enterprise_a")),
        app_client.get(f"{API}/students/{student_id}", headers=world.h("college_b")),
        app_client.patch(f"{API}/students/{student_id}", json={"name": MARKERS["name"]}, headers=world.h("college_b")),
        # imports: a bad row and a duplicate row carrying the markers
        app_client.post(f"{API}/students/import", files={"file": ("s.csv", _csv(STUDENT_HEADER, [
            [program_id, MARKERS["student_no"], MARKERS["name"], MARKERS["phone"], "", "", "", ""],
            [program_id, "X-2", MARKERS["name"], MARKERS["phone"] + "abc", "", "abc", "", ""],
        ]), "text/csv")}, headers=office),
        # too large
        app_client.post(f"{API}/students", json={"program_id": program_id, **MARKERS,
                                                 "skills": [MARKERS["name"]] * 200_000}, headers=office),
    ]
    # an unexpected failure whose message quotes personal data
    def boom(self: StudentService, object_id: int) -> None:
        raise RuntimeError(f"cannot render {MARKERS['name']} {MARKERS['phone']}")

    monkeypatch.setattr(StudentService, "get", boom)
    errors.append(app_client.get(f"{API}/students/{student_id}", headers=office))

    assert [r.status_code for r in errors] == [409, 422, 422, 422, 422, 422, 403, 404, 404, 422, 413, 500]
    for response in errors:
        assert response.headers["content-type"] == "application/problem+json"
        assert not _leaks(response.text), response.text
    # The server's logs (httpx's are the test client's own request lines).
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.getMessage().startswith("unhandled RuntimeError") for r in server)
    leaked = [r.getMessage()[:200] for r in server if _leaks(r.getMessage() + str(r.exc_info or ""))]
    assert not leaked


def test_database_errors_and_sql_logs_carry_no_values(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from app.db.engine import make_engine

    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    engine = make_engine(f"sqlite:///{tmp_path / 'values.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE people (name TEXT UNIQUE)"))
            conn.execute(text("INSERT INTO people VALUES (:name)"), {"name": MARKERS["name"]})
        with pytest.raises(IntegrityError) as failure, engine.begin() as conn:
            conn.execute(text("INSERT INTO people VALUES (:name)"), {"name": MARKERS["name"]})
    finally:
        engine.dispose()
    assert "INSERT INTO people" in caplog.text  # statements are logged ...
    assert not _leaks(caplog.text)  # ... without their values
    assert not _leaks(str(failure.value))


# --------------------------------------------------------------------------- rate limits


@pytest.fixture
def limited(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = Settings(database_url="sqlite://", rate_limit="3/minute")
    app = create_app(settings, session_factories=SessionFactories(write=session_factory, read=session_factory))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_rate_limit_per_api_key_gives_429_with_retry_after(limited: TestClient, world: World) -> None:
    for _ in range(3):
        assert limited.get(f"{API}/colleges", headers=world.h("college_a")).status_code == 200
    refused = limited.get(f"{API}/openings", headers=world.h("college_a"))  # one budget for all routes
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["x-content-type-options"] == "nosniff"
    # Keyed by API key, not by address: another key (same client) has its own budget.
    assert limited.get(f"{API}/colleges", headers=world.h("college_b")).status_code == 200
    # Requests without a key are not counted (they are refused before any work).
    for _ in range(5):
        assert limited.get(f"{API}/colleges").status_code == 401
    assert limited.get("/health").status_code == 200


def test_rate_limit_counts_bad_keys_by_their_own_hash(limited: TestClient) -> None:
    statuses = [limited.get(f"{API}/colleges", headers={"Authorization": "Bearer cj_guess"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


@pytest.fixture
def guarded(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = Settings(database_url="sqlite://", rate_limit="1000/minute", failed_key_limit="5/minute")
    app = create_app(settings, session_factories=SessionFactories(write=session_factory, read=session_factory))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_guessing_keys_is_throttled_per_client_address(guarded: TestClient, world: World) -> None:
    # Every guess is a different key, so per-key buckets never fill: failures count per address.
    statuses = [guarded.get(f"{API}/colleges", headers={"Authorization": f"Bearer cj_guess{n}"}).status_code
                for n in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    refused = guarded.get(f"{API}/colleges", headers={"Authorization": "Bearer cj_guess99"})
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "invalid API keys" in refused.json()["detail"]
    # Refused before the key is looked up: a right guess from that address learns nothing either.
    assert guarded.get(f"{API}/colleges", headers=world.h("college_a")).status_code == 429
    # Another address is not affected.
    other = TestClient(guarded.app, raise_server_exceptions=False, client=("203.0.113.9", 50000))
    assert other.get(f"{API}/colleges", headers=world.h("college_a")).status_code == 200


# --------------------------------------------------------------------------- headers


def test_security_headers(app_client: TestClient, session_factory: sessionmaker[Session]) -> None:
    api = app_client.get(f"{API}/colleges")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in api.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in api.headers["content-security-policy"]
    assert "strict-transport-security" not in api.headers  # only when configured
    docs = app_client.get("/docs")
    assert docs.status_code == 200
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert "cdn.jsdelivr.net" in docs.text  # the policy allows what the page loads

    settings = Settings(database_url="sqlite://", hsts_max_age_s=31_536_000)
    app = create_app(settings, session_factories=SessionFactories(write=session_factory, read=session_factory))
    with TestClient(app) as client:
        assert client.get("/health").headers["strict-transport-security"] == "max-age=31536000"


# --------------------------------------------------------------------------- hostile imports within 2 s


def _billion_laughs() -> bytes:
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                        for i in range(1, 10))
              + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
    return _rewrite_member(_xlsx(["program_id"], [[1]]), "xl/worksheets/sheet1.xml", laughs.encode())


def _zip_bomb() -> bytes:
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             + b" " * (256 * 1024 * 1024) + b"<sheetData/></worksheet>")
    return _rewrite_member(_xlsx(["program_id"], [[1]]), "xl/worksheets/sheet1.xml", sheet)


@pytest.mark.parametrize(("name", "filename"), [("billion laughs", "laughs.xlsx"), ("zip bomb", "bomb.xlsx"),
                                                ("oversized", "big.csv"), ("macro", "rows.xlsm")])
def test_hostile_imports_are_refused_without_unpacking(app_client: TestClient, world: World, name: str,
                                                       filename: str) -> None:
    data = {"billion laughs": _billion_laughs, "zip bomb": _zip_bomb,
            "oversized": lambda: b"program_id\n" + b"1\n" * (11 * 1024 * 1024),
            "macro": lambda: _xlsx(["program_id"], [[1]])}[name]()
    # Memory measures the work whatever the machine's load: nothing of what the file would unpack
    # to (3 GB of entities, a 256 MiB sheet, 11 M rows) is ever held.
    tracemalloc.start()
    try:
        response = app_client.post(f"{API}/students/import",
                                   files={"file": (filename, data, "application/octet-stream")},
                                   headers=world.h("college_a"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert peak < 16 * 1024 * 1024, f"{name} peaked at {peak / 2**20:.0f} MiB"  # about 2 MiB today
