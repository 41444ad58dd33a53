"""Web sessions are server-side records (issue 11, defect 3): signing out, a new password and an
admin's revocation end every copy of a cookie, and a session has an absolute lifetime besides its
idle timeout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.db.base import utcnow
from app.db.models import Role, User, WebSession
from app.services.users import create_user, revoke_sessions, set_password
from app.web import SESSION_COOKIE
from tests.app.web.conftest import PASSWORD, csrf_of, sign_in

NEW_PASSWORD = "a-new-web-password"


def _cookie(client: TestClient) -> str:
    value = client.cookies.get(SESSION_COOKIE)
    assert value, "not signed in"
    return value


def _with_cookie(client: TestClient, value: str) -> TestClient:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value)
    return client


def _signed_in(client: TestClient) -> bool:
    response = client.get("/programs", follow_redirects=False)
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200


def _sessions_of(session: Session, username: str) -> list[WebSession]:
    session.expire_all()
    user = session.scalars(select(User).where(User.username == username)).one()
    return list(session.scalars(select(WebSession).where(WebSession.user_id == user.id).order_by(WebSession.id)))


def test_a_cookie_copied_before_sign_out_is_dead_after_it(app_client: TestClient, market: dict[str, Any],
                                                          session: Session) -> None:
    assert sign_in(app_client, "college_a").status_code == 303
    copied = _cookie(app_client)
    assert _signed_in(app_client)
    page = app_client.get("/programs")
    assert app_client.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 200
    assert not _signed_in(_with_cookie(app_client, copied))
    (row,) = _sessions_of(session, "u-college_a")
    assert row.revoked_at is not None
    # The cookie holds a random token; the table only its hash.
    assert row.token_hash not in copied and len(row.token_hash) == 64


def test_sessions_have_an_absolute_lifetime_that_activity_does_not_move(
        app_client: TestClient, market: dict[str, Any], session: Session) -> None:
    assert sign_in(app_client, "college_a").status_code == 303
    (row,) = _sessions_of(session, "u-college_a")
    expires = row.expires_at
    # Seen 5 minutes ago: the next page moves last_seen_at (the idle clock), never expires_at.
    session.execute(update(WebSession).where(WebSession.id == row.id)
                    .values(last_seen_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    before = _sessions_of(session, "u-college_a")[0].last_seen_at
    assert _signed_in(app_client)
    (after,) = _sessions_of(session, "u-college_a")
    assert after.last_seen_at > before
    assert after.expires_at == expires
    # 12 hours after sign-in (the default), however busy, the session is over.
    lifetime = after.expires_at - after.created_at
    assert lifetime == timedelta(hours=12)
    session.execute(update(WebSession).where(WebSession.id == row.id)
                    .values(expires_at=utcnow() - timedelta(seconds=1), last_seen_at=utcnow()))
    session.commit()
    assert not _signed_in(app_client)


def test_an_idle_session_ends(app_client: TestClient, market: dict[str, Any], session: Session) -> None:
    assert sign_in(app_client, "enterprise_a").status_code == 303
    (row,) = _sessions_of(session, "u-enterprise_a")
    session.execute(update(WebSession).where(WebSession.id == row.id)
                    .values(last_seen_at=utcnow() - timedelta(hours=8, seconds=1)))
    session.commit()
    assert not _signed_in(app_client)


def test_changing_ones_password_ends_every_other_copy(app_client: TestClient, market: dict[str, Any],
                                                      session: Session) -> None:
    assert sign_in(app_client, "college_a").status_code == 303
    elsewhere = _cookie(app_client)  # another browser, or a copy of this cookie
    assert sign_in(app_client, "college_a").status_code == 303
    form = app_client.get("/account/password")
    assert form.status_code == 200
    token = csrf_of(form.text)
    wrong = app_client.post("/account/password", data={
        "csrf_token": token, "current_password": "not-the-password", "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert wrong.status_code == 403
    differ = app_client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD + "x"})
    assert differ.status_code == 422
    short = app_client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": "short", "confirm_password": "short"})
    assert short.status_code == 422
    before = _cookie(app_client)
    changed = app_client.post("/account/password", follow_redirects=False, data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert changed.status_code == 303, changed.text
    # This browser goes on, with a new session; the one before the change and the other browser do not.
    assert _signed_in(app_client)
    mine = _cookie(app_client)
    assert not _signed_in(_with_cookie(app_client, before))
    assert not _signed_in(_with_cookie(app_client, elsewhere))
    assert _signed_in(_with_cookie(app_client, mine))
    assert sign_in(app_client, "college_a").status_code == 401
    assert sign_in(app_client, "college_a", NEW_PASSWORD).status_code == 303


def test_an_admin_revokes_every_session_of_a_user(app_client: TestClient, market: dict[str, Any],
                                                  session: Session) -> None:
    assert sign_in(app_client, "enterprise_a").status_code == 303
    first = _cookie(app_client)
    assert sign_in(app_client, "enterprise_a").status_code == 303
    second = _cookie(app_client)
    assert sign_in(app_client, "college_a").status_code == 303
    bystander = _cookie(app_client)
    assert revoke_sessions(session, "u-enterprise_a") == 2
    session.commit()
    assert not _signed_in(_with_cookie(app_client, first))
    assert not _signed_in(_with_cookie(app_client, second))
    assert _signed_in(_with_cookie(app_client, bystander))
    # An admin's password reset ends them too.
    set_password(session, "u-college_a", NEW_PASSWORD)
    session.commit()
    assert not _signed_in(_with_cookie(app_client, bystander))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_users_revoke_and_set_password_cli(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from app.cli import _register_commands, cli
    from app.commands._db import session_factory
    from app.services.users import SessionPolicy, live_session, start_session
    from app.settings import get_settings

    monkeypatch.setenv("CHANJIAO_DATABASE_URL", database_url)
    get_settings.cache_clear()
    session_factory.cache_clear()
    policy = SessionPolicy(idle_timeout=timedelta(hours=1), lifetime=timedelta(hours=2))
    try:
        _register_commands()
        with session_factory().begin() as s:
            user = create_user(s, "cli-revoked", PASSWORD, Role.SCHEDULER)
            tokens = [start_session(s, user.id, policy) for _ in range(2)]
        result = CliRunner().invoke(cli, ["users", "revoke", "cli-revoked"])
        assert result.exit_code == 0, result.output
        assert "2" in result.output
        with session_factory().begin() as s:
            assert all(live_session(s, t, policy) is None for t in tokens)
            token = start_session(s, user.id, policy)
        result = CliRunner().invoke(cli, ["users", "set-password", "cli-revoked", "--password-stdin"],
                                    input=NEW_PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        assert CliRunner().invoke(cli, ["users", "revoke", "nobody-here"]).exit_code == 2
        with session_factory().begin() as s:
            assert live_session(s, token, policy) is None
            s.delete(s.get(User, user.id))
    finally:
        get_settings.cache_clear()
        session_factory.cache_clear()
