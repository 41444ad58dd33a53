"""A seeded multi-province scope in a database, whose provinces are independent parts of a run.

Each province trains majors of one 专业大类 of its own and its enterprises' openings target those
majors only, so no candidate pair, enterprise or college crosses a province: a run splits into one
part per province (what the executors distribute).  Built with the real catalogue, as
``benchmarks.runs.scale`` does, but small enough for a test.
"""

from __future__ import annotations

import random

from sqlalchemy import insert, select

from app.db.engine import make_engine, make_session_factory
from app.db.models import College, Enterprise, Major, Opening, Program, Student, StudentPreference
from app.services.catalog import load_catalog
from app.services.demo_data import INDUSTRIES, MAJORS, SURNAMES

TERM = "2027-spring"
# Province → (capital, 专业大类 code of its colleges' majors); four categories with ≥ 2 majors each.
PROVINCES = {"贵州": ("贵阳", "51"), "辽宁": ("沈阳", "46"), "四川": ("成都", "53"), "广东": ("广州", "54")}


def provincial_scope(url: str, students_per_province: int, openings_per_province: int, seed: int = 11) -> None:
    """Fill the (migrated) database at ``url`` with one term's colleges, students and openings."""
    rng = random.Random(seed)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        load_catalog(session)
        majors = {(m.code, m.level.value): m.id for m in session.scalars(select(Major))}
    rows: dict[type, list[dict[str, object]]] = {model: [] for model in (College, Program, Enterprise, Opening,
                                                                         Student, StudentPreference)}
    for p, (province, (city, category)) in enumerate(PROVINCES.items()):
        profiles = [m for m in MAJORS if m.level == "高职专科" and m.code.startswith(category)]
        programs = []
        for c in range(2):
            college_id = len(rows[College]) + 1
            rows[College].append({"id": college_id, "name": f"{province}第{c + 1}职业技术学院", "province": province,
                                  "city": city, "level": "高职专科"})
            for profile in profiles:
                program = {"id": len(rows[Program]) + 1, "college_id": college_id,
                           "major_id": majors[(profile.code, profile.level)], "name": profile.code,
                           "description": profile.description, "core_courses": list(profile.courses),
                           "skills": list(profile.skills), "cohort_size": 100, "term": TERM}
                rows[Program].append(program)
                programs.append((program, profile))
        openings = []
        for e in range(max(2, openings_per_province // 8)):
            industry = INDUSTRIES[(p * 3 + e) % len(INDUSTRIES)]
            enterprise_id = len(rows[Enterprise]) + 1
            rows[Enterprise].append({"id": enterprise_id, "name": f"{province}{industry.key}{e + 1}有限公司",
                                     "industry": industry.industry, "province": province, "city": city,
                                     "staff_count": rng.randint(300, 3000)})
            for _ in range(8):
                template = rng.choice(industry.openings)
                opening_id = len(rows[Opening]) + 1
                rows[Opening].append({
                    "id": opening_id, "enterprise_id": enterprise_id, "title": template.title,
                    "description": template.work, "required_skills": list(template.skills),
                    "occupation_code": template.occupation_code, "seats": rng.randint(1, 10), "province": province,
                    "city": city, "term": TERM, "eligible_levels": [],
                    # Only this province's majors: the province is a part of its own.
                    "eligible_major_codes": [rng.choice(profiles).code], "version": 1})
                openings.append(opening_id)
        for s in range(students_per_province):
            program, profile = programs[s % len(programs)]
            student_id = len(rows[Student]) + 1
            rows[Student].append({
                "id": student_id, "program_id": program["id"], "student_no": f"S{student_id:07d}",
                "name": rng.choice(SURNAMES) + "同学", "certificates": [],
                "skills": rng.sample(profile.skills, k=min(len(profile.skills), rng.randint(1, 4))),
                "grade": round(rng.uniform(55, 98), 1), "province": province, "city": city})
            for rank, opening in enumerate(rng.sample(openings, 3), start=1):
                rows[StudentPreference].append({"student_id": student_id, "opening_id": opening, "rank": rank})
    with sessions.begin() as session:
        for model, batch in rows.items():
            session.execute(insert(model), batch)
    engine.dispose()
