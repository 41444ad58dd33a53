"""Strict preference orders for stable matching, with ties broken by a seeded lottery.

Both the deferred-acceptance solver and the checker's blocking-pair count read the instance
through these orders, so that "stable" means the same thing to both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.allocation.problem import NOT_RANKED, IntArray, InternshipProblem


@dataclass(slots=True)
class StrictPreferences:
    """Per candidate pair: its position in the student's list and in the opening's priority order.

    Position 0 is the most preferred; -1 marks a pair that side finds unacceptable (not ranked).
    """

    student_position: IntArray
    opening_position: IntArray


def _bits(values: IntArray) -> int:
    return int(values.max()).bit_length() if values.size else 0


def _sort_order(owner: IntArray, primary: IntArray, lottery: IntArray) -> IntArray:
    """Order by (owner, primary, lottery); the lottery is a permutation, so the keys are unique.

    When the three fit in 63 bits they are packed into one integer and sorted once, several times
    faster than a three-key lexsort; the order is the same either way.  Keys are built in place
    (fewer 5M-element temporaries), and when the pairs come grouped by owner, as candidate files
    usually do, the sort finds them nearly ordered.
    """
    low = int(primary.min()) if primary.size else 0
    lottery_bits = _bits(lottery)
    primary_bits = (int(primary.max()) - low).bit_length() if primary.size else 0
    if _bits(owner) + primary_bits + lottery_bits <= 63:
        key = owner << (primary_bits + lottery_bits)
        shifted = primary - low
        shifted <<= lottery_bits
        key |= shifted
        key |= lottery
        return np.argsort(key)
    return np.lexsort((lottery, primary - low, owner))


def _positions(owner: IntArray, primary: IntArray, lottery: IntArray, acceptable: np.ndarray,
               n_owners: int) -> IntArray:
    """Position of each pair in its owner's order, counting acceptable pairs only; -1 if unacceptable."""
    order = _sort_order(owner, primary, lottery)
    ranked_owner = owner[order]
    # Position = number of acceptable entries of the same owner before this one.
    accepted_per_owner = np.bincount(owner[acceptable], minlength=n_owners)
    before_owner = np.cumsum(accepted_per_owner) - accepted_per_owner
    positions = np.empty(len(order), dtype=np.int64)
    if acceptable.all():
        ranked = np.arange(len(order), dtype=np.int64)
        ranked -= before_owner[ranked_owner]
    else:
        acceptable_sorted = acceptable[order]
        ranked = np.cumsum(acceptable_sorted, dtype=np.int64)
        ranked -= acceptable_sorted
        ranked -= before_owner[ranked_owner]
        ranked[~acceptable_sorted] = -1
    positions[order] = ranked
    return positions


def strict_preferences(problem: InternshipProblem, seed: int) -> StrictPreferences:
    """Derive strict orders from ranks (or scores when a side gave no ranks) and a seeded lottery.

    Students' ties between openings are broken by a lottery per pair; openings' ties between students
    by one lottery number per student (single tie-breaking, the usual choice in school choice).
    """
    rng = np.random.default_rng(seed)
    student_lottery = rng.permutation(problem.n_students).astype(np.int64)
    pair_lottery = rng.permutation(problem.n_pairs).astype(np.int64)
    # Scores are compared at the weight resolution so that float noise is a tie, not an order.
    score_key = -np.rint(problem.pair_score * 1e6).astype(np.int64)
    student_rank = problem.pair_student_rank.astype(np.int64)
    opening_rank = problem.pair_opening_rank.astype(np.int64)
    if problem.student_ranks_given:
        student_primary, student_ok = student_rank, student_rank != NOT_RANKED
    else:
        student_primary, student_ok = score_key, np.ones(problem.n_pairs, dtype=bool)
    if problem.opening_ranks_given:
        opening_primary, opening_ok = opening_rank, opening_rank != NOT_RANKED
    else:
        opening_primary, opening_ok = score_key, np.ones(problem.n_pairs, dtype=bool)
    pair_student = problem.pair_student.astype(np.int64)
    pair_opening = problem.pair_opening.astype(np.int64)
    return StrictPreferences(
        student_position=_positions(pair_student, student_primary, pair_lottery, student_ok, problem.n_students),
        opening_position=_positions(pair_opening, opening_primary, student_lottery[pair_student],
                                    opening_ok, problem.n_openings),
    )
