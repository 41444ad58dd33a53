"""The one scaling function from fit scores to the integer weights every solver optimises."""

from __future__ import annotations

import numpy as np

from matching.allocation.problem import FloatArray, IntArray

FIT_RESOLUTION = 1000
"""Scores are kept to 1/1000: finer differences are noise in a fit estimate."""

PLACEMENT_BONUS = 1
"""Added to every weight so that any candidate placement beats leaving the student unplaced."""

MAX_WEIGHT = FIT_RESOLUTION + PLACEMENT_BONUS


def fit_weights(scores: FloatArray) -> IntArray:
    """Integer weight of each candidate pair: ``PLACEMENT_BONUS + round(score * FIT_RESOLUTION)``."""
    clipped = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    return (np.rint(clipped * FIT_RESOLUTION).astype(np.int64) + PLACEMENT_BONUS).astype(np.int64)
