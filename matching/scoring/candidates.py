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
    cooperation_value,
    grade_value,
    history_values,
    major_class,
    occupation_group,
    opening_text,
    program_text,
    unscorable_opening,
    unscorable_program,
    unscorable_student,
    unscorable_student_own,
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

    open_why = [unscorable_opening(o) for o in openings]
    bad_open = tuple(Unscorable(o.id, r) for o, r in zip(openings, open_why, strict=True) if r is not None)
    o_idx = np.array([i for i, r in enumerate(open_why) if r is None], dtype=np.int64)
    # A program's own data is checked once, not once per student.
    prog_why = {pid: unscorable_program(p) for pid, p in programs.items()}
    stud_why = [
        unscorable_student(s, programs.get(s.program_id)) if prog_why.get(s.program_id) is not None
        or s.program_id not in programs else unscorable_student_own(s)
        for s in students
    ]
    bad_stud = tuple(Unscorable(s.id, r) for s, r in zip(students, stud_why, strict=True) if r is not None)
    s_idx = [i for i, r in enumerate(stud_why) if r is None]
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
    n_skills = max(1, len(skill_tab))
    req_matrix = sp.csr_matrix((r_vals, (r_rows, r_cols)), shape=(n_open, n_skills))
    req_t = sp.csr_matrix(req_matrix.T)  # skills × openings, converted once
    skill_lookup = dict(skill_tab)
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

    # Inverted index of stated targets: major, 专业类 and 专业大类 → openings naming it.
    by_major: dict[str, list[int]] = defaultdict(list)
    by_class: dict[str, list[int]] = defaultdict(list)
    by_category: dict[str, list[int]] = defaultdict(list)
    for j, o in enumerate(ops):
        for code in set(o.eligible_major_codes):
            by_major[code].append(j)
        for cat, cl in {major_class(code) for code in o.eligible_major_codes}:
            if cl:
                by_class[cl].append(j)
                by_category[cat].append(j)

    def relation(p: ProgramProfile) -> np.ndarray:
        # Same levels as features.catalogue_relation, the strongest relation wins.
        rel = np.zeros(n_open, dtype=np.int8)
        if p.category_code:
            rel[by_category.get(p.category_code, [])] = 1
        if p.class_code:
            rel[by_class.get(p.class_code, [])] = 2
        rel[by_major.get(p.major_code, [])] = 3
        return rel

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

    # With non-negative student-level weights (always true of the priors) a faster exact path
    # applies: every student term is sparse and only raises scores (see _sparse_program).
    sparse_ok = min(w["same_city"], w["same_province"], w_skill, w_pref) >= 0.0
    city_open = {c: np.flatnonzero(o_city == c) for c in range(len(city_tab))}
    prov_open = {r: np.flatnonzero(o_prov == r) for r in range(len(prov_tab))}

    def pref_pairs(members: Sequence[int]) -> list[tuple[int, int, float]]:
        out: list[tuple[int, int, float]] = []
        for m, i in enumerate(members):
            for oid, rank in students[i].preferences.items():
                pos_j = open_pos.get(oid)
                if pos_j is not None and rank >= 1:
                    out.append((m, pos_j, 1.0 / rank))
        return out

    for start in range(0, len(prog_ids), _PROGRAM_CHUNK):
        chunk = prog_ids[start : start + _PROGRAM_CHUNK]
        base = base_rows(chunk)
        for r_i, pid in enumerate(chunk):
            if sparse_ok:
                members = [i for _, _, ms in by_program[pid] for i in ms]
                geo_rows: list[np.ndarray] = []
                geo_cols: list[np.ndarray] = []
                geo_vals: list[np.ndarray] = []
                m0 = 0
                for g_city, g_prov, ms in by_program[pid]:
                    in_city = city_open.get(g_city, np.zeros(0, dtype=np.int64))
                    in_prov = prov_open.get(g_prov, np.zeros(0, dtype=np.int64))
                    in_prov = in_prov[o_city[in_prov] != g_city] if g_city >= 0 else in_prov
                    cols = np.concatenate([in_city, in_prov])
                    vals = np.concatenate([np.full(in_city.size, w["same_city"]),
                                           np.full(in_prov.size, w["same_province"])])
                    geo_rows.append(np.repeat(np.arange(m0, m0 + len(ms)), cols.size))
                    geo_cols.append(np.tile(cols, len(ms)))
                    geo_vals.append(np.tile(vals, len(ms)))
                    m0 += len(ms)
                sparse_prefs = pref_pairs(members)
                rows_all = np.concatenate([*geo_rows, np.array([m for m, _, _ in sparse_prefs], dtype=np.int64)])
                cols_all = np.concatenate([*geo_cols, np.array([j for _, j, _ in sparse_prefs], dtype=np.int64)])
                vals_all = np.concatenate([*geo_vals, np.array([w_pref * v for _, _, v in sparse_prefs])])
                extra = sp.csr_matrix((vals_all, (rows_all, cols_all)), shape=(len(members), n_open))
                if w_skill != 0.0 and req_matrix.nnz:
                    have = _skill_rows([students[i] for i in members], skill_lookup, n_skills)
                    extra = extra + w_skill * (have @ req_t)
                grades = np.array([grade_value(students[i].grade) for i in members]) * w["grade"]
                rows_k, cols_k, z_k, n_scored = _sparse_program(base[r_i], sp.csr_matrix(extra), kk)
                scored += n_scored
                out_s.append(np.asarray(members, dtype=np.int64)[rows_k])
                out_o.append(o_idx[cols_k])
                out_z.append(z_k + grades[rows_k])
                continue
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
                    have = _skill_rows([students[i] for i in members], skill_lookup, n_skills)
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


def _sparse_program(
    a: np.ndarray, extra: sp.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Exact top k per row of ``a[None, :] + extra`` when ``extra`` is sparse and non-negative.

    Outside a row's non-zeros the score is ``a`` itself, so the k best of ``a`` (ties to the lower
    index) bound every opening the row does not touch: the row's top k lies in those k columns
    plus its own non-zeros scoring at least the k-th best of the dense block.  Returns (row,
    column, score) of the k best per row and the number of pairs evaluated.
    """
    n = a.shape[0]
    g = extra.shape[0]
    if k < n:
        kth = np.partition(a, n - k)[n - k]
        above = np.flatnonzero(a > kth)
        top = np.sort(np.concatenate([above, np.flatnonzero(a == kth)[: k - above.size]]))
    else:
        top = np.arange(n)
    dense = a[top][None, :] + extra[:, top].toarray()
    floor = dense.min(axis=1)
    coo = extra.tocoo()
    in_top = np.zeros(n, dtype=bool)
    in_top[top] = True
    r, c = coo.row.astype(np.int64), coo.col.astype(np.int64)
    z = a[c] + coo.data
    keep = ~in_top[c] & (z >= floor[r])
    rows = np.concatenate([np.repeat(np.arange(g), top.size), r[keep]])
    cols = np.concatenate([np.tile(top, g), c[keep]])
    vals = np.concatenate([dense.ravel(), z[keep]])
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(g))
    first = (np.arange(rows.size) - starts[rows]) < k
    return rows[first], cols[first], vals[first], int(dense.size + coo.nnz)


def _skill_rows(members: Sequence[StudentProfile], table: dict[str, int], n_skills: int) -> sp.csr_matrix:
    """Binary students × skills matrix; ``table`` maps raw and normalised spellings to columns.

    Raw spellings are added to ``table`` as they are met (with -1 for unknown skills), so each
    distinct string is normalised once however many students list it.
    """
    rows: list[int] = []
    cols: list[int] = []
    for m, s in enumerate(members):
        have = set()
        for x in (*s.skills, *s.certificates):
            col = table.get(x)
            if col is None:
                col = table[x] = table.get(normalize(x).strip(), -1)
            have.add(col)
        have.discard(-1)
        rows.extend([m] * len(have))
        cols.extend(have)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(members), n_skills))


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
