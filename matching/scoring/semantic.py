"""An optional semantic term: a sentence-embedding similarity fused with the lexical score.

Pure code: the embedding model is not imported here.  The caller passes an embedding function
(``Embed``: texts → one row per text) and the catalogue's vectors, computed once by that function
and stored by the caller (the service keeps them with the catalogue's digest).  ``SemanticIndex``
adds one named term, ``semantic_similarity`` (cosine of the need's and the entry's vectors,
clipped to [0, 1]), to ``CatalogIndex.rank_need`` by score fusion: with weight ``w`` every other
term is scaled by ``1 - w``, so the score is still the exact sum of named contributions and the
explanation says how much of it the model gave.

The weight depends on the need: an English-only model collapses on Chinese text, so a need
written in Chinese gets ``cjk_weight`` (0 unless fitting on Chinese dev data showed a gain); a
title alone gets ``title_weight``, any other need ``weight``.  Both are fitted on dev data (``FieldWeights``; see
benchmarks/scoring/RESULTS.md); the lexical ranking stays the default, since this term exists only
when a caller builds a ``SemanticIndex``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matching.scoring.catalog import CatalogIndex, SkillWeights, is_title, need_text
from matching.scoring.results import Ranked, Unscorable

__all__ = [
    "CJK_SEMANTIC_WEIGHT",
    "FUSED_NAME_WEIGHT",
    "SEMANTIC_FEATURE",
    "SEMANTIC_WEIGHT",
    "TITLE_SEMANTIC_WEIGHT",
    "Embed",
    "SemanticIndex",
    "is_cjk",
    "semantic_text",
    "unit_rows",
]

SEMANTIC_FEATURE = "semantic_similarity"
# Fitted on the programmes-style dev set (benchmarks/scoring/programmes.py --embeddings) together
# with the name weight of a need given by fields, which fusion lowers from 0.5 to 0.4; Chinese
# needs: benchmarks/scoring/semantic_titles.py.
SEMANTIC_WEIGHT = 0.5
FUSED_NAME_WEIGHT = 0.4
# A title alone (English): fitted on the English job-title dev halves (semantic_titles.py).
TITLE_SEMANTIC_WEIGHT = 0.2
CJK_SEMANTIC_WEIGHT = 0.0

Embed = Callable[[Sequence[str]], np.ndarray]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def is_cjk(text: str) -> bool:
    """True when at least a fifth of the letters of ``text`` are CJK ideographs."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    return sum(1 for c in letters if _CJK.match(c)) * 5 >= len(letters)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (an all-zero row stays zero)."""
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError("embeddings must be a two-dimensional array (one row per text)")
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    out: np.ndarray = v / norms
    return out


def semantic_text(title: str, description: str = "", skills: Sequence[str] = ()) -> str:
    """What of a need is embedded: its title and description (a tool list is not a sentence)."""
    del skills
    return need_text(title, description)


@dataclass(frozen=True)
class SemanticIndex:
    """A ``CatalogIndex`` with the catalogue's sentence embeddings (one unit row per entry).

    ``vectors`` must be in ``index.entries`` order; ``embed`` turns need texts into vectors of
    the same model.
    """

    index: CatalogIndex
    vectors: np.ndarray
    embed: Embed
    weight: float = SEMANTIC_WEIGHT
    cjk_weight: float = CJK_SEMANTIC_WEIGHT
    title_weight: float = TITLE_SEMANTIC_WEIGHT

    def __post_init__(self) -> None:
        if self.vectors.shape[0] != len(self.index.entries):
            raise ValueError(
                f"{self.vectors.shape[0]} catalogue embeddings for {len(self.index.entries)} entries: recompute them"
            )
        if not all(0.0 <= w < 1.0 for w in (self.weight, self.cjk_weight, self.title_weight)):
            raise ValueError("semantic weights must lie in [0, 1)")
        object.__setattr__(self, "vectors", unit_rows(self.vectors))

    def weight_for(self, text: str) -> float:
        """The semantic weight of a need: ``cjk_weight`` for Chinese text, ``title_weight`` for a title
        alone, else ``weight``."""
        if is_cjk(text):
            return self.cjk_weight
        return self.title_weight if is_title(text) else self.weight

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Needs × entries cosine similarities, clipped to [0, 1] (one call of ``embed``)."""
        if not texts:
            return np.zeros((0, len(self.index.entries)))
        q = unit_rows(self.embed(list(texts)))
        if q.shape != (len(texts), self.vectors.shape[1]):
            raise ValueError(f"the embedding function gave {q.shape} for {len(texts)} texts of dimension "
                             f"{self.vectors.shape[1]}")
        out: np.ndarray = np.clip(q @ self.vectors.T, 0.0, 1.0)
        return out

    def term(self, text: str, similarity: np.ndarray) -> list[tuple[str, float, np.ndarray]]:
        """The semantic term for ``CatalogIndex.rank_need`` (empty when its weight is 0)."""
        w = self.weight_for(text)
        return [(SEMANTIC_FEATURE, w, similarity)] if w > 0.0 else []

    def rank_need(
        self,
        title: str,
        description: str = "",
        skills: Sequence[str] = (),
        top_k: int = 10,
        query_id: str = "",
        specificity: SkillWeights | None = None,
        similarity: np.ndarray | None = None,
    ) -> list[Ranked] | Unscorable:
        """``CatalogIndex.rank_need`` with the semantic term fused in.

        ``similarity`` (one row of ``similarities``) saves the embedding call when needs are
        embedded in a batch.
        """
        text = semantic_text(title, description, skills)
        if similarity is None:
            w = self.weight_for(text)
            similarity = self.similarities([text])[0] if w > 0.0 else np.zeros(len(self.index.entries))
        return self.index.rank_need(
            title, description, skills, top_k, query_id, specificity=specificity, extra=self.term(text, similarity)
        )
