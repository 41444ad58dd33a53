"""Render time of every web UI page on the demo data (not part of the test suite).

Builds a migrated, demo-seeded SQLite file, runs one published allocation, signs in as each role
and requests each page in-process (the ASGI app through the test client: server time, no network),
once to warm caches and then ``--repeat`` times.  Prints median and worst per page against the
300 ms budget.

    python -m benchmarks.web.render [--repeat 10]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.engine import make_engine, make_session_factory
from app.db.models import Actor, Opening, Program, Role
from app.main import create_app
from app.run_schemas import RunCreate, RunScope
from app.security import SYSTEM
from app.services.catalog import load_catalog
from app.services.demo import demo_actors, seed_demo
from app.services.runs import RunService
from app.services.users import reset_users_of_actors
from app.settings import Settings
from app.worker import Worker
from tests.conftest import migrate

BUDGET_MS = 300.0


def build(db: Path) -> tuple[str, dict[Role, tuple[str, str, Actor]], int]:
    url = f"sqlite:///{db}"
    migrate(url)
    factory = make_session_factory(make_engine(url))
    with factory.begin() as session:
        load_catalog(session)
        seed_demo(session, 2027)
    with factory.begin() as session:
        actors = demo_actors(session)
        users = {}
        for cred in reset_users_of_actors(session, actors):
            actor = next(a for a in actors if a.id == cred.actor_id)
            users.setdefault(cred.role, (cred.username, cred.password, actor))
        run, _ = RunService(session, SYSTEM).submit(RunCreate(kind="internship", scope=RunScope(term="2027-spring",
                                                                                                province="贵州")))
        run_id = run.id
    settings = Settings(database_url=url, solve_in_subprocess=False, allocation_executor="inline")
    Worker(factory, settings, owner="bench").run_once()
    with factory.begin() as session:
        RunService(session, SYSTEM).publish(run_id)
    return url, users, run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, users, run_id = build(Path(tmp) / "demo.db")
        app = create_app(Settings(database_url=url, secret_key="bench-" + "k" * 40, rate_limit_enabled=False))
        factory = make_session_factory(make_engine(url))
        with factory() as session:
            hr_enterprise = users[Role.ENTERPRISE_HR][2].enterprise_id
            college = users[Role.PLACEMENT_OFFICE][2].college_id
            program_id = session.scalar(select(Program.id).where(Program.college_id == college).order_by(Program.id))
            opening_id = session.scalar(select(Opening.id).where(Opening.enterprise_id == hr_enterprise)
                                        .order_by(Opening.id))
        pages = {
            Role.PLACEMENT_OFFICE: ["/programs", f"/programs/{program_id}", f"/programs/{program_id}/matches",
                                    "/students", "/placements"],
            Role.ENTERPRISE_HR: ["/openings", "/openings/new", f"/openings/{opening_id}",
                                 f"/openings/{opening_id}/edit", "/lecturers", "/lecturers/new", "/placements",
                                 "/occupations/suggest?title=大数据运维实习生"],
            Role.SCHEDULER: ["/runs", f"/runs/{run_id}", f"/runs/{run_id}/status",
                             f"/runs/compare?ids={run_id}"],
        }
        rows = []
        for role, paths in pages.items():
            client = TestClient(app)
            username, password, _ = users[role]
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
            assert token is not None
            client.post("/login", data={"username": username, "password": password, "csrf_token": token.group(1)})
            for path in paths:
                assert client.get(path).status_code == 200, path  # warm: templates, catalogue indexes
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200
                rows.append((role.value, path, statistics.median(times), max(times)))
        print(f"{'role':<18} {'page':<48} {'median ms':>10} {'max ms':>8}  budget {BUDGET_MS:.0f} ms")
        for role_name, path, median, worst in rows:
            flag = "" if worst < BUDGET_MS else "  OVER"
            print(f"{role_name:<18} {path:<48} {median:>10.1f} {worst:>8.1f}{flag}")


if __name__ == "__main__":
    main()
