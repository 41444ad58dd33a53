"""Field weights as estimator parameters, and the specificity of the skills field's features."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex
from matching.scoring.catalog import NeedSimilarities
from matching.scoring.fields import FieldSample, FieldWeights, rank_of

PROGRAMMES = [
    CatalogEntry("P1", "Software Development", "Write computer programs and software applications in Java."),
    CatalogEntry("P2", "Nursing", "Care for patients in hospitals, give medication, record patient health."),
    CatalogEntry("P3", "Accounting", "Prepare financial statements, audit accounts and budgets."),
    CatalogEntry("P4", "Welding", "Join metal parts by welding and cutting."),
]
# Every need lists office software; only the programmer's tools are specific.
NEEDS = [
    ("Registered Nurses", "Care for patients.", ("Microsoft Office software", "Medical record software"), "P2"),
    ("Accountants", "Examine financial records.", ("Microsoft Office software", "Accounting software"), "P3"),
    ("Welders", "Weld metal components.", ("Microsoft Office software", "Welding software"), "P4"),
    ("Software Developers", "Develop applications.", ("Microsoft Office software", "Oracle Java"), "P1"),
]


def test_a_word_every_needs_skills_field_has_weighs_nothing_there() -> None:
    index = CatalogIndex.build(PROGRAMMES, skills_weight=0.5)
    weights = index.skill_weights([n[2] for n in NEEDS])
    assert weights.skills["microsoft office software"] == 0.0
    assert weights.features is not None and weights.features.shape == (index.full.shape[1],)
    software = index.space.transform(["software"])
    assert software.nnz > 0 and np.all(weights.features[software.indices] == 0.0)
    # With whole skills weighted only, "software" (rare in the catalogue) pulls the software programme
    # up for a non-IT need; with the field's features weighted too it does not.
    title, _desc, skills, _ = NEEDS[0]
    code = [e.code for e in index.entries]
    by_name = index.need_scores(title, "", skills, specificity=weights.skills)
    by_feature = index.need_scores(title, "", skills, specificity=weights)
    assert by_feature[code.index("P1")] < by_name[code.index("P1")]
    assert by_feature[code.index("P2")] > by_feature[code.index("P1")]


def test_rank_of_counts_ties_against_the_gold_entry() -> None:
    scores = np.array([0.5, 0.2, 0.5, 0.1])
    assert rank_of(scores, np.array([False, False, True, False])) == 2
    assert rank_of(scores, np.array([False, True, False, False])) == 3
    assert rank_of(scores, np.zeros(4, dtype=bool)) == 0


def samples(
    index: CatalogIndex, semantic: bool = False, needs: list[tuple[str, str, tuple[str, ...], str]] = NEEDS
) -> tuple[list[FieldSample], list[frozenset[str]]]:
    spec = index.skill_weights([n[2] for n in needs])
    xs, ys = [], []
    codes = [e.code for e in index.entries]
    for title, desc, skills, gold in needs:
        sims = index.similarities(title, desc, skills, spec)
        assert isinstance(sims, NeedSimilarities)
        # A fake semantic similarity that knows the answer: fitting must give it weight.
        sem = np.array([1.0 if c == gold else 0.0 for c in codes]) if semantic else None
        xs.append(FieldSample(sims, sem))
        ys.append(frozenset((gold,)))
    return xs, ys


def test_field_weights_are_estimator_parameters_and_fit_chooses_from_the_grid() -> None:
    index = CatalogIndex.build(PROGRAMMES, skills_weight=0.5)
    est = FieldWeights(index, grid={"name_weight": (0.0, 0.5), "skills_weight": (0.0, 0.4)})
    params = est.get_params()
    assert {"name_weight", "skills_weight", "backoff_weight", "semantic_weight", "index"} <= set(params)
    assert clone(est).get_params()["grid"] == est.grid
    xs, ys = samples(index)
    est.fit(xs, ys)
    assert len(est.results_) == 4
    best = max(m["mrr"] for _, m in est.results_)
    assert est.score(xs, ys) == pytest.approx(best)
    assert est.best_params_ == {k: getattr(est, k) for k in est.best_params_}
    # The fitted index ranks exactly as the estimator scores.
    fitted = est.fitted_index()
    assert (fitted.name_weight, fitted.skills_weight) == (est.name_weight, est.skills_weight)
    title, desc, skills, _ = NEEDS[0]
    spec = index.skill_weights([n[2] for n in NEEDS])
    assert fitted.need_scores(title, desc, skills, spec).tolist() == est.scores(xs[0]).tolist()


def test_a_semantic_term_is_fitted_only_when_there_is_one() -> None:
    index = CatalogIndex.build(PROGRAMMES, skills_weight=0.5)
    grid = {"name_weight": (0.3,), "skills_weight": (0.0,), "semantic_weight": (0.0, 0.5)}
    xs, ys = samples(index)
    assert FieldWeights(index, grid=grid).fit(xs, ys).semantic_weight == 0.0
    # A need whose answer the words do not give (a welder trained in accounting, say): only the fake
    # semantic similarity, which knows it, can put it first.
    odd = [*NEEDS[:2], (NEEDS[2][0], NEEDS[2][1], NEEDS[2][2], "P3"), NEEDS[3]]
    xs, ys = samples(index, needs=odd)
    assert FieldWeights(index, grid=grid).metrics(xs, ys)["hit@1"] < 1.0
    xs, ys = samples(index, semantic=True, needs=odd)
    est = FieldWeights(index, grid=grid).fit(xs, ys)
    assert est.semantic_weight == 0.5
    assert est.metrics(xs, ys)["hit@1"] == 1.0
    with pytest.raises(ValueError, match="as many"):
        est.fit(xs, ys[:-1])
