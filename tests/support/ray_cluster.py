"""A real two-node Ray cluster for tests, in a network namespace of its own.

Ray will not keep a multi-node cluster on 127.0.0.1: it replaces a loopback node address by the
machine's own address (``resolve_ip_for_localhost``) and listens on every interface.  So the
cluster, and the chanjiao worker that uses it, run inside a fresh network namespace that has
only a loopback interface (``unshare --net``, as root): whatever Ray picks is 127.0.0.1 there, and
nothing can leave the machine.  The database is a SQLite file, shared through the file system.

``python -m tests.support.ray_cluster`` (run by :func:`run_in_sandbox`) starts a head and a second
node (``ray start --block``, each in a process group of its own), executes the queued runs one by
one with ``chanjiao worker --once`` on the ray executor, optionally SIGKILLs a Ray worker process
while it runs a task, stops both nodes by their process groups and writes a JSON report.  Given a
command instead, it runs that joined to the cluster, for benchmarks on a two-node cluster:

    unshare --net -- .venv/bin/python -m tests.support.ray_cluster --workdir DIR -- \
        .venv/bin/chanjiao solve --instance INSTANCE --out OUT --executor ray

(a database inside must be SQLite or PostgreSQL over its Unix socket: the namespace has no other
network.)
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent
# The name Ray gives a worker process while it runs a task of app.executors' map_shared.
TASK_TITLE = "ray::_run_shared"
TERM = "2027-spring"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def loopback_up() -> None:
    """Bring up ``lo``: a new network namespace starts with its loopback down (``ip link set lo up``
    without needing iproute2)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as s:
        request = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(s, siocgifflags, request))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sh14x", b"lo", flags | iff_up))


def cluster_env() -> dict[str, str]:
    """Environment of the nodes and their drivers: no usage reports, one token for this cluster."""
    env = dict(os.environ)
    # A private local runtime (app/executors.py) sets this to 0 in its process to stay on loopback;
    # inherited by the nodes started here, it makes a second node refuse to join.
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32),
               PYTHONUNBUFFERED="1")
    return env


def _session_of(pid: int) -> int | None:
    """The session of a live process (None for a zombie or a process that is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # After the command name (in parentheses, may hold spaces): state ppid pgrp session.
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else int(fields[3])


def _title_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def processes_in(sessions: set[int]) -> list[int]:
    """Live processes of the given sessions: each node this module starts leads a session of its
    own, which its raylet, agents and workers (in process groups of their own) stay in."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and _session_of(int(entry.name)) in sessions:
            pids.append(int(entry.name))
    return pids


class Cluster:
    """A head and one more node, 1 CPU each, started here and stopped by their process groups."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = env
        self.workdir = workdir
        self.nodes: list[subprocess.Popen[bytes]] = []
        # Ray's sockets live under its temp dir, and a socket path must stay under 108 bytes.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="cjray-", dir="/tmp"))

    def start(self, timeout_s: float = 180) -> None:
        ray = str(VENV_BIN / "ray")

        def node_options() -> list[str]:
            # Two nodes on one host: their agents need ports of their own (the namespace is private,
            # so nothing else competes for them).
            return ["--block", "--num-cpus=1", "--disable-usage-stats", f"--dashboard-agent-listen-port={free_port()}",
                    f"--dashboard-agent-grpc-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
                    f"--metrics-export-port={free_port()}"]

        head = [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={self.port}",
                "--include-dashboard=false", f"--temp-dir={self.temp_dir}", *node_options()]
        second = [ray, "start", f"--address={self.address}", *node_options()]
        # The second node joins a head that is up: started together, on a loaded machine it gave up
        # on the head before the head listened, and the cluster never formed.
        for n, command in enumerate((head, second)):
            log = (self.workdir / f"node{n}.log").open("wb")
            self.nodes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                               start_new_session=True))
            self._wait_for(f"node{n}.log", timeout_s)

    def _wait_for(self, log: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while b"Ray runtime started" not in (self.workdir / log).read_bytes():
            if any(node.poll() is not None for node in self.nodes) or time.monotonic() > deadline:
                logs = {path.name: path.read_text(errors="replace")[-2000:]
                        for path in sorted(self.workdir.glob("node*.log"))}
                exits = [node.poll() for node in self.nodes]
                raise RuntimeError(f"Ray node did not start (exit codes {exits}): {logs}")
            time.sleep(0.1)

    @property
    def sessions(self) -> set[int]:
        return {node.pid for node in self.nodes}  # each node was started as a session leader

    def stop(self) -> None:
        """SIGTERM to the nodes, then SIGKILL to every process still in their sessions."""
        for node in self.nodes:
            with suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while processes_in(self.sessions) and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(50):
            left = processes_in(self.sessions)
            if not left:
                break
            for pid in left:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        for node in self.nodes:
            node.wait()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


class Killer(threading.Thread):
    """Watches the cluster's processes; SIGKILLs the first worker seen running a task."""

    def __init__(self, cluster: Cluster, kill: bool) -> None:
        super().__init__(daemon=True, name="ray-worker-killer")
        self.cluster = cluster
        self.kill = kill
        self.stopping = threading.Event()
        self.killed: dict[str, Any] | None = None
        self.task_nodes: set[int] = set()  # nodes (by session) seen running a task

    def run(self) -> None:
        known: list[int] = []
        last_scan = 0.0
        while not self.stopping.is_set():
            now = time.monotonic()
            if now - last_scan > 0.2:  # new workers (a retry) appear now and then; titles change often
                known, last_scan = processes_in(self.cluster.sessions), now
            for pid in known:
                title = _title_of(pid)
                if not title.startswith(TASK_TITLE):
                    continue
                node = _session_of(pid)
                if node not in self.cluster.sessions:
                    continue
                self.task_nodes.add(node)
                if self.kill and self.killed is None:
                    os.kill(pid, signal.SIGKILL)
                    self.killed = {"pid": pid, "title": title, "node": sorted(self.cluster.sessions).index(node)}
            time.sleep(0.001)


def submit(database_url: str, parameters: dict[str, Any]) -> int:
    """Queue one internship run over the whole term (the scope of benchmarks.runs.scale)."""
    from app.db.engine import make_engine, make_session_factory
    from app.run_schemas import RunCreate
    from app.security import SYSTEM
    from app.services.runs import RunService

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            run, _ = RunService(session, SYSTEM).submit(RunCreate.model_validate(
                {"kind": "internship", "scope": {"term": TERM}, "parameters": parameters}))
            return run.id
    finally:
        engine.dispose()


def run_worker(cluster: Cluster, database_url: str, kill: bool, workdir: Path, n: int) -> dict[str, Any]:
    """``chanjiao worker --once`` on the ray executor, joined to ``cluster``; what happened."""
    env = {**cluster.env, "CHANJIAO_DATABASE_URL": database_url, "CHANJIAO_ALLOCATION_EXECUTOR": "ray",
           "CHANJIAO_RAY_ADDRESS": cluster.address}
    killer = Killer(cluster, kill)
    killer.start()
    started = time.monotonic()
    try:
        proc = subprocess.run([str(VENV_BIN / "chanjiao"), "worker", "--once"], env=env, capture_output=True,
                              timeout=300, check=False, cwd=workdir)
    finally:
        killer.stopping.set()
        killer.join()
    output = (proc.stdout + proc.stderr).decode(errors="replace")
    (workdir / f"worker{n}.log").write_text(output, encoding="utf-8")
    return {"exit": proc.returncode, "seconds": round(time.monotonic() - started, 2), "killed": killer.killed,
            "task_nodes": len(killer.task_nodes), "output": output[-3000:]}


def whereabouts(item: int) -> tuple[int, int, int | None]:
    """A task's answer: its item, its process and that process's session (the node it ran on)."""
    time.sleep(0.05)  # long enough for both nodes to take some of the items
    return item, os.getpid(), _session_of(os.getpid())


def check_map(cluster: Cluster) -> dict[str, Any]:
    """``RayExecutor.map`` and ``map_shared`` on the cluster, from a driver in this process."""
    os.environ.update({k: cluster.env[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_USAGE_STATS_ENABLED")})
    import ray

    from app.executors import RayExecutor

    try:
        executor = RayExecutor(cluster.address)
        mapped = executor.map(whereabouts, list(range(40)))
        heard: list[tuple[int, int]] = []
        shared = executor.map_shared(_offset, 1000, list(range(40)), lambda done, n: heard.append((done, n)))
        return {"parallelism": executor.parallelism, "items": [m[0] for m in mapped],
                "nodes": len({m[2] for m in mapped} & cluster.sessions), "driver_pid": os.getpid(),
                "pids": sorted({m[1] for m in mapped}), "shared": shared, "progress": heard}
    finally:
        ray.shutdown()


def _offset(shared: int, item: int) -> int:
    return shared + item


def exec_on_cluster(command: list[str], workdir: Path) -> int:
    """Start a cluster, run ``command`` joined to it (``CHANJIAO_RAY_ADDRESS``), stop the cluster."""
    cluster = Cluster(workdir, cluster_env())
    try:
        started = time.monotonic()
        cluster.start()
        print(f"two-node Ray cluster at {cluster.address} up in {time.monotonic() - started:.1f} s", flush=True)
        env = {**cluster.env, "CHANJIAO_RAY_ADDRESS": cluster.address,
               # A benchmark counts the nodes' memory and CPU with its own (benchmarks/runs/measure.py).
               "CHANJIAO_BENCH_RAY_NODE_PIDS": ",".join(str(node.pid) for node in cluster.nodes)}
        return subprocess.run(command, env=env, check=False).returncode
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--database-url", help="Submit and execute runs in this database.")
    parser.add_argument("--runs", type=int, default=1, help="Runs to submit and execute, one after the other.")
    parser.add_argument("--parameters", default="{}", help="The runs' parameters (JSON).")
    parser.add_argument("--kill-in", type=int, action="append", default=[],
                        help="Kill a Ray worker during this run (1-based); repeatable.")
    parser.add_argument("command", nargs="*",
                        help="Instead of runs: a command to run joined to the cluster (after --), e.g. "
                             "chanjiao solve --executor ray ... for a benchmark.")
    args = parser.parse_args()
    # Stopped from outside (the test's timeout): still stop the nodes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    loopback_up()
    if args.command:
        sys.exit(exec_on_cluster(args.command, args.workdir))
    if not args.database_url:
        parser.error("--database-url or a command is needed")
    report: dict[str, Any] = {"runs": []}
    cluster = Cluster(args.workdir, cluster_env())
    try:
        started = time.monotonic()
        cluster.start()
        report["cluster_start_s"] = round(time.monotonic() - started, 2)
        for n in range(1, args.runs + 1):
            run_id = submit(args.database_url, json.loads(args.parameters))
            outcome = run_worker(cluster, args.database_url, n in args.kill_in, args.workdir, n)
            report["runs"].append({"run_id": run_id, **outcome})
        report["map"] = check_map(cluster)
    finally:
        cluster.stop()
        report["left_running"] = processes_in(cluster.sessions)
        (args.workdir / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")


def run_in_sandbox(database_url: str, workdir: Path, runs: int, kill_in: tuple[int, ...] = (),
                   parameters: dict[str, Any] | None = None, timeout_s: float = 240) -> dict[str, Any]:
    """Run :func:`main` in a new network namespace; its report."""
    command = ["unshare", "--net", "--", sys.executable, "-m", "tests.support.ray_cluster",
               "--database-url", database_url, "--workdir", str(workdir), "--runs", str(runs),
               "--parameters", json.dumps(parameters or {})]
    for n in kill_in:
        command += ["--kill-in", str(n)]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(command, cwd=root, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        output, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the sandbox stops the nodes it started
        try:
            output, _ = proc.communicate(timeout=15)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    report_path = workdir / "report.json"
    if proc.returncode != 0 or not report_path.exists():
        raise RuntimeError(f"the Ray sandbox failed ({proc.returncode}): {output.decode(errors='replace')[-3000:]}")
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    return report


if __name__ == "__main__":
    main()

