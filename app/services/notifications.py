"""Notifications of the ledger's moves: in-app at once, by e-mail once the move is committed.

The ledger tells this module what happened (``announce``).  The notification rows are written in
the ledger's own transaction, so a rolled-back move leaves no news behind.  E-mail, when the session
factory carries a postman (``POSTMAN_KEY`` in its ``info``, set up by the application when an SMTP
server is configured), waits in the session until the transaction has committed and is then handed
to the postman: never sent for a change that did not happen, never sent while the database
transaction (and SQLite's write lock) is held.

What is stored is a kind and its parameters, never a sentence: each reader sees it in their own
language, worded when shown (``app/web/notices.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import AllocationRun, Notification, Placement, RunKind
from app.errors import NotFound, Unprocessable
from app.repositories.notifications import NotificationRepository
from app.security import Principal

POSTMAN_KEY = "chanjiao_postman"
_OUTBOX_KEY = "chanjiao_outbox"

# The kinds (their texts are in app/web/notices.py).
RUN_PUBLISHED = "run_published"
SUPPLEMENTARY_PUBLISHED = "supplementary_published"
PLACEMENT_ACCEPTED = "placement_accepted"
PLACEMENT_DECLINED = "placement_declined"
AGREEMENT_RECORDED = "agreement_recorded"
ANSWER_KINDS = {"accepted": PLACEMENT_ACCEPTED, "declined": PLACEMENT_DECLINED, "confirmed": AGREEMENT_RECORDED}


@dataclass(frozen=True)
class Mail:
    """One notification for the people of one actor: their addresses, its kind and parameters."""

    to: tuple[str, ...]
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


class Postman(Protocol):
    def deliver(self, mails: list[Mail]) -> None:
        """Called after commit; must never raise into the caller (failures are the postman's to log)."""


# --------------------------------------------------------------------------- the ledger's side


def announce_published(session: Session, run: AllocationRun) -> None:
    """A run was published: every college and enterprise with placements in it hears of it; a
    supplementary round also tells colleges whose students are still unplaced."""
    repo = NotificationRepository(session)
    kind = RUN_PUBLISHED if run.parent_run_id is None else SUPPLEMENTARY_PUBLISHED
    base = {"run_id": run.id, "term": run.term, "round": run.round, "run_kind": run.kind.value}
    colleges = repo.colleges_of_run(run.id)
    unplaced: Counter[int] = Counter()
    if kind == SUPPLEMENTARY_PUBLISHED and run.kind == RunKind.INTERNSHIP:
        unplaced.update(int(u["college_id"]) for u in run.unplaced or []
                        if isinstance(u, dict) and str(u.get("college_id", "")).isdigit())
    rows: list[Notification] = []
    for actor in repo.tenant_actors(colleges=set(colleges) | set(unplaced)):
        assert actor.college_id is not None
        params = {**base, "placements": colleges.get(actor.college_id, 0)}
        if kind == SUPPLEMENTARY_PUBLISHED:
            params["unplaced"] = unplaced.get(actor.college_id, 0)
        rows.append(Notification(recipient_actor_id=actor.id, kind=kind, params=params))
    enterprises = repo.enterprises_of_run(run.id)
    for actor in repo.tenant_actors(enterprises=enterprises):
        assert actor.enterprise_id is not None
        rows.append(Notification(recipient_actor_id=actor.id, kind=kind,
                                 params={**base, "placements": enterprises[actor.enterprise_id]}))
    _store(session, repo, rows)


def announce_answer(session: Session, placement: Placement) -> None:
    """An answer (accepted, declined) or an agreement was recorded: the offer's enterprise hears of it."""
    kind = ANSWER_KINDS.get(placement.status.value)
    if kind is None:
        return
    repo = NotificationRepository(session)
    facts = repo.placement_facts(placement.id)
    if facts is None:
        return
    enterprise_id = facts.pop("enterprise_id")
    _store(session, repo, [Notification(recipient_actor_id=actor.id, kind=kind, params=facts)
                           for actor in repo.tenant_actors(enterprises=[enterprise_id])])


def _store(session: Session, repo: NotificationRepository, rows: list[Notification]) -> None:
    if not rows:
        return
    repo.add_all(rows)
    if session.info.get(POSTMAN_KEY) is None:
        return
    addresses = repo.addresses(sorted({row.recipient_actor_id for row in rows}))
    outbox: list[Mail] = session.info.setdefault(_OUTBOX_KEY, [])
    outbox += [Mail(tuple(addresses[row.recipient_actor_id]), row.kind, dict(row.params))
               for row in rows if addresses.get(row.recipient_actor_id)]


@event.listens_for(Session, "after_commit")
def _post_after_commit(session: Session) -> None:
    mails: list[Mail] = session.info.pop(_OUTBOX_KEY, None) or []
    postman: Postman | None = session.info.get(POSTMAN_KEY)
    if mails and postman is not None:
        postman.deliver(mails)


@event.listens_for(Session, "after_rollback")
def _discard_after_rollback(session: Session) -> None:
    session.info.pop(_OUTBOX_KEY, None)


# --------------------------------------------------------------------------- the reader's side


class NotificationService:
    """A signed-in actor's own notifications: nobody reads or marks another actor's."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.repo = NotificationRepository(session)
        self.actor_id = principal.actor_id

    def recent(self, *, limit: int = 50, before_id: int | None = None) -> list[Notification]:
        if self.actor_id is None:
            return []
        return self.repo.of_actor(self.actor_id, limit=limit, before_id=before_id)

    def unread(self) -> int:
        return 0 if self.actor_id is None else self.repo.unread_count(self.actor_id)

    def mark_read(self, notification_id: int) -> None:
        # Another actor's notification is not found, as any other tenant's row.
        if self.actor_id is None or not self.repo.exists_for(notification_id, self.actor_id):
            raise NotFound.of("notification", notification_id)
        self.repo.mark_read(self.actor_id, utcnow(), notification_id)

    def mark_all_read(self) -> int:
        return 0 if self.actor_id is None else self.repo.mark_read(self.actor_id, utcnow())


def set_email(session: Session, username: str, email: str | None) -> None:
    """The address a user's notifications are mailed to (None: in-app only)."""
    user = NotificationRepository(session).user_by_username(username.strip())
    if user is None:
        raise NotFound(f"no user {username!r}", code="not_found", params={"entity": "user", "id": username})
    if email is not None:
        email = email.strip()
        local, _, domain = email.partition("@")
        if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
            raise Unprocessable(f"{email!r} is not an e-mail address", code="invalid_email")
    user.email = email or None
    session.flush()
