"""Schemathesis over every operation of the OpenAPI schema, in process (ASGI), as an admin and as
a tenant: no server errors, and every response conforms to the schema (documented status, content
type, body, headers).

The database is a real, committed SQLite file (schemathesis sends hundreds of requests, some of
them writes that must really commit), migrated and seeded with a few rows so that small ids hit
real objects.  Examples per operation are bounded to keep this within the suite's budget.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.db.base import utcnow
from app.db.engine import make_engine, make_session_factory
from app.db.models import (
    AllocationRun,
    College,
    CourseNeed,
    EducationLevel,
    Enterprise,
    Lecturer,
    Major,
    Occupation,
    Opening,
    Placement,
    PlacementStatus,
    Program,
    Role,
    RunKind,
    RunStatus,
    Student,
)
from app.main import create_app
from app.services.auth import create_api_key, ensure_actor
from app.settings import Settings
from tests.conftest import migrate

EXAMPLES = int(os.environ.get("CHANJIAO_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
TERM = "2027-spring"


@dataclass
class Target:
    app: FastAPI
    keys: dict[str, str]


def _seed(url: str) -> dict[str, str]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            major = Major(code="510205", name="大数据技术", level=EducationLevel.HIGHER_VOCATIONAL, category_code="51",
                          category_name="电子与信息大类", class_code="5102", class_name="计算机类")
            occupation = Occupation(code="4-04-05-01", level=4, name="计算机程序设计员", definition="编写程序",
                                    tasks="编写、调试程序")
            college = College(name="贵州测试职业技术学院", province="贵州", city="贵阳",
                              level=EducationLevel.HIGHER_VOCATIONAL)
            enterprise = Enterprise(name="贵阳云数科技有限公司", industry="软件", province="贵州", city="贵阳",
                                    staff_count=300)
            session.add_all([major, occupation, college, enterprise])
            session.flush()
            program = Program(college_id=college.id, major_id=major.id, name="大数据技术", description="Hadoop Spark",
                              core_courses=["Hadoop"], skills=["Python", "SQL"], cohort_size=40, term=TERM)
            opening = Opening(enterprise_id=enterprise.id, title="大数据运维实习生", description="运维 Hadoop 集群",
                              required_skills=["Hadoop"], occupation_code=occupation.code, seats=3, province="贵州",
                              city="贵阳", term=TERM, eligible_levels=[], eligible_major_codes=["510205"])
            session.add_all([program, opening])
            session.flush()
            student = Student(program_id=program.id, student_no="S-1", name="王小明", skills=["Python"], grade=80,
                              province="贵州", city="贵阳")
            lecturer = Lecturer(enterprise_id=enterprise.id, name="赵工", title="工程师", expertise="Hadoop",
                                topics=["Hadoop"], max_weekly_hours=4, available_slots=["mon1"], cities=["贵阳"])
            need = CourseNeed(program_id=program.id, course_name="Hadoop 实战", topics=["Hadoop"], weekly_hours=2,
                              slots=["mon1"], term=TERM)
            run = AllocationRun(kind=RunKind.INTERNSHIP, term=TERM, scope={"term": TERM},
                                scope_key=f"internship|{TERM}|province=*|colleges=*|enterprises=*",
                                status=RunStatus.SUCCEEDED, finished_at=utcnow())
            session.add_all([student, lecturer, need, run])
            session.flush()
            session.add(Placement(run_id=run.id, kind=RunKind.INTERNSHIP, student_id=student.id,
                                  opening_id=opening.id, term=TERM, score=0.5, status=PlacementStatus.PROPOSED))
            admin = ensure_actor(session, Role.ADMIN)
            office = ensure_actor(session, Role.PLACEMENT_OFFICE, college_id=college.id)
            return {"admin": create_api_key(session, admin), "college": create_api_key(session, office)}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Target:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    url = f"sqlite:///{path}"
    migrate(url)
    keys = _seed(url)
    app = create_app(Settings(database_url=url, rate_limit_enabled=False, solve_in_subprocess=False))
    return Target(app, keys)


def _operations(app: FastAPI) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
@pytest.mark.parametrize("who", ["admin", "college"])
def test_every_operation_fuzzed(target: Target, who: str) -> None:
    headers = {"Authorization": f"Bearer {target.keys[who]}"}
    operations = _operations(target.app)
    assert len(operations) >= 40
    failures: list[str] = []
    for operation in operations:
        # Valid and invalid inputs; some of the valid ones aim at the seeded rows (id 1).
        params = {p.name: 1 for p in operation.path_parameters}
        strategies = [operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE)]
        if params:
            strategies.append(operation.as_strategy(path_parameters=params))
        strategy = st.one_of(strategies)

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
