"""The placement ledger: the one module that changes the status of a run or a placement.

The allowed transitions are data (``RUN_TRANSITIONS``, ``PLACEMENT_TRANSITIONS``); every move is a
conditional UPDATE from an allowed source status (``app/repositories/ledger.py``), so of two
concurrent moves of one row exactly one wins and the other is a 409.  The invariants the moves keep,
with the database's own constraints behind them:

- a student has at most one current placement (published, accepted, confirmed, completed) per term,
  and a course need at most one current lecturer (partial unique indexes);
- an opening never has more live placements (accepted, confirmed, completed) than seats: the
  opening's ``filled_seats`` moves with every live transition, under a CHECK constraint;
- a lecturer's live weekly hours per term stay within ``max_weekly_hours`` (checked under a row
  lock on the lecturer);
- a scope has at most one published run (its current allocation); a later round supersedes the
  earlier round's unanswered placements and keeps its live ones;
- nothing is deleted: a run or placement only moves to another status.

Every transition is audited once: a single placement's move as one event, a run's move with the
bulk move of its placements as one event naming the counts.  Services flush, never commit.

Publications, answers and agreements are announced to the parties they concern
(``app/services/notifications.py``): in-app in the same transaction, by e-mail after it commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import LIVE_PLACEMENT_STATUSES, AllocationRun, Placement, PlacementStatus, RunKind, RunStatus
from app.errors import Conflict
from app.repositories.access import AccessRepository
from app.repositories.ledger import LedgerRepository
from app.services import notifications

R, P = RunStatus, PlacementStatus

RUN_TRANSITIONS: Mapping[RunStatus, frozenset[RunStatus]] = {
    R.QUEUED: frozenset({R.RUNNING, R.CANCELLED}),
    # running → running: a worker re-claims a run whose worker died (its lease expired).
    R.RUNNING: frozenset({R.RUNNING, R.SUCCEEDED, R.INFEASIBLE, R.NO_SOLUTION_IN_TIME, R.FAILED, R.CANCELLED}),
    R.SUCCEEDED: frozenset({R.PUBLISHED}),
    R.PUBLISHED: frozenset({R.SUPERSEDED, R.WITHDRAWN}),
    # The round that superseded it was withdrawn before anyone answered: it is current again.
    R.SUPERSEDED: frozenset({R.PUBLISHED}),
}

PLACEMENT_TRANSITIONS: Mapping[PlacementStatus, frozenset[PlacementStatus]] = {
    P.PROPOSED: frozenset({P.PUBLISHED}),
    P.PUBLISHED: frozenset({P.ACCEPTED, P.DECLINED, P.SUPERSEDED, P.WITHDRAWN}),
    P.ACCEPTED: frozenset({P.CONFIRMED, P.WITHDRAWN}),
    P.CONFIRMED: frozenset({P.WITHDRAWN}),
    P.SUPERSEDED: frozenset({P.PUBLISHED}),
}

LIVE = frozenset(PlacementStatus(s) for s in LIVE_PLACEMENT_STATUSES)
TERMINAL_RUN = frozenset({R.INFEASIBLE, R.NO_SOLUTION_IN_TIME, R.FAILED, R.CANCELLED, R.WITHDRAWN})


def run_sources(target: RunStatus) -> frozenset[RunStatus]:
    return frozenset(s for s, targets in RUN_TRANSITIONS.items() if target in targets)


def placement_sources(target: PlacementStatus) -> frozenset[PlacementStatus]:
    return frozenset(s for s, targets in PLACEMENT_TRANSITIONS.items() if target in targets)


class Ledger:
    def __init__(self, session: Session, actor_id: int | None) -> None:
        self.session = session
        self.actor_id = actor_id
        self.repo = LedgerRepository(session)
        self.audit = AccessRepository(session)

    # ------------------------------------------------------------------ runs

    def move_run(self, run: AllocationRun, target: RunStatus, *, action: str | None,
                 details: dict[str, Any] | None = None, **values: Any) -> None:
        """Move ``run`` to ``target`` from whatever allowed status it is in; a 409 if it is in
        none (someone else moved it first).  Audited as ``action`` unless that is None (the
        caller audits the move together with its placements')."""
        self.session.flush()
        sources = run_sources(target)
        if not self.repo.move_run(run.id, sources, target, values):
            self.repo.refresh(run)
            raise Conflict(f"run {run.id} is {run.status.value}; it cannot become {target.value}",
                           extra={"run_id": run.id, "current_status": run.status.value}, code="run_state",
                           params={"target": target.value})
        self.repo.refresh(run)
        if action is not None:
            self._audit_run(run, action, {"to": target.value, **(details or {})})

    def _audit_run(self, run: AllocationRun, action: str, details: dict[str, Any]) -> None:
        self.audit.record(self.actor_id, action, "allocation-run", run.id, details)

    def claim(self, run: AllocationRun, owner: str, lease: timedelta) -> None:
        now = utcnow()
        self.move_run(run, R.RUNNING, action="claim", details={"worker": owner},
                      lease_owner=owner, lease_expires_at=now + lease, started_at=run.started_at or now,
                      phase="load", progress=0)

    def finish(self, run: AllocationRun, target: RunStatus, **values: Any) -> None:
        """The worker's end of a run: succeeded, infeasible, out of time, failed or cancelled."""
        assert target in RUN_TRANSITIONS[R.RUNNING] and target is not R.RUNNING
        self.move_run(run, target, action="finish", details={"error": bool(values.get("error"))},
                      finished_at=utcnow(), lease_owner=None, lease_expires_at=None, **values)

    def cancel_queued(self, run: AllocationRun) -> None:
        self.move_run(run, R.CANCELLED, action="cancel", cancel_requested=True, finished_at=utcnow())

    def publish(self, run: AllocationRun, parent: AllocationRun | None) -> int:
        """Publish ``run``: the parent round (if any) is superseded, with its unanswered placements;
        the run's proposals become offers.  The number of offers published."""
        superseded = 0
        try:
            # The parent first: a scope never has two published runs, not even within a statement.
            if parent is not None:
                superseded = self.repo.move_placements_of_run(parent.id, P.PUBLISHED, P.SUPERSEDED)
                self.move_run(parent, R.SUPERSEDED, action="supersede",
                              details={"to": R.SUPERSEDED.value, "by_run": run.id, "placements": superseded})
            self.move_run(run, R.PUBLISHED, action=None, published_at=utcnow())
            published = self.repo.move_placements_of_run(run.id, P.PROPOSED, P.PUBLISHED)
            self.session.flush()
        except IntegrityError as exc:
            raise _ledger_conflict(exc, f"run {run.id}") from exc
        self._audit_run(run, "publish", {"to": R.PUBLISHED.value, "placements": published,
                                         "superseded_run": parent.id if parent else None})
        notifications.announce_published(self.session, run)  # news last: the move is decided first
        return published

    def withdraw(self, run: AllocationRun, parent: AllocationRun | None) -> int:
        """Take back a published run that nobody answered; its parent round is current again."""
        if self.repo.answered_count(run.id):
            raise Conflict(f"run {run.id} already has answers; withdraw single placements instead",
                           extra={"run_id": run.id, "answered": self.repo.answered_count(run.id)},
                           code="run_has_answers")
        try:
            self.move_run(run, R.WITHDRAWN, action=None, withdrawn_at=utcnow())
            withdrawn = self.repo.move_placements_of_run(run.id, P.PUBLISHED, P.WITHDRAWN)
            # An answer that slipped in between the count and the move makes this a 409 (rollback).
            answered = self.repo.answered_count(run.id)
            if answered:
                raise Conflict(f"run {run.id} received {answered} answers while it was being withdrawn")
            restored = 0
            if parent is not None:
                restored = self.repo.move_placements_of_run(parent.id, P.SUPERSEDED, P.PUBLISHED)
                self.move_run(parent, R.PUBLISHED, action="restore",
                              details={"to": R.PUBLISHED.value, "after_withdrawal_of": run.id,
                                       "placements": restored})
            self.session.flush()
        except IntegrityError as exc:
            raise _ledger_conflict(exc, f"run {run.id}") from exc
        self._audit_run(run, "withdraw", {"to": R.WITHDRAWN.value, "placements": withdrawn})
        return withdrawn

    # ------------------------------------------------------------------ placements

    def move_placement(self, placement: Placement, target: PlacementStatus, *, action: str,
                       details: dict[str, Any] | None = None, **values: Any) -> None:
        self.session.flush()
        if not self.repo.move_placement(placement.id, placement_sources(target), target, values):
            self.repo.refresh(placement)
            raise Conflict(f"placement {placement.id} is {placement.status.value}; it cannot become {target.value}",
                           extra={"placement_id": placement.id, "current_status": placement.status.value},
                           code="placement_state", params={"target": target.value})
        self.repo.refresh(placement)
        self.audit.record(self.actor_id, action, "placement", placement.id, {"to": target.value, **(details or {})})

    def accept(self, placement: Placement) -> None:
        """The student (or the college, for a course need) said yes: the placement holds a seat
        (or the lecturer's hours) from now on."""
        try:
            self.move_placement(placement, P.ACCEPTED, action="accept", locked=True)
            self._hold(placement)
            self.session.flush()
        except IntegrityError as exc:
            raise _ledger_conflict(exc, f"placement {placement.id}") from exc
        notifications.announce_answer(self.session, placement)

    def decline(self, placement: Placement) -> None:
        self.move_placement(placement, P.DECLINED, action="decline", locked=False)
        notifications.announce_answer(self.session, placement)

    def confirm(self, placement: Placement, *, number: str | None = None, signed_on: date | None = None) -> None:
        """The tripartite agreement is signed (its number and date when known)."""
        self.move_placement(placement, P.CONFIRMED, action="agreement", agreement_recorded_at=utcnow(),
                            agreement_no=number, agreement_signed_on=signed_on)
        notifications.announce_answer(self.session, placement)

    def withdraw_placement(self, placement: Placement, reason: str) -> None:
        """An accepted or confirmed placement ends early (the student left, the agreement was
        terminated): its seat and hours are free again, the reason is kept."""
        was_live = placement.status in LIVE
        self.move_placement(placement, P.WITHDRAWN, action="withdraw", details={"reason_given": True},
                            withdrawn_reason=reason, locked=False)
        if was_live:
            self._release(placement)

    def _hold(self, placement: Placement) -> None:
        if placement.kind == RunKind.INTERNSHIP:
            assert placement.opening_id is not None
            if not self.repo.take_seat(placement.opening_id):
                seats, filled = self.repo.opening_seats(placement.opening_id)
                raise Conflict(f"opening {placement.opening_id} has no free seat ({filled} of {seats} taken)",
                               extra={"opening_id": placement.opening_id, "seats": seats, "filled": filled},
                               code="no_free_seat")
            return
        assert placement.lecturer_id is not None and placement.course_need_id is not None
        lecturer = self.repo.lock_lecturer(placement.lecturer_id)
        assert lecturer is not None
        live = self.repo.live_hours(lecturer.id).get(placement.term, 0)
        if live > lecturer.max_weekly_hours:  # this placement is already counted as live
            raise Conflict(f"lecturer {lecturer.id} would teach {live} weekly hours in {placement.term}, "
                           f"more than the {lecturer.max_weekly_hours} available",
                           extra={"lecturer_id": lecturer.id, "hours": live, "max": lecturer.max_weekly_hours},
                           code="lecturer_hours")

    def _release(self, placement: Placement) -> None:
        if placement.kind == RunKind.INTERNSHIP and placement.opening_id is not None:
            self.repo.release_seat(placement.opening_id)

    # ------------------------------------------------------------------ history

    def recount_seats(self, opening_ids: list[int]) -> None:
        """After recorded history (completed placements) is inserted in bulk."""
        self.repo.recount_seats(opening_ids)


def _ledger_conflict(exc: IntegrityError, subject: str) -> Conflict:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "uq_placements_current_student_term" in text or "placements.term, placements.student_id" in text:
        detail = f"{subject}: a student would hold two current placements in one term"
    elif "uq_placements_current_course_need" in text or "placements.course_need_id" in text:
        detail = f"{subject}: a course need would have two current lecturers"
    elif "uq_allocation_runs_published_scope" in text or "allocation_runs.kind, allocation_runs.scope_key" in text:
        detail = f"{subject}: its scope already has a published allocation"
    elif "filled_within_seats" in text:
        detail = f"{subject}: an opening would have more accepted placements than seats"
    else:
        detail = f"{subject}: the change conflicts with the stored placements"
    return Conflict(detail, code="ledger_conflict")


__all__ = ["LIVE", "PLACEMENT_TRANSITIONS", "RUN_TRANSITIONS", "Ledger", "placement_sources", "run_sources"]
