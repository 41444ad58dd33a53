"""Long needs against programmes: O*NET occupations → programme-like entries of our own making.

    .venv/bin/python -m benchmarks.scoring.programmes [--split dev|test|all] [--fit] [--embeddings]
    .venv/bin/python -m benchmarks.scoring.programmes --write DIR   # CSVs for `chanjiao rank`
    .venv/bin/python -m benchmarks.scoring.programmes --score RANKED.csv   # score its output

The task of issue 14's hidden programmes set (rank education programmes for an occupation given
by title, description and technology skills), rebuilt from data we may use, so that field weights
can be fitted and measured without touching that set.  Everything is generated here from O*NET
29.3 (``../shared/data/us_onet_29_3``, CC BY 4.0; see that README), deterministically; nothing is
stored.  Provenance and construction:

- **Needs**: the 923 O*NET occupations that have both task statements and technology skills;
  a need is the occupation's title, description and technology-skill examples (every distinct
  ``example`` of ``technology_skills.csv``, in file order), as a ``chanjiao rank`` NEEDS row.
- **Programmes** (two per such occupation, 1,846 in all, written by this module's rules, not
  copied from any programme catalogue): a *certificate* named "Certificate in <field>"
  described by the occupation's odd-numbered core tasks ("Prepares individuals to …"), and a
  *degree* named "<field>" described by its even-numbered core tasks and its five most important
  O*NET knowledge areas ("Includes instruction in …").  ``<field>`` is the occupation title
  turned into a field of study by a small word rule (``FIELD_WORDS``: Nurses → Nursing,
  Technicians → Technology, …; "…, Except X" and "All Other" dropped).  The occupation's own
  description never enters a programme, so a need and its programmes share a topic, not a text.
  Each programme's ``subcategory`` is the occupation's SOC broad group (``15-125``), the
  hierarchy the back-off uses.
- **Gold**: the programmes made from any O*NET occupation with the same SOC 2018 code as the
  need (``15-1252.00`` and ``15-1252.01`` share theirs); usually 2, up to 8.
- **Split, made before anything was fitted**: CRC-32 of the SOC 2018 code, even → ``dev``, odd →
  ``test`` (occupations sharing a SOC code fall on the same side).  Weights are fitted on ``dev``
  only; ``test`` is evaluated after fitting.

Metrics: hit@5 and MRR@10 (rank beyond 10 counts 0), as the issue reports them.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import zlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.scoring.worlds import read_csv
from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex, Unscorable
from matching.scoring.catalog import SKILLS_WEIGHT, SkillWeights, skill_specificity
from matching.scoring.fields import DEFAULT_GRID, PARAMS, FieldSample, FieldWeights
from matching.scoring.semantic import semantic_text

if TYPE_CHECKING:
    from matching.scoring.semantic import SemanticIndex as Embedder

Labelled = tuple[list[FieldSample], list[frozenset[str]]]
SEMANTIC_GRID = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8)

DEPTH = 10
TASKS = 1  # core tasks per programme: with four, the set was saturated (hit@5 0.998 on dev)

# Agent nouns of occupation titles → the field of study that prepares for them.
FIELD_WORDS = {
    "managers": "Management", "manager": "Management", "technicians": "Technology", "technologists": "Technology",
    "engineers": "Engineering", "nurses": "Nursing", "assistants": "Assisting", "operators": "Operation",
    "teachers": "Teaching", "scientists": "Science", "analysts": "Analysis", "designers": "Design",
    "developers": "Development", "clerks": "Clerical Studies", "drivers": "Driving", "installers": "Installation",
    "repairers": "Repair", "inspectors": "Inspection", "supervisors": "Supervision", "therapists": "Therapy",
    "counselors": "Counseling", "programmers": "Programming", "administrators": "Administration",
    "mechanics": "Mechanics", "specialists": "Studies", "workers": "Work", "officers": "Service",
    "agents": "Services", "representatives": "Services", "aides": "Aide Training", "helpers": "Helper Training",
    "attendants": "Services", "laborers": "Labor", "instructors": "Instruction", "educators": "Education",
    "architects": "Architecture", "accountants": "Accounting", "auditors": "Auditing", "economists": "Economics",
    "physicians": "Medicine", "surgeons": "Surgery", "pharmacists": "Pharmacy", "chemists": "Chemistry",
    "physicists": "Physics", "biologists": "Biology", "psychologists": "Psychology", "lawyers": "Law",
    "electricians": "Electrical Trades", "plumbers": "Plumbing", "carpenters": "Carpentry", "chefs": "Culinary Arts",
    "cooks": "Cooking", "editors": "Editing", "writers": "Writing", "photographers": "Photography",
    "pilots": "Piloting", "dispatchers": "Dispatching", "coordinators": "Coordination", "planners": "Planning",
    "examiners": "Examination", "investigators": "Investigation", "machinists": "Machining",
    "welders": "Welding", "painters": "Painting", "cashiers": "Cashiering", "tellers": "Banking Services",
}
_EXCEPT = re.compile(r",?\s+except\b.*$|,?\s+all other\b.*$", re.IGNORECASE)


def field_name(title: str) -> str:
    """An occupation title as a field of study (our rule): Registered Nurses → Registered Nursing."""
    words = _EXCEPT.sub("", title).replace(",", " ").split()
    out: list[str] = []
    for w in words:
        key = w.lower()
        if key in FIELD_WORDS:
            out.append(FIELD_WORDS[key])
        elif key.endswith("ers") and len(key) > 5:
            out.append(w[:-3] + "ing")
        elif key.endswith("s") and not key.endswith("ss") and len(key) > 3:
            out.append(w[:-1])
        else:
            out.append(w)
    return " ".join(dict.fromkeys(out))


@dataclass(frozen=True)
class NeedRow:
    id: str
    title: str
    description: str
    skills: tuple[str, ...]
    gold: frozenset[str]
    split: str


def split_of(soc: str) -> str:
    return "dev" if zlib.crc32(soc.encode()) % 2 == 0 else "test"


def build() -> tuple[list[CatalogEntry], list[NeedRow]]:
    """(programmes, needs with their gold programme codes and split)."""
    occ = read_csv("us_onet_29_3", "occupations.csv")
    tasks: dict[str, list[str]] = defaultdict(list)
    for t in read_csv("us_onet_29_3", "task_statements.csv"):
        if t["task_type"] == "Core" or not tasks.get(t["onet_soc_code"]):
            tasks[t["onet_soc_code"]].append(t["task"].strip())
    skills: dict[str, list[str]] = defaultdict(list)
    for t in read_csv("us_onet_29_3", "technology_skills.csv"):
        if t["example"] not in skills[t["onet_soc_code"]]:
            skills[t["onet_soc_code"]].append(t["example"])
    knowledge: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for k in read_csv("us_onet_29_3", "knowledge.csv"):
        knowledge[k["onet_soc_code"]].append((float(k["importance_1to5"] or 0), k["element_name"]))
    kept = [o for o in occ if tasks.get(o["onet_soc_code"]) and skills.get(o["onet_soc_code"])]
    entries: list[CatalogEntry] = []
    gold: dict[str, list[str]] = defaultdict(list)  # SOC 2018 code → its programmes
    members: dict[str, list[dict[str, str]]] = defaultdict(list)  # SOC broad group → occupations
    for o in kept:
        members[o["soc_2018_code"][:6]].append(o)
    for broad, occs in sorted(members.items()):
        # A degree per SOC broad group: named after its first occupation's field, one task of each
        # member (up to four), the group's five most important knowledge areas.
        first = min(occs, key=lambda o: o["onet_soc_code"])
        weight: dict[str, float] = defaultdict(float)
        for o in occs:
            for imp, name in knowledge.get(o["onet_soc_code"], []):
                weight[name] += imp
        top = sorted(weight, key=lambda k: (-weight[k], k))[:5]
        text = " ".join(_lower_first(tasks[o["onet_soc_code"]][0]) for o in occs[:4])
        if top:
            text += " Includes instruction in " + ", ".join(t.lower() for t in top) + "."
        degree = CatalogEntry(f"D{broad}", field_name(first["title"]),
                              "A program that prepares individuals to " + text, subcategory=broad[:4])
        entries.append(degree)
        for o in occs:
            # A certificate per occupation: the head of its field as the name (programme names
            # rarely repeat a title in full), one other core task as its description.
            code, ts = o["onet_soc_code"], tasks[o["onet_soc_code"]]
            head = field_name(o["title"]).split()
            name = " ".join(head[-2:]) if len(head) > 1 else head[0]
            cert = CatalogEntry(f"C{code}", f"Certificate in {name}",
                                "Prepares individuals to " + _lower_first(ts[1] if len(ts) > 1 else ts[0]),
                                subcategory=broad)
            entries.append(cert)
            gold[o["soc_2018_code"]].append(cert.code)
        for o in occs:
            gold[o["soc_2018_code"]].append(degree.code)
    needs = [
        NeedRow(o["onet_soc_code"], o["title"], o["description"], tuple(skills[o["onet_soc_code"]]),
                frozenset(gold[o["soc_2018_code"]]), split_of(o["soc_2018_code"]))
        for o in kept
    ]
    return entries, needs


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def write(directory: Path) -> None:
    """programmes.csv and needs_{dev,test,all}.csv in ``chanjiao rank``'s formats, gold.csv beside them."""
    entries, needs = build()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "programmes.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("code", "name", "description", "group"))
        w.writerows((e.code, e.name, e.description, e.subcategory) for e in entries)
    for part in ("dev", "test", "all"):
        with (directory / f"needs_{part}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(("id", "title", "description", "skills"))
            w.writerows((n.id, n.title, n.description, "; ".join(n.skills)) for n in needs
                        if part in ("all", n.split))
    with (directory / "gold.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("need_id", "codes", "split"))
        w.writerows((n.id, "|".join(sorted(n.gold)), n.split) for n in needs)


def metrics(ranked: dict[str, list[str]], needs: list[NeedRow]) -> dict[str, float]:
    """hit@5 and MRR@10 of ranked codes per need id."""
    h5 = rr = 0.0
    for n in needs:
        codes = ranked.get(n.id, [])[:DEPTH]
        pos = next((i for i, c in enumerate(codes, start=1) if c in n.gold), 0)
        h5 += 0 < pos <= 5
        rr += 1.0 / pos if pos else 0.0
    k = max(1, len(needs))
    return {"hit@5": h5 / k, "mrr@10": rr / k}


def samples(
    index: CatalogIndex, needs: list[NeedRow], embed: Embedder | None = None, features: bool = True
) -> list[FieldSample]:
    """Weight-free similarities of each need (skills specificity over these needs, as `chanjiao rank`).

    ``features``: weigh the skills field's features by their document frequency over the needs
    too (``CatalogIndex.skill_weights``), not only whole skills.
    """
    lists = [n.skills for n in needs]
    spec: Mapping[str, float] | SkillWeights = index.skill_weights(lists) if features else skill_specificity(lists)
    semantic = None
    if embed is not None:
        semantic = embed.similarities([semantic_text(n.title, n.description, n.skills) for n in needs])
    out: list[FieldSample] = []
    for k, n in enumerate(needs):
        sims = index.similarities(n.title, n.description, n.skills, spec, n.id)
        assert not isinstance(sims, Unscorable), n.id
        out.append(FieldSample(sims, None if semantic is None else semantic[k]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", type=Path, help="write the CSVs for chanjiao rank into this folder and stop")
    ap.add_argument("--embeddings", action="store_true", help="also fit and measure the semantic term")
    ap.add_argument("--score", type=Path, help="hit@5 and MRR@10 of a `chanjiao rank` output on the dev and test needs")
    args = ap.parse_args(argv)
    if args.write:
        write(args.write)
        return 0
    if args.score:
        _, all_needs = build()
        ranked: dict[str, list[str]] = defaultdict(list)
        with args.score.open(encoding="utf-8", newline="") as fh:
            for r in sorted(csv.DictReader(fh), key=lambda r: (r["need_id"], int(r["rank"]))):
                ranked[r["need_id"]].append(r["code"])
        for part in ("dev", "test"):
            ns = [n for n in all_needs if n.split == part and n.id in ranked]
            m = metrics(ranked, ns)
            print(f"{args.score}: {part} ({len(ns)} needs): hit@5 {m['hit@5']:.3f}, MRR@10 {m['mrr@10']:.3f}")
        return 0
    from app.data import job_title_expander

    entries, needs = build()
    # Skills similarities are only computed when their weight is above 0: build with it on.
    index = CatalogIndex.build(entries, expander=job_title_expander(), skills_weight=max(SKILLS_WEIGHT, 0.1))
    embed = None
    if args.embeddings:
        from app.embeddings import semantic_index

        embed = semantic_index(index)
    parts = {p: [n for n in needs if n.split == p] for p in ("dev", "test")}
    data = {p: (samples(index, ns, embed), [n.gold for n in ns]) for p, ns in parts.items()}
    by_name = {p: (samples(index, ns, None, features=False), [n.gold for n in ns]) for p, ns in parts.items()}
    print(f"programmes: {len(entries)}; needs: dev {len(parts['dev'])}, test {len(parts['test'])}")
    print("| method | weights | dev hit@5 | dev MRR@10 | dev non-IT needs with a computing programme in the top 3 "
          "| test hit@5 | test MRR@10 |")
    print("|---|---|---:|---:|---:|---:|---:|")

    computing = np.array([e.subcategory.startswith("15-12") or e.subcategory == "15-12" for e in index.entries])
    non_it = {p: [k for k, n in enumerate(ns) if not n.id.startswith("15-12")] for p, ns in parts.items()}

    def it_top3(est: FieldWeights, xs: list[FieldSample], which: list[int]) -> float:
        idx = est.fitted_index()
        hit = sum(bool(computing[np.argsort(-est.scores(xs[k], idx), kind="stable")[:3]].any()) for k in which)
        return hit / max(1, len(which))

    def row(name: str, est: FieldWeights, use: dict[str, Labelled] = data) -> None:
        d, t = est.metrics(*use["dev"]), est.metrics(*use["test"])
        it = it_top3(est, use["dev"][0], non_it["dev"])
        w = ", ".join(f"{k.removesuffix('_weight')} {getattr(est, k):g}" for k in PARAMS)
        print(f"| {name} | {w} | {d['hit@5']:.3f} | {d['mrr']:.3f} | {it:.3f} | {t['hit@5']:.3f} | {t['mrr']:.3f} |",
              flush=True)

    before = {"name_weight": 0.3, "skills_weight": 0.1, "backoff_weight": 0.0}
    row("before (skills specific by name only)", FieldWeights(index, **before), by_name)
    row("title and description only", FieldWeights(index, skills_weight=0.0))
    row("before, skills features specific too", FieldWeights(index, **before))
    row("defaults now", FieldWeights(index))
    row("skills weight 0.3, by name only", FieldWeights(index, skills_weight=0.3), by_name)
    row("skills weight 0.3, features specific too", FieldWeights(index, skills_weight=0.3))
    row("fitted on dev, skills by name only", FieldWeights(index).fit(*by_name["dev"]), by_name)
    lexical = FieldWeights(index).fit(*data["dev"])
    row("fitted on dev, lexical", lexical)
    if embed is not None:
        grid = dict(DEFAULT_GRID)
        grid["semantic_weight"] = SEMANTIC_GRID
        fused = FieldWeights(index, grid=grid).fit(*data["dev"])
        row("fitted on dev, with embeddings", fused)
        only = FieldWeights(index, name_weight=0.0, skills_weight=0.0, backoff_weight=0.0, semantic_weight=0.999999)
        row("embeddings alone (almost)", only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
