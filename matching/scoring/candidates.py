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

"Exactly" is meant bit for bit: a pair's log-odds is the float ``features.student_opening_logit``
defines (one fixed order of the rounded additions: the program part, then the student part), the
vectorised code performs the same additions in the same order, and ties are equal floats, broken
by the lower opening index.  The pruning bounds carry a margin far above rounding error, so a
pruned pair is beaten strictly by k others in floating point too (proofs at ``_sparse_program``
and ``_dense_candidates``).
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
    STUDENT_OPENING_PROGRAM_PART,
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
from matching.scoring.text import TextSpace, normalize

__all__ = ["Candidates", "merge_candidates", "opening_vectors", "scoring_corpus", "top_k_openings_per_student"]

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
    pairs_scored: int  # distinct pairs scored exactly (≤ students × openings)


def _scorable(students: Sequence[StudentProfile], openings: Sequence[OpeningProfile],
              programs: Mapping[str, ProgramProfile],
              ) -> tuple[np.ndarray, tuple[Unscorable, ...], list[int], tuple[Unscorable, ...]]:
    """Indices of the scorable openings and students, and the others with their reasons."""
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
    return o_idx, bad_open, [i for i, r in enumerate(stud_why) if r is None], bad_stud


def scoring_corpus(students: Sequence[StudentProfile], openings: Sequence[OpeningProfile],
                   programs: Mapping[str, ProgramProfile]) -> list[str]:
    """The texts :func:`top_k_openings_per_student` fits its text space on for these inputs.

    A space fitted on them (``TextSpace.fit``) and passed as ``text_space`` to each call over a
    subset of the students gives those students exactly the candidates of one call over all.
    """
    o_idx, _, s_idx, _ = _scorable(students, openings, programs)
    if o_idx.size == 0 or not s_idx:
        return []
    prog_ids = sorted({students[i].program_id for i in s_idx})
    return [*(program_text(programs[p]) for p in prog_ids), *(opening_text(openings[int(i)]) for i in o_idx)]


def opening_vectors(space: TextSpace, openings: Sequence[OpeningProfile]) -> sp.csr_matrix:
    """The scorable openings' text vectors as :func:`top_k_openings_per_student` builds them (terms
    × openings), for callers that score many groups of students against the same openings."""
    o_idx = np.array([i for i, o in enumerate(openings) if unscorable_opening(o) is None], dtype=np.int64)
    return sp.csr_matrix(_transform_unique(space, [opening_text(openings[int(i)]) for i in o_idx]).T)


def merge_candidates(parts: Sequence[tuple[np.ndarray, Candidates]], student_ids: Sequence[str]) -> Candidates:
    """One :class:`Candidates` of disjoint groups of students scored separately against the same
    openings (and text space): ``(positions, candidates)`` per group, ``positions[i]`` being the
    position in ``student_ids`` (the whole, ids unique) of the group's student ``i``.  Equal, array
    for array, to scoring all students at once.
    """
    if not parts:
        empty = np.zeros(0)
        return Candidates(empty.astype(np.int32), empty.astype(np.int32), empty, empty, (), (), 0)
    s_all = np.concatenate([np.asarray(pos, dtype=np.int64)[c.student_index] for pos, c in parts])
    o_all = np.concatenate([c.opening_index for _, c in parts]).astype(np.int64)
    z_all = np.concatenate([c.logit for _, c in parts])
    p_all = np.concatenate([c.score for _, c in parts])
    order = np.lexsort((o_all, -z_all, s_all))  # by student, best first, ties to the lower opening
    position = {sid: i for i, sid in enumerate(student_ids)}
    bad = sorted((u for _, c in parts for u in c.unscorable_students), key=lambda u: position[u.id])
    return Candidates(
        student_index=s_all[order].astype(np.int32), opening_index=o_all[order].astype(np.int32),
        score=p_all[order], logit=z_all[order], unscorable_students=tuple(bad),
        unscorable_openings=parts[0][1].unscorable_openings, pairs_scored=sum(c.pairs_scored for _, c in parts))

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
    opening_vectors: sp.csr_matrix | None = None,
) -> Candidates:
    """The ``k`` best openings per scorable student under the student↔opening ``model``.

    Exactly the top ``k`` of scoring every pair (ties: lower opening index first), computed
    group by group; ``logit`` is bit for bit ``student_opening_logit`` of the pair's feature row.
    Unscorable students and openings are left out and listed with reasons.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    model = model if model is not None else prior_model(Pairing.STUDENT_OPENING)
    if tuple(model.feature_names_) != STUDENT_OPENING_FEATURES:
        raise ValueError("top_k_openings_per_student needs a student↔opening model")
    w = dict(zip(model.feature_names_, (float(c) for c in model.coef_), strict=True))
    b0 = float(model.intercept_)

    o_idx, bad_open, s_idx, bad_stud = _scorable(students, openings, programs)
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
    r_rows: list[int] = []
    r_cols: list[int] = []
    n_req = np.ones(n_open)  # required skills per opening (1 where none: the count is then 0 anyway)
    for j, o in enumerate(ops):
        req = {normalize(x).strip() for x in o.required_skills} - {""}
        n_req[j] = max(1, len(req))
        for sk in req:
            r_rows.append(j)
            r_cols.append(skill_tab.setdefault(sk, len(skill_tab)))
    n_skills = max(1, len(skill_tab))
    # Binary skills × openings: a student's row times it counts the required skills they have; the
    # share is then count / required, one division, exactly as ``share_covered`` computes it.
    req_t = sp.csr_matrix((np.ones(len(r_rows)), (r_cols, r_rows)), shape=(n_skills, n_open))
    skill_lookup = dict(skill_tab)
    levels = {lv for o in ops for lv in o.eligible_levels}
    level_bad = {lv: np.array([bool(o.eligible_levels) and lv not in o.eligible_levels for o in ops]) for lv in levels}
    any_levels = np.array([bool(o.eligible_levels) for o in ops])

    # --- programs: the shared part of the log-odds ---------------------------------------------
    prog_ids = sorted({students[i].program_id for i in s_idx})
    p_of = {p: n for n, p in enumerate(prog_ids)}
    p_texts = [program_text(programs[p]) for p in prog_ids]
    o_texts = [opening_text(o) for o in ops]
    # The same texts scoring_corpus gives: a space fitted on them once serves every part of a run.
    space = text_space if text_space is not None else TextSpace.fit([*p_texts, *o_texts])
    # Converted once, not per chunk; a caller scoring groups of students apart passes it in.
    o_vec_t = opening_vectors if opening_vectors is not None else sp.csr_matrix(_transform_unique(space, o_texts).T)
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

    def program_rows(chunk: list[str]) -> np.ndarray:
        """The program part of the log-odds, rounded exactly as ``student_opening_logit`` does."""
        vecs = _transform_unique(space, [p_texts[p_of[p]] for p in chunk])
        sims = np.asarray((vecs @ o_vec_t).toarray(), dtype=np.float64)
        np.clip(sims, 0.0, 1.0, out=sims)  # as text.cosine
        first, *rest = STUDENT_OPENING_PROGRAM_PART
        out = b0 + w[first] * sims
        for r, p_id in enumerate(chunk):
            p = programs[p_id]
            rel = relation(p)
            amount, success = history_vectors(p.class_code)
            coop = coop_by_college.get(p.college_id)
            terms: dict[str, np.ndarray | None] = {
                "target_major": rel == 3,
                "same_major_class": rel == 2,
                "same_major_category": rel == 1,
                "history_placements": amount,
                "history_success": success,
                "level_ineligible": level_bad.get(p.level, any_levels),
                "past_cooperation": None if coop is None else coop[ent_codes],
            }
            row = out[r]
            for name in rest:  # one rounded addition per term, in the canonical order
                x = terms[name]
                if x is not None:  # an absent term adds ±0.0, which changes no value
                    row += w[name] * x
        return out

    # --- students ------------------------------------------------------------------------------
    open_pos: dict[str, list[int]] = defaultdict(list)
    for n, i in enumerate(o_idx):
        open_pos[openings[int(i)].id].append(n)
    groups: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    norm_cache: dict[str, str] = {}

    def norm(x: str) -> str:
        got = norm_cache.get(x)
        if got is None:
            got = norm_cache[x] = normalize(x).strip()
        return got

    for i in s_idx:
        s = students[i]
        p = programs[s.program_id]
        city_key = norm(s.city or p.city)
        prov_key = norm(s.province or p.province)
        g_city = city_tab.get(city_key, -2) if city_key else -1  # -2: a known city without openings
        g_prov = prov_tab.get(prov_key, -2) if prov_key else -1
        groups[(s.program_id, g_city, g_prov)].append(i)

    w_city, w_prov = w["same_city"], w["same_province"]
    w_skill, w_pref, w_grade = w["skill_overlap"], w["preference"], w["grade"]
    out_s: list[np.ndarray] = []
    out_o: list[np.ndarray] = []
    out_z: list[np.ndarray] = []
    scored = 0
    by_program: dict[str, list[tuple[int, int, list[int]]]] = defaultdict(list)
    for (pid, g_city, g_prov), members in groups.items():
        by_program[pid].append((g_city, g_prov, members))

    # With non-negative student-level weights (always true of the priors) a faster exact path
    # applies: every student term is sparse and only raises scores (see _sparse_program).
    sparse_ok = min(w_city, w_prov, w_skill, w_pref) >= 0.0
    no_cols = np.zeros(0, dtype=np.int64)
    city_open = {c: np.flatnonzero(o_city == c) for c in range(len(city_tab))}
    prov_open = {r: np.flatnonzero(o_prov == r) for r in range(len(prov_tab))}

    def geo_columns(g_city: int, g_prov: int) -> tuple[np.ndarray, np.ndarray]:
        """Openings in the group's city, and in its province but another city (as geo_values)."""
        in_city = city_open.get(g_city, no_cols)
        in_prov = prov_open.get(g_prov, no_cols)
        return in_city, in_prov[o_city[in_prov] != g_city] if g_city >= 0 else in_prov

    def pref_pairs(members: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(member row, opening column, preference term) of every ranked scorable opening."""
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for m, i in enumerate(members):
            for oid, rank in students[i].preferences.items():
                if rank >= 1:
                    for pos_j in open_pos.get(oid, ()):
                        rows.append(m)
                        cols.append(pos_j)
                        vals.append(w_pref * (1.0 / rank))
        return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(vals, dtype=np.float64)

    def skill_terms(members: Sequence[int], cols: np.ndarray | None = None) -> sp.csr_matrix:
        """members × openings (or × ``cols``): ``w_skill · share``, stored where the share is > 0."""
        have = _skill_rows([students[i] for i in members], skill_lookup, n_skills)
        counts = sp.csr_matrix(have @ (req_t if cols is None else req_t[:, cols]))
        counts.data = w_skill * (counts.data / (n_req if cols is None else n_req[cols])[counts.indices])
        return counts

    for start in range(0, len(prog_ids), _PROGRAM_CHUNK):
        chunk = prog_ids[start : start + _PROGRAM_CHUNK]
        base = program_rows(chunk)
        for r_i, pid in enumerate(chunk):
            p_row = base[r_i]
            if sparse_ok:
                members = [i for _, _, ms in by_program[pid] for i in ms]
                geo_rows: list[np.ndarray] = []
                geo_cols: list[np.ndarray] = []
                geo_vals: list[np.ndarray] = []
                m0 = 0
                for g_city, g_prov, ms in by_program[pid]:
                    in_city, in_prov = geo_columns(g_city, g_prov)
                    cols = np.concatenate([in_city, in_prov])
                    vals = np.concatenate([np.full(in_city.size, w_city), np.full(in_prov.size, w_prov)])
                    geo_rows.append(np.repeat(np.arange(m0, m0 + len(ms)), cols.size))
                    geo_cols.append(np.tile(cols, len(ms)))
                    geo_vals.append(np.tile(vals, len(ms)))
                    m0 += len(ms)
                shape = (len(members), n_open)
                # Student part, entrywise in the canonical order: (geo + skill) + preference.
                extra = sp.csr_matrix(
                    (np.concatenate(geo_vals), (np.concatenate(geo_rows), np.concatenate(geo_cols))), shape=shape
                )
                if w_skill != 0.0 and req_t.nnz:
                    extra = sp.csr_matrix(extra + skill_terms(members))
                q_rows, q_cols, q_vals = pref_pairs(members)
                if w_pref != 0.0 and q_rows.size:
                    extra = sp.csr_matrix(extra + sp.csr_matrix((q_vals, (q_rows, q_cols)), shape=shape))
                grades = w_grade * np.array([grade_value(students[i].grade) for i in members])
                rows_k, cols_k, z_k, n_scored = _sparse_program(p_row, extra, grades, kk)
                scored += n_scored
                out_s.append(np.asarray(members, dtype=np.int64)[rows_k])
                out_o.append(o_idx[cols_k])
                out_z.append(z_k)
                continue
            for g_city, g_prov, members in by_program[pid]:
                in_city, in_prov = geo_columns(g_city, g_prov)
                geo = np.zeros(n_open)
                geo[in_city] = w_city
                geo[in_prov] = w_prov
                q_rows, q_cols, q_vals = pref_pairs(members)
                grades = w_grade * np.array([grade_value(students[i].grade) for i in members])
                cand = _dense_candidates(p_row + geo, w_skill, w_pref if q_rows.size else 0.0, grades, kk,
                                         abs(w_city) + abs(w_prov))
                if q_rows.size:
                    cand = np.union1d(cand, q_cols)
                # Student part in the canonical order: ((geo + skill) + preference) + grade.
                s_part = np.repeat(geo[cand][None, :], len(members), axis=0)
                if w_skill != 0.0 and req_t.nnz:
                    s_part += skill_terms(members, cand).toarray()
                if w_pref != 0.0 and q_rows.size:
                    pos = np.searchsorted(cand, q_cols)
                    np.add.at(s_part, (q_rows, pos), q_vals)  # one term per (student, opening)
                s_part += grades[:, None]
                z = p_row[cand][None, :] + s_part
                scored += z.size
                top = _top_rows(z, kk)
                out_s.append(np.repeat(np.asarray(members, dtype=np.int64), top.shape[1]))
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


# Safety margin of the pruning bounds, relative to the magnitudes involved.  Each computed score
# is within a few units of 2^-53 (≈ 1.1e-16) of the real sum of its rounded terms, relative to the
# terms' magnitudes; 1e-12 is over a thousand times that, so a pair pruned with this margin is
# beaten *strictly* by k others in floating point too, whatever the tie-break.
_MARGIN = 1e-12


def _sparse_program(
    p: np.ndarray, extra: sp.csr_matrix, grades: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Exact top k per row of ``p[None, :] + (extra + grades[:, None])`` (``extra`` sparse, ≥ 0).

    ``p`` is the program part of the log-odds, ``extra`` the student part without the grade term
    (geo + skill + preference, non-negative), ``grades`` the grade term per row.  Returns (row,
    column, log-odds) of the k best per row, ties to the lower column, and the number of distinct
    pairs evaluated.

    Why nothing pruned can be in a row's top k.  Let T be the k columns with the largest ``p`` and
    ``θ = min p[T]``; the dense block D holds every column with ``p ≥ θ − m``, m = ``_MARGIN`` ·
    (1 + |θ| + max |grade|) (so T ⊆ D, and every tie or near-tie of θ is in D).  For a row with
    grade term γ and a column c the score is ``fl(p[c] + fl(e + γ))`` with e = extra[row, c] ≥ 0.
    Rounding is monotone, so for t ∈ T: ``z(t) ≥ fl(p[t] + γ) ≥ fl(θ + γ)``.  A column c ∉ D with
    e = 0 scores ``fl(p[c] + γ)`` where the real ``p[c] + γ < θ + γ − m``; since m exceeds four
    units in the last place of |θ| + |γ|, ``fl(p[c] + γ) < fl(θ + γ)``: all k columns of T beat it
    strictly, so it is out of the top k whatever the tie-break.  Every other column (in D, or with
    e > 0) is scored exactly and kept if it reaches the row's k-th best score in D (ties kept); the
    final sort by (−score, column) over this superset of the true top k returns exactly it.
    """
    n = p.shape[0]
    g = extra.shape[0]
    if k < n:
        theta = np.partition(p, n - k)[n - k]
        m = _MARGIN * (1.0 + abs(float(theta)) + float(np.abs(grades).max()))
        dense_cols = np.flatnonzero(p >= theta - m)
    else:
        dense_cols = np.arange(n)
    s_dense = extra[:, dense_cols].toarray()
    s_dense += grades[:, None]
    dense = p[dense_cols][None, :] + s_dense
    d = dense_cols.size
    floor = np.partition(dense, d - k, axis=1)[:, d - k] if d >= k else np.full(g, -np.inf)
    coo = extra.tocoo()
    in_dense = np.zeros(n, dtype=bool)
    in_dense[dense_cols] = True
    outside = ~in_dense[coo.col]
    r = coo.row[outside].astype(np.int64)
    c = coo.col[outside].astype(np.int64)
    z = p[c] + (coo.data[outside] + grades[r])
    keep = z >= floor[r]
    rows = np.concatenate([np.repeat(np.arange(g), d), r[keep]])
    cols = np.concatenate([np.tile(dense_cols, g), c[keep]])
    vals = np.concatenate([dense.ravel(), z[keep]])
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(g))
    first = (np.arange(rows.size) - starts[rows]) < k
    # Each pair once: the dense block, plus the non-zeros outside it (those inside are in the block).
    return rows[first], cols[first], vals[first], int(dense.size + r.size)


def _dense_candidates(
    u: np.ndarray, w_skill: float, w_pref: float, grades: np.ndarray, k: int, geo_size: float
) -> np.ndarray:
    """Openings that can enter some member's top k when student weights may be negative.

    ``u = p + geo`` is the group's shared part (program part plus its geo term).  A member's score
    at opening j is ``u_j + skill + pref + γ`` up to rounding, with skill in [s_lo, s_hi] =
    [min(0, w_skill), max(0, w_skill)], pref 0 unless the member ranked j (ranked openings are
    added by the caller) and otherwise in [p_lo, ·] with p_lo = min(0, w_pref), γ the member's
    grade term.  The k openings with the largest u (u ≥ θ, the k-th largest) therefore score at
    least ``θ + s_lo + p_lo + γ`` for every member, and an unranked j at most ``u_j + s_hi + γ``:
    if ``u_j + s_hi < θ + s_lo + p_lo − m_j`` it is beaten by k openings for every member.  The
    margin m_j = ``_MARGIN`` · (1 + |u_j| + |θ| + Σ|weights| + max|γ|) exceeds the rounding of
    every sum involved (computing u, the scores and this test) by a factor of over a thousand, so
    the inequality holds strictly in floating point as well.  Returns sorted column indices.
    """
    n = u.shape[0]
    if k >= n:
        return np.arange(n)
    s_lo, s_hi, p_lo = min(0.0, w_skill), max(0.0, w_skill), min(0.0, w_pref)
    theta = float(np.partition(u, n - k)[n - k])
    spread = 1.0 + abs(theta) + abs(w_skill) + abs(w_pref) + geo_size + float(np.abs(grades).max())
    m = _MARGIN * (spread + np.abs(u))
    return np.flatnonzero(u + s_hi >= theta + s_lo + p_lo - m)


def _transform_unique(space: TextSpace, texts: Sequence[str]) -> sp.csr_matrix:
    """``space.transform(texts)``, analysing each distinct text once (rows are per-text identical)."""
    uniq: dict[str, int] = {}
    inv = np.fromiter((uniq.setdefault(t, len(uniq)) for t in texts), dtype=np.int64, count=len(texts))
    vecs = space.transform(list(uniq))
    return sp.csr_matrix(vecs[inv]) if len(uniq) < len(texts) else vecs


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
