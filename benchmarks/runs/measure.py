"""What a benchmark run costs: peak memory summed over a process tree (PSS), CPU time of all processes."""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

SAMPLE_S = 0.2


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_sample(root: int, detail: dict[str, int] | None = None) -> tuple[int, float]:
    """(PSS in KiB, CPU seconds) of ``root`` and every live descendant (Linux); with ``detail``,
    also the PSS of each process by its title ("pid title").

    The CPU of a process that ended is in its parent's ``cutime``/``cstime`` once reaped, so the
    sum over the live tree of own plus reaped-children time counts every process once.
    """
    pss, ticks, todo, seen = 0, 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                    if detail is not None:
                        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                        detail[f"{pid} {title[:90]}"] = int(line.split()[1])
                    break
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        except (OSError, IndexError, ValueError):
            continue
        todo += _children(pid)
    return pss, ticks / os.sysconf("SC_CLK_TCK")


def tree_pss_kib(root: int) -> int:
    """PSS of ``root`` and every descendant, in KiB (Linux)."""
    return tree_sample(root)[0]


class PeakMemory:
    """Samples the summed PSS and CPU time of this process's tree (a local Ray runtime and the
    solver child are in it) and of ``extra_roots``' trees (a Ray cluster's nodes) until stopped;
    per phase when ``phase`` is kept current."""

    def __init__(self, extra_roots: tuple[int, ...] = ()) -> None:
        # Other trees to count with this one: the nodes of a Ray cluster the run uses.
        self.extra_roots = extra_roots
        self.peak_kib = 0
        self.peak_detail: dict[str, int] = {}  # PSS per process at the peak
        self.by_phase: dict[str, int] = {}
        self.cpu_by_phase: dict[str, float] = {}
        self.phase = "?"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last_cpu: float | None = None
        while not self._stop.wait(SAMPLE_S):
            detail: dict[str, int] = {}
            pss, cpu = tree_sample(os.getpid(), detail)
            for root in self.extra_roots:
                more_pss, more_cpu = tree_sample(root, detail)
                pss, cpu = pss + more_pss, cpu + more_cpu
            if pss > self.peak_kib:
                self.peak_detail = detail
            self.peak_kib = max(self.peak_kib, pss)
            self.by_phase[self.phase] = max(self.by_phase.get(self.phase, 0), pss)
            if last_cpu is not None:
                self.cpu_by_phase[self.phase] = self.cpu_by_phase.get(self.phase, 0.0) + max(cpu - last_cpu, 0.0)
            last_cpu = cpu

    @contextmanager
    def sampling(self) -> Iterator[PeakMemory]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def cpu_s() -> float:
    """User + system CPU seconds of this process and of its children that have ended."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def watch_phase(url: str, run_id: int, memory: PeakMemory, stop: threading.Event) -> threading.Thread:
    """Keeps ``memory.phase`` at run ``run_id``'s phase (read every 0.5 s) until ``stop``.

    A plain engine, not the service's: that one begins every SQLite transaction with BEGIN
    IMMEDIATE (a write lock), and a reader must never compete with the worker for it.
    """
    engine = create_engine(url)

    def watch() -> None:
        while not stop.wait(0.5):
            try:
                with engine.connect() as conn:
                    phase = conn.execute(text("SELECT phase FROM allocation_runs WHERE id = :id"),
                                         {"id": run_id}).first()
            except Exception:  # busy: try again at the next tick
                continue
            if phase is not None and phase[0]:
                memory.phase = str(phase[0])
        engine.dispose()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
