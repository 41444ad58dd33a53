"""Failure classes of real posting titles (issue 14), each on the whole shipped 大典 catalogue.

Recruiting words, a managing or selling post, brand and platform names, English "…, Except X"
names, and evidence split between sibling 细类 (the 小类 back-off, on synthetic siblings).  Each
test checks the class, not one word: it varies the recruiting word, the brand or the post around
one occupation.
"""

from __future__ import annotations

import numpy as np
import pytest

from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex
from matching.scoring.catalog import best_sibling, group_of, match_name
from matching.scoring.jobtitles import JobTitleExpander, clean_title
from tests.matching.scoring.shipped import shipped_dadian, shipped_title_vocabulary

VOCAB = shipped_title_vocabulary()


@pytest.fixture(scope="module")
def dadian() -> CatalogIndex:
    return CatalogIndex.build(shipped_dadian(), expander=JobTitleExpander(VOCAB))


def top(index: CatalogIndex, query: str, k: int = 1) -> list[str]:
    out = index.rank(query, k)
    assert isinstance(out, list)
    return [r.code for r in out]


# --- recruiting words -----------------------------------------------------------------------------

RECRUITER = "4-07-03-08"  # 招聘师


@pytest.mark.parametrize("noise", ["招聘", "诚聘", "急招", "直招", "高薪诚聘", "急聘", "火热招聘"])
@pytest.mark.parametrize(("post", "code"), [("焊工", "6-18-02-04"), ("快递员", "4-02-07-08"), ("保安员", "4-07-05-01")])
def test_a_recruiting_word_in_a_title_ranks_as_the_post_alone(
    dadian: CatalogIndex, noise: str, post: str, code: str
) -> None:
    title = f"{noise}{post}"
    assert clean_title(title, VOCAB) == post
    ranked = top(dadian, title, 5)
    assert ranked[0] == code
    assert RECRUITER not in ranked
    assert dadian.scores(title).tolist() == dadian.scores(post).tolist()


@pytest.mark.parametrize("title", ["招聘专员", "招聘主管", "招聘经理"])
def test_a_post_that_recruits_keeps_its_recruiting_word(dadian: CatalogIndex, title: str) -> None:
    assert "招聘" in clean_title(title, VOCAB)
    assert top(dadian, title)[0] == RECRUITER


def test_terms_of_employment_and_noise_brackets_go_but_an_informative_bracket_stays() -> None:
    assert clean_title("急招快递员日结 包吃住", VOCAB) == "快递员"
    assert clean_title("行政助理（兼职）", VOCAB) == "行政助理"
    assert "银行" in clean_title("客户经理（银行）", VOCAB)
    assert clean_title("Hiring Now: Forklift Driver - $20/hr", VOCAB) == "forklift driver"


# --- a post that manages or sells -----------------------------------------------------------------


def test_a_manager_suffix_keeps_that_the_post_manages() -> None:
    exp = JobTitleExpander(VOCAB)
    for title in ("销售经理", "餐厅经理", "仓库主管", "市场总监"):
        expansion = exp.expand(title)
        assert expansion is not None and "管理" in expansion.split(), title
    assert "管理" not in (exp.expand("销售员") or "").split()


def test_a_sales_manager_is_not_ranked_as_a_salesperson(dadian: CatalogIndex) -> None:
    manager, seller = "2-06-07-02", "4-01-02-01"  # 市场营销专业人员, 营销员
    s_mgr = dadian.scores("销售经理")
    codes = [e.code for e in dadian.entries]
    assert s_mgr[codes.index(manager)] > s_mgr[codes.index(seller)]
    s_plain = dadian.scores("销售员")
    assert s_plain[codes.index(seller)] > s_plain[codes.index(manager)]


# --- brand and platform names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("抖音主播", "4-01-06-02"),
        ("快手带货主播", "4-01-06-02"),
        ("京东快递员", "4-02-07-08"),
        ("顺丰快递员", "4-02-07-08"),
        ("美团骑手", "4-10-08-01"),
        ("饿了么骑手", "4-10-08-01"),
    ],
)
def test_a_brand_adds_its_industry_and_never_its_characters(dadian: CatalogIndex, title: str, code: str) -> None:
    assert top(dadian, title, 3)[0] == code
    # The brand's own characters (京, 东, 抖, 音 ...) are not part of what is matched as text.
    for brand in VOCAB.brands:
        assert brand not in clean_title(title, VOCAB)


def test_a_brand_adds_the_vocabulary_of_its_industry() -> None:
    exp = JobTitleExpander(VOCAB)
    expansion = exp.expand("淘宝运营") or ""
    assert "电子商务" in expansion
    assert "淘宝" not in expansion.split()
    assert clean_title("淘宝", VOCAB) == "淘宝"  # a title that is only a brand keeps it


# --- English "…, Except X" names -----------------------------------------------------------------

ONET = [
    CatalogEntry(
        "41-4011.00",
        "Sales Representatives, Wholesale and Manufacturing, Technical and Scientific Products",
        "Sell goods for wholesalers or manufacturers where technical or scientific knowledge is required in such "
        "areas as biology, engineering, chemistry, and electronics, normally obtained from at least 2 years of "
        "postsecondary education.",
    ),
    CatalogEntry(
        "41-4012.00",
        "Sales Representatives, Wholesale and Manufacturing, Except Technical and Scientific Products",
        "Sell goods for wholesalers or manufacturers to businesses or groups of individuals. Work requires "
        "substantial knowledge of items sold.",
    ),
    CatalogEntry(
        "25-2057.00",
        "Special Education Teachers, Middle School",
        "Teach academic, social, and life skills to middle school students with learning, emotional, or "
        "physical disabilities.",
    ),
    CatalogEntry(
        "25-2022.00",
        "Middle School Teachers, Except Special and Career/Technical Education",
        "Teach one or more subjects to students at the middle, intermediary, or junior high school level.",
    ),
]


def test_an_except_clause_is_not_matched() -> None:
    assert match_name(ONET[1].name) == "Sales Representatives, Wholesale and Manufacturing"
    assert match_name("Janitors and Cleaners, Except Maids and Housekeeping Cleaners") == "Janitors and Cleaners"
    assert match_name("计算机维修工（不含网络设备）") == "计算机维修工"
    index = CatalogIndex.build(ONET, expander=JobTitleExpander(VOCAB))
    assert top(index, "Technical Sales Representative")[0] == "41-4011.00"
    assert top(index, "Special Education Teacher, Middle School")[0] == "25-2057.00"
    assert top(index, "Middle School Teacher")[0] == "25-2022.00"


# --- evidence split between sibling 细类 ---------------------------------------------------------


def test_groups_are_read_from_the_codes() -> None:
    assert group_of("4-04-05-01") == "4-04-05"
    assert group_of("15-1252.00") == "15-125"
    assert group_of("510205") == "5102"
    assert group_of("51.3801") == "51.38"
    assert group_of("2654.1.7") is None


SPLIT = [
    CatalogEntry("2-05-08-01", "内科护士", "在内科病房护理病人"),
    CatalogEntry("2-05-08-02", "儿科护士", "在儿科护理患儿病人"),
    CatalogEntry("2-05-08-04", "外科护士", "在外科护理手术病人"),
    CatalogEntry("4-10-01-05", "养老护理员", "护理病人老人"),
    CatalogEntry("6-18-02-04", "焊工", "焊接金属"),
]


def test_the_group_term_is_one_more_exact_contribution() -> None:
    ranked = CatalogIndex.build(SPLIT, group_weight=0.3).rank("护理病人", 5)
    assert isinstance(ranked, list)
    for r in ranked:
        assert sum(c.contribution for c in r.contributions) == r.score
    assert "group_similarity" in {c.feature for c in ranked[0].contributions}
    assert all(
        "group_similarity" not in {c.feature for c in r.contributions}
        for r in CatalogIndex.build(SPLIT).rank("护理病人", 5)  # type: ignore[union-attr]
    )


# --- the 小类 back-off -----------------------------------------------------------------------------

# Three sibling 细类 of one 小类 (2-05-08), each matching half of the need, and a lone entry of
# another 小类 that matches it a little better than any one sibling.
SIBLINGS = [
    CatalogEntry("2-05-08-01", "急诊护士", "急诊抢救护理"),
    CatalogEntry("2-05-08-02", "手术室护士", "手术配合护理"),
    CatalogEntry("2-05-08-03", "社区护士", "社区随访护理"),
    CatalogEntry("4-10-01-05", "医院护工", "急诊手术陪护"),
    CatalogEntry("6-18-02-04", "焊工", "焊接金属"),
]
LONE = "4-10-01-05"


def test_best_sibling_is_the_strongest_other_member_of_the_group() -> None:
    scores = np.array([0.4, 0.3, 0.1, 0.5, 0.2, 0.2])
    groups = np.array([0, 0, 0, 1, 2, 2])
    # The leader's best sibling is the runner-up; everyone else's is the leader; a lone entry has none;
    # two members tied at the top are each other's best sibling.
    assert best_sibling(scores, groups).tolist() == [0.3, 0.4, 0.4, 0.0, 0.2, 0.2]


def test_split_evidence_backs_off_to_the_group_before_choosing() -> None:
    query = "急诊手术护理"
    plain = CatalogIndex.build(SIBLINGS).rank(query, 5)
    assert isinstance(plain, list) and plain[0].code == LONE  # no back-off: the lone entry wins
    base = {r.code: r.score for r in plain}
    w = 0.3
    ranked = CatalogIndex.build(SIBLINGS, query_backoff_weight=w).rank(query, 5)
    assert isinstance(ranked, list)
    codes = [r.code for r in ranked]
    # The group of the two half-matching siblings outranks the lone entry, and within the group the
    # sibling with more evidence of its own still comes first.
    assert codes[:3] == ["2-05-08-01", "2-05-08-02", LONE]
    best = max(base[c] for c in base if c.startswith("2-05-08"))
    for r in ranked:
        feats = {c.feature: c for c in r.contributions}
        assert sum(c.contribution for c in r.contributions) == r.score
        sibling = max((base[c] for c in base if c[:7] == r.code[:7] and c != r.code), default=0.0)
        assert r.score == pytest.approx((1 - w) * base[r.code] + w * sibling, abs=1e-12)
        if sibling > 0:
            assert feats["sibling_similarity"].value == pytest.approx(sibling, abs=1e-12)
    assert ranked[0].score < best  # the leader gives up some of its own score: a blend, not a bonus


def test_the_back_off_uses_the_catalogues_subcategory_and_leaves_lone_entries_alone() -> None:
    # Codes without a hierarchy of their own: the subcategory column says who the siblings are.
    named = [CatalogEntry(f"X{i}", e.name, e.description, subcategory=e.code[:7]) for i, e in enumerate(SIBLINGS)]
    ranked = CatalogIndex.build(named, query_backoff_weight=0.3).rank("急诊手术护理", 2)
    assert isinstance(ranked, list) and [r.code for r in ranked] == ["X0", "X1"]
    # Every entry its own group: the back-off has nothing to do, scores are exactly those without it.
    lone = [CatalogEntry(f"L{i}", e.name, e.description) for i, e in enumerate(SIBLINGS)]
    a = CatalogIndex.build(lone).scores("急诊手术护理")
    b = CatalogIndex.build(lone, query_backoff_weight=0.3).scores("急诊手术护理")
    assert a.tolist() == b.tolist()
    with pytest.raises(ValueError, match="backoff_weight"):
        CatalogIndex.build(SIBLINGS, query_backoff_weight=0.5)
