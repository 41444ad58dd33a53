"""Mixed-script text similarity: TF-IDF over character n-grams and words.

Chinese has no spaces, so a word tokenizer would need a segmenter and its dictionary; character
n-grams within runs of CJK characters capture most of what a segmenter would give (``云计算``,
``运维``) without one.  English gets word unigrams and bigrams (exact terms such as ``cloud
operations``) plus character n-grams inside words so that ``operator`` still meets ``operations``.
Both kinds of feature live in separate TF-IDF sub-spaces, each L2-normalised and then mixed with
fixed weights, so that the many character n-grams of a Latin word do not drown its single word
feature.  The same analyzer serves any catalogue a user imports, in either language or both.
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as normalize_rows

__all__ = ["TextSpace", "analyze_grams", "analyze_words", "has_content", "normalize"]

# CJK unified ideographs (+ extension A, compatibility) and kana/hangul: scripts written without spaces.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+(?:[+#]+|(?:[.\-][^\W_{_CJK}]+)*)", re.UNICODE)
_IS_CJK = re.compile(rf"[{_CJK}]")

# Very frequent English function words carry no signal for matching and only inflate word bigrams.
_STOP = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "with",
        "such",
        "other",
        "including",
    )
)

# Weight of the character-gram sub-space in the mix; the word sub-space gets the rest.  Equal
# shares keep exact terms and fuzzy morphology on the same footing in both languages.
GRAM_WEIGHT = 0.5


def normalize(text: str) -> str:
    """NFKC (full-width → half-width, compatibility forms) and case folding."""
    return unicodedata.normalize("NFKC", text).casefold()


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalize(text))


def has_content(text: str) -> bool:
    """True when ``text`` holds at least one letter or ideograph (something to match on)."""
    return bool(_TOKEN.search(normalize(text)))


def analyze_grams(text: str) -> list[str]:
    """Character features: CJK 1–3-grams inside each CJK run, 3–5-grams inside padded Latin words."""
    return _grams(_tokens(text))


def _grams(tokens: Sequence[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        out.extend(_token_grams(tok))
    return out


@functools.lru_cache(maxsize=1 << 17)
def _token_grams(tok: str) -> tuple[str, ...]:
    # Tokens recur across texts (words, CJK runs), so each one's grams are built once; bounded.
    if _IS_CJK.match(tok):
        n = len(tok)
        return (*tok, *(tok[i : i + 2] for i in range(n - 1)), *(tok[i : i + 3] for i in range(n - 2)))
    padded = f" {tok} "
    m = len(padded)
    return tuple(padded[i : i + size] for size in (3, 4, 5) for i in range(m - size + 1))


def analyze_words(text: str) -> list[str]:
    """Word features: non-stop-word Latin/digit tokens and their adjacent bigrams; CJK bigrams.

    CJK bigrams stand in for words (most Chinese words are two characters) so that a purely
    Chinese text still has a word sub-space and mixed texts are weighted alike.
    """
    return _words(_tokens(text))


def _words(tokens: Sequence[str]) -> list[str]:
    out: list[str] = []
    prev: str | None = None
    for tok in tokens:
        if _IS_CJK.match(tok):
            out.extend(map(operator.add, tok, tok[1:]))
            if len(tok) == 1:
                out.append(tok)
            prev = None
            continue
        if tok in _STOP:
            prev = None
            continue
        out.append(tok)
        if prev is not None:
            out.append(f"{prev} {tok}")
        prev = tok
    return out


# The analysers of a fitted space, on already tokenised text: ``TextSpace.transform`` tokenises
# each text once for both sub-spaces and counts features itself (see ``_tfidf``).
_ON_TOKENS: dict[object, Callable[[Sequence[str]], list[str]]] = {analyze_grams: _grams, analyze_words: _words}


def _tfidf(vec: TfidfVectorizer, tokens: Sequence[Sequence[str]]) -> sp.csr_matrix:
    """``vec.transform`` of the texts whose tokens are given, computed the same way, faster.

    Counts, sorted indices, sublinear tf, idf and l2 norm as scikit-learn's ``TfidfVectorizer``
    (the same floats), with the counting done by ``Counter`` and one vocabulary look-up per
    distinct feature of a text instead of a Python loop over every feature.
    """
    analyse = _ON_TOKENS[vec.analyzer]
    get = vec.vocabulary_.get
    cols: list[int] = []
    counts: list[int] = []
    sizes: list[int] = []
    for toks in tokens:
        c = Counter(analyse(toks))
        cols.extend(map(get, c.keys(), repeat(-1)))
        counts.extend(c.values())
        sizes.append(len(c))
    col = np.array(cols, dtype=np.int32)
    keep = col >= 0
    doc = np.repeat(np.arange(len(sizes)), sizes)
    indptr = np.r_[0, np.cumsum(np.bincount(doc[keep], minlength=len(sizes)))].astype(np.int32)
    x = sp.csr_matrix(
        (np.array(counts, dtype=np.float64)[keep], col[keep], indptr), shape=(len(sizes), len(vec.vocabulary_))
    )
    x.sort_indices()
    if vec.sublinear_tf:
        np.log(x.data, x.data)
        x.data += 1.0
    if vec.use_idf:
        x.data *= vec.idf_[x.indices]
    if vec.norm is not None:
        x = sp.csr_matrix(normalize_rows(x, norm=vec.norm, copy=False))
    return x


def _fit_counted(vec: TfidfVectorizer, docs: list[str], times: np.ndarray) -> TfidfVectorizer:
    """``vec`` fitted as on a corpus holding ``docs[i]`` ``times[i]`` times.

    The vocabulary is the set of terms (no frequency cut-offs), the same for the distinct texts;
    the IDF is scikit-learn's smooth one, ``ln((1 + n) / (1 + df)) + 1``, computed with the same
    float64 operations in the same order from the same integer n and df, so the weights are equal.
    """
    presence = sp.csr_matrix(vec.fit_transform(docs))
    presence.data[:] = 1
    df = np.asarray(presence.T @ times, dtype=np.int64).astype(np.float64)
    df += 1.0
    idf = np.full_like(df, fill_value=int(times.sum()) + 1, dtype=np.float64)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    vec.idf_ = idf
    return vec


def _vectorizer(analyzer: object) -> TfidfVectorizer:
    # sublinear tf: a term repeated in a long description should not outweigh several distinct terms.
    return TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, norm="l2", dtype=np.float64)


@dataclass(frozen=True, slots=True)
class TextSpace:
    """A fitted vector space: IDF statistics of a reference corpus, for both sub-spaces.

    Build it once per catalogue (``TextSpace.fit``) and reuse it; ``transform`` turns texts into
    L2-normalised sparse rows whose dot products are cosine similarities in [0, 1].
    """

    grams: TfidfVectorizer
    words: TfidfVectorizer
    gram_weight: float = GRAM_WEIGHT

    @classmethod
    def fit(cls, corpus: Iterable[str], gram_weight: float = GRAM_WEIGHT) -> TextSpace:
        """Learn vocabularies and IDF weights from ``corpus`` (at least one text with content)."""
        # Catalogue texts repeat (openings from one template, a major taught at many colleges):
        # each distinct text is analysed once and counts as often as it occurs, which gives the
        # vocabulary and IDF weights of fitting every copy, bit for bit (see _fit_counted).
        counted = Counter(t for t in corpus if has_content(t))
        if not counted:
            raise ValueError("cannot fit a text space on a corpus without any text")
        docs, times = list(counted), np.fromiter(counted.values(), dtype=np.int64, count=len(counted))
        grams = _fit_counted(_vectorizer(analyze_grams), docs, times)
        try:
            words = _fit_counted(_vectorizer(analyze_words), docs, times)
        except ValueError:  # no word features at all (e.g. single CJK characters only)
            words = _fit_counted(_vectorizer(analyze_grams), docs, times)
        return cls(grams=grams, words=words, gram_weight=gram_weight)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Rows of unit length (or all-zero for texts sharing nothing with the vocabulary)."""
        if self.grams.analyzer in _ON_TOKENS and self.words.analyzer in _ON_TOKENS:
            tokens = [_tokens(t) for t in texts]
            g, w = _tfidf(self.grams, tokens), _tfidf(self.words, tokens)
        else:  # a vectoriser with some other analyser: scikit-learn's own transform
            g = sp.csr_matrix(self.grams.transform(texts))
            w = sp.csr_matrix(self.words.transform(texts))
        # Each block's rows are unit or zero, so the mixed row's norm follows from which blocks are
        # present; renormalising lets a text with only one kind of feature reach cosine 1 with itself.
        has_g = np.diff(g.indptr) > 0
        has_w = np.diff(w.indptr) > 0
        norm = np.sqrt(self.gram_weight * has_g + (1.0 - self.gram_weight) * has_w)
        norm[norm == 0.0] = 1.0
        g.data *= np.repeat(np.sqrt(self.gram_weight) / norm, np.diff(g.indptr))
        w.data *= np.repeat(np.sqrt(1.0 - self.gram_weight) / norm, np.diff(w.indptr))
        return sp.csr_matrix(sp.hstack([g, w], format="csr"))

    def similarity(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        """Dense ``len(left) × len(right)`` matrix of cosine similarities, clipped to [0, 1]."""
        a = self.transform(left)
        b = self.transform(right)
        return cosine(a, b)


def cosine(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Cosine similarity of unit-length sparse rows, dense, clipped to [0, 1] against rounding."""
    out = np.asarray((a @ b.T).toarray(), dtype=np.float64)
    np.clip(out, 0.0, 1.0, out=out)
    return out
