"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import json
import logging
import re
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ChanjiaoError

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://chanjiao.dev/problems/"

log = logging.getLogger("chanjiao.api")


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(examples=[TYPE_BASE + "not-found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = Field(default=None, description="Failing fields (422 only).")


def _response(request: Request, status: int, title: str, slug: str, detail: str | None,
              extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title, "status": status,
                            "detail": detail, "instance": request.url.path}
    if extra:
        body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=headers)


_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")


def _safe_loc(loc: Any) -> list[str | int]:
    # A location part that is not a plausible field name (an unknown key such as a person's name,
    # a free-form dict key) is data, not a name: masked like the input itself.
    return [part if isinstance(part, int) or _FIELD_NAME.match(str(part)) else "*" for part in loc]


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Echoing the rejected input back could leak personal data into logs and proxies: omit it.
    return [{"loc": _safe_loc(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")}
            for err in exc.errors()]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ChanjiaoError)
    async def _domain(request: Request, exc: ChanjiaoError) -> JSONResponse:
        return _response(request, exc.status, exc.title, exc.type_slug, exc.detail, exc.extra, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _response(request, 422, "Unprocessable content", "validation-error",
                         "the request has invalid fields", {"errors": _field_errors(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}
        return _response(request, exc.status_code, titles.get(exc.status_code, "Error"),
                         titles.get(exc.status_code, "error").lower().replace(" ", "-"),
                         str(exc.detail) if exc.detail else None, headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # The message names the constraint, never the row's values.
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        detail = "the change conflicts with existing data"
        if constraint:
            detail += f" (constraint {constraint})"
        elif "UNIQUE" in str(exc.orig):
            detail += " (a unique value is already taken)"
        elif "FOREIGN KEY" in str(exc.orig):
            detail += " (other rows still refer to it)"
        return _response(request, 409, "Conflict", "conflict", detail)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return _response(request, 412, "Precondition failed", "precondition-failed",
                         "the row was changed concurrently; read it again and retry")

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc.orig).__name__)
        return _response(request, 503, "Service unavailable", "service-unavailable",
                         "the database is unavailable; retry later", headers={"Retry-After": "5"})

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, exc: PoolTimeout) -> JSONResponse:
        return _response(request, 503, "Service unavailable", "service-unavailable",
                         "the service is busy; retry later", headers={"Retry-After": "2"})


class UnhandledErrors:
    """Turns an unexpected exception into a 500 problem and logs where it happened.

    A middleware rather than an ``Exception`` handler: Starlette re-raises after such a handler so
    that the server logs the exception with its message, and a message (a database's DETAIL
    line, an error quoting a value) can carry personal data.  Logged: the type and the frames,
    and the path without the query, for the same reason.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("unhandled %s on %s %s\n%s", type(exc).__name__, scope.get("method"), scope.get("path"), frames)
            if started:
                raise RuntimeError("the response had started when the request failed") from None
            body = json.dumps({"type": TYPE_BASE + "internal", "title": "Internal server error", "status": 500,
                               "detail": "an unexpected error occurred", "instance": scope.get("path")}).encode()
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the problem responses an operation can give."""
    text = {
        400: "Bad request", 401: "Missing or invalid API key", 403: "The caller's role may not do this",
        404: "Not found (or not visible to the caller)", 409: "Conflicts with existing data",
        412: "If-Match does not match the current ETag", 413: "Payload too large",
        415: "Unsupported media type", 422: "Invalid fields", 428: "If-Match header required",
        503: "Database unavailable",
    }
    return {
        status: {"model": Problem, "description": text.get(status, "Error"),
                 "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for status in statuses
    }


def document_common_problems(app: FastAPI) -> None:
    """Make the OpenAPI document tell the truth about errors every operation can give.

    FastAPI documents its own 422 as ``application/json`` while this API answers every error as
    problem+json; a body that is not JSON (or not UTF-8) is a 400; every key-authenticated
    operation can be rate limited (429).
    """
    generate = app.openapi
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}

    def openapi() -> dict[str, Any]:
        schema = generate()
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                invalid = responses.get("422")
                if invalid is not None and PROBLEM_MEDIA_TYPE not in invalid.get("content", {}):
                    invalid["content"] = dict(problem)
                    invalid["description"] = "Invalid fields"
                if "requestBody" in operation:
                    responses.setdefault("400", {"description": "The body is not valid JSON (or not UTF-8)",
                                                 "content": dict(problem)})
                if operation.get("security"):
                    responses.setdefault("429", {"description": "Rate limit of the API key exceeded; see Retry-After",
                                                 "content": dict(problem)})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
