"""What every scoring call needs from the store: the active model, the placement history and past
cooperation.  The matches API and the allocation runs both build their scores from here, so a
run's candidates are exactly what the matches API shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.errors import ServiceUnavailable
from app.repositories.scoring import ScoringRepository
from matching.domain import PlacementOutcome
from matching.scoring import ArtifactError, FitModel, Pairing, PlacementHistory, prior_model
from matching.scoring.model import FEATURES


@dataclass(frozen=True)
class ScoringContext:
    model: FitModel
    model_version: str
    history: PlacementHistory
    cooperation: Mapping[tuple[str, str], int]


def active_model(session: Session, pairing: Pairing) -> tuple[FitModel, str]:
    """The newest trained model of ``pairing``, or the documented priors when none is stored."""
    row = ScoringRepository(session).active_model(pairing.value)
    if row is None:
        return prior_model(pairing), "prior"
    try:
        return FitModel.from_bytes(row.artifact, expected_features=FEATURES[pairing]), f"v{row.version}"
    except ArtifactError as exc:
        raise ServiceUnavailable(f"stored {pairing.value} model v{row.version} cannot be used: {exc}. "
                                 "Retrain it with `chanjiao model train`.") from exc


def with_weights(model: FitModel, overrides: Mapping[str, float]) -> FitModel:
    """A copy of ``model`` with some feature weights replaced (what-if scenarios)."""
    if not overrides:
        return model
    names = list(model.feature_names_)
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"unknown scoring features {unknown}; known: {names}")
    data = model.to_dict("override")
    coefs = dict(zip(names, data["coef"], strict=True))
    coefs.update(overrides)
    data["coef"] = [float(coefs[n]) for n in names]
    return FitModel.from_dict(data)


def placement_history(session: Session) -> PlacementHistory:
    outcomes = ScoringRepository(session).recorded_outcomes()
    return PlacementHistory.from_outcomes(
        (PlacementOutcome(str(s), str(o), completed, rating) for s, o, _, _, completed, rating in outcomes),
        class_of_student={str(s): cls for s, _, cls, _, _, _ in outcomes},
        occupation_of_opening={str(o): occ for _, o, _, occ, _, _ in outcomes},
    )


def cooperation(session: Session) -> dict[tuple[str, str], int]:
    return {(str(e), str(c)): n for (e, c), n in ScoringRepository(session).cooperation_counts().items()}


def scoring_context(session: Session, pairing: Pairing, weights: Mapping[str, float] | None = None) -> ScoringContext:
    model, version = active_model(session, pairing)
    if weights:
        model, version = with_weights(model, weights), version + "+overrides"
    return ScoringContext(model, version, placement_history(session), cooperation(session))
