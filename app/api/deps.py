"""Request-scoped dependencies: the unit of work and the caller.

A request is a unit of work: the session begins with the request, commits when the endpoint
returns (before the response is sent, so a failed commit is never reported as success) and rolls
back on any error.  A write whose reading and checking takes long (an import) uses a staged unit
instead: it reads in a deferred transaction, then writes in one short unit (``StagedDep``), so
SQLite's one write lock is held only for the writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.ratelimit import record_failed_key, refuse_if_guessing
from app.db.engine import StagedUnit, staged_unit, unit_of_work
from app.errors import Unauthorized, field_error
from app.schemas import MAX_ID
from app.security import Principal
from app.services.auth import authenticate
from app.text_guard import MESSAGE as TEXT_MESSAGE
from app.text_guard import first_with_control_characters

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")


def get_session(request: Request) -> Iterator[Session]:
    # Every route that reaches the database comes through here: a control character in the path or
    # the query string (filters, cursors) is refused before any of them becomes a query parameter.
    reject_control_characters(request)
    factories = request.app.state.session_factories
    yield from unit_of_work(factories.read if request.method in _SAFE_METHODS else factories.write)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_staged(request: Request) -> Iterator[StagedUnit]:
    reject_control_characters(request)
    factories = request.app.state.session_factories
    yield from staged_unit(factories.read, factories.write)


StagedDep = Annotated[StagedUnit, Depends(get_staged, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer cj_...`")


def reject_control_characters(request: Request) -> None:
    for location, pairs in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        name = first_with_control_characters(pairs)
        if name is not None:
            raise field_error(name if _PLAIN_NAME.match(name) else "*", f"{location} parameter {TEXT_MESSAGE}",
                              location=location)


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return _principal(request, session, credentials)


def get_staged_principal(
    request: Request,
    unit: StagedDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of a staged route, read without taking the write lock."""
    return _principal(request, unit.read, credentials)


def _principal(request: Request, session: Session, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("an API key is required: Authorization: Bearer <key>",
                           headers={"WWW-Authenticate": "Bearer"})
    refuse_if_guessing(request)
    principal = authenticate(session, credentials.credentials)
    if principal is None:
        record_failed_key(request)
        raise Unauthorized("the API key is not valid", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
StagedPrincipalDep = Annotated[Principal, Depends(get_staged_principal)]

# An id in a path: bounded like the columns, so a huge number is a 422, not a database overflow.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
