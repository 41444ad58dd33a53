"""The scheduler's command line against a worker: allocate --wait, runs list/show/publish/export,
and replay of a run with export-instance + solve."""

from __future__ import annotations

import csv
import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import _register_commands, cli
from app.commands import _db
from app.db.engine import make_engine, make_session_factory
from app.services.demo import seed_demo
from app.settings import Settings, get_settings
from app.worker import Worker
from tests.conftest import migrate


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        seed_demo(session, seed=2027)
    monkeypatch.setenv("CHANJIAO_DATABASE_URL", url)
    get_settings.cache_clear()
    _db.session_factory.cache_clear()
    _register_commands()
    stop = threading.Event()
    settings = Settings(database_url=url, solve_in_subprocess=False, allocation_executor="inline",
                        worker_poll_s=0.1, worker_heartbeat_s=0.5)
    worker = threading.Thread(target=Worker(make_session_factory(engine), settings).run_forever, args=(stop,))
    worker.start()
    try:
        yield url
    finally:
        stop.set()
        worker.join(timeout=30)
        engine.dispose()
        get_settings.cache_clear()
        _db.session_factory.cache_clear()


def test_allocate_wait_review_publish_export_and_replay(demo_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    allocated = runner.invoke(cli, ["allocate", "--term", "2027-spring", "--province", "贵州", "--wait"])
    assert allocated.exit_code == 0, allocated.output
    run_id = allocated.stdout.strip().splitlines()[-1]

    shown = runner.invoke(cli, ["runs", "show", run_id])
    summary = json.loads(shown.stdout)
    assert summary["status"] == "succeeded"
    assert summary["gap"] == 0.0
    assert summary["kpis"]["placed"] > 0

    listed = runner.invoke(cli, ["runs", "list"], env={"COLUMNS": "200"})
    assert "succeeded" in listed.stdout

    assert runner.invoke(cli, ["runs", "publish", run_id]).exit_code == 0
    assert runner.invoke(cli, ["runs", "publish", run_id]).exit_code == 2  # already published
    assert runner.invoke(cli, ["runs", "cancel", run_id]).exit_code == 2  # already finished

    exported = tmp_path / "placements.csv"
    assert runner.invoke(cli, ["runs", "export", run_id, "--out", str(exported)]).exit_code == 0
    rows = list(csv.DictReader(exported.open(encoding="utf-8-sig")))
    assert len(rows) == summary["kpis"]["placed"]
    assert {r["status"] for r in rows} == {"published"}

    instance, out = tmp_path / "instance", tmp_path / "replay"
    assert runner.invoke(cli, ["runs", "export-instance", run_id, str(instance)]).exit_code == 0
    solved = runner.invoke(cli, ["solve", "--instance", str(instance), "--out", str(out)])
    assert solved.exit_code == 0, solved.output
    assert hashlib.sha256((out / "placements.csv").read_bytes()).hexdigest() == summary["placements_digest"]


def test_allocate_rejects_bad_parameters_with_a_message(demo_db: str) -> None:
    result = CliRunner().invoke(cli, ["allocate", "--term", "2027-spring", "--parameters", '{"top_k": 0}'])
    assert result.exit_code == 2
    assert "top_k" in result.output
