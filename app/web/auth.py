"""Sign-in, sign-out, changing one's password, the language switch and the home page of each role."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.db.models import Role
from app.errors import Unprocessable
from app.services.signin_guard import SignInGuard
from app.services.users import (
    MIN_PASSWORD,
    change_own_password,
    check_password,
    end_session,
    record_sign_in,
    start_session,
)
from app.web.core import (
    SESSION_KEY,
    DbDep,
    StagedDbDep,
    UserDep,
    WebRoute,
    check_csrf,
    flash,
    gettext_of,
    redirect,
    render,
    safe_next,
    signed_in,
)
from app.web.i18n import COOKIE, LOCALES

router = APIRouter(route_class=WebRoute, dependencies=[Depends(check_csrf)], include_in_schema=False)

HOME = {Role.PLACEMENT_OFFICE: "/dashboard", Role.ENTERPRISE_HR: "/dashboard", Role.SCHEDULER: "/runs",
        Role.ADMIN: "/runs"}
ONE_YEAR = 365 * 24 * 3600


@router.get("/")
def home(request: Request, session: DbDep) -> Response:
    live = signed_in(request, session)
    return redirect(HOME[live.user.principal.role] if live else "/login")


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next, ""), "errors": {}, "username": ""})


@router.post("/login")
def login(request: Request, unit: StagedDbDep, username: Annotated[str, Form(max_length=100)],
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
            "errors": {"username": _("Too many failed sign-ins. Try again in %(minutes)d minutes.") % {
                "minutes": minutes}}},
            status_code=429)
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    # The password is checked with reads only; only an accepted one takes the write lock, briefly.
    checked = check_password(unit.read, username, password)
    signed, token = None, None
    if checked is not None:
        with unit.write() as session:
            signed = record_sign_in(session, checked)
            if signed is not None:
                token = start_session(session, signed.user_id, request.app.state.session_policy)
    if signed is None or token is None:
        guard.failed(username)  # in memory: a failure writes nothing to the database
        return render(request, "login.html", {"next": safe_next(next, ""), "username": username,
                                              "errors": {"username": _("Wrong username or password.")}},
                      status_code=401)
    guard.succeeded(username)
    # A fresh session at sign-in: nothing planted before it (a token, a session id) survives.
    request.session.clear()
    request.session[SESSION_KEY] = token
    return redirect(safe_next(next, HOME[signed.principal.role]))


@router.post("/logout")
def logout(request: Request, session: DbDep) -> Response:
    token = request.session.get(SESSION_KEY)
    if isinstance(token, str):
        end_session(session, token)  # every copy of this cookie ends with it, not only this browser's
    request.session.clear()
    return redirect("/login")


@router.get("/account/password")
def password_form(request: Request, user: UserDep) -> Response:
    return render(request, "password.html", {"errors": {}, "min_length": MIN_PASSWORD})


@router.post("/account/password")
def change_password(request: Request, session: DbDep, user: UserDep,
                    current_password: Annotated[str, Form(max_length=1000)],
                    new_password: Annotated[str, Form(max_length=1000)],
                    confirm_password: Annotated[str, Form(max_length=1000)]) -> Response:
    guard: SignInGuard = request.app.state.signin_guard
    _ = gettext_of(request).gettext

    def refused(message: str, status: int, field: str = "__all__") -> Response:
        return render(request, "password.html", {"errors": {field: message}, "min_length": MIN_PASSWORD},
                      status_code=status)

    # The current password is asked for so that a borrowed session cannot take the account over;
    # guesses at it count against the same lock as sign-in.
    if guard.retry_after(user.username) is not None:
        return refused(_("Too many wrong passwords. Try again later."), 429)
    if new_password != confirm_password:
        return refused(_("The two new passwords differ."), 422, "confirm_password")
    try:
        token = change_own_password(session, user.user_id, current_password, new_password,
                                    request.app.state.session_policy)
    except Unprocessable:
        return refused(_("The new password needs at least %(count)d characters.") % {"count": MIN_PASSWORD}, 422,
                       "new_password")
    if token is None:
        guard.failed(user.username)
        return refused(_("The current password is wrong."), 403, "current_password")
    guard.succeeded(user.username)
    request.session[SESSION_KEY] = token
    flash(request, "ok", _("Password changed. Every other session of yours has been signed out."))
    return redirect(HOME[user.principal.role])


@router.get("/lang/{locale}")
def switch_language(locale: str, next: str | None = None) -> Response:
    # Only a display preference: safe as a link (GET), and the target stays on this site.
    response = RedirectResponse(safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(COOKIE, locale, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return response
