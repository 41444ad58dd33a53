"""Rank catalogue entries (majors, occupations, programs...) for a free-text need.

The score of an entry is a convex mix of cosine similarities in the mixed-script text space
(see ``text``):

- ``text_similarity``: the need against the entry's whole text (name, description, keywords);
- ``name_similarity``: the need against the entry's name alone.  It rewards entries whose short
  official title appears in the need (a job title, a major name) even when a long description
  dilutes the whole-text cosine.  When the need is a title only (one short line), the name is
  the field it should be compared with, so it weighs more (``TITLE_NAME_WEIGHT``);
- ``expansion_similarity``: the need's title normalised and expanded with a job-vocabulary
  lexicon (see ``jobtitles``: ``货车司机`` → ``道路货运汽车驾驶员``), against the entry's whole
  text and name.  Present only when the title holds a lexicon word or a generic affix, with a
  lower weight than the need's own text.

- ``skills_similarity`` (``rank_need`` with skills): the need's skills against the entry's whole
  text, each skill weighted by its specificity (``skill_specificity``: a tool that every need
  lists says little), instead of the skills being pasted into the need's text;
- ``group_similarity``: the need against the entry's group (its 小类 for 大典 细类 codes, its
  broad occupation for O*NET-SOC codes, its 专业类 for six-digit majors: ``group_of``), i.e. the
  normalised sum of the members' vectors.  When the evidence is split between siblings of one
  group, the group as a whole outranks a lone entry elsewhere before the entries' own terms
  choose among the siblings.  An entry without siblings is its own group.
- ``sibling_similarity`` (the 小类 back-off, ``backoff_weight``): the score of the entry's best
  sibling in its group (its ``subcategory`` when the catalogue gives one, else ``group_of`` its
  code), all other terms included.  With weight ``w`` an entry scores ``(1 - w) × own + w ×
  best sibling``: when the evidence is split between siblings of one group (内科护士, 外科护士
  each half-matching ``护理病人``), the group's evidence (own + best sibling) is compared with a
  lone entry's before the siblings' own scores choose among them.  For ``w < 0.5`` the order
  within a group never changes (the best member still leads its siblings by ``(1 - 2w)`` times
  its own lead), and a catalogue without groups ranks exactly as without the term.

Entry names and descriptions are compared without their exclusion clauses (O*NET's "…, Except
Technical and Scientific Products", "Excludes …" sentences, Chinese ``（不含…）``): the
excluded words name what the entry is *not*.

Weights sum to one, so scores lie in [0, 1] and the contributions add up to the score exactly.
A need whose title has nothing to clean, no lexicon word and nothing to normalise is ranked
exactly as by the two text terms (and the group term) alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from matching.domain import CatalogEntry
from matching.scoring.jobtitles import JobTitleExpander
from matching.scoring.results import Contribution, Ranked, Unscorable, sort_contributions
from matching.scoring.text import TextSpace, has_content, normalize

__all__ = [
    "BACKOFF_WEIGHT",
    "EXPANSION_NAME_SHARE",
    "EXPANSION_WEIGHT",
    "FIELDED_NAME_WEIGHT",
    "GROUP_WEIGHT",
    "NAME_WEIGHT",
    "QUERY_BACKOFF_WEIGHT",
    "SHORT_TITLE_CHARS",
    "SKILLS_WEIGHT",
    "TEXT_WEIGHT",
    "TITLE_NAME_WEIGHT",
    "CatalogIndex",
    "NeedSimilarities",
    "SkillWeights",
    "best_sibling",
    "entry_text",
    "group_of",
    "is_title",
    "match_name",
    "need_text",
    "rank_catalog",
    "skill_specificity",
]

# Whole text carries most of the evidence; the name is a short, high-precision field.
TEXT_WEIGHT = 0.7
NAME_WEIGHT = 0.3
# A need that is only a title (one line of at most SHORT_TITLE_CHARS characters) is compared
# with entry names first: its name weight rises, the whole-text weight takes the rest.
TITLE_NAME_WEIGHT = NAME_WEIGHT
SHORT_TITLE_CHARS = 40
# Share of the score given to the expansion when there is one (the need's own text keeps the
# rest, in the proportions above), and the share of the name within the expansion similarity.
EXPANSION_WEIGHT = 0.4
EXPANSION_NAME_SHARE = 0.5
# Share of the group term, and of the skills term for a need with skills (fitted on dev data:
# benchmarks/scoring/RESULTS.md).
GROUP_WEIGHT = 0.0
SKILLS_WEIGHT = 0.1
# A need given by fields (``rank_need``: a title with a description or skills): the share of its
# title against entry names, and of the 小类 back-off (the best sibling's score; below 0.5 so that
# the order within a group is kept).  Fitted on the programmes-style dev set; a need given as one
# text (``rank``, a title alone) keeps NAME_WEIGHT / TITLE_NAME_WEIGHT and QUERY_BACKOFF_WEIGHT,
# which the job-title dev halves left at 0 (benchmarks/scoring/RESULTS.md).
FIELDED_NAME_WEIGHT = 0.5
BACKOFF_WEIGHT = 0.2
QUERY_BACKOFF_WEIGHT = 0.0

_EXCEPT = re.compile(r",?\s+except\b.*$|[(（]\s*(?:不含|除)[^)）]*[)）]", re.IGNORECASE)
_EXCLUDES = re.compile(r"(?:^|(?<=[.!?]))\s*(?:excludes?|does not include)\b[^.]*(?:\.|$)", re.IGNORECASE)
_HYPHEN_CODE = re.compile(r"^(\d+-\d+-\d+)-\d+$")
_SOC_CODE = re.compile(r"^(\d{2}-\d{3})\d(?:\.\d+)?$")
_MAJOR_CODE = re.compile(r"^(\d{4})\d{2}$")
_CIP_CODE = re.compile(r"^(\d{2}\.\d{2})\d{2}$")


def match_name(name: str) -> str:
    """An entry name as compared with needs: without its exclusion clause ("…, Except X")."""
    return _EXCEPT.sub("", name).strip() or name


def _match_description(text: str) -> str:
    return _EXCLUDES.sub(" ", text).strip() if text else text


def group_of(code: str) -> str | None:
    """The group an entry's code belongs to, read from the code's own hierarchy, or ``None``.

    大典 ``4-04-05-01`` → 小类 ``4-04-05``; O*NET-SOC ``15-1252.00`` → broad occupation
    ``15-125``; a six-digit major ``510205`` → 专业类 ``5102``; a CIP programme ``51.3801`` → its
    four-digit series ``51.38``.
    """
    for pattern in (_HYPHEN_CODE, _SOC_CODE, _MAJOR_CODE, _CIP_CODE):
        m = pattern.match(code.strip())
        if m:
            return m.group(1)
    return None


def entry_text(entry: CatalogEntry) -> str:
    """All text of a catalogue entry, name first."""
    return "\n".join(p for p in (entry.name, entry.description, " ".join(entry.keywords)) if p)


def _entry_match_text(entry: CatalogEntry) -> str:
    parts = (match_name(entry.name), _match_description(entry.description), " ".join(entry.keywords))
    return "\n".join(p for p in parts if p)


def skill_specificity(skill_lists: Sequence[Sequence[str]]) -> dict[str, float]:
    """Weight in [0, 1] of every skill: log(N / df) / log(N) over the needs that list skills.

    A skill every need lists gets 0, one listed once gets 1 (NFKC, case-folded keys).
    """
    lists = [{normalize(s).strip() for s in skills if normalize(s).strip()} for skills in skill_lists]
    lists = [s for s in lists if s]
    n = len(lists)
    df: dict[str, int] = {}
    for skills in lists:
        for s in skills:
            df[s] = df.get(s, 0) + 1
    if n < 2:
        return dict.fromkeys(df, 1.0)
    return {s: math.log(n / d) / math.log(n) for s, d in df.items()}


def need_text(title: str, description: str = "", skills: Sequence[str] = ()) -> str:
    """The text of a need (an opening, a query row): title, description and skills."""
    return "\n".join(p for p in (title, description, " ".join(skills)) if p)


@dataclass(frozen=True, slots=True)
class CatalogIndex:
    """A catalogue prepared for fast repeated ranking: build once, call ``rank`` per need.

    Entries without any text are left out of the index (they can never be ranked).
    """

    entries: tuple[CatalogEntry, ...]
    space: TextSpace
    full: sp.csr_matrix  # entries × features, unit rows
    names: sp.csr_matrix
    expander: JobTitleExpander | None = None
    title_name_weight: float = TITLE_NAME_WEIGHT
    expansion_weight: float = EXPANSION_WEIGHT
    expansion_name_share: float = EXPANSION_NAME_SHARE
    group_weight: float = GROUP_WEIGHT
    skills_weight: float = SKILLS_WEIGHT
    backoff_weight: float = BACKOFF_WEIGHT
    name_weight: float = FIELDED_NAME_WEIGHT
    query_backoff_weight: float = QUERY_BACKOFF_WEIGHT
    groups: sp.csr_matrix | None = None  # entries' groups × features, unit rows
    group_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _skill_rows: dict[str, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def build(
        cls,
        entries: Sequence[CatalogEntry],
        expander: JobTitleExpander | None = None,
        title_name_weight: float = TITLE_NAME_WEIGHT,
        expansion_weight: float = EXPANSION_WEIGHT,
        expansion_name_share: float = EXPANSION_NAME_SHARE,
        group_weight: float = GROUP_WEIGHT,
        skills_weight: float = SKILLS_WEIGHT,
        backoff_weight: float = BACKOFF_WEIGHT,
        name_weight: float = FIELDED_NAME_WEIGHT,
        query_backoff_weight: float = QUERY_BACKOFF_WEIGHT,
    ) -> CatalogIndex:
        """Fit the text space on the catalogue itself and vectorise every entry.

        ``expander`` cleans, normalises and expands job titles (``None``: no title handling; the
        service passes one built on its shipped vocabulary).  ``group_weight`` is the share of
        the group term (0 turns it off), ``skills_weight`` that of a need's skills in
        ``rank_need``.  ``name_weight`` (its title against entry names) and ``backoff_weight``
        (the 小类 back-off, ``sibling_similarity``, in [0, 0.5)) apply to a need given by fields
        (``rank_need`` with a description or skills besides its title);
        ``query_backoff_weight`` is the back-off of a need given as one text (``rank``, or a title
        alone).  With ``expander=None``, ``title_name_weight=NAME_WEIGHT``, ``group_weight=0``
        and ``query_backoff_weight=0``, ``rank`` is the plain two-term text ranking.
        """
        for w in (title_name_weight, expansion_weight, expansion_name_share, group_weight, skills_weight, name_weight):
            if not 0.0 <= w <= 1.0:
                raise ValueError("weights must lie in [0, 1]")
        if not (0.0 <= backoff_weight < 0.5 and 0.0 <= query_backoff_weight < 0.5):
            raise ValueError("backoff_weight must lie in [0, 0.5): the order within a group is kept")
        kept = tuple(e for e in entries if has_content(entry_text(e)))
        if not kept:
            raise ValueError("the catalogue has no entry with any text")
        space = TextSpace.fit([entry_text(e) for e in kept])
        full = space.transform([_entry_match_text(e) for e in kept])
        # Each entry's group: its code's group when that has two members or more, else itself.
        keys = [e.subcategory or group_of(e.code) or f"\0{e.code}" for e in kept]
        counts: dict[str, int] = {}
        for k in keys:
            counts[k] = counts.get(k, 0) + 1
        keys = [k if counts[k] > 1 else f"\0{e.code}" for k, e in zip(keys, kept, strict=True)]
        order = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        group_index = np.array([order[k] for k in keys], dtype=np.int64)
        member = sp.csr_matrix((np.ones(len(kept)), (group_index, np.arange(len(kept)))), shape=(len(order), len(kept)))
        groups = sp.csr_matrix(member @ full)
        norms = np.sqrt(np.asarray(groups.multiply(groups).sum(axis=1)).ravel())
        norms[norms == 0.0] = 1.0
        groups = sp.csr_matrix(sp.diags(1.0 / norms) @ groups)
        return cls(
            entries=kept,
            space=space,
            full=full,
            names=space.transform([match_name(e.name) for e in kept]),
            expander=expander,
            title_name_weight=title_name_weight,
            expansion_weight=expansion_weight,
            expansion_name_share=expansion_name_share,
            group_weight=group_weight,
            skills_weight=skills_weight,
            backoff_weight=backoff_weight,
            name_weight=name_weight,
            query_backoff_weight=query_backoff_weight,
            groups=groups,
            group_index=group_index,
        )

    def rank(self, query: str, top_k: int = 10, query_id: str = "") -> list[Ranked] | Unscorable:
        """The ``top_k`` best entries for ``query`` (best first), or ``Unscorable`` for empty text.

        Ties are broken by entry code so that the result does not depend on catalogue order.
        """
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        return self._ranked(self._final(self._similarities(query, query_id)), top_k)

    def rank_need(
        self,
        title: str,
        description: str = "",
        skills: Sequence[str] = (),
        top_k: int = 10,
        query_id: str = "",
        specificity: Mapping[str, float] | SkillWeights | None = None,
        extra: Sequence[tuple[str, float, np.ndarray]] = (),
    ) -> list[Ranked] | Unscorable:
        """Rank for a need given by fields: title and description as text, skills as their own term.

        ``specificity`` weighs each skill (``skill_specificity`` over the needs at hand; a skill
        missing from it weighs 1), or, as ``skill_weights`` gives it, each skill and each feature
        of the skills field.  ``extra`` adds named terms ``(name, weight, similarity of
        every entry)`` (e.g. a semantic similarity); the other terms' weights are scaled by one
        minus the extra weights, so the contributions still add up to the score exactly.
        """
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        sims = self._similarities(need_text(title, description), query_id, skills, specificity, title)
        return self._ranked(self._final(sims, extra), top_k)

    def need_scores(
        self,
        title: str,
        description: str = "",
        skills: Sequence[str] = (),
        specificity: Mapping[str, float] | SkillWeights | None = None,
        extra: Sequence[tuple[str, float, np.ndarray]] = (),
    ) -> np.ndarray:
        """Scores of every entry (in ``entries`` order) for a need given by fields (see ``rank_need``)."""
        terms = self._final(self._similarities(need_text(title, description), "", skills, specificity, title), extra)
        return np.zeros(len(self.entries)) if isinstance(terms, Unscorable) else _total(terms)

    def scores(self, query: str) -> np.ndarray:
        """Scores of every entry (in ``entries`` order) for ``query``; all zero if unscorable."""
        terms = self._final(self._similarities(query, ""))
        return np.zeros(len(self.entries)) if isinstance(terms, Unscorable) else _total(terms)

    @property
    def _codes(self) -> list[str]:
        return [e.code for e in self.entries]

    def _ranked(self, terms: list[tuple[str, float, np.ndarray]] | Unscorable, top_k: int) -> list[Ranked] | Unscorable:
        if isinstance(terms, Unscorable):
            return terms
        scores = _total(terms)
        order = _top_k_order(scores, self._codes, top_k)
        out: list[Ranked] = []
        for rank, i in enumerate(order, start=1):
            entry = self.entries[i]
            contribs = sort_contributions(
                [Contribution(name, float(sim[i]), weight, weight * float(sim[i])) for name, weight, sim in terms]
            )
            score = float(sum(c.contribution for c in contribs))
            out.append(Ranked(rank, entry.code, entry.name, min(1.0, max(0.0, score)), contribs))
        return out

    def _final(
        self, sims: NeedSimilarities | Unscorable, extra: Sequence[tuple[str, float, np.ndarray]] = ()
    ) -> list[tuple[str, float, np.ndarray]] | Unscorable:
        """The named terms of the score: (feature, weight, similarity of every entry), extras and back-off included."""
        if isinstance(sims, Unscorable):
            return sims
        terms = _with_extra(self.weigh(sims), extra)
        weight = self.backoff_weight if sims.fielded else self.query_backoff_weight
        return self._backoff(terms, weight)

    def similarities(
        self,
        title: str,
        description: str = "",
        skills: Sequence[str] = (),
        specificity: Mapping[str, float] | SkillWeights | None = None,
        query_id: str = "",
    ) -> NeedSimilarities | Unscorable:
        """The weight-free similarities of a need with every entry, for ``combine`` (and fitting).

        The skills similarity is left out when ``skills_weight`` is 0 and the group similarity
        when ``group_weight`` is 0: build the index with the weights you want to vary above 0.
        """
        return self._similarities(need_text(title, description), query_id, skills, specificity, title)

    def combine(self, sims: NeedSimilarities, extra: Sequence[tuple[str, float, np.ndarray]] = ()) -> np.ndarray:
        """Scores of every entry from ``similarities`` under this index's weights (as ``need_scores``)."""
        terms = self._final(sims, extra)
        return np.zeros(len(self.entries)) if isinstance(terms, Unscorable) else _total(terms)

    def _similarities(
        self,
        query: str,
        query_id: str,
        skills: Sequence[str] = (),
        specificity: Mapping[str, float] | SkillWeights | None = None,
        title: str | None = None,
    ) -> NeedSimilarities | Unscorable:
        skill_list = list(dict.fromkeys(s for s in (normalize(x).strip() for x in skills) if s))
        if not has_content(query) and not skill_list:
            return Unscorable(query_id, "the need has no text to match (title, description and skills empty)")
        short = is_title(query)
        use_exp = self.expander is not None and self.expansion_weight > 0.0
        text_q = self.expander.clean(query) if self.expander is not None else query
        expansion = self.expander.expand(query) if use_exp and self.expander is not None else None
        # The name term compares the title alone with entry names when the need has more fields.
        name_q = text_q
        fielded = title is not None and not short and has_content(title)
        if fielded and title is not None:
            name_q = self.expander.clean(title) if self.expander is not None else title
        rows = [text_q, name_q] + ([expansion] if expansion is not None else [])
        # One pass over each matrix for the need, its title and its expansion together.
        qe = self.space.transform(rows)
        nnz = np.diff(qe.indptr)
        has_q, has_e = bool(nnz[0]), expansion is not None and bool(nnz[2])
        skill_sim = self._skills(skill_list, specificity) if self.skills_weight > 0.0 else None
        if not has_q and not has_e and skill_sim is None:
            return Unscorable(query_id, "the need shares no word or character with the catalogue")
        full = _dots(self.full, qe[[0, 2]] if has_e else qe[[0]])
        names = _dots(self.names, qe[[1, 2]] if has_e else qe[[1]])
        group = self._group(qe[[0, 2]] if has_e else qe[[0]])
        share = self.expansion_name_share
        return NeedSimilarities(
            short=short,
            fielded=fielded,
            text=full[:, 0],
            name=names[:, 0],
            expansion=(1.0 - share) * full[:, 1] + share * names[:, 1] if has_e else None,
            group=None if group is None else group[:, 0],
            group_expansion=None if group is None or not has_e else group[:, 1],
            skills=skill_sim,
        )

    def weigh(self, sims: NeedSimilarities) -> list[tuple[str, float, np.ndarray]]:
        """The named terms ``(feature, weight, similarity)`` of ``sims`` under this index's weights."""
        name_weight = self.title_name_weight if sims.short else self.name_weight if sims.fielded else NAME_WEIGHT
        text_weight = 1.0 - name_weight
        has_e = sims.expansion is not None
        keep = 1.0 - self.expansion_weight if has_e else 1.0
        terms = [
            ("text_similarity", keep * text_weight, sims.text),
            ("name_similarity", keep * name_weight, sims.name),
        ]
        if sims.expansion is not None:
            terms.append(("expansion_similarity", self.expansion_weight, sims.expansion))
        if sims.group is not None and self.group_weight > 0.0:
            g = sims.group
            if sims.group_expansion is not None:
                g = (1.0 - self.expansion_weight) * g + self.expansion_weight * sims.group_expansion
            terms = _scaled(terms, [("group_similarity", self.group_weight, g)])
        if sims.skills is not None and self.skills_weight > 0.0:
            terms = _scaled(terms, [("skills_similarity", self.skills_weight, sims.skills)])
        return terms

    def _backoff(
        self, terms: list[tuple[str, float, np.ndarray]] | Unscorable, weight: float
    ) -> list[tuple[str, float, np.ndarray]] | Unscorable:
        """``terms`` with the 小类 back-off: scaled by ``1 - w``, plus ``w`` × the best sibling's score."""
        if isinstance(terms, Unscorable) or weight <= 0.0:
            return terms
        n = len(self.entries)
        if self.group_index.shape[0] != n or n == 0 or int(self.group_index.max()) + 1 == n:
            return terms  # no entry has a sibling: the back-off would only scale every score
        sibling = best_sibling(_total(terms), self.group_index)
        return _scaled(terms, [("sibling_similarity", weight, sibling)])

    def _group(self, q: sp.csr_matrix) -> np.ndarray | None:
        if self.groups is None or self.group_weight <= 0.0 or self.group_index.shape[0] != len(self.entries):
            return None
        out: np.ndarray = _dots(self.groups, q)[self.group_index]
        return out

    def skill_weights(self, skill_lists: Sequence[Sequence[str]]) -> SkillWeights:
        """Specificity of the needs' skills and of the skills field's features, over these needs.

        A skill's weight is ``skill_specificity``; a feature's (a word or character n-gram of this
        index's space) is ``log(N / df) / log(N)``, ``df`` counting the needs whose skills field has
        it.  Why both: the catalogue's IDF calls "software" rare when only computing programmes
        mention it, yet nearly every need's tool list says it (Microsoft Office software, AutoCAD
        software): in the skills field it says little, whatever tool it is part of.
        """
        per_skill = skill_specificity(skill_lists)
        lists = [list(dict.fromkeys(s for s in (normalize(x).strip() for x in skills) if s)) for skills in skill_lists]
        lists = [ls for ls in lists if ls]
        n_features = self.full.shape[1]
        if len(lists) < 2:
            return SkillWeights(per_skill, None)
        self._memo_skills([s for ls in lists for s in ls])
        df = np.zeros(n_features)
        for ls in lists:
            df[np.unique(np.concatenate([self._skill_rows[s][0] for s in ls]))] += 1.0
        n = float(len(lists))
        features = np.ones(n_features)
        seen = df > 0
        features[seen] = np.log(n / df[seen]) / math.log(n)
        return SkillWeights(per_skill, features)

    def _memo_skills(self, skills: Sequence[str]) -> None:
        # Needs of one batch share most of their skills (Microsoft Excel): each skill's vector is
        # computed once per index and kept (a pure memo of ``space.transform``).
        memo = self._skill_rows
        new = list(dict.fromkeys(s for s in skills if s not in memo))
        if new:
            rows = self.space.transform(new)
            for k, s in enumerate(new):
                lo, hi = rows.indptr[k], rows.indptr[k + 1]
                memo[s] = (rows.indices[lo:hi].copy(), rows.data[lo:hi].copy())

    def _skills(self, skills: list[str], specificity: Mapping[str, float] | SkillWeights | None) -> np.ndarray | None:
        """Cosine of the specificity-weighted sum of the skills' unit vectors with every entry."""
        if not skills:
            return None
        features = specificity.features if isinstance(specificity, SkillWeights) else None
        per_skill = specificity.skills if isinstance(specificity, SkillWeights) else specificity
        weights = np.array([1.0 if per_skill is None else float(per_skill.get(s, 1.0)) for s in skills])
        if not np.any(weights > 0.0):
            return None
        self._memo_skills(skills)
        parts = [self._skill_rows[s] for s in skills]
        idx = np.concatenate([p[0] for p in parts])
        data = np.concatenate([p[1] * w for p, w in zip(parts, weights, strict=True)])
        v = sp.csr_matrix((data, idx, np.array([0, idx.shape[0]])), shape=(1, self.full.shape[1]))
        v.sum_duplicates()
        if features is not None:
            v.data *= features[v.indices]
        norm = math.sqrt(float(v.multiply(v).sum()))
        if norm == 0.0:
            return None
        return _dots(self.full, sp.csr_matrix(v / norm))[:, 0]


@dataclass(frozen=True, slots=True)
class SkillWeights:
    """Specificity of skills (by name) and of skills-field features (``CatalogIndex.skill_weights``)."""

    skills: Mapping[str, float]
    features: np.ndarray | None  # one weight per feature of the index's space, or None


@dataclass(frozen=True, slots=True)
class NeedSimilarities:
    """A need's weight-free similarities with every entry (``CatalogIndex.similarities``).

    ``CatalogIndex.weigh`` turns them into the named terms of the score under an index's
    weights, so that weights can be varied (fitted) without vectorising the need again.
    """

    short: bool  # the need is a title only
    fielded: bool  # a title with a description or skills: the name term compares the title alone
    text: np.ndarray
    name: np.ndarray
    expansion: np.ndarray | None
    group: np.ndarray | None
    group_expansion: np.ndarray | None
    skills: np.ndarray | None


def best_sibling(scores: np.ndarray, group_index: np.ndarray) -> np.ndarray:
    """For every entry, the highest score among the other members of its group (0 for a lone entry).

    ``group_index[i]`` is entry ``i``'s group number (0 … groups − 1).  When several members
    share the group's top score, each of them has that score as its best sibling.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[0] == 0:
        return scores.copy()
    n_groups = int(group_index.max()) + 1
    top = np.full(n_groups, -np.inf)
    np.maximum.at(top, group_index, scores)
    at_top = scores == top[group_index]
    n_top = np.bincount(group_index, weights=at_top.astype(np.float64), minlength=n_groups)
    second = np.full(n_groups, -np.inf)
    np.maximum.at(second, group_index, np.where(at_top, -np.inf, scores))
    out = np.where(at_top & (n_top[group_index] == 1), second[group_index], top[group_index])
    out[np.isneginf(out)] = 0.0  # a lone entry: no sibling
    return np.asarray(out, dtype=np.float64)


def _with_extra(
    terms: list[tuple[str, float, np.ndarray]] | Unscorable, extra: Sequence[tuple[str, float, np.ndarray]]
) -> list[tuple[str, float, np.ndarray]] | Unscorable:
    """``terms`` scaled by one minus the extra weights, followed by the extra terms."""
    if isinstance(terms, Unscorable) or not extra:
        return terms
    return _scaled(terms, extra)


def _scaled(
    terms: list[tuple[str, float, np.ndarray]], extra: Sequence[tuple[str, float, np.ndarray]]
) -> list[tuple[str, float, np.ndarray]]:
    total = sum(w for _, w, _ in extra)
    if not 0.0 <= total <= 1.0:
        raise ValueError("extra weights must sum to a value in [0, 1]")
    kept = [(n, w * (1.0 - total), s) for n, w, s in terms]
    return kept + [(n, w, np.asarray(s, dtype=np.float64)) for n, w, s in extra]


def _total(terms: list[tuple[str, float, np.ndarray]]) -> np.ndarray:
    out = np.zeros_like(terms[0][2])
    for _, weight, sim in terms:
        out += weight * sim
    return out


def is_title(query: str) -> bool:
    """True for a need that is a title only: one distinct non-empty line, short."""
    lines = {" ".join(normalize(line).split()) for line in query.splitlines()} - {""}
    return len(lines) == 1 and len(next(iter(lines))) <= SHORT_TITLE_CHARS


def _dots(matrix: sp.csr_matrix, q: sp.csr_matrix) -> np.ndarray:
    """Entries × query rows of cosine similarities, clipped to [0, 1] against rounding."""
    # A sparse matrix times the dense query rows (one pass over the matrix's non-zeros) is about
    # three times faster than sparse × sparse for long needs (hundreds of n-grams), same sums.
    out = np.asarray(matrix @ np.asarray(q.toarray()).T, dtype=np.float64)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _top_k_order(scores: np.ndarray, codes: Sequence[str], top_k: int) -> list[int]:
    n = scores.shape[0]
    k = min(top_k, n)
    if k < n:
        # Keep every entry tied with the k-th score so the code tie-break sees all of them.
        kth = np.partition(scores, n - k)[n - k]
        cand = np.flatnonzero(scores >= kth)
    else:
        cand = np.arange(n)
    ordered = sorted(cand.tolist(), key=lambda i: (-scores[i], codes[i]))
    return ordered[:k]


def rank_catalog(
    query_text: str, entries: Sequence[CatalogEntry] | CatalogIndex, top_k: int = 10, query_id: str = ""
) -> list[Ranked] | Unscorable:
    """Rank catalogue entries for a free-text need (best first, at most ``top_k``).

    Pass a prebuilt ``CatalogIndex`` when ranking many needs against one catalogue: building the
    index fits the text space (tens of milliseconds for ~1,600 majors), ranking is then fast.
    """
    index = entries if isinstance(entries, CatalogIndex) else CatalogIndex.build(entries)  # no title vocabulary
    return index.rank(query_text, top_k, query_id)
