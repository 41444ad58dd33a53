"""``FitModel``: a logistic model on named features, additive in the log-odds.

``log_odds(x) = intercept_ + Σ_j coef_[j] · x[j]`` exactly, and ``p = 1 / (1 + e^{−log_odds})``.
Each term ``coef_[j] · x[j]`` is a named contribution, so the explanation of a score is the score.
Logistic regression fitted by maximum likelihood is calibrated on its training distribution (its
score equations make the mean predicted probability equal the observed rate, overall and along
each feature), so no separate calibration step is needed and the model stays linear.

Training is maximum a posteriori with a Gaussian prior centred on the documented prior weights
(``PRIORS``) rather than on zero: with no outcomes the model *is* the prior; with a few it moves
only where the data insist; with many the data dominate.  The strength is ``1 / C``.

Prior weights (log-odds per unit of feature), and why
------------------------------------------------------
Intercept −2.0: an arbitrary program–opening pair is usually a poor fit (≈ 12 %).
text_similarity 6.0: TF-IDF cosines of related need and program texts lie around 0.2–0.5, of
unrelated ones below 0.05; 6 turns a cosine of 0.4 into +2.4, the single strongest signal.
target_major 2.5 / same_major_class 1.5 / same_major_category 0.5: the enterprise said which majors
it wants; a neighbour in the same 专业类 shares most core courses, one in the same 专业大类 few.
history_placements 0.5 / history_success 1.0: established pipelines help a little; a record of
completed, well-rated placements helps more (and a poor record hurts, the feature is signed).
level_ineligible −4.0: an opening that excludes the level is nearly never a fit (≈ 0.3 % at the
base rate), but stays visible as a strong, explained penalty rather than a silent filter.
same_city 0.8 / same_province 0.4: internships mostly happen near the college; moving to another
city of the province is easier than to another province.
past_cooperation 0.6: an enterprise that has taken the college's students before is more likely to
again; deliberately weaker than fit itself.
skill_overlap 1.5: covering all required skills is worth about as much as a same-class major.
grade 0.3: a mild preference for stronger students; it should not decide a placement.
preference 1.0: the student's first choice gets +1.0, the second +0.5 ...

Lecturer ↔ course: intercept −2.0, expertise_similarity 6.0 (as text above), topic_overlap 2.0
(stated topics are precise), slot_overlap 1.5 (a lecturer who cannot come at the course's times is
of little use), same_city 0.8, past_cooperation 0.5.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.optimize
import sklearn
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from matching.scoring.features import (
    LECTURER_COURSE_FEATURES,
    PROGRAM_OPENING_FEATURES,
    STUDENT_OPENING_FEATURES,
)
from matching.scoring.results import Contribution, sort_contributions

__all__ = [
    "ARTIFACT_FORMAT",
    "PRIORS",
    "ArtifactError",
    "FitModel",
    "Pairing",
    "prior_model",
    "training_digest",
]

ARTIFACT_FORMAT = "chanjiao.fitmodel/1"


class Pairing(enum.StrEnum):
    PROGRAM_OPENING = "program_opening"
    STUDENT_OPENING = "student_opening"
    LECTURER_COURSE = "lecturer_course"


FEATURES: dict[Pairing, tuple[str, ...]] = {
    Pairing.PROGRAM_OPENING: PROGRAM_OPENING_FEATURES,
    Pairing.STUDENT_OPENING: STUDENT_OPENING_FEATURES,
    Pairing.LECTURER_COURSE: LECTURER_COURSE_FEATURES,
}

_OPENING_PRIORS = {
    "text_similarity": 6.0,
    "target_major": 2.5,
    "same_major_class": 1.5,
    "same_major_category": 0.5,
    "history_placements": 0.5,
    "history_success": 1.0,
    "level_ineligible": -4.0,
    "same_city": 0.8,
    "same_province": 0.4,
    "past_cooperation": 0.6,
    "skill_overlap": 1.5,
    "grade": 0.3,
    "preference": 1.0,
}
_LECTURER_PRIORS = {
    "expertise_similarity": 6.0,
    "topic_overlap": 2.0,
    "slot_overlap": 1.5,
    "same_city": 0.8,
    "past_cooperation": 0.5,
}
PRIOR_INTERCEPT = -2.0
PRIORS: dict[Pairing, dict[str, float]] = {
    p: {f: (_LECTURER_PRIORS if p is Pairing.LECTURER_COURSE else _OPENING_PRIORS)[f] for f in names}
    for p, names in FEATURES.items()
}


class ArtifactError(ValueError):
    """A serialised model that this code must not load (wrong format, features or versions)."""


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def library_versions() -> dict[str, str]:
    return {"sklearn": sklearn.__version__, "numpy": np.__version__}


def training_digest(
    X: np.ndarray,  # noqa: N803
    y: np.ndarray,
    feature_names: Sequence[str],
) -> str:
    """SHA-256 of the training matrix, labels and feature names (identifies the training data)."""
    h = hashlib.sha256()
    h.update(json.dumps(list(feature_names)).encode())
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(np.asarray(y).astype(str)).astype("U").tobytes())
    return h.hexdigest()


class FitModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Binary logistic model whose log-odds are the intercept plus named contributions.

    Parameters
    ----------
    feature_names : names of the columns of X (default ``x0 … x{n-1}``).
    prior_coef : prior weight per column (default 0) — the centre of the L2 penalty.
    prior_intercept : the centre of the (weak) intercept penalty.
    C : inverse strength of the pull towards the prior (larger: trust data more).
    max_iter : L-BFGS iterations.

    Build the untrained model for a pairing with ``prior_model(pairing)``.
    """

    def __init__(
        self,
        feature_names: Sequence[str] | None = None,
        prior_coef: Sequence[float] | None = None,
        prior_intercept: float = 0.0,
        C: float = 1.0,  # noqa: N803 - scikit-learn's name for it
        max_iter: int = 500,
    ) -> None:
        self.feature_names = feature_names
        self.prior_coef = prior_coef
        self.prior_intercept = prior_intercept
        self.C = C
        self.max_iter = max_iter

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    # --- fitting ----------------------------------------------------------------------------

    def _names(self, n: int) -> tuple[str, ...]:
        if self.feature_names is None:
            return tuple(f"x{j}" for j in range(n))
        names = tuple(self.feature_names)
        if len(names) != n:
            raise ValueError(f"X has {n} columns but {len(names)} feature names were given")
        return names

    def _prior(self, n: int) -> np.ndarray:
        if self.prior_coef is None:
            return np.zeros(n)
        w0 = np.asarray(self.prior_coef, dtype=np.float64)
        if w0.shape != (n,):
            raise ValueError(f"prior_coef has {w0.shape[0] if w0.ndim else 0} values for {n} features")
        return w0

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FitModel:  # noqa: N803 - scikit-learn's signature
        """Maximum a posteriori fit with a Gaussian prior centred on ``prior_coef``."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=False)  # noqa: N806
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.shape[0] > 2:
            raise ValueError(f"Only binary classification is supported. The type of the target is {type_of_target(y)}.")
        if classes.shape[0] < 2:
            raise ValueError("FitModel needs samples of 2 classes to fit; got 1 class")
        n, d = X.shape
        names = self._names(d)
        w0 = self._prior(d)
        b0 = float(self.prior_intercept)
        t = (y == classes[1]).astype(np.float64)
        s = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if not np.any(s > 0):
            raise ValueError("sample_weight is zero for every sample: nothing to fit")
        lam = 1.0 / float(self.C)
        lam_b = 1e-4 * lam  # keep the intercept almost free, but defined on separable data

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:d], theta[d]
            z = X @ w + b
            # log(1 + e^z) − t·z, stable for both signs of z
            loss = float(np.sum(s * (np.logaddexp(0.0, z) - t * z)))
            r = s * (expit(z) - t)
            dw = w - w0
            db = b - b0
            value = loss + 0.5 * lam * float(dw @ dw) + 0.5 * lam_b * db * db
            grad = np.concatenate([X.T @ r + lam * dw, [float(r.sum()) + lam_b * db]])
            return value, grad

        start = np.concatenate([w0, [b0]])
        res = scipy.optimize.minimize(
            objective, start, jac=True, method="L-BFGS-B", options={"maxiter": int(self.max_iter)}
        )
        self.coef_ = np.asarray(res.x[:d], dtype=np.float64)
        self.intercept_ = float(res.x[d])
        self.classes_ = classes
        self.feature_names_ = names
        self.n_iter_ = int(res.nit)
        self.training_digest_ = training_digest(X, y, names)
        self.n_training_samples_ = int(n)
        return self

    # --- prediction -------------------------------------------------------------------------

    def decision_function(self, X: Any) -> np.ndarray:  # noqa: N803 - scikit-learn's signature
        """Log-odds of the positive class: ``X @ coef_ + intercept_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)  # noqa: N806
        out: np.ndarray = X @ self.coef_ + self.intercept_
        return out

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803 - scikit-learn's signature
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803 - scikit-learn's signature
        check_is_fitted(self)
        out: np.ndarray = self.classes_[(self.decision_function(X) > 0.0).astype(int)]
        return out

    def explain(self, x: Sequence[float] | np.ndarray) -> tuple[float, tuple[Contribution, ...]]:
        """(log-odds, contributions sorted by size) of one feature row."""
        check_is_fitted(self)
        row = np.asarray(x, dtype=np.float64).ravel()
        contribs = [
            Contribution(name, float(v), float(w), float(w * v))
            for name, v, w in zip(self.feature_names_, row, self.coef_, strict=True)
        ]
        logit = self.intercept_ + float(np.sum(self.coef_ * row))
        return logit, sort_contributions(contribs)

    # --- artifact ---------------------------------------------------------------------------

    def to_dict(self, model_version: str = "prior", metrics: Mapping[str, float] | None = None) -> dict[str, Any]:
        """A JSON-ready description of the fitted model, its versions and its training data."""
        check_is_fitted(self)
        return {
            "format": ARTIFACT_FORMAT,
            "model_version": model_version,
            "feature_names": list(self.feature_names_),
            "coef": [float(c) for c in self.coef_],
            "intercept": float(self.intercept_),
            "classes": [_plain(c) for c in self.classes_],
            "params": {
                "C": float(self.C),
                "max_iter": int(self.max_iter),
                "prior_coef": [float(c) for c in self._prior(len(self.coef_))],
                "prior_intercept": float(self.prior_intercept),
            },
            "versions": library_versions(),
            "training": {
                "digest": self.training_digest_,
                "n_samples": self.n_training_samples_,
                "metrics": dict(metrics or {}),
            },
        }

    def to_bytes(self, model_version: str = "prior", metrics: Mapping[str, float] | None = None) -> bytes:
        return json.dumps(self.to_dict(model_version, metrics), ensure_ascii=False, sort_keys=True, indent=1).encode(
            "utf-8"
        )

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        expected_features: Sequence[str] | None = None,
        allow_version_mismatch: bool = False,
    ) -> FitModel:
        """Rebuild a model; raise ``ArtifactError`` if it does not match this code.

        Refuses another format, other feature names than ``expected_features`` (the pairing's
        current features), and — unless ``allow_version_mismatch`` — scikit-learn or numpy of
        another minor version than the running ones.
        """
        if data.get("format") != ARTIFACT_FORMAT:
            raise ArtifactError(
                f"not a FitModel artifact of format {ARTIFACT_FORMAT!r} "
                f"(found format {data.get('format')!r}); retrain the model"
            )
        names = [str(n) for n in data["feature_names"]]
        if expected_features is not None and names != list(expected_features):
            missing = [f for f in expected_features if f not in names]
            extra = [f for f in names if f not in expected_features]
            raise ArtifactError(
                "model artifact features do not match this version's features "
                f"(missing {missing}, unexpected {extra}, or a different order); retrain the model"
            )
        if not allow_version_mismatch:
            stored = {k: str(v) for k, v in dict(data.get("versions", {})).items()}
            for lib, running in library_versions().items():
                if _minor(stored.get(lib, "?")) != _minor(running):
                    raise ArtifactError(
                        f"model artifact was trained with {lib} {stored.get(lib, 'unknown')}, "
                        f"this process runs {lib} {running}; retrain the model (or load it explicitly "
                        "with allow_version_mismatch=True)"
                    )
        params = dict(data.get("params", {}))
        model = cls(
            feature_names=tuple(names),
            prior_coef=tuple(params.get("prior_coef", [0.0] * len(names))),
            prior_intercept=float(params.get("prior_intercept", 0.0)),
            C=float(params.get("C", 1.0)),
            max_iter=int(params.get("max_iter", 500)),
        )
        coef = np.asarray(data["coef"], dtype=np.float64)
        if coef.shape != (len(names),):
            raise ArtifactError(f"model artifact has {coef.shape[0]} weights for {len(names)} features")
        model.coef_ = coef
        model.intercept_ = float(data["intercept"])
        model.classes_ = np.asarray(data.get("classes", [0, 1]))
        model.feature_names_ = tuple(names)
        model.n_features_in_ = len(names)
        training = dict(data.get("training", {}))
        model.training_digest_ = str(training.get("digest", ""))
        model.n_training_samples_ = int(training.get("n_samples", 0))
        model.n_iter_ = 0
        return model

    @classmethod
    def from_bytes(
        cls, blob: bytes, expected_features: Sequence[str] | None = None, allow_version_mismatch: bool = False
    ) -> FitModel:
        try:
            data = json.loads(blob.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"model artifact is not valid UTF-8 JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ArtifactError("model artifact is not a JSON object")
        return cls.from_dict(data, expected_features, allow_version_mismatch)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def prior_model(pairing: Pairing | str) -> FitModel:
    """The untrained model of a pairing: the documented prior weights, ready to score."""
    pairing = Pairing(pairing)
    names = FEATURES[pairing]
    w0 = tuple(PRIORS[pairing][f] for f in names)
    model = FitModel(feature_names=names, prior_coef=w0, prior_intercept=PRIOR_INTERCEPT)
    model.coef_ = np.asarray(w0, dtype=np.float64)
    model.intercept_ = PRIOR_INTERCEPT
    model.classes_ = np.array([0, 1])
    model.feature_names_ = names
    model.n_features_in_ = len(names)
    model.n_iter_ = 0
    model.training_digest_ = ""
    model.n_training_samples_ = 0
    return model
