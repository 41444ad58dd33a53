"""A national allocation run through the service: a generated scope in 31 provinces, on PostgreSQL.

    python -m benchmarks.runs.national [--students 1000000] [--openings 50000] [--executors process,ray]
                                       [--database-url URL] [--keep]

Starts a throwaway PostgreSQL server (``tests/support/postgres.py``: the machine's own binaries,
127.0.0.1, stopped afterwards) unless ``--database-url`` is given, fills it with a seeded national
scope through COPY, submits one internship run per executor and executes it with the real worker
(solve in a child process, as in production).  Prints each phase's wall time, the CPU time of all
processes and the peak memory summed over every process of the run (PSS from
/proc/<pid>/smaps_rollup of the worker and all its descendants, sampled every 0.2 s; PSS splits
shared pages among the processes sharing them, so the sum is what the run costs the machine).

The scope: colleges in 31 provinces sized by their share of vocational students; five real
catalogue majors per college; enterprises with real 大典 occupations, a tenth of them national
groups with branches in other provinces of their region; students who mostly rank openings of their
own province and some (labour migration within a region) openings elsewhere; staff-share caps.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from app.db.engine import make_engine, make_session_factory
from app.db.models import AllocationRun, College, Enterprise, Major, Opening, Program
from app.run_schemas import RunCreate
from app.security import SYSTEM
from app.services.catalog import load_catalog
from app.services.demo_data import INDUSTRIES, MAJORS, SURNAMES
from app.services.runs import RunService
from app.settings import Settings
from app.worker import Worker
from benchmarks.runs.measure import PeakMemory, cpu_s, watch_phase
from benchmarks.runs.scale import migrate

TERM = "2027-spring"
# Province → (capital, region, weight).  Weights follow the provinces' shares of vocational
# enrolment roughly (the populous provinces of the centre and south largest, Tibet smallest).
PROVINCES: dict[str, tuple[str, str, float]] = {
    "北京": ("北京", "华北", 1.0), "天津": ("天津", "华北", 1.2), "河北": ("石家庄", "华北", 5.0),
    "山西": ("太原", "华北", 2.6), "内蒙古": ("呼和浩特", "华北", 1.4), "辽宁": ("沈阳", "东北", 2.4),
    "吉林": ("长春", "东北", 1.4), "黑龙江": ("哈尔滨", "东北", 1.7), "上海": ("上海", "华东", 1.1),
    "江苏": ("南京", "华东", 5.0), "浙江": ("杭州", "华东", 3.6), "安徽": ("合肥", "华东", 4.4),
    "福建": ("福州", "华东", 2.6), "江西": ("南昌", "华东", 3.4), "山东": ("济南", "华东", 6.2),
    "河南": ("郑州", "华中", 8.3), "湖北": ("武汉", "华中", 4.2), "湖南": ("长沙", "华中", 4.6),
    "广东": ("广州", "华南", 7.8), "广西": ("南宁", "华南", 3.9), "海南": ("海口", "华南", 0.8),
    "重庆": ("重庆", "西南", 2.8), "四川": ("成都", "西南", 5.6), "贵州": ("贵阳", "西南", 3.0),
    "云南": ("昆明", "西南", 3.2), "西藏": ("拉萨", "西南", 0.2), "陕西": ("西安", "西北", 3.0),
    "甘肃": ("兰州", "西北", 1.6), "青海": ("西宁", "西北", 0.4), "宁夏": ("银川", "西北", 0.5),
    "新疆": ("乌鲁木齐", "西北", 1.9),
}
NATIONAL_SHARE = 0.1  # enterprises with branches in other provinces of their region
MIGRANT_SHARE = 0.05  # students who rank openings in another province of their region


def _weighted_provinces(rng: random.Random, n: int) -> list[str]:
    names = list(PROVINCES)
    weights = [PROVINCES[p][2] for p in names]
    # Every province gets at least one, then the rest by weight (deterministic for a seed).
    return names + rng.choices(names, weights=weights, k=max(0, n - len(names)))


def _copy(raw: Any, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
    written = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def generate(url: str, n_students: int, n_openings: int, seed: int) -> dict[str, int]:
    """Fill the database at ``url`` (migrated) with a national scope; returns the counts."""
    rng = random.Random(seed)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        load_catalog(session)
        majors = {(m.code, m.level.value): m.id for m in session.scalars(select(Major))}
    vocational = [m for m in MAJORS if m.level == "高职专科"]
    regions: dict[str, list[str]] = {}
    for province, (_, region, _) in PROVINCES.items():
        regions.setdefault(region, []).append(province)

    colleges, programs = [], []
    for c, province in enumerate(_weighted_provinces(rng, max(31, n_students // 500))):
        city = PROVINCES[province][0]
        colleges.append({"id": c + 1, "name": f"{province}第{c + 1}职业技术学院", "province": province, "city": city,
                         "level": "高职专科"})
        for profile in rng.sample(vocational, 5):
            programs.append({"id": len(programs) + 1, "college_id": c + 1,
                             "major_id": majors[(profile.code, profile.level)], "name": profile.code,
                             "description": profile.description, "core_courses": list(profile.courses),
                             "skills": list(profile.skills), "cohort_size": 100, "term": TERM})
    enterprises, openings = [], []
    by_province: dict[str, list[int]] = {p: [] for p in PROVINCES}
    n_enterprises = max(31, n_openings // 10)
    for e, province in enumerate(_weighted_provinces(rng, n_enterprises)):
        industry = INDUSTRIES[e % len(INDUSTRIES)]
        enterprises.append({"id": e + 1, "name": f"{province}{industry.key}{e + 1}有限公司",
                            "industry": industry.industry, "province": province, "city": PROVINCES[province][0],
                            "staff_count": rng.randint(*industry.staff) * 3})
    for o in range(n_openings):
        enterprise = enterprises[o % n_enterprises]
        industry = INDUSTRIES[(o % n_enterprises) % len(INDUSTRIES)]
        province = enterprise["province"]
        if enterprise["id"] % round(1 / NATIONAL_SHARE) == 0 and o % 3:
            # A national group's branch: another province of the same region.
            province = rng.choice(regions[PROVINCES[province][1]])
        template = rng.choice(industry.openings)
        openings.append({"id": o + 1, "enterprise_id": enterprise["id"], "title": template.title,
                         "description": template.work, "required_skills": list(template.skills),
                         "occupation_code": template.occupation_code, "seats": rng.randint(5, 40),
                         "province": province, "city": PROVINCES[province][0], "term": TERM,
                         "eligible_levels": [], "eligible_major_codes": [], "version": 1})
        by_province[province].append(o + 1)
    with sessions.begin() as session:
        for model, rows in ((College, colleges), (Program, programs), (Enterprise, enterprises),
                            (Opening, openings)):
            for start in range(0, len(rows), 10_000):
                session.execute(insert(model), rows[start:start + 10_000])
    province_of_program = {p["id"]: colleges[p["college_id"] - 1]["province"] for p in programs}
    skills_of_program = {p["id"]: p["skills"] for p in programs}
    now = datetime.now(UTC)

    def students() -> Iterator[tuple[Any, ...]]:
        for s in range(n_students):
            program = programs[s % len(programs)]["id"]
            own = skills_of_program[program]
            province = province_of_program[program]
            skills = rng.sample(own, k=min(len(own), rng.randint(1, 4)))
            yield (s + 1, program, f"N{s + 1:08d}", rng.choice(SURNAMES) + "同学",
                   json.dumps(skills, ensure_ascii=False), "[]", round(rng.uniform(55, 98), 1), province,
                   PROVINCES[province][0], now, now)

    def preferences() -> Iterator[tuple[int, int, int]]:
        for s in range(n_students):
            province = province_of_program[programs[s % len(programs)]["id"]]
            pool = by_province[province]
            if rng.random() < MIGRANT_SHARE or len(pool) < 4:
                region = regions[PROVINCES[province][1]]
                pool = [o for p in rng.sample(region, min(2, len(region))) for o in by_province[p]] or pool
            for rank, opening in enumerate(rng.sample(pool, min(4, len(pool))), start=1):
                yield (s + 1, opening, rank)

    with engine.begin() as connection:
        raw: Any = connection.connection.driver_connection
        _copy(raw, "students", ("id", "program_id", "student_no", "name", "skills", "certificates", "grade",
                                "province", "city", "created_at", "updated_at"), students())
        n_prefs = _copy(raw, "student_preferences", ("student_id", "opening_id", "rank"), preferences())
        for table in ("students", "colleges", "programs", "enterprises", "openings"):
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return {"colleges": len(colleges), "programs": len(programs), "enterprises": len(enterprises),
            "openings": len(openings), "students": n_students, "preferences": n_prefs}


def run_once(url: str, executor: str, ray_address: str | None, time_limit_s: float) -> dict[str, Any]:
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as session:
        run, _ = RunService(session, SYSTEM).submit(RunCreate.model_validate(
            {"kind": "internship", "scope": {"term": TERM}, "parameters": {"time_limit_s": time_limit_s}}))
        run_id = run.id
    settings = Settings(database_url=url, solve_in_subprocess=True, allocation_executor=executor,
                        ray_address=ray_address, worker_lease_s=3600)
    # On a Ray cluster started for the benchmark (tests/support/ray_cluster.py) its nodes' processes
    # are counted too; they are not this process's children.
    nodes = os.environ.get("CHANJIAO_BENCH_RAY_NODE_PIDS", "") if executor == "ray" else ""
    memory = PeakMemory(tuple(int(pid) for pid in nodes.split(",") if pid))
    stop = threading.Event()
    cpu = cpu_s()
    started = time.monotonic()
    with memory.sampling():
        watcher = watch_phase(url, run_id, memory, stop)
        Worker(sessions, settings, owner=f"bench-{executor}").run_once()
        stop.set()
        watcher.join()
    wall = time.monotonic() - started
    with sessions.begin() as session:
        done: Any = session.get(AllocationRun, run_id)
        return {"executor": executor, "run": run_id, "status": done.status.value, "error": done.error,
                "objective": done.objective, "gap": done.gap, "placements_digest": done.placements_digest,
                "placed": (done.kpis or {}).get("totals", {}).get("placed"),
                "phases": dict(done.phase_times or {}), "wall_s": round(wall, 1),
                "cpu_s": round(cpu_s() - cpu, 1), "peak_pss_gib": round(memory.peak_kib / 2**20, 2),
                "peak_pss_gib_by_phase": {k: round(v / 2**20, 2) for k, v in memory.by_phase.items()},
                "cpu_s_by_phase": {k: round(v, 1) for k, v in memory.cpu_by_phase.items()},
                "peak_pss_gib_by_process": {k: round(v / 2**20, 2) for k, v in sorted(
                    memory.peak_detail.items(), key=lambda kv: -kv[1])[:12]}}


def report(result: dict[str, Any], out: io.TextIOBase | None = None) -> None:
    lines = [f"executor {result['executor']}: run {result['run']} {result['status']}"
             + (f" ({result['error']})" if result["error"] else "")
             + f", objective {result['objective']}, gap {result['gap']}, placed {result['placed']}",
             f"  placements digest {result['placements_digest']}", "  phase        seconds   CPU s   peak PSS (GiB)"]
    for phase, seconds in result["phases"].items():
        lines.append(f"  {phase:<12} {seconds:8.2f}  {result['cpu_s_by_phase'].get(phase, 0):6.1f}   "
                     f"{result['peak_pss_gib_by_phase'].get(phase, 0):6.2f}")
    lines.append(f"  {'total':<12} {result['wall_s']:8.1f}  {result['cpu_s']:6.1f}   {result['peak_pss_gib']:6.2f}")
    lines.append("  at the peak, the largest processes (PSS GiB, pid, command):")
    lines += [f"    {gib:6.2f}  {name}" for name, gib in result["peak_pss_gib_by_process"].items()]
    print("\n".join(lines), flush=True)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from pytest_postgresql.janitor import DatabaseJanitor

    from tests.support.postgres import running_server

    with running_server() as server:
        DatabaseJanitor(user=server.user, host=server.host, port=server.port, dbname="national").init()
        yield f"postgresql+psycopg://{server.user}@{server.host}:{server.port}/national"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--openings", type=int, default=50_000)
    parser.add_argument("--executors", default="process", help="Comma-separated: inline, process, ray.")
    parser.add_argument("--ray-address", default=os.environ.get("CHANJIAO_RAY_ADDRESS"),
                        help="Join this Ray cluster (default: CHANJIAO_RAY_ADDRESS, else a local runtime).")
    parser.add_argument("--database-url", default=None,
                        help="An empty PostgreSQL database (default: a throwaway server).")
    parser.add_argument("--time-limit", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args(argv)
    results = []
    with database(args.database_url) as url:
        migrate(url)
        started = time.monotonic()
        counts = generate(url, args.students, args.openings, args.seed)
        print(f"data: {time.monotonic() - started:.1f} s, {counts}", flush=True)
        for executor in args.executors.split(","):
            result = run_once(url, executor.strip(), args.ray_address, args.time_limit)
            report(result)
            results.append(result)
    if args.json:
        args.json.write_text(json.dumps({"counts": counts, "results": results}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
