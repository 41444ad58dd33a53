"""People who sign in to the web UI: accounts, passwords, their sessions and the principal a
session acts as.

A user is bound to one ``Actor`` (role + tenant), the same rows API keys belong to, so the web UI
and the API share every authorisation and tenancy rule.  A session is a row of ``web_sessions``
named by a random token in the browser's cookie: signing out, a new password or an admin's
revocation ends the row, and with it every copy of the cookie.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from pwdlib import PasswordHash
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import Actor, Role, User, WebSession
from app.errors import Conflict, NotFound, field_error
from app.repositories.access import AccessRepository
from app.repositories.entities import CollegeRepository, EnterpriseRepository
from app.repositories.users import UserRepository, WebSessionRepository
from app.security import SYSTEM, Principal
from app.services.auth import ensure_actor

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$")
MIN_PASSWORD = 10


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    # argon2id with pwdlib's recommended cost; built once because it probes the backend.
    return PasswordHash.recommended()


# argon2 is slow on purpose: a flood of sign-ins hashing all at once would take every core from
# the other requests.  This many hash at a time; the rest wait here, holding no database lock.
_HASHING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))

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
    checked = check_password(session, username, password)
    return None if checked is None else record_sign_in(session, checked)


@dataclass(frozen=True, slots=True)
class PasswordChecked:
    user_id: int
    verified_hash: str  # the write re-checks that it is still the user's
    new_hash: str | None  # set when the recommended cost went up since the hash was made


def check_password(session: Session, username: str, password: str) -> PasswordChecked | None:
    """The password check of a sign-in, by reads only: argon2 takes tens of milliseconds of CPU
    and must not run while a write lock is held (a flood of sign-ins would queue every writer)."""
    user = UserRepository(session).by_username(username.strip())
    with _HASHING:
        if user is None or not user.is_active:
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
            _hasher().verify(password, _DUMMY_HASH[0])
            return None
        valid, new_hash = _hasher().verify_and_update(password, user.password_hash)
    return PasswordChecked(user.id, user.password_hash, new_hash) if valid else None


def record_sign_in(session: Session, checked: PasswordChecked) -> SignedIn | None:
    """The short write of a sign-in whose password ``check_password`` accepted; None when the user
    was deactivated or given another password in between."""
    found = UserRepository(session).with_actor(checked.user_id)
    if found is None or not found[0].is_active or found[0].password_hash != checked.verified_hash:
        return None
    user, actor = found
    if checked.new_hash is not None:
        user.password_hash = checked.new_hash
    user.last_login_at = utcnow()
    session.flush()
    return SignedIn(user.id, user.username, principal_of(actor))


def session_user(session: Session, user_id: int) -> SignedIn | None:
    """The signed-in user of a web session, re-read on every request so a deactivated user or a
    changed role takes effect at once."""
    found = UserRepository(session).with_actor(user_id)
    if found is None or not found[0].is_active:
        return None
    user, actor = found
    return SignedIn(user.id, user.username, principal_of(actor))


# --------------------------------------------------------------------------- sessions

# last_seen_at is written at most this often: a write per page view would queue every reader on
# SQLite's one write lock, and the idle timeout does not need second precision.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle_timeout: timedelta
    lifetime: timedelta  # absolute, from sign-in


@dataclass(frozen=True, slots=True)
class LiveSession:
    session_id: int
    user: SignedIn
    needs_touch: bool


def _token_hash(token: str) -> str:
    # A 256-bit random token: a fast hash is as safe as a slow one (as for API keys).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user_id: int, policy: SessionPolicy, *, now: datetime | None = None) -> str:
    """A new session of the user; returns the token for the cookie (only its hash is stored)."""
    now = now or utcnow()
    sessions = WebSessionRepository(session)
    sessions.prune(user_id, now, now - policy.idle_timeout)
    token = secrets.token_urlsafe(32)
    sessions.add(WebSession(token_hash=_token_hash(token), user_id=user_id, created_at=now, last_seen_at=now,
                            expires_at=now + policy.lifetime))
    return token


def live_session(session: Session, token: str, policy: SessionPolicy, *,
                 now: datetime | None = None) -> LiveSession | None:
    """The session of a cookie's token and its user, or None when it was revoked, expired, idle
    too long, or its user was deactivated."""
    now = now or utcnow()
    found = WebSessionRepository(session).live(_token_hash(token), now, now - policy.idle_timeout,
                                               now - TOUCH_EVERY)
    if found is None:
        return None
    session_id, user_id, stale = found
    user = session_user(session, user_id)
    return LiveSession(session_id, user, stale) if user is not None else None


def touch_session(session: Session, session_id: int) -> None:
    WebSessionRepository(session).touch(session_id, utcnow())
    session.flush()


def end_session(session: Session, token: str) -> None:
    WebSessionRepository(session).revoke_token(_token_hash(token), utcnow())
    session.flush()


def revoke_sessions(session: Session, username: str, *, by_actor: int | None = None) -> int:
    """Ends every session of the user (an admin's revocation); how many were open."""
    user = UserRepository(session).by_username(username)
    if user is None:
        raise NotFound.of("user", username)
    count = WebSessionRepository(session).revoke_user(user.id, utcnow())
    AccessRepository(session).record(by_actor, "revoke-sessions", "user", user.id, {"sessions": count})
    session.flush()
    return count


def set_password(session: Session, username: str, password: str, *, by_actor: int | None = None) -> None:
    """A new password for the user (an admin's reset); every session of the user ends."""
    user = UserRepository(session).by_username(username)
    if user is None:
        raise NotFound.of("user", username)
    _store_password(session, user, password)
    AccessRepository(session).record(by_actor, "set-password", "user", user.id)
    session.flush()


def change_own_password(session: Session, user_id: int, current: str, new: str,
                        policy: SessionPolicy) -> str | None:
    """The user's own change: checks the current password, ends every session of the user (a
    copied cookie included) and starts a fresh one for the browser that asked, whose token is
    returned.  None when the current password is wrong."""
    found = UserRepository(session).with_actor(user_id)
    if found is None or not found[0].is_active:
        return None
    user = found[0]
    if not _hasher().verify(current, user.password_hash):
        return None
    _store_password(session, user, new)
    AccessRepository(session).record(user.actor_id, "change-password", "user", user.id)
    return start_session(session, user.id, policy)


def _store_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise field_error("password", f"the password needs at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    # Whoever knew the old password may hold a session: none survives the change.
    WebSessionRepository(session).revoke_user(user.id, utcnow())
    session.flush()


# --------------------------------------------------------------------------- accounts


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
            WebSessionRepository(session).revoke_user(user.id, utcnow())
        out.append(Credentials(user.username, password, actor.role, actor.id))
    session.flush()
    return out
