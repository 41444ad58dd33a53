"""Training the student↔opening model on recorded outcomes, and its evaluation metrics.

Labels: a placement is a positive when it was completed and, if rated, rated well (≥ 4 of 5); a
placement that was abandoned or rated poorly is a negative.  Each student's history also yields
``negatives_per_outcome`` openings the student was *not* placed at (sampled with a fixed seed), as
negatives: without them the model would only learn what separates good from bad placements among
pairs that were already judged fit, not how to rank all openings for a student.

The history features of a training row are computed leave-one-out (its own outcome removed), so
the model cannot learn to read its label from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupShuffleSplit

from matching.domain import OpeningProfile, PlacementOutcome, ProgramProfile, StudentProfile
from matching.scoring.features import (
    GOOD_RATING,
    STUDENT_OPENING_FEATURES,
    Cooperation,
    PlacementHistory,
    opening_text,
    program_text,
    student_opening_row,
    unscorable_opening,
    unscorable_student,
)
from matching.scoring.model import FitModel, Pairing, prior_model
from matching.scoring.text import TextSpace

__all__ = [
    "TrainingResult",
    "TrainingSet",
    "build_training_set",
    "evaluate",
    "expected_calibration_error",
    "ndcg_at_k",
    "train_and_evaluate",
]


@dataclass(frozen=True)
class TrainingSet:
    """Feature rows with labels; ``groups`` is the query (student id) of each row for NDCG."""

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    feature_names: tuple[str, ...]


def is_good(outcome: PlacementOutcome) -> bool:
    return outcome.completed and (outcome.rating is None or outcome.rating >= GOOD_RATING)


def build_training_set(
    outcomes: Sequence[PlacementOutcome],
    students: Mapping[str, StudentProfile],
    programs: Mapping[str, ProgramProfile],
    openings: Mapping[str, OpeningProfile],
    *,
    cooperation: Cooperation | None = None,
    text_space: TextSpace | None = None,
    negatives_per_outcome: int = 3,
    seed: int = 0,
) -> TrainingSet:
    """Rows for every usable outcome (known, scorable student and opening) plus sampled negatives."""
    usable = [
        o
        for o in outcomes
        if o.student_id in students
        and o.opening_id in openings
        and unscorable_student(students[o.student_id], programs.get(students[o.student_id].program_id)) is None
        and unscorable_opening(openings[o.opening_id]) is None
    ]
    if not usable:
        raise ValueError("no usable outcomes: none refers to a known, scorable student and opening")
    class_of = {sid: programs[s.program_id].class_code for sid, s in students.items() if s.program_id in programs}
    occ_of = {oid: o.occupation_code for oid, o in openings.items()}
    history = PlacementHistory.from_outcomes(usable, class_of, occ_of)
    pool = sorted(oid for oid, o in openings.items() if unscorable_opening(o) is None)
    placed = {(o.student_id, o.opening_id) for o in usable}
    rng = np.random.default_rng(seed)

    pairs: list[tuple[str, str, PlacementOutcome | None, int]] = []
    for o in usable:
        pairs.append((o.student_id, o.opening_id, o, int(is_good(o))))
        if negatives_per_outcome > 0 and len(pool) > 1:
            picks = rng.choice(len(pool), size=min(len(pool), negatives_per_outcome + 2), replace=False)
            taken = 0
            for j in picks:
                oid = pool[int(j)]
                if (o.student_id, oid) in placed or taken >= negatives_per_outcome:
                    continue
                pairs.append((o.student_id, oid, None, 0))
                taken += 1

    prog_ids = sorted({students[s].program_id for s, _, _, _ in pairs})
    open_ids = sorted({oid for _, oid, _, _ in pairs})
    p_texts = [program_text(programs[p]) for p in prog_ids]
    o_texts = [opening_text(openings[oid]) for oid in open_ids]
    space = text_space if text_space is not None else TextSpace.fit([*p_texts, *o_texts])
    sim = space.similarity(p_texts, o_texts)
    p_idx = {p: i for i, p in enumerate(prog_ids)}
    o_idx = {oid: i for i, oid in enumerate(open_ids)}

    rows = []
    for sid, oid, outcome, _ in pairs:
        s = students[sid]
        rows.append(
            student_opening_row(
                s,
                programs[s.program_id],
                openings[oid],
                float(sim[p_idx[s.program_id], o_idx[oid]]),
                history,
                cooperation,
                exclude=outcome,
            )
        )
    return TrainingSet(
        X=np.vstack(rows),
        y=np.array([label for *_, label in pairs], dtype=np.int64),
        groups=np.array([sid for sid, *_ in pairs]),
        feature_names=STUDENT_OPENING_FEATURES,
    )


def ndcg_at_k(y: np.ndarray, score: np.ndarray, groups: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over groups (queries) that contain at least one positive; ties broken pessimistically."""
    y = np.asarray(y, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    values = []
    for g in np.unique(groups):
        m = groups == g
        rel = y[m]
        if rel.sum() <= 0:
            continue
        # Among equal scores, put negatives first: a model that cannot separate gets no credit.
        order = np.lexsort((rel, -score[m]))
        gains = rel[order][:k]
        discounts = 1.0 / np.log2(np.arange(2, gains.size + 2))
        ideal = np.sort(rel)[::-1][:k]
        values.append(float(gains @ discounts) / float(ideal @ discounts[: ideal.size]))
    return float(np.mean(values)) if values else float("nan")


def expected_calibration_error(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> float:
    """Σ_b (n_b / n) · |mean(y_b) − mean(p_b)| over equal-width probability bins."""
    y = np.asarray(y, dtype=np.float64)
    prob = np.asarray(prob, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.mean() * abs(float(y[m].mean()) - float(prob[m].mean()))
    return total


def evaluate(model: FitModel, x: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int = 10) -> dict[str, float]:
    """ROC AUC, NDCG@k (per group), expected calibration error, log-loss and size of a split."""
    p = model.predict_proba(x)[:, 1]
    both = len(np.unique(y)) == 2
    eps = 1e-12
    logloss = float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        f"ndcg@{k}": ndcg_at_k(y, model.decision_function(x), groups, k),
        "ece": expected_calibration_error(y, p),
        "log_loss": logloss,
        "n": float(len(y)),
        "positive_rate": float(np.mean(y)),
    }


@dataclass(frozen=True)
class TrainingResult:
    """The trained model and held-out metrics of both the trained and the prior model."""

    model: FitModel
    trained: dict[str, float]
    prior: dict[str, float]
    n_train: int
    n_test: int

    def metrics(self) -> dict[str, float]:
        """Flat dict for the artifact: ``trained.roc_auc``, ``prior.ndcg@10`` ..."""
        out = {f"trained.{k}": v for k, v in self.trained.items()}
        out.update({f"prior.{k}": v for k, v in self.prior.items()})
        return out


def train_and_evaluate(
    data: TrainingSet,
    *,
    test_fraction: float = 0.25,
    C: float = 1.0,  # noqa: N803
    seed: int = 0,
    k: int = 10,
) -> TrainingResult:
    """Split by group (a student's rows stay together), fit on one part, evaluate on the other.

    The returned model is refitted on all rows (the held-out figures estimate its quality).
    """
    if len(np.unique(data.groups)) < 2:
        raise ValueError("need outcomes of at least two students to hold some out")
    split = GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    train_idx, test_idx = next(split.split(data.X, data.y, data.groups))
    prior = prior_model(Pairing.STUDENT_OPENING)
    base = FitModel(
        feature_names=data.feature_names,
        prior_coef=tuple(prior.coef_),
        prior_intercept=float(prior.intercept_),
        C=C,
    )
    fitted = base.fit(data.X[train_idx], data.y[train_idx])
    xt, yt, gt = data.X[test_idx], data.y[test_idx], data.groups[test_idx]
    trained = evaluate(fitted, xt, yt, gt, k)
    prior_metrics = evaluate(prior, xt, yt, gt, k)
    final = FitModel(**base.get_params()).fit(data.X, data.y)
    return TrainingResult(final, trained, prior_metrics, int(train_idx.size), int(test_idx.size))
