"""Partner recommendations: exact sums of named contributions, ordering, too little data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from matching.partners import (
    CONTRIBUTIONS,
    DEFAULT_WEIGHTS,
    TOO_LITTLE_DATA,
    PartnerEvidence,
    industry_fit,
    rank_partners,
    score_partner,
    topic_overlap,
)

unit = st.one_of(st.none(), st.floats(0, 1))
evidence = st.builds(PartnerEvidence, candidate_id=st.text(min_size=1, max_size=3), opening_fit=unit,
                     lecturer_fit=unit, industry_fit=unit, accepted=st.integers(0, 30), completed=st.integers(0, 30),
                     same_city=st.booleans(), same_province=st.booleans(), seats=st.integers(0, 50),
                     demand=st.integers(0, 50))


@given(evidence)
def test_every_score_is_the_exact_sum_of_its_named_contributions(e: PartnerEvidence) -> None:
    s = score_partner(e)
    if s.points is None:
        assert s.reason == TOO_LITTLE_DATA and s.contributions == ()
        assert e.opening_fit is None and e.lecturer_fit is None and e.accepted == 0
        return
    assert [c.name for c in s.contributions] == list(CONTRIBUTIONS)
    assert s.points == sum(c.points for c in s.contributions)
    assert 0 <= s.points <= sum(DEFAULT_WEIGHTS.values())
    assert all(0 <= c.points <= c.weight for c in s.contributions)


@given(st.lists(evidence, max_size=8))
def test_ranking_is_by_points_then_id(items: list[PartnerEvidence]) -> None:
    ranked, unscorable = rank_partners(items)
    assert len(ranked) + len(unscorable) == len(items)
    keys = [(-(r.points or 0), r.candidate_id) for r in ranked]
    assert keys == sorted(keys)


def test_a_close_experienced_well_fitting_partner_wins() -> None:
    near = PartnerEvidence("near", opening_fit=0.8, lecturer_fit=0.5, industry_fit=1.0, accepted=6, completed=4,
                           same_city=True, same_province=True, seats=30, demand=40)
    far = PartnerEvidence("far", opening_fit=0.8, lecturer_fit=0.5, industry_fit=1.0, seats=30, demand=40)
    nothing = PartnerEvidence("nothing", industry_fit=1.0, same_city=True, seats=10, demand=40)
    ranked, unscorable = rank_partners([far, nothing, near])
    assert [r.candidate_id for r in ranked] == ["near", "far"]
    assert [u.candidate_id for u in unscorable] == ["nothing"]
    by_name = {c.name: c.points for c in ranked[0].contributions}
    assert by_name == {"opening_fit": 280, "lecturer_fit": 75, "industry": 100, "past_outcomes": 100,
                       "distance": 100, "capacity": 75}
    assert ranked[0].points == 730


def test_topic_and_industry_helpers() -> None:
    assert topic_overlap(["Hadoop", "spark"], ["hadoop", "Spark", "Flink"]) == 2 / 3
    assert topic_overlap(["Hadoop"], []) is None
    assert industry_fit("软件和信息技术服务业", ["电子与信息大类", "计算机类"]) == 1.0
    assert industry_fit("通用设备制造业", ["电子与信息大类", "计算机类"]) == 0.0
    assert industry_fit("", ["电子与信息大类"]) is None
