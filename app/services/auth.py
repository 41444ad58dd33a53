"""Authentication and API key management."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db.models import Actor, ApiKey, Role
from app.errors import NotFound, Unprocessable
from app.repositories.access import AccessRepository
from app.repositories.entities import CollegeRepository, EnterpriseRepository
from app.security import SYSTEM, Principal, hash_api_key, new_api_key


def authenticate(session: Session, key: str) -> Principal | None:
    found = AccessRepository(session).key_with_actor(hash_api_key(key))
    if found is None:
        return None
    _, actor = found
    return Principal(actor_id=actor.id, role=actor.role, college_id=actor.college_id,
                     enterprise_id=actor.enterprise_id, scope=dict(actor.scope or {}))


def create_api_key(session: Session, actor: Actor, label: str = "") -> str:
    """Store a new key for ``actor`` and return it; only its hash is kept."""
    key = new_api_key()
    AccessRepository(session).add_key(
        ApiKey(actor_id=actor.id, prefix=key[:8], key_hash=hash_api_key(key), label=label)
    )
    return key


def ensure_actor(session: Session, role: Role, *, college_id: int | None = None,
                 enterprise_id: int | None = None, name: str | None = None) -> Actor:
    """The actor for a role and tenant, created on first use."""
    if role is Role.PLACEMENT_OFFICE and college_id is None:
        raise Unprocessable("a placement_office key needs --college")
    if role is Role.ENTERPRISE_HR and enterprise_id is None:
        raise Unprocessable("an enterprise_hr key needs --enterprise")
    if role in (Role.ADMIN, Role.SCHEDULER) and (college_id or enterprise_id):
        raise Unprocessable(f"a {role.value} key belongs to no college or enterprise")
    access = AccessRepository(session)
    actor = access.find_actor(role.value, college_id, enterprise_id)
    if actor is None:
        tenant = f" college {college_id}" if college_id else f" enterprise {enterprise_id}" if enterprise_id else ""
        actor = access.add_actor(Actor(name=name or f"{role.value}{tenant}", role=role,
                                       college_id=college_id, enterprise_id=enterprise_id))
    return actor


def create_key_for_role(session: Session, role: Role, *, college_id: int | None = None,
                        enterprise_id: int | None = None, label: str = "") -> str:
    """Create a key for the actor of ``role`` (and tenant), checking the tenant exists."""
    if college_id is not None and CollegeRepository(session).get(SYSTEM, college_id) is None:
        raise NotFound.of("college", college_id)
    if enterprise_id is not None and EnterpriseRepository(session).get(SYSTEM, enterprise_id) is None:
        raise NotFound.of("enterprise", enterprise_id)
    actor = ensure_actor(session, role, college_id=college_id, enterprise_id=enterprise_id)
    return create_api_key(session, actor, label=label)
