"""The scoring use cases the service calls: one subject against many candidates.

Every function returns ``Matches`` (scored candidates best first, plus the candidates that could
not be scored and why) or ``Unscorable`` when the subject itself holds too little data.  Scores
are probabilities in [0, 1]; each carries its named contributions in log-odds.

Text similarity needs IDF statistics.  Pass a ``TextSpace`` fitted once on a reference corpus
(e.g. the catalogue plus all openings) to make a pair's score independent of who else is being
scored; without one, the space is fitted on the texts of the call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy.special import expit

from matching.domain import (
    CourseNeedProfile,
    LecturerProfile,
    OpeningProfile,
    ProgramProfile,
    StudentProfile,
)
from matching.scoring.features import (
    Cooperation,
    PlacementHistory,
    course_text,
    lecturer_course_row,
    lecturer_text,
    opening_text,
    program_opening_row,
    program_text,
    student_opening_row,
    unscorable_course,
    unscorable_lecturer,
    unscorable_opening,
    unscorable_program,
    unscorable_student,
)
from matching.scoring.model import FEATURES, FitModel, Pairing, prior_model
from matching.scoring.results import Scored, Unscorable
from matching.scoring.text import TextSpace

__all__ = [
    "Matches",
    "score_lecturers_for_course",
    "score_openings_for_program",
    "score_programs_for_opening",
    "score_rows",
    "score_students_for_opening",
]


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Matches:
    """Result of scoring one subject against candidates.

    ``scored`` is sorted best first (ties by id); ``unscorable`` lists candidates with too little
    data, each with its reason, in input order.
    """

    subject_id: str
    scored: tuple[Scored, ...]
    unscorable: tuple[Unscorable, ...]


def score_rows(model: FitModel, ids: Sequence[str], x: np.ndarray) -> list[Scored]:
    """Score feature rows with ``model``; best first, ties broken by id."""
    out = []
    for i, row in zip(ids, x, strict=True):
        logit, contribs = model.explain(row)
        out.append(Scored(i, float(expit(logit)), logit, float(model.intercept_), contribs))
    out.sort(key=lambda s: (-s.score, s.id))
    return out


def _check_model(model: FitModel | None, pairing: Pairing) -> FitModel:
    if model is None:
        return prior_model(pairing)
    if tuple(model.feature_names_) != FEATURES[pairing]:
        raise ValueError(f"model features {model.feature_names_} are not the {pairing.value} features")
    return model


def _similarities(subject: str, others: Sequence[str], text_space: TextSpace | None) -> np.ndarray:
    if not others:
        return np.zeros(0)
    space = text_space if text_space is not None else TextSpace.fit([subject, *others])
    sims: np.ndarray = space.similarity([subject], list(others))[0]
    return sims


def _split(
    items: Sequence[T], why: Callable[[T], str | None], ident: Callable[[T], str]
) -> tuple[list[T], list[Unscorable]]:
    ok: list[T] = []
    bad: list[Unscorable] = []
    for it in items:
        reason = why(it)
        if reason is None:
            ok.append(it)
        else:
            bad.append(Unscorable(ident(it), reason))
    return ok, bad


def score_openings_for_program(
    program: ProgramProfile,
    openings: Sequence[OpeningProfile],
    *,
    model: FitModel | None = None,
    history: PlacementHistory | None = None,
    cooperation: Cooperation | None = None,
    text_space: TextSpace | None = None,
) -> Matches | Unscorable:
    """Openings ranked for a program (``GET /programs/{id}/matches``); program↔opening model."""
    reason = unscorable_program(program)
    if reason is not None:
        return Unscorable(program.id, reason)
    model = _check_model(model, Pairing.PROGRAM_OPENING)
    ok, bad = _split(openings, unscorable_opening, lambda o: o.id)
    sims = _similarities(program_text(program), [opening_text(o) for o in ok], text_space)
    x = np.array(
        [program_opening_row(program, o, float(s), history, cooperation) for o, s in zip(ok, sims, strict=True)]
    )
    return Matches(
        program.id,
        tuple(score_rows(model, [o.id for o in ok], x.reshape(len(ok), len(model.feature_names_)))),
        tuple(bad),
    )


def score_programs_for_opening(
    opening: OpeningProfile,
    programs: Sequence[ProgramProfile],
    *,
    model: FitModel | None = None,
    history: PlacementHistory | None = None,
    cooperation: Cooperation | None = None,
    text_space: TextSpace | None = None,
) -> Matches | Unscorable:
    """Programs ranked for an opening (``GET /openings/{id}/matches``, programs part)."""
    reason = unscorable_opening(opening)
    if reason is not None:
        return Unscorable(opening.id, reason)
    model = _check_model(model, Pairing.PROGRAM_OPENING)
    ok, bad = _split(programs, unscorable_program, lambda p: p.id)
    sims = _similarities(opening_text(opening), [program_text(p) for p in ok], text_space)
    x = np.array(
        [program_opening_row(p, opening, float(s), history, cooperation) for p, s in zip(ok, sims, strict=True)]
    )
    return Matches(
        opening.id,
        tuple(score_rows(model, [p.id for p in ok], x.reshape(len(ok), len(model.feature_names_)))),
        tuple(bad),
    )


def score_students_for_opening(
    opening: OpeningProfile,
    students: Sequence[StudentProfile],
    programs: Mapping[str, ProgramProfile],
    *,
    model: FitModel | None = None,
    history: PlacementHistory | None = None,
    cooperation: Cooperation | None = None,
    text_space: TextSpace | None = None,
) -> Matches | Unscorable:
    """Students ranked for an opening (``GET /openings/{id}/matches``, students part).

    ``programs`` maps program id → profile for the students' programs.  Filtering to eligible
    students (levels, tenancy) is the caller's choice; ineligible levels get a strong penalty here.
    """
    reason = unscorable_opening(opening)
    if reason is not None:
        return Unscorable(opening.id, reason)
    model = _check_model(model, Pairing.STUDENT_OPENING)
    ok, bad = _split(students, lambda s: unscorable_student(s, programs.get(s.program_id)), lambda s: s.id)
    # Text similarity is the program's: one per distinct program, shared by its students.
    prog_ids = sorted({s.program_id for s in ok})
    sims = _similarities(opening_text(opening), [program_text(programs[p]) for p in prog_ids], text_space)
    sim_of = dict(zip(prog_ids, sims.tolist(), strict=True))
    x = np.array(
        [
            student_opening_row(s, programs[s.program_id], opening, sim_of[s.program_id], history, cooperation)
            for s in ok
        ]
    )
    return Matches(
        opening.id,
        tuple(score_rows(model, [s.id for s in ok], x.reshape(len(ok), len(model.feature_names_)))),
        tuple(bad),
    )


def score_lecturers_for_course(
    course: CourseNeedProfile,
    lecturers: Sequence[LecturerProfile],
    *,
    model: FitModel | None = None,
    cooperation: Cooperation | None = None,
    text_space: TextSpace | None = None,
) -> Matches | Unscorable:
    """Lecturers ranked for a course need (``GET /course-needs/{id}/matches``)."""
    reason = unscorable_course(course)
    if reason is not None:
        return Unscorable(course.id, reason)
    model = _check_model(model, Pairing.LECTURER_COURSE)
    ok, bad = _split(lecturers, unscorable_lecturer, lambda lec: lec.id)
    sims = _similarities(course_text(course), [lecturer_text(lec) for lec in ok], text_space)
    x = np.array([lecturer_course_row(lec, course, float(s), cooperation) for lec, s in zip(ok, sims, strict=True)])
    return Matches(
        course.id,
        tuple(score_rows(model, [lec.id for lec in ok], x.reshape(len(ok), len(model.feature_names_)))),
        tuple(bad),
    )
