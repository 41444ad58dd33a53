"""Users of the web UI, the actor each one acts as, and their signed-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, joinedload

from app.db.models import Actor, User, WebSession


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_username(self, username: str) -> User | None:
        stmt = select(User).where(User.username == username).options(joinedload(User.actor))
        return self.session.scalars(stmt).one_or_none()

    def with_actor(self, user_id: int) -> tuple[User, Actor] | None:
        stmt = select(User, Actor).join(Actor, Actor.id == User.actor_id).where(User.id == user_id)
        row = self.session.execute(stmt).one_or_none()
        return (row[0], row[1]) if row else None

    def of_actors(self, actor_ids: list[int]) -> dict[int, User]:
        if not actor_ids:
            return {}
        rows = self.session.scalars(select(User).where(User.actor_id.in_(actor_ids)).order_by(User.id))
        out: dict[int, User] = {}
        for user in rows:
            out.setdefault(user.actor_id, user)
        return out

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user


class WebSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: WebSession) -> WebSession:
        self.session.add(row)
        self.session.flush()
        return row

    def live(self, token_hash: str, now: datetime, idle_since: datetime, touch_before: datetime
             ) -> tuple[int, int, bool] | None:
        """(session id, user id, whether its last_seen_at is older than ``touch_before``) of this
        token, unless it was revoked, has reached its absolute expiry or has been idle since before
        ``idle_since``.  Compared in SQL: SQLite hands back naive datetimes."""
        stmt = select(WebSession.id, WebSession.user_id, WebSession.last_seen_at < touch_before).where(
            WebSession.token_hash == token_hash, WebSession.revoked_at.is_(None),
            WebSession.expires_at > now, WebSession.last_seen_at > idle_since)
        row = self.session.execute(stmt).one_or_none()
        return (int(row[0]), int(row[1]), bool(row[2])) if row else None

    def touch(self, session_id: int, now: datetime) -> None:
        self.session.execute(update(WebSession).where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
                             .values(last_seen_at=now))

    def revoke_token(self, token_hash: str, now: datetime) -> int:
        result = self.session.execute(update(WebSession).where(WebSession.token_hash == token_hash,
                                                               WebSession.revoked_at.is_(None))
                                      .values(revoked_at=now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def revoke_user(self, user_id: int, now: datetime) -> int:
        """Revokes every open session of the user; how many there were."""
        result = self.session.execute(update(WebSession).where(WebSession.user_id == user_id,
                                                               WebSession.revoked_at.is_(None),
                                                               WebSession.expires_at > now)
                                      .values(revoked_at=now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def prune(self, user_id: int, now: datetime, idle_since: datetime) -> None:
        """Drops the user's sessions that can never be used again, so the table stays small."""
        self.session.execute(delete(WebSession).where(
            WebSession.user_id == user_id,
            or_(WebSession.expires_at <= now, WebSession.last_seen_at <= idle_since,
                WebSession.revoked_at.is_not(None))))
