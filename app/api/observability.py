"""Request ids and Prometheus metrics.

Every response carries ``X-Request-ID`` (the caller's own when it is a sane token, else a new one)
and every log line written while the request is served names it, so one request can be followed
from the client through the access log to the service's warnings.  ``GET /metrics`` serves, in
Prometheus' text format, request latency by route template (``/api/v1/openings/{object_id}``, never
the raw path, which would make a series per id), and allocation runs by status with their phase
durations, read from the database at scrape time because the workers are other processes.
"""

from __future__ import annotations

import copy
import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.run_metrics import run_metrics

log = logging.getLogger("chanjiao.api")

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy or client typically sends (a UUID, a trace id); anything else, or anything longer,
# is replaced so that a log line cannot be forged or bloated through the header.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
UNMATCHED = "unmatched"  # requests that matched no route: one series, not one per probed path

request_id: ContextVar[str | None] = ContextVar("chanjiao_request_id", default=None)

# Request latencies from a millisecond read to a large import.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Run phases last from milliseconds (store of a small scope) to the solver's time limit.
PHASE_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def incoming_or_new(value: str | None) -> str:
    if value and _SANE_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record ("-" outside a request), for ``%(request_id)s``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the request id on every line, and the service's own
    loggers (``chanjiao.*``) printed through the same handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"request_id": {"()": f"{__name__}.RequestIdFilter"}}
    config["formatters"]["default"]["fmt"] = "%(asctime)s %(levelprefix)s [%(request_id)s] %(name)s: %(message)s"
    config["formatters"]["access"]["fmt"] = (
        '%(asctime)s %(levelprefix)s [%(request_id)s] %(client_addr)s - "%(request_line)s" %(status_code)s')
    for handler in config["handlers"].values():
        handler["filters"] = ["request_id"]
    config["loggers"]["chanjiao"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def route_template(scope: Scope) -> str:
    """The template of the route that served the request, as the router left it on the scope."""
    # FastAPI >= 0.13x keeps an included router's routes without their prefix and puts the full
    # template on its own route context; earlier releases copied each route with the full path.
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    for path in (getattr(context, "path", None), getattr(scope.get("route"), "path", None)):
        if isinstance(path, str) and path.startswith("/"):
            return path
    if scope.get("endpoint") is not None and scope.get("root_path"):
        return f"{scope['root_path']}/{{path}}"  # a mount (static files): one series for all its files
    return UNMATCHED


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram("chanjiao_http_request_duration_seconds",
                                 "Time to answer a request, by method, route template and status code.",
                                 ["method", "route", "status"], registry=registry, buckets=LATENCY_BUCKETS)


class RequestObservation:
    """ASGI middleware (outermost): request id in, request id out, latency recorded."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = incoming_or_new(incoming)
        token = request_id.set(rid)
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", rid.encode("ascii"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.latency.labels(scope["method"], route_template(scope), str(status)).observe(
                time.perf_counter() - started)
            request_id.reset(token)


class RunsCollector(Collector):
    """Allocation runs by kind and status, and their phase durations, from the store."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily | HistogramMetricFamily]:
        up = GaugeMetricFamily("chanjiao_database_up", "1 when /metrics could read the database.")
        try:
            with self.sessions() as session:
                metrics = run_metrics(session)
        except SQLAlchemyError as exc:
            log.warning("metrics: database unreachable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        runs = GaugeMetricFamily("chanjiao_allocation_runs", "Allocation runs by kind and status.",
                                 labels=["kind", "status"])
        for (kind, status), n in sorted(metrics.by_status.items()):
            runs.add_metric([kind, status], n)
        yield runs
        phases = HistogramMetricFamily("chanjiao_allocation_run_phase_seconds",
                                       "Duration of each phase of finished allocation runs.",
                                       labels=["kind", "phase"])
        for (kind, phase), seconds in sorted(metrics.phase_seconds.items()):
            buckets = [(str(bound), sum(1 for s in seconds if s <= bound)) for bound in PHASE_BUCKETS]
            phases.add_metric([kind, phase], [*buckets, ("+Inf", len(seconds))], sum_value=sum(seconds))
        yield phases


def install_observability(app: FastAPI, read_sessions: sessionmaker[Session]) -> None:
    """Add last, so that it wraps every other middleware and sees the status the client gets."""
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    registry.register(RunsCollector(read_sessions))
    router = APIRouter()

    # Unauthenticated, like every Prometheus target: counts and timings only, no tenant's data.
    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    app.add_middleware(RequestObservation, metrics=HttpMetrics(registry))
