"""Training and evaluating the student↔opening scoring model on recorded placement outcomes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.models import ScoringModel
from app.errors import Unprocessable
from app.repositories.scoring import ScoringRepository, TrainingDataRepository
from app.services.scoring_context import cooperation
from app.translate import opening_profile, program_profile, student_profile
from matching.domain import PlacementOutcome
from matching.scoring import Pairing, TrainingResult, build_training_set, train_and_evaluate
from matching.scoring.model import library_versions


@dataclass(frozen=True)
class Trained:
    version: int | None
    result: TrainingResult
    training_digest: str


def fit_on_outcomes(session: Session, *, seed: int = 0, test_fraction: float = 0.25) -> TrainingResult:
    outcomes = ScoringRepository(session).recorded_outcomes()
    if len(outcomes) < 20:
        raise Unprocessable(f"only {len(outcomes)} recorded outcomes; at least 20 are needed to train")
    data_repo = TrainingDataRepository(session)
    programs = {p.id: p for p in data_repo.programs()}
    students = data_repo.students(sorted({s for s, *_ in outcomes}))
    openings = data_repo.openings()
    occupations = data_repo.occupations({o.occupation_code for o in openings if o.occupation_code})
    data = build_training_set(
        [PlacementOutcome(str(s), str(o), completed, rating) for s, o, _, _, completed, rating in outcomes],
        {str(s.id): student_profile(s, programs[s.program_id].college_id) for s in students},
        {str(pid): program_profile(p) for pid, p in programs.items()},
        {str(o.id): opening_profile(o, occupations.get(o.occupation_code or "")) for o in openings},
        cooperation=cooperation(session), seed=seed,
    )
    return train_and_evaluate(data, test_fraction=test_fraction, seed=seed)


def train_and_store(session: Session, *, seed: int = 0, test_fraction: float = 0.25) -> Trained:
    """Train on every recorded outcome, evaluate on a held-out split, store a new active version."""
    result = fit_on_outcomes(session, seed=seed, test_fraction=test_fraction)
    repo = ScoringRepository(session)
    version = repo.next_version(Pairing.STUDENT_OPENING.value)
    artifact = result.model.to_bytes(f"v{version}", result.metrics())
    digest = str(getattr(result.model, "training_digest_", ""))
    repo.add_model(ScoringModel(pairing=Pairing.STUDENT_OPENING.value, version=version, artifact=artifact,
                                training_digest=digest, metrics=result.metrics(),
                                library_versions=library_versions(), active=True))
    return Trained(version, result, digest)
