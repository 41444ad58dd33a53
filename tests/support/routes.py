"""The routes an application serves, as (path, methods, path regex, endpoint): FastAPI 0.165
keeps included routers as wrappers (``_IncludedRouter``) in ``app.routes``, with their routes
behind ``effective_route_contexts()``; a walk over ``app.routes`` alone sees none of them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI


@dataclass(frozen=True)
class Served:
    path: str
    methods: frozenset[str]
    path_regex: re.Pattern[str]
    endpoint: Callable[..., Any]


def served_routes(app: FastAPI) -> Iterator[Served]:
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            for ctx in contexts():
                yield Served(ctx.path, frozenset(ctx.methods or ()), ctx.path_regex, ctx.endpoint)
        elif hasattr(route, "endpoint") and hasattr(route, "path_regex"):
            yield Served(route.path, frozenset(getattr(route, "methods", None) or ()), route.path_regex, route.endpoint)
