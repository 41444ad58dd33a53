"""The worker as a real process on a real (committed) database: a worker killed with SIGKILL in
the middle of a solve is recovered by another and gives the same placements; concurrent
submissions for one scope give one run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db.engine import make_engine, make_session_factory
from app.db.models import AllocationRun, Role, RunStatus
from app.main import create_app
from app.run_schemas import RunCreate
from app.security import SYSTEM
from app.services.auth import create_api_key, ensure_actor
from app.services.demo import seed_demo
from app.services.runs import RunService
from app.settings import Settings
from app.worker import Worker
from tests.conftest import migrate, postgres_database

TERM = "2027-spring"


@pytest.fixture
def live_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.db'}"
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = postgres_database(request.getfixturevalue("pg_server"), f"chanjiao_live_{worker}_{time.monotonic_ns()}")
    migrate(url)
    return url


@pytest.fixture
def live_engine(live_url: str) -> Iterator[Engine]:
    engine = make_engine(live_url)
    yield engine
    engine.dispose()


def _settings(url: str, **overrides: object) -> Settings:
    return Settings(database_url=url, **overrides)  # type: ignore[arg-type]


def _submit(engine: Engine, **parameters: object) -> int:
    with make_session_factory(engine).begin() as session:
        body = RunCreate.model_validate({"kind": "internship", "scope": {"term": TERM, "province": "贵州"},
                                         "parameters": parameters})
        run, _ = RunService(session, SYSTEM).submit(body)
        return run.id


def _run(session: Session, run_id: int) -> AllocationRun:
    run = session.get(AllocationRun, run_id)
    assert run is not None
    return run


@pytest.mark.slow
def test_killed_worker_is_recovered_with_the_same_result(live_url: str, live_engine: Engine) -> None:
    sessions = make_session_factory(live_engine)
    with sessions.begin() as session:
        seed_demo(session, seed=2027)
    run_id = _submit(live_engine)
    env = {**os.environ, "CHANJIAO_DATABASE_URL": live_url, "CHANJIAO_WORKER_LEASE_S": "2",
           "CHANJIAO_WORKER_HEARTBEAT_S": "0.3", "CHANJIAO_SOLVE_IN_SUBPROCESS": "true",
           "CHANJIAO_ALLOCATION_EXECUTOR": "inline"}
    process = subprocess.Popen([sys.executable, "-m", "app", "worker", "--once"], env=env,
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    phase = ""
    while time.monotonic() < deadline and process.poll() is None:
        with sessions.begin() as session:
            phase = _run(session, run_id).phase
        if phase == "solve":
            break
        time.sleep(0.02)
    assert phase == "solve", f"the worker never reached the solve (phase {phase!r}, exit {process.poll()})"
    os.killpg(process.pid, signal.SIGKILL)  # the worker and its solver child die together
    process.wait(timeout=10)

    with sessions.begin() as session:
        orphan = _run(session, run_id)
        assert orphan.status == RunStatus.RUNNING
        assert orphan.placements_digest is None
    rescuer = Worker(sessions, _settings(live_url, solve_in_subprocess=False, allocation_executor="inline",
                                         worker_lease_s=2, worker_heartbeat_s=0.5))
    assert rescuer.run_once() is None  # the dead worker's lease has not expired yet
    time.sleep(2.2)
    assert rescuer.run_once() == run_id
    with sessions.begin() as session:
        recovered = _run(session, run_id)
        assert recovered.status == RunStatus.SUCCEEDED, recovered.error
        digest = recovered.placements_digest

    again = _submit(live_engine)
    assert rescuer.run_once() == again
    with sessions.begin() as session:
        assert _run(session, again).placements_digest == digest


def test_ten_concurrent_submissions_give_one_run(live_url: str, live_engine: Engine) -> None:
    with make_session_factory(live_engine).begin() as session:
        key = create_api_key(session, ensure_actor(session, Role.SCHEDULER))
    app = create_app(_settings(live_url), engine=live_engine)
    body = {"kind": "internship", "scope": {"term": TERM, "province": "辽宁"}}

    def submit(_: int) -> int:
        client = TestClient(app, raise_server_exceptions=False)
        return client.post("/api/v1/allocation-runs", json=body, headers={"Authorization": f"Bearer {key}"}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(submit, range(10)))
    assert statuses == [202] + [409] * 9
    with make_session_factory(live_engine).begin() as session:
        runs = session.scalars(select(AllocationRun)).all()
        assert len(runs) == 1


def test_two_workers_never_claim_the_same_run(live_url: str, live_engine: Engine) -> None:
    sessions = make_session_factory(live_engine)
    for province in ("贵州", "辽宁", "北京"):
        with sessions.begin() as session:
            RunService(session, SYSTEM).submit(RunCreate.model_validate(
                {"kind": "internship", "scope": {"term": TERM, "province": province}}))
    settings = _settings(live_url, solve_in_subprocess=False, allocation_executor="inline")
    workers = [Worker(sessions, settings, owner=f"w{i}") for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        claimed = [c for c in pool.map(lambda w: w._claim(), workers) if c is not None]
    assert sorted(c.id for c in claimed) == [1, 2, 3]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status waits to be read


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc (Linux)")
def test_a_solver_child_ends_when_its_worker_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the worker alone (not its process group): the solver child must not run on."""
    script = tmp_path / "worker_stand_in.py"
    script.write_text(
        "import multiprocessing, os, sys, time\n"
        "from app.worker import _run_in_child\n"
        "if __name__ == '__main__':\n"
        "    ctx = multiprocessing.get_context('spawn')\n"
        "    receiver, sender = ctx.Pipe(duplex=False)\n"
        "    child = ctx.Process(target=_run_in_child, args=(sender, os.getpid(), time.sleep, (120,)))\n"
        "    child.start()\n"
        "    print(child.pid, flush=True)\n"
        "    time.sleep(120)\n")
    worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              start_new_session=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert worker.stdout is not None
        child = int(worker.stdout.readline())
        assert _alive(child)
        os.kill(worker.pid, signal.SIGKILL)  # the worker only, as kill -9 <pid> does
        worker.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Before: the child slept (solved) on for its whole time limit.
        assert not _alive(child), "the solver child outlived its worker"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)


def _two_parts(first: int, progress: Callable[[int, int], None]) -> int:
    progress(1, 2)
    progress(2, 2)
    return first + 1


def test_a_solver_child_sends_its_progress_before_its_result() -> None:
    """What the worker reads from its solver child's pipe: each progress report, then the result."""
    import multiprocessing

    from app.worker import _run_in_child

    receiver, sender = multiprocessing.Pipe(duplex=False)
    # The body runs here (its parent is our parent, so its exit-with-parent watch stays quiet).
    _run_in_child(sender, os.getppid(), _two_parts, (41,), True)
    assert [receiver.recv() for _ in range(3)] == [("progress", (1, 2)), ("progress", (2, 2)), ("ok", 42)]
