"""Soak: the real server (uvicorn on 127.0.0.1) under concurrent mixed reads and writes.

    python -m benchmarks.soak.run [--duration 30] [--clients 16] [--backends sqlite,postgresql]

For each database it migrates a fresh one, seeds a few tenants, starts ``uvicorn`` in a child
process on a free port and drives N client threads for the duration: reads (lists, one opening),
opening edits with If-Match (several clients race on the same openings, so 412s are expected),
single student creations, CSV imports and match queries.  Then it compares what the server
acknowledged with what is stored:

* every acknowledged student (created or imported) is stored exactly once, and no other student
  of the soak is stored unless its request's outcome was unknown (a transport error);
* every version of every opening after the first was produced by an acknowledged edit, and the
  stored seats are those of the edit that produced the stored version (no lost update, no phantom
  one; an edit to the value already stored changes nothing and keeps the version).

Zero 5xx is required.  It prints throughput and p50/p95/p99 latency per database.  The test suite
runs a shorter version (``tests/app/test_soak.py``).

Two more scenarios measure how long work holds SQLite's one write lock (``--scenarios``):

* ``import``: one placement office imports a large student file (``--import-rows``, 40,000) while
  writer threads of another tenant create single students; it reports the writers' latency while
  the import was in flight (p50/p95/p99/max), their statuses and the import's own time and status;
* ``signin``: flood threads sign in to the web UI with unknown usernames (each a full argon2
  verification) while reader threads list openings; it reports the readers' p95 before the flood
  (alone) and during it, and the sign-ins' statuses.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from app.db.engine import make_engine, make_session_factory
from app.db.models import College, EducationLevel, Enterprise, Major, Occupation, Opening, Program, Role, Student
from app.services.auth import create_api_key, ensure_actor

API = "/api/v1"
TERM = "2027-spring"
PREFIX = "SOAK-"
OPENINGS = 6  # few, so that clients really race on them


@dataclass
class Seed:
    keys: dict[str, str]
    programs: list[int]
    openings: list[int]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    transport_errors: int = 0
    acked_students: list[str] = field(default_factory=list)
    unknown_students: set[str] = field(default_factory=set)
    acked_edits: list[tuple[int, int, int]] = field(default_factory=list)  # (opening, version, seats)
    unknown_edits: set[int] = field(default_factory=set)


@dataclass
class Report:
    backend: str
    duration_s: float
    clients: int
    requests: int
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    statuses: dict[int, int]
    by_kind: dict[str, int]
    server_errors: list[str]
    transport_errors: int
    students_acked: int
    students_stored: int
    students_missing: list[str]
    students_duplicated: list[str]
    students_phantom: list[str]
    edits_acked: int
    edits_conflicted: int
    openings_wrong: list[str]

    @property
    def ok(self) -> bool:
        return not (self.server_errors or self.students_missing or self.students_duplicated
                    or self.students_phantom or self.openings_wrong)

    def summary(self) -> str:
        return (f"{self.backend}: {self.clients} clients, {self.duration_s:.0f} s: {self.requests} requests, "
                f"{self.throughput:.0f} req/s, p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms, "
                f"p99 {self.p99_ms:.1f} ms; 5xx {len(self.server_errors)}, transport errors {self.transport_errors}; "
                f"students acknowledged {self.students_acked} / stored {self.students_stored} "
                f"(missing {len(self.students_missing)}, duplicated {len(self.students_duplicated)}, "
                f"phantom {len(self.students_phantom)}); opening edits acknowledged {self.edits_acked}, "
                f"412 conflicts {self.edits_conflicted}, openings wrong {len(self.openings_wrong)}; "
                f"by kind {dict(self.by_kind)}; statuses {dict(sorted(self.statuses.items()))}")


# --------------------------------------------------------------------------- database and server


def seed(url: str) -> Seed:
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            major = Major(code="510205", name="大数据技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
                          category_name="电子与信息大类", class_code="5102", class_name="计算机类")
            occupation = Occupation(code="4-04-05-01", level=4, name="计算机程序设计员", definition="编写程序",
                                    tasks="编写、调试程序")
            colleges = [College(name=f"测试职业技术学院{i}", province="贵州", city="贵阳",
                                level=EducationLevel.HIGHER_VOCATIONAL) for i in range(2)]
            enterprise = Enterprise(name="贵阳云数科技有限公司", industry="软件", province="贵州", city="贵阳",
                                    staff_count=5000)
            session.add_all([major, occupation, enterprise, *colleges])
            session.flush()
            programs = [Program(college_id=c.id, major_id=major.id, name="大数据技术", description="Hadoop Spark 数据",
                                core_courses=["Hadoop"], skills=["Python", "SQL"], cohort_size=40, term=TERM)
                        for c in colleges]
            openings = [Opening(enterprise_id=enterprise.id, title=f"大数据运维实习生{i}", description="运维集群",
                                required_skills=["Hadoop", "Python"], occupation_code=occupation.code, seats=3,
                                province="贵州", city="贵阳", term=TERM, eligible_levels=[],
                                eligible_major_codes=["510205"]) for i in range(OPENINGS)]
            session.add_all([*programs, *openings])
            session.flush()
            keys = {f"college{i}": create_api_key(session, ensure_actor(session, Role.PLACEMENT_OFFICE,
                                                                          college_id=c.id))
                    for i, c in enumerate(colleges)}
            keys["hr"] = create_api_key(session, ensure_actor(session, Role.ENTERPRISE_HR, enterprise_id=enterprise.id))
            return Seed(keys, [p.id for p in programs], [o.id for o in openings])
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]


@contextmanager
def running_app(url: str, *, env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[Server]:
    """uvicorn serving the app on a free port; stopped with SIGTERM (if still running) on exit."""
    port = free_port()
    environment = {**os.environ, "CHANJIAO_DATABASE_URL": url, "CHANJIAO_RATE_LIMIT": "1000000/minute",
                   **(env or {})}
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(  # our own interpreter and module
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--timeout-graceful-shutdown", "20"],
        env=environment, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become healthy in 60 s")
            time.sleep(0.1)
        yield Server(base, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log:
            out.close()  # type: ignore[union-attr]


# --------------------------------------------------------------------------- clients


def _student_csv(program_id: int, numbers: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["program_id", "student_no", "name", "skills", "grade"])
    for number in numbers:
        writer.writerow([program_id, number, "测试学生", "Python;Hadoop", 75])
    return buffer.getvalue().encode()


class Client(threading.Thread):
    def __init__(self, index: int, base: str, data: Seed, stop_at: float, tally: Tally, lock: threading.Lock) -> None:
        super().__init__(daemon=True)
        self.index, self.base, self.data, self.stop_at = index, base, data, stop_at
        self.tally, self.lock = tally, lock
        self.rng = random.Random(index)  # a workload mix, not security
        self.college = index % 2
        self.counter = 0

    def _call(self, kind: str, method: str, path: str, key: str, **kwargs: Any) -> httpx.Response | None:
        headers = {"Authorization": f"Bearer {self.data.keys[key]}", **kwargs.pop("headers", {})}
        started = time.perf_counter()
        try:
            response = self.http.request(method, self.base + path, headers=headers, **kwargs)
        except httpx.TransportError:
            with self.lock:
                self.tally.transport_errors += 1
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.tally.latencies.append(elapsed)
            self.tally.statuses[response.status_code] += 1
            self.tally.by_kind[kind] += 1
            if response.status_code >= 500:
                self.tally.server_errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response

    def _number(self) -> str:
        self.counter += 1
        return f"{PREFIX}{self.index:02d}-{self.counter:06d}"

    def run(self) -> None:
        with httpx.Client(timeout=60) as self.http:
            while time.monotonic() < self.stop_at:
                roll = self.rng.random()
                if roll < 0.40:
                    self.read()
                elif roll < 0.65:
                    self.edit_opening()
                elif roll < 0.83:
                    self.create_student()
                elif roll < 0.93:
                    self.import_students()
                else:
                    self.match()

    def read(self) -> None:
        path = self.rng.choice([f"{API}/openings?limit=20", f"{API}/colleges",
                                f"{API}/openings/{self.rng.choice(self.data.openings)}", f"{API}/students?limit=20"])
        self._call("read", "GET", path, f"college{self.college}")

    def edit_opening(self) -> None:
        opening = self.rng.choice(self.data.openings)
        current = self._call("edit", "GET", f"{API}/openings/{opening}", "hr")
        if current is None or current.status_code != 200:
            return
        seats = self.rng.randint(1, 50)
        response = self._call("edit", "PATCH", f"{API}/openings/{opening}", "hr", json={"seats": seats},
                              headers={"If-Match": current.headers["ETag"]})
        with self.lock:
            if response is None:
                self.tally.unknown_edits.add(opening)
            elif response.status_code == 200:
                body = response.json()
                self.tally.acked_edits.append((opening, int(body["version"]), int(body["seats"])))

    def create_student(self) -> None:
        number = self._number()
        body = {"program_id": self.data.programs[self.college], "student_no": number, "name": "测试学生",
                "skills": ["Python"], "grade": 70}
        response = self._call("create", "POST", f"{API}/students", f"college{self.college}", json=body)
        with self.lock:
            if response is None:
                self.tally.unknown_students.add(number)
            elif response.status_code == 201:
                self.tally.acked_students.append(number)

    def import_students(self) -> None:
        numbers = [self._number() for _ in range(5)]
        data = _student_csv(self.data.programs[self.college], numbers)
        response = self._call("import", "POST", f"{API}/students/import", f"college{self.college}",
                              files={"file": ("students.csv", data, "text/csv")})
        with self.lock:
            if response is None:
                self.tally.unknown_students.update(numbers)
            elif response.status_code == 201:
                self.tally.acked_students.extend(numbers)

    def match(self) -> None:
        self._call("match", "GET", f"{API}/programs/{self.data.programs[self.college]}/matches?limit=5",
                   f"college{self.college}")


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] * 1000


def drive(base: str, data: Seed, *, duration_s: float, clients: int) -> tuple[Tally, float]:
    tally, lock = Tally(), threading.Lock()
    started = time.monotonic()
    threads = [Client(i, base, data, started + duration_s, tally, lock) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.monotonic() - started


def verify(url: str, backend: str, tally: Tally, elapsed: float, clients: int) -> Report:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            stored = Counter(session.scalars(select(Student.student_no)
                                             .where(Student.student_no.startswith(PREFIX))).all())
            openings = {o.id: (o.version, o.seats) for o in session.scalars(select(Opening))}
            total = session.scalar(select(func.count()).select_from(Student)) or 0
    finally:
        engine.dispose()
    acked = Counter(tally.acked_students)
    missing = sorted(n for n in acked if stored[n] == 0)
    duplicated = sorted(n for n, c in stored.items() if c > 1) + sorted(n for n, c in acked.items() if c > 1)
    phantom = sorted(n for n in stored if n not in acked and n not in tally.unknown_students)
    edits: dict[int, dict[int, int]] = defaultdict(dict)
    wrong: list[str] = []
    for opening, version, seats in tally.acked_edits:
        # Setting the value an opening already has changes nothing and keeps its version, so one
        # version may be acknowledged twice, but only ever with the same seats.
        if edits[opening].get(version, seats) != seats:
            wrong.append(f"opening {opening}: version {version} acknowledged with two different seats")
        edits[opening][version] = seats
    for opening, (version, seats) in openings.items():
        acknowledged = edits.get(opening, {})
        if opening in tally.unknown_edits:
            continue  # an edit whose outcome is unknown may or may not have landed
        # Every version after the first was made by exactly one acknowledged edit: none lost, none invented.
        # (Version 1 may be acknowledged too: an edit to the value it was created with.)
        made = set(range(2, version + 1))
        if not made <= set(acknowledged) <= made | {1}:
            wrong.append(f"opening {opening}: version {version}, acknowledged versions {sorted(acknowledged)}")
        elif acknowledged and acknowledged[version] != seats:
            wrong.append(f"opening {opening}: seats {seats}, acknowledged {acknowledged[version]}")
    latencies = sorted(tally.latencies)
    del total
    return Report(
        backend=backend, duration_s=elapsed, clients=clients, requests=len(latencies),
        throughput=len(latencies) / elapsed if elapsed else 0.0, p50_ms=_percentile(latencies, 0.50),
        p95_ms=_percentile(latencies, 0.95), p99_ms=_percentile(latencies, 0.99),
        statuses=dict(tally.statuses), by_kind=dict(tally.by_kind), server_errors=tally.server_errors,
        transport_errors=tally.transport_errors, students_acked=sum(acked.values()),
        students_stored=sum(stored.values()), students_missing=missing, students_duplicated=duplicated,
        students_phantom=phantom, edits_acked=len(tally.acked_edits), edits_conflicted=tally.statuses.get(412, 0),
        openings_wrong=wrong)


def soak(url: str, backend: str, *, duration_s: float, clients: int, log: Path | None = None) -> Report:
    """Seed the (migrated, empty) database at ``url``, serve it, drive it, verify it."""
    data = seed(url)
    with running_app(url, log=log) as server:
        tally, elapsed = drive(server.base, data, duration_s=duration_s, clients=clients)
    return verify(url, backend, tally, elapsed, clients)


# --------------------------------------------------------------------------- write-lock scenarios


@dataclass
class Timed:
    """Latencies (s) and statuses of one kind of request; transport errors count as status 0."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def add(self, started: float, status: int) -> None:
        self.latencies.append(time.perf_counter() - started)
        self.statuses[status] += 1

    def describe(self) -> str:
        ordered = sorted(self.latencies)
        if not ordered:
            return "no requests"
        return (f"n={len(ordered)} p50 {_percentile(ordered, 0.50):.1f} ms, p95 {_percentile(ordered, 0.95):.1f} ms, "
                f"p99 {_percentile(ordered, 0.99):.1f} ms, max {ordered[-1] * 1000:.1f} ms; "
                f"statuses {dict(sorted(self.statuses.items()))}")

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)


def _timed_call(http: httpx.Client, timed: Timed, lock: threading.Lock, method: str, url: str,
                **kwargs: Any) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TransportError:
        with lock:
            timed.add(started, 0)
        return None
    with lock:
        timed.add(started, response.status_code)
    return response


def import_scenario(url: str, *, rows: int, writers: int, log: Path | None = None) -> str:
    """A writer's latency while another tenant's ``rows``-row student import is in flight."""
    data = seed(url)
    body = _student_csv(data.programs[0], [f"{PREFIX}BULK-{i:07d}" for i in range(rows)])
    lock = threading.Lock()
    writes, imports = Timed(), Timed()
    importing = threading.Event()
    done = threading.Event()

    def writer(index: int, base: str) -> None:
        headers = {"Authorization": f"Bearer {data.keys['college1']}"}
        counter = 0
        with httpx.Client(timeout=120) as http:
            while not done.is_set():
                counter += 1
                student = {"program_id": data.programs[1], "student_no": f"{PREFIX}W{index:02d}-{counter:06d}",
                           "name": "测试学生", "skills": ["Python"], "grade": 70}
                in_flight = importing.is_set()
                started = time.perf_counter()
                try:
                    response = http.post(base + f"{API}/students", json=student, headers=headers)
                    status = response.status_code
                except httpx.TransportError:
                    status = 0
                # Only writes that started and ended while the import ran measure the lock.
                if in_flight and importing.is_set():
                    with lock:
                        writes.add(started, status)

    with running_app(url, log=log) as server:
        threads = [threading.Thread(target=writer, args=(i, server.base), daemon=True) for i in range(writers)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # writers warmed up
        with httpx.Client(timeout=600) as http:
            importing.set()
            response = _timed_call(http, imports, lock, "POST", server.base + f"{API}/students/import",
                                   headers={"Authorization": f"Bearer {data.keys['college0']}"},
                                   files={"file": ("students.csv", body, "text/csv")})
            importing.clear()
        done.set()
        for thread in threads:
            thread.join()
    created = response.json().get("created") if response is not None and response.status_code == 201 else None
    return (f"import of {rows} rows ({len(body) / 1e6:.1f} MB CSV): {imports.describe()}, created {created}\n"
            f"  {writers} writers of another tenant (POST /students) during the import: {writes.describe()}")


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def signin_scenario(url: str, *, flooders: int, readers: int, duration_s: float, log: Path | None = None) -> str:
    """Readers' latency alone, then during a flood of sign-ins with unknown usernames."""
    data = seed(url)
    lock = threading.Lock()
    quiet, loud, signins = Timed(), Timed(), Timed()
    phase: dict[str, Timed | None] = {"reads": quiet}
    stop = threading.Event()

    def reader(base: str) -> None:
        headers = {"Authorization": f"Bearer {data.keys['college0']}"}
        with httpx.Client(timeout=120) as http:
            while not stop.is_set():
                timed = phase["reads"]
                started = time.perf_counter()
                try:
                    status = http.get(base + f"{API}/openings?limit=20", headers=headers).status_code
                except httpx.TransportError:
                    status = 0
                if timed is not None and phase["reads"] is timed:
                    with lock:
                        timed.add(started, status)

    def flooder(index: int, base: str, until: float) -> None:
        with httpx.Client(timeout=120) as http:
            page = http.get(base + "/login")
            token = _CSRF.search(page.text)
            if token is None:
                raise RuntimeError("no CSRF token on /login")
            counter = 0
            while time.monotonic() < until:
                counter += 1
                # A new unknown name each time: never locked out, each one a full password check.
                form = {"csrf_token": token.group(1), "username": f"nobody-{index}-{counter}",
                        "password": "not-the-password"}
                _timed_call(http, signins, lock, "POST", base + "/login", data=form)

    with running_app(url, log=log) as server:
        threads = [threading.Thread(target=reader, args=(server.base,), daemon=True) for _ in range(readers)]
        for thread in threads:
            thread.start()
        time.sleep(duration_s / 2)
        phase["reads"] = None  # the flood's start-up is in neither phase
        until = time.monotonic() + duration_s
        floods = [threading.Thread(target=flooder, args=(i, server.base, until), daemon=True)
                  for i in range(flooders)]
        for thread in floods:
            thread.start()
        time.sleep(1.0)
        phase["reads"] = loud
        for thread in floods:
            thread.join()
        phase["reads"] = None
        stop.set()
        for thread in threads:
            thread.join()
    return (f"{readers} readers (GET /openings) alone: {quiet.describe()}\n"
            f"  the same readers during a flood of {flooders} sign-in clients: {loud.describe()}\n"
            f"  sign-ins with unknown usernames: {signins.describe()}")


# --------------------------------------------------------------------------- command line


def _migrate(url: str) -> None:
    from alembic import command

    from app.commands.database import alembic_config

    config = alembic_config(url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'soak.db'}"
        return
    from pytest_postgresql.janitor import DatabaseJanitor

    from tests.support.postgres import running_server

    with running_server() as server:
        DatabaseJanitor(user=server.user, host=server.host, port=server.port, dbname="soak").init()
        yield f"postgresql+psycopg://{server.user}@{server.host}:{server.port}/soak"


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load per database")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--scenarios", default="mixed,import,signin",
                        help="mixed (the soak above), import and signin (the write-lock scenarios)")
    parser.add_argument("--import-rows", type=int, default=40_000)
    parser.add_argument("--writers", type=int, default=4, help="writer threads during the import")
    parser.add_argument("--flooders", type=int, default=16, help="sign-in threads of the flood")
    parser.add_argument("--readers", type=int, default=4, help="reader threads during the flood")
    args = parser.parse_args(argv)
    failed = False
    scenarios = args.scenarios.split(",")
    for backend in args.backends.split(","):
        for scenario in scenarios:
            with tempfile.TemporaryDirectory(prefix="chanjiao-soak-") as tmp, database(backend, Path(tmp)) as url:
                _migrate(url)
                if scenario == "mixed":
                    report = soak(url, backend, duration_s=args.duration, clients=args.clients)
                    print(report.summary(), flush=True)
                    for problem in (report.server_errors[:5] + report.students_missing[:5]
                                    + report.students_duplicated[:5] + report.students_phantom[:5]
                                    + report.openings_wrong[:5]):
                        print("  ", problem)
                    failed |= not report.ok
                elif scenario == "import":
                    print(f"{backend}: " + import_scenario(url, rows=args.import_rows, writers=args.writers),
                          flush=True)
                elif scenario == "signin":
                    print(f"{backend}: " + signin_scenario(url, flooders=args.flooders, readers=args.readers,
                                                           duration_s=args.duration), flush=True)
                else:
                    parser.error(f"unknown scenario {scenario!r}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
