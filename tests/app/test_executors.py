"""The service's executors: same results as inline, in input order; clear errors."""

from __future__ import annotations

import builtins
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from app.cli import _register_commands, cli
from app.executors import EXECUTORS, ExecutorUnavailable, ProcessExecutor, check_available, make_executor
from app.settings import Settings, get_settings
from matching.allocation import InlineExecutor, InternshipParams, solve_internships
from tests.matching.allocation.test_determinism import regional_problem


def _scaled(shared: dict[str, int], item: int) -> tuple[int, int]:
    return item * shared["factor"], os.getpid()


def _square(item: int) -> int:
    return item * item


def test_process_map_shared_keeps_input_order_and_runs_in_workers() -> None:
    results = ProcessExecutor(max_workers=2).map_shared(_scaled, {"factor": 3}, list(range(20)))
    assert [value for value, _ in results] == [3 * i for i in range(20)]
    assert os.getpid() not in {pid for _, pid in results}
    assert ProcessExecutor(max_workers=2).map(_square, [3, 1, 2]) == [9, 1, 4]
    # One item needs no pool.
    assert ProcessExecutor(max_workers=2).map_shared(_scaled, {"factor": 2}, [5]) == [(10, os.getpid())]


def _logged(log_dir: str, item: int) -> int:
    (Path(log_dir) / f"{item}.done").touch()
    return item


class _Enough(Exception):
    pass


@pytest.mark.parametrize("start_method", ["fork", "spawn"])  # items inherited, or pickled per call
def test_process_map_shared_reports_each_call_as_it_ends_in_one_pool(start_method: str) -> None:
    heard: list[tuple[int, int]] = []
    results = ProcessExecutor(max_workers=2, start_method=start_method).map_shared(
        _scaled, {"factor": 3}, list(range(12)), lambda done, n: heard.append((done, n)))
    assert [value for value, _ in results] == [3 * i for i in range(12)]
    assert os.getpid() not in {pid for _, pid in results}
    assert heard == [(done, 12) for done in range(1, 13)]
    assert len({pid for _, pid in results}) <= 2  # the same two workers ran every call


def test_a_raising_progress_stops_the_process_map(tmp_path: Path) -> None:
    def enough(done: int, n: int) -> None:
        raise _Enough

    with pytest.raises(_Enough):
        ProcessExecutor(max_workers=2).map_shared(_logged, str(tmp_path), list(range(200)), enough)
    # The pool let the calls in flight end and dropped the rest.
    assert 1 <= len(list(tmp_path.glob("*.done"))) < 200


def test_inline_map_shared_reports_progress_and_stops_when_told() -> None:
    heard: list[tuple[int, int]] = []

    def until_two(done: int, n: int) -> None:
        heard.append((done, n))
        if done == 2:
            raise _Enough

    with pytest.raises(_Enough):
        InlineExecutor().map_shared(_scaled, {"factor": 1}, [1, 2, 3], until_two)
    assert heard == [(1, 3), (2, 3)]


def test_inline_and_process_give_the_same_allocation() -> None:
    problem = regional_problem(1)
    params = InternshipParams(default_quota=3, college_floor=0.2)
    inline = solve_internships(problem, params, InlineExecutor())
    pooled = solve_internships(problem, params, ProcessExecutor(max_workers=2))
    assert inline.stats["parts"] == 3
    assert np.array_equal(inline.assigned_pair, pooled.assigned_pair)
    assert (inline.objective, inline.bound, inline.status) == (pooled.objective, pooled.bound, pooled.status)


def test_make_executor_names() -> None:
    assert EXECUTORS == ("inline", "process", "ray")
    assert isinstance(make_executor("inline"), InlineExecutor)
    assert make_executor("process", 3).parallelism == 3
    with pytest.raises(ValueError, match="unknown executor 'dask'"):
        make_executor("dask")


def test_missing_ray_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__
    real_find = importlib.util.find_spec

    def no_ray(name: str, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real_find(name, *a))
    with pytest.raises(ExecutorUnavailable, match=r"install chanjiao\[ray\]"):
        check_available("ray")
    with pytest.raises(ExecutorUnavailable, match=r"install chanjiao\[ray\]"):
        make_executor("ray")
    check_available("process")


def test_worker_settings_accept_ray_and_its_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANJIAO_ALLOCATION_EXECUTOR", "ray")
    monkeypatch.setenv("CHANJIAO_RAY_ADDRESS", "127.0.0.1:6379")
    settings = Settings(database_url="sqlite://")
    assert (settings.allocation_executor, settings.ray_address) == ("ray", "127.0.0.1:6379")
    with pytest.raises(ValidationError, match="allocation_executor"):
        Settings(database_url="sqlite://", allocation_executor="dask")


def test_worker_configured_for_ray_without_ray_refuses_to_start(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    real_find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real_find(name, *a))
    monkeypatch.setenv("CHANJIAO_ALLOCATION_EXECUTOR", "ray")
    monkeypatch.setenv("CHANJIAO_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    get_settings.cache_clear()
    try:
        _register_commands()
        result = CliRunner().invoke(cli, ["worker", "--once"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "install chanjiao[ray]" in " ".join(result.output.split())
    assert not (tmp_path / "never.db").exists()  # refused before touching the database


def test_solve_with_ray_missing_says_which_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_import = builtins.__import__

    def no_ray(name: str, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    _register_commands()
    monkeypatch.setattr(builtins, "__import__", no_ray)
    instance = Path(__file__).resolve().parents[2] / "docs" / "examples" / "instance-internship"
    result = CliRunner().invoke(cli, ["solve", "--instance", str(instance), "--out", str(tmp_path / "out"),
                                      "--executor", "ray"])
    assert result.exit_code == 2
    assert "install chanjiao[ray]" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def _hugepages_asked() -> bool:
    from numpy._core import multiarray

    state = bool(multiarray._set_madvise_hugepage(True))
    multiarray._set_madvise_hugepage(state)  # put back what it was
    return state


def test_hugepages_are_not_asked_for_unless_the_operator_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from numpy._core import multiarray

    from app.executors import avoid_hugepage_stalls

    before = bool(multiarray._set_madvise_hugepage(True))
    try:
        monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
        avoid_hugepage_stalls()
        assert os.environ["NUMPY_MADVISE_HUGEPAGE"] == "0"  # what spawned children read at import
        assert not _hugepages_asked()
        multiarray._set_madvise_hugepage(True)
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
        avoid_hugepage_stalls()
        assert _hugepages_asked()
    finally:
        multiarray._set_madvise_hugepage(before)


def test_the_cyclic_collector_is_paused_for_a_block_and_collects_at_its_end() -> None:
    import gc
    import weakref

    from app.executors import cyclic_gc_paused, hand_back_free_memory

    class Node:
        other: Node | None = None

    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        gone = weakref.ref(a)
        del a, b
        for _ in range(50_000):  # allocations that would trigger a collection if it were on
            [[], []]  # noqa: B018
        assert gone() is not None
        # Handing memory back collects the young generation, where everything made since the
        # pause sits: the run's cycles go, the heap from before is not scanned.
        c, d = Node(), Node()
        c.other, d.other = d, c
        also_gone = weakref.ref(c)
        del c, d
        hand_back_free_memory()
        assert also_gone() is None and gone() is None and not gc.isenabled()
        e, f = Node(), Node()
        e.other, f.other = f, e
        last = weakref.ref(e)
        del e, f
    assert gc.isenabled()
    assert last() is None  # collected as the block ended

    gc.disable()  # an operator's choice is left alone
    try:
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
