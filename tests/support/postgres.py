"""A throwaway PostgreSQL server from the machine's own server binaries.

PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the
unprivileged ``postgres`` system user through ``runuser``.  ``pg_ctl start`` gets a log file,
otherwise it keeps our output pipe open and never returns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root needs runuser to start PostgreSQL as the postgres user")
    return [runuser, "-u", SERVER_USER, "--", *args]


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"PostgreSQL server binary {name!r} not found on PATH or in /usr/lib/postgresql")


@contextmanager
def running_server() -> Iterator[PgServer]:
    base = Path(tempfile.mkdtemp(prefix="chanjiao-pg-"))
    data, sockets, log = base / "data", base / "sock", base / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, SERVER_USER)
        shutil.chown(sockets, SERVER_USER)
    port = _free_port()
    user = SERVER_USER if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    try:
        subprocess.run(
            _as_server_user([_binary("initdb"), "-D", str(data), "-U", user, "--auth=trust",
                             "--encoding=UTF8", "--no-sync"]),
            check=True, capture_output=True, env=env, cwd=base,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c full_page_writes=off"
        subprocess.run(
            _as_server_user([_binary("pg_ctl"), "start", "-D", str(data), "-l", str(log), "-w", "-t", "60",
                             "-o", options]),
            check=True, capture_output=True, env=env, cwd=base,
        )
        yield PgServer(host="127.0.0.1", port=port, user=user)
    except subprocess.CalledProcessError as exc:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        raise RuntimeError(f"PostgreSQL failed: {exc.stderr!r}\n{server_log}") from exc
    finally:
        subprocess.run(_as_server_user([_binary("pg_ctl"), "stop", "-D", str(data), "-m", "immediate"]),
                       capture_output=True, env=env, cwd=base, check=False)
        shutil.rmtree(base, ignore_errors=True)
