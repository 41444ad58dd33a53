"""Explainable fit scores between needs, majors, students and lecturers.

Pure code: no I/O, no settings, no database.  The service calls:

- ``rank_catalog`` / ``CatalogIndex``: free need text → ranked catalogue entries (majors, 大典
  occupations, any imported catalogue);
- ``score_openings_for_program``, ``score_programs_for_opening``, ``score_students_for_opening``,
  ``score_lecturers_for_course``: one subject → ranked candidates with explanations;
- ``top_k_openings_per_student``: chunked candidate generation for allocation;
- ``prior_model``, ``build_training_set``, ``train_and_evaluate``, ``FitModel.to_bytes`` /
  ``FitModel.from_bytes``: the model's life cycle.
"""

from matching.scoring.api import (
    Matches,
    score_lecturers_for_course,
    score_openings_for_program,
    score_programs_for_opening,
    score_students_for_opening,
)
from matching.scoring.candidates import Candidates, top_k_openings_per_student
from matching.scoring.catalog import CatalogIndex, rank_catalog
from matching.scoring.features import (
    LECTURER_COURSE_FEATURES,
    PROGRAM_OPENING_FEATURES,
    STUDENT_OPENING_FEATURES,
    PlacementHistory,
)
from matching.scoring.model import FEATURES, PRIORS, ArtifactError, FitModel, Pairing, prior_model
from matching.scoring.results import Contribution, Ranked, Scored, Unscorable
from matching.scoring.text import TextSpace
from matching.scoring.training import TrainingResult, TrainingSet, build_training_set, train_and_evaluate

__all__ = [
    "FEATURES",
    "LECTURER_COURSE_FEATURES",
    "PRIORS",
    "PROGRAM_OPENING_FEATURES",
    "STUDENT_OPENING_FEATURES",
    "ArtifactError",
    "Candidates",
    "CatalogIndex",
    "Contribution",
    "FitModel",
    "Matches",
    "Pairing",
    "PlacementHistory",
    "Ranked",
    "Scored",
    "TextSpace",
    "TrainingResult",
    "TrainingSet",
    "Unscorable",
    "build_training_set",
    "prior_model",
    "rank_catalog",
    "score_lecturers_for_course",
    "score_openings_for_program",
    "score_programs_for_opening",
    "score_students_for_opening",
    "top_k_openings_per_student",
    "train_and_evaluate",
]
