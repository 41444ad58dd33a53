"""Web UI users: argon2 hashes, sign-in checks, the CLI and the demo users."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.db.models import Role, User
from app.errors import Conflict, NotFound, Unprocessable
from app.services.users import authenticate_user, create_user, reset_users_of_actors, session_user
from tests.conftest import World

PASSWORD = "correct horse battery"


def test_password_is_stored_as_argon2_and_checked(session: Session, world: World) -> None:
    user = create_user(session, "office.a", PASSWORD, Role.PLACEMENT_OFFICE, college_id=world.college_a.id)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    signed = authenticate_user(session, "office.a", PASSWORD)
    assert signed is not None
    assert signed.principal.role is Role.PLACEMENT_OFFICE
    assert signed.principal.college_id == world.college_a.id
    assert authenticate_user(session, "office.a", "wrong password!") is None
    assert authenticate_user(session, "nobody", PASSWORD) is None
    user.is_active = False
    session.flush()
    assert authenticate_user(session, "office.a", PASSWORD) is None
    assert session_user(session, user.id) is None


def test_create_user_checks_name_password_tenant_and_duplicates(session: Session, world: World) -> None:
    with pytest.raises(Unprocessable):
        create_user(session, "x", PASSWORD, Role.ADMIN)
    with pytest.raises(Unprocessable):
        create_user(session, "admin2", "short", Role.ADMIN)
    with pytest.raises(Unprocessable):
        create_user(session, "hr", PASSWORD, Role.ENTERPRISE_HR)  # needs an enterprise
    with pytest.raises(NotFound):
        create_user(session, "hr", PASSWORD, Role.ENTERPRISE_HR, enterprise_id=999_999)
    create_user(session, "sched", PASSWORD, Role.SCHEDULER)
    with pytest.raises(Conflict):
        create_user(session, "sched", PASSWORD, Role.SCHEDULER)


def test_reset_users_of_actors_gives_fresh_passwords(session: Session, world: World) -> None:
    from app.db.models import Actor

    actors = list(session.scalars(select(Actor).order_by(Actor.id)))
    first = reset_users_of_actors(session, actors)
    assert len(first) == len(actors) == len({c.username for c in first})
    second = reset_users_of_actors(session, actors)
    assert [c.username for c in first] == [c.username for c in second]
    for old, new in zip(first, second, strict=True):
        assert authenticate_user(session, new.username, new.password) is not None
        assert authenticate_user(session, old.username, old.password) is None


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_users_create_cli_reads_the_password_from_stdin(
        tmp_path: object, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from app.cli import _register_commands, cli
    from app.commands._db import session_factory
    from app.settings import get_settings

    monkeypatch.setenv("CHANJIAO_DATABASE_URL", database_url)
    get_settings.cache_clear()
    session_factory.cache_clear()
    try:
        _register_commands()
        result = CliRunner().invoke(cli, ["users", "create", "--username", "cli-sched", "--role", "scheduler",
                                          "--password-stdin"], input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        again = CliRunner().invoke(cli, ["users", "create", "--username", "cli-sched", "--role", "scheduler",
                                         "--password-stdin"], input=PASSWORD + "\n")
        assert again.exit_code == 2
        with session_factory()() as s:
            user = s.scalars(select(User).where(User.username == "cli-sched")).one()
            assert authenticate_user(s, "cli-sched", PASSWORD) is not None
            s.delete(user)
            s.commit()
    finally:
        get_settings.cache_clear()
        session_factory.cache_clear()
