"""Matches: ranked, explained fit between needs and programs, students, lecturers and catalogues.

Every score comes from ``matching.scoring`` with the model, history and cooperation of
``scoring_context`` — the same inputs allocation runs use for their candidates.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import scipy.sparse as sp
from sqlalchemy.orm import Session

from app.data import job_title_expander
from app.db.models import Role
from app.errors import NotFound, NotScorable, Unprocessable
from app.repositories.entities import CourseNeedRepository, OpeningRepository, ProgramRepository, StudentRepository
from app.repositories.matching import MatchRepository
from app.security import Principal
from app.services.scoring_context import scoring_context
from app.translate import (
    course_need_profile,
    lecturer_profile,
    major_entries,
    occupation_entries,
    opening_profile,
    program_profile,
    student_profiles_from_rows,
)
from matching.domain import CatalogEntry
from matching.scoring import (
    CatalogIndex,
    Matches,
    Pairing,
    Ranked,
    Scored,
    TextSpace,
    Unscorable,
    score_lecturers_for_course,
    score_openings_for_program,
    score_programs_for_opening,
    score_students_for_opening,
)
from matching.scoring.features import course_text, lecturer_text, opening_text, program_text


@dataclass(frozen=True)
class Match:
    """One ranked candidate: its id, what the caller needs to recognise it, score and explanation."""

    id: int | str
    label: str
    score: float
    explanation: list[dict[str, float | str]]
    logit: float | None = None
    intercept: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MatchList:
    subject: str
    model_version: str
    items: list[Match]
    unscorable: list[dict[str, str]]


def _explain(scored: Scored | Ranked, top: int) -> list[dict[str, float | str]]:
    return [{"feature": c.feature, "value": round(c.value, 6), "weight": round(c.weight, 6),
             "contribution": round(c.contribution, 9)} for c in scored.contributions[:top]]


def _unscorable(matches: Matches, kind: str) -> list[dict[str, str]]:
    return [{"kind": kind, "id": u.id, "reason": u.reason} for u in matches.unscorable]


class MatchService:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.repo = MatchRepository(session)

    def openings_for_program(self, program_id: int, *, limit: int, explain: int) -> MatchList:
        if ProgramRepository(self.session).get(self.principal, program_id) is None:
            raise NotFound.of("program", program_id)
        program = self.repo.program(program_id)
        assert program is not None
        openings = self.repo.openings_of_term(program.term)
        occupations = self.repo.occupations(o.occupation_code or "" for o in openings)
        ctx = scoring_context(self.session, Pairing.PROGRAM_OPENING)
        result = score_openings_for_program(
            program_profile(program), [opening_profile(o, occupations.get(o.occupation_code or "")) for o in openings],
            model=ctx.model, history=ctx.history, cooperation=ctx.cooperation, text_space=self._space())
        if isinstance(result, Unscorable):
            raise _no_score("program", result)
        by_id = {str(o.id): o for o in openings}
        names = self.repo.enterprise_names(o.enterprise_id for o in openings)
        items = []
        for s in result.scored[:limit]:
            o = by_id[s.id]
            items.append(Match(o.id, o.title, s.score, _explain(s, explain), s.logit, s.intercept,
                               {"enterprise_id": o.enterprise_id, "enterprise": names.get(o.enterprise_id, ""),
                                "city": o.city, "seats": o.seats, "occupation_code": o.occupation_code}))
        return MatchList(f"program:{program_id}", ctx.model_version, items, _unscorable(result, "opening"))

    def programs_for_opening(self, opening_id: int, *, limit: int, explain: int) -> tuple[MatchList, MatchList]:
        """Programs ranked for an opening, and the eligible students the caller may see."""
        opening = OpeningRepository(self.session).get(self.principal, opening_id)
        if opening is None:
            raise NotFound.of("opening", opening_id)
        occupation = self.repo.occupations([opening.occupation_code or ""]).get(opening.occupation_code or "")
        profile = opening_profile(opening, occupation)
        programs = self.repo.programs()
        ctx = scoring_context(self.session, Pairing.PROGRAM_OPENING)
        result = score_programs_for_opening(profile, [program_profile(p) for p in programs], model=ctx.model,
                                            history=ctx.history, cooperation=ctx.cooperation,
                                            text_space=self._space())
        if isinstance(result, Unscorable):
            raise _no_score("opening", result)
        by_id = {str(p.id): p for p in programs}
        colleges = self.repo.college_names(p.college_id for p in programs)
        program_items = []
        for s in result.scored[:limit]:
            p = by_id[s.id]
            program_items.append(Match(p.id, p.name, s.score, _explain(s, explain), s.logit, s.intercept,
                                       {"college_id": p.college_id, "college": colleges.get(p.college_id, ""),
                                        "major_code": p.major.code}))
        program_list = MatchList(f"opening:{opening_id}", ctx.model_version, program_items,
                                 _unscorable(result, "program"))
        return program_list, self._students_for(profile, programs, limit, explain)

    def _students_for(self, opening: Any, programs: Sequence[Any], limit: int, explain: int) -> MatchList:
        # Students are personal data: only their own college (and admins) may see them ranked.
        if self.principal.role not in (Role.ADMIN, Role.PLACEMENT_OFFICE):
            return MatchList(f"opening:{opening.id}", "", [], [])
        visible = StudentRepository.tenancy.readable_by(self.principal)
        program_by_id = {p.id: p for p in programs}
        rows = [r for r in self.repo.student_rows(visible)
                if _level_ok(opening.eligible_levels, program_by_id[r.program_id])]
        student_no = {str(r.id): r.student_no for r in rows}
        eligible = student_profiles_from_rows([tuple(r)[:7] for r in rows],  # type: ignore[misc]
                                              self.repo.preference_rows([r.id for r in rows]),
                                              {p.id: p.college_id for p in programs})
        profiles = {str(p.id): program_profile(p) for p in programs}
        ctx = scoring_context(self.session, Pairing.STUDENT_OPENING)
        result = score_students_for_opening(
            opening, eligible, profiles,
            model=ctx.model, history=ctx.history, cooperation=ctx.cooperation, text_space=self._space())
        if isinstance(result, Unscorable):
            return MatchList(f"opening:{opening.id}", ctx.model_version, [], [])
        by_id = {s.id: s for s in eligible}
        items = [Match(int(s.id), student_no[s.id], s.score, _explain(s, explain), s.logit, s.intercept,
                       {"program_id": int(by_id[s.id].program_id)}) for s in result.scored[:limit]]
        return MatchList(f"opening:{opening.id}", ctx.model_version, items, _unscorable(result, "student"))

    def lecturers_for_course_need(self, need_id: int, *, limit: int, explain: int) -> MatchList:
        need = CourseNeedRepository(self.session).get(self.principal, need_id)
        if need is None:
            raise NotFound.of("course-need", need_id)
        college_id, city = self.repo.course_need_college(need)
        lecturers = self.repo.lecturers()
        ctx = scoring_context(self.session, Pairing.LECTURER_COURSE)
        result = score_lecturers_for_course(course_need_profile(need, college_id, city),
                                            [lecturer_profile(lec) for lec in lecturers], model=ctx.model,
                                            cooperation=ctx.cooperation, text_space=self._space())
        if isinstance(result, Unscorable):
            raise _no_score("course-need", result)
        by_id = {str(lec.id): lec for lec in lecturers}
        names = self.repo.enterprise_names(lec.enterprise_id for lec in lecturers)
        items = [Match(by_id[s.id].id, by_id[s.id].title or by_id[s.id].expertise[:40], s.score,
                       _explain(s, explain), s.logit, s.intercept,
                       {"enterprise_id": by_id[s.id].enterprise_id,
                        "enterprise": names.get(by_id[s.id].enterprise_id, ""),
                        "max_weekly_hours": by_id[s.id].max_weekly_hours}) for s in result.scored[:limit]]
        return MatchList(f"course-need:{need_id}", ctx.model_version, items, _unscorable(result, "lecturer"))

    def _space(self) -> TextSpace:
        """One text space over every program, opening, lecturer and course need: IDF from the whole
        corpus, so a pair's similarity does not depend on which other candidates share the call."""
        return _SPACES.get(self.repo)

    # -- catalogues

    def majors_for_text(self, text: str, *, level: str | None, top_k: int) -> MatchList:
        index = _CATALOGUES.majors(self.repo, level)
        return _ranked("majors", index, text, top_k)

    def occupations_for_title(self, title: str, description: str, *, top_k: int) -> MatchList:
        index = _CATALOGUES.occupations(self.repo)
        return _ranked("occupations", index, "\n".join(p for p in (title, title, description) if p), top_k)


def _ranked(subject: str, index: CatalogIndex, text: str, top_k: int) -> MatchList:
    ranked = index.rank(text, top_k)
    if isinstance(ranked, Unscorable):
        raise Unprocessable(ranked.reason, [{"loc": ["body", "text"], "msg": ranked.reason}])
    return MatchList(subject, "text", [Match(r.code, r.name, r.score, _explain(r, 5)) for r in ranked], [])


def _no_score(kind: str, unscorable: Unscorable) -> NotScorable:
    return NotScorable(f"this {kind} cannot be scored: {unscorable.reason}",
                         [{"loc": ["path", "id"], "msg": unscorable.reason}])


def _level_ok(levels: Sequence[str], program: Any) -> bool:
    return not levels or program.major.level.value in levels


class _CatalogueCache:
    """Catalogue indexes, rebuilt only when the catalogue (or programs' texts) change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], CatalogIndex] = {}

    def _get(self, key: tuple[Any, ...], build: Any) -> CatalogIndex:
        with self._lock:
            index = self._entries.get(key)
        if index is None:
            index = CatalogIndex.build(build(), expander=job_title_expander())
            with self._lock:
                stale = [k for k in self._entries if k[0] == key[0]]
                for k in stale:
                    del self._entries[k]
                self._entries[key] = index
        return index

    def majors(self, repo: MatchRepository, level: str | None) -> CatalogIndex:
        version = repo.catalogue_version()

        def build() -> list[CatalogEntry]:
            texts = repo.program_texts_by_major()
            majors = [m for m in repo.all_majors() if level is None or m.level.value == level]
            if not majors:
                raise NotFound(f"the major catalogue has no {level} majors")
            entries = major_entries(majors)
            # A major's own words are its name and categories; colleges' program texts add meaning.
            return [CatalogEntry(code=e.code, name=e.name, description="\n".join(texts.get(m.id, [])),
                                 keywords=(m.class_name, m.category_name), category=e.category,
                                 subcategory=e.subcategory, level=e.level)
                    for e, m in zip(entries, majors, strict=True)]

        if not version[0]:
            raise NotFound("the major catalogue is empty; run `chanjiao catalog load`")
        return self._get(("majors", level, version), build)

    def occupations(self, repo: MatchRepository) -> CatalogIndex:
        version = repo.catalogue_version()
        if not version[1]:
            raise NotFound("the occupation catalogue is empty; run `chanjiao catalog load`")
        return self._get(("occupations", version[1]), lambda: occupation_entries(repo.occupations_of_level(4)))


_CATALOGUES = _CatalogueCache()


class MemoTextSpace(TextSpace):
    """A text space that remembers the vector of every text it has transformed (profiles change
    rarely; vectorising them is most of a match request's time)."""

    __slots__ = ("_rows",)
    _rows: dict[str, sp.csr_matrix]
    MAX_ROWS = 200_000

    @classmethod
    def of(cls, space: TextSpace) -> MemoTextSpace:
        memo = cls(grams=space.grams, words=space.words, gram_weight=space.gram_weight)
        object.__setattr__(memo, "_rows", {})
        return memo

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        missing = [t for t in dict.fromkeys(texts) if t not in self._rows]
        if missing:
            if len(self._rows) + len(missing) > self.MAX_ROWS:
                self._rows.clear()
            rows = TextSpace.transform(self, missing)
            for i, text in enumerate(missing):
                self._rows[text] = rows[i]
        if not texts:
            return TextSpace.transform(self, [])
        return sp.csr_matrix(sp.vstack([self._rows[t] for t in texts], format="csr"))


class _TextSpaces:
    """The corpus text space, refitted only when a profile changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._space: MemoTextSpace | None = None

    def get(self, repo: MatchRepository) -> MemoTextSpace:
        key = repo.corpus_version()
        with self._lock:
            if self._key == key and self._space is not None:
                return self._space
        corpus = [program_text(program_profile(p)) for p in repo.programs()]
        corpus += [opening_text(opening_profile(o)) for o in repo.all_openings()]
        corpus += [lecturer_text(lecturer_profile(lec)) for lec in repo.lecturers()]
        corpus += [course_text(course_need_profile(n, 0)) for n in repo.course_needs()]
        space = MemoTextSpace.of(TextSpace.fit(corpus or ["-"]))
        with self._lock:
            self._key, self._space = key, space
        return space


_SPACES = _TextSpaces()
