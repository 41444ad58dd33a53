"""Rate limits on key-authenticated requests (slowapi), keyed by the API key's hash.

Keyed by key, not by client address: a province's colleges often sit behind one NAT, and one
noisy integration should exhaust only its own budget.  Failed authentication is the exception:
every guessed key would have a fresh bucket of its own, so failures are counted per client
address (:func:`refuse_if_guessing`, :func:`record_failed_key`), and an address over its budget
is refused before its key is even looked up, right key or not.  Requests without a bearer token are not
counted here: the API answers them 401 before touching the database, and counting them in one
shared bucket would let anyone starve the health checks.  The buckets live in process memory
(``rate_limit_storage_uri`` moves them to Redis/memcached when several server processes run).
"""

from __future__ import annotations

import math
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE
from app.errors import TooManyRequests
from app.security import hash_api_key
from app.settings import Settings


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def key_of(request: Request) -> str:
    # The hash, never the key: slowapi logs the bucket name when a limit is hit.
    token = _bearer_token(request.scope)
    return "key:" + hash_api_key(token)[:32] if token else ""


class KeyedRateLimit:
    """Counts every request that carries a bearer token against the limiter's application limits.

    slowapi's own middlewares look the endpoint up in ``app.routes``, which FastAPI (0.120+) fills
    with included-router wrappers that carry no endpoint, so they would exempt every API route.
    Application limits are global (one bucket per key for all routes), so the endpoint is not
    needed: this calls the same check slowapi's middleware calls, without the lookup.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _bearer_token(scope) is not None:
            request = Request(scope, receive)
            limiter: Limiter = request.app.state.limiter
            if limiter.enabled:
                try:
                    limiter._check_request_limit(request, None, True)
                except RateLimitExceeded as exc:
                    response = await _too_many(request, exc)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def _too_many(request: Request, exc: Exception) -> JSONResponse:
    limiter: Limiter = request.app.state.limiter
    retry_after = 1
    hit = getattr(request.state, "view_rate_limit", None)
    if hit is not None:
        limit, args = hit
        reset_at, _remaining = limiter.limiter.get_window_stats(limit, *args)
        retry_after = max(1, math.ceil(reset_at - time.time()))
    detail = f"rate limit exceeded ({getattr(exc, 'detail', '')}); retry after {retry_after} s"
    body = {"type": TYPE_BASE + "rate-limited", "title": "Too many requests", "status": 429,
            "detail": detail, "instance": request.url.path}
    return JSONResponse(body, status_code=429, media_type=PROBLEM_MEDIA_TYPE,
                        headers={"Retry-After": str(retry_after)})


_FAILED_KEYS = "failed-key"


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def refuse_if_guessing(request: Request) -> None:
    """429 when the caller's address has failed authentication too often within the window."""
    limiter: Limiter = request.app.state.limiter
    budget: RateLimitItem = request.app.state.failed_key_limit
    if not limiter.enabled:
        return
    address = _client_address(request)
    if limiter.limiter.test(budget, _FAILED_KEYS, address):
        return
    reset_at, _remaining = limiter.limiter.get_window_stats(budget, _FAILED_KEYS, address)
    retry_after = max(1, math.ceil(reset_at - time.time()))
    raise TooManyRequests(f"too many invalid API keys from this address; retry after {retry_after} s",
                          headers={"Retry-After": str(retry_after)})


def record_failed_key(request: Request) -> None:
    limiter: Limiter = request.app.state.limiter
    if limiter.enabled:
        limiter.limiter.hit(request.app.state.failed_key_limit, _FAILED_KEYS, _client_address(request))


def install_rate_limits(app: FastAPI, settings: Settings) -> None:
    limiter = Limiter(key_func=key_of, application_limits=[settings.rate_limit],
                      storage_uri=settings.rate_limit_storage_uri, strategy="moving-window",
                      enabled=settings.rate_limit_enabled)
    app.state.limiter = limiter
    app.state.failed_key_limit = parse(settings.failed_key_limit)
    app.add_middleware(KeyedRateLimit)
