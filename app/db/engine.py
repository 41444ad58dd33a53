"""Engine and session factory.

SQLite runs in WAL mode with a busy timeout, and write transactions start with ``BEGIN IMMEDIATE``
so that two writers queue on the lock instead of failing later with "database is locked" when one
upgrades its read lock.  Read-only work can use :func:`read_only` to start a plain deferred
transaction that never blocks writers.  Work that reads (and computes) a lot before it writes
uses a :class:`StagedUnit`: its reads run deferred, and its writes in one short unit at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

READ_ONLY_OPTION = "chanjiao_read_only"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY_OPTION):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, busy_timeout_ms: int = 15_000, echo: bool = False) -> Engine:
    # hide_parameters: a database error's message (logged, maybe shown) never carries row values,
    # which may be students' personal data.
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False}, hide_parameters=True)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def read_only(engine: Engine) -> Engine:
    """The same engine, whose transactions begin deferred on SQLite (readers never queue)."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, one transaction: committed when the caller's work returns, rolled back on any
    error.  Request dependencies ``yield from`` it, so a failed commit is never reported as success."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class StagedUnit:
    """A unit of work that reads first and writes last, for requests whose reading, parsing or
    hashing takes long: SQLite has one write lock, and a ``BEGIN IMMEDIATE`` from the request's
    first statement would hold it through all of that.

    ``read`` is a session in a deferred transaction (on SQLite it never blocks a writer).  ``write()``
    opens the one short write unit, committed when its block ends (so before the response is built:
    a failed commit is an error, never a success).  Whatever the reads found that another writer
    could change meanwhile, the write must re-check (or leave to a constraint).
    """

    def __init__(self, read: Session, write_factory: sessionmaker[Session]) -> None:
        self.read = read
        self._write_factory = write_factory

    def write(self) -> AbstractContextManager[Session]:
        # The read transaction ends first and its connection goes back to the pool: a request that
        # held one connection while waiting for a second could deadlock a full pool.
        self.read.commit()
        return contextmanager(unit_of_work)(self._write_factory)


def staged_unit(read_factory: sessionmaker[Session], write_factory: sessionmaker[Session]) -> Iterator[StagedUnit]:
    """Request dependencies ``yield from`` it: the read session is a unit of work of its own."""
    with contextmanager(unit_of_work)(read_factory) as session:
        yield StagedUnit(session, write_factory)
