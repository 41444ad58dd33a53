"""What every page shares: the unit of work, the signed-in user, CSRF checks, rendering, errors.

Routes stay thin: they parse a form or query, call one service (the same services as the API) and
render a template.  A service error becomes an HTML page (or an htmx fragment) with the same
status the API would return.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BeforeValidator, Field
from sqlalchemy.orm import Session

from app.db.engine import StagedUnit, staged_unit, unit_of_work
from app.db.models import Role
from app.errors import ChanjiaoError, Forbidden, Unprocessable
from app.schemas import MAX_ID
from app.security import Principal
from app.services.users import LiveSession, SignedIn, live_session, touch_session
from app.terms import SEASONS, season_year
from app.text_guard import first_with_control_characters
from app.web.forms import error_links
from app.web.i18n import COOKIE, Gettext, choose_locale
from app.web.messages import reason_messages, service_message, validation_message
from app.web.tables import stack_tables

TEMPLATES_DIR = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(("html", "svg")),
    extensions=["jinja2.ext.i18n"],
    undefined=StrictUndefined,  # a misspelt variable is an error in tests, not a blank on a page
    trim_blocks=True,
    lstrip_blocks=True,
)


def local_time(value: datetime | None, zone: str) -> str:
    """A stored time as people read it: in the service's zone, with the offset shown."""
    if value is None:
        return "—"
    if value.tzinfo is None:  # SQLite hands back the stored UTC time without its zone
        value = value.replace(tzinfo=UTC)
    shown = value.astimezone(ZoneInfo(zone))
    offset = shown.strftime("%z")
    return shown.strftime("%Y-%m-%d %H:%M") + f" (UTC{offset[:3]}:{offset[3:]})"


env.filters["localtime"] = local_time
env.globals["error_links"] = error_links



def term_label(term: str, locale: str) -> str:
    """A term as people say it: 2027-spring is 2027年春季学期 (Spring 2027); other spellings as written."""
    parts = season_year(term or "")
    if parts is None:
        return term
    year, season = parts
    zh, en = SEASONS[season]
    return f"{year}年{zh}学期" if locale.startswith("zh") else f"{en} {year}"


env.filters["term_label"] = term_label


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Marks a message for the catalogue that is translated later, where it is shown."""
    return message


# The titles of app.errors, shown on error pages.
ERROR_TITLES = [N_("Bad request"), N_("Unauthorized"), N_("Forbidden"), N_("Not found"), N_("Conflict"),
                N_("Precondition failed"), N_("Payload too large"), N_("Unsupported media type"),
                N_("Unprocessable content"), N_("Precondition required"), N_("Service unavailable")]


class LoginRequired(Exception):
    """No signed-in user: send the browser to the sign-in page."""


class CsrfRefused(Exception):
    """A form POST without the session's CSRF token."""


# --------------------------------------------------------------------------- request state


def gettext_of(request: Request) -> Gettext:
    found = getattr(request.state, "gettext", None)
    if found is None:
        found = Gettext(choose_locale(request.cookies.get(COOKIE), request.headers.get("accept-language")))
        request.state.gettext = found
    return found


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Synchronizer token: every unsafe request carries the token kept in the signed session,
    as a form field or (htmx) a header; a cross-site form cannot read it."""
    if request.method in _SAFE:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # Starlette caches it for the endpoint's Form parameters
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not secrets.compare_digest(expected, sent):
        raise CsrfRefused


def get_db(request: Request) -> Iterator[Session]:
    """One request, one transaction: committed when the page is built, rolled back on error."""
    factories = request.app.state.session_factories
    yield from unit_of_work(factories.read if request.method in _SAFE else factories.write)


DbDep = Annotated[Session, Depends(get_db, scope="function")]


SESSION_KEY = "sid"  # the cookie's field holding the server-side session's token


def signed_in(request: Request, session: Session) -> LiveSession | None:
    """The live server-side session named by the cookie, if any."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    return live_session(session, token, request.app.state.session_policy)


def get_staged_db(request: Request) -> Iterator[StagedUnit]:
    """For a form whose work (hashing a password, checking a file) comes long before its write:
    reads in a deferred transaction, then one short write (see ``app.db.engine.StagedUnit``)."""
    factories = request.app.state.session_factories
    yield from staged_unit(factories.read, factories.write)


StagedDbDep = Annotated[StagedUnit, Depends(get_staged_db, scope="function")]


def current_user(request: Request, session: DbDep) -> SignedIn:
    return _live_user(request, session, reading=request.method in _SAFE)


def current_user_staged(request: Request, unit: StagedDbDep) -> SignedIn:
    return _live_user(request, unit.read, reading=True)


def _live_user(request: Request, session: Session, *, reading: bool) -> SignedIn:
    live = signed_in(request, session)
    if live is None:
        request.session.pop(SESSION_KEY, None)
        raise LoginRequired
    if live.needs_touch:
        if reading:
            # A page view runs in a read transaction; the idle clock moves in a short write of its own.
            for writer in unit_of_work(request.app.state.session_factories.write):
                touch_session(writer, live.session_id)
        else:
            touch_session(session, live.session_id)
    request.state.user = live.user
    return live.user


UserDep = Annotated[SignedIn, Depends(current_user)]
StagedUserDep = Annotated[SignedIn, Depends(current_user_staged)]


def require(user: SignedIn, *roles: Role) -> Principal:
    """The user's principal when their role may use the page (admins may use every page)."""
    if user.principal.role is not Role.ADMIN and user.principal.role not in roles:
        raise Forbidden("this page is not for your role", code="wrong_role")
    return user.principal


def flash(request: Request, kind: str, message: str) -> None:
    messages = list(request.session.get("flash", []))
    messages.append([kind, message])
    request.session["flash"] = messages[-5:]


def safe_next(target: str | None, default: str = "/") -> str:
    # Only local paths: "//host" and "/\\host" would leave the site (open redirect).
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# --------------------------------------------------------------------------- rendering


NAV: dict[Role, list[tuple[str, str]]] = {
    Role.PLACEMENT_OFFICE: [("/programs", "Programs"), ("/students", "Students"), ("/placements", "Placements"),
                            ("/course-needs", "Course needs"), ("/partnerships", "Partnerships")],
    Role.ENTERPRISE_HR: [("/openings", "Openings"), ("/lecturers", "Lecturer offers"), ("/interns", "Interns"),
                         ("/lecturers/placements", "Lecturers' placements"), ("/partnerships", "Partnerships")],
    Role.SCHEDULER: [("/runs", "Allocation runs"), ("/runs/compare", "Compare"), ("/alliances", "Alliances")],
}
NAV[Role.ADMIN] = NAV[Role.SCHEDULER] + [("/programs", "Programs"), ("/openings", "Openings")]


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    g = gettext_of(request)
    user: SignedIn | None = getattr(request.state, "user", None)
    messages = request.session.pop("flash", []) if "flash" in request.session else []
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "nav": NAV.get(user.principal.role, []) if user else [],
        "csrf_token": csrf_token(request),
        "locale": g.locale,
        "html_lang": g.html_lang,
        "gettext": g.gettext,
        "ngettext": g.ngettext,
        "_": g.gettext,
        "flashes": messages,
        "path": request.url.path,
        "query": request.url.query,
        "tz": request.app.state.settings.timezone,
        # The office's calendar day, for date fields that default to today (an agreement signed now).
        "today": datetime.now(ZoneInfo(request.app.state.settings.timezone)).date().isoformat(),
        **(context or {}),
    }
    html = stack_tables(env.get_template(template).render(values))
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Language"] = g.html_lang
    # Pages show tenant data: never from a shared cache, and a back button re-asks after sign-out.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response


def error_page(request: Request, status: int, title: str, detail: str,
               errors: list[dict[str, Any]] | None = None) -> HTMLResponse:
    template = "fragments/error.html" if is_htmx(request) else "error.html"
    return render(request, template, {"status": status, "title": title, "detail": detail,
                                      "errors": errors or []}, status_code=status)


class WebRoute(APIRoute):
    """Turns the exceptions of a page into pages: sign-in redirects, CSRF refusals, service errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                await _reject_control_characters(request)
                return await handler(request)
            except LoginRequired:
                target = "/login?next=" + quote(safe_next(request.url.path + (
                    "?" + request.url.query if request.url.query else "")), safe="/")
                if is_htmx(request):
                    return Response(status_code=204, headers={"HX-Redirect": target})
                return redirect(target)
            except CsrfRefused:
                _ = gettext_of(request).gettext
                return error_page(request, 403, _("Forbidden"),
                                  _("The form had expired or did not come from this site. Reload the page and "
                                    "try again."))
            except ChanjiaoError as exc:
                g = gettext_of(request)
                raw: list[Any] = exc.extra.get("errors") or []
                errors = [{"loc": e.get("loc", []), "msg": validation_message(g, e)} for e in raw
                          if isinstance(e, dict)]
                reasons: list[dict[str, Any]] = [r for r in exc.extra.get("reasons") or [] if isinstance(r, dict)]
                errors += [{"loc": [], "msg": text} for text in reason_messages(g, reasons)]
                return error_page(request, exc.status, g.gettext(exc.title), service_message(g, exc), errors)
            except RequestValidationError as exc:
                # A malformed path or query (an id beyond the columns' range, a letter for a number).
                g = gettext_of(request)
                _ = g.gettext
                fields = [{"loc": [str(part) for part in err.get("loc", ())], "msg": validation_message(g, dict(err))}
                          for err in exc.errors()]
                return error_page(request, 422, _("Unprocessable content"),
                                  _("The address or the form has invalid values."), fields)

        return page


async def _reject_control_characters(request: Request) -> None:
    """The query string and the form fields of every page, before any of them reaches a query
    (the API's schemas do the same for bodies; see app.text_guard)."""
    name = first_with_control_characters(request.query_params.multi_items())
    if name is None and request.method not in _SAFE:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # Starlette caches it for the endpoint's Form parameters
            name = first_with_control_characters((key, value) for key, value in form.multi_items()
                                                 if isinstance(value, str))
    if name is not None:
        _ = gettext_of(request).gettext
        raise Unprocessable(_("The text must not contain control characters (such as NUL)."),
                            code="control_characters")


# An id in a page's path or query: bounded like the columns, so a huge number is a 422 page.
WebId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
def _blank_is_none(value: Any) -> Any:
    # A form's "all" choice (全部专业) submits the field empty: that is no filter, not a bad number.
    return None if isinstance(value, str) and not value.strip() else value


WebIdQuery = Annotated[Annotated[int, Field(ge=1, le=MAX_ID)] | None, BeforeValidator(_blank_is_none), Query()]
WebIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None, Query(max_length=10)]
# A grade bound of a list filter (成绩 0–100); empty is no bound.
WebGradeQuery = Annotated[Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None,
                          BeforeValidator(_blank_is_none), Query()]
# A 年级 (year of enrolment) filter; empty is every year.
WebCohortQuery = Annotated[Annotated[int, Field(ge=1950, le=2100)] | None, BeforeValidator(_blank_is_none), Query()]
