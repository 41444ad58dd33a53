from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex, Ranked, Unscorable, rank_catalog
from matching.scoring.text import TextSpace, analyze_grams, analyze_words, has_content
from tests.matching.scoring.factories import CLOUD_OPS, MAJORS


def test_chinese_is_split_into_character_ngrams_without_a_segmenter() -> None:
    grams = analyze_grams("云计算")
    assert {"云", "计", "算", "云计", "计算", "云计算"} <= set(grams)


def test_english_gets_words_bigrams_and_subword_grams() -> None:
    words = analyze_words("Cloud operations of the platform")
    assert "cloud" in words
    assert "cloud operations" in words
    assert "the" not in words
    assert " op" in analyze_grams("operations")


def test_mixed_script_text_keeps_both_scripts() -> None:
    words = analyze_words("熟悉Linux和Docker")
    assert "linux" in words
    assert "docker" in words
    assert "熟悉" in words


def test_full_width_and_case_are_normalised() -> None:
    space = TextSpace.fit(["Linux 运维", "护理"])
    sim = space.similarity(["ＬＩＮＵＸ 运维"], ["Linux 运维"])
    assert sim[0, 0] == pytest.approx(1.0)


def test_has_content() -> None:
    assert not has_content("  ，。!! ")
    assert has_content("a")
    assert has_content("云")


def test_golden_cloud_operations_ranks_cloud_computing_above_iot() -> None:
    ranked = rank_catalog(CLOUD_OPS, MAJORS, top_k=len(MAJORS))
    assert isinstance(ranked, list)
    codes = [r.code for r in ranked]
    assert codes.index("510206") < codes.index("510102")
    assert codes[0] == "510206"


def test_english_catalogue_works_too() -> None:
    entries = [
        CatalogEntry("a", "Cloud Computing", "Deploy and operate cloud infrastructure and virtual machines"),
        CatalogEntry("b", "Nursing", "Care for patients in hospitals"),
        CatalogEntry("c", "Accounting", "Prepare financial statements and tax returns"),
    ]
    ranked = rank_catalog("Cloud operations engineer: operates virtualized infrastructure", entries, 3)
    assert isinstance(ranked, list)
    assert ranked[0].code == "a"


def test_ranked_items_are_explained_and_bounded() -> None:
    ranked = rank_catalog(CLOUD_OPS, MAJORS, top_k=3)
    assert isinstance(ranked, list)
    assert len(ranked) == 3
    assert [r.rank for r in ranked] == [1, 2, 3]
    for r in ranked:
        assert 0.0 <= r.score <= 1.0
        assert sum(c.contribution for c in r.contributions) == pytest.approx(r.score, abs=1e-12)
        sizes = [abs(c.contribution) for c in r.contributions]
        assert sizes == sorted(sizes, reverse=True)
    assert ranked[0].score >= ranked[1].score >= ranked[2].score


def test_empty_need_is_unscorable_not_zero() -> None:
    out = rank_catalog("   ", MAJORS, 5, query_id="n1")
    assert isinstance(out, Unscorable)
    assert out.id == "n1"
    assert "no text" in out.reason


def test_top_k_larger_than_catalogue_returns_all() -> None:
    out = CatalogIndex.build(MAJORS).rank("护理", 50)
    assert isinstance(out, list)
    assert len(out) == len(MAJORS)


def test_top_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="top_k"):
        CatalogIndex.build(MAJORS).rank("护理", 0)


_text = st.text(alphabet=st.sampled_from(list("云计算运维护理会计数据 abcdeLinux")), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(query=_text, seed=st.integers(0, 1000))
def test_ranking_is_invariant_to_catalogue_order_and_bounded(query: str, seed: int) -> None:
    shuffled = list(MAJORS)
    random.Random(seed).shuffle(shuffled)
    a = rank_catalog(query, MAJORS, 5)
    b = rank_catalog(query, shuffled, 5)
    if isinstance(a, Unscorable):
        assert isinstance(b, Unscorable)
        return
    assert isinstance(b, list)
    assert [(r.code, round(r.score, 12)) for r in a] == [(r.code, round(r.score, 12)) for r in b]
    assert all(isinstance(r, Ranked) and 0.0 <= r.score <= 1.0 for r in a)


def test_fitting_repeated_texts_once_gives_scikit_learns_weights_bit_for_bit() -> None:
    """TextSpace.fit analyses each distinct text once but counts it as often as it occurs."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from matching.scoring.text import analyze_grams, analyze_words

    texts = ["云计算运维工程师 Linux 云平台", "数控车床操作 CNC machining", "电子商务运营 e-commerce operations",
             "护理 nursing care", "云计算运维工程师 Linux 云平台"]
    corpus = texts * 7 + texts[:2] * 3 + ["", "  "]
    space = TextSpace.fit(corpus)
    docs = [t for t in corpus if t.strip()]
    for fitted, analyzer in ((space.grams, analyze_grams), (space.words, analyze_words)):
        reference = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, norm="l2", dtype=np.float64).fit(docs)
        assert fitted.vocabulary_ == reference.vocabulary_
        assert np.array_equal(fitted.idf_, reference.idf_)
    # Weights differ from a corpus without the repeats: the counts matter, not only the texts.
    assert not np.array_equal(TextSpace.fit(texts).grams.idf_, space.grams.idf_)
