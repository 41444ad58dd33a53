"""Field weights of catalogue ranking as parameters of a scikit-learn estimator, fitted on dev data.

A need given by fields (title, description, skills; optionally a semantic similarity from an
embedding model) is scored by ``CatalogIndex`` as a weighted sum of named similarities.  How
much each field should count depends on the catalogue and the needs: a long need's title against
entry names, its skills list (each skill already weighted by its specificity, a document
frequency over the needs: ``skill_specificity``), the 小类 back-off and a semantic term.
``FieldWeights`` makes those weights estimator parameters (``get_params`` / ``set_params``) and
``fit`` chooses them on labelled needs by an exhaustive search of a small grid, maximising
MRR@depth (ties: hit@5, then the earlier grid point, so the result is deterministic).

The samples are ``FieldSample``: a need's weight-free similarities (``CatalogIndex.similarities``,
computed once) and its semantic similarity, if any; labels are the sets of acceptable codes.
The index itself is a parameter; ``fitted_index`` returns it with the chosen weights.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

from matching.scoring.catalog import (
    BACKOFF_WEIGHT,
    FIELDED_NAME_WEIGHT,
    SKILLS_WEIGHT,
    CatalogIndex,
    NeedSimilarities,
)
from matching.scoring.semantic import SEMANTIC_FEATURE

__all__ = ["DEFAULT_GRID", "PARAMS", "FieldSample", "FieldWeights", "rank_of"]

PARAMS = ("name_weight", "skills_weight", "backoff_weight", "semantic_weight")

DEFAULT_GRID: Mapping[str, tuple[float, ...]] = {
    "name_weight": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
    "skills_weight": (0.0, 0.05, 0.1, 0.2, 0.3),
    "backoff_weight": (0.0, 0.1, 0.2, 0.3),
    "semantic_weight": (0.0,),
}


@dataclass(frozen=True, slots=True)
class FieldSample:
    """One labelled need's similarities: ``sims`` from the index, ``semantic`` (every entry) or ``None``."""

    sims: NeedSimilarities
    semantic: np.ndarray | None = None


def rank_of(scores: np.ndarray, gold: np.ndarray) -> int:
    """1-based rank of the best-placed gold entry (``gold``: a boolean mask), or 0 if there is none.

    Entries scoring the same as the best gold entry count against it (a pessimistic tie-break).
    """
    if not gold.any():
        return 0
    best = float(scores[gold].max())
    return int(np.count_nonzero(scores > best) + np.count_nonzero(scores[~gold] == best)) + 1


class FieldWeights(BaseEstimator):  # type: ignore[misc]
    """The weights of ``CatalogIndex.rank_need`` as estimator parameters; ``fit`` searches ``grid``.

    ``name_weight``: the title against entry names, for needs longer than a title;
    ``skills_weight``: the skills term; ``backoff_weight``: the 小类 back-off;
    ``semantic_weight``: the share of the semantic similarity (score fusion; 0 = lexical only).
    ``grid`` maps any of these names to the values to try (missing names keep their value).
    """

    def __init__(
        self,
        index: CatalogIndex | None = None,
        name_weight: float = FIELDED_NAME_WEIGHT,
        skills_weight: float = SKILLS_WEIGHT,
        backoff_weight: float = BACKOFF_WEIGHT,
        semantic_weight: float = 0.0,
        grid: Mapping[str, Sequence[float]] | None = None,
        depth: int = 10,
    ) -> None:
        self.index = index
        self.name_weight = name_weight
        self.skills_weight = skills_weight
        self.backoff_weight = backoff_weight
        self.semantic_weight = semantic_weight
        self.grid = grid
        self.depth = depth

    # --- scoring under the current parameters -------------------------------------------------

    def fitted_index(self) -> CatalogIndex:
        """The index with this estimator's name, skills and back-off weights."""
        if self.index is None:
            raise ValueError("FieldWeights needs an index")
        return dataclasses.replace(
            self.index,
            name_weight=self.name_weight,
            skills_weight=self.skills_weight,
            backoff_weight=self.backoff_weight,
        )

    def scores(self, sample: FieldSample, index: CatalogIndex | None = None) -> np.ndarray:
        """Scores of every entry for one sample under the current parameters."""
        idx = index or self.fitted_index()
        extra: list[tuple[str, float, np.ndarray]] = []
        if sample.semantic is not None and self.semantic_weight > 0.0:
            extra.append((SEMANTIC_FEATURE, self.semantic_weight, sample.semantic))
        return idx.combine(sample.sims, extra)

    def metrics(self, X: Sequence[FieldSample], y: Sequence[frozenset[str]]) -> dict[str, float]:  # noqa: N803
        """hit@1, hit@5 and MRR@depth of the samples under the current parameters."""
        idx = self.fitted_index()
        codes = np.array([e.code for e in idx.entries])
        h1 = h5 = rr = 0.0
        for sample, gold in zip(X, y, strict=True):
            pos = rank_of(self.scores(sample, idx), np.isin(codes, list(gold)))
            h1 += pos == 1
            h5 += 0 < pos <= 5
            rr += 1.0 / pos if 0 < pos <= self.depth else 0.0
        n = max(1, len(X))
        return {"hit@1": h1 / n, "hit@5": h5 / n, "mrr": rr / n}

    def score(self, X: Sequence[FieldSample], y: Sequence[frozenset[str]]) -> float:  # noqa: N803
        """MRR@depth (scikit-learn's "greater is better" score)."""
        return self.metrics(X, y)["mrr"]

    # --- fitting -------------------------------------------------------------------------------

    def fit(self, X: Sequence[FieldSample], y: Sequence[frozenset[str]]) -> FieldWeights:  # noqa: N803
        """Choose the grid point with the best MRR@depth on ``X``, ``y``; keeps every result in ``results_``."""
        if len(X) != len(y) or not X:
            raise ValueError("fit needs as many label sets as samples, and at least one")
        grid = dict(DEFAULT_GRID if self.grid is None else self.grid)
        names: list[str] = [n for n in PARAMS if n in grid]
        if any(not grid[n] for n in names):
            raise ValueError("every grid entry needs at least one value")
        if all(s.semantic is None for s in X):
            grid["semantic_weight"] = (0.0,)  # nothing to fuse: do not pretend to fit it
        results: list[tuple[dict[str, float], dict[str, float]]] = []
        best: tuple[float, float] | None = None
        chosen: dict[str, float] = {}
        for values in itertools.product(*(grid[n] for n in names)):
            params: dict[str, float] = dict(zip(names, (float(v) for v in values), strict=True))
            self.set_params(**params)
            m = self.metrics(X, y)
            results.append((params, m))
            key = (round(m["mrr"], 12), round(m["hit@5"], 12))
            if best is None or key > best:
                best, chosen = key, params
        self.set_params(**chosen)
        self.results_ = results
        self.best_params_ = chosen
        return self
