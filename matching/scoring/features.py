"""Named, interpretable features of the three pairings, and the rules for "too little data".

Every feature is 0 when its evidence is absent, so a zero contribution means "no information",
never a penalty by default; the one deliberate exception is ``level_ineligible``, a penalty that
fires only when the opening states its levels and the program's level is not among them.

Program ↔ opening (``PROGRAM_OPENING_FEATURES``)
    text_similarity      cosine of the opening's text (title, description, skills, 大典 definition
                         and tasks) and the program's (major name, description, core courses,
                         skills) in the mixed-script TF-IDF space of ``text``; in [0, 1].
    target_major         1 if the program's major is one of the opening's stated target majors.
    same_major_class     1 if not, but it is in the same 专业类 as a target (MoE 6-digit codes:
                         first four digits).
    same_major_category  1 if neither, but in the same 专业大类 (first two digits).
    history_placements   how many students of the program's 专业类 were placed at openings of the
                         opening's occupation group (大典 小类), log-scaled to [0, 1].
    history_success      how well those placements went: shrunk mean of (completed, rated well)
                         minus the neutral 0.5, scaled to [-1, 1]; 0 without history.
    level_ineligible     1 if the opening states eligible levels and the program's is not one.
    same_city            1 if program (or student) and opening are in the same city.
    same_province        1 if in the same province but not the same city.
    past_cooperation     past placements between the enterprise and the college, log-scaled to
                         [0, 1] (saturating at ``COOPERATION_SATURATION``).

Student ↔ opening (``STUDENT_OPENING_FEATURES``): the above (the student's program; the student's
own city and province when known) plus
    skill_overlap        share of the opening's required skills the student lists among skills or
                         certificates (case- and width-insensitive); 0 if none are required.
    grade                (grade − 75) / 25 clipped to [−1, 1] on a 0–100 scale; 0 if unknown.
    preference           1 / rank of the opening in the student's own ranking; 0 if not ranked.

Lecturer ↔ course need (``LECTURER_COURSE_FEATURES``)
    expertise_similarity cosine of lecturer (expertise, topics) and course (name, topics).
    topic_overlap        share of the course's topics among the lecturer's topics.
    slot_overlap         share of the course's time slots in which the lecturer is available.
    same_city            1 if the course's city is one of the lecturer's cities.
    past_cooperation     as above, between the lecturer's enterprise and the course's college.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from matching.domain import (
    CourseNeedProfile,
    LecturerProfile,
    OpeningProfile,
    PlacementOutcome,
    ProgramProfile,
    StudentProfile,
)
from matching.scoring.text import has_content, normalize

__all__ = [
    "COOPERATION_SATURATION",
    "GOOD_RATING",
    "LECTURER_COURSE_FEATURES",
    "PROGRAM_OPENING_FEATURES",
    "STUDENT_OPENING_FEATURES",
    "STUDENT_OPENING_PROGRAM_PART",
    "STUDENT_OPENING_STUDENT_PART",
    "Cooperation",
    "PlacementHistory",
    "course_text",
    "lecturer_course_row",
    "lecturer_text",
    "major_class",
    "occupation_group",
    "opening_text",
    "program_opening_row",
    "program_text",
    "student_opening_logit",
    "student_opening_row",
    "unscorable_course",
    "unscorable_lecturer",
    "unscorable_opening",
    "unscorable_program",
    "unscorable_student",
    "unscorable_student_own",
]

PROGRAM_OPENING_FEATURES: tuple[str, ...] = (
    "text_similarity",
    "target_major",
    "same_major_class",
    "same_major_category",
    "history_placements",
    "history_success",
    "level_ineligible",
    "same_city",
    "same_province",
    "past_cooperation",
)
STUDENT_OPENING_FEATURES: tuple[str, ...] = (
    *PROGRAM_OPENING_FEATURES,
    "skill_overlap",
    "grade",
    "preference",
)
# The order in which a student↔opening log-odds is summed in floating point (see
# ``student_opening_logit``): the program's part, shared by all its students, then the student's.
STUDENT_OPENING_PROGRAM_PART: tuple[str, ...] = (
    "text_similarity",
    "target_major",
    "same_major_class",
    "same_major_category",
    "history_placements",
    "history_success",
    "level_ineligible",
    "past_cooperation",
)
STUDENT_OPENING_STUDENT_PART: tuple[str, ...] = ("same_city", "same_province", "skill_overlap", "preference", "grade")
LECTURER_COURSE_FEATURES: tuple[str, ...] = (
    "expertise_similarity",
    "topic_overlap",
    "slot_overlap",
    "same_city",
    "past_cooperation",
)

COOPERATION_SATURATION = 20  # past placements beyond which cooperation counts as fully established
HISTORY_SATURATION = 50  # placements of a 专业类 in an occupation group that count as "many"
HISTORY_SHRINK = 5.0  # pseudo-placements at the neutral rate: a few outcomes move the rate a little
GOOD_RATING = 4  # ratings are 1–5; 4 and 5 are "rated well"

Cooperation = Mapping[tuple[str, str], int]
"""Past placements per (enterprise_id, college_id)."""

_MOE_CODE = re.compile(r"^\d{6}[A-Z]*$")


def major_class(code: str) -> tuple[str, str]:
    """(专业大类, 专业类) of a MoE-style six-digit major code; ("", "") for any other code."""
    if _MOE_CODE.match(code):
        return code[:2], code[:4]
    return "", ""


def occupation_group(code: str) -> str:
    """The group an occupation belongs to: the 大典 小类 (``4-04-05-01`` → ``4-04-05``).

    Other catalogues: an O*NET-SOC or ESCO code's part before the dot; otherwise the code itself.
    """
    if not code:
        return ""
    if "-" in code and code.count("-") >= 3:
        return "-".join(code.split("-")[:3])
    if "." in code:
        return code.split(".", 1)[0]
    return code


def _norm_set(items: Iterable[str]) -> frozenset[str]:
    return frozenset(n for n in (normalize(i).strip() for i in items) if n)


def program_text(p: ProgramProfile) -> str:
    return "\n".join(x for x in (p.major_name, p.description, " ".join(p.core_courses), " ".join(p.skills)) if x)


def opening_text(o: OpeningProfile) -> str:
    return "\n".join(x for x in (o.title, o.description, " ".join(o.required_skills), o.occupation_text) if x)


def lecturer_text(lec: LecturerProfile) -> str:
    return "\n".join(x for x in (lec.expertise, " ".join(lec.topics)) if x)


def course_text(c: CourseNeedProfile) -> str:
    return "\n".join(x for x in (c.course_name, " ".join(c.topics)) if x)


# --- too little data ---------------------------------------------------------------------------


def unscorable_opening(o: OpeningProfile) -> str | None:
    """Why an opening cannot be scored, or None: a title alone says too little."""
    if not any(has_content(t) for t in (o.description, o.occupation_text, *o.required_skills)):
        return "opening has no description, required skills or occupation text: too little to score"
    return None


def unscorable_program(p: ProgramProfile) -> str | None:
    """Why a program cannot be scored, or None: a bare major name says too little."""
    if not any(has_content(t) for t in (p.description, *p.core_courses, *p.skills)):
        return "program has no description, core courses or skills: too little to score"
    return None


def unscorable_student(s: StudentProfile, program: ProgramProfile | None) -> str | None:
    """Why a student cannot be scored, or None."""
    if program is None:
        return f"student's program {s.program_id!r} is unknown"
    why = unscorable_program(program)
    if why is not None:
        return f"student's {why}"
    return unscorable_student_own(s)


def unscorable_student_own(s: StudentProfile) -> str | None:
    """The student's own part of ``unscorable_student`` (the program being known and scorable)."""
    if not (s.skills or s.certificates or s.grade is not None or s.preferences):
        return "student has no skills, certificates, grade or preferences: too little to score"
    return None


def unscorable_lecturer(lec: LecturerProfile) -> str | None:
    if not has_content(lecturer_text(lec)):
        return "lecturer has no expertise or topics: too little to score"
    return None


def unscorable_course(c: CourseNeedProfile) -> str | None:
    if not any(has_content(t) for t in c.topics):
        return "course need has no topics: too little to score"
    return None


# --- history of placements ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Counts:
    placed: int = 0
    success: float = 0.0  # sum over placements of (completed + rated well) / 2


@dataclass(frozen=True)
class PlacementHistory:
    """Outcome counts per (专业类, occupation group), built from past placements.

    ``from_outcomes`` needs to know each outcome's student 专业类 and opening occupation code; the
    caller passes these as mappings, so the history can come from any store.
    """

    counts: Mapping[tuple[str, str], _Counts] = field(default_factory=dict)

    @staticmethod
    def outcome_success(outcome: PlacementOutcome) -> float:
        """0, 0.5 or 1: half for completing the placement, half for a good rating."""
        rated_well = outcome.rating is not None and outcome.rating >= GOOD_RATING
        return 0.5 * float(outcome.completed) + 0.5 * float(rated_well)

    @classmethod
    def from_outcomes(
        cls,
        outcomes: Iterable[PlacementOutcome],
        class_of_student: Mapping[str, str],
        occupation_of_opening: Mapping[str, str],
    ) -> PlacementHistory:
        placed: dict[tuple[str, str], int] = defaultdict(int)
        success: dict[tuple[str, str], float] = defaultdict(float)
        for o in outcomes:
            key = cls.key(class_of_student.get(o.student_id, ""), occupation_of_opening.get(o.opening_id, ""))
            if key is None:
                continue
            placed[key] += 1
            success[key] += cls.outcome_success(o)
        return cls({k: _Counts(placed[k], success[k]) for k in placed})

    @staticmethod
    def key(class_code: str, occupation_code: str) -> tuple[str, str] | None:
        group = occupation_group(occupation_code)
        if not class_code or not group:
            return None
        return class_code, group

    def features(
        self, class_code: str, occupation_code: str, exclude: PlacementOutcome | None = None
    ) -> tuple[float, float]:
        """(history_placements, history_success); ``exclude`` removes one outcome (leave-one-out)."""
        key = self.key(class_code, occupation_code)
        if key is None:
            return 0.0, 0.0
        c = self.counts.get(key, _Counts())
        placed, success = c.placed, c.success
        if exclude is not None and placed > 0:
            placed -= 1
            success -= self.outcome_success(exclude)
        return history_values(placed, success)


def history_values(placed: float, success: float) -> tuple[float, float]:
    if placed <= 0:
        return 0.0, 0.0
    amount = min(1.0, math.log1p(placed) / math.log1p(HISTORY_SATURATION))
    rate = (success + 0.5 * HISTORY_SHRINK) / (placed + HISTORY_SHRINK)
    return amount, 2.0 * (rate - 0.5)


def cooperation_value(count: int) -> float:
    if count <= 0:
        return 0.0
    return min(1.0, math.log1p(count) / math.log1p(COOPERATION_SATURATION))


def catalogue_relation(major_code: str, class_code: str, category_code: str, targets: Sequence[str]) -> int:
    """3 exact target, 2 same 专业类, 1 same 专业大类, 0 none (or no targets stated)."""
    if not targets:
        return 0
    if major_code in targets:
        return 3
    pairs = [major_class(t) for t in targets]
    if class_code and any(cl == class_code for _, cl in pairs):
        return 2
    if category_code and any(cat == category_code for cat, _ in pairs):
        return 1
    return 0


def geo_values(city: str, province: str, o_city: str, o_province: str) -> tuple[float, float]:
    """(same_city, same_province): one-hot, unknown places count as "other"."""
    city, o_city = normalize(city).strip(), normalize(o_city).strip()
    province, o_province = normalize(province).strip(), normalize(o_province).strip()
    if city and o_city and city == o_city:
        return 1.0, 0.0
    if province and o_province and province == o_province:
        return 0.0, 1.0
    return 0.0, 0.0


def grade_value(grade: float | None) -> float:
    if grade is None or not math.isfinite(grade):
        return 0.0
    return max(-1.0, min(1.0, (grade - 75.0) / 25.0))


def share_covered(have: Iterable[str], need: Iterable[str]) -> float:
    need_set = _norm_set(need)
    if not need_set:
        return 0.0
    return len(need_set & _norm_set(have)) / len(need_set)


# --- rows --------------------------------------------------------------------------------------


def program_opening_row(
    program: ProgramProfile,
    opening: OpeningProfile,
    text_similarity: float,
    history: PlacementHistory | None = None,
    cooperation: Cooperation | None = None,
    *,
    city: str | None = None,
    province: str | None = None,
    exclude: PlacementOutcome | None = None,
) -> np.ndarray:
    """Feature values in ``PROGRAM_OPENING_FEATURES`` order (``city``/``province`` override the program's)."""
    rel = catalogue_relation(
        program.major_code, program.class_code, program.category_code, opening.eligible_major_codes
    )
    h_amount, h_success = (history or PlacementHistory()).features(program.class_code, opening.occupation_code, exclude)
    level_bad = bool(opening.eligible_levels) and program.level not in opening.eligible_levels
    same_city, same_prov = geo_values(
        city if city else program.city,
        province if province else program.province,
        opening.city,
        opening.province,
    )
    coop = cooperation_value((cooperation or {}).get((opening.enterprise_id, program.college_id), 0))
    return np.array(
        [
            text_similarity,
            rel == 3,
            rel == 2,
            rel == 1,
            h_amount,
            h_success,
            level_bad,
            same_city,
            same_prov,
            coop,
        ],
        dtype=np.float64,
    )


def student_opening_row(
    student: StudentProfile,
    program: ProgramProfile,
    opening: OpeningProfile,
    text_similarity: float,
    history: PlacementHistory | None = None,
    cooperation: Cooperation | None = None,
    exclude: PlacementOutcome | None = None,
) -> np.ndarray:
    """Feature values in ``STUDENT_OPENING_FEATURES`` order."""
    base = program_opening_row(
        program,
        opening,
        text_similarity,
        history,
        cooperation,
        city=student.city,
        province=student.province,
        exclude=exclude,
    )
    skill = share_covered((*student.skills, *student.certificates), opening.required_skills)
    rank = student.preferences.get(opening.id)
    pref = 1.0 / rank if rank is not None and rank >= 1 else 0.0
    return np.concatenate([base, [skill, grade_value(student.grade), pref]])


_PROGRAM_PART_AT = tuple(STUDENT_OPENING_FEATURES.index(f) for f in STUDENT_OPENING_PROGRAM_PART)
_STUDENT_PART_AT = tuple(STUDENT_OPENING_FEATURES.index(f) for f in STUDENT_OPENING_STUDENT_PART)


def student_opening_logit(
    row: Sequence[float] | np.ndarray, coef: Sequence[float] | np.ndarray, intercept: float
) -> float:
    """The student↔opening log-odds ``intercept + Σ coef[j]·row[j]`` in its one canonical rounding.

    Floating-point addition is not associative, so "the" score of a pair must say in which order
    its terms are added, or two correct implementations can disagree in the last bit and order
    exactly-tied pairs differently.  The canonical order (``top_k_openings_per_student`` computes
    the same bits, vectorised) is: ``p = intercept + t_0``, then ``p += t_j`` for the rest of
    ``STUDENT_OPENING_PROGRAM_PART`` left to right; ``s = t_city + t_province``, then ``s += t_j``
    for skill_overlap, preference, grade; the log-odds is ``p + s``; each ``t_j = coef[j]·row[j]``
    is one rounded product.  It differs from ``FitModel.decision_function`` by a few ulps at most.
    """
    w = [float(c) for c in coef]
    x = [float(v) for v in row]
    first, *rest = _PROGRAM_PART_AT
    p = float(intercept) + w[first] * x[first]
    for j in rest:
        p += w[j] * x[j]
    city, prov, *more = _STUDENT_PART_AT
    s = w[city] * x[city] + w[prov] * x[prov]
    for j in more:
        s += w[j] * x[j]
    return p + s


def lecturer_course_row(
    lecturer: LecturerProfile,
    course: CourseNeedProfile,
    text_similarity: float,
    cooperation: Cooperation | None = None,
) -> np.ndarray:
    """Feature values in ``LECTURER_COURSE_FEATURES`` order."""
    topics = share_covered(lecturer.topics, course.topics)
    slots = len(set(course.slots) & set(lecturer.available_slots)) / len(set(course.slots)) if course.slots else 0.0
    city = float(bool(course.city) and normalize(course.city) in {normalize(c) for c in lecturer.cities})
    coop = cooperation_value((cooperation or {}).get((lecturer.enterprise_id, course.college_id), 0))
    return np.array([text_similarity, topics, slots, city, coop], dtype=np.float64)
