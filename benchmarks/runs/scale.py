"""Wall time of a whole allocation run, phase by phase, on the demo or on a generated scope.

    python -m benchmarks.runs.scale --students 100000 --openings 10000 [--database-url URL]

Builds a fresh database (SQLite file under benchmarks/out/ unless --database-url is given), fills
it with a seeded, realistic scope (real catalogue majors and 大典 occupations, ten provinces),
submits one internship run and executes it with the real worker; prints the phase times.
``--demo`` runs the demo data instead.
"""

from __future__ import annotations

import argparse
import random
import resource
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from app.commands.database import alembic_config
from app.db.engine import make_engine, make_session_factory
from app.db.models import College, Enterprise, Major, Opening, Program, Student, StudentPreference
from app.run_schemas import RunCreate
from app.security import SYSTEM
from app.services.catalog import load_catalog
from app.services.demo import seed_demo
from app.services.demo_data import INDUSTRIES, MAJORS, SURNAMES
from app.services.runs import RunService
from app.settings import Settings
from app.worker import Worker
from benchmarks.runs.measure import PeakMemory, cpu_s, watch_phase

PROVINCES = {"贵州": "贵阳", "辽宁": "沈阳", "四川": "成都", "广东": "广州", "江苏": "南京", "浙江": "杭州",
             "山东": "济南", "河南": "郑州", "湖北": "武汉", "湖南": "长沙"}
TERM = "2027-spring"


def migrate(url: str) -> None:
    from alembic import command

    config = alembic_config(url)
    config.attributes["configure_logging"] = False  # type: ignore[attr-defined]
    command.upgrade(config, "head")  # type: ignore[arg-type]


def generate(url: str, n_students: int, n_openings: int, seed: int) -> None:
    rng = random.Random(seed)
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as session:
        load_catalog(session)
        majors = {(m.code, m.level.value): m.id for m in session.scalars(select(Major))}
    provinces = list(PROVINCES)
    colleges, programs, enterprises, openings, students, preferences = [], [], [], [], [], []
    n_colleges = max(10, n_students // 500)
    for c in range(n_colleges):
        province = provinces[c % len(provinces)]
        colleges.append({"id": c + 1, "name": f"{province}第{c + 1}职业技术学院", "province": province,
                         "city": PROVINCES[province], "level": "高职专科"})
        for profile in rng.sample([m for m in MAJORS if m.level == "高职专科"], 5):
            major_id = majors[(profile.code, profile.level)]
            programs.append({"id": len(programs) + 1, "college_id": c + 1, "major_id": major_id,
                             "name": profile.code, "description": profile.description,
                             "core_courses": list(profile.courses), "skills": list(profile.skills),
                             "cohort_size": 100, "term": TERM, "province": province, "_skills": profile.skills})
    n_enterprises = max(10, n_openings // 10)
    for e in range(n_enterprises):
        industry = INDUSTRIES[e % len(INDUSTRIES)]
        province = provinces[e % len(provinces)]
        enterprises.append({"id": e + 1, "name": f"{province}{industry.key}{e + 1}有限公司",
                            "industry": industry.industry,
                            "province": province, "city": PROVINCES[province],
                            "staff_count": rng.randint(200, 3000)})
    by_province: dict[str, list[int]] = {p: [] for p in provinces}
    for o in range(n_openings):
        enterprise = enterprises[o % n_enterprises]
        industry = INDUSTRIES[(o % n_enterprises) % len(INDUSTRIES)]
        template = rng.choice(industry.openings)
        openings.append({"id": o + 1, "enterprise_id": enterprise["id"], "title": template.title,
                         "description": template.work, "required_skills": list(template.skills),
                         "occupation_code": template.occupation_code, "seats": rng.randint(1, 12),
                         "province": enterprise["province"], "city": enterprise["city"], "term": TERM,
                         "eligible_levels": [], "eligible_major_codes": [], "version": 1})
        by_province[enterprise["province"]].append(o + 1)
    for s in range(n_students):
        program = programs[s % len(programs)]
        skills = rng.sample(program["_skills"], k=min(len(program["_skills"]), rng.randint(1, 4)))
        students.append({"id": s + 1, "program_id": program["id"], "student_no": f"S{s + 1:07d}",
                         "name": rng.choice(SURNAMES) + "同学", "skills": skills, "certificates": [],
                         "grade": round(rng.uniform(55, 98), 1), "province": program["province"],
                         "city": PROVINCES[program["province"]]})
        for rank, opening in enumerate(rng.sample(by_province[program["province"]], 4), start=1):
            preferences.append({"student_id": s + 1, "opening_id": opening, "rank": rank})
    for row in programs:
        row.pop("province")
        row.pop("_skills")
    with sessions.begin() as session:
        for model, rows in ((College, colleges), (Program, programs), (Enterprise, enterprises),
                            (Opening, openings), (Student, students), (StudentPreference, preferences)):
            for start in range(0, len(rows), 10_000):
                session.execute(insert(model), rows[start:start + 10_000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--openings", type=int, default=10_000)
    parser.add_argument("--demo", action="store_true", help="Run the demo data instead of a generated scope.")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--executor", default="process", help="inline, process or ray")
    args = parser.parse_args()
    out = Path("benchmarks/out")
    out.mkdir(parents=True, exist_ok=True)
    name = "demo" if args.demo else f"scope-{args.students}"
    url = args.database_url or f"sqlite:///{out / (name + '.db')}"
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    migrate(url)
    started = time.monotonic()
    if args.demo:
        with make_session_factory(make_engine(url)).begin() as session:
            seed_demo(session)
    else:
        generate(url, args.students, args.openings, args.seed)
    print(f"data: {time.monotonic() - started:.1f} s ({name})")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        run, _ = RunService(session, SYSTEM).submit(RunCreate.model_validate(
            {"kind": "internship", "scope": {"term": TERM}, "parameters": {"time_limit_s": 600}}))
        run_id = run.id
    settings = Settings(database_url=url, solve_in_subprocess=False, allocation_executor=args.executor)
    memory = PeakMemory()
    cpu = cpu_s()
    wall = time.monotonic()
    stop = threading.Event()
    with memory.sampling():
        watcher = watch_phase(url, run_id, memory, stop)
        Worker(sessions, settings, owner="bench").run_once()
        stop.set()
        watcher.join()
    wall = time.monotonic() - wall
    cpu = cpu_s() - cpu
    with sessions.begin() as session:
        from app.db.models import AllocationRun

        done: Any = session.get(AllocationRun, run_id)
        print(f"run {run_id}: {done.status.value}, objective {done.objective}, gap {done.gap}, "
              f"placed {done.kpis['totals']['placed']} of {done.kpis['totals']['students']}")
        print("phase        seconds   CPU s (all processes)")
        for phase, seconds in done.phase_times.items():
            print(f"{phase:<12} {seconds:8.2f}   {memory.cpu_by_phase.get(phase, 0.0):6.1f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{'total':<12} {wall:8.2f}   CPU of all processes {cpu:.1f} s, peak RSS of the worker {peak:.0f} MiB, "
              f"peak PSS summed over its processes {memory.peak_kib / 1024:.0f} MiB")
        print(f"placements digest {done.placements_digest}")


if __name__ == "__main__":
    main()
