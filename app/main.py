"""The FastAPI application: REST API under /api/v1, docs at /docs, health at /health."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.api import catalog, health, matches, partnerships, runs, transfer
from app.api.crud import crud_router
from app.api.headers import SecurityHeaders, quiet_access_log
from app.api.limits import BodySizeLimit
from app.api.observability import install_observability
from app.api.operation_ids import operation_id
from app.api.problems import UnhandledErrors, document_common_problems, install_problem_handlers
from app.api.ratelimit import install_rate_limits
from app.api.resources import RESOURCES
from app.db.engine import make_engine, make_session_factory, read_only
from app.settings import Settings, get_settings
from app.web import install_web

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class SessionFactories:
    write: sessionmaker[Session]
    read: sessionmaker[Session]


def create_app(settings: Settings | None = None, engine: Engine | None = None,
               session_factories: SessionFactories | None = None) -> FastAPI:
    settings = settings or get_settings()
    if session_factories is None:
        engine = engine or make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                                       echo=settings.sql_echo)
        session_factories = SessionFactories(write=make_session_factory(engine),
                                             read=make_session_factory(read_only(engine)))
    app = FastAPI(
        title="chanjiao API",
        version="0.1.0",
        summary="Matching and allocation for school–enterprise cooperation in vocational education (产教融合).",
        description=(
            "Authenticate with `Authorization: Bearer <key>` (create one with `chanjiao keys create`). "
            "Errors are RFC 9457 problem+json. Lists are cursor-paginated: pass `next_cursor` as `cursor`."
        ),
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.session_factories = session_factories
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(transfer.router, prefix=API_PREFIX)  # before CRUD: /students/export vs /{id}
    for resource in RESOURCES:
        app.include_router(crud_router(resource, page_size_default=settings.page_size_default,
                                       page_size_max=settings.page_size_max), prefix=API_PREFIX)
    app.include_router(catalog.router, prefix=API_PREFIX)
    app.include_router(runs.router, prefix=API_PREFIX)
    app.include_router(matches.router, prefix=API_PREFIX)
    app.include_router(partnerships.router, prefix=API_PREFIX)

    install_web(app, settings)  # the pages, at the site root

    app.add_middleware(BodySizeLimit, default_limit=settings.max_request_bytes,
                       upload_limit=settings.max_import_bytes)
    install_rate_limits(app, settings)  # outside the body limit: oversized requests count too
    document_common_problems(app)
    app.add_middleware(UnhandledErrors)
    app.add_middleware(SecurityHeaders, hsts_max_age_s=settings.hsts_max_age_s)
    install_observability(app, session_factories.read)
    quiet_access_log()
    return app
