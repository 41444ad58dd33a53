from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.utils.estimator_checks import check_estimator

from matching.scoring import FEATURES, PRIORS, ArtifactError, FitModel, Pairing, prior_model


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_passes_scikit_learn_estimator_checks() -> None:
    # The whole check suite runs; scikit-learn itself skips only check_array_api_input, which
    # needs the SCIPY_ARRAY_API environment variable and an array-API library.
    results = check_estimator(FitModel(), on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == []
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    assert skipped <= {"check_array_api_input"}


def test_prior_model_uses_documented_priors() -> None:
    for pairing in Pairing:
        m = prior_model(pairing)
        assert m.feature_names_ == FEATURES[pairing]
        assert list(m.coef_) == [PRIORS[pairing][f] for f in FEATURES[pairing]]
        assert m.intercept_ == -2.0


def _data(seed: int = 0, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3))
    logit = -1.0 + 3.0 * x[:, 0] - 2.0 * x[:, 1]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return x, y


def test_fit_recovers_signal_and_is_calibrated_on_training_data() -> None:
    x, y = _data(n=4000)
    m = FitModel(feature_names=("a", "b", "c"), C=100.0).fit(x, y)
    assert m.coef_[0] == pytest.approx(3.0, abs=0.5)
    assert m.coef_[1] == pytest.approx(-2.0, abs=0.5)
    # Score equation of the intercept: mean prediction equals the observed rate.
    assert m.predict_proba(x)[:, 1].mean() == pytest.approx(y.mean(), abs=1e-3)


def test_strong_prior_keeps_weights_at_the_prior() -> None:
    x, y = _data()
    m = FitModel(prior_coef=(5.0, 5.0, 5.0), C=1e-6).fit(x, y)
    assert np.allclose(m.coef_, 5.0, atol=1e-3)


@settings(max_examples=50, deadline=None)
@given(row=arrays(np.float64, 13, elements=st.floats(-3, 3)))
def test_log_odds_equal_intercept_plus_contributions(row: np.ndarray) -> None:
    m = prior_model(Pairing.STUDENT_OPENING)
    logit, contribs = m.explain(row)
    assert abs(m.decision_function(row[None, :])[0] - (m.intercept_ + sum(c.contribution for c in contribs))) < 1e-9
    assert abs(logit - m.decision_function(row[None, :])[0]) < 1e-9
    p = m.predict_proba(row[None, :])[0, 1]
    assert 0.0 <= p <= 1.0


def test_artifact_round_trip_is_exact() -> None:
    x, y = _data()
    m = FitModel(feature_names=("a", "b", "c")).fit(x, y)
    blob = m.to_bytes("v7", {"roc_auc": 0.8})
    data = json.loads(blob)
    assert data["model_version"] == "v7"
    assert data["feature_names"] == ["a", "b", "c"]
    assert set(data["versions"]) == {"sklearn", "numpy"}
    assert len(data["training"]["digest"]) == 64
    assert data["training"]["metrics"] == {"roc_auc": 0.8}
    back = FitModel.from_bytes(blob, expected_features=("a", "b", "c"))
    assert np.array_equal(back.decision_function(x), m.decision_function(x))


def test_artifact_with_other_features_is_refused() -> None:
    blob = prior_model(Pairing.PROGRAM_OPENING).to_bytes()
    with pytest.raises(ArtifactError, match="features do not match"):
        FitModel.from_bytes(blob, expected_features=FEATURES[Pairing.STUDENT_OPENING])


def test_artifact_from_other_library_version_is_refused() -> None:
    data = prior_model(Pairing.PROGRAM_OPENING).to_dict()
    data["versions"]["sklearn"] = "0.1.0"
    with pytest.raises(ArtifactError, match=r"trained with sklearn 0\.1\.0"):
        FitModel.from_dict(data)
    assert FitModel.from_dict(data, allow_version_mismatch=True).coef_.shape == (10,)


def test_garbage_artifact_is_refused() -> None:
    with pytest.raises(ArtifactError):
        FitModel.from_bytes(b"\xff\x00")
    with pytest.raises(ArtifactError, match="format"):
        FitModel.from_bytes(b'{"format": "other"}')


def test_digest_identifies_training_data() -> None:
    x, y = _data()
    a = FitModel().fit(x, y).training_digest_
    b = FitModel().fit(x, 1 - y).training_digest_
    assert a != b
    assert a == FitModel().fit(x, y).training_digest_
