"""The Ray executor for real: a local runtime through ``chanjiao solve``, and a two-node cluster
through the worker, with a Ray worker process killed in the middle of a run.

Every executor must give the inline result byte for byte (placements.csv, objective, digest).
The cluster runs in a network namespace of its own (tests/support/ray_cluster.py explains why),
which needs root, as the CI and the developers' machines have.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command

from app.commands.database import alembic_config
from app.db.engine import make_engine, make_session_factory
from app.db.models import AllocationRun, RunStatus
from app.settings import Settings
from app.worker import Worker
from benchmarks.allocation import generate
from tests.support.ray_cluster import TASK_TITLE, run_in_sandbox, submit
from tests.support.scopes import provincial_scope

# Slow, and slower still on a busy box: a Ray node's start and each run's fresh workers are a few
# seconds each when the machine is quiet and ten times that under load 15 (measured 280 s).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray"), pytest.mark.timeout(900)]

CHANJIAO = str(Path(sys.executable).with_name("chanjiao"))
PARAMETERS = {"time_limit_s": 600}


def _solve(instance: Path, out: Path, executor: str) -> dict[str, Any]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("CHANJIAO_RAY_ADDRESS", None)  # a local runtime: the path without a cluster
    proc = subprocess.run([CHANJIAO, "solve", "--instance", str(instance), "--out", str(out),
                           "--executor", executor], capture_output=True, text=True, timeout=180, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary: dict[str, Any] = json.loads((out / "result.json").read_text(encoding="utf-8"))
    return summary


def test_inline_process_and_local_ray_give_byte_identical_placements(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    # 31 provinces of very unequal size, enterprise caps and college floors: many parts.
    generate.internship(instance, 3000, 300, 20, seed=5, params={"college_floor": 0.2, "time_limit_s": 120})
    outputs = {}
    for executor in ("inline", "process", "ray"):
        summary = _solve(instance, tmp_path / executor, executor)
        outputs[executor] = ((tmp_path / executor / "placements.csv").read_bytes(),
                             {k: summary[k] for k in ("status", "objective", "bound", "counts", "unplaced")})
    assert outputs["inline"][1]["status"] == "optimal"
    assert json.loads((tmp_path / "inline" / "result.json").read_text(encoding="utf-8"))["stats"]["parts"] > 10
    assert outputs["process"] == outputs["inline"]
    assert outputs["ray"] == outputs["inline"]


def _migrated(url: str) -> None:
    config = alembic_config(url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def _finished(url: str, run_id: int) -> AllocationRun:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            run = session.get(AllocationRun, run_id)
            assert run is not None
            session.expunge(run)
            return run
    finally:
        engine.dispose()


def _in_process(url: str, executor: str) -> AllocationRun:
    """The same run, executed here by an in-process worker on ``executor``."""
    run_id = submit(url, PARAMETERS)
    engine = make_engine(url)
    try:
        settings = Settings(database_url=url, solve_in_subprocess=False, allocation_executor=executor,
                            worker_heartbeat_s=3600)
        assert Worker(make_session_factory(engine), settings, owner=f"test-{executor}").run_once() == run_id
    finally:
        engine.dispose()
    return _finished(url, run_id)


@pytest.fixture(scope="module")
def cluster_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two runs on a two-node cluster (a worker killed in the second), then the same run inline."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("the Ray cluster test needs root and unshare for its own network namespace")
    root = tmp_path_factory.mktemp("ray-cluster")
    url = f"sqlite:///{root / 'scope.db'}"
    _migrated(url)
    provincial_scope(url, students_per_province=1500, openings_per_province=200)
    report = run_in_sandbox(url, root, runs=2, kill_in=(2,), parameters=PARAMETERS, timeout_s=720)
    return {"report": report, "ray": [_finished(url, r["run_id"]) for r in report["runs"]],
            "inline": _in_process(url, "inline")}


def test_run_on_a_two_node_cluster_equals_inline(cluster_runs: dict[str, Any]) -> None:
    report, (on_ray, _), inline = cluster_runs["report"], cluster_runs["ray"], cluster_runs["inline"]
    first = report["runs"][0]
    assert first["exit"] == 0, first["output"]
    assert on_ray.status == RunStatus.SUCCEEDED, on_ray.error
    # Both nodes ran parts of the run (one CPU each, four provinces).
    assert first["task_nodes"] == 2
    assert inline.status == RunStatus.SUCCEEDED
    assert inline.kpis["totals"]["students"] == 6000
    assert on_ray.placements_digest == inline.placements_digest
    assert on_ray.objective == inline.objective
    assert on_ray.input_digest == inline.input_digest
    assert report["left_running"] == []  # every process of the cluster was stopped


def test_a_killed_ray_worker_is_retried_and_the_run_keeps_its_digest(cluster_runs: dict[str, Any]) -> None:
    report, (_, killed_run), inline = cluster_runs["report"], cluster_runs["ray"], cluster_runs["inline"]
    second = report["runs"][1]
    assert second["exit"] == 0, second["output"]
    # A worker process of the cluster was SIGKILLed while it ran a part of this run ...
    assert second["killed"] is not None and second["killed"]["title"].startswith(TASK_TITLE)
    # ... and the part ran again elsewhere: the run succeeded with the inline placements.
    assert killed_run.status == RunStatus.SUCCEEDED, killed_run.error
    assert killed_run.placements_digest == inline.placements_digest
    assert killed_run.objective == inline.objective


def test_map_and_map_shared_on_the_cluster_keep_input_order(cluster_runs: dict[str, Any]) -> None:
    mapped = cluster_runs["report"]["map"]
    assert mapped["parallelism"] == 2  # one CPU per node
    assert mapped["items"] == list(range(40))
    assert mapped["nodes"] == 2 and mapped["driver_pid"] not in mapped["pids"]
    assert mapped["shared"] == [1000 + i for i in range(40)]
    assert mapped["progress"] == [[done, 40] for done in range(1, 41)]  # one report per task, as it ends (JSON)
