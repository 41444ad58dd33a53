"""Users of the web UI and the actor each one acts as."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.db.models import Actor, User


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
