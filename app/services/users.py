"""People who sign in to the web UI: accounts, passwords and the principal a session acts as.

A user is bound to one ``Actor`` (role + tenant), the same rows API keys belong to, so the web UI
and the API share every authorisation and tenancy rule.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from pwdlib import PasswordHash
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import Actor, Role, User
from app.errors import Conflict, NotFound, field_error
from app.repositories.entities import CollegeRepository, EnterpriseRepository
from app.repositories.users import UserRepository
from app.security import SYSTEM, Principal
from app.services.auth import ensure_actor

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$")
MIN_PASSWORD = 10


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    # argon2id with pwdlib's recommended cost; built once because it probes the backend.
    return PasswordHash.recommended()


# Verified when the username is unknown, so a wrong name costs as long as a wrong password and
# response times do not reveal which accounts exist.
_DUMMY_HASH: list[str] = []


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def principal_of(actor: Actor) -> Principal:
    return Principal(actor_id=actor.id, role=actor.role, college_id=actor.college_id,
                     enterprise_id=actor.enterprise_id, scope=dict(actor.scope or {}))


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: int
    username: str
    principal: Principal


def authenticate_user(session: Session, username: str, password: str) -> SignedIn | None:
    """The user whose name and password these are, or None (unknown, wrong or inactive alike)."""
    user = UserRepository(session).by_username(username.strip())
    if user is None or not user.is_active:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
        _hasher().verify(password, _DUMMY_HASH[0])
        return None
    valid, new_hash = _hasher().verify_and_update(password, user.password_hash)
    if not valid:
        return None
    if new_hash is not None:  # the recommended cost went up since this hash was made
        user.password_hash = new_hash
    user.last_login_at = utcnow()
    session.flush()
    return SignedIn(user.id, user.username, principal_of(user.actor))


def session_user(session: Session, user_id: int) -> SignedIn | None:
    """The signed-in user of a web session, re-read on every request so a deactivated user or a
    changed role takes effect at once."""
    found = UserRepository(session).with_actor(user_id)
    if found is None or not found[0].is_active:
        return None
    user, actor = found
    return SignedIn(user.id, user.username, principal_of(actor))


def create_user(session: Session, username: str, password: str, role: Role, *, college_id: int | None = None,
                enterprise_id: int | None = None) -> User:
    """A new user acting as the actor of ``role`` (and tenant), which is created on first use."""
    if not USERNAME.match(username):
        raise field_error("username", "use 2-100 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if len(password) < MIN_PASSWORD:
        raise field_error("password", f"the password needs at least {MIN_PASSWORD} characters")
    if college_id is not None and CollegeRepository(session).get(SYSTEM, college_id) is None:
        raise NotFound.of("college", college_id)
    if enterprise_id is not None and EnterpriseRepository(session).get(SYSTEM, enterprise_id) is None:
        raise NotFound.of("enterprise", enterprise_id)
    users = UserRepository(session)
    if users.by_username(username) is not None:
        raise Conflict(f"user {username!r} already exists")
    actor = ensure_actor(session, role, college_id=college_id, enterprise_id=enterprise_id)
    return users.add(User(username=username, password_hash=hash_password(password), actor_id=actor.id))


# Letters and digits without look-alikes (0/O, 1/l/I): demo passwords are read off a terminal.
_PASSWORD_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str
    role: Role
    actor_id: int


def reset_users_of_actors(session: Session, actors: list[Actor]) -> list[Credentials]:
    """One user per actor (created when missing) with a fresh random password, returned once.

    For the demo: like ``demo keys``, the secrets are printed when made and never stored."""
    users = UserRepository(session)
    existing = users.of_actors([a.id for a in actors])
    out: list[Credentials] = []
    for actor in actors:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(14))
        user = existing.get(actor.id)
        if user is None:
            tenant = actor.college_id or actor.enterprise_id
            name = actor.role.value.replace("_", "-") + (f"-{tenant}" if tenant else "")
            user = users.add(User(username=name, password_hash=hash_password(password), actor_id=actor.id))
        else:
            user.password_hash = hash_password(password)
            user.is_active = True
        out.append(Credentials(user.username, password, actor.role, actor.id))
    session.flush()
    return out
