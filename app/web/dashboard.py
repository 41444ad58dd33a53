"""The home pages of a placement office and of enterprise HR, and everyone's notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from app.db.models import Role
from app.errors import Forbidden
from app.services.dashboards import DashboardService
from app.services.notifications import NotificationService
from app.web.core import (
    DbDep,
    UserDep,
    WebId,
    WebIdQuery,
    WebRoute,
    check_csrf,
    flash,
    gettext_of,
    redirect,
    render,
    require,
)
from app.web.notices import describe, title

router = APIRouter(route_class=WebRoute, dependencies=[Depends(check_csrf)], include_in_schema=False)

PAGE = 50
TermQuery = Annotated[str | None, Query(max_length=20)]


@router.get("/dashboard")
def dashboard(request: Request, session: DbDep, user: UserDep, term: TermQuery = None) -> Response:
    principal = require(user, Role.PLACEMENT_OFFICE, Role.ENTERPRISE_HR)
    service = DashboardService(session, principal)
    if principal.college_id is not None:
        return render(request, "dashboard/office.html", {"numbers": service.college(term or None)})
    if principal.enterprise_id is not None:
        return render(request, "dashboard/hr.html", {"numbers": service.enterprise(term or None)})
    # An admin has no college or enterprise of its own to count.
    raise Forbidden("the dashboard shows a college's or an enterprise's own term", code="wrong_role")


@router.get("/notifications")
def notifications(request: Request, session: DbDep, user: UserDep, before: WebIdQuery = None) -> Response:
    g = gettext_of(request)
    rows = NotificationService(session, user.principal).recent(limit=PAGE + 1, before_id=before)
    shown = rows[:PAGE]
    items = [{"id": n.id, "title": title(g, n.kind), "text": describe(g, n.kind, n.params),
              "created_at": n.created_at, "read": n.read_at is not None} for n in shown]
    return render(request, "notifications.html", {
        "items": items, "older": shown[-1].id if len(rows) > PAGE else None, "before": before})


@router.post("/notifications/read")
def read_all(request: Request, session: DbDep, user: UserDep) -> Response:
    count = NotificationService(session, user.principal).mark_all_read()
    _ = gettext_of(request).gettext
    flash(request, "ok", _("Marked %(n)d notifications as read.") % {"n": count})
    return redirect("/notifications")


@router.post("/notifications/{notification_id}/read")
def read_one(request: Request, notification_id: WebId, session: DbDep, user: UserDep) -> Response:
    NotificationService(session, user.principal).mark_read(notification_id)
    return redirect(f"/notifications#n{notification_id}")  # back to the item: focus stays where it was
