"""Scheduler pages: submit a run, watch it live, read its KPIs as charts, compare, publish, export."""

from __future__ import annotations

import io
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError

from app.db.models import RESULT_RUN_STATUSES, AllocationRun, Role, RunKind, RunMode, RunStatus
from app.errors import Conflict, Unprocessable
from app.run_schemas import RunCreate, RunFork, RunKpis
from app.schemas import MAX_ID
from app.services.placement_views import PlacementViews
from app.services.run_exports import export_run
from app.services.runs import FINISHED, RunService
from app.web.charts import BarChart, count_bars, share_bars
from app.web.core import (
    DbDep,
    UserDep,
    WebId,
    WebIds,
    WebRoute,
    check_csrf,
    flash,
    gettext_of,
    is_htmx,
    redirect,
    render,
    require,
)
from app.web.forms import field_errors
from app.web.infeasibility import explain
from app.web.messages import reason_messages, service_message

router = APIRouter(route_class=WebRoute, dependencies=[Depends(check_csrf)], include_in_schema=False)

SCHEDULER = (Role.SCHEDULER,)
DEFAULT_TERM = "2027-spring"
CHOICES = {"kinds": [k.value for k in RunKind], "modes": [m.value for m in RunMode]}
FORM_DEFAULTS = {"kind": "internship", "mode": "optimal", "term": DEFAULT_TERM, "province": "", "time_limit_s": "30",
                 "college_floor": "0", "program_floor": "0", "default_quota": "", "target_share": "0.4",
                 "fairness": ""}


def _run_create(values: dict[str, str]) -> RunCreate:
    """The submit form as the API's request body (validated by the same schema)."""
    parameters: dict[str, Any] = {"time_limit_s": values.get("time_limit_s") or 30,
                                  "college_floor": values.get("college_floor") or 0,
                                  "program_floor": values.get("program_floor") or 0,
                                  "target_share": values.get("target_share") or 0.4,
                                  "fairness": values.get("fairness") == "true"}
    if values.get("default_quota"):
        parameters["default_quota"] = values["default_quota"]
    scope: dict[str, Any] = {"term": values.get("term", "")}
    if values.get("province"):
        scope["province"] = values["province"]
    return RunCreate.model_validate({"kind": values.get("kind"), "mode": values.get("mode"), "scope": scope,
                                     "parameters": parameters})


@router.get("/runs")
def runs(request: Request, session: DbDep, user: UserDep,
         cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    principal = require(user, *SCHEDULER)
    page = RunService(session, principal).page(status=None, kind=None, limit=30, cursor=cursor)
    return render(request, "scheduler/runs.html", {"runs": page.items, "next_cursor": page.next_cursor,
                                                   "values": FORM_DEFAULTS, "errors": {}, **CHOICES})


@router.post("/runs")
async def submit_run(request: Request, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *SCHEDULER)
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    service = RunService(session, principal)
    try:
        run, _created = service.submit(_run_create(values))
    except (ValidationError, Unprocessable, Conflict) as exc:
        g = gettext_of(request)
        errors = {"__all__": service_message(g, exc)} if isinstance(exc, Conflict) else field_errors(exc, g)
        session.rollback()
        page = service.page(status=None, kind=None, limit=30, cursor=None)
        return render(request, "scheduler/runs.html", {"runs": page.items, "next_cursor": page.next_cursor,
                                                       "values": {**FORM_DEFAULTS, **values}, "errors": errors,
                                                       **CHOICES},
                      status_code=409 if isinstance(exc, Conflict) else 422)
    flash(request, "ok", gettext_of(request).gettext("Run %(id)d queued.") % {"id": run.id})
    return redirect(f"/runs/{run.id}")


def _charts(request: Request, session: Any, principal: Any, run: AllocationRun,
            kpis: RunKpis) -> list[tuple[BarChart, list[tuple[str, str]]]]:
    """Each chart with its rows as a table (label, value shown)."""
    _ = gettext_of(request).gettext
    names = PlacementViews(session, principal).names(
        colleges=[c["college_id"] for c in kpis.colleges], enterprises=[e["enterprise_id"] for e in kpis.enterprises],
        programs=[p["program_id"] for p in kpis.programs])
    charts: list[BarChart] = []
    if run.kind == RunKind.INTERNSHIP:
        charts.append(share_bars(_("Placement rate per college"),
                                 [(names["colleges"].get(c["college_id"], str(c["college_id"])), c["placement_rate"])
                                  for c in kpis.colleges]))
        ranks = kpis.totals.get("preference_rank_received", {}) or {}
        ordered = sorted(ranks.items(), key=lambda kv: (not kv[0].isdigit(), int(kv[0]) if kv[0].isdigit() else 0))
        charts.append(count_bars(_("Preference rank received"),
                                 [(_("choice %(n)s") % {"n": k} if k.isdigit() else _("not ranked"), int(v))
                                  for k, v in ordered]))
        charts.append(share_bars(_("Fill rate per enterprise"),
                                 [(names["enterprises"].get(e["enterprise_id"], str(e["enterprise_id"])),
                                   e["fill_rate"]) for e in kpis.enterprises]))
    else:
        target = float(kpis.totals.get("target_share") or 0.4)
        charts.append(share_bars(_("Enterprise lecturers' share of professional-course hours per program"),
                                 [(names["programs"].get(p["program_id"], str(p["program_id"])),
                                   p.get("enterprise_hours_share")) for p in kpis.programs],
                                 target=target, target_text=_("target %(p).0f%%") % {"p": target * 100}))
    return [(chart, [(bar.label, bar.text) for bar in chart.bars]) for chart in charts]


@router.get("/runs/compare")
def compare(request: Request, session: DbDep, user: UserDep,
            ids: WebIds = None) -> Response:
    principal = require(user, *SCHEDULER)
    service = RunService(session, principal)
    choices = [run for run in service.page(status=None, kind=None, limit=100, cursor=None).items
               if run.status in RESULT_RUN_STATUSES][:50]
    chosen = sorted(set(ids or []))
    # A run without a result (infeasible, failed, still running) has nothing to compare: it is left
    # out and named, never a column of dashes beside the others.
    left_out = [run for run in (service.get(rid) for rid in chosen) if run.status not in RESULT_RUN_STATUSES]
    chosen = [rid for rid in chosen if rid not in {run.id for run in left_out}]
    comparison = None
    columns = []
    if len(chosen) >= 2:
        comparison = service.compare(chosen)
        for kpis in comparison["runs"]:
            run = service.get(kpis.run_id)
            columns.append({"run": run, "kpis": kpis, "charts": _charts(request, session, principal, run, kpis)})
    return render(request, "scheduler/compare.html", {"choices": choices, "chosen": chosen,
                                                      "comparison": comparison, "columns": columns,
                                                      "left_out": left_out})


@router.get("/runs/{run_id}")
def run_detail(request: Request, run_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *SCHEDULER)
    service = RunService(session, principal)
    run = service.get(run_id)
    kpis = service.kpis(run_id) if run.status in RESULT_RUN_STATUSES else None
    charts = _charts(request, session, principal, run, kpis) if kpis else []
    unplaced = service.unplaced(run_id) if run.status in RESULT_RUN_STATUSES else []
    conflicts = (explain(gettext_of(request), run.error, lambda ids: PlacementViews(session, principal).names(**ids))
                 if run.status is RunStatus.INFEASIBLE else [])
    return render(request, "scheduler/run.html", {"run": run, "kpis": kpis, "charts": charts,
                                                  "unplaced_count": len(unplaced), "finished": run.status in FINISHED,
                                                  "conflicts": conflicts,
                                                  "explained_error": "" if conflicts else _with_names(
                                                      session, principal, run.error)})


_NAMED = re.compile(r"\b(college|enterprise|program) (\d{1,10})\b")


def _with_names(session: Any, principal: Any, text: str | None) -> str:
    """An infeasibility or failure names colleges, enterprises and programs by id (the solver knows
    no names): show the names people know them by."""
    if not text:
        return ""
    found: dict[str, set[int]] = {"college": set(), "enterprise": set(), "program": set()}
    for kind, number in _NAMED.findall(text):
        found[kind].add(int(number))
    names = PlacementViews(session, principal).names(colleges=found["college"], enterprises=found["enterprise"],
                                                     programs=found["program"])
    table = {"college": names["colleges"], "enterprise": names["enterprises"], "program": names["programs"]}

    def name_of(match: re.Match[str]) -> str:
        label = table[match.group(1)].get(int(match.group(2)))
        return f"{match.group(1)} «{label}»" if label else match.group(0)

    return _NAMED.sub(name_of, text)


@router.get("/runs/{run_id}/status")
def run_status(request: Request, run_id: WebId, session: DbDep, user: UserDep) -> Response:
    """htmx polling: the progress fragment; once the run ends, the whole page reloads to show results."""
    principal = require(user, *SCHEDULER)
    run = RunService(session, principal).get(run_id)
    finished = run.status in FINISHED
    headers = {"HX-Refresh": "true"} if finished and is_htmx(request) else None
    return render(request, "fragments/run_status.html", {"run": run, "finished": finished}, headers=headers)


@router.get("/runs/{run_id}/publish")
def confirm_publish(request: Request, run_id: WebId, session: DbDep, user: UserDep) -> Response:
    """Publishing cannot be taken back once anyone answers: the page says first what it will do."""
    principal = require(user, *SCHEDULER)
    preview = RunService(session, principal).publication_preview(run_id)
    g = gettext_of(request)
    problems = [service_message(g, _coded(b)) for b in preview["blocked"]] + reason_messages(g, preview["reasons"])
    return render(request, "scheduler/publish.html", {**preview, "problems": problems})


def _coded(blocked: dict[str, Any]) -> Conflict:
    return Conflict("", code=str(blocked["code"]), params=dict(blocked["params"]))


@router.post("/runs/{run_id}/withdraw")
def withdraw(request: Request, run_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *SCHEDULER)
    RunService(session, principal).withdraw(run_id)
    flash(request, "ok", gettext_of(request).gettext("Run %(id)d withdrawn: its offers are no longer shown.")
          % {"id": run_id})
    return redirect(f"/runs/{run_id}")


@router.post("/runs/{run_id}/supplementary")
def supplementary(request: Request, run_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *SCHEDULER)
    run = RunService(session, principal).supplementary_round(run_id)
    flash(request, "ok", gettext_of(request).gettext("Supplementary round %(round)d queued as run %(id)d.")
          % {"round": run.round, "id": run.id})
    return redirect(f"/runs/{run.id}")


@router.post("/runs/{run_id}/fork")
async def fork(request: Request, run_id: WebId, session: DbDep, user: UserDep) -> Response:
    """A what-if of the same round with some parameters changed (empty fields keep the run's)."""
    principal = require(user, *SCHEDULER)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and v.strip() and k in FORK_FIELDS}
    mode = values.pop("mode", None)
    changed: dict[str, Any] = dict(values)
    if "fairness" in form:
        changed["fairness"] = form.get("fairness") == "true"
    service = RunService(session, principal)
    try:
        run = service.fork(run_id, RunFork.model_validate({"mode": mode, "parameters": changed}))
    except ValidationError as exc:
        raise Unprocessable("invalid fork", [dict(e) for e in exc.errors(include_url=False)]) from exc
    flash(request, "ok", gettext_of(request).gettext("Run %(id)d queued.") % {"id": run.id})
    return redirect(f"/runs/{run.id}")


@router.post("/runs/{run_id}/adjust")
def adjust(request: Request, run_id: WebId, session: DbDep, user: UserDep,
           student_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
           opening_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
           action: Annotated[str, Form(pattern="^(pin|forbid)$")] = "pin") -> Response:
    """By hand, before publishing: this student at this opening (or never there); solved again."""
    principal = require(user, *SCHEDULER)  # the role first: a refusal says who, not what is missing
    missing = [{"loc": [name], "type": "missing", "msg": "required"}
               for name, value in (("student_id", student_id), ("opening_id", opening_id)) if value is None]
    if missing or student_id is None or opening_id is None:
        raise Unprocessable("a student and an opening are needed", missing)
    pair = [(student_id, opening_id)]
    run = RunService(session, principal).adjust(run_id, pin=pair if action == "pin" else (),
                                                forbid=pair if action == "forbid" else ())
    flash(request, "ok", gettext_of(request).gettext("Adjusted: run %(id)d solves the round again with your change.")
          % {"id": run.id})
    return redirect(f"/runs/{run.id}")


FORK_FIELDS = ("mode", "seed", "time_limit_s", "college_floor", "program_floor", "default_quota", "top_k")


@router.post("/runs/{run_id}/publish")
def publish(request: Request, run_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *SCHEDULER)
    run = RunService(session, principal).publish(run_id)
    flash(request, "ok", gettext_of(request).gettext("Run %(id)d published: colleges and enterprises now see "
                                                     "their placements.") % {"id": run.id})
    return redirect(f"/runs/{run_id}")


@router.post("/runs/{run_id}/cancel")
def cancel(request: Request, run_id: WebId, session: DbDep, user: UserDep) -> Response:
    principal = require(user, *SCHEDULER)
    RunService(session, principal).cancel(run_id)
    flash(request, "ok", gettext_of(request).gettext("Cancellation requested."))
    return redirect(f"/runs/{run_id}")


@router.get("/runs/{run_id}/export")
def export(run_id: WebId, session: DbDep, user: UserDep,
           file_format: Annotated[str, Query(alias="format", pattern="^(csv|xlsx)$")] = "csv") -> Response:
    # Every role: the service shows a college or an enterprise only its own placements, after publication.
    content, media_type = export_run(session, user.principal, run_id, file_format)
    return StreamingResponse(io.BytesIO(content), media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="run-{run_id}-placements.{file_format}"',
        "Cache-Control": "no-store"})

