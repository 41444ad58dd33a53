"""Database access for CLI commands: one engine per process, built from the settings.

Commands open explicit ``with session_factory().begin():`` blocks (see DESIGN.md, Transactions),
so services only flush and a failing command leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_session_factory
from app.errors import ChanjiaoError
from app.settings import get_settings


@lru_cache(maxsize=1)
def session_factory() -> sessionmaker[Session]:
    settings = get_settings()
    engine = make_engine(
        settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, echo=settings.sql_echo
    )
    factory = make_session_factory(engine)
    if settings.smtp_host:
        # `chanjiao runs publish` notifies as the web does; the mail goes out before the command exits.
        from app.mail import SmtpPostman
        from app.services.notifications import POSTMAN_KEY
        from app.web.notices import compose_mail

        factory.configure(info={POSTMAN_KEY: SmtpPostman(settings, compose_mail, background=False)})
    return factory


@contextmanager
def write_or_exit(console: Console) -> Iterator[Session]:
    """One write transaction of a command; a refusal of a service is its message and exit code 2."""
    try:
        with session_factory().begin() as session:
            yield session
    except ChanjiaoError as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
