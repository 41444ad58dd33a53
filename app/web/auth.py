"""Sign-in, sign-out, the language switch and the home page of each role."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.db.models import Role
from app.services.signin_guard import SignInGuard
from app.services.users import authenticate_user, session_user
from app.web.core import (
    DbDep,
    WebRoute,
    check_csrf,
    gettext_of,
    redirect,
    render,
    safe_next,
)
from app.web.i18n import COOKIE, LOCALES

router = APIRouter(route_class=WebRoute, dependencies=[Depends(check_csrf)], include_in_schema=False)

HOME = {Role.PLACEMENT_OFFICE: "/programs", Role.ENTERPRISE_HR: "/openings", Role.SCHEDULER: "/runs",
        Role.ADMIN: "/runs"}
ONE_YEAR = 365 * 24 * 3600


@router.get("/")
def home(request: Request, session: DbDep) -> Response:
    user_id = request.session.get("user_id")
    user = session_user(session, user_id) if isinstance(user_id, int) else None
    return redirect(HOME[user.principal.role] if user else "/login")


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next, ""), "error": None, "username": ""})


@router.post("/login")
def login(request: Request, session: DbDep, username: Annotated[str, Form(max_length=100)],
          password: Annotated[str, Form(max_length=1000)],
          next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    guard: SignInGuard = request.app.state.signin_guard
    _ = gettext_of(request).gettext
    wait = guard.retry_after(username)
    if wait is not None:
        # Refused before the password is checked: a locked name cannot be guessed further.
        minutes = max(1, math.ceil(wait / 60))
        response = render(request, "login.html", {
            "next": safe_next(next, ""), "username": username,
            "error": _("Too many failed sign-ins. Try again in %(minutes)d minutes.") % {"minutes": minutes}},
            status_code=429)
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    signed = authenticate_user(session, username, password)
    if signed is None:
        guard.failed(username)
        return render(request, "login.html", {"next": safe_next(next, ""), "username": username,
                                              "error": _("Wrong username or password.")}, status_code=401)
    guard.succeeded(username)
    # A fresh session at sign-in: nothing planted before it (a token, a user id) survives.
    request.session.clear()
    request.session["user_id"] = signed.user_id
    return redirect(safe_next(next, HOME[signed.principal.role]))


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return redirect("/login")


@router.get("/lang/{locale}")
def switch_language(locale: str, next: str | None = None) -> Response:
    # Only a display preference: safe as a link (GET), and the target stays on this site.
    response = RedirectResponse(safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(COOKIE, locale, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return response
