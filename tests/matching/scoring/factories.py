"""Small hand-built profiles for the scoring tests (no files, no database)."""

from __future__ import annotations

import random

from matching.domain import CatalogEntry, OpeningProfile, ProgramProfile, StudentProfile

MAJORS = [
    CatalogEntry("510206", "云计算技术应用", category="51", subcategory="5102", level="高职专科"),
    CatalogEntry("510102", "物联网应用技术", category="51", subcategory="5101", level="高职专科"),
    CatalogEntry("510205", "大数据技术", category="51", subcategory="5102", level="高职专科"),
    CatalogEntry("510201", "计算机应用技术", category="51", subcategory="5102", level="高职专科"),
    CatalogEntry("520201", "护理", category="52", subcategory="5202", level="高职专科"),
    CatalogEntry("530302", "大数据与会计", category="53", subcategory="5303", level="高职专科"),
    CatalogEntry("460104", "机械设计与制造", category="46", subcategory="4601", level="高职专科"),
]

CLOUD_OPS = "云计算运维工程师：负责云平台的部署、监控与故障处理，熟悉 Linux、Docker、Kubernetes"


def program(pid: str = "p1", major: str = "510206", **kw: object) -> ProgramProfile:
    names = {e.code: e.name for e in MAJORS}
    base: dict[str, object] = {
        "id": pid,
        "college_id": "c1",
        "major_code": major,
        "major_name": names.get(major, major),
        "category_code": major[:2],
        "class_code": major[:4],
        "level": "高职专科",
        "description": "培养云平台部署、运维与开发的技术技能人才",
        "core_courses": ("Linux操作系统", "云计算平台运维", "容器技术"),
        "skills": ("Linux", "Docker"),
        "province": "浙江",
        "city": "杭州",
    }
    base.update(kw)
    return ProgramProfile(**base)  # type: ignore[arg-type]


def opening(oid: str = "o1", **kw: object) -> OpeningProfile:
    base: dict[str, object] = {
        "id": oid,
        "enterprise_id": "e1",
        "title": "云计算运维实习生",
        "description": "负责云平台部署与监控，参与故障处理",
        "required_skills": ("Linux", "Docker", "Kubernetes"),
        "occupation_code": "4-04-05-01",
        "eligible_levels": ("高职专科",),
        "eligible_major_codes": ("510206",),
        "province": "浙江",
        "city": "杭州",
        "seats": 3,
    }
    base.update(kw)
    return OpeningProfile(**base)  # type: ignore[arg-type]


def student(sid: str = "s1", program_id: str = "p1", **kw: object) -> StudentProfile:
    base: dict[str, object] = {
        "id": sid,
        "program_id": program_id,
        "college_id": "c1",
        "skills": ("Linux", "Python"),
        "grade": 85.0,
    }
    base.update(kw)
    return StudentProfile(**base)  # type: ignore[arg-type]


CITIES = [("浙江", "杭州"), ("浙江", "宁波"), ("江苏", "南京"), ("江苏", "苏州"), ("广东", "深圳")]
SKILLS = ["Linux", "Docker", "Python", "Java", "SQL", "Kubernetes", "护理", "会计", "CAD", "PLC"]
TEXTS = [
    ("510206", "云计算运维", "部署云平台 监控 故障处理 容器", "4-04-05-01"),
    ("510102", "物联网设备调试", "传感器 嵌入式 设备联网 调试", "6-25-04-08"),
    ("510205", "大数据分析", "Hadoop Spark 数据清洗 分析报表", "4-04-05-02"),
    ("520201", "病房护理", "病人护理 护理记录 医嘱执行", "2-05-08-01"),
    ("530302", "财务会计", "记账 报税 财务报表 Excel", "2-06-03-01"),
    ("460104", "机械制图", "CAD 制图 数控加工 工艺", "6-18-01-01"),
]


def random_world(
    seed: int, n_programs: int = 6, n_openings: int = 30, n_students: int = 40
) -> tuple[list[ProgramProfile], list[OpeningProfile], list[StudentProfile]]:
    """A small random but fully featured instance (cities, skills, targets, levels, preferences)."""
    rnd = random.Random(seed)
    progs = []
    for i in range(n_programs):
        code, _, desc, _ = TEXTS[i % len(TEXTS)]
        prov, city = rnd.choice(CITIES)
        progs.append(
            program(
                f"p{i}",
                code,
                college_id=f"c{i % 3}",
                province=prov,
                city=city,
                description=desc,
                skills=tuple(rnd.sample(SKILLS, 2)),
                level=rnd.choice(["高职专科", "职业本科"]),
            )
        )
    opens = []
    for j in range(n_openings):
        code, title, desc, occ = rnd.choice(TEXTS)
        prov, city = rnd.choice(CITIES)
        opens.append(
            opening(
                f"o{j}",
                enterprise_id=f"e{j % 7}",
                title=title,
                description=desc,
                required_skills=tuple(rnd.sample(SKILLS, rnd.randint(0, 3))),
                occupation_code=occ,
                eligible_levels=tuple(rnd.sample(["高职专科", "职业本科"], rnd.randint(0, 2))),
                eligible_major_codes=(code,) if rnd.random() < 0.6 else (),
                province=prov,
                city=city,
            )
        )
    studs = []
    for k in range(n_students):
        p = rnd.choice(progs)
        prov, city = rnd.choice(CITIES) if rnd.random() < 0.3 else ("", "")
        prefs = {f"o{j}": r + 1 for r, j in enumerate(rnd.sample(range(n_openings), rnd.randint(0, 3)))}
        studs.append(
            student(
                f"s{k}",
                p.id,
                college_id=p.college_id,
                province=prov,
                city=city,
                skills=tuple(rnd.sample(SKILLS, rnd.randint(1, 4))),
                grade=rnd.choice([None, 60.0, 75.0, 92.0]),
                preferences=prefs,
            )
        )
    return progs, opens, studs
