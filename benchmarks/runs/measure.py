"""What a benchmark run costs: peak memory summed over a process tree (PSS), CPU time of all processes."""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SAMPLE_S = 0.2


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_pss_kib(root: int) -> int:
    """PSS of ``root`` and every descendant, in KiB (Linux)."""
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
        todo += _children(pid)
    return total


class PeakMemory:
    """Samples the summed PSS of this process's tree and of any extra roots (a Ray runtime's
    processes are children of this one when it started them) until stopped."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self.by_phase: dict[str, int] = {}
        self.phase = "?"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            now = tree_pss_kib(os.getpid())
            self.peak_kib = max(self.peak_kib, now)
            self.by_phase[self.phase] = max(self.by_phase.get(self.phase, 0), now)

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
