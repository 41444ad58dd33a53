"""Request ids on every response and log line; Prometheus metrics at /metrics."""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from app.api.observability import log_config
from app.db.base import utcnow
from app.db.models import AllocationRun, RunKind, RunStatus
from app.main import create_app
from app.settings import Settings
from app.worker import Worker
from tests.conftest import World

API = "/api/v1"
TERM = "2027-spring"
GENERATED = re.compile(r"^[0-9a-f]{32}$")


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def _sample(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def bare_client() -> Iterator[TestClient]:
    """An app whose database has no tables: every query fails as if the database were down."""
    with TestClient(create_app(Settings(database_url="sqlite://")), raise_server_exceptions=False) as client:
        yield client


def test_every_response_carries_a_request_id(bare_client: TestClient) -> None:
    seen = set()
    for path in ("/health", f"{API}/openings", "/no/such/page", "/login", "/static/app.css"):
        response = bare_client.get(path)
        assert GENERATED.match(response.headers["X-Request-ID"]), (path, response.headers)
        seen.add(response.headers["X-Request-ID"])
    assert len(seen) == 5


@pytest.mark.parametrize(("sent", "kept"), [
    ("0f8fa6a0-5b36-4c1e-9d53-3f5f0d0e2a11", True), ("trace.42:span-7", True),
    ("x" * 129, False), ("has space", False), ("<script>", False), ("", False),
])
def test_a_sane_incoming_request_id_is_kept_and_others_replaced(sent: str, kept: bool,
                                                                bare_client: TestClient) -> None:
    answered = bare_client.get("/health", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert (answered == sent) is kept
    if not kept:
        assert GENERATED.match(answered)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.mark.timeout(60)
def test_served_log_lines_carry_the_request_id() -> None:
    """Through uvicorn with `chanjiao serve`'s logging: the access line and the service's own
    warning (the database is unreachable here) both name the request."""
    out = io.StringIO()
    config = log_config()
    for handler in config["handlers"].values():
        handler.pop("stream", None)
        handler["class"] = "logging.StreamHandler"
        handler["stream"] = out
    config["formatters"]["default"]["use_colors"] = False
    config["formatters"]["access"]["use_colors"] = False
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(database_url="sqlite://")), log_config=config,
                                           lifespan="off"))
    sock = _free_socket()
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        response = httpx.get(f"http://127.0.0.1:{port}{API}/colleges", timeout=10,
                             headers={"X-Request-ID": "trace-42", "Authorization": "Bearer cj_unknown"})
        assert response.headers["X-Request-ID"] == "trace-42"
        assert response.status_code == 503
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
    lines = [line for line in out.getvalue().splitlines() if "trace-42" in line]
    assert any("chanjiao.api" in line and "database unavailable" in line for line in lines), out.getvalue()
    assert any(f'"GET {API}/colleges HTTP/1.1" 503' in line for line in lines), out.getvalue()
    # Lines outside any request say so rather than carrying a stale id.
    assert any("[-]" in line for line in out.getvalue().splitlines()), out.getvalue()


def test_latency_is_recorded_by_route_template(app_client: TestClient, world: World) -> None:
    for object_id in (123, 456, 789):
        assert app_client.get(f"{API}/openings/{object_id}", headers=world.h("enterprise_a")).status_code == 404
    app_client.get("/wp-admin/setup.php")
    samples = _samples(app_client)
    count = "chanjiao_http_request_duration_seconds_count"
    assert _sample(samples, count, method="GET", route=f"{API}/openings/{{object_id}}", status="404") == 3
    assert _sample(samples, count, method="GET", route="unmatched", status="404") == 1
    routes = {dict(labels).get("route") for name, labels in samples if name == count}
    assert not any(route and re.search(r"/\d+", route) for route in routes), routes
    assert "/wp-admin/setup.php" not in routes


@pytest.fixture
def worker(session_factory: sessionmaker[Session]) -> Worker:
    settings = Settings(database_url="sqlite://", solve_in_subprocess=False, allocation_executor="inline",
                        worker_heartbeat_s=3600)
    return Worker(session_factory, settings, owner="test-worker")


def test_runs_by_status_and_phase_durations(app_client: TestClient, world: World, session: Session,
                                            worker: Worker) -> None:
    # One run through the API and the worker, which records its phase times on the run.
    submitted = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                                headers=world.h("scheduler"))
    assert submitted.status_code == 202, submitted.text
    assert worker.run_once() == submitted.json()["id"]
    run = app_client.get(submitted.headers["Location"], headers=world.h("scheduler")).json()
    assert run["status"] in {"succeeded", "infeasible"} and run["phase_times"], run

    # And rows as other workers left them (queued after this worker's claim).
    now = utcnow()
    session.add_all([
        AllocationRun(kind=RunKind.INTERNSHIP, term=TERM, scope={"term": TERM}, scope_key="a", status=RunStatus.FAILED,
                      finished_at=now, phase_times={"load": 0.2, "solve": 1.5}),
        AllocationRun(kind=RunKind.LECTURER, term=TERM, scope={"term": TERM}, scope_key="b", status=RunStatus.QUEUED),
    ])
    session.commit()

    samples = _samples(app_client)
    runs = "chanjiao_allocation_runs"
    assert _sample(samples, runs, kind="internship", status=run["status"]) == 1
    assert _sample(samples, runs, kind="internship", status="failed") == 1
    assert _sample(samples, runs, kind="lecturer", status="queued") == 1
    assert _sample(samples, runs, kind="lecturer", status="succeeded") == 0  # present, not missing
    phase = "chanjiao_allocation_run_phase_seconds"
    assert _sample(samples, f"{phase}_count", kind="internship", phase="solve") == 2
    stored = run["phase_times"]["solve"]
    assert _sample(samples, f"{phase}_sum", kind="internship", phase="solve") == pytest.approx(1.5 + stored)
    assert _sample(samples, f"{phase}_bucket", kind="internship", phase="load", le="+Inf") == 2
    assert _sample(samples, f"{phase}_bucket", kind="internship", phase="solve", le="1.0") == (stored <= 1.0)
    assert set(run["phase_times"]) <= {dict(labels)["phase"] for name, labels in samples
                                       if name == f"{phase}_count"}
    assert _sample(samples, "chanjiao_database_up") == 1


def test_metrics_answer_when_the_database_does_not(bare_client: TestClient) -> None:
    bare_client.get("/health")  # SELECT 1 still works; the tables are what is missing
    samples = _samples(bare_client)
    assert _sample(samples, "chanjiao_database_up") == 0
    assert _sample(samples, "chanjiao_http_request_duration_seconds_count", method="GET", route="/health",
                   status="200") == 1
    assert not [name for name, _ in samples if name.startswith("chanjiao_allocation_runs")]


def test_metrics_are_not_in_the_api_schema(bare_client: TestClient) -> None:
    schema: dict[str, Any] = bare_client.get("/openapi.json").json()
    assert "/metrics" not in schema["paths"]
