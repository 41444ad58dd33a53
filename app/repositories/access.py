"""Actors, API keys and the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.db.models import Actor, ApiKey, AuditEvent


class AccessRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def key_with_actor(self, key_hash: str) -> tuple[ApiKey, Actor] | None:
        stmt = (
            select(ApiKey, Actor)
            .join(Actor, Actor.id == ApiKey.actor_id)
            .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        )
        row = self.session.execute(stmt).one_or_none()
        return (row[0], row[1]) if row else None

    def add_actor(self, actor: Actor) -> Actor:
        self.session.add(actor)
        self.session.flush()
        return actor

    def add_key(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        self.session.flush()
        return key

    def find_actor(self, role: str, college_id: int | None, enterprise_id: int | None) -> Actor | None:
        stmt = select(Actor).where(
            Actor.role == role,
            Actor.college_id.is_(None) if college_id is None else Actor.college_id == college_id,
            Actor.enterprise_id.is_(None) if enterprise_id is None else Actor.enterprise_id == enterprise_id,
        )
        return self.session.scalars(stmt.order_by(Actor.id).limit(1)).first()

    def record_many(self, actor_id: int | None, action: str, entity: str,
                    events: Sequence[tuple[object, dict[str, Any]]]) -> None:
        """One event per (entity id, details), in batched statements."""
        if events:
            self.session.execute(insert(AuditEvent), [
                {"actor_id": actor_id, "action": action, "entity": entity, "entity_id": str(entity_id),
                 "details": details} for entity_id, details in events])

    def record(self, actor_id: int | None, action: str, entity: str, entity_id: object,
               details: dict[str, Any] | None = None) -> None:
        self.session.add(
            AuditEvent(actor_id=actor_id, action=action, entity=entity,
                       entity_id=None if entity_id is None else str(entity_id), details=details or {})
        )
