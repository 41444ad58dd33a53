"""Batch allocation runs as schedulers use them: submit, watch, cancel, review, publish, respond,
supplementary rounds, what-if forks, comparisons and diffs.

The solving itself happens in the worker (``app/services/allocation_job.py``); this module only
stores requests and reads results.  Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import (
    AllocationRun,
    Placement,
    PlacementStatus,
    Role,
    RunKind,
    RunMode,
    RunStatus,
)
from app.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from app.repositories.access import AccessRepository
from app.repositories.base import Page
from app.repositories.ledger import LedgerRepository
from app.repositories.partnerships import AllianceRepository
from app.repositories.runs import RunRepository
from app.run_schemas import DiffItem, RunCreate, RunDiff, RunFork, RunKpis, RunParameters, RunScope
from app.security import Principal
from app.services.alliance_scope import resolve_scope
from app.services.ledger import Ledger
from app.services.publication import publication_findings

SCHEDULING_ROLES = frozenset({Role.ADMIN, Role.SCHEDULER})
FINISHED = (RunStatus.SUCCEEDED, RunStatus.INFEASIBLE, RunStatus.NO_SOLUTION_IN_TIME, RunStatus.FAILED,
            RunStatus.CANCELLED, RunStatus.PUBLISHED, RunStatus.SUPERSEDED, RunStatus.WITHDRAWN)


def request_digest(body: RunCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class RunService:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.runs = RunRepository(session)
        self.audit = AccessRepository(session)
        self.ledger = Ledger(session, principal.actor_id)

    # -- submission

    def submit(self, body: RunCreate, idempotency_key: str | None = None, *,
               forked_from: AllocationRun | None = None) -> tuple[AllocationRun, bool]:
        """Queue a run; returns (run, created).  The same Idempotency-Key with the same body gives
        the same run, also when the two requests race; with another body it is an error."""
        self._require_scheduler()
        self._check_scope_allowed(body)
        digest = request_digest(body)
        same = self._idempotent_replay(idempotency_key, digest)
        if same is not None:
            return same, False
        parent = None
        round_number = 1
        scope_key = body.scope.key(body.kind.value)
        if body.supplementary_to is not None:
            parent = self._get(body.supplementary_to)
            self._check_follows(parent, body.kind, scope_key, "supplementary_to")
            round_number = parent.round + 1
        if body.parameters.allow_cross_category:
            self.audit.record(self.principal.actor_id, "override", "allocation-run", None,
                              {"rule": "same 专业大类", "reason": body.parameters.override_reason or ""})
        run = AllocationRun(
            kind=body.kind, mode=body.mode, term=body.scope.term,
            scope=body.scope.model_dump(mode="json"), scope_key=scope_key,
            parameters=body.parameters.model_dump(mode="json"), status=RunStatus.QUEUED,
            seed=body.parameters.seed, parent_run_id=parent.id if parent else None, round=round_number,
            forked_from_id=forked_from.id if forked_from else None,
            idempotency_key=idempotency_key, request_digest=digest, created_by=self.principal.actor_id,
        )
        active = self.runs.active_for_scope(body.kind, run.scope_key)
        if active is not None:
            # A concurrent request with the same key may have committed since the first look.
            same = self._idempotent_replay(idempotency_key, digest)
            if same is not None:
                return same, False
            raise Conflict(f"run {active.id} is already {active.status.value} for this scope",
                           extra={"active_run_id": active.id}, code="active_run")
        try:
            with self.session.begin_nested():
                self.runs.add(run)
        except IntegrityError as exc:
            # Lost a race with a concurrent submission: the unique indexes decide.
            same = self._idempotent_replay(idempotency_key, digest)
            if same is not None:
                return same, False
            raise Conflict("another run is already queued or running for this scope") from exc
        self.audit.record(self.principal.actor_id, "submit", "allocation-run", run.id,
                          {"kind": run.kind.value, "mode": run.mode.value, "round": run.round,
                           "to": RunStatus.QUEUED.value})
        return run, True

    def _idempotent_replay(self, key: str | None, digest: str) -> AllocationRun | None:
        if not key:
            return None
        existing = self.runs.by_idempotency_key(key)
        if existing is None:
            return None
        if existing.request_digest != digest:
            raise Unprocessable("this Idempotency-Key was used with a different request body",
                                [{"loc": ["header", "Idempotency-Key"], "msg": "reused with another body"}])
        return existing

    def _check_follows(self, parent: AllocationRun, kind: RunKind, scope_key: str, field: str) -> None:
        """A later round follows the current (published) round of the same scope."""
        if parent.kind != kind:
            raise field_error(field, f"run {parent.id} is a {parent.kind.value} run")
        if parent.scope_key != scope_key:
            raise field_error(field, f"run {parent.id} allocated another scope; a round keeps its scope")
        if parent.status != RunStatus.PUBLISHED:
            head = LedgerRepository(self.session).published_head(kind, scope_key)
            current = f"; the current round is run {head.id}" if head else "; the scope has no published round"
            raise Conflict(f"run {parent.id} is {parent.status.value}, not the current published round of its "
                           f"scope{current}", extra={"run_id": parent.id, "current_run_id": head.id if head else None},
                           code="not_current_round")

    def fork(self, run_id: int, body: RunFork) -> AllocationRun:
        """A what-if of the same round: the run's scope and round (its parent, so its locks) with
        changed parameters or mode."""
        self._require_scheduler()
        source = self._get(run_id)
        try:
            parameters = RunParameters.model_validate({**source.parameters, **body.parameters})
        except ValueError as exc:
            raise Unprocessable(f"invalid parameters: {exc}") from exc
        try:
            create = RunCreate(kind=source.kind, mode=body.mode or source.mode,
                               scope=RunScope.model_validate(source.scope), parameters=parameters,
                               supplementary_to=source.parent_run_id)
        except ValueError as exc:
            raise Unprocessable(f"invalid fork: {exc}") from exc
        run, _ = self.submit(create, forked_from=source)
        return run

    # -- reads

    def get(self, run_id: int) -> AllocationRun:
        return self._get(run_id)

    def page(self, *, status: RunStatus | None, kind: RunKind | None, limit: int,
             cursor: str | None) -> Page[AllocationRun]:
        self._require_scheduler()
        filters = []
        if status:
            filters.append(AllocationRun.status == status)
        if kind:
            filters.append(AllocationRun.kind == kind)
        return self.runs.list_page(self.principal, filters, limit=limit, cursor=cursor)

    def placements(self, run_id: int, filters: dict[str, int | None], *, limit: int,
                   cursor: str | None) -> Page[Placement]:
        run = self.get(run_id)
        return self.runs.placement_page(self.chain_of(run), self.principal, filters, limit=limit, cursor=cursor)

    def chain_of(self, run: AllocationRun) -> list[int]:
        """The run and its earlier rounds, newest first."""
        return LedgerRepository(self.session).chain_ids(run)

    def placed_student_contacts(self, placements: Sequence[Placement]) -> dict[int, tuple[str, str | None]]:
        """placement id → (name, phone) of placed students the caller may contact (see the repository)."""
        return self.runs.placed_student_contacts(self.principal, [p.id for p in placements])

    def unplaced(self, run_id: int) -> list[dict[str, Any]]:
        run = self.get(run_id)
        items = list(run.unplaced or [])
        if self.principal.role is Role.PLACEMENT_OFFICE:
            items = [u for u in items if str(u.get("college_id")) == str(self.principal.college_id)]
        elif self.principal.role not in SCHEDULING_ROLES:
            raise Forbidden("only schedulers and colleges read unplaced students")
        return items

    def kpis(self, run_id: int) -> RunKpis:
        run = self.get(run_id)
        self._require_scheduler()
        kpis = run.kpis or {}
        return RunKpis(run_id=run.id, kind=run.kind, status=run.status, colleges=kpis.get("colleges", []),
                       enterprises=kpis.get("enterprises", []), programs=kpis.get("programs", []),
                       totals=kpis.get("totals", {}))

    # -- lifecycle

    def cancel(self, run_id: int) -> AllocationRun:
        self._require_scheduler()
        run = self._get(run_id)
        if run.status == RunStatus.QUEUED:
            self.ledger.cancel_queued(run)
        elif run.status == RunStatus.RUNNING:
            # The worker sees the flag at its next heartbeat and stops without writing placements;
            # the run's move to cancelled is the worker's, audited then.
            run.cancel_requested = True
            self.session.flush()
            self.audit.record(self.principal.actor_id, "cancel-request", "allocation-run", run.id)
        else:
            raise Conflict(f"run {run.id} has already finished ({run.status.value})")
        return run

    def publish(self, run_id: int) -> AllocationRun:
        """Make a succeeded run the current allocation of its scope, after checking its result
        against today's data (409 with the reasons if it no longer holds)."""
        self._require_scheduler()
        run = self._locked(run_id)
        if run.status != RunStatus.SUCCEEDED:
            if run.published_at is not None:
                raise Conflict(f"run {run.id} was published at {run.published_at.isoformat()} "
                               f"and is now {run.status.value}",
                               extra={"run_id": run.id, "current_status": run.status.value})
            raise Conflict(f"only a succeeded run can be published; run {run.id} is {run.status.value}",
                           extra={"run_id": run.id, "current_status": run.status.value})
        parent = None
        if run.parent_run_id is not None:
            parent = self._locked(run.parent_run_id)
            self._check_follows(parent, run.kind, run.scope_key, "run")
        else:
            head = LedgerRepository(self.session).published_head(run.kind, run.scope_key)
            if head is not None:
                raise Conflict(f"the scope already has a published allocation, run {head.id} (round {head.round}); "
                               f"run a supplementary round after it, or withdraw it while it has no answers",
                               extra={"current_run_id": head.id}, code="scope_published")
        # The students' rows are share-locked while their programs are checked: a student moved to
        # another program meanwhile waits for the publication, or the publication sees the move.
        findings = publication_findings(self.session, run, parent, lock_students=True)
        if findings:
            raise Conflict(f"run {run.id} no longer fits today's data; run it again: "
                           + "; ".join(f.message for f in findings[:5]),
                           extra={"reasons": [{"code": f.code, "message": f.message, "params": f.params}
                                              for f in findings[:200]], "reason_count": len(findings)},
                           code="publication_stale", params={"run_id": run.id})
        self.ledger.publish(run, parent)
        return run

    def publication_preview(self, run_id: int) -> dict[str, Any]:
        """What publishing the run would do, for a confirmation: the offers it makes, the round it
        supersedes (with its unanswered offers), the placements carried over, and every reason it
        would be refused now."""
        self._require_scheduler()
        run = self._get(run_id)
        ledger = LedgerRepository(self.session)
        parent = self._get(run.parent_run_id) if run.parent_run_id is not None else None
        head = ledger.published_head(run.kind, run.scope_key)
        blocked: list[dict[str, Any]] = []
        if run.status != RunStatus.SUCCEEDED:
            blocked.append({"code": "run_state", "params": {"run_id": run.id, "current_status": run.status.value,
                                                            "target": RunStatus.PUBLISHED.value}})
        elif parent is None and head is not None:
            blocked.append({"code": "scope_published", "params": {"current_run_id": head.id}})
        elif parent is not None and parent.status != RunStatus.PUBLISHED:
            blocked.append({"code": "not_current_round", "params": {"run_id": parent.id}})
        findings = publication_findings(self.session, run, parent) if not blocked else []
        chain = ledger.chain_ids(run)
        return {
            "run": run, "parent": parent,
            "offers": ledger.count_with_status([run.id], [PlacementStatus.PROPOSED.value]),
            "superseded_offers": ledger.count_with_status([parent.id], [PlacementStatus.PUBLISHED.value])
            if parent is not None else 0,
            "carried": len(ledger.live_ids(chain[1:])),
            "blocked": blocked,
            "reasons": [{"code": f.code, "message": f.message, "params": f.params} for f in findings],
        }

    def adjust(self, run_id: int, *, pin: Sequence[tuple[int, int]] = (),
               forbid: Sequence[tuple[int, int]] = ()) -> AllocationRun:
        """An adjustment by hand before publication (move a student to an opening, keep a pair out):
        the same round solved again with these pins and forbidden pairs added, so the result is
        checked by the independent checker like any other; the source run stays as it was."""
        self._require_scheduler()
        source = self._get(run_id)
        if source.kind != RunKind.INTERNSHIP:
            raise Unprocessable("only internship runs can be adjusted by hand")
        if not pin and not forbid:
            raise Unprocessable("name a pair to pin or to forbid",
                                [{"loc": ["body", "pin"], "msg": "nothing to change", "type": "missing"}])
        moved = {s for s, _ in pin}
        pinned = [list(p) for p in source.parameters.get("pinned", []) if p[0] not in moved] + [list(p) for p in pin]
        forbidden = [*source.parameters.get("forbidden", []), *[list(p) for p in forbid]]
        run = self.fork(run_id, RunFork(parameters={"pinned": pinned, "forbidden": forbidden}))
        self.audit.record(self.principal.actor_id, "adjust", "allocation-run", run.id,
                          {"from_run": source.id, "pinned": [list(p) for p in pin],
                           "forbidden": [list(p) for p in forbid]})
        return run

    def supplementary_round(self, run_id: int) -> AllocationRun:
        """The next round after a published run: its scope, mode and parameters, its live placements
        locked and its remaining seats offered again."""
        source = self._get(run_id)
        create = RunCreate(kind=source.kind, mode=source.mode, scope=RunScope.model_validate(source.scope),
                           parameters=RunParameters.model_validate(source.parameters), supplementary_to=source.id)
        run, _ = self.submit(create)
        return run

    def withdraw(self, run_id: int) -> AllocationRun:
        """Take back a published run that has no answers yet (its parent round, if any, is current
        again)."""
        self._require_scheduler()
        run = self._locked(run_id)
        if run.status != RunStatus.PUBLISHED:
            raise Conflict(f"only the current published run can be withdrawn; run {run.id} is {run.status.value}",
                           extra={"run_id": run.id, "current_status": run.status.value})
        parent = self._locked(run.parent_run_id) if run.parent_run_id is not None else None
        self.ledger.withdraw(run, parent)
        return run

    def respond(self, placement_id: int, accept: bool) -> Placement:
        """An answer to an offer: a student's, recorded by their college's placement office, or the
        college's own for a lecturer placed on its course need."""
        placement = self._placement_of_own_college(placement_id)
        if placement.status != PlacementStatus.PUBLISHED:
            raise Conflict(f"placement {placement.id} is {placement.status.value}; only a published "
                           "placement can be accepted or declined",
                           extra={"placement_id": placement.id, "current_status": placement.status.value})
        if accept:
            self.ledger.accept(placement)
        else:
            self.ledger.decline(placement)
        return placement

    def record_agreement(self, placement_id: int, *, number: str | None = None,
                         signed_on: date | None = None) -> Placement:
        """The tripartite agreement (college, enterprise, student) is signed: accepted → confirmed."""
        placement = self._placement_of_own_college(placement_id)
        if placement.status != PlacementStatus.ACCEPTED:
            raise Conflict(f"placement {placement.id} is {placement.status.value}; the agreement can only be "
                           "recorded for an accepted placement",
                           extra={"placement_id": placement.id, "current_status": placement.status.value})
        # Today where the calendar is furthest ahead (UTC+14): a date the office sees as today, in
        # any time zone, is never refused, and no later one is accepted.
        if signed_on is not None and signed_on > (datetime.now(UTC) + timedelta(hours=14)).date():
            raise field_error("signed_on", "an agreement cannot be signed in the future")
        self.ledger.confirm(placement, number=number, signed_on=signed_on)
        return placement

    def withdraw_placement(self, placement_id: int, reason: str) -> Placement:
        """An accepted or confirmed placement ends (the student left, the agreement was ended)."""
        placement = self._placement_of_own_college(placement_id)
        if placement.status not in (PlacementStatus.ACCEPTED, PlacementStatus.CONFIRMED):
            raise Conflict(f"placement {placement.id} is {placement.status.value}; only an accepted or confirmed "
                           "placement can be withdrawn", extra={"placement_id": placement.id,
                                                                "current_status": placement.status.value})
        self.ledger.withdraw_placement(placement, reason)
        return placement

    # -- comparisons

    def diff(self, run_id: int, against_id: int) -> RunDiff:
        self._require_scheduler()
        run, other = self._get(run_id), self._get(against_id)
        if run.kind != other.kind:
            raise field_error("against", "runs of different kinds cannot be compared", location="query")
        mine, theirs = self._assignment(run), self._assignment(other)
        declined = {p.student_id for p in self.runs.placements_of(other.id) if p.status in (
            PlacementStatus.DECLINED, PlacementStatus.WITHDRAWN)}
        items = []
        for subject in sorted(set(mine) | set(theirs)):
            before, after = theirs.get(subject), mine.get(subject)
            if before == after:
                continue
            items.append(DiffItem(subject_id=subject, before=before, after=after,
                                  cause=_diff_cause(before, after, subject in declined, run, other)))
        return RunDiff(run_id=run.id, against=other.id, changed=len(items), items=items)

    def compare(self, run_ids: Sequence[int]) -> dict[str, Any]:
        self._require_scheduler()
        if not 2 <= len(run_ids) <= 10:
            raise field_error("ids", "compare between 2 and 10 runs", location="query")
        runs = [self._get(rid) for rid in run_ids]
        assignments = {run.id: self._assignment(run) for run in runs}
        changed = {}
        for i, a in enumerate(runs):
            for b in runs[i + 1:]:
                left, right = assignments[a.id], assignments[b.id]
                changed[f"{a.id}-{b.id}"] = sum(1 for s in set(left) | set(right) if left.get(s) != right.get(s))
        return {"runs": [self.kpis(run.id) for run in runs], "changed_placements": changed}

    # -- helpers

    def _assignment(self, run: AllocationRun) -> dict[int, int]:
        out: dict[int, int] = {}
        for p in self.runs.placements_of(run.id, self.chain_of(run)):
            if run.kind == RunKind.INTERNSHIP and p.student_id is not None and p.opening_id is not None:
                out[p.student_id] = p.opening_id
            elif p.course_need_id is not None and p.lecturer_id is not None:
                out[p.course_need_id] = p.lecturer_id
        return out

    def _get(self, run_id: int) -> AllocationRun:
        run = self.runs.get_visible(self.principal, run_id)
        if run is None:
            raise NotFound.of("allocation run", run_id)
        return run

    def _locked(self, run_id: int) -> AllocationRun:
        """The run, visible to the caller, its row locked for this transaction."""
        self._get(run_id)
        run = LedgerRepository(self.session).lock_run(run_id)
        if run is None:
            raise NotFound.of("allocation run", run_id)
        return run

    def _placement_of_own_college(self, placement_id: int) -> Placement:
        if self.principal.role not in (Role.PLACEMENT_OFFICE, Role.ADMIN):
            raise Forbidden("students' answers are recorded by their college's placement office")
        placement = self.runs.visible_placement(self.principal, placement_id)
        if placement is None:
            raise NotFound.of("placement", placement_id)
        return placement

    def _require_scheduler(self) -> None:
        if self.principal.role not in SCHEDULING_ROLES:
            raise Forbidden("only schedulers run allocations")

    def _check_scope_allowed(self, body: RunCreate) -> None:
        allowed = self.principal.scope or {}
        province = allowed.get("province")
        alliance_id = body.scope.alliance_id
        if alliance_id is not None:
            # An alliance's runs are its scheduler's (and admins'); its province rule still applies.
            if AllianceRepository(self.session).get(self.principal, alliance_id) is None:
                raise NotFound.of("alliance", alliance_id)
            resolve_scope(self.session, body.scope)
        if self.principal.role is Role.SCHEDULER and province and body.scope.province != province:
            raise Forbidden(f"your key may only allocate within {province}")


def _diff_cause(before: int | None, after: int | None, declined: bool, run: AllocationRun,
                other: AllocationRun) -> str:
    if declined:
        return "declined"
    if before is None:
        return "newly_placed"
    if after is None:
        return "unplaced"
    if run.mode != other.mode:
        return "mode_changed"
    if run.parameters != other.parameters:
        return "parameters_changed"
    return "reoptimised"


__all__ = ["RunMode", "RunService", "request_digest"]
