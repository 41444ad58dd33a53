"""Malformed input is a 4xx, never a 500, on both databases: forged cursors, control characters
in any text (PostgreSQL cannot store NUL at all), ids beyond the integer columns."""

from __future__ import annotations

import base64
import typing
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.schemas import MAX_ID, LecturerCreate, OpeningCreate, ProgramCreate, StudentCreate
from tests.conftest import World

API = "/api/v1"
PROBLEM = "application/problem+json"


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("raw", ["id:" + "9" * 40, "id:²", "id:٣", f"id:{MAX_ID + 1}", "key:a\x00b"])
def test_forged_cursors_are_422(app_client: TestClient, world: World, raw: str) -> None:
    for path in ("/openings", "/students", "/allocation-runs", "/majors"):
        response = app_client.get(f"{API}{path}", params={"cursor": _cursor(raw)}, headers=world.h("admin"))
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == PROBLEM


def test_nul_in_a_body_is_a_422_naming_the_field(app_client: TestClient, world: World) -> None:
    program = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                       "term": "2027-spring"}, headers=world.h("college_a"))
    assert program.status_code == 201, program.text
    bodies: list[tuple[str, str, dict[str, Any]]] = [
        ("college_a", "/programs", {"college_id": world.college_a.id, "major_code": "510205",
                                    "term": "2027-spring", "description": "a\x00b"}),
        ("college_a", "/students", {"program_id": program.json()["id"], "student_no": "1", "name": "张\x00三"}),
        ("college_a", "/students", {"program_id": program.json()["id"], "student_no": "1", "name": "张三",
                                    "skills": ["SQL", "Py\x07thon"]}),
        ("enterprise_a", "/openings", {"enterprise_id": world.enterprise_a.id, "title": "实习\x1b生", "seats": 1,
                                       "province": "贵州", "city": "贵阳", "term": "2027-spring"}),
        ("enterprise_a", "/lecturers", {"enterprise_id": world.enterprise_a.id, "name": "讲师\x00",
                                        "max_weekly_hours": 4}),
        ("admin", "/colleges", {"name": "x\x00", "province": "贵州", "city": "贵阳", "level": "higher_vocational"}),
        ("admin", "/enterprises", {"name": "x", "province": "贵\x00州", "city": "贵阳"}),
        ("scheduler", "/allocation-runs", {"kind": "internship", "scope": {"term": "2027\x00"}}),
    ]
    for who, path, body in bodies:
        response = app_client.post(f"{API}{path}", json=body, headers=world.h(who))
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert "control characters" in response.text
    # A PATCH, and text in a query string or a path.
    patched = app_client.patch(f"{API}/programs/{program.json()['id']}", json={"description": "\x00"},
                               headers=world.h("college_a"))
    assert patched.status_code == 422
    for path, params in (("/openings", {"term": "2027\x00"}), ("/majors", {"q": "数据\x00"}),
                         ("/occupations", {"q": "\x00"})):
        response = app_client.get(f"{API}{path}", params=params, headers=world.h("admin"))
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
    # Lines and tabs are text, not control characters.
    described = app_client.patch(f"{API}/programs/{program.json()['id']}",
                                 json={"description": "第一行\n\t第二行\r\n"}, headers=world.h("college_a"))
    assert described.status_code == 200, described.text


def test_nul_in_an_imported_cell_is_reported_for_its_row(app_client: TestClient, world: World) -> None:
    program = app_client.post(f"{API}/programs", json={"college_id": world.college_a.id, "major_code": "510205",
                                                       "term": "2027-spring"}, headers=world.h("college_a"))
    data = f"program_id,student_no,name\n{program.json()['id']},2027001,张\x01三\n".encode()
    response = app_client.post(f"{API}/students/import", params={"dry_run": "true"},
                               files={"file": ("rows.csv", data, "text/csv")}, headers=world.h("college_a"))
    assert response.status_code == 200, response.text
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(2, "name")]


def test_the_rule_is_in_the_schemas() -> None:
    from app.text_guard import has_control_characters

    # The same refusal without any database: the schemas decide, not the driver.
    for schema, fields in ((ProgramCreate, {"college_id": 1, "major_code": "510205", "term": "t", "name": "a\x00"}),
                           (StudentCreate, {"program_id": 1, "student_no": "\x7f", "name": "n"}),
                           (OpeningCreate, {"enterprise_id": 1, "title": "t", "seats": 1, "province": "p",
                                            "city": "c", "term": "t", "required_skills": ["\x85"]}),
                           (LecturerCreate, {"enterprise_id": 1, "name": "n", "max_weekly_hours": 1,
                                             "cities": ["\x00"]})):
        with pytest.raises(ValidationError, match="control characters"):
            schema.model_validate(fields)
    assert not has_control_characters({"a": ["tab\tand\nlines\r"]})
    assert has_control_characters({"a\x00": "key"})


def _bounds(annotation: Any, metadata: list[Any]) -> tuple[bool, list[int]]:
    """Whether an annotation holds int, and every ``le`` found on it or its items."""
    has_int, limits = annotation is int, []
    for item in metadata:
        limits += [le for le in [getattr(item, "le", None)] if le is not None]
        limits += _bounds(None, list(getattr(item, "metadata", [])))[1]
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            inner_int, inner = _bounds(typing.get_args(arg)[0], list(arg.__metadata__))
        else:
            inner_int, inner = _bounds(arg, [])
        has_int, limits = has_int or inner_int, limits + inner
    return has_int, limits


def test_every_integer_id_in_a_path_or_query_is_bounded(app_client: TestClient) -> None:
    unbounded, checked = [], 0
    for context in iter_route_contexts(app_client.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.path_params + route.dependant.query_params:
            is_int, limits = _bounds(param.field_info.annotation, list(param.field_info.metadata))
            if not is_int or not param.name.endswith(("id", "ids")):
                continue
            checked += 1
            if not any(le <= MAX_ID for le in limits):
                unbounded.append(f"{context.path} {param.name}")
    assert checked > 20
    assert unbounded == []
