"""The allocation worker: claims queued runs and executes them phase by phase.

A claimed run carries a lease that a heartbeat thread renews; a worker that dies (SIGKILL, power
loss) stops renewing it, and another worker re-claims the run once it expires and runs it again
from the start — runs are deterministic, so the result is the same.  Cancellation is read at every
heartbeat and between phases; the solve and the run's own check run as one task in a child process
(terminated on cancel), and the worker lets its copy of the problem go while the child works.
No database session is held while candidates are scored or the solver runs.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.db.models import AllocationRun, RunKind, RunMode, RunStatus
from app.executors import avoid_hugepage_stalls, cyclic_gc_paused, hand_back_free_memory, make_executor
from app.repositories.runs import RunRepository
from app.run_schemas import RunParameters
from app.services import allocation_job as job
from app.services.ledger import Ledger
from app.settings import Settings

log = logging.getLogger("chanjiao.worker")


class RunAborted(Exception):
    """The run was cancelled, or another worker took it over."""

    def __init__(self, cancelled: bool) -> None:
        super().__init__("cancelled" if cancelled else "lease lost")
        self.cancelled = cancelled


@dataclass
class Claimed:
    id: int
    kind: RunKind
    mode: RunMode
    parameters: RunParameters


def solve_problem(run_job: job.RunJob, executor: str, ray_address: str | None, report: job.SolveReport) -> job.Solved:
    """Solve the run's problem and check the result (top level, so a child process can run it)."""
    return job.solve_and_check(run_job, executor, ray_address, report)


def _exit_with_parent(parent_pid: int, interval_s: float = 0.25) -> None:
    """End this process soon after ``parent_pid`` is gone.

    A worker killed with SIGKILL cannot terminate its solver child, and an orphaned solve would
    burn a core for its whole time limit and overlap the solve of the worker that re-claims the
    run.  The child notices that it was re-parented (``getppid`` changes) and exits at once.
    """

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(3)
            time.sleep(interval_s)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class _ChildProgress:
    """A solver child's reports: (parts done, parts) and the start of the check go to the worker
    over the pipe."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __call__(self, done: int, total: int) -> None:
        self.conn.send(("progress", (done, total)))

    def checking(self) -> None:
        self.conn.send(("checking", None))


@dataclass
class _Report:
    """The same reports, in this process (the solve inline)."""

    progress: job.Progress
    on_checking: Callable[[], None]

    def __call__(self, done: int, total: int) -> None:
        self.progress(done, total)

    def checking(self) -> None:
        self.on_checking()


def _run_in_child(conn: Connection, parent_pid: int, target: Callable[..., Any], args: tuple[Any, ...],
                  report_progress: bool = False) -> None:
    """The body of a solver child: runs ``target(*args)`` (with a progress callback appended when
    ``report_progress``), sends the result (or the error) back."""
    _exit_with_parent(parent_pid)
    try:
        conn.send(("ok", target(*args, _ChildProgress(conn)) if report_progress else target(*args)))
    except BaseException as exc:  # the parent reports it as the run's error
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class Worker:
    def __init__(self, session_factory: sessionmaker[Session], settings: Settings, owner: str | None = None) -> None:
        self.sessions = session_factory
        self.settings = settings
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.lease = timedelta(seconds=settings.worker_lease_s)
        self._cancelled = threading.Event()
        self._lost = threading.Event()
        avoid_hugepage_stalls()  # before its pools and solver children start: they inherit it

    # -- loop

    def run_forever(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        log.info("worker %s waiting for runs", self.owner)
        while not stop.is_set():
            if self.run_once() is None:
                stop.wait(self.settings.worker_poll_s)

    def run_once(self) -> int | None:
        """Claim and execute one run; the run's id, or None when nothing was queued."""
        claimed = self._claim()
        if claimed is None:
            return None
        with cyclic_gc_paused():
            self.execute(claimed)
        return claimed.id

    def _claim(self) -> Claimed | None:
        with self.sessions.begin() as session:
            run = RunRepository(session).next_claimable()
            if run is None:
                return None
            Ledger(session, None).claim(run, self.owner, self.lease)
            return Claimed(run.id, run.kind, run.mode, RunParameters.model_validate(run.parameters))

    # -- one run

    def execute(self, claimed: Claimed) -> None:
        self._cancelled.clear()
        self._lost.clear()
        stop_heartbeat = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(claimed.id, stop_heartbeat), daemon=True)
        heartbeat.start()
        started = time.monotonic()
        times: dict[str, float] = {}
        try:
            solved = self._phases(claimed, times)
            self._enter("store", claimed.id, times)
            phase_started = time.monotonic()
            with self.sessions.begin() as session:
                run = RunRepository(session).owned_running(claimed.id, self.owner)
                if run is None:
                    raise RunAborted(cancelled=False)
                if run.cancel_requested:
                    raise RunAborted(cancelled=True)
                job.store(session, run, solved, dict(times), 0.0)
                # The store's own time and the total, in the same transaction that writes them.
                times["store"] = round(time.monotonic() - phase_started, 3)
                run.phase_times = dict(times)
                run.wall_time_s = round(time.monotonic() - started, 3)
            log.info("run %s finished in %.1f s", claimed.id, time.monotonic() - started)
        except RunAborted as aborted:
            if aborted.cancelled:
                self._finish(claimed.id, RunStatus.CANCELLED, None, times)
            log.info("run %s %s", claimed.id, aborted)
        except Exception as exc:
            log.error("run %s failed: %s", claimed.id, traceback.format_exc())
            self._finish(claimed.id, RunStatus.FAILED, f"{type(exc).__name__}: {exc}", times)
        finally:
            stop_heartbeat.set()
            heartbeat.join(timeout=5)

    def _phases(self, claimed: Claimed, times: dict[str, float]) -> job.Solved:
        with self._timed("load", claimed.id, times), self.sessions.begin() as session:
            run_job = job.load_job(session, self._own(session, claimed.id),
                                   staff_share=self.settings.max_intern_share_of_staff,
                                   post_share=self.settings.max_intern_share_of_post)
        with self._timed("candidates", claimed.id, times):
            executor = make_executor(self.settings.allocation_executor, ray_address=self.settings.ray_address)
            run_job.candidates(executor, self._progress("candidates", claimed.id, times))
            hand_back_free_memory()  # the scope's profiles are gone: hand their heap back
        # The solve and the check are one task of the solver child, which says when the check begins.
        self._enter("solve", claimed.id, times)
        started = time.monotonic()
        check_started: list[float] = []

        def checking() -> None:
            times["solve"] = round(time.monotonic() - started, 3)
            self._enter("check", claimed.id, times)
            check_started.append(time.monotonic())

        solved = self._solve(run_job, _Report(self._progress("solve", claimed.id, times), checking))
        if not check_started:
            checking()
        times["check"] = round(time.monotonic() - check_started[0], 3)
        return solved

    def _timed(self, phase: str, run_id: int, times: dict[str, float]) -> _PhaseTimer:
        return _PhaseTimer(self, phase, run_id, times)

    def _enter(self, phase: str, run_id: int, times: dict[str, float]) -> None:
        self._check_abort()
        with self.sessions.begin() as session:
            if not RunRepository(session).set_phase(run_id, self.owner, phase, job.PHASE_START[phase], dict(times)):
                raise RunAborted(cancelled=False)

    def _progress(self, phase: str, run_id: int, times: dict[str, float]) -> job.Progress:
        """Moves the run's progress through ``phase``'s share as its parts finish (a part is a
        province, or a component of provinces); aborts the run when it was cancelled or lost."""
        start = job.PHASE_START[phase]
        end = job.PHASE_START[job.PHASES[job.PHASES.index(phase) + 1]]

        def report(done: int, total: int) -> None:
            self._check_abort()
            with self.sessions.begin() as session:
                if not RunRepository(session).set_phase(run_id, self.owner, phase,
                                                        start + (end - start) * done // max(total, 1), dict(times)):
                    raise RunAborted(cancelled=False)

        return report

    def _own(self, session: Session, run_id: int) -> AllocationRun:
        run = RunRepository(session).owned_running(run_id, self.owner)
        if run is None:
            raise RunAborted(cancelled=False)
        if run.cancel_requested:
            raise RunAborted(cancelled=True)
        return run

    def _solve(self, run_job: job.RunJob, report: _Report) -> job.Solved:
        executor, ray_address = self.settings.allocation_executor, self.settings.ray_address
        if not self.settings.solve_in_subprocess:
            return solve_problem(run_job, executor, ray_address, report)
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=False)
        process = context.Process(target=_run_in_child, daemon=False, args=(
            child, os.getpid(), solve_problem, (run_job, executor, ray_address), True))
        process.start()  # returns once the child has read the job: the child has its own copy now
        child.close()
        # The problem is the largest thing left in this process (a national run: gigabytes); the
        # child solves and checks it and sends back what is stored.
        run_job.release()
        hand_back_free_memory()
        answered = False
        try:
            while True:
                if parent.poll(0.2):
                    status, payload = parent.recv()
                    if status == "progress":  # a component (or a wave of them) is solved
                        report(*payload)
                        continue
                    if status == "checking":
                        report.checking()
                        continue
                    answered = True
                    if status == "error":
                        raise RuntimeError(payload)
                    solved: job.Solved = payload
                    return solved
                if self._cancelled.is_set() or self._lost.is_set():
                    raise RunAborted(cancelled=self._cancelled.is_set())
                if not process.is_alive():
                    raise RuntimeError(f"the solver process ended unexpectedly (exit code {process.exitcode})")
        finally:
            if answered:
                # A child that answered is exiting: let it (a Ray driver disconnects from its cluster).
                process.join(timeout=10)
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)
            parent.close()

    def _check_abort(self) -> None:
        if self._cancelled.is_set():
            raise RunAborted(cancelled=True)
        if self._lost.is_set():
            raise RunAborted(cancelled=False)

    def _heartbeat(self, run_id: int, stop: threading.Event) -> None:
        while not stop.wait(self.settings.worker_heartbeat_s):
            try:
                with self.sessions.begin() as session:
                    ours, cancel = RunRepository(session).renew_lease(run_id, self.owner, self.lease)
            except Exception:  # a missed beat is retried; the lease outlives several beats
                log.warning("heartbeat of run %s failed", run_id, exc_info=True)
                continue
            if not ours:
                self._lost.set()
                return
            if cancel:
                self._cancelled.set()

    def _finish(self, run_id: int, status: RunStatus, error: str | None, times: dict[str, float]) -> None:
        with self.sessions.begin() as session:
            run = RunRepository(session).owned_running(run_id, self.owner)
            if run is None:
                return
            Ledger(session, None).finish(run, status, error=error, phase_times=dict(times))


class _PhaseTimer:
    def __init__(self, worker: Worker, phase: str, run_id: int, times: dict[str, float]) -> None:
        self.worker, self.phase, self.run_id, self.times = worker, phase, run_id, times

    def __enter__(self) -> None:
        self.worker._enter(self.phase, self.run_id, self.times)
        self.started = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.times[self.phase] = round(time.monotonic() - self.started, 3)
