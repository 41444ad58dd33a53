"""The demo data set: two provinces of colleges, enterprises, students, lecturers and history.

Deterministic: every random choice comes from one ``random.Random(seed)`` and one
``numpy.random.Generator`` seeded with the same number, consumed in a fixed order, so the same
seed on an empty database produces the same rows (:func:`content_digest` proves it in tests).

The history of past internships is the part later work learns from.  Its outcomes (completed,
rating) come from a *hidden* fit that the scoring priors only partly see: the catalogue relation
(same 专业类 as the people who usually do the occupation), the share of required skills the
student has, grade (which matters more for digital occupations), distance, an interaction of
major and skills, and a per-enterprise mentoring quality that only the outcomes reveal — plus
noise.  A model trained on the history should therefore beat fixed priors, but not perfectly.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.db.models import (
    Actor,
    Alliance,
    AllianceMember,
    College,
    CourseNeed,
    EducationLevel,
    Enterprise,
    Lecturer,
    Major,
    Occupation,
    Opening,
    Partnership,
    PartnershipForm,
    PartnershipProgram,
    PartnershipStatus,
    PartnershipTerm,
    Placement,
    PlacementStatus,
    Program,
    Role,
    RunKind,
    Student,
    StudentPreference,
)
from app.repositories.demo import DemoRepository
from app.repositories.reference import ReferenceRepository
from app.services import demo_data as data
from app.services.catalog import load_catalog
from app.services.ledger import Ledger

DEFAULT_SEED = 2027
DEMO_ACTOR_PREFIX = "演示·"
SLOTS = tuple(f"{day}{period}" for day in ("mon", "tue", "wed", "thu", "fri") for period in range(1, 5))

_PERIODS = {
    data.TERM: (date(2027, 3, 1), date(2027, 6, 30)),
    "2025-fall": (date(2025, 9, 8), date(2025, 12, 26)),
    "2026-spring": (date(2026, 3, 2), date(2026, 6, 26)),
}
_PERKS = ("提供实习补贴和员工宿舍", "提供餐补与交通补贴", "表现优秀者可签订就业协议", "配备一对一企业导师",
          "提供岗前培训和工作餐")
_GENERAL_COURSE = ("职业素养与劳动教育", ("职业素养", "安全生产", "劳动教育"))


class DemoAlreadySeeded(RuntimeError):
    """The database already holds colleges: seeding again would mix two data sets."""


class CatalogMissing(RuntimeError):
    """A catalogue entry the demo relies on is not in the database."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    skipped: bool
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Program:
    id: int
    college: data.CollegeSpec
    profile: data.MajorProfile
    major_name: str
    class_name: str
    category_name: str
    number: int  # within its college, for student numbers
    courses: list[tuple[str, tuple[str, ...]]]


@dataclass(slots=True)
class _Enterprise:
    id: int
    name: str
    industry: data.Industry
    province: str
    city: str
    staff: int
    quality: float  # hidden mentoring quality: shows only in outcomes


@dataclass(slots=True)
class _Opening:
    id: int
    enterprise: _Enterprise
    template: data.OpeningTemplate
    province: str
    city: str
    seats: int
    levels: tuple[str, ...]
    major_codes: tuple[str, ...]
    skills: tuple[str, ...]


@dataclass(slots=True)
class _Student:
    id: int
    program: _Program
    skills: frozenset[str]
    grade: float
    province: str
    city: str


def _parse_course(spec: str) -> tuple[str, tuple[str, ...]]:
    name, _, topics = spec.partition("|")
    return name, tuple(t for t in topics.split("/") if t)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def seed_demo(session: Session, seed: int = DEFAULT_SEED, *, if_empty: bool = False) -> DemoSummary:
    """Create the demo data set.  Flushes; the caller commits.

    Raises :class:`DemoAlreadySeeded` when colleges exist, unless ``if_empty`` (then it does
    nothing), so a second ``make run`` never duplicates or mixes data.
    """
    reference = ReferenceRepository(session)
    if reference.count(College) > 0:
        if if_empty:
            return DemoSummary(skipped=True)
        raise DemoAlreadySeeded("the database already has colleges; use --if-empty to skip")
    if reference.count(Major) == 0 or reference.count(Occupation) == 0:
        load_catalog(session)
    return DemoSummary(skipped=False, counts=_DemoBuilder(session, seed).build())


class _DemoBuilder:
    def __init__(self, session: Session, seed: int) -> None:
        self.session = session
        self.reference = ReferenceRepository(session)
        self.repo = DemoRepository(session)
        # Demo content, not secrets: a seedable PRNG is the point (same seed, same rows).
        self.rng = random.Random(seed)  # noqa: S311
        self.np = np.random.default_rng(seed)
        self.counts: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers

    def _add_rows(self, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
        """Bulk-add rows in one executemany; ids come back in parameter order."""
        if not rows:
            return []
        ids = self.reference.insert_returning_ids(model, rows)
        self.counts[model.__tablename__] = self.counts.get(model.__tablename__, 0) + len(rows)
        return ids

    def _name(self) -> str:
        given = "".join(self.rng.choice(data.GIVEN_CHARS) for _ in range(self.rng.choice((1, 2, 2))))
        return self.rng.choice(data.SURNAMES) + given

    def _slots(self, k: int) -> list[str]:
        chosen = set(self.rng.sample(SLOTS, k))
        return [s for s in SLOTS if s in chosen]  # canonical order keeps the rows readable

    def _other_city(self, province: str, city: str) -> str:
        return self.rng.choice([c for c in data.PROVINCES[province] if c != city])

    # ------------------------------------------------------------------ catalogue

    def _catalogue(self) -> None:
        wanted = {(p.code, p.level) for p in data.MAJORS}
        rows = self.repo.majors_by_code({code for code, _ in wanted})
        self.majors = {(r.code, r.level.value): r for r in rows if (r.code, r.level.value) in wanted}
        missing = sorted(wanted - set(self.majors))
        if missing:
            raise CatalogMissing(f"majors missing from the catalogue: {missing}; run `chanjiao catalog load`")
        # 专业类 → 专业大类 names across the whole catalogue, for the hidden "same 大类" relation.
        self.category_of_class = self.repo.category_of_class()
        codes = {t.occupation_code for ind in data.INDUSTRIES for t in ind.openings}
        found = self.repo.digital_occupations(codes)
        if codes - set(found):
            raise CatalogMissing(f"occupations missing from the catalogue: {sorted(codes - set(found))}")
        self.is_digital = found

    # ------------------------------------------------------------------ colleges and programs

    def _colleges_and_programs(self) -> None:
        college_ids = self._add_rows(College, [
            {"name": c.name, "province": c.province, "city": c.city, "level": EducationLevel(c.level)}
            for c in data.COLLEGES
        ])
        self.college_ids = dict(zip([c.name for c in data.COLLEGES], college_ids, strict=True))
        profiles = {(p.code, p.level): p for p in data.MAJORS}
        specs: list[tuple[data.CollegeSpec, data.MajorProfile, int]] = []
        rows: list[dict[str, Any]] = []
        for college in data.COLLEGES:
            for number, key in enumerate(college.majors, start=1):
                profile = profiles[key]
                major = self.majors[key]
                courses = list(profile.courses)
                # Each college keeps five or six of the core courses, in its own order of emphasis.
                kept = self.rng.sample(courses, min(len(courses), self.rng.choice((5, 6))))
                skills = [s for s in profile.skills if self.rng.random() < 0.9] or list(profile.skills)
                rows.append({
                    "college_id": self.college_ids[college.name],
                    "major_id": major.id,
                    "name": major.name,
                    "description": f"{profile.description}本校{college.feature}。",
                    "core_courses": [_parse_course(c)[0] for c in kept],
                    "skills": skills,
                    "cohort_size": self.rng.randint(50, 90),
                    "term": data.TERM,
                })
                specs.append((college, profile, number))
        ids = self._add_rows(Program, rows)
        self.programs: list[_Program] = []
        for pid, row, (college, profile, number) in zip(ids, rows, specs, strict=True):
            major = self.majors[(profile.code, profile.level)]
            parsed = dict(_parse_course(c) for c in profile.courses)
            self.programs.append(_Program(
                id=pid, college=college, profile=profile, major_name=major.name, class_name=major.class_name,
                category_name=major.category_name, number=number,
                courses=[(name, parsed[name]) for name in row["core_courses"]],
            ))
        self.program_rows = rows

    # ------------------------------------------------------------------ enterprises and openings

    def _enterprises(self) -> None:
        industries = {i.key: i for i in data.INDUSTRIES}
        names: set[str] = set()
        rows: list[dict[str, Any]] = []
        meta: list[tuple[data.Industry, str, str, int]] = []
        for province, mix in data.ENTERPRISE_MIX.items():
            cities = data.PROVINCES[province]
            # The capital hosts about a third of the firms, as in both real provinces.
            weights = [3.0] + [1.0] * (len(cities) - 1)
            for key, n in mix.items():
                industry = industries[key]
                for _ in range(n):
                    city = self.rng.choices(cities, weights)[0]
                    while True:
                        brand = "".join(self.rng.sample(data.BRAND_CHARS, 2))
                        name = f"{city}{brand}{self.rng.choice(industry.suffixes)}"
                        if name not in names:
                            break
                    names.add(name)
                    lo, hi = industry.staff
                    staff = int(math.exp(self.rng.uniform(math.log(lo), math.log(hi))))
                    rows.append({"name": name, "industry": industry.industry, "province": province,
                                 "city": city, "staff_count": staff})
                    meta.append((industry, province, city, staff))
        ids = self._add_rows(Enterprise, rows)
        self.enterprises = [
            _Enterprise(id=eid, name=row["name"], industry=ind, province=prov, city=city, staff=staff,
                        quality=self.rng.gauss(0.0, 0.5))
            for eid, row, (ind, prov, city, staff) in zip(ids, rows, meta, strict=True)
        ]

    def _eligible_codes(self, industry: data.Industry) -> tuple[str, ...]:
        return tuple(sorted({p.code for p in data.MAJORS
                             if self.majors[(p.code, p.level)].class_name in industry.classes}))

    def _openings(self, term: str, per_enterprise: tuple[int, int], seats: tuple[int, int]) -> list[_Opening]:
        start, end = _PERIODS[term]
        rows: list[dict[str, Any]] = []
        made: list[_Opening] = []
        for ent in self.enterprises:
            templates = list(ent.industry.openings)
            self.rng.shuffle(templates)
            n = self.rng.randint(*per_enterprise)
            # Interns may not exceed 10 % of staff (职业学校学生实习管理规定): keep offers near that.
            seat_cap = max(1, ent.staff // 15)
            for i in range(n):
                template = templates[i % len(templates)]
                city = ent.city if i < len(templates) else self._other_city(ent.province, ent.city)
                title = template.title if city == ent.city else f"{template.title}（{city}）"
                k = min(len(template.skills), self.rng.randint(3, 5))
                skills = tuple(s for s in template.skills if s in set(self.rng.sample(template.skills, k)))
                roll = self.rng.random()
                levels = ((data.HV, data.VB) if roll < 0.7 else (data.HV,) if roll < 0.9 else (data.VB,))
                codes = self._eligible_codes(ent.industry) if self.rng.random() < 0.25 else ()
                n_seats = min(self.rng.randint(*seats), seat_cap)
                perk = self.rng.choice(_PERKS)
                rows.append({
                    "enterprise_id": ent.id,
                    # The enterprise's own code (岗位编号), so a demo export updates in place when re-imported.
                    "code": f"{term}-{i + 1:02d}",
                    "title": title,
                    "description": f"{ent.name}招收{title}：{template.work}。要求掌握{'、'.join(skills)}。{perk}。",
                    "required_skills": list(skills),
                    "occupation_code": template.occupation_code,
                    "seats": n_seats,
                    "province": ent.province,
                    "city": city,
                    "term": term,
                    "period_start": start,
                    "period_end": end,
                    "eligible_levels": list(levels),
                    "eligible_major_codes": list(codes),
                })
                made.append(_Opening(id=0, enterprise=ent, template=template, province=ent.province, city=city,
                                     seats=n_seats, levels=levels, major_codes=codes, skills=skills))
        for opening, oid in zip(made, self._add_rows(Opening, rows), strict=True):
            opening.id = oid
        return made

    # ------------------------------------------------------------------ students and preferences

    def _students(self) -> None:
        rows: list[dict[str, Any]] = []
        meta: list[tuple[_Program, frozenset[str], float, str, str]] = []
        all_cities = [(p, c) for p, cs in data.PROVINCES.items() for c in cs]
        for prog, prow in zip(self.programs, self.program_rows, strict=True):
            college_no = data.COLLEGES.index(prog.college) + 1
            enrolled = 2023 if prog.profile.level == data.VB else 2024
            for seq in range(1, prow["cohort_size"] + 1):
                k = self.rng.randint(min(4, len(prow["skills"])), min(7, len(prow["skills"])))
                skills = self.rng.sample(prow["skills"], k)
                if self.rng.random() < 0.3:
                    skills.append(self.rng.choice(data.GENERAL_SKILLS))
                certs = [c for c in prog.profile.certificates if self.rng.random() < 0.35]
                grade = round(min(100.0, max(50.0, self.rng.gauss(76.0, 9.0))), 1)
                roll = self.rng.random()
                if roll < 0.65:
                    province, city = prog.college.province, prog.college.city
                elif roll < 0.9:
                    province = prog.college.province
                    city = self._other_city(province, prog.college.city)
                else:
                    province, city = self.rng.choice([pc for pc in all_cities if pc[0] != prog.college.province])
                rows.append({
                    "program_id": prog.id,
                    "student_no": f"{enrolled}{college_no:02d}{prog.number:02d}{seq:03d}",
                    "name": self._name(),
                    "skills": skills,
                    "certificates": certs,
                    "grade": grade,
                    "province": province,
                    "city": city,
                })
                meta.append((prog, frozenset(skills), grade, province, city))
        ids = self._add_rows(Student, rows)
        self.students = [
            _Student(id=sid, program=prog, skills=skills, grade=grade, province=prov, city=city)
            for sid, (prog, skills, grade, prov, city) in zip(ids, meta, strict=True)
        ]

    def _preferences(self) -> None:
        openings = self.openings
        n = len(openings)
        # Some posts are simply more popular (brand, pay): a fixed lognormal draw per opening.
        popularity = self.np.lognormal(0.0, 0.5, size=n)
        base: dict[int, np.ndarray[Any, np.dtype[np.float64]]] = {}
        for prog in self.programs:
            w = np.empty(n)
            for j, o in enumerate(openings):
                fit = 0.15 + 3.0 * (prog.class_name in o.enterprise.industry.classes)
                if prog.profile.level not in o.levels:
                    fit *= 0.05  # a few students still rank posts they cannot take
                if o.major_codes and prog.profile.code not in o.major_codes:
                    fit *= 0.1
                fit *= 2.0 if o.province == prog.college.province else 0.4
                w[j] = fit
            base[prog.id] = w * popularity
        city_of = np.array([o.city for o in openings])
        rows: list[dict[str, Any]] = []
        for s in self.students:
            w = base[s.program.id] * np.where(city_of == s.city, 2.0, 1.0)
            k = int(self.np.integers(3, 9))
            picks = self.np.choice(n, size=k, replace=False, p=w / w.sum())
            rows.extend({"student_id": s.id, "opening_id": openings[int(j)].id, "rank": r}
                        for r, j in enumerate(picks, start=1))
        self.reference.insert_many(StudentPreference, rows)
        self.counts[StudentPreference.__tablename__] = len(rows)

    # ------------------------------------------------------------------ lecturers and course needs

    def _lecturers(self, count: int = 80) -> None:
        topics_by_class: dict[str, set[str]] = {}
        for prog in self.programs:
            for _, course_topics in prog.courses:
                topics_by_class.setdefault(prog.class_name, set()).update(course_topics)
        # Lecturers come from firms whose field is taught somewhere in the demo.
        candidates = [e for e in self.enterprises if any(c in topics_by_class for c in e.industry.classes)]
        rows: list[dict[str, Any]] = []
        for _ in range(count):
            ent = self.rng.choice(candidates)
            pool = sorted(set().union(*(topics_by_class.get(c, set()) for c in ent.industry.classes)))
            topics = self.rng.sample(pool, min(len(pool), self.rng.randint(3, 5)))
            title = self.rng.choice(ent.industry.lecturer_titles)
            years = self.rng.randint(4, 20)
            work = self.rng.choice(ent.industry.openings).work
            cities = {ent.city}
            if self.rng.random() < 0.6:
                cities.add(data.PROVINCES[ent.province][0])
            if self.rng.random() < 0.4:
                cities.add(self._other_city(ent.province, ent.city))
            rows.append({
                "enterprise_id": ent.id,
                "name": self._name(),
                "title": title,
                "expertise": f"{years}年{ent.industry.industry}一线经验，带领团队{work}；擅长{'、'.join(topics)}。",
                "topics": topics,
                "max_weekly_hours": self.rng.randint(2, 8),
                "available_slots": self._slots(self.rng.randint(4, 10)),
                "cities": [c for c in data.PROVINCES[ent.province] if c in cities],
            })
        self._add_rows(Lecturer, rows)

    def _course_needs(self) -> None:
        rows: list[dict[str, Any]] = []
        for prog in self.programs:
            n = self.rng.choice((3, 4))
            chosen = self.rng.sample(prog.courses, min(n, len(prog.courses)))
            needs = [(name, topics, True) for name, topics in chosen]
            if self.rng.random() < 0.1:
                needs[-1] = (*_GENERAL_COURSE, False)
            for name, topics, professional in needs:
                hours = self.rng.randint(2, 4)
                rows.append({
                    "program_id": prog.id,
                    "course_name": name,
                    "topics": list(topics),
                    "weekly_hours": hours,
                    "slots": self._slots(1 if hours == 2 else 2),
                    "term": data.TERM,
                    "is_professional": professional,
                })
        self._add_rows(CourseNeed, rows)

    # ------------------------------------------------------------------ history with outcomes

    def _hidden_fit(self, s: _Student, o: _Opening) -> float:
        classes = o.enterprise.industry.classes
        same_class = s.program.class_name in classes
        same_category = s.program.category_name in {self.category_of_class.get(c) for c in classes}
        overlap = len(s.skills & set(o.skills)) / max(1, len(o.skills))
        grade = (s.grade - 75.0) / 10.0
        digital = self.is_digital[o.template.occupation_code]
        distance = 0 if s.city == o.city else 1 if s.province == o.province else 2
        return (
            0.9
            + 1.2 * same_class
            + (0.5 if same_category and not same_class else 0.0)
            + 1.4 * (overlap - 0.4)
            + 0.8 * same_class * overlap  # the right major *and* the skills: more than the sum
            + (0.7 if digital else 0.25) * grade
            - (0.0, 0.3, 0.9)[distance]
            + o.enterprise.quality
        )

    def _history(self) -> None:
        rows: list[dict[str, Any]] = []
        for term in data.HISTORY_TERMS:
            past = self._openings(term, per_enterprise=(2, 4), seats=(2, 8))
            seats_left = {o.id: o.seats for o in past}
            students = list(self.students)
            self.rng.shuffle(students)
            for s in students[: int(len(students) * 0.5)]:
                # How offices used to place: mostly by province and major, with much chance.
                open_now = [o for o in past if seats_left[o.id] > 0]
                if not open_now:
                    break
                weights = [
                    (3.0 if o.province == s.province else 0.3)
                    * (2.5 if s.program.class_name in o.enterprise.industry.classes else 0.5)
                    * (1.0 if s.program.profile.level in o.levels else 0.05)
                    for o in open_now
                ]
                o = self.rng.choices(open_now, weights)[0]
                seats_left[o.id] -= 1
                z = self._hidden_fit(s, o)
                completed = self.rng.random() < _sigmoid(z)
                rating = 3.0 + 0.8 * z + self.rng.gauss(0.0, 0.8) - (0.0 if completed else 1.5)
                rows.append({
                    "run_id": None,
                    "kind": RunKind.INTERNSHIP,
                    "student_id": s.id,
                    "opening_id": o.id,
                    "term": term,
                    "status": PlacementStatus.COMPLETED,
                    "completed": completed,
                    "rating": int(min(5, max(1, round(rating)))),
                })
        self._add_rows(Placement, rows)
        # Completed placements hold their seats: the ledger's seat counts include them.
        Ledger(self.session, None).recount_seats(sorted({r["opening_id"] for r in rows}))

    # ------------------------------------------------------------------ actors

    def _actors(self) -> None:
        firsts: dict[str, data.CollegeSpec] = {}
        for college in data.COLLEGES:
            firsts.setdefault(college.province, college)
        ent_firsts: dict[str, _Enterprise] = {}
        for ent in self.enterprises:
            ent_firsts.setdefault(ent.province, ent)
        rows: list[dict[str, Any]] = [
            {"name": f"{DEMO_ACTOR_PREFIX}系统管理员", "role": Role.ADMIN, "college_id": None,
             "enterprise_id": None, "scope": {}},
            {"name": f"{DEMO_ACTOR_PREFIX}调度员", "role": Role.SCHEDULER, "college_id": None,
             "enterprise_id": None, "scope": {}},
        ]
        rows += [{"name": f"{DEMO_ACTOR_PREFIX}{c.name}就业指导中心", "role": Role.PLACEMENT_OFFICE,
                  "college_id": self.college_ids[c.name], "enterprise_id": None, "scope": {}}
                 for c in firsts.values()]
        rows += [{"name": f"{DEMO_ACTOR_PREFIX}{e.name}人力资源部", "role": Role.ENTERPRISE_HR,
                  "college_id": None, "enterprise_id": e.id, "scope": {}} for e in ent_firsts.values()]
        self._add_rows(Actor, rows)

    def _partnerships(self) -> None:
        """The seeds' shapes: a big-data industry college (产业学院) over 大数据技术, 物联网应用技术 and
        云计算技术应用, an order class (订单班) with seats held for one program, and a city alliance."""
        digital = [e for e in self.enterprises if e.province == "贵州" and "信息" in e.industry.industry] or [
            e for e in self.enterprises if e.province == "贵州"]
        hr_enterprise = next(e for e in self.enterprises if e.province == "贵州")  # the demo HR user's
        partner = next((e for e in digital if e.city == "贵阳" and e.id != hr_enterprise.id), digital[0])
        by_college: dict[str, dict[str, int]] = {}
        for program in self.programs:
            by_college.setdefault(program.college.name, {})[program.profile.code] = program.id
        industry_college = "贵阳筑云信息职业技术学院"
        order_college = next(c.name for c in data.COLLEGES if c.province == "贵州")
        rows = [
            Partnership(name="筑云大数据产业学院", college_id=self.college_ids[industry_college],
                        enterprise_id=partner.id, proposed_by="college", status=PartnershipStatus.ACTIVE,
                        forms=[PartnershipForm.INDUSTRY_COLLEGE.value, PartnershipForm.LECTURER_EXCHANGE.value,
                               PartnershipForm.JOINT_CURRICULUM.value, PartnershipForm.TRAINING_BASE.value],
                        description="企业讲师承担不少于 40% 的专业课，共建实训基地。",
                        programs=[PartnershipProgram(program_id=by_college[industry_college][code])
                                  for code in data.REQUIRED_MAJOR_CODES],
                        terms=[PartnershipTerm(term=data.TERM, reserved_seats=0, lecturer_hours=24,
                                               training_places=30)]),
            Partnership(name="黔创大数据订单班", college_id=self.college_ids[order_college],
                        enterprise_id=hr_enterprise.id, proposed_by="enterprise", status=PartnershipStatus.ACTIVE,
                        forms=[PartnershipForm.ORDER_CLASS.value], release_unused=True,
                        description="订单班学生优先获得企业实习岗位，未用名额在补录轮次开放。",
                        programs=[PartnershipProgram(program_id=by_college[order_college]["510205"])],
                        terms=[PartnershipTerm(term=data.TERM, reserved_seats=4, lecturer_hours=4)]),
        ]
        self.session.add_all(rows)
        scheduler = self.repo.actors_named_with_prefix(f"{DEMO_ACTOR_PREFIX}调度员")
        guiyang_colleges = [cid for name, cid in self.college_ids.items()
                            if next(c for c in data.COLLEGES if c.name == name).city == "贵阳"]
        # The city's firms and the two partners (the order class's firm may sit in another city).
        guiyang_enterprises = sorted({e.id for e in self.enterprises if e.city == "贵阳"} | {partner.id,
                                                                                        hr_enterprise.id})
        self.session.add(Alliance(
            name="贵阳大数据产教联合体", kind="city_alliance",
            scheduler_actor_id=scheduler[0].id if scheduler else None,
            members=[AllianceMember(college_id=c) for c in guiyang_colleges]
            + [AllianceMember(enterprise_id=e) for e in guiyang_enterprises]))
        self.session.flush()
        self.counts["partnerships"] = len(rows)
        self.counts["alliances"] = 1

    # ------------------------------------------------------------------ all

    def build(self) -> dict[str, int]:
        self._catalogue()
        self._colleges_and_programs()
        self._enterprises()
        self.openings = self._openings(data.TERM, per_enterprise=(5, 8), seats=(1, 10))
        self._students()
        self._preferences()
        self._lecturers()
        self._course_needs()
        self._history()
        self._actors()
        self._partnerships()
        self.session.flush()
        return dict(self.counts)


def demo_actors(session: Session) -> list[Actor]:
    """The actors the demo created (for ``chanjiao demo keys``), in creation order."""
    return DemoRepository(session).actors_named_with_prefix(DEMO_ACTOR_PREFIX)


def demo_tenant_names(session: Session, actors: list[Actor]) -> dict[int, str]:
    """Actor id → the college or enterprise it acts for ("全部" for an unscoped scheduler or admin)."""
    colleges = {a.college_id for a in actors if a.college_id is not None}
    enterprises = {a.enterprise_id for a in actors if a.enterprise_id is not None}
    repo = DemoRepository(session)
    college_names = repo.college_names(colleges)
    enterprise_names = repo.enterprise_names(enterprises)
    names: dict[int, str] = {}
    for a in actors:
        if a.college_id is not None:
            names[a.id] = college_names.get(a.college_id, str(a.college_id))
        elif a.enterprise_id is not None:
            names[a.id] = enterprise_names.get(a.enterprise_id, str(a.enterprise_id))
        else:
            names[a.id] = json.dumps(a.scope, ensure_ascii=False) if a.scope else "全部"
    return names


def content_digest(session: Session) -> str:
    """SHA-256 over the demo's rows by natural keys (no ids, no timestamps): equal seeds, equal digests."""
    reference = ReferenceRepository(session)
    repo = DemoRepository(session)
    college_rows = reference.all_rows(College)
    enterprise_rows = reference.all_rows(Enterprise)
    college = {c.id: c.name for c in college_rows}
    enterprise = {e.id: e.name for e in enterprise_rows}
    programs = {
        p.id: (college[p.college_id], p.major.code, p.major.level.value)
        for p in repo.programs_with_major()
    }
    openings = {
        o.id: (enterprise[o.enterprise_id], o.title, o.term, o.occupation_code, o.seats, o.city,
               o.required_skills, o.eligible_levels, o.eligible_major_codes, o.description)
        for o in reference.all_rows(Opening)
    }
    students = {
        s.id: (programs[s.program_id], s.student_no, s.name, s.grade, s.skills, s.certificates, s.city)
        for s in reference.all_rows(Student)
    }
    parts: dict[str, list[Any]] = {
        "colleges": sorted((c.name, c.province, c.city, c.level.value) for c in college_rows),
        "programs": sorted(
            (programs[p.id], p.description, p.core_courses, p.skills, p.cohort_size)
            for p in reference.all_rows(Program)
        ),
        "enterprises": sorted((e.name, e.industry, e.city, e.staff_count) for e in enterprise_rows),
        "openings": sorted(openings.values()),
        "students": sorted(students.values()),
        "preferences": sorted(
            (students[p.student_id][:2], p.rank, openings[p.opening_id][:3])
            for p in reference.all_rows(StudentPreference)
        ),
        "lecturers": sorted(
            (enterprise[lec.enterprise_id], lec.name, lec.expertise, lec.topics, lec.max_weekly_hours,
             lec.available_slots, lec.cities)
            for lec in reference.all_rows(Lecturer)
        ),
        "course_needs": sorted(
            (programs[n.program_id], n.course_name, n.topics, n.weekly_hours, n.slots, n.is_professional)
            for n in reference.all_rows(CourseNeed)
        ),
        "history": sorted(
            (students[p.student_id][:2], openings[p.opening_id][:3], p.term, p.completed, p.rating)
            for p in repo.history_placements()
            if p.student_id is not None and p.opening_id is not None
        ),
    }
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
