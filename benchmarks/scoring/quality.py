"""Retrieval quality of the text component against plain word TF-IDF and BM25.

    .venv/bin/python -m benchmarks.scoring.quality [--max-queries 2000]

Tasks, all built from public data in ../shared/data, each query's one correct entry known:
- 大典 tasks → occupation (Chinese): catalogue = 细类 name + definition; query = its task list.
- O*NET tasks+tech → occupation (English): catalogue = title + description; query = the
  occupation's task statements and technology-skill examples.
- ESCO alt label → occupation (English job titles): catalogue = preferred label + description;
  query = one alternative label (a job title) of the occupation.
- 大典 name → definition (Chinese job titles): catalogue = definition + tasks only (no name);
  query = the occupation name.
- Job-posting titles → 大典 / O*NET, dev and test halves (``benchmarks.scoring.job_titles``, run
  at the end; before/after the title normaliser and lexicon expansion).

Methods: ours (``CatalogIndex``: mixed char/word TF-IDF, whole text + name field), ours text only
(the same space, whole text), word TF-IDF (scikit-learn defaults), BM25 (k1 1.2, b 0.75, on
scikit-learn's word tokens), and BM25 on CJK bigrams + words (a segmenter-free BM25 for Chinese).
Metrics: hit@1, hit@5, MRR over all queries.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from app.data import job_title_expander
from benchmarks.scoring import job_titles
from benchmarks.scoring.worlds import occupations, read_csv
from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex
from matching.scoring.catalog import NAME_WEIGHT, TEXT_WEIGHT, entry_text
from matching.scoring.text import analyze_words


@dataclass
class Task:
    name: str
    entries: list[CatalogEntry]
    queries: list[str]
    gold: np.ndarray  # index of the correct entry per query


def dadian_tasks() -> Task:
    occ = [o for o in occupations() if o["tasks"].strip()]
    return Task("大典 tasks → occupation (zh)", [CatalogEntry(o["code"], o["name"], o["definition"]) for o in occ],
                [o["tasks"] for o in occ], np.arange(len(occ)))


def dadian_titles() -> Task:
    occ = [o for o in occupations() if o["tasks"].strip()]
    return Task("大典 name → definition+tasks (zh)",
                [CatalogEntry(o["code"], "", o["definition"] + "\n" + o["tasks"]) for o in occ],
                [o["name"] for o in occ], np.arange(len(occ)))


def onet_tasks() -> Task:
    occ = read_csv("us_onet_29_3", "occupations.csv")
    tasks: dict[str, list[str]] = {}
    for t in read_csv("us_onet_29_3", "task_statements.csv"):
        tasks.setdefault(t["onet_soc_code"], []).append(t["task"])
    tech: dict[str, list[str]] = {}
    for t in read_csv("us_onet_29_3", "technology_skills.csv"):
        tech.setdefault(t["onet_soc_code"], []).append(t["example"])
    occ = [o for o in occ if o["onet_soc_code"] in tasks]
    return Task("O*NET tasks+tech → occupation (en)",
                [CatalogEntry(o["onet_soc_code"], o["title"], o["description"]) for o in occ],
                [" ".join(tasks[o["onet_soc_code"]]) + " " + ", ".join(tech.get(o["onet_soc_code"], []))
                 for o in occ],
                np.arange(len(occ)))


def esco_titles(max_queries: int, seed: int = 0) -> Task:
    occ = read_csv("esco_1_2_0", "occupations.csv")
    pairs = [(i, alt.strip()) for i, o in enumerate(occ) for alt in o["alt_labels"].split("|") if alt.strip()]
    rnd = random.Random(seed)
    pairs = rnd.sample(pairs, min(max_queries, len(pairs)))
    return Task("ESCO alt label → occupation (en)",
                [CatalogEntry(o["esco_code"], o["preferred_label"], o["description"]) for o in occ],
                [q for _, q in pairs], np.array([i for i, _ in pairs]))


def subsample(task: Task, max_queries: int, seed: int = 0) -> Task:
    if len(task.queries) <= max_queries:
        return task
    idx = sorted(random.Random(seed).sample(range(len(task.queries)), max_queries))
    return Task(task.name, task.entries, [task.queries[i] for i in idx], task.gold[idx])


# --- methods: each returns a dense queries × entries score matrix -----------------------------


def ours(entries: Sequence[CatalogEntry], queries: Sequence[str]) -> np.ndarray:
    index = CatalogIndex.build(entries, expander=job_title_expander())
    return np.vstack([index.scores(q) for q in queries])


def ours_plain(entries: Sequence[CatalogEntry], queries: Sequence[str]) -> np.ndarray:
    """The text+name ranking without title emphasis and lexicon expansion (the earlier default)."""
    index = CatalogIndex.build(entries)
    q = index.space.transform(list(queries))
    return np.asarray(TEXT_WEIGHT * (q @ index.full.T).toarray() + NAME_WEIGHT * (q @ index.names.T).toarray())


def ours_text_only(entries: Sequence[CatalogEntry], queries: Sequence[str]) -> np.ndarray:
    index = CatalogIndex.build(entries)
    return np.asarray((index.space.transform(list(queries)) @ index.full.T).toarray())


def word_tfidf(entries: Sequence[CatalogEntry], queries: Sequence[str]) -> np.ndarray:
    vec = TfidfVectorizer()
    docs = vec.fit_transform([entry_text(e) for e in entries])
    return np.asarray((vec.transform(list(queries)) @ docs.T).toarray())


def _bm25(docs: list[str], queries: Sequence[str], analyzer: object, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    cv = CountVectorizer(analyzer=analyzer) if callable(analyzer) else CountVectorizer()
    tf = sp.csr_matrix(cv.fit_transform(docs), dtype=np.float64)
    n = tf.shape[0]
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
    dl = np.asarray(tf.sum(axis=1)).ravel()
    norm = k1 * (1.0 - b + b * dl / dl.mean())
    rows = np.repeat(np.arange(n), np.diff(tf.indptr))
    w = tf.copy()
    w.data = idf[tf.indices] * tf.data * (k1 + 1.0) / (tf.data + norm[rows])
    q = cv.transform(list(queries))
    return np.asarray((q @ w.T).toarray())


def bm25_words(entries: Sequence[CatalogEntry], queries: Sequence[str]) -> np.ndarray:
    return _bm25([entry_text(e) for e in entries], queries, None)


def bm25_bigrams(entries: Sequence[CatalogEntry], queries: Sequence[str]) -> np.ndarray:
    return _bm25([entry_text(e) for e in entries], queries, analyze_words)


METHODS: dict[str, Callable[[Sequence[CatalogEntry], Sequence[str]], np.ndarray]] = {
    "ours (char+word TF-IDF, +name, +title expansion)": ours,
    "ours, without title emphasis and expansion": ours_plain,
    "ours, text only": ours_text_only,
    "word TF-IDF": word_tfidf,
    "BM25 (words)": bm25_words,
    "BM25 (CJK bigrams+words)": bm25_bigrams,
}


def metrics(scores: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    own = scores[np.arange(len(gold)), gold]
    # Pessimistic ties: an entry scoring the same as the correct one ranks ahead of it.
    rank = (scores >= own[:, None]).sum(axis=1)
    return {"hit@1": float(np.mean(rank <= 1)), "hit@5": float(np.mean(rank <= 5)), "mrr": float(np.mean(1.0 / rank))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-queries", type=int, default=2000)
    args = ap.parse_args(argv)
    tasks = [subsample(dadian_tasks(), args.max_queries), subsample(dadian_titles(), args.max_queries),
             subsample(onet_tasks(), args.max_queries), esco_titles(args.max_queries)]
    print("| task | entries | queries | method | hit@1 | hit@5 | MRR | s |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for task in tasks:
        for name, method in METHODS.items():
            t = time.perf_counter()
            m = metrics(method(task.entries, task.queries), task.gold)
            dt = time.perf_counter() - t
            print(f"| {task.name} | {len(task.entries)} | {len(task.queries)} | {name} | {m['hit@1']:.3f} | "
                  f"{m['hit@5']:.3f} | {m['mrr']:.3f} | {dt:.1f} |", flush=True)
    print()
    return job_titles.main([])


if __name__ == "__main__":
    sys.exit(main())
