"""Liveness and database reachability."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import SessionDep
from app.api.problems import problem_responses
from app.schemas import Health
from app.services.health import database_reachable

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses=problem_responses(503),
            summary="Is the service up and its database reachable?")
def health(session: SessionDep) -> Any:
    if database_reachable(session):
        return Health(status="ok", database="ok")
    return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
