"""Schemas of batch allocation runs and placements."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from app.db.models import PlacementStatus, RunKind, RunMode, RunStatus
from app.schemas import MAX_ID, Id, InputModel, OutputModel, Province, RealNumber, Term, WholeNumber

# A quota or seat count larger than any scope's students binds nothing, and the solvers keep counts in
# 64-bit arrays: 10**30 would overflow there, in the worker, long after the 202.
MAX_COUNT = 1_000_000
# Log-odds per unit of a feature: the priors are single digits, and the logistic curve is flat beyond
# about ±40, so a larger weight says nothing more and only risks inf - inf = NaN in a score.
MAX_WEIGHT = 100.0
Weight = Annotated[RealNumber, Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT, allow_inf_nan=False)]
OpeningKey = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,9}$")]


def scoring_features(kind: RunKind | None = None) -> tuple[str, ...]:
    """The feature names a run of ``kind`` (any kind: None) may re-weight."""
    # Imported here: the scoring package loads scikit-learn, which the CLI and these schemas
    # otherwise do without; only a request that names weights pays for it.
    from matching.scoring.features import LECTURER_COURSE_FEATURES, STUDENT_OPENING_FEATURES

    if kind == RunKind.INTERNSHIP:
        return STUDENT_OPENING_FEATURES
    if kind == RunKind.LECTURER:
        return LECTURER_COURSE_FEATURES
    return STUDENT_OPENING_FEATURES + tuple(f for f in LECTURER_COURSE_FEATURES if f not in STUDENT_OPENING_FEATURES)


class RunScope(InputModel):
    """What a run allocates: one term, optionally narrowed to a province, colleges, enterprises."""

    term: Term
    province: Province | None = None
    college_ids: Annotated[list[Id], Field(max_length=1000)] = Field(default_factory=list)
    enterprise_ids: Annotated[list[Id], Field(max_length=5000)] = Field(default_factory=list)
    alliance_id: Id | None = Field(default=None, description="Allocate among an alliance's members (产教联合体).")

    def key(self, kind: str) -> str:
        """Canonical text of the scope: runs with equal keys compete for the same seats."""
        parts = [kind, self.term, f"province={self.province or '*'}",
                 "colleges=" + (",".join(map(str, sorted(set(self.college_ids)))) or "*"),
                 "enterprises=" + (",".join(map(str, sorted(set(self.enterprise_ids)))) or "*")]
        if self.alliance_id is not None:  # only then: the keys of stored runs stay what they were
            parts.append(f"alliance={self.alliance_id}")
        return "|".join(parts)


class QuotaParam(InputModel):
    college_id: Id
    enterprise_id: Id
    max_students: WholeNumber = Field(ge=0, le=MAX_COUNT)


class RunParameters(InputModel):
    """Solver side constraints and settings; all optional."""

    time_limit_s: RealNumber = Field(default=60, gt=0, le=3600)
    seed: WholeNumber = Field(default=0, ge=0, le=MAX_ID)
    top_k: WholeNumber = Field(default=50, ge=1, le=500, description="Candidate openings kept per student.")
    proposer: Annotated[str, Field(pattern="^(students|enterprises)$")] = "students"
    max_intern_share_of_staff: RealNumber | None = Field(
        default=None, gt=0, le=1, description="Interns ≤ this share of an enterprise's staff (default: setting).")
    max_intern_share_of_post: RealNumber | None = Field(
        default=None, gt=0, le=1, description="Interns ≤ this share of one post's headcount (default: setting).")
    college_floor: RealNumber = Field(default=0, ge=0, le=1)
    program_floor: RealNumber = Field(default=0, ge=0, le=1)
    quotas: Annotated[list[QuotaParam], Field(max_length=10_000)] = Field(default_factory=list)
    default_quota: WholeNumber | None = Field(default=None, ge=0, le=MAX_COUNT)
    fairness: bool = False
    seat_overrides: dict[OpeningKey, Annotated[WholeNumber, Field(ge=0, le=100_000)]] = Field(
        default_factory=dict, description="opening id → seats, for what-if scenarios.")
    forbidden: Annotated[list[tuple[Id, Id]], Field(max_length=100_000)] = Field(
        default_factory=list, description="(student id, opening id) pairs that must not be used.")
    pinned: Annotated[list[tuple[Id, Id]], Field(max_length=100_000)] = Field(
        default_factory=list, description="(student id, opening id) pairs the result must contain: a "
                                          "scheduler's adjustment by hand, solved and checked like any lock.")
    weights: Annotated[dict[str, Weight], Field(max_length=50)] = Field(
        default_factory=dict, description="Scoring weight overrides by feature name (log-odds per unit).")
    allow_cross_category: bool = Field(
        default=False, description="Allow placements outside the student's 专业大类 (needs override_reason).")
    override_reason: Annotated[str, Field(max_length=500)] | None = None
    target_share: RealNumber = Field(default=0.4, ge=0, le=1, description="Lecturer runs: enterprise share of hours.")

    @field_validator("seat_overrides")
    @classmethod
    def _opening_ids(cls, value: dict[str, int]) -> dict[str, int]:
        too_big = sorted(k for k in value if int(k) > MAX_ID)
        if too_big:
            raise ValueError(f"opening ids beyond {MAX_ID}: {too_big}")
        return value

    @field_validator("weights")
    @classmethod
    def _known_features(cls, value: dict[str, float]) -> dict[str, float]:
        check_weights(value, None)
        return value

    @model_validator(mode="after")
    def _pins_are_consistent(self) -> RunParameters:
        twice = sorted(s for s, n in Counter(s for s, _ in self.pinned).items() if n > 1)
        if twice:
            raise ValueError(f"students pinned to more than one opening: {twice[:10]}")
        both = sorted(set(self.pinned) & set(self.forbidden))
        if both:
            raise ValueError(f"pairs both pinned and forbidden: {both[:10]}")
        return self

    @model_validator(mode="after")
    def _override_needs_reason(self) -> RunParameters:
        if self.allow_cross_category and not (self.override_reason and self.override_reason.strip()):
            raise ValueError("allow_cross_category needs an override_reason, which is logged")
        return self


class RunCreate(InputModel):
    kind: RunKind
    mode: RunMode = RunMode.OPTIMAL
    scope: RunScope
    parameters: RunParameters = Field(default_factory=RunParameters)
    supplementary_to: Id | None = Field(
        default=None, description="Run a supplementary round after this published run: accepted placements "
                                  "stay locked, remaining seats go to unplaced and declined students.")

    @model_validator(mode="after")
    def _mode_supports_parameters(self) -> RunCreate:
        check_mode_supports(self.mode, self.parameters)
        check_weights(self.parameters.weights, self.kind)
        return self


def check_weights(weights: dict[str, float], kind: RunKind | None) -> None:
    """Weights name features of the run's pairing: the worker refuses any other name."""
    if not weights:
        return
    known = scoring_features(kind)
    unknown = sorted(set(weights) - set(known))
    if unknown:
        of = f"{kind.value} runs" if kind else "any run"
        raise ValueError(f"unknown scoring features {unknown} for {of}; known: {list(known)}")


def check_mode_supports(mode: RunMode, parameters: RunParameters) -> None:
    """Stable matching honours seats (and the staff-share caps, as seats), locks and forbidden
    pairs; quotas, floors and fairness need the optimal mode."""
    if mode == RunMode.STABLE:
        used = [name for name, on in (("quotas", bool(parameters.quotas)),
                                      ("default_quota", parameters.default_quota is not None),
                                      ("college_floor", parameters.college_floor > 0),
                                      ("program_floor", parameters.program_floor > 0),
                                      ("fairness", parameters.fairness)) if on]
        if used:
            raise ValueError(f"mode 'stable' does not support {', '.join(used)}; use mode 'optimal'")


class RunFork(InputModel):
    """A what-if scenario from an existing run: parameters changed, scope kept."""

    mode: RunMode | None = None
    parameters: dict[str, Any] = Field(default_factory=dict, description="Fields of RunParameters to change.")


class RunAdjust(InputModel):
    """Adjust a run by hand before publishing: the same round solved again with these pairs."""

    pin: Annotated[list[tuple[Id, Id]], Field(max_length=1000)] = Field(
        default_factory=list, description="(student id, opening id): place the student there.")
    forbid: Annotated[list[tuple[Id, Id]], Field(max_length=1000)] = Field(
        default_factory=list, description="(student id, opening id): never this pair.")


class RunRead(OutputModel):
    id: int
    kind: RunKind
    mode: RunMode
    term: str
    scope: dict[str, Any]
    parameters: dict[str, Any]
    status: RunStatus
    phase: str
    progress: int
    objective: float | None
    bound: float | None
    gap: float | None
    wall_time_s: float | None
    phase_times: dict[str, float]
    error: str | None
    seed: int
    input_digest: str | None
    placements_digest: str | None
    versions: dict[str, str]
    parent_run_id: int | None = Field(description="The earlier round this round follows (its locks).")
    round: int
    forked_from_id: int | None = Field(default=None, description="The run this what-if was forked from.")
    stale_reasons: list[str] = Field(default_factory=list,
                                     description="Why the result can no longer be published, found after the solve.")
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    published_at: datetime | None
    withdrawn_at: datetime | None = None


class AgreementRecord(InputModel):
    """The signed tripartite agreement (三方协议): its number and signing date, both optional."""

    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    signed_on: date | None = Field(default=None, description="The day the agreement was signed (YYYY-MM-DD).")


class PlacementWithdraw(InputModel):
    """Why an accepted or confirmed placement ends (kept with the placement)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class PlacedStudentContact(BaseModel):
    """The minimum an enterprise needs to reach a student placed with it (and the student's own
    college sees the same); present only once the placement is published and while it stands."""

    name: str
    phone: str | None


class PlacementRead(OutputModel):
    id: int
    run_id: int | None
    kind: RunKind
    student_id: int | None
    opening_id: int | None
    lecturer_id: int | None
    course_need_id: int | None
    college_id: int | None = None
    enterprise_id: int | None = None
    program_id: int | None = None
    score: float | None
    status: PlacementStatus
    locked: bool
    agreement_recorded_at: datetime | None
    agreement_no: str | None = None
    agreement_signed_on: date | None = None
    withdrawn_reason: str | None = None
    student_contact: PlacedStudentContact | None = Field(
        default=None, description="Placed student's name and phone: for the placement's enterprise and the "
                                  "student's college, after publication, unless declined.")


class UnplacedRead(BaseModel):
    id: str
    college_id: str
    reasons: list[str]


class RunKpis(BaseModel):
    run_id: int
    kind: RunKind
    status: RunStatus
    colleges: list[dict[str, Any]]
    enterprises: list[dict[str, Any]]
    programs: list[dict[str, Any]]
    totals: dict[str, Any]


class DiffItem(BaseModel):
    subject_id: int = Field(description="Student (internship) or course need (lecturer).")
    before: int | None = Field(description="Opening or lecturer in the other run.")
    after: int | None
    cause: str


class RunDiff(BaseModel):
    run_id: int
    against: int
    changed: int
    items: list[DiffItem]


class RunComparison(BaseModel):
    runs: list[RunKpis]
    changed_placements: dict[str, int] = Field(description='"a-b" → number of subjects placed differently.')
