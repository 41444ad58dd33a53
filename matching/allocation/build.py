"""Building allocation problems from domain objects (what the batch-run service holds)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from matching.allocation.problem import (
    NOT_RANKED,
    UNLIMITED,
    InternshipProblem,
    LecturerProblem,
    ProblemError,
)
from matching.domain import CourseNeedProfile, LecturerProfile, OpeningProfile, StudentProfile


def _index(values: Iterable[str]) -> tuple[tuple[str, ...], dict[str, int]]:
    ids = tuple(sorted(set(values)))
    return ids, {v: i for i, v in enumerate(ids)}


def internship_problem(
    students: Sequence[StudentProfile],
    openings: Sequence[OpeningProfile],
    scores: Iterable[tuple[str, str, float]],
    enterprise_caps: Mapping[str, int] | None = None,
    opening_ranks: Mapping[tuple[str, str], int] | None = None,
) -> InternshipProblem:
    """An internship problem from profiles and (student id, opening id, score) candidate triples.

    Students' ranks come from ``StudentProfile.preferences``; ``opening_ranks`` optionally gives the
    enterprises' rank of (student, opening).  Enterprises without a cap are unlimited.
    """
    student_index = {s.id: i for i, s in enumerate(students)}
    opening_index = {o.id: i for i, o in enumerate(openings)}
    colleges, college_of = _index(s.college_id for s in students)
    programs, program_of = _index(s.program_id for s in students)
    enterprises, enterprise_of = _index(o.enterprise_id for o in openings)
    scopes, scope_of = _index([s.province for s in students] + [o.province for o in openings])
    caps = np.full(len(enterprises), UNLIMITED, dtype=np.int64)
    for eid, cap in (enterprise_caps or {}).items():
        if eid in enterprise_of:
            caps[enterprise_of[eid]] = cap
    rows_s: list[int] = []
    rows_o: list[int] = []
    rows_score: list[float] = []
    rows_srank: list[int] = []
    rows_orank: list[int] = []
    for sid, oid, score in scores:
        if sid not in student_index or oid not in opening_index:
            raise ProblemError(f"candidate ({sid}, {oid}) names an unknown student or opening")
        s = student_index[sid]
        rows_s.append(s)
        rows_o.append(opening_index[oid])
        rows_score.append(score)
        rows_srank.append(students[s].preferences.get(oid, NOT_RANKED))
        rows_orank.append((opening_ranks or {}).get((sid, oid), NOT_RANKED))
    return InternshipProblem(
        student_ids=tuple(s.id for s in students),
        student_college=np.array([college_of[s.college_id] for s in students], dtype=np.int32),
        student_program=np.array([program_of[s.program_id] for s in students], dtype=np.int32),
        student_scope=np.array([scope_of[s.province] for s in students], dtype=np.int32),
        opening_ids=tuple(o.id for o in openings),
        opening_enterprise=np.array([enterprise_of[o.enterprise_id] for o in openings], dtype=np.int32),
        opening_seats=np.array([o.seats for o in openings], dtype=np.int64),
        opening_scope=np.array([scope_of[o.province] for o in openings], dtype=np.int32),
        enterprise_ids=enterprises,
        enterprise_cap=caps,
        college_ids=colleges,
        program_ids=programs,
        scope_ids=scopes,
        pair_student=np.array(rows_s, dtype=np.int32),
        pair_opening=np.array(rows_o, dtype=np.int32),
        pair_score=np.array(rows_score, dtype=np.float64),
        pair_student_rank=np.array(rows_srank, dtype=np.int32),
        pair_opening_rank=np.array(rows_orank, dtype=np.int32),
        student_ranks_given=any(s.preferences for s in students),
        opening_ranks_given=bool(opening_ranks),
    )


def lecturer_problem(
    lecturers: Sequence[LecturerProfile],
    needs: Sequence[CourseNeedProfile],
    scores: Iterable[tuple[str, str, float]],
) -> LecturerProblem:
    """A lecturer problem from profiles and (lecturer id, course need id, score) triples."""
    slot_ids, slot_of = _index([s for lec in lecturers for s in lec.available_slots]
                               + [s for n in needs for s in n.slots])
    lecturer_index = {lec.id: i for i, lec in enumerate(lecturers)}
    need_index = {n.id: i for i, n in enumerate(needs)}
    pl: list[int] = []
    pn: list[int] = []
    ps: list[float] = []
    for lid, nid, score in scores:
        if lid not in lecturer_index or nid not in need_index:
            raise ProblemError(f"candidate ({lid}, {nid}) names an unknown lecturer or course need")
        pl.append(lecturer_index[lid])
        pn.append(need_index[nid])
        ps.append(score)
    return LecturerProblem(
        lecturer_ids=tuple(lec.id for lec in lecturers),
        lecturer_enterprise=tuple(lec.enterprise_id for lec in lecturers),
        lecturer_max_hours=np.array([lec.max_weekly_hours for lec in lecturers], dtype=np.int64),
        lecturer_slots=tuple(frozenset(slot_of[s] for s in lec.available_slots) for lec in lecturers),
        need_ids=tuple(n.id for n in needs),
        need_college=tuple(n.college_id for n in needs),
        need_program=tuple(n.program_id for n in needs),
        need_hours=np.array([n.weekly_hours for n in needs], dtype=np.int64),
        need_slots=tuple(frozenset(slot_of[s] for s in n.slots) for n in needs),
        need_professional=np.array([n.is_professional for n in needs], dtype=bool),
        slot_ids=slot_ids,
        pair_lecturer=np.array(pl, dtype=np.int32),
        pair_need=np.array(pn, dtype=np.int32),
        pair_score=np.array(ps, dtype=np.float64),
    )
