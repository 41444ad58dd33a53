"""Cost of ranking long needs: one need against 2,000 entries (lexical, and with embeddings).

    .venv/bin/python -m benchmarks.scoring.cost [--embeddings] [--needs 300]
    .venv/bin/python -m benchmarks.scoring.cost --write DIR   # 825 needs × 2,325 entries for `chanjiao rank`

Needs are O*NET occupations as in ``programmes.py`` (title, description, technology skills);
the catalogue is a stand-in of the size of issue 14's programmes set: the first 2,000 (or 2,325)
ESCO v1.2.0 occupations (preferred label, description).  Each need is timed with
``time.perf_counter`` around ``CatalogIndex.rank_need`` (top 10; skills weighted over all needs,
as ``chanjiao rank`` does), or ``SemanticIndex.rank_need`` including the embedding of the need's
text (one model call per need; the catalogue's vectors are computed before timing, once, and
cached).  Exit status 1 when a target is missed (p95 ≤ 20 ms lexical, ≤ 60 ms with embeddings).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

from app.data import job_title_expander
from benchmarks.scoring.programmes import build
from benchmarks.scoring.worlds import read_csv
from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex

TARGET_MS = {"lexical": 20.0, "embeddings": 60.0}


def catalogue(n: int) -> list[CatalogEntry]:
    occ = read_csv("esco_1_2_0", "occupations.csv")[:n]
    return [CatalogEntry(o["esco_code"] or o["occupation_uri"], o["preferred_label"], o["description"]) for o in occ]


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    entries = catalogue(2325)
    with (directory / "catalog.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("code", "name", "description"))
        seen: set[str] = set()
        for e in entries:
            code = e.code if e.code not in seen else f"{e.code}#{len(seen)}"
            seen.add(code)
            w.writerow((code, e.name, e.description))
    _, needs = build()
    with (directory / "needs.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("id", "title", "description", "skills"))
        w.writerows((n.id, n.title, n.description, "; ".join(n.skills)) for n in needs[:825])


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embeddings", action="store_true")
    ap.add_argument("--needs", type=int, default=300)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args(argv)
    if args.write:
        write(args.write)
        return 0
    entries = catalogue(2000)
    index = CatalogIndex.build(entries, expander=job_title_expander())
    _, needs = build()
    needs = needs[: args.needs]
    spec = index.skill_weights([n.skills for n in needs])
    modes = ["lexical"]
    sem = None
    if args.embeddings:
        from app.embeddings import semantic_index

        sem = semantic_index(index)
        modes.append("embeddings")
    failed = False
    for mode in modes:
        for n in needs[:20]:  # warm-up: first calls pay for caches and lazy imports
            if sem is not None and mode == "embeddings":
                sem.rank_need(n.title, n.description, n.skills, 10, n.id, spec)
            else:
                index.rank_need(n.title, n.description, n.skills, 10, n.id, spec)
        times, cpu = [], []
        for n in needs:
            t, c = time.perf_counter(), time.process_time()
            if sem is not None and mode == "embeddings":
                sem.rank_need(n.title, n.description, n.skills, 10, n.id, spec)
            else:
                index.rank_need(n.title, n.description, n.skills, 10, n.id, spec)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        p50, p95, mx = np.percentile(times, 50), np.percentile(times, 95), max(times)
        c50, c95 = np.percentile(cpu, 50), np.percentile(cpu, 95)
        ok = p95 <= TARGET_MS[mode]
        failed |= not ok
        print(f"{mode}: one need vs {len(index.entries)} entries, {len(needs)} needs: p50 {p50:.1f} ms, "
              f"p95 {p95:.1f} ms, max {mx:.1f} ms wall (target p95 ≤ {TARGET_MS[mode]:.0f} ms: "
              f"{'met' if ok else 'MISSED'}); CPU p50 {c50:.1f} ms, p95 {c95:.1f} ms; load {_load()}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
