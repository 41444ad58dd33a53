"""Allocation benchmarks: generate seeded instances, run ``chanjiao solve`` on each, print a table.

Each case runs in its own child process so that ``RUSAGE_CHILDREN`` gives that case's peak memory.
Usage: ``python -m benchmarks.allocation.run [--cases NAME,...] [--workdir var/bench] [--executor NAME]``
(``--executor inline|process|ray`` overrides the cases' params.json; a Ray runtime's processes are
not children of the solve, so "peak MiB" is then the driver's alone).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHANJIAO = str(Path(sys.executable).with_name("chanjiao"))

# name: (kind, students or lecturers, openings or needs, k, params, time limit)
CASES: dict[str, tuple[str, int, int, int, dict[str, object]]] = {
    "10k-caps-floors": ("internship", 10_000, 1_000, 50, {"college_floor": 0.2}),
    "100k-caps-floors": ("internship", 100_000, 10_000, 50, {"college_floor": 0.2}),
    "10k-quota-floors": ("internship", 10_000, 1_000, 50, {"college_floor": 0.2, "default_quota": 30,
                                                            "time_limit_s": 10}),
    "100k-quota-floors": ("internship", 100_000, 10_000, 50, {"college_floor": 0.2, "default_quota": 30,
                                                              "time_limit_s": 60}),
    "10k-quota-floors-mixed": ("internship", 10_000, 1_000, 50, {"college_floor": 0.2, "default_quota": 30,
                                                                  "time_limit_s": 8}),
    "100k-quota15-floors": ("internship", 100_000, 10_000, 50, {"college_floor": 0.2, "default_quota": 15,
                                                                "time_limit_s": 45}),
    "100k-stable": ("internship", 100_000, 10_000, 50, {"mode": "stable", "executor": "inline"}),
    "100k-stable-nopos": ("internship", 100_000, 10_000, 50, {"mode": "stable", "executor": "inline",
                                                              "price_of_stability": False}),
    "lecturers-1k-3k": ("lecturer", 1_000, 3_000, 20, {"time_limit_s": 50}),
    "1m-caps-floors": ("internship", 1_000_000, 50_000, 50, {"college_floor": 0.2}),
}
DEFAULT = [name for name in CASES if not name.startswith("1m")]
# Generator options per case (defaults otherwise): "mixed" has ~100 students per college and one
# enterprise per 2 openings, so that provinces hold several colleges and enterprises and the
# (college, enterprise) quotas really cross the seats (with the defaults, a 10k instance has one
# college per province, its quotas fold into enterprise caps, and its smallest provinces have a
# single enterprise, which makes floor 20 % with quota 30 infeasible).
GENERATOR: dict[str, dict[str, int]] = {
    "10k-quota-floors-mixed": {"students_per_college": 100, "openings_per_enterprise": 2}}


def instance_dir(workdir: Path, name: str) -> Path:
    kind, n, m, k, params = CASES[name]
    target = workdir / name
    if not (target / "params.json").exists():
        from benchmarks.allocation import generate

        params = {**params} if kind == "lecturer" else {"executor": "process", **params}
        if kind == "internship":
            if params.get("mode") == "stable":
                params.pop("college_floor", None)
            generate.internship(target, n, m, k, seed=1, params=params, **GENERATOR.get(name, {}))
            if params.get("mode") == "stable":
                (target / "enterprises.csv").unlink()  # stable mode handles seats, not enterprise caps
        else:
            generate.lecturer(target, n, m, k, seed=1, params=params)
    return target


def run_one(workdir: Path, name: str, executor: str | None = None) -> dict[str, object]:
    """Run in a fresh child so that RUSAGE_CHILDREN is this case's solve only."""
    instance = instance_dir(workdir, name)
    out = workdir / f"{name}.out"
    started = time.perf_counter()
    proc = subprocess.run([CHANJIAO, "solve", "--instance", str(instance), "--out", str(out),
                           *(["--executor", executor] if executor else [])],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = json.loads((out / "result.json").read_text(encoding="utf-8")) if (out / "result.json").exists() else {}
    return {"case": name, "exit": proc.returncode, "wall_s": round(wall, 2), "peak_mib": round(peak_kib / 1024),
            "status": summary.get("status"), "objective": summary.get("objective"), "bound": summary.get("bound"),
            "gap": summary.get("gap"), "solve_s": summary.get("wall_time_s"), "counts": summary.get("counts"),
            "stats": summary.get("stats"), "stderr": proc.stderr[-400:] if proc.returncode not in (0,) else ""}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=",".join(DEFAULT))
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--executor", choices=["inline", "process", "ray"], help="Override params.json.")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(run_one(args.workdir, args.one, args.executor)))
        return
    print(f"{'case':20} {'mode / constraints':40} {'time s':>7} {'(solve)':>8} {'peak MiB':>9} "
          f"{'status':>10} {'objective':>11} {'bound':>11} {'gap':>8}")
    for name in args.cases.split(","):
        kind, _n, _m, _k, params = CASES[name]
        instance_dir(args.workdir, name)  # generation is not timed
        proc = subprocess.run([sys.executable, "-m", "benchmarks.allocation.run", "--workdir", str(args.workdir),
                               "--one", name, *(["--executor", args.executor] if args.executor else [])],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        constraints = ",".join(f"{key}={value}" for key, value in params.items()
                               if key not in ("executor", "time_limit_s"))
        gap = row["gap"]
        print(f"{name:20} {(kind + ' ' + constraints)[:40]:40} {row['wall_s']:>7} {row['solve_s']!s:>8} "
              f"{row['peak_mib']:>9} {row['status']!s:>10} {row['objective']!s:>11} {row['bound']!s:>11} "
              f"{(f'{gap:.4%}' if isinstance(gap, float) else str(gap)):>8}", flush=True)
        if row["stderr"] and row["status"] not in ("infeasible",):
            print("   ", row["stderr"].strip().replace("\n", " ")[-300:])


if __name__ == "__main__":
    main()
