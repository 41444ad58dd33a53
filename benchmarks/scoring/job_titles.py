"""Job-posting titles → occupations: the colloquial-title task (hand-labelled, dev and test halves).

    .venv/bin/python -m benchmarks.scoring.job_titles [--split dev|test|both] [--misses]

Queries are the titles in ``benchmarks/scoring/data/job_titles_{zh,en}.csv`` (written for this
project, see the README there), ranked the way ``chanjiao rank`` ranks a NEEDS row that has only
a title.  Catalogues: 大典 2022 细类 (name; description = definition + tasks; a repeated code
keeps its first row) for the Chinese titles, O*NET 29.3 occupations (title; description) for the
English ones.  A query may have several acceptable codes (a generic title such as 护士 or
"Project Manager" fits more than one occupation); its rank is that of the best-placed one.
Metrics: hit@1, hit@5, MRR (rank beyond 100 counts as 0).

Methods: ``before`` is the scorer without title normalisation and lexicon expansion (the ranking
of the original ``CatalogIndex``); ``after`` is ``CatalogIndex`` with its defaults.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.scoring.worlds import read_csv
from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex
from matching.scoring.catalog import NAME_WEIGHT, need_text

HERE = Path(__file__).resolve().parent / "data"
DEPTH = 100


@dataclass(frozen=True)
class Query:
    title: str
    codes: frozenset[str]
    split: str


def load_queries(name: str) -> list[Query]:
    with (HERE / name).open(encoding="utf-8", newline="") as fh:
        return [Query(r["title"], frozenset(r["codes"].split("|")), r["split"]) for r in csv.DictReader(fh)]


def dadian_catalogue() -> list[CatalogEntry]:
    seen: set[str] = set()
    out: list[CatalogEntry] = []
    for r in read_csv("cn_csco_2022_occupations", "occupations.csv"):
        if r["level"] != "4" or r["code"] in seen:
            continue
        seen.add(r["code"])
        out.append(CatalogEntry(r["code"], r["name"], "\n".join(p for p in (r["definition"], r["tasks"]) if p)))
    return out


def onet_catalogue() -> list[CatalogEntry]:
    return [CatalogEntry(r["onet_soc_code"], r["title"], r["description"])
            for r in read_csv("us_onet_29_3", "occupations.csv")]


Ranker = Callable[[str], list[str]]


def ranker(index: CatalogIndex) -> Ranker:
    def run(title: str) -> list[str]:
        out = index.rank(need_text(title), DEPTH)
        return [] if not isinstance(out, list) else [r.code for r in out]
    return run


def evaluate(rank: Ranker, queries: list[Query]) -> tuple[dict[str, float], list[tuple[Query, list[str]]]]:
    h1 = h5 = rr = 0.0
    misses: list[tuple[Query, list[str]]] = []
    for q in queries:
        codes = rank(q.title)
        pos = next((i for i, c in enumerate(codes, start=1) if c in q.codes), 0)
        h1 += pos == 1
        h5 += 0 < pos <= 5
        rr += 1.0 / pos if pos else 0.0
        if pos != 1:
            misses.append((q, codes[:3]))
    n = max(1, len(queries))
    return {"hit@1": h1 / n, "hit@5": h5 / n, "mrr": rr / n}, misses


def tasks() -> list[tuple[str, list[CatalogEntry], list[Query]]]:
    return [("job title → 大典 (zh)", dadian_catalogue(), load_queries("job_titles_zh.csv")),
            ("job title → O*NET (en)", onet_catalogue(), load_queries("job_titles_en.csv"))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("dev", "test", "both"), default="both")
    ap.add_argument("--misses", action="store_true", help="print the queries whose first result is wrong")
    args = ap.parse_args(argv)
    splits = ("dev", "test") if args.split == "both" else (args.split,)
    print("| task | split | queries | method | hit@1 | hit@5 | MRR |")
    print("|---|---|---:|---|---:|---:|---:|")
    for name, entries, queries in tasks():
        indexes = {"before": CatalogIndex.build(entries, expander=None, title_name_weight=NAME_WEIGHT),
                   "after": CatalogIndex.build(entries)}
        names = {e.code: e.name for e in indexes["after"].entries}
        for split in splits:
            part = [q for q in queries if q.split == split]
            for method, index in indexes.items():
                m, misses = evaluate(ranker(index), part)
                print(f"| {name} | {split} | {len(part)} | {method} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | "
                      f"{m['mrr']:.3f} |", flush=True)
                if args.misses and method == "after":
                    for q, top in misses:
                        print(f"    miss {q.title}: {' / '.join(names[c] for c in top)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
