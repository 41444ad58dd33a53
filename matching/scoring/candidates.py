"""Top-k openings per student for allocation, exact, without a students × openings matrix.

The student↔opening log-odds split into a part shared by all students of one program
(text similarity, catalogue relations, history, level, cooperation: ``base[p, o]``), a geographic
part shared by all of them who live in the same city (``geo[c, o]``), and a small student part
(skill coverage, preference, grade).  Students are grouped by (program, city, province); for a
group, ``u = base + geo`` is one vector over openings.  Each member's exact scores at the k
openings with the largest ``u`` give a floor for their k-th best; an opening can beat it only if
``u`` plus the largest possible skill term reaches it, and for a member who shares no skill with
it only if ``u`` alone does.  So the members are scored exactly at those k openings, at their own
ranked openings, at the near-ties and, elsewhere, only where they have a skill the opening
requires; identical postings beyond the k-th of their kind are never scored (they lose every tie).
The result equals scoring all pairs; work and memory grow with students × candidates, never
students × openings.

"Exactly" is meant bit for bit: a pair's log-odds is the float ``features.student_opening_logit``
defines (one fixed order of the rounded additions: the program part, then the student part), the
vectorised code performs the same additions in the same order, and ties are equal floats, broken
by the lower opening index.  The pruning bounds carry a margin far above rounding error, so a
pruned pair is beaten strictly by k others in floating point too (the proof is at ``_group_top``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

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

__all__ = ["Candidates", "OpeningIndex", "index_openings", "merge_candidates", "scoring_corpus",
           "top_k_openings_per_student"]

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


def _scorable_openings(openings: Sequence[OpeningProfile]) -> tuple[np.ndarray, tuple[Unscorable, ...]]:
    """Indices of the scorable openings, and the others with their reasons."""
    open_why = [unscorable_opening(o) for o in openings]
    bad_open = tuple(Unscorable(o.id, r) for o, r in zip(openings, open_why, strict=True) if r is not None)
    return np.array([i for i, r in enumerate(open_why) if r is None], dtype=np.int64), bad_open


def _scorable_students(students: Sequence[StudentProfile], programs: Mapping[str, ProgramProfile],
                       ) -> tuple[list[int], tuple[Unscorable, ...]]:
    """Indices of the scorable students, and the others with their reasons."""
    # A program's own data is checked once, not once per student.
    prog_why = {pid: unscorable_program(p) for pid, p in programs.items()}
    stud_why = [
        unscorable_student(s, programs.get(s.program_id)) if prog_why.get(s.program_id) is not None
        or s.program_id not in programs else unscorable_student_own(s)
        for s in students
    ]
    bad_stud = tuple(Unscorable(s.id, r) for s, r in zip(students, stud_why, strict=True) if r is not None)
    return [i for i, r in enumerate(stud_why) if r is None], bad_stud


def scoring_corpus(students: Sequence[StudentProfile], openings: Sequence[OpeningProfile],
                   programs: Mapping[str, ProgramProfile]) -> list[str]:
    """The texts :func:`top_k_openings_per_student` fits its text space on for these inputs.

    A space fitted on them (``TextSpace.fit``) and passed as ``text_space`` to each call over a
    subset of the students gives those students exactly the candidates of one call over all.
    """
    o_idx, _ = _scorable_openings(openings)
    s_idx, _ = _scorable_students(students, programs)
    if o_idx.size == 0 or not s_idx:
        return []
    prog_ids = sorted({students[i].program_id for i in s_idx})
    return [*(program_text(programs[p]) for p in prog_ids), *(opening_text(openings[int(i)]) for i in o_idx)]


@dataclass(frozen=True)
class OpeningIndex:
    """What :func:`top_k_openings_per_student` derives from the openings alone: built once per run
    (:func:`index_openings`) and shared by every call over a part of the students."""

    o_idx: np.ndarray  # positions of the scorable openings; every array below is over them
    unscorable: tuple[Unscorable, ...]
    o_city: np.ndarray  # city code per opening (-1: none)
    city_tab: dict[str, int]
    o_prov: np.ndarray
    prov_tab: dict[str, int]
    ent_codes: np.ndarray
    ent_tab: dict[str, int]
    grp_codes: np.ndarray  # occupation group code per opening
    grp_tab: dict[str, int]
    n_req: np.ndarray  # required skills per opening (1 where none: the count is then 0 anyway)
    req: sp.csc_matrix  # skills × openings, binary
    skill_tab: dict[str, int]  # normalised skill → row of ``req``
    skill_set: np.ndarray  # per opening, an id of its set of required skills
    level_bad: dict[str, np.ndarray]  # level → openings whose eligible levels exclude it
    any_levels: np.ndarray  # openings that name eligible levels
    by_major: dict[str, list[int]]  # inverted index of stated targets: major, 专业类, 专业大类
    by_class: dict[str, list[int]]
    by_category: dict[str, list[int]]
    positions: dict[str, list[int]]  # opening id → positions
    city_open: dict[int, np.ndarray]  # city code → openings there
    prov_open: dict[int, np.ndarray]
    vectors: sp.csr_matrix  # the openings' text vectors in the run's space, terms × openings


def index_openings(openings: Sequence[OpeningProfile], space: TextSpace) -> OpeningIndex:
    """The :class:`OpeningIndex` of ``openings`` in the text space ``space``.

    Passed as ``opening_index`` with the same ``openings`` and ``text_space = space`` to each call
    of :func:`top_k_openings_per_student` over a part of the students, it saves every call this
    work and changes no result.
    """
    o_idx, bad_open = _scorable_openings(openings)
    ops = [openings[int(i)] for i in o_idx]
    n_open = len(ops)
    o_city, city_tab = _codes([o.city for o in ops])
    o_prov, prov_tab = _codes([o.province for o in ops])
    ent_codes, ent_tab = _codes([o.enterprise_id for o in ops])
    grp_codes, grp_tab = _codes([occupation_group(o.occupation_code) for o in ops])
    skill_tab: dict[str, int] = {}
    r_rows: list[int] = []
    r_cols: list[int] = []
    n_req = np.ones(n_open)
    req_bounds = [0]
    for j, o in enumerate(ops):
        req = {normalize(x).strip() for x in o.required_skills} - {""}
        n_req[j] = max(1, len(req))
        req_bounds.append(req_bounds[-1] + len(req))
        for sk in req:
            r_rows.append(j)
            r_cols.append(skill_tab.setdefault(sk, len(skill_tab)))
    kinds: dict[tuple[int, ...], int] = {}
    skill_set = np.array([kinds.setdefault(tuple(sorted(r_cols[a:b])), len(kinds))
                          for a, b in pairwise(req_bounds)], dtype=np.int64)
    # Binary skills × openings: a student's row times it counts the required skills they have; the
    # share is then count / required, one division, exactly as ``share_covered`` computes it.
    req_t = sp.csc_matrix((np.ones(len(r_rows)), (r_cols, r_rows)), shape=(max(1, len(skill_tab)), n_open))
    levels = {lv for o in ops for lv in o.eligible_levels}
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
    positions: dict[str, list[int]] = defaultdict(list)
    for n, o in enumerate(ops):
        positions[o.id].append(n)
    return OpeningIndex(
        o_idx=o_idx, unscorable=bad_open, o_city=o_city, city_tab=city_tab, o_prov=o_prov, prov_tab=prov_tab,
        ent_codes=ent_codes, ent_tab=ent_tab, grp_codes=grp_codes, grp_tab=grp_tab, n_req=n_req, req=req_t,
        skill_tab=skill_tab, skill_set=skill_set,
        level_bad={lv: np.array([bool(o.eligible_levels) and lv not in o.eligible_levels for o in ops])
                   for lv in levels},
        any_levels=np.array([bool(o.eligible_levels) for o in ops], dtype=bool),
        by_major=dict(by_major), by_class=dict(by_class), by_category=dict(by_category), positions=dict(positions),
        city_open={c: np.flatnonzero(o_city == c) for c in range(len(city_tab))},
        prov_open={r: np.flatnonzero(o_prov == r) for r in range(len(prov_tab))},
        vectors=sp.csr_matrix(_transform_unique(space, [opening_text(o) for o in ops]).T),
    )


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
    # Each part's pairs come by student, best first, ties to the lower opening, and a student is in
    # one part only: a stable sort by student keeps that order within each student.
    order = np.argsort(s_all, kind="stable")
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
    opening_index: OpeningIndex | None = None,
) -> Candidates:
    """The ``k`` best openings per scorable student under the student↔opening ``model``.

    Exactly the top ``k`` of scoring every pair (ties: lower opening index first), computed
    group by group; ``logit`` is bit for bit ``student_opening_logit`` of the pair's feature row.
    Unscorable students and openings are left out and listed with reasons.  A caller scoring parts
    of the students apart passes the same ``text_space`` and ``opening_index`` (built for it by
    :func:`index_openings`) to every part.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    model = model if model is not None else prior_model(Pairing.STUDENT_OPENING)
    if tuple(model.feature_names_) != STUDENT_OPENING_FEATURES:
        raise ValueError("top_k_openings_per_student needs a student↔opening model")
    w = dict(zip(model.feature_names_, (float(c) for c in model.coef_), strict=True))
    b0 = float(model.intercept_)

    o_idx, bad_open = (opening_index.o_idx, opening_index.unscorable) if opening_index is not None \
        else _scorable_openings(openings)
    s_idx, bad_stud = _scorable_students(students, programs)
    empty = np.zeros(0)
    if o_idx.size == 0 or not s_idx:
        return Candidates(empty.astype(np.int32), empty.astype(np.int32), empty, empty, bad_stud, bad_open, 0)
    n_open = int(o_idx.size)
    kk = min(k, n_open)

    # --- programs: the shared part of the log-odds ---------------------------------------------
    prog_ids = sorted({students[i].program_id for i in s_idx})
    p_of = {p: n for n, p in enumerate(prog_ids)}
    p_texts = [program_text(programs[p]) for p in prog_ids]
    # The same texts scoring_corpus gives: a space fitted on them once serves every part of a run.
    space = text_space if text_space is not None else TextSpace.fit(
        [*p_texts, *(opening_text(openings[int(i)]) for i in o_idx)])
    ix = opening_index if opening_index is not None else index_openings(openings, space)
    o_vec_t, ent_tab, ent_codes, grp_tab, grp_codes = ix.vectors, ix.ent_tab, ix.ent_codes, ix.grp_tab, ix.grp_codes
    city_tab, prov_tab, o_city, n_req = ix.city_tab, ix.prov_tab, ix.o_city, ix.n_req
    skill_lookup = dict(ix.skill_tab)  # _skill_rows adds the raw spellings it meets: this call's own copy
    n_skills = ix.req.shape[0]
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

    def relation(p: ProgramProfile) -> np.ndarray:
        # Same levels as features.catalogue_relation, the strongest relation wins.
        rel = np.zeros(n_open, dtype=np.int8)
        if p.category_code:
            rel[ix.by_category.get(p.category_code, [])] = 1
        if p.class_code:
            rel[ix.by_class.get(p.class_code, [])] = 2
        rel[ix.by_major.get(p.major_code, [])] = 3
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
                "level_ineligible": ix.level_bad.get(p.level, ix.any_levels),
                "past_cooperation": None if coop is None else coop[ent_codes],
            }
            row = out[r]
            for name in rest:  # one rounded addition per term, in the canonical order
                x = terms[name]
                if x is not None:  # an absent term adds ±0.0, which changes no value
                    row += w[name] * x
        return out

    # --- students ------------------------------------------------------------------------------
    open_pos = ix.positions
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

    no_cols = np.zeros(0, dtype=np.int64)
    city_open, prov_open = ix.city_open, ix.prov_open
    skill_on = w_skill != 0.0 and ix.req.nnz > 0

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

    for start in range(0, len(prog_ids), _PROGRAM_CHUNK):
        chunk = prog_ids[start : start + _PROGRAM_CHUNK]
        base = program_rows(chunk)
        for r_i, pid in enumerate(chunk):
            p_row = base[r_i]
            for g_city, g_prov, members in by_program[pid]:
                in_city, in_prov = geo_columns(g_city, g_prov)
                geo = np.zeros(n_open)
                geo[in_city] = w_city
                geo[in_prov] = w_prov
                group = _Group(
                    p_row, geo, _skill_rows([students[i] for i in members], skill_lookup, n_skills),
                    ix.req, n_req, w_skill if skill_on else 0.0, w_pref, *pref_pairs(members),
                    w_grade * np.array([grade_value(students[i].grade) for i in members]), ix.skill_set)
                rows_k, cols_k, z_k, n_scored = _group_top(group, kk)
                scored += n_scored
                out_s.append(np.asarray(members, dtype=np.int64)[rows_k])
                out_o.append(o_idx[cols_k])
                out_z.append(z_k)

    s_all = np.concatenate(out_s)
    o_all = np.concatenate(out_o)
    z_all = np.concatenate(out_z)
    # Each group's pairs come by member, best first, ties to the lower opening, and a student is in
    # one group only: a stable sort by student keeps that order within each student.
    order = np.argsort(s_all, kind="stable")
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


@dataclass(frozen=True)
class _Group:
    """One group of students (same program, city and province) and its shared vectors."""

    p: np.ndarray  # the program part of the log-odds, per opening
    geo: np.ndarray  # the group's geo term, per opening
    have: sp.csr_matrix  # members × skills, binary
    req: sp.csc_matrix  # skills × openings, binary
    n_req: np.ndarray  # required skills per opening (≥ 1)
    w_skill: float  # 0 when no opening requires a skill
    w_pref: float
    q_rows: np.ndarray  # (member, opening, preference term) of every ranked opening
    q_cols: np.ndarray
    q_vals: np.ndarray
    grades: np.ndarray  # the grade term per member
    skill_set: np.ndarray  # per opening, an id of its set of required skills

    def dense(self, cols: np.ndarray) -> np.ndarray:
        """members × ``cols`` (sorted) log-odds, in the canonical order p + (((geo + skill) + pref) + grade)."""
        s_part = np.repeat(self.geo[cols][None, :], self.have.shape[0], axis=0)
        if self.w_skill != 0.0:
            counts = (self.have @ self.req[:, cols]).toarray()
            s_part += self.w_skill * (counts / self.n_req[cols][None, :])  # where nothing is shared: ±0.0
        if self.w_pref != 0.0 and self.q_rows.size:
            pos = np.searchsorted(cols, self.q_cols)
            hit = pos < cols.size
            hit[hit] = cols[pos[hit]] == self.q_cols[hit]
            np.add.at(s_part, (self.q_rows[hit], pos[hit]), self.q_vals[hit])  # one term per (member, opening)
        s_part += self.grades[:, None]
        z: np.ndarray = self.p[cols][None, :] + s_part
        return z

    def ranked(self) -> np.ndarray:
        """The log-odds of every (member, ranked opening) of ``q_rows``/``q_cols``, canonical order."""
        r, c = self.q_rows, self.q_cols
        s_part = self.geo[c].copy()
        if self.w_skill != 0.0:
            counts = np.asarray(self.have[r].multiply(self.req[:, c].T.tocsr()).sum(axis=1)).ravel()
            s_part += self.w_skill * (counts / self.n_req[c])
        if self.w_pref != 0.0:
            s_part += self.q_vals
        z: np.ndarray = self.p[c] + (s_part + self.grades[r])
        return z

    def shared_skills(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(member, column, log-odds without a preference term) of every pair at ``cols`` where the
        member has a skill the opening requires, in the canonical order."""
        counts = sp.coo_matrix(self.have @ self.req[:, cols])
        r = counts.row.astype(np.int64)
        c = cols[counts.col]
        skill = self.w_skill * (counts.data / self.n_req[c])
        return r, c, self.p[c] + ((self.geo[c] + skill) + self.grades[r])

    def first_of_kind(self, cols: np.ndarray, k: int, ranked: np.ndarray) -> np.ndarray:
        """Of ``cols`` (sorted), every column ``ranked`` marks and the ``k`` lowest others of each kind.

        Unranked columns with equal program part, geo term and required skills score equal floats
        for every member and ties go to the lower column, so the (k+1)-th of a kind is beaten by
        k of its own kind."""
        free = cols[~ranked[cols]]
        if free.size <= k:
            return cols
        p, geo, kind = self.p[free], self.geo[free], self.skill_set[free]
        order = np.lexsort((free, kind, geo, p))
        p, geo, kind = p[order], geo[order], kind[order]
        new = np.ones(free.size, dtype=bool)
        new[1:] = (p[1:] != p[:-1]) | (geo[1:] != geo[:-1]) | (kind[1:] != kind[:-1])
        starts = np.flatnonzero(new)
        rank = np.arange(free.size) - starts[np.cumsum(new) - 1]
        return np.union1d(free[order[rank < k]], cols[ranked[cols]])


def _group_top(g: _Group, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Exact top k per member of ``g``: (member, column, log-odds) by member, best first, ties to
    the lower column, and the number of distinct pairs scored.

    A member's score at column c is ``u[c] + skill + pref + γ`` up to rounding, where u = p + geo
    is shared by the group, skill ∈ [min(0, w_skill), max(0, w_skill)] is non-zero only where the
    member has a required skill, pref is 0 unless the member ranked c, γ the member's grade term.

    Why nothing left out can be in a member's top k.  Every member's exact scores at the k columns
    T with the largest u give a floor f for their top k (the k-th best there).  Each member's own
    ranked columns are scored exactly.  At any other column c the member scores at most
    ``u[c] + s + γ`` plus rounding, s = the skill term there (0 without a shared skill, never above
    max(0, w_skill)).  With ``low = min(f − γ)`` over the members and m = ``_MARGIN`` · (1 + the
    magnitudes involved), over a thousand times any rounding of these sums, such a column with
    ``u[c] + max(0, w_skill) < low − m`` is beaten strictly by k columns of T for every member;
    so is one with ``u[c] < low − m`` for a member who shares no skill with it.  Every remaining
    pair is scored exactly: the columns with ``u[c] ≥ low − m`` (near-ties of T) for all members,
    the others only where a skill is shared; pairs below the member's floor are dropped before
    the final sort, which cannot drop one of the top k.
    """
    u = g.p + g.geo
    n = u.shape[0]
    members = g.have.shape[0]
    if k >= n:
        cols = np.arange(n)
        z = g.dense(cols)
        rows, cols, vals = np.repeat(np.arange(members), n), np.tile(cols, members), z.ravel()
        n_scored = z.size
    else:
        top = np.sort(np.argpartition(-u, k - 1)[:k])
        z = g.dense(top)
        floors = np.partition(z, 0, axis=1)[:, 0]  # the k-th best of k columns: the smallest
        low = float(np.min(floors - g.grades))
        s_hi = max(0.0, g.w_skill)
        m = _MARGIN * (1.0 + abs(low) + float(np.abs(u).max()) + s_hi + abs(g.w_pref)
                       + float(np.abs(g.grades).max()))
        outside = np.ones(n, dtype=bool)
        outside[top] = False
        # The members' own ranked columns outside T, scored for them alone.
        ranked_pair = outside[g.q_cols]
        q_r, q_c = g.q_rows[ranked_pair], g.q_cols[ranked_pair]
        qz = replace(g, q_rows=q_r, q_cols=q_c, q_vals=g.q_vals[ranked_pair]).ranked()
        ranked_col = np.zeros(n, dtype=bool)
        ranked_col[q_c] = True
        near = g.first_of_kind(np.flatnonzero(outside & (u >= low - m)), k, ranked_col)
        parts_r = [np.repeat(np.arange(members), top.size), q_r]
        parts_c = [np.tile(top, members), q_c]
        parts_z = [z.ravel(), qz]
        n_scored = z.size + qz.size
        taken = q_r * n + q_c  # pairs already scored with their preference term

        def add(r: np.ndarray, c: np.ndarray, zs: np.ndarray) -> int:
            """Keep the pairs that reach the member's floor and are not scored already."""
            fresh = zs >= floors[r]
            fresh[fresh] = ~np.isin(r[fresh] * n + c[fresh], taken)
            parts_r.append(r[fresh])
            parts_c.append(c[fresh])
            parts_z.append(zs[fresh])
            return zs.size

        if near.size:
            n_scored += add(np.repeat(np.arange(members), near.size), np.tile(near, members), g.dense(near).ravel())
        if s_hi > 0.0:
            outside[near] = False
            reach = g.first_of_kind(np.flatnonzero(outside & (u + s_hi >= low - m)), k, ranked_col)
            if reach.size:
                n_scored += add(*g.shared_skills(reach))
        rows, cols, vals = np.concatenate(parts_r), np.concatenate(parts_c), np.concatenate(parts_z)
        good = vals >= floors[rows]  # the block of T and the ranked pairs; the others are filtered
        rows, cols, vals = rows[good], cols[good], vals[good]
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(members))
    best = (np.arange(rows.size) - starts[rows]) < k
    return rows[best], cols[best], vals[best], int(n_scored)


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
