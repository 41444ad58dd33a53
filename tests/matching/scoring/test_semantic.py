"""The semantic term with a fake embedding function: fusion, the exact explanation, the Chinese rule."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex
from matching.scoring.semantic import SEMANTIC_FEATURE, SemanticIndex, is_cjk, semantic_text

# Concepts a real model would relate although the words differ (caregiver ~ nursing).
CONCEPTS = {
    "nursing": 0, "nurse": 0, "caregiver": 0, "patients": 0, "护理": 0,
    "software": 1, "programmer": 1, "coder": 1, "code": 1,
    "welding": 2, "welder": 2, "metal": 2,
}


def fake_embed(texts: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(texts), 4))
    for k, text in enumerate(texts):
        for word in text.lower().replace(",", " ").split():
            out[k, CONCEPTS.get(word, 3)] += 1.0
    return out


ENTRIES = [
    CatalogEntry("P1", "Software Development", "write software code"),
    CatalogEntry("P2", "Nursing", "care for patients"),
    CatalogEntry("P3", "Welding", "join metal parts"),
    CatalogEntry("P4", "护理", "病房护理 护士"),
]


@pytest.fixture
def semantic() -> SemanticIndex:
    index = CatalogIndex.build(ENTRIES)
    return SemanticIndex(index, fake_embed([f"{e.name}\n{e.description}" for e in index.entries]), fake_embed,
                         weight=0.6, title_weight=0.3)


def test_the_semantic_similarity_is_one_more_exact_contribution(semantic: SemanticIndex) -> None:
    title, description = "Caregiver", "home visits"
    ranked = semantic.rank_need(title, description, top_k=3)
    assert isinstance(ranked, list)
    lexical = semantic.index.need_scores(title, description)
    sims = semantic.similarities([semantic_text(title, description)])[0]
    codes = [e.code for e in semantic.index.entries]
    for r in ranked:
        assert sum(c.contribution for c in r.contributions) == pytest.approx(r.score, abs=1e-12)
        i = codes.index(r.code)
        # Score fusion: every lexical term scaled by 1 - w, plus w × the cosine of the embeddings.
        assert r.score == pytest.approx(0.4 * lexical[i] + 0.6 * sims[i], abs=1e-12)
        feats = {c.feature: c for c in r.contributions}
        if sims[i] > 0:
            assert feats[SEMANTIC_FEATURE].value == pytest.approx(sims[i])
            assert feats[SEMANTIC_FEATURE].weight == 0.6
    # The words of "Caregiver" match no programme; the embedding puts nursing first.
    assert ranked[0].code == "P2"
    assert SEMANTIC_FEATURE in {c.feature for c in ranked[0].contributions}


def test_a_batch_row_ranks_as_embedding_one_need(semantic: SemanticIndex) -> None:
    texts = [semantic_text("Coder", ""), semantic_text("Welder", "metal")]
    block = semantic.similarities(texts)
    one = semantic.rank_need("Welder", "metal", top_k=3)
    batch = semantic.rank_need("Welder", "metal", top_k=3, similarity=block[1])
    assert one == batch
    assert isinstance(one, list) and one[0].code == "P3"


def test_chinese_needs_get_their_own_weight_and_zero_leaves_the_lexical_ranking(semantic: SemanticIndex) -> None:
    assert is_cjk("病房护士") and is_cjk("Java开发工程师")
    assert not is_cjk("Registered Nurses")
    assert semantic.weight_for("Registered Nurses") == 0.3  # a title alone
    assert semantic.weight_for("Registered Nurses\ncare for patients in wards") == 0.6
    assert semantic.weight_for("病房护士 负责护理") == 0.0
    ranked = semantic.rank_need("病房护士", "负责护理", top_k=3)
    plain = semantic.index.rank_need("病房护士", "负责护理", top_k=3)
    assert ranked == plain
    assert isinstance(ranked, list)
    assert all(SEMANTIC_FEATURE not in {c.feature for c in r.contributions} for r in ranked)


def test_vectors_that_do_not_fit_the_catalogue_or_the_model_are_refused() -> None:
    index = CatalogIndex.build(ENTRIES)
    with pytest.raises(ValueError, match="recompute"):
        SemanticIndex(index, np.ones((2, 4)), fake_embed)
    with pytest.raises(ValueError, match="weights"):
        SemanticIndex(index, np.ones((4, 4)), fake_embed, weight=1.0)
    wrong = SemanticIndex(index, np.ones((4, 5)), fake_embed)
    with pytest.raises(ValueError, match="dimension"):
        wrong.similarities(["nurse"])
