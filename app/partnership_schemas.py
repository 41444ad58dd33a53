"""Schemas of partnerships (校企合作项目) and alliances (产教联合体, 职教集团)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from app.db.models import PartnershipForm, PartnershipStatus
from app.schemas import Id, InputModel, LongText, Name, OutputModel, Term, WholeNumber

MAX_COMMITMENT = 100_000
Commitment = Annotated[WholeNumber, Field(ge=0, le=MAX_COMMITMENT)]
AllianceKind = Annotated[str, Field(pattern=r"^(city_alliance|education_group|alliance)$")]


class PartnershipTermIn(InputModel):
    """What the partnership commits for one term."""

    term: Term
    reserved_seats: Commitment = Field(default=0, description="Internship seats held for the partner programs.")
    lecturer_hours: Commitment = Field(default=0, description="Weekly hours of professional courses taught.")
    training_places: Commitment = Field(default=0, description="Places at the training base (实训基地).")


class PartnershipCreate(InputModel):
    name: Name
    college_id: Id
    enterprise_id: Id
    program_ids: Annotated[list[Id], Field(min_length=1, max_length=50)]
    forms: Annotated[list[PartnershipForm], Field(min_length=1, max_length=7)]
    release_unused: bool = Field(default=False, description="Reserved seats no partner student took may go to "
                                                            "other students in a supplementary round.")
    description: LongText = ""
    terms: Annotated[list[PartnershipTermIn], Field(max_length=40)] = Field(default_factory=list)

    @field_validator("program_ids")
    @classmethod
    def _distinct_programs(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("a program is named twice")
        return value

    @field_validator("forms")
    @classmethod
    def _distinct_forms(cls, value: list[PartnershipForm]) -> list[PartnershipForm]:
        if len(set(value)) != len(value):
            raise ValueError("a form is named twice")
        return value

    @model_validator(mode="after")
    def _distinct_terms(self) -> PartnershipCreate:
        terms = [t.term for t in self.terms]
        if len(set(terms)) != len(terms):
            raise ValueError("a term is given twice")
        return self


class PartnershipTermRead(OutputModel):
    term: str
    reserved_seats: int
    lecturer_hours: int
    training_places: int


class PartnershipRead(OutputModel):
    id: int
    name: str
    college_id: int
    enterprise_id: int
    program_ids: list[int]
    forms: list[str]
    release_unused: bool
    status: PartnershipStatus
    proposed_by: str
    description: str
    terms: list[PartnershipTermRead]
    created_at: datetime
    updated_at: datetime


class AllianceCreate(InputModel):
    name: Name
    kind: AllianceKind = "alliance"
    scheduler_actor_id: Id | None = Field(default=None, description="The scheduler who allocates for it.")
    college_ids: Annotated[list[Id], Field(max_length=1000)] = Field(default_factory=list)
    enterprise_ids: Annotated[list[Id], Field(max_length=5000)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_members(self) -> AllianceCreate:
        if len(set(self.college_ids)) != len(self.college_ids) or len(set(self.enterprise_ids)) != len(
                self.enterprise_ids):
            raise ValueError("a member is named twice")
        return self


class AllianceRead(OutputModel):
    id: int
    name: str
    kind: str
    scheduler_actor_id: int | None
    college_ids: list[int]
    enterprise_ids: list[int]
    created_at: datetime
