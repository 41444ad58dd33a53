"""Operation ids are stable and readable, and a client generated from the schema (with
openapi-python-client, as API users do) is named after them and works against the app."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from app.api.operation_ids import operation_id
from app.main import create_app
from app.settings import Settings
from tests.conftest import World

READABLE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
PACKAGE = "chanjiao_generated_client"


def _schema() -> dict[str, Any]:
    return create_app(Settings(database_url="sqlite://")).openapi()


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in schema["paths"].items() for method, op in ops.items()]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def test_operation_ids_are_unique_readable_and_named_for_their_tag() -> None:
    operations = _operations(_schema())
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for method, path, op in operations:
        oid = op["operationId"]
        assert READABLE.match(oid), f"{method} {path}: {oid}"
        assert oid.startswith(_slug(op["tags"][0])), f"{method} {path}: {oid} is not named for its tag"
        # FastAPI's default spells out the path: create_row_api_v1_openings_post.
        assert not any(part in oid for part in ("api_v1", "_id", "row")), oid
    by_route = {(m, p): op["operationId"] for m, p, op in operations}
    assert by_route[("POST", "/api/v1/openings")] == "openings_create"
    assert by_route[("PATCH", "/api/v1/course-needs/{object_id}")] == "course_needs_update"
    assert by_route[("POST", "/api/v1/allocation-runs/{run_id}/publish")] == "allocation_runs_publish"
    assert by_route[("POST", "/api/v1/students/import")] == "students_import"
    assert by_route[("GET", "/health")] == "health"


def test_ids_follow_tag_and_name_not_the_path() -> None:
    def create_row() -> None: ...

    ids = set()
    for prefix in ("/api/v1/openings", "/v2/internship-offers"):
        app = FastAPI(generate_unique_id_function=operation_id)
        router = APIRouter(prefix=prefix, tags=["openings"])
        router.add_api_route("", create_row, methods=["POST"])
        app.include_router(router)
        ids |= {op["operationId"] for _, _, op in _operations(app.openapi())}
    assert ids == {"openings_create"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    root = tmp_path_factory.mktemp("client")
    (root / "openapi.json").write_text(json.dumps(_schema()), encoding="utf-8")
    # No post hooks: the generator would otherwise run ruff over the output.
    (root / "config.yml").write_text("post_hooks: []\n", encoding="utf-8")
    generator = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run([str(generator), "generate", "--path", "openapi.json", "--meta", "none", "--config",
                           "config.yml", "--output-path", PACKAGE], cwd=root, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))


def test_generated_client_names_every_operation_by_its_id(generated: ModuleType) -> None:
    for method, path, op in _operations(_schema()):
        module = importlib.import_module(f"{PACKAGE}.api.{_slug(op['tags'][0])}.{op['operationId']}")
        assert callable(module.sync_detailed), f"{method} {path}"


def test_generated_client_creates_and_reads_an_opening(generated: ModuleType, app_client: TestClient,
                                                       world: World) -> None:
    api = f"{PACKAGE}.api.openings"
    create = importlib.import_module(f"{api}.openings_create")
    read = importlib.import_module(f"{api}.openings_read")
    models = importlib.import_module(f"{PACKAGE}.models")
    app_client.headers.update(world.h("enterprise_a"))
    client = generated.Client(base_url=str(app_client.base_url)).set_httpx_client(app_client)
    body = models.OpeningCreate(enterprise_id=world.enterprise_a.id, title="数据分析实习生", seats=2,
                                province="贵州", city="贵阳", term="2027-spring")
    created = create.sync(client=client, body=body)
    assert isinstance(created, models.OpeningRead), created
    again = read.sync(object_id=created.id, client=client)
    assert isinstance(again, models.OpeningRead) and again.title == "数据分析实习生"
    # Problem bodies are typed too.
    missing = read.sync(object_id=2_000_000_000, client=client)
    assert isinstance(missing, models.Problem) and missing.status == 404
