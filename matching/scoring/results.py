"""Result values of scoring: a score with its explanation, or a reason why there is none."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Contribution", "Ranked", "Scored", "Unscorable"]


@dataclass(frozen=True, slots=True)
class Contribution:
    """One named term of a score: ``contribution = weight × value``.

    For pairing scores (``Scored``) contributions are in log-odds; for catalogue ranking
    (``Ranked``) they are shares of the score itself.
    """

    feature: str
    value: float
    weight: float
    contribution: float


@dataclass(frozen=True, slots=True)
class Scored:
    """A fit probability in [0, 1] and its explanation.

    ``logit == intercept + sum(c.contribution for c in contributions)`` holds exactly (up to
    float rounding, < 1e-9), and ``score == 1 / (1 + exp(-logit))``.  Contributions are sorted by
    decreasing absolute size, so the first few are "why" in order of importance; features whose
    contribution is zero are left out.
    """

    id: str
    score: float
    logit: float
    intercept: float
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True, slots=True)
class Unscorable:
    """No score: the profile (or query) holds too little information, and ``reason`` says what."""

    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Ranked:
    """A catalogue entry ranked for a need: ``score`` in [0, 1] is the sum of its contributions."""

    rank: int
    code: str
    name: str
    score: float
    contributions: tuple[Contribution, ...]


def sort_contributions(items: list[Contribution]) -> tuple[Contribution, ...]:
    """Drop zero terms; largest absolute contribution first, ties by feature name (deterministic)."""
    kept = [c for c in items if c.contribution != 0.0]
    kept.sort(key=lambda c: (-abs(c.contribution), c.feature))
    return tuple(kept)
