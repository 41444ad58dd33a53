"""Job-title normalisation and query expansion with a job-vocabulary lexicon.

Job postings name occupations in the words of the labour market (``Java开发工程师``, ``出纳``,
``外卖骑手``, ``Sr. DevOps Engineer``); classifications such as the 职业分类大典 or O*NET name
them in their own formal vocabulary (``计算机程序设计员``, ``会计专业人员``, ``网约配送员``,
"Network and Computer Systems Administrators").  A short title shares few characters or words
with the right entry, and often more with a wrong one (``货车司机`` meets ``轨道交通列车司机`` on
``司机``, never on ``道路货运汽车驾驶员``).  Pure, data-driven steps bridge the gap:

1. ``clean_title``: removes what a title says about the *posting* rather than the occupation,
   so that it cannot pull the ranking: recruiting words (``急招``, ``诚聘``, ``招聘``, "Hiring
   Now:") unless the post *is* recruiting (``招聘专员``: what is left is only a rank suffix), terms
   of employment (``包吃住``, ``五险一金``), brackets holding only such words (a bracket with
   anything else, ``客户经理（银行）``, is kept as a phrase), and brand or platform names (``抖音``,
   ``京东``, Amazon), which carry the industry but are unknown to a classification.
2. ``normalize_title``: the cleaned title without seniority and status affixes (``高级``,
   ``实习生``, Senior, Intern, II) and generic rank or role suffixes (``工程师``, ``专员``,
   ``经理``), keeping the head noun (``Java开发``, ``客服``, ``销售``).  A suffix is only removed when
   at least two characters remain, so ``总经理`` or ``店长`` stay whole.
3. ``expand``: the normalised title followed by the classification vocabulary of every lexicon
   word found (longest match first, non-overlapping; Latin keys only as whole words), of every
   brand's industry, and of the role a removed suffix named: a suffix that manages or sells
   (``经理``, ``主管``, ``总监``, ``顾问``) is stripped from the head but its role (``管理``,
   ``销售``) is kept, so ``销售经理`` is not read as ``销售``.

``CatalogIndex`` scores the cleaned title as the need's own text and the expansion as its own
named contribution with a lower weight, so the expansion can pull the right entries up but never
replaces what the need says.  When the title holds nothing to clean, normalise or look up,
``expand`` returns ``None`` and the ranking is exactly that of the plain text.

The word lists are data, not code: a ``TitleVocabulary`` is parsed from a CSV text
(``kind,word,expansion,note``; one provenance note per row) by ``TitleVocabulary.from_csv``.  The
service ships one (``app/data/jobtitles/vocabulary.csv``: 543 lexicon keys written by hand from
general knowledge of Chinese and English posting language, plus brands, recruiting words and
affixes) and passes it in; ``matching`` itself reads no file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from matching.scoring.text import normalize

__all__ = ["EMPTY_VOCABULARY", "KINDS", "JobTitleExpander", "TitleVocabulary", "clean_title", "normalize_title"]

# --- the vocabulary -----------------------------------------------------------------------------

KINDS = ("lexicon", "brand", "recruit", "noise", "prefix", "suffix", "affix_en")


@dataclass(frozen=True, slots=True)
class TitleVocabulary:
    """The word lists of title cleaning, normalisation and expansion (all NFKC, lower case).

    ``lexicon`` maps colloquial job words to classification vocabulary; ``brands`` maps brand
    and platform names to the vocabulary of their industry; ``recruit`` are recruiting words
    (removed unless the post is about recruiting); ``noise`` are terms of employment (always
    removed); ``prefixes`` and ``suffixes`` are Chinese seniority affixes and rank suffixes
    (a suffix maps to the vocabulary of the role it names, or ``""``); ``affixes_en`` are
    English seniority and status words.
    """

    lexicon: Mapping[str, str] = field(default_factory=dict)
    brands: Mapping[str, str] = field(default_factory=dict)
    recruit: tuple[str, ...] = ()
    noise: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    suffixes: Mapping[str, str] = field(default_factory=dict)
    affixes_en: frozenset[str] = frozenset()

    @classmethod
    def from_csv(cls, text: str) -> TitleVocabulary:
        """Parse ``kind,word,expansion,note`` rows; every row needs a known kind, a word and a note.

        Repeated lexicon or brand words have their expansions joined.  Raises ``ValueError``
        naming the row for anything else.
        """
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or list(reader.fieldnames)[:4] != ["kind", "word", "expansion", "note"]:
            raise ValueError("a title vocabulary needs the header kind,word,expansion,note")
        tables: dict[str, dict[str, str]] = {k: {} for k in KINDS}
        for line, row in enumerate(reader, start=2):
            kind, word = (row.get("kind") or "").strip(), normalize(row.get("word") or "").strip()
            value, note = " ".join((row.get("expansion") or "").split()), (row.get("note") or "").strip()
            if kind not in tables:
                raise ValueError(f"row {line}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
            if not word or not note:
                raise ValueError(f"row {line}: every row needs a word and a provenance note")
            if kind in ("lexicon", "brand") and not value:
                raise ValueError(f"row {line}: a {kind} row needs an expansion")
            table = tables[kind]
            table[word] = f"{table[word]} {value}".strip() if word in table and value else value
        return cls(
            lexicon=tables["lexicon"],
            brands=tables["brand"],
            recruit=by_length(tables["recruit"]),
            noise=by_length(tables["noise"]),
            prefixes=by_length(tables["prefix"]),
            suffixes={w: tables["suffix"][w] for w in by_length(tables["suffix"])},
            affixes_en=frozenset(tables["affix_en"]),
        )


def by_length(words: Mapping[str, str]) -> tuple[str, ...]:
    """Words longest first (then alphabetically), the order in which they are matched."""
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


EMPTY_VOCABULARY = TitleVocabulary()

# --- cleaning and normalisation -----------------------------------------------------------------

_BRACKETED = re.compile(r"[(（\[【<《「]([^)）\]】>》」]*)[)）\]】>》」]")
_SPLIT = re.compile(r"[/|,，、;；]+|\s+[-–—]\s+|:\s")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_PAY = re.compile(r"\$?\d[\d,.]*\s*(?:k|/hr|/hour|/h|元|/月|/天|an hour|per hour)?(?![a-z])")


def _words_pattern(words: list[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    alts = []
    for k in sorted(words, key=lambda k: (-len(k), k)):
        esc = re.escape(k)
        alts.append(rf"(?<![a-z0-9+#]){esc}(?![a-z0-9+#])" if k.isascii() else esc)
    return re.compile("|".join(alts))


def _only_suffixes(rest: str, vocab: TitleVocabulary) -> bool:
    """True when ``rest`` is empty or made only of rank suffixes (``专员``, ``主管经理``)."""
    rest = rest.strip()
    while rest:
        for s in vocab.suffixes:
            if rest.startswith(s):
                rest = rest[len(s) :].strip()
                break
        else:
            return False
    return True


def _drop_recruiting(text: str, vocab: TitleVocabulary, brands: re.Pattern[str] | None) -> str:
    for word in vocab.recruit:
        start = 0
        while (i := text.find(word, start)) >= 0:
            before, after = text[:i], text[i + len(word) :]
            rest = _CJK_RUN.match(after.lstrip())
            if word.isascii():  # English phrases: a whole-word match, removed when other words remain
                ok = (i == 0 or not text[i - 1].isalnum()) and not (after[:1].isalnum())
                if ok and (before.strip() or after.strip(" :-!")):
                    text = before + " " + after
                    continue
                start = i + 1
                continue
            # A Chinese recruiting word is the post itself (招聘专员) when what follows it in its
            # run is one or more rank suffixes and nothing precedes it in the run.
            tail = rest.group() if rest else ""
            head_run = re.search(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$", before)
            if tail and _only_suffixes(tail, vocab) and not head_run:
                start = i + len(word)
                continue
            text = before + " " + after
    return text


def _clean(title: str, vocab: TitleVocabulary, brands: re.Pattern[str] | None) -> tuple[str, list[str]]:
    """(cleaned title, brand words found) for one title line, NFKC and case-folded."""
    text = " ".join(normalize(title).split())

    def bracket(m: re.Match[str]) -> str:
        inner = m.group(1)
        probe = _clean(inner, vocab, None)[0] if inner.strip() else ""
        # Keep a bracket's content when it says something besides posting noise and affixes.
        return f" , {probe} " if probe and _normalize(probe, vocab)[0].strip() else " "

    text = _BRACKETED.sub(bracket, text)
    for noise in vocab.noise:
        text = text.replace(noise, " ")
    text = _drop_recruiting(text, vocab, brands)
    text = _PAY.sub(" ", text) if re.search(r"[$元]|/hr|/hour|\d+k", text) else text
    found: list[str] = []
    if brands is not None:

        def brand(m: re.Match[str]) -> str:
            found.append(m.group())
            return " "

        stripped = brands.sub(brand, text)
        # A title that is nothing but a brand keeps it (it is all the need says).
        text = stripped if stripped.strip(" ,:-") else text
        if not stripped.strip(" ,:-"):
            found.clear()
    text = " ".join(text.split()).strip(" ,:-!")
    return text, found


def _strip_zh(run: str, vocab: TitleVocabulary) -> tuple[str, list[str]]:
    """A CJK run without seniority prefixes and rank suffixes, and the roles of the suffixes removed."""
    roles: list[str] = []
    if run in vocab.prefixes or run in vocab.suffixes:
        return "", roles
    changed = True
    while changed:
        changed = False
        for p in vocab.prefixes:
            if run.startswith(p) and len(run) - len(p) >= 2:
                run, changed = run[len(p) :], True
        for s, role in vocab.suffixes.items():
            if run.endswith(s) and len(run) - len(s) >= 2:
                run, changed = run[: -len(s)], True
                if role:
                    roles.append(role)
                break
    return run, roles


def _normalize(cleaned: str, vocab: TitleVocabulary) -> tuple[str, list[str]]:
    roles: list[str] = []

    def strip(m: re.Match[str]) -> str:
        head, found = _strip_zh(m.group(), vocab)
        roles.extend(found)
        return " " + head + " "

    phrases: list[str] = []
    for part in _SPLIT.split(cleaned):
        part = _CJK_RUN.sub(strip, part)
        kept = [w for w in part.split() if w.rstrip(".") not in vocab.affixes_en]
        if kept:
            phrases.append(" ".join(kept))
    return " ".join(phrases), roles


def clean_title(title: str, vocabulary: TitleVocabulary = EMPTY_VOCABULARY) -> str:
    """``title`` without recruiting words, terms of employment, noise-only brackets and brands.

    NFKC and case-folded like every text feature; a title that is nothing but such words is
    returned normalised but otherwise whole.
    """
    pattern = _words_pattern(list(vocabulary.brands))
    cleaned = _clean(title, vocabulary, pattern)[0]
    return cleaned or " ".join(normalize(title).split())


def normalize_title(title: str, vocabulary: TitleVocabulary = EMPTY_VOCABULARY) -> str:
    """The head of a job title: cleaned (``clean_title``), seniority and rank affixes removed.

    Parts separated by ``/`` or `` - `` are kept as separate phrases.  A Chinese suffix is removed
    only when at least two characters remain (``总经理``, ``店长`` stay whole); a title made only
    of affixes is returned as it was (normalised).
    """
    base = " ".join(normalize(title).split())
    cleaned = clean_title(title, vocabulary)
    return _normalize(cleaned, vocabulary)[0] or base


# --- expansion ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobTitleExpander:
    """Clean, normalise and expand a query's title line with a ``TitleVocabulary``.

    Build once and reuse: the matchers are compiled at construction.  ``max_title_chars``: a first
    line longer than this is prose, not a title, and is left alone.
    """

    vocabulary: TitleVocabulary = EMPTY_VOCABULARY
    max_title_chars: int = 40
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _brands: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", _words_pattern([k for k in self.vocabulary.lexicon if k]))
        object.__setattr__(self, "_brands", _words_pattern([k for k in self.vocabulary.brands if k]))

    @classmethod
    def from_lexicon(cls, lexicon: Mapping[str, str]) -> JobTitleExpander:
        """An expander with only a lexicon (no brands, recruiting words or affixes)."""
        return cls(TitleVocabulary(lexicon={normalize(k).strip(): v for k, v in lexicon.items()}))

    def words(self, text: str) -> list[str]:
        """Lexicon words found in ``text`` (longest match first, non-overlapping, in order)."""
        if self._pattern is None:
            return []
        return [m.group() for m in self._pattern.finditer(normalize(text))]

    def _title(self, query: str) -> str | None:
        title = next((line for line in query.splitlines() if line.strip()), "")
        if not title or len(" ".join(normalize(title).split())) > self.max_title_chars:
            return None
        return title

    def clean(self, query: str) -> str:
        """``query`` with its title line cleaned (see ``clean_title``); other lines unchanged.

        Returns ``query`` itself when there is nothing to clean.
        """
        title = self._title(query)
        if title is None:
            return query
        cleaned, _ = _clean(title, self.vocabulary, self._brands)
        if not cleaned or cleaned == " ".join(normalize(title).split()):
            return query
        lines = query.splitlines()
        at = next(i for i, line in enumerate(lines) if line.strip())
        return "\n".join([*lines[:at], cleaned, *lines[at + 1 :]])

    def expand(self, query: str) -> str | None:
        """Expansion text for ``query``, or ``None`` when there is nothing to add.

        The title is the query's first non-empty line; lexicon words are looked up in the title
        only (a long description would add noise to a short signal).  The result is the
        normalised title followed by the vocabulary of each lexicon word, brand and removed role
        suffix; it is ``None`` when there is none of these and normalisation leaves the title
        unchanged, and when the first line is longer than ``max_title_chars``.
        """
        title = self._title(query)
        if title is None:
            return None
        base = " ".join(normalize(title).split())
        cleaned, brands = _clean(title, self.vocabulary, self._brands)
        head, roles = _normalize(cleaned or base, self.vocabulary)
        head = head or base
        found = self.words(cleaned or base)
        if not found and not brands and not roles and " ".join(head.split()) == " ".join((cleaned or base).split()):
            return None
        seen: set[str] = set()
        parts = [head] if head else []
        for w in found:
            if w not in seen:
                seen.add(w)
                value = self.vocabulary.lexicon[w]
                if roles:  # a managing post: not the worker-level occupation names (…员, …工)
                    value = " ".join(x for x in value.split() if not (len(x) >= 3 and x[-1] in "员工"))
                parts.append(value)
        for b in brands:
            if b not in seen:
                seen.add(b)
                parts.append(self.vocabulary.brands[b])
        for role in dict.fromkeys(roles):
            parts.append(role)
        return " ".join(parts) if parts else None
