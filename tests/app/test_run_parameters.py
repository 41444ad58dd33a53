"""Run parameters are refused at submission when the worker would refuse (or misuse) them later:
unknown or wrong-kind weight names, non-finite weights, counts beyond what the solvers hold,
booleans where a number is meant.  Numbers also refuse booleans on the cooperation nouns."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import AllocationRun, RunKind
from app.run_schemas import RunCreate, RunParameters, scoring_features
from app.schemas import OpeningCreate, OpeningUpdate, ProgramCreate, StudentCreate
from app.services.scoring_context import with_weights
from matching.scoring import Pairing, prior_model
from tests.conftest import World

API = "/api/v1"
TERM = "2027-spring"
PAIRING = {RunKind.INTERNSHIP: Pairing.STUDENT_OPENING, RunKind.LECTURER: Pairing.LECTURER_COURSE}

REFUSED: dict[str, dict[str, Any]] = {
    "unknown feature": {"weights": {"no_such_feature": 1.0}},
    "NaN weight": {"weights": {"text_similarity": math.nan}},
    "infinite weight": {"weights": {"text_similarity": math.inf}},
    "huge weight": {"weights": {"text_similarity": 1e300}},
    "boolean weight": {"weights": {"text_similarity": True}},
    "default_quota 10**30": {"default_quota": 10**30},
    "boolean default_quota": {"default_quota": True},
    "boolean seed": {"seed": True},
    "boolean top_k": {"top_k": True},
    "seed beyond the column": {"seed": 2**31},
    "boolean quota": {"quotas": [{"college_id": 1, "enterprise_id": 2, "max_students": True}]},
    "quota beyond any scope": {"quotas": [{"college_id": 1, "enterprise_id": 2, "max_students": 10**12}]},
    "boolean quota id": {"quotas": [{"college_id": True, "enterprise_id": 2, "max_students": 3}]},
    "seat override of no opening id": {"seat_overrides": {"abc": 3}},
    "seat override beyond the id column": {"seat_overrides": {str(2**31): 3}},
    "boolean seat override": {"seat_overrides": {"5": True}},
    "NaN floor": {"college_floor": math.nan},
    "boolean time limit": {"time_limit_s": True},
}


@pytest.mark.parametrize("parameters", REFUSED.values(), ids=REFUSED.keys())
def test_parameters_the_worker_cannot_use_are_refused(parameters: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RunParameters.model_validate(parameters)


def test_usable_parameters_pass_as_typed() -> None:
    params = RunParameters.model_validate({"weights": {"text_similarity": 2.5, "expertise_similarity": -1},
                                           "default_quota": "5", "seat_overrides": {"12": 0}, "seed": 7})
    # A form sends "5": digits still count, only booleans are refused.
    assert (params.default_quota, params.seat_overrides, params.seed) == (5, {"12": 0}, 7)


@pytest.mark.parametrize(("kind", "foreign"), [(RunKind.INTERNSHIP, "expertise_similarity"),
                                               (RunKind.LECTURER, "grade")])
def test_weights_name_features_of_the_runs_own_pairing(kind: RunKind, foreign: str) -> None:
    body = {"kind": kind.value, "scope": {"term": TERM}}
    with pytest.raises(ValidationError, match=foreign):
        RunCreate.model_validate(body | {"parameters": {"weights": {foreign: 1.0}}})
    own = scoring_features(kind)[0]
    assert RunCreate.model_validate(body | {"parameters": {"weights": {own: 1.0}}}).parameters.weights == {own: 1.0}


@pytest.mark.parametrize("kind", list(RunKind))
def test_schema_features_are_exactly_what_the_worker_reweights(kind: RunKind) -> None:
    model = prior_model(PAIRING[kind])
    assert set(scoring_features(kind)) == set(model.feature_names_)
    for feature in scoring_features(kind):
        assert with_weights(model, {feature: -3.0}).coef_[list(model.feature_names_).index(feature)] == -3.0


def _runs(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(AllocationRun)) or 0)


# Raw JSON: NaN and a 31-digit integer are what json.loads accepts and a client may send.
@pytest.mark.parametrize(("kind", "parameters"), [
    ("internship", '{"weights": {"typo": 1}}'),
    ("internship", '{"weights": {"grade": NaN}}'),
    ("internship", '{"default_quota": 1' + "0" * 30 + "}"),
    ("lecturer", '{"weights": {"grade": 1}}'),
], ids=["unknown weight", "NaN weight", "huge quota", "wrong-kind weight"])
def test_submission_refuses_what_the_worker_would_fail_on(kind: str, parameters: str, app_client: TestClient,
                                                         world: World, session: Session) -> None:
    before = _runs(session)
    raw = f'{{"kind": "{kind}", "scope": {{"term": "{TERM}"}}, "parameters": {parameters}}}'
    response = app_client.post(f"{API}/allocation-runs", content=raw,
                               headers=world.h("scheduler") | {"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert all(e["loc"][0] == "body" for e in response.json()["errors"]) and response.json()["errors"]
    assert _runs(session) == before


@pytest.mark.parametrize("weight", ["typo", "expertise_similarity"], ids=["unknown", "of lecturer runs"])
def test_a_fork_refuses_weights_its_kind_lacks(weight: str, app_client: TestClient, world: World,
                                               session: Session) -> None:
    submitted = app_client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM}},
                                headers=world.h("scheduler"))
    assert submitted.status_code == 202, submitted.text
    before = _runs(session)
    response = app_client.post(f"{API}/allocation-runs/{submitted.json()['id']}/fork",
                               json={"parameters": {"weights": {weight: 1.0}}}, headers=world.h("scheduler"))
    assert response.status_code == 422, response.text
    assert weight in response.json()["detail"]
    assert _runs(session) == before


@pytest.mark.parametrize(("schema", "body"), [
    (OpeningCreate, {"enterprise_id": 1, "title": "实习生", "seats": True, "province": "贵州", "city": "贵阳",
                     "term": TERM}),
    (OpeningUpdate, {"seats": False}),
    (OpeningUpdate, {"post_headcount": True}),
    (ProgramCreate, {"college_id": 1, "major_code": "510205", "term": TERM, "cohort_size": True}),
    (StudentCreate, {"program_id": 1, "student_no": "S1", "name": "张三", "grade": True}),
    (StudentCreate, {"program_id": True, "student_no": "S1", "name": "张三"}),
])
def test_numbers_of_the_nouns_refuse_booleans(schema: type[Any], body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="not a boolean"):
        schema.model_validate(body)


def test_seats_true_is_refused_by_the_api(app_client: TestClient, world: World) -> None:
    body = {"enterprise_id": world.enterprise_a.id, "title": "大数据运维实习生", "seats": True, "province": "贵州",
            "city": "贵阳", "term": TERM}
    response = app_client.post(f"{API}/openings", json=body, headers=world.h("enterprise_a"))
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "seats"]]
    # Digits (what a CSV cell or form holds) still count.
    created = app_client.post(f"{API}/openings", json=body | {"seats": "3"}, headers=world.h("enterprise_a"))
    assert created.status_code == 201, created.text
    assert created.json()["seats"] == 3
