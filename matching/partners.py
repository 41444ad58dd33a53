"""Which partners to seek: enterprises ranked for a program, programs ranked for an enterprise.

A recommendation is a partnership, not a single opening: each candidate is judged on named
contributions — the fit of its openings to the program (the scorer's own fit, ``matching.scoring``),
the overlap of its lecturers' topics with the program's courses, its industry against the major's
category, what the two parties achieved together before (accepted and completed placements),
distance, and the capacity it offers against the cohort.  Every contribution is an integer number of
points (``weight × value``, rounded once), and the score *is* their sum, so an explanation adds up
exactly.  A candidate with neither a scorable opening nor a lecturer nor any past placement is
"too little data to score" and is reported as such, not ranked.  Pure: evidence in, ranking out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Points per contribution at full strength (they add up to 1000, a perfect partner).
DEFAULT_WEIGHTS: Mapping[str, int] = {
    "opening_fit": 350, "lecturer_fit": 150, "industry": 100, "past_outcomes": 200, "distance": 100,
    "capacity": 100,
}
CONTRIBUTIONS = tuple(DEFAULT_WEIGHTS)
# Past placements that make the "past outcomes" contribution full (completed ones count double).
FULL_HISTORY = 10
TOO_LITTLE_DATA = "too_little_data"


@dataclass(frozen=True, slots=True)
class PartnerEvidence:
    """What is known of one candidate partner, relative to the subject (a program or an enterprise)."""

    candidate_id: str
    opening_fit: float | None = None  # best fit of the candidate's openings (scorer's score, 0-1)
    lecturer_fit: float | None = None  # topic overlap of lecturers with the program's courses (0-1)
    industry_fit: float | None = None  # the industry against the major's category (0-1)
    accepted: int = 0  # placements of the college's students there that were accepted (and still stand)
    completed: int = 0  # of them, completed
    same_city: bool = False
    same_province: bool = False
    seats: int = 0  # seats the candidate offers in the term (for the program) or the cohort it brings
    demand: int = 0  # the subject's cohort (or seats) the capacity is measured against


@dataclass(frozen=True, slots=True)
class Contribution:
    name: str
    value: float  # the evidence on a 0-1 scale
    weight: int
    points: int


@dataclass(frozen=True, slots=True)
class PartnerScore:
    candidate_id: str
    points: int | None  # the sum of the contributions' points; None when unscorable
    contributions: tuple[Contribution, ...]
    reason: str | None = None  # TOO_LITTLE_DATA when unscorable


def topic_overlap(topics: Iterable[str], wanted: Iterable[str]) -> float | None:
    """Share of the wanted topics (case-insensitive) that the topics cover; None without wanted topics."""
    want = {t.strip().lower() for t in wanted if t.strip()}
    if not want:
        return None
    have = {t.strip().lower() for t in topics if t.strip()}
    return len(want & have) / len(want)


def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in text if not ch.isspace())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def industry_fit(industry: str, category_names: Sequence[str]) -> float | None:
    """1 when the industry shares a two-character word with the major's category or class name
    (软件和信息技术服务业 and 电子与信息大类 share 信息), else 0; None when either is unknown."""
    industry = industry.strip()
    names = [n.replace("大类", "").strip() for n in category_names if n.strip()]
    if not industry or not names:
        return None
    words = set().union(*(_bigrams(n) for n in names)) - {"类", "与", "和"}
    return 1.0 if words & _bigrams(industry) else 0.0


def _value(evidence: PartnerEvidence, name: str) -> float:
    if name == "opening_fit":
        return evidence.opening_fit or 0.0
    if name == "lecturer_fit":
        return evidence.lecturer_fit or 0.0
    if name == "industry":
        return evidence.industry_fit or 0.0
    if name == "past_outcomes":
        return min(1.0, (evidence.accepted + evidence.completed) / (2 * FULL_HISTORY))
    if name == "distance":
        return 1.0 if evidence.same_city else 0.5 if evidence.same_province else 0.0
    if name == "capacity":
        return min(1.0, evidence.seats / evidence.demand) if evidence.demand > 0 else (1.0 if evidence.seats else 0.0)
    raise KeyError(name)


def score_partner(evidence: PartnerEvidence, weights: Mapping[str, int] = DEFAULT_WEIGHTS) -> PartnerScore:
    """The candidate's contributions and their exact sum, or ``too_little_data``."""
    if evidence.opening_fit is None and evidence.lecturer_fit is None and not evidence.accepted:
        return PartnerScore(evidence.candidate_id, None, (), TOO_LITTLE_DATA)
    contributions = []
    for name in CONTRIBUTIONS:
        weight = int(weights.get(name, 0))
        value = max(0.0, min(1.0, _value(evidence, name)))
        contributions.append(Contribution(name, round(value, 6), weight, round(weight * value)))
    return PartnerScore(evidence.candidate_id, sum(c.points for c in contributions), tuple(contributions))


def rank_partners(evidence: Iterable[PartnerEvidence], weights: Mapping[str, int] = DEFAULT_WEIGHTS,
                  ) -> tuple[list[PartnerScore], list[PartnerScore]]:
    """(ranked, unscorable): the scorable candidates best first (ties by id), and those with too
    little data to score."""
    scored = [score_partner(e, weights) for e in evidence]
    ranked = sorted((s for s in scored if s.points is not None), key=lambda s: (-(s.points or 0), s.candidate_id))
    return ranked, [s for s in scored if s.points is None]


__all__ = ["CONTRIBUTIONS", "DEFAULT_WEIGHTS", "TOO_LITTLE_DATA", "Contribution", "PartnerEvidence",
           "PartnerScore", "industry_fit", "rank_partners", "score_partner", "topic_overlap"]
