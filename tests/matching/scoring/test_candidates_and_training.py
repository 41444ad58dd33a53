from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.domain import PlacementOutcome
from matching.scoring import (
    FitModel,
    Pairing,
    PlacementHistory,
    build_training_set,
    prior_model,
    top_k_openings_per_student,
    train_and_evaluate,
)
from matching.scoring.features import opening_text, program_text, student_opening_row
from matching.scoring.text import TextSpace
from matching.scoring.training import expected_calibration_error, ndcg_at_k
from tests.matching.scoring.factories import opening, random_world


def brute_force(progs, opens, studs, k, model, history, coop, space):  # type: ignore[no-untyped-def]
    pmap = {p.id: p for p in progs}
    out = []
    for i, s in enumerate(studs):
        p = pmap[s.program_id]
        sims = space.similarity([program_text(p)], [opening_text(o) for o in opens])[0]
        z = np.array(
            [
                model.decision_function(student_opening_row(s, p, o, sims[j], history, coop)[None, :])[0]
                for j, o in enumerate(opens)
            ]
        )
        order = sorted(range(len(opens)), key=lambda j: (-z[j], j))[:k]
        out.extend((i, j, z[j]) for j in order)
    return out


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 12), trained=st.booleans())
def test_candidates_equal_scoring_every_pair(seed: int, k: int, trained: bool) -> None:
    progs, opens, studs = random_world(seed)
    coop = {("e1", "c0"): 5, ("e3", "c2"): 30}
    hist = PlacementHistory.from_outcomes(
        [PlacementOutcome("s0", "o0", True, 5), PlacementOutcome("s1", "o1", False)],
        {s.id: {p.id: p for p in progs}[s.program_id].class_code for s in studs},
        {o.id: o.occupation_code for o in opens},
    )
    model = prior_model(Pairing.STUDENT_OPENING)
    if trained:  # negative skill and preference weights exercise the other side of the bounds
        model.coef_ = model.coef_.copy()
        model.coef_[-3] = -1.0
        model.coef_[-1] = -0.5
    space = TextSpace.fit([program_text(p) for p in progs] + [opening_text(o) for o in opens])
    got = top_k_openings_per_student(
        studs, opens, {p.id: p for p in progs}, k, model, history=hist, cooperation=coop, text_space=space
    )
    want = brute_force(progs, opens, studs, k, model, hist, coop, space)
    assert got.student_index.tolist() == [w[0] for w in want]
    assert got.opening_index.tolist() == [w[1] for w in want]
    assert np.allclose(got.logit, [w[2] for w in want], atol=1e-9)
    assert np.all((got.score >= 0.0) & (got.score <= 1.0))
    assert got.pairs_scored <= len(studs) * len(opens)


def test_candidates_prune_far_away_weak_openings() -> None:
    progs, opens, studs = random_world(3, n_openings=200, n_students=60)
    got = top_k_openings_per_student(studs, opens, {p.id: p for p in progs}, 5)
    assert got.pairs_scored < len(studs) * len(opens)
    assert np.bincount(got.student_index).max() == 5


def test_candidates_report_unscorable_inputs() -> None:
    progs, opens, studs = random_world(1, n_openings=5, n_students=5)
    opens.append(opening("bare", description="", required_skills=(), occupation_text=""))
    got = top_k_openings_per_student(studs, opens, {p.id: p for p in progs}, 3)
    assert [u.id for u in got.unscorable_openings] == ["bare"]
    assert len(opens) - 1 not in set(got.opening_index.tolist())


def test_metrics() -> None:
    y = np.array([1, 0, 0, 1, 0])
    groups = np.array(["a", "a", "a", "b", "b"])
    assert ndcg_at_k(y, np.array([3.0, 2, 1, 5, 4]), groups) == pytest.approx(1.0)
    assert ndcg_at_k(y, np.array([1.0, 1, 1, 1, 1]), groups) < 1.0  # ties earn no credit
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0
    assert expected_calibration_error(np.array([0, 0]), np.array([0.9, 0.9])) == pytest.approx(0.9)


def test_training_on_outcomes_learns_what_the_prior_does_not_know() -> None:
    # Synthetic history in which only skills decide a placement's success: the trained model must
    # rank held-out outcomes better than the prior, and persist with its metrics.
    progs, opens, studs = random_world(7, n_openings=60, n_students=400)
    rng = np.random.default_rng(0)
    omap = {o.id: o for o in opens}
    outcomes = []
    for s in studs:
        o = omap[f"o{rng.integers(len(opens))}"]
        good = bool(set(s.skills) & set(o.required_skills)) or rng.random() < 0.1
        outcomes.append(PlacementOutcome(s.id, o.id, completed=good, rating=5 if good else 2))
    data = build_training_set(
        outcomes, {s.id: s for s in studs}, {p.id: p for p in progs}, omap, negatives_per_outcome=3, seed=1
    )
    assert data.X.shape == (len(data.y), 13)
    assert set(np.unique(data.y)) == {0, 1}
    result = train_and_evaluate(data, seed=0)
    for name in ("roc_auc", "ndcg@10", "ece", "log_loss"):
        assert np.isfinite(result.trained[name])
        assert np.isfinite(result.prior[name])
    assert result.trained["log_loss"] < result.prior["log_loss"]
    assert result.trained["ece"] < result.prior["ece"]
    blob = result.model.to_bytes("2024-1", result.metrics())
    back = FitModel.from_bytes(blob, expected_features=data.feature_names)
    assert np.allclose(back.decision_function(data.X), result.model.decision_function(data.X))
