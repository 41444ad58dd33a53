"""Where the partitioned work of a solve runs: in this process, a process pool, or a Ray cluster.

The domain core (:mod:`matching.allocation`) describes the work through the ``Executor`` protocol
and never starts a process itself; this module is the service's side of that protocol.  Every
executor returns the results of :class:`~matching.allocation.InlineExecutor`, in input order, so a
run's placements and digest do not depend on where it ran.

Ray is an optional extra (``pip install chanjiao[ray]``) and imported only when asked for.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from matching.allocation import Executor, InlineExecutor
from matching.allocation.partition import Progress

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

EXECUTORS = ("inline", "process", "ray")
# A task whose worker process dies (killed, out of memory, a node lost) is run again this often
# before the solve fails; the tasks are pure functions of their inputs, so a re-run gives the same part.
RAY_MAX_RETRIES = 3


RAY_MISSING = "the ray executor needs Ray, which is not installed: install chanjiao[ray] (pip install 'chanjiao[ray]')"


class ExecutorUnavailable(RuntimeError):
    """The executor asked for cannot run here (Ray not installed, no cluster at the address)."""


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def _in_input_order(n: int, finished: Iterator[tuple[int, R]], progress: Progress | None) -> list[R]:
    """The results of ``n`` calls, which ``finished`` yields as (input index, result) when each ends."""
    results: list[Any] = [None] * n
    for done, (index, result) in enumerate(finished, start=1):
        results[index] = result
        if progress is not None:
            progress(done, n)
    return results


# -- process pool

_shared: Any = None
_items: Sequence[Any] = ()


def _install_shared(shared: Any, items: Sequence[Any] = ()) -> None:
    """Pool initializer: keeps the shared input (and, in a forked worker, every item) in the
    worker for all of its tasks."""
    global _shared, _items
    _shared, _items = shared, items


def _call_shared(fn: Callable[[Any, T], R], item: T) -> R:
    return fn(_shared, item)


def _call_inherited(fn: Callable[[Any, Any], R], index: int) -> R:
    return fn(_shared, _items[index])


class ProcessExecutor:
    """A process pool; results come back in input order, so they equal the inline ones.

    ``map_shared`` hands the shared input to each worker once, through the pool's initializer: a
    forked worker inherits it without pickling, a spawned one unpickles it once.  A forked worker
    inherits the items too and is sent only their positions: pickling a province's profiles to
    the worker and unpickling them there cost more than scoring them (100k students: 1.9 CPU-s).
    """

    def __init__(self, max_workers: int | None = None, start_method: str | None = None) -> None:
        self.max_workers = max_workers
        self.start_method = start_method  # multiprocessing's default unless given

    @property
    def parallelism(self) -> int:
        return self.max_workers or cpu_count()

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if len(items) <= 1:
            return [fn(item) for item in items]
        with ProcessPoolExecutor(max_workers=min(self.parallelism, len(items))) as pool:
            return list(pool.map(fn, items))

    def map_shared(self, fn: Callable[[S, T], R], shared: S, items: Sequence[T],
                   progress: Progress | None = None) -> list[R]:
        if len(items) <= 1:
            return InlineExecutor().map_shared(fn, shared, items, progress)
        # One pool for all the calls: a pool per wave of calls paid its workers' start (and their
        # copy-on-write faults on the shared input) again and again (at 100k students, 1.1 s of 6.7).
        context = multiprocessing.get_context(self.start_method)
        inherit = context.get_start_method() == "fork"
        pool = ProcessPoolExecutor(max_workers=min(self.parallelism, len(items)), mp_context=context,
                                   initializer=_install_shared, initargs=(shared, items if inherit else ()))
        try:
            futures = {(pool.submit(_call_inherited, fn, i) if inherit else pool.submit(_call_shared, fn, item)): i
                       for i, item in enumerate(items)}
            results = _in_input_order(len(items), ((futures[f], f.result()) for f in as_completed(futures)),
                                      progress)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # the calls in flight end; no orphans
            raise
        pool.shutdown()
        return results


# -- Ray

def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ExecutorUnavailable(RAY_MISSING) from exc
    return ray


def hand_back_free_memory() -> None:
    """Return the heap this process left free to the system (glibc's ``malloc_trim``).

    The allocator keeps what a process freed for its next allocations; after letting gigabytes go
    (a run's profiles, a solved problem) a long-lived process would hold them all the same.  A Ray
    worker process lives on between tasks and Ray drops a task's arguments only after it
    returns, so each task calls this as it starts (idle workers held gigabytes at national size).
    """
    # While collection is paused (a run, ``cyclic_gc_paused``) every object made since sits in the
    # youngest generation: collecting that one finds the run's cycles without scanning the heap.
    gc.collect(2 if gc.isenabled() else 0)
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to hand back this way
        ctypes.CDLL(None).malloc_trim(0)


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (one run), and collect once at its end.

    A run builds hundreds of thousands of long-lived objects (profiles, their tuples and dicts)
    and almost no reference cycles: reference counting frees what it drops.  The collector,
    triggered by allocation counts, kept scanning that growing heap anyway: 0.75 s of a 15.5 s
    run at 100k students (load 0.4, check 0.2, store 0.1).  Processes forked inside the block (the
    candidates' pool, the solver child) inherit the pause.  Left alone if the collector was
    already off; an explicit ``gc.collect()`` (``hand_back_free_memory``) still runs.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        # Whatever cycles the run left, now: all it made is in the youngest generation (a full
        # collection would scan the whole heap again, 0.12 s).
        gc.collect(0)


def avoid_hugepage_stalls() -> None:
    """Stop numpy asking the kernel for transparent huge pages, in this process and its children.

    numpy marks every large array ``MADV_HUGEPAGE``; where the kernel's THP ``defrag`` setting is
    ``madvise`` (the usual default), a page fault in such an array may stall while the kernel
    compacts memory into a huge page.  A run allocates hundreds of short-lived arrays of millions
    of pairs, and these stalls cost it 1.2 s of 17.4 at 100k students (the flow's arcs alone went
    from 1.1 s to 0.2 s to assemble).  ``NUMPY_MADVISE_HUGEPAGE`` set by the operator wins.
    """
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")  # read by numpy at import: spawned children
    if os.environ["NUMPY_MADVISE_HUGEPAGE"] == "0":
        from numpy._core import multiarray

        switch = getattr(multiarray, "_set_madvise_hugepage", None)  # numpy's switch for an imported numpy
        if switch is not None:
            switch(False)


def _run(fn: Callable[[T], R], item: T) -> R:
    avoid_hugepage_stalls()
    hand_back_free_memory()
    return fn(item)


def _tidy() -> None:
    hand_back_free_memory()


def _run_shared(fn: Callable[[S, T], R], shared: S, item: T) -> R:
    avoid_hugepage_stalls()  # a cluster's workers were not started by a chanjiao process
    hand_back_free_memory()
    return fn(shared, item)


_started_lock = threading.Lock()
_remote: dict[str, Any] = {}


def start_ray(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Connect this process to Ray once: to the cluster at ``address``, or to a local runtime.

    Without an address a private local runtime starts (``address="local"``, never an existing
    cluster found on the machine), sized to this process's cores, without dashboard and without
    usage reporting, so that nothing leaves the machine.  A process already connected stays so.
    """
    # Ray reports usage to its vendor unless told not to; a service must not phone home by default.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not address and "ray" not in sys.modules:
        # A private runtime talks over loopback only.  Ray otherwise gives its node the machine's
        # outward address and listens on every interface; this switch (read once, at import) is
        # the one that keeps a single-node runtime on 127.0.0.1.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = _ray()
    with _started_lock:
        if not ray.is_initialized():
            quiet: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False,
                                     "configure_logging": True}
            try:
                if address:
                    ray.init(address=address, **quiet)
                else:
                    ray.init(address="local", num_cpus=num_cpus or cpu_count(), include_dashboard=False, **quiet)
            except ConnectionError as exc:
                raise ExecutorUnavailable(f"no Ray cluster answers at {address!r}: {exc}") from exc
        if not _remote:
            _remote["map"] = ray.remote(_run)
            _remote["shared"] = ray.remote(_run_shared)
            # A worker process that runs the tidy task then exits (max_calls=1): an idle worker
            # kept its imports and what its tasks left behind (0.7 GiB each at national size).
            _remote["tidy"] = ray.remote(max_calls=1)(_tidy)
    return ray


class RayExecutor:
    """Tasks on a Ray cluster (``address``) or on a local Ray runtime started on first use.

    ``map_shared`` puts the shared input into Ray's object store once (``ray.put``) and passes its
    reference to every task, so workers on one node read one copy.  A task whose worker dies is
    retried (``max_retries``) on another worker; results are collected in input order.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 max_retries: int = RAY_MAX_RETRIES) -> None:
        self.address = address
        self.max_retries = max_retries
        self._ray = start_ray(address, num_cpus)

    @property
    def parallelism(self) -> int:
        return max(int(self._ray.cluster_resources().get("CPU", 1)), 1)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        task = _remote["map"].options(max_retries=self.max_retries)
        results = list(self._ray.get([task.remote(fn, item) for item in items]))
        self._tidy(len(items))
        return results

    def map_shared(self, fn: Callable[[S, T], R], shared: S, items: Sequence[T],
                   progress: Progress | None = None) -> list[R]:
        if not items:
            return []
        # A reference passed as a task's argument is resolved by Ray before the task runs.
        ref = self._ray.put(shared)
        task = _remote["shared"].options(max_retries=self.max_retries)
        calls = [task.remote(fn, ref, item) for item in items]
        try:
            results = _in_input_order(len(calls), self._as_completed(calls), progress)
        except BaseException:
            for call in calls:
                self._ray.cancel(call)
            raise
        del ref, calls
        self._tidy(len(items))
        return results

    def _as_completed(self, calls: list[Any]) -> Iterator[tuple[int, Any]]:
        index = {call: i for i, call in enumerate(calls)}
        pending = list(calls)
        while pending:
            ready, pending = self._ray.wait(pending, num_returns=1)
            for call in ready:
                yield index[call], self._ray.get(call)

    def _tidy(self, tasks: int) -> None:
        """A task per core that ran the work, which ends its worker process (``max_calls=1``): the
        workers idle until the next call would otherwise keep what the last tasks left (see
        hand_back_free_memory) and their imports; the next call starts fresh workers."""
        if tasks:
            self._ray.get([_remote["tidy"].remote() for _ in range(min(tasks, self.parallelism))])


def check_available(name: str) -> None:
    """Raise :class:`ExecutorUnavailable` now, not at the first solve, if ``name`` cannot run here."""
    if name not in EXECUTORS:
        raise ExecutorUnavailable(f"unknown executor {name!r}: use {', '.join(map(repr, EXECUTORS))}")
    if name == "ray" and importlib.util.find_spec("ray") is None:
        # Found, not imported: importing Ray here would fix its settings before a runtime starts.
        raise ExecutorUnavailable(RAY_MISSING)


def make_executor(name: str, max_workers: int | None = None, ray_address: str | None = None) -> Executor:
    """The executor called ``name`` (one of :data:`EXECUTORS`).

    ``max_workers`` bounds the process pool and the cores of a local Ray runtime; ``ray_address``
    joins an existing Ray cluster instead of starting one.
    """
    if name == "inline":
        return InlineExecutor()
    if name == "process":
        return ProcessExecutor(max_workers)
    if name == "ray":
        return RayExecutor(ray_address, num_cpus=max_workers)
    raise ValueError(f"unknown executor {name!r}: use {', '.join(map(repr, EXECUTORS))}")
