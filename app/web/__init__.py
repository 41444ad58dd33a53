"""The web UI: server-rendered pages (Jinja2 + htmx) on the same services as the API.

``install_web`` adds the pages, the vendored static files and the signed cookie session to the
application.  The cookie carries the CSRF token, flash messages and the token of a server-side
session (``web_sessions``); who is signed in is decided by that row, not by the cookie.  Pages
live at the site root; the API stays under /api/v1.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from app.services.signin_guard import SignInGuard
from app.services.users import SessionPolicy
from app.settings import Settings

SESSION_COOKIE = "chanjiao_session"


def install_web(app: FastAPI, settings: Settings) -> None:
    from app.web import auth, course_needs, dashboard, hr, office, partnerships, scheduler
    from app.web.notices import install_mail
    from app.web.secret import session_secret

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (auth, dashboard, office, course_needs, hr, scheduler, partnerships):
        app.include_router(module.router)
    # SameSite=Lax keeps the cookie off cross-site POSTs; the CSRF token covers the rest.  The
    # browser may keep the cookie as long as a session can live; the server decides whether it still does.
    app.add_middleware(SessionMiddleware, secret_key=session_secret(settings), session_cookie=SESSION_COOKIE,
                       max_age=int(settings.session_lifetime_s), same_site="lax",
                       https_only=settings.session_cookie_secure)
    app.state.session_policy = SessionPolicy(idle_timeout=timedelta(seconds=settings.session_idle_timeout_s),
                                             lifetime=timedelta(seconds=settings.session_lifetime_s))
    app.state.signin_guard = SignInGuard(settings.login_max_failures, settings.login_lockout_s)
    install_mail(app, settings)
