"""Top-k openings per student for allocation, exact, without a students × openings matrix.

The student↔opening log-odds split into a part shared by all students of one program
(text similarity, catalogue relations, history, level, cooperation: ``base[p, o]``), a geographic
part shared by all of them who live in the same city (``geo[c, o]``), and a small student part
(skill coverage, preference, grade).  Students are grouped by (program, city, province); for a
group, ``a = base + geo`` is one vector over openings, the skill term is bounded by
``[min(0, w_skill), max(0, w_skill)]`` and preferences are known explicitly.  The k-th largest
lower bound ``L`` of the group's scores is therefore a floor for every student's k-th best, and
only openings whose upper bound reaches ``L`` (plus the students' ranked openings) can enter any
top k.  Those candidates — typically the same-city openings and the strongest fits elsewhere —
are scored exactly with every feature; the result equals scoring all pairs.  Work and memory grow
with students × candidates, never students × openings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from matching.domain import OpeningProfile, ProgramProfile, StudentProfile
from matching.scoring.features import (
    STUDENT_OPENING_FEATURES,
    Cooperation,
    PlacementHistory,
    catalogue_relation,
    cooperation_value,
    grade_value,
    history_values,
    occupation_group,
    opening_text,
    program_text,
    unscorable_opening,
    unscorable_student,
)
from matching.scoring.model import FitModel, Pairing, prior_model
from matching.scoring.results import Unscorable
from matching.scoring.text import TextSpace, cosine, normalize

__all__ = ["Candidates", "top_k_openings_per_student"]

_PROGRAM_CHUNK = 256  # programs whose base rows are held at once: 256 × openings float64


@dataclass(frozen=True)
class Candidates:
    """Flat arrays, one entry per (student, candidate opening), by student then best first.

    Indices refer to positions in the ``students`` and ``openings`` sequences passed in; ``score``
    is the fit probability in [0, 1] (``logit`` its log-odds, for integer weights in a solver).
    """

    student_index: np.ndarray  # int32
    opening_index: np.ndarray  # int32
    score: np.ndarray  # float64
    logit: np.ndarray  # float64
    unscorable_students: tuple[Unscorable, ...]
    unscorable_openings: tuple[Unscorable, ...]
    pairs_scored: int  # exact pair evaluations performed (≤ students × openings)


def _codes(values: Sequence[str]) -> tuple[np.ndarray, dict[str, int]]:
    table: dict[str, int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        key = normalize(v).strip()
        out[i] = table.setdefault(key, len(table)) if key else -1
    return out, table


def top_k_openings_per_student(
    students: Sequence[StudentProfile],
    openings: Sequence[OpeningProfile],
    programs: Mapping[str, ProgramProfile],
    k: int = 50,
    model: FitModel | None = None,
    *,
    history: PlacementHistory | None = None,
    cooperation: Cooperation | None = None,
    text_space: TextSpace | None = None,
) -> Candidates:
    """The ``k`` best openings per scorable student under the student↔opening ``model``.

    Exactly the top ``k`` of scoring every pair (ties: lower opening index first), computed
    group by group.  Unscorable students and openings are left out and listed with reasons.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    model = model if model is not None else prior_model(Pairing.STUDENT_OPENING)
    if tuple(model.feature_names_) != STUDENT_OPENING_FEATURES:
        raise ValueError("top_k_openings_per_student needs a student↔opening model")
    w = dict(zip(model.feature_names_, (float(c) for c in model.coef_), strict=True))
    b0 = float(model.intercept_)

    bad_open = tuple(Unscorable(o.id, r) for o in openings if (r := unscorable_opening(o)) is not None)
    bad_stud = tuple(
        Unscorable(s.id, r) for s in students if (r := unscorable_student(s, programs.get(s.program_id))) is not None
    )
    o_idx = np.array([i for i, o in enumerate(openings) if unscorable_opening(o) is None], dtype=np.int64)
    s_idx = [i for i, s in enumerate(students) if unscorable_student(s, programs.get(s.program_id)) is None]
    empty = np.zeros(0)
    if o_idx.size == 0 or not s_idx:
        return Candidates(empty.astype(np.int32), empty.astype(np.int32), empty, empty, bad_stud, bad_open, 0)
    ops = [openings[i] for i in o_idx]
    n_open = len(ops)
    kk = min(k, n_open)

    # --- per-opening encodings ---------------------------------------------------------------
    o_city, city_tab = _codes([o.city for o in ops])
    o_prov, prov_tab = _codes([o.province for o in ops])
    ent_codes, ent_tab = _codes([o.enterprise_id for o in ops])
    grp_codes, grp_tab = _codes([occupation_group(o.occupation_code) for o in ops])
    skill_tab: dict[str, int] = {}
    r_rows, r_cols, r_vals = [], [], []
    for j, o in enumerate(ops):
        req = {normalize(x).strip() for x in o.required_skills} - {""}
        for sk in req:
            r_rows.append(j)
            r_cols.append(skill_tab.setdefault(sk, len(skill_tab)))
            r_vals.append(1.0 / len(req))
    req_matrix = sp.csr_matrix((r_vals, (r_rows, r_cols)), shape=(n_open, max(1, len(skill_tab))))
    levels = {lv for o in ops for lv in o.eligible_levels}
    level_bad = {lv: np.array([bool(o.eligible_levels) and lv not in o.eligible_levels for o in ops]) for lv in levels}
    any_levels = np.array([bool(o.eligible_levels) for o in ops])

    # --- programs: the shared part of the log-odds ---------------------------------------------
    prog_ids = sorted({students[i].program_id for i in s_idx})
    p_of = {p: n for n, p in enumerate(prog_ids)}
    p_texts = [program_text(programs[p]) for p in prog_ids]
    o_texts = [opening_text(o) for o in ops]
    space = text_space if text_space is not None else TextSpace.fit([*p_texts, *o_texts])
    o_vec = space.transform(o_texts)
    coop_by_college: dict[str, np.ndarray] = {}
    for (ent, college), count in (cooperation or {}).items():
        e = ent_tab.get(normalize(ent).strip())
        if e is not None:
            # One spare zero at the end: enterprises without an id have code -1.
            vec = coop_by_college.setdefault(college, np.zeros(len(ent_tab) + 1))
            vec[e] = cooperation_value(count)
    hist_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    inv_grp = {v: g for g, v in grp_tab.items()}

    def history_vectors(class_code: str) -> tuple[np.ndarray, np.ndarray]:
        if class_code not in hist_cache:
            amount = np.zeros(len(grp_tab) + 1)
            success = np.zeros(len(grp_tab) + 1)
            if history is not None and class_code:
                for gi, g in inv_grp.items():
                    c = history.counts.get((class_code, g))
                    if c is not None:
                        amount[gi], success[gi] = history_values(c.placed, c.success)
            hist_cache[class_code] = (amount[grp_codes], success[grp_codes])
        return hist_cache[class_code]

    rel_cache: dict[tuple[str, str, str], np.ndarray] = {}

    def relation(p: ProgramProfile) -> np.ndarray:
        key = (p.major_code, p.class_code, p.category_code)
        if key not in rel_cache:
            rel_cache[key] = np.array([catalogue_relation(*key, o.eligible_major_codes) for o in ops], dtype=np.int8)
        return rel_cache[key]

    def base_rows(chunk: list[str]) -> np.ndarray:
        sims = cosine(space.transform([p_texts[p_of[p]] for p in chunk]), o_vec)
        out = b0 + w["text_similarity"] * sims
        for r, p_id in enumerate(chunk):
            p = programs[p_id]
            rel = relation(p)
            amount, success = history_vectors(p.class_code)
            lv = level_bad.get(p.level, any_levels)
            coop = coop_by_college.get(p.college_id)
            row = out[r]
            row += (
                w["target_major"] * (rel == 3)
                + w["same_major_class"] * (rel == 2)
                + w["same_major_category"] * (rel == 1)
                + w["history_placements"] * amount
                + w["history_success"] * success
                + w["level_ineligible"] * lv
            )
            if coop is not None:
                row += w["past_cooperation"] * coop[ent_codes]
        return out

    # --- students ------------------------------------------------------------------------------
    open_pos = {openings[int(i)].id: n for n, i in enumerate(o_idx)}
    groups: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    s_city = np.full(len(students), -1, dtype=np.int64)
    s_prov = np.full(len(students), -1, dtype=np.int64)
    for i in s_idx:
        s = students[i]
        p = programs[s.program_id]
        city_key = normalize(s.city or p.city).strip()
        prov_key = normalize(s.province or p.province).strip()
        s_city[i] = city_tab.get(city_key, -2) if city_key else -1  # -2: a known city without openings
        s_prov[i] = prov_tab.get(prov_key, -2) if prov_key else -1
        groups[(s.program_id, int(s_city[i]), int(s_prov[i]))].append(i)

    w_skill, w_pref = w["skill_overlap"], w["preference"]
    s_lo, s_hi = min(0.0, w_skill), max(0.0, w_skill)
    p_lo = min(0.0, w_pref)
    out_s: list[np.ndarray] = []
    out_o: list[np.ndarray] = []
    out_z: list[np.ndarray] = []
    scored = 0
    by_program: dict[str, list[tuple[int, int, list[int]]]] = defaultdict(list)
    for (pid, g_city, g_prov), members in groups.items():
        by_program[pid].append((g_city, g_prov, members))

    for start in range(0, len(prog_ids), _PROGRAM_CHUNK):
        chunk = prog_ids[start : start + _PROGRAM_CHUNK]
        base = base_rows(chunk)
        for r_i, pid in enumerate(chunk):
            for g_city, g_prov, members in sorted(by_program[pid], key=lambda t: (t[0], t[1])):
                same_city = (o_city == g_city) if g_city >= 0 else np.zeros(n_open, dtype=bool)
                same_prov = ((o_prov == g_prov) & ~same_city) if g_prov >= 0 else np.zeros(n_open, dtype=bool)
                a = base[r_i] + w["same_city"] * same_city + w["same_province"] * same_prov
                prefs: list[tuple[int, int, float]] = []
                for m, i in enumerate(members):
                    for oid, rank in students[i].preferences.items():
                        pos_j = open_pos.get(oid)
                        if pos_j is not None and rank >= 1:
                            prefs.append((m, pos_j, 1.0 / rank))
                if kk < n_open:
                    floor = np.partition(a, n_open - kk)[n_open - kk] + s_lo + p_lo
                    cand = np.flatnonzero(a + s_hi >= floor)
                    if prefs:
                        cand = np.union1d(cand, [j for _, j, _ in prefs])
                else:
                    cand = np.arange(n_open)
                z = np.repeat(a[cand][None, :], len(members), axis=0)
                if w_skill != 0.0 and req_matrix.nnz:
                    have = _skill_rows([students[i] for i in members], skill_tab)
                    z += w_skill * (have @ req_matrix[cand].T).toarray()
                if prefs:
                    pos = {int(j): n for n, j in enumerate(cand)}
                    for m, j, v in prefs:
                        z[m, pos[j]] += w_pref * v
                grades = np.array([grade_value(students[i].grade) for i in members])
                z += (w["grade"] * grades)[:, None]
                scored += z.size
                top = _top_rows(z, kk)
                rows = np.repeat(np.asarray(members, dtype=np.int64), kk)
                out_s.append(rows)
                out_o.append(o_idx[cand[top]].ravel())
                out_z.append(np.take_along_axis(z, top, axis=1).ravel())

    s_all = np.concatenate(out_s)
    o_all = np.concatenate(out_o)
    z_all = np.concatenate(out_z)
    order = np.lexsort((o_all, -z_all, s_all))
    return Candidates(
        student_index=s_all[order].astype(np.int32),
        opening_index=o_all[order].astype(np.int32),
        score=expit(z_all[order]),
        logit=z_all[order],
        unscorable_students=bad_stud,
        unscorable_openings=bad_open,
        pairs_scored=scored,
    )


def _skill_rows(members: Sequence[StudentProfile], table: Mapping[str, int]) -> sp.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    for m, s in enumerate(members):
        have = {table.get(normalize(x).strip(), -1) for x in (*s.skills, *s.certificates)} - {-1}
        rows.extend([m] * len(have))
        cols.extend(have)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(members), max(1, len(table))))


def _top_rows(z: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest values; ties at the k-th go to lower columns.

    The columns are candidate positions in ascending opening order, so this is "lower opening
    index first"; the caller orders the final result.
    """
    n = z.shape[1]
    if k >= n:
        return np.tile(np.arange(n), (z.shape[0], 1))
    part = np.argpartition(-z, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(z, part, axis=1).min(axis=1)
    tied = (z >= kth[:, None]).sum(axis=1) > k
    if tied.any():
        part[tied] = np.argsort(-z[tied], axis=1, kind="stable")[:, :k]
    return part
