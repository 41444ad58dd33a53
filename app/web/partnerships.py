"""Partnership pages: the office and HR see, propose and answer their partnerships and their
recommended partners; the scheduler sees an alliance's partnerships and runs the alliance as a scope.
Every page calls the services the API calls; the report's numbers are the API's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app.db.models import PartnershipStatus, Role
from app.errors import ChanjiaoError, Unprocessable
from app.partnership_schemas import PartnershipCreate
from app.repositories.partnerships import PartnershipRepository
from app.run_schemas import RunCreate
from app.services.partner_recommendations import PartnerRecommendationService
from app.services.partnership_reports import REPORT_COLUMNS, alliance_report, partnership_report, report_rows
from app.services.partnerships import AllianceService, PartnershipService, side_of
from app.services.resources import ProgramService
from app.services.runs import RunService
from app.tabular import write_xlsx
from app.web.charts import share_bars
from app.web.core import (
    N_,
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
    term_label,
)
from app.web.forms import field_errors
from app.web.messages import service_message

router = APIRouter(route_class=WebRoute, dependencies=[Depends(check_csrf)], include_in_schema=False)

PARTIES = (Role.PLACEMENT_OFFICE, Role.ENTERPRISE_HR)
READERS = (Role.PLACEMENT_OFFICE, Role.ENTERPRISE_HR, Role.SCHEDULER)
FORMS = {
    "internship_base": N_("Internship base"), "order_class": N_("Order class (订单班)"),
    "apprenticeship": N_("Modern apprenticeship (现代学徒制)"), "industry_college": N_("Industry college (产业学院)"),
    "lecturer_exchange": N_("Lecturer exchange"), "joint_curriculum": N_("Joint curriculum"),
    "training_base": N_("Training base (实训基地)"),
}
STATUS_WORDS = {"proposed": N_("proposed"), "agreed": N_("agreed"), "active": N_("active"), "ended": N_("ended")}
CONTRIBUTION_WORDS = {
    "opening_fit": N_("Fit of its openings"), "lecturer_fit": N_("Its lecturers' topics"),
    "industry": N_("Industry"), "past_outcomes": N_("Past placements with the college"),
    "distance": N_("Distance"), "capacity": N_("Capacity"),
}


def _choices(session: Any, principal: Any) -> dict[str, Any]:
    repo = PartnershipRepository(session)
    programs = [(p, c) for p, c in repo.programs_with_colleges()
                if principal.college_id is None or c.id == principal.college_id]
    return {"forms": list(FORMS), "form_words": FORMS,
            "programs": [(p.id, f"{c.name} · {p.name}") for p, c in programs],
            "colleges": sorted({(c.id, c.name) for _p, c in programs}),
            "enterprises": [(e.id, e.name) for e in repo.enterprises()]}


def _list_page(request: Request, session: Any, principal: Any, *, values: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    rows = PartnershipService(session, principal).visible()
    repo = PartnershipRepository(session)
    colleges, enterprises = {c.id: c.name for _p, c in repo.programs_with_colleges()}, {
        e.id: e.name for e in repo.enterprises()}
    items = [{"row": p, "college": colleges.get(p.college_id, f"#{p.college_id}"),
              "enterprise": enterprises.get(p.enterprise_id, f"#{p.enterprise_id}"),
              "side": side_of(principal, p)} for p in rows]
    own_programs = ProgramService(session, principal).page(
        {"college_id": principal.college_id} if principal.college_id else {}, limit=200, cursor=None).items \
        if principal.role is Role.PLACEMENT_OFFICE else []
    return render(request, "partnerships/list.html", {
        "items": items, "values": values or {}, "errors": errors or {}, "status_words": STATUS_WORDS,
        "can_propose": principal.role in PARTIES, "own_programs": own_programs, **_choices(session, principal)},
        status_code=status_code)


@router.get("/partnerships")
def partnerships(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *READERS)
    return _list_page(request, session, principal)


@router.post("/partnerships")
async def propose(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *PARTIES)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    college = principal.college_id or values.get("college_id")
    enterprise = principal.enterprise_id or values.get("enterprise_id")
    body = {"name": values.get("name", ""), "college_id": college, "enterprise_id": enterprise,
            "program_ids": [v for v in form.getlist("program_ids") if isinstance(v, str) and v],
            "forms": [v for v in form.getlist("forms") if isinstance(v, str) and v],
            "release_unused": values.get("release_unused") == "on", "description": values.get("description", ""),
            "terms": [{"term": values.get("term", ""), "reserved_seats": values.get("reserved_seats") or 0,
                       "lecturer_hours": values.get("lecturer_hours") or 0,
                       "training_places": values.get("training_places") or 0}] if values.get("term") else []}
    g = gettext_of(request)
    try:
        row = PartnershipService(session, principal).propose(PartnershipCreate.model_validate(body))
    except (ValidationError, Unprocessable) as exc:
        session.rollback()
        return _list_page(request, session, principal, values=values, errors=field_errors(exc, g), status_code=422)
    except ChanjiaoError as exc:
        session.rollback()
        return _list_page(request, session, principal, values=values, errors={"__all__": service_message(g, exc)},
                          status_code=exc.status)
    flash(request, "ok", g.gettext("Partnership “%(name)s” proposed; the other party agrees to it.") % {
        "name": row.name})
    return redirect(f"/partnerships/{row.id}")


def _report_charts(request: Request, report: dict[str, Any]) -> list[Any]:
    g = gettext_of(request)
    _ = g.gettext
    terms = report["terms"]
    filled = share_bars(_("Seats filled of seats committed, per term"),
                        [(term_label(t["term"], g.locale),
                          t["seats_filled"] / t["seats_committed"] if t["seats_committed"] else None) for t in terms])
    share = share_bars(_("Professional course hours taught by enterprise lecturers, per term"),
                       [(term_label(t["term"], g.locale), t["enterprise_share"]) for t in terms], target=0.4,
                       target_text=_("Target: 40 %"))
    return [filled, share]


@router.get("/partnerships/{partnership_id}")
def partnership(request: Request, partnership_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *READERS)
    row = PartnershipService(session, principal).get(partnership_id)
    report = partnership_report(session, principal, partnership_id)
    side = side_of(principal, row)
    return render(request, "partnerships/detail.html", {
        "p": row, "report": report, "charts": _report_charts(request, report), "side": side,
        "can_agree": row.status is PartnershipStatus.PROPOSED and side is not None and side != row.proposed_by,
        "status_words": STATUS_WORDS, "form_words": FORMS, "columns": REPORT_COLUMNS})


def _refused(request: Request, session: Any, exc: ChanjiaoError, back: str) -> Response:
    """A refusal the user can act on, as a message on the page they came from (nothing stored);
    a missing or forbidden object stays the error page it is."""
    if exc.status in (403, 404):
        raise exc
    session.rollback()
    flash(request, "error", service_message(gettext_of(request), exc))
    return redirect(back)


async def _move(request: Request, session: Any, user: Any, partnership_id: int, action: str) -> Response:
    principal = require(user, *PARTIES)
    g = gettext_of(request)
    try:
        row = getattr(PartnershipService(session, principal), action)(partnership_id)
    except ChanjiaoError as exc:
        return _refused(request, session, exc, f"/partnerships/{partnership_id}")
    flash(request, "ok", g.gettext("The partnership is now %(status)s.") % {
        "status": g.gettext(STATUS_WORDS[row.status.value])})
    return redirect(f"/partnerships/{partnership_id}")


@router.post("/partnerships/{partnership_id}/agree")
async def agree(request: Request, partnership_id: WebId, session: DbDep, user: UserDep) -> Response:
    return await _move(request, session, user, partnership_id, "agree")


@router.post("/partnerships/{partnership_id}/activate")
async def activate(request: Request, partnership_id: WebId, session: DbDep, user: UserDep) -> Response:
    return await _move(request, session, user, partnership_id, "activate")


@router.post("/partnerships/{partnership_id}/end")
async def end(request: Request, partnership_id: WebId, session: DbDep, user: UserDep) -> Response:
    return await _move(request, session, user, partnership_id, "end")


def _xlsx(report: dict[str, Any], title: str) -> Response:
    return Response(write_xlsx(REPORT_COLUMNS, report_rows(report), title=title),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{title}.xlsx"'})


@router.get("/partnerships/{partnership_id}/report.xlsx")
def partnership_xlsx(request: Request, partnership_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *READERS)
    return _xlsx(partnership_report(session, principal, partnership_id), f"partnership-{partnership_id}")


@router.get("/partner-recommendations")
def recommendations(request: Request, session: DbDep, user: UserDep, program_id: WebIdQuery = None) -> Response:
    principal = require(user, *PARTIES)
    service = PartnerRecommendationService(session, principal)
    programs: list[Any] = []
    if principal.role is Role.PLACEMENT_OFFICE:
        programs = list(ProgramService(session, principal).page({"college_id": principal.college_id}, limit=200,
                                                                cursor=None).items)
        chosen = program_id or (programs[0].id if programs else None)
        found = service.enterprises_for_program(chosen) if chosen else None
    else:
        chosen = None
        found = service.programs_for_enterprise(principal.enterprise_id) if principal.enterprise_id else None
    return render(request, "partnerships/recommendations.html", {
        "found": found, "programs": programs, "chosen": chosen, "words": CONTRIBUTION_WORDS})


@router.get("/alliances")
def alliances(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *READERS)
    return render(request, "partnerships/alliances.html", {"alliances": AllianceService(session, principal).visible()})


@router.get("/alliances/{alliance_id}")
def alliance(request: Request, alliance_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *READERS)
    row = AllianceService(session, principal).get(alliance_id)
    report = alliance_report(session, principal, alliance_id)
    _ = gettext_of(request).gettext
    charts = _report_charts(request, report)
    charts += [share_bars(_("Industry college “%(name)s”: hours taught by enterprise lecturers") % {"name": c["name"]},
                          [(term_label(t["term"], gettext_of(request).locale), t["enterprise_share"])
                           for t in c["terms"]], target=0.4,
                          target_text=_("Target: 40 %")) for c in report["industry_colleges"]]
    return render(request, "partnerships/alliance.html", {
        "a": row, "report": report, "charts": charts, "status_words": STATUS_WORDS,
        "can_run": principal.role in (Role.SCHEDULER, Role.ADMIN), "columns": REPORT_COLUMNS})


@router.post("/alliances/{alliance_id}/run")
async def run_alliance(request: Request, alliance_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, Role.SCHEDULER)
    form = await request.form()
    term = str(form.get("term") or "")
    g = gettext_of(request)
    try:
        run, _created = RunService(session, principal).submit(RunCreate.model_validate(
            {"kind": str(form.get("kind") or "internship"), "scope": {"term": term, "alliance_id": alliance_id}}))
    except (ValidationError, Unprocessable) as exc:
        session.rollback()
        errors = field_errors(exc, g)
        flash(request, "error", "; ".join(errors.values()) or g.gettext("This value is not accepted."))
        return redirect(f"/alliances/{alliance_id}")
    except ChanjiaoError as exc:
        return _refused(request, session, exc, f"/alliances/{alliance_id}")
    flash(request, "ok", g.gettext("Run %(id)d queued.") % {"id": run.id})
    return redirect(f"/runs/{run.id}")


@router.get("/alliances/{alliance_id}/report.xlsx")
def alliance_xlsx(request: Request, alliance_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *READERS)
    return _xlsx(alliance_report(session, principal, alliance_id), f"alliance-{alliance_id}")


__all__ = ["router"]
