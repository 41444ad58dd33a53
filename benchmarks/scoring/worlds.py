"""Reference data loaders and a synthetic national-scale instance built from real texts.

The instance uses real catalogue text (MoE majors, 大典 2022 occupations with definitions and
tasks) so that text similarities have a realistic spread; only places, people and skills are
synthetic.  Everything is seeded.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from matching.domain import CatalogEntry, OpeningProfile, PlacementOutcome, ProgramProfile, StudentProfile
from matching.scoring import CatalogIndex
from matching.scoring.text import has_content

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
if not DATA.exists():  # a checkout outside /work: look beside the repository, then in /work/shared
    DATA = Path("/work/shared/data")


def read_csv(*parts: str) -> list[dict[str, str]]:
    with (DATA.joinpath(*parts)).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def majors() -> list[dict[str, str]]:
    return read_csv("cn_majors_chsi_partial", "majors.csv") + read_csv("cn_majors_chsi_partial", "majors_addendum.csv")


def major_entries() -> list[CatalogEntry]:
    return [
        CatalogEntry(r["major_code"], r["major_name"], category=r["category_code"], subcategory=r["class_code"],
                     level=r["level"])
        for r in majors()
    ]


def occupations() -> list[dict[str, str]]:
    """大典 细类 occupations (level 4) that have a definition."""
    return [r for r in read_csv("cn_csco_2022_occupations", "occupations.csv")
            if r["level"] == "4" and has_content(r["definition"])]


@dataclass
class World:
    programs: dict[str, ProgramProfile]
    openings: list[OpeningProfile]
    students: list[StudentProfile]
    cooperation: dict[tuple[str, str], int]
    outcomes: list[PlacementOutcome]


def national_world(n_students: int = 100_000, n_openings: int = 10_000, n_colleges: int = 400,
                   programs_per_college: int = 5, seed: int = 0) -> World:
    rnd = random.Random(seed)
    occ = occupations()
    maj = [m for m in majors() if m["level"] in ("高职专科", "职业本科")]
    occ_index = CatalogIndex.build([CatalogEntry(o["code"], o["name"], o["definition"]) for o in occ])
    major_index = CatalogIndex.build([CatalogEntry(m["major_code"], m["major_name"]) for m in maj])
    occ_by_code = {o["code"]: o for o in occ}
    provinces = [f"省{p:02d}" for p in range(31)]
    cities = [(p, f"{p}市{c:02d}") for p in provinces for c in range(10)]
    skills = [f"技能{i:03d}" for i in range(250)] + ["Linux", "Python", "Java", "SQL", "Excel", "CAD", "PLC", "Docker"]

    colleges = [(f"c{i}", *rnd.choice(cities)) for i in range(n_colleges)]
    programs: dict[str, ProgramProfile] = {}
    for cid, prov, city in colleges:
        for m in rnd.sample(maj, programs_per_college):
            related = occ_index.rank(m["major_name"], 2)
            text = " ".join(occ_by_code[r.code]["definition"] for r in related) if isinstance(related, list) else ""
            pid = f"{cid}-{m['major_code']}"
            programs[pid] = ProgramProfile(
                id=pid, college_id=cid, major_code=m["major_code"], major_name=m["major_name"],
                category_code=m["category_code"], class_code=m["class_code"], level=m["level"],
                description=f"{m['class_name']} {m['category_name']} {text}",
                skills=tuple(rnd.sample(skills, 3)), province=prov, city=city,
            )
    openings = []
    target_cache: dict[str, tuple[str, ...]] = {}
    for j in range(n_openings):
        o = rnd.choice(occ)
        prov, city = rnd.choice(cities)
        if o["code"] not in target_cache:
            ranked = major_index.rank(o["name"] + " " + o["definition"], 3)
            target_cache[o["code"]] = tuple(r.code for r in ranked) if isinstance(ranked, list) else ()
        openings.append(OpeningProfile(
            id=f"o{j}", enterprise_id=f"e{rnd.randrange(3000)}", title=o["name"] + "实习生",
            description=o["definition"], required_skills=tuple(rnd.sample(skills, rnd.randint(1, 4))),
            occupation_code=o["code"], occupation_text=o["tasks"][:300],
            eligible_levels=rnd.choice([(), ("高职专科",), ("高职专科", "职业本科")]),
            eligible_major_codes=target_cache[o["code"]][: rnd.randint(0, 3)],
            province=prov, city=city, seats=rnd.randint(1, 5),
        ))
    prog_list = list(programs.values())
    students = []
    for i in range(n_students):
        p = rnd.choice(prog_list)
        moved = rnd.random() < 0.1
        prov, city = rnd.choice(cities) if moved else ("", "")
        prefs = {f"o{rnd.randrange(n_openings)}": r + 1 for r in range(rnd.randint(0, 3))}
        students.append(StudentProfile(
            id=f"s{i}", program_id=p.id, college_id=p.college_id, skills=tuple(rnd.sample(skills, 5)),
            grade=round(rnd.uniform(55, 98), 1), province=prov, city=city, preferences=prefs,
        ))
    cooperation = {(f"e{rnd.randrange(3000)}", f"c{rnd.randrange(n_colleges)}"): rnd.randint(1, 30)
                   for _ in range(5000)}
    outcomes = [PlacementOutcome(f"s{rnd.randrange(n_students)}", f"o{rnd.randrange(n_openings)}",
                                 completed=rnd.random() < 0.8, rating=rnd.randint(1, 5)) for _ in range(20_000)]
    return World(programs, openings, students, cooperation, outcomes)
