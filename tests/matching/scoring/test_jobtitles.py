from __future__ import annotations

import pytest

from matching.domain import CatalogEntry
from matching.scoring import CatalogIndex, Unscorable
from matching.scoring.catalog import NAME_WEIGHT
from matching.scoring.jobtitles import JobTitleExpander, TitleVocabulary, normalize_title
from tests.matching.scoring.shipped import shipped_title_vocabulary

VOCAB: TitleVocabulary = shipped_title_vocabulary()
EXP = JobTitleExpander(VOCAB)

# Real 大典 2022 细类 rows (name; shortened definition) — enough to tell the areas apart.
DADIAN = [
    CatalogEntry("4-04-05-01", "计算机程序设计员", "从事计算机和移动终端应用程序设计、编制工作的人员。"),
    CatalogEntry("2-02-10-03", "计算机软件工程技术人员", "从事计算机软件需求分析、设计、开发、测试的工程技术人员。"),
    CatalogEntry("6-02-06-01", "酿酒师", "从事酒类产品的酿造工艺设计、生产过程控制、质量检验的人员。"),
    CatalogEntry("4-04-03-02", "广播电视机线员", "从事广播电视网络前端、干线、分配网络维护的人员。"),
    CatalogEntry("2-06-03-00", "会计专业人员", "进行会计核算、实行会计监督等会计工作的专业人员。"),
    CatalogEntry("2-06-05-00", "涉税服务专业人员", "从事纳税申报、税务咨询等涉税服务的专业人员。"),
    CatalogEntry("4-03-02-01", "中式烹调师", "运用煎、炒、烹、炸等技法，制作中式菜肴的人员。"),
    CatalogEntry("2-05-07-08", "临床营养技师", "从事临床营养治疗、膳食指导的卫生专业技术人员。"),
    CatalogEntry("4-02-02-02", "道路货运汽车驾驶员", "驾驶载货汽车，从事道路货物运输的人员。"),
    CatalogEntry("4-02-01-01", "轨道交通列车司机", "驾驶轨道交通列车，运送旅客或货物的人员。"),
    CatalogEntry("4-10-08-01", "网约配送员", "通过移动互联网平台，接收订单并将物品递送至指定地点的服务人员。"),
    CatalogEntry("4-01-06-02", "互联网营销师", "在数字化平台上，通过直播等方式推广、销售产品的人员。"),
    CatalogEntry("2-02-10-04", "计算机网络工程技术人员", "从事计算机网络规划、设计、建设、运行维护的工程技术人员。"),
    CatalogEntry("6-31-01-03", "电工", "从事电气设备安装、调试、维护、修理的人员。"),
    CatalogEntry("6-18-02-04", "焊工", "操作焊接设备，进行金属焊接的人员。"),
]


def codes(result: object) -> list[str]:
    assert isinstance(result, list)
    return [r.code for r in result]


@pytest.fixture(scope="module")
def index() -> CatalogIndex:
    return CatalogIndex.build(DADIAN, expander=EXP)


@pytest.fixture(scope="module")
def plain() -> CatalogIndex:
    return CatalogIndex.build(DADIAN, expander=None, title_name_weight=NAME_WEIGHT)


# --- normaliser ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "head"),
    [
        ("Java开发工程师", "java 开发"),
        ("高级Java开发工程师（急聘）", "java 开发"),
        ("客服专员", "客服"),
        ("销售经理", "销售"),
        ("行政助理（兼职）", "行政"),
        ("外卖骑手 包吃住", "外卖骑手"),
        ("Sr. DevOps Engineer II", "devops engineer"),
        ("Intern - Software Developer", "software developer"),
        ("Senior Accountant / Bookkeeper", "accountant bookkeeper"),
    ],
)
def test_normaliser_strips_affixes_and_keeps_the_head(title: str, head: str) -> None:
    assert normalize_title(title, VOCAB) == head


@pytest.mark.parametrize("title", ["总经理", "店长", "焊工", "实习生", "Senior", "护士"])
def test_normaliser_keeps_titles_that_are_nothing_but_their_head(title: str) -> None:
    assert normalize_title(title, VOCAB) == title.casefold()


# --- expansion -----------------------------------------------------------------------------------


def test_lexicon_words_are_found_longest_first_and_latin_only_as_whole_words() -> None:
    exp = EXP
    assert exp.words("货车司机") == ["货车", "司机"]
    assert exp.words("电话销售") == ["电话销售"]  # not 销售 alone
    assert exp.words("Digital marketing") == []  # "it" inside "digital" is no match
    assert "java" in exp.words("Java开发工程师")


def test_expansion_is_none_without_lexicon_word_or_affix() -> None:
    exp = EXP
    assert exp.expand("焊工") is None
    assert exp.expand("Welder") is None
    assert exp.expand("货车司机") is not None
    long_first_line = "负责" + "仓库货物的出入库管理与盘点工作，" * 5
    assert exp.expand(long_first_line) is None  # prose, not a title


def test_a_custom_lexicon_replaces_the_built_in_one() -> None:
    exp = JobTitleExpander.from_lexicon({"码农": "程序设计"})
    assert exp.expand("码农") == "码农 程序设计"
    assert exp.expand("货车司机") is None
    assert len(VOCAB.lexicon) == 543


@pytest.mark.parametrize(
    ("title", "wanted"),
    [
        ("Java开发工程师", {"4-04-05-01", "2-02-10-03"}),
        ("前端工程师", {"4-04-05-01", "2-02-10-03"}),
        ("出纳", {"2-06-03-00"}),
        ("厨师", {"4-03-02-01"}),
        ("货车司机", {"4-02-02-02"}),
        ("外卖骑手", {"4-10-08-01"}),
        ("网络主播", {"4-01-06-02"}),
    ],
)
def test_colloquial_titles_reach_their_occupation(index: CatalogIndex, title: str, wanted: set[str]) -> None:
    assert codes(index.rank(title, 1))[0] in wanted


def test_java_developer_ranks_a_software_occupation_in_the_top_five(index: CatalogIndex) -> None:
    top = codes(index.rank("Java开发工程师", 5))
    assert {"4-04-05-01", "2-02-10-03"} & set(top)


@pytest.mark.parametrize("query", ["焊工", "电工", "煎炒烹炸", "护理", "Welder"])
def test_expansion_never_changes_the_ranking_without_lexicon_words(
    index: CatalogIndex, plain: CatalogIndex, query: str
) -> None:
    a, b = index.rank(query, len(DADIAN)), plain.rank(query, len(DADIAN))
    if isinstance(a, Unscorable):
        assert isinstance(b, Unscorable)
        return
    assert isinstance(b, list)
    assert [(r.code, r.score) for r in a] == [(r.code, r.score) for r in b]
    assert all(c.feature != "expansion_similarity" for r in a for c in r.contributions)


@pytest.mark.parametrize("query", ["Java开发工程师", "货车司机\n负责长途货物运输", "客服专员", "焊工"])
def test_contributions_sum_exactly_to_the_score(index: CatalogIndex, query: str) -> None:
    ranked = index.rank(query, len(DADIAN))
    assert isinstance(ranked, list)
    for r in ranked:
        assert 0.0 <= r.score <= 1.0
        assert sum(c.contribution for c in r.contributions) == r.score
        for c in r.contributions:
            assert c.contribution == c.weight * c.value
    features = {c.feature for r in ranked for c in r.contributions}
    if query != "焊工":
        assert "expansion_similarity" in features


def test_a_title_known_only_to_the_lexicon_is_still_scored(index: CatalogIndex) -> None:
    ranked = index.rank("HR", 3)  # no character of "hr" occurs in the catalogue
    assert isinstance(ranked, list)
    assert isinstance(CatalogIndex.build(DADIAN, expander=None).rank("HR", 3), Unscorable)


def test_english_catalogue_without_lexicon_words_is_unaffected() -> None:
    entries = [
        CatalogEntry("a", "Welders, Cutters, Solderers, and Brazers", "Use hand-welding or flame-cutting equipment"),
        CatalogEntry("b", "Registered Nurses", "Assess patient health problems and needs"),
        CatalogEntry("c", "Accountants and Auditors", "Examine, analyze, and interpret accounting records"),
    ]
    with_lex = CatalogIndex.build(entries, expander=EXP)
    without = CatalogIndex.build(entries, expander=None)
    for q in ("Welder", "accounting records", "patient health"):
        a, b = with_lex.rank(q, 3), without.rank(q, 3)
        assert isinstance(a, list) and isinstance(b, list)
        assert [(r.code, r.score) for r in a] == [(r.code, r.score) for r in b]
    rn = with_lex.rank("RN", 1)
    assert codes(rn) == ["b"]


def test_weights_must_be_fractions() -> None:
    with pytest.raises(ValueError, match="weights"):
        CatalogIndex.build(DADIAN, expansion_weight=1.5)
