"""Does the embedding model help job titles?  Fit its weight on the dev halves, report dev and test.

    .venv/bin/python -m benchmarks.scoring.semantic_titles      # needs `make embeddings`

The job-title sets of ``job_titles.py`` (Chinese titles → 大典 细类, English titles → O*NET), each
title ranked as ``chanjiao rank`` ranks a NEEDS row with only a title, lexical terms as shipped.
The semantic weight is fitted on ``dev`` (v1 + v2) by ``FieldWeights`` over ``GRID`` and then
evaluated on ``test`` (v2), which was not looked at.  all-MiniLM-L6-v2 is an English model: the
Chinese figure decides whether Chinese needs get a semantic term at all (``CJK_SEMANTIC_WEIGHT``).
"""

from __future__ import annotations

import sys

from app.data import job_title_expander
from app.embeddings import semantic_index
from benchmarks.scoring.job_titles import dadian_catalogue, load_queries, onet_catalogue
from matching.scoring import CatalogIndex, Unscorable
from matching.scoring.fields import FieldSample, FieldWeights
from matching.scoring.semantic import semantic_text

GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7)


def main() -> int:
    print("| task | split | queries | lexical hit@1 / hit@5 / MRR | semantic weight (fitted on dev) "
          "| fused hit@1 / hit@5 / MRR | embeddings alone hit@1 / hit@5 |")
    print("|---|---|---:|---|---:|---|---|")
    for name, entries, file in (("title → 大典 (zh)", dadian_catalogue(), "job_titles_zh.csv"),
                                ("title → O*NET (en)", onet_catalogue(), "job_titles_en.csv")):
        index = CatalogIndex.build(entries, expander=job_title_expander())
        sem = semantic_index(index)
        queries = load_queries(file)
        parts = {"dev": [q for q in queries if q.split == "dev"], "test": [q for q in queries if q.split == "test"]}
        data = {}
        for part, qs in parts.items():
            block = sem.similarities([semantic_text(q.title) for q in qs])
            xs, ys = [], []
            for k, q in enumerate(qs):
                sims = index.similarities(q.title)
                if isinstance(sims, Unscorable):
                    continue
                xs.append(FieldSample(sims, block[k]))
                ys.append(q.codes)
            data[part] = (xs, ys)
        grid = {"semantic_weight": GRID}
        fitted = FieldWeights(index, grid=grid).fit(*data["dev"])
        for part in ("dev", "test"):
            lex = FieldWeights(index, semantic_weight=0.0).metrics(*data[part])
            fus = fitted.metrics(*data[part])
            alone = FieldWeights(index, semantic_weight=0.999999).metrics(*data[part])
            print(f"| {name} | {part} | {len(data[part][0])} | {lex['hit@1']:.3f} / {lex['hit@5']:.3f} / "
                  f"{lex['mrr']:.3f} | {fitted.semantic_weight:g} | {fus['hit@1']:.3f} / {fus['hit@5']:.3f} / "
                  f"{fus['mrr']:.3f} | {alone['hit@1']:.3f} / {alone['hit@5']:.3f} |", flush=True)
        print("    dev MRR by weight: " + ", ".join(f"{p['semantic_weight']:g}: {m['mrr']:.3f}"
                                                   for p, m in fitted.results_), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
