"""One router shape for every cooperation noun: list, read, create, update, delete.

Endpoints only parse, call one service method and render; authorisation, tenancy, auditing and
locking live in the services.
"""


import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response, status
from pydantic import BaseModel

from app.api.deps import IdPath, PrincipalDep, SessionDep
from app.api.problems import problem_responses
from app.schemas import ListPage
from app.services.resources import ResourceService, etag_of


@dataclass(frozen=True)
class Resource:
    path: str  # e.g. "/openings"
    tag: str
    service: type[ResourceService[Any]]
    create: type[BaseModel]
    update: type[BaseModel]
    read: type[BaseModel]
    filters: type[BaseModel]
    render: Callable[[Any], BaseModel] | None = None

    def to_read(self, row: Any) -> BaseModel:
        return self.render(row) if self.render else self.read.model_validate(row)


def _typed(func: Callable[..., Any], **annotations: Any) -> Callable[..., Any]:
    """Give a factory-made endpoint the concrete parameter types FastAPI reads."""
    signature = inspect.signature(func)
    params = [p.replace(annotation=annotations.get(p.name, p.annotation)) for p in signature.parameters.values()]
    func.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return func


def crud_router(res: Resource, *, page_size_default: int = 50, page_size_max: int = 500) -> APIRouter:
    router = APIRouter(prefix=res.path, tags=[res.tag])
    entity = res.service.entity
    versioned = res.service.versioned
    read_errors = problem_responses(401, 403, 404)
    write_errors = problem_responses(401, 403, 404, 409, 422)

    def list_rows(
        session: SessionDep,
        principal: PrincipalDep,
        filters: Any,
        limit: Annotated[int, Query(ge=1, le=page_size_max)] = page_size_default,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Any:
        page = res.service(session, principal).page(filters.model_dump(), limit=limit, cursor=cursor)
        return {"items": [res.to_read(row) for row in page.items], "next_cursor": page.next_cursor}

    router.add_api_route(
        "", _typed(list_rows, filters=Annotated[res.filters, Query()]), methods=["GET"],
        response_model=ListPage[res.read],  # type: ignore[name-defined]
        summary=f"List {entity}s visible to the caller", responses=problem_responses(401, 403, 422),
    )

    def read_row(object_id: IdPath, session: SessionDep, principal: PrincipalDep, response: Response) -> Any:
        row = res.service(session, principal).get(object_id)
        if versioned:
            response.headers["ETag"] = etag_of(row.version)
        return res.to_read(row)

    router.add_api_route("/{object_id}", read_row, methods=["GET"], response_model=res.read,
                         summary=f"Read one {entity}", responses=read_errors)

    def create_row(body: Any, session: SessionDep, principal: PrincipalDep, response: Response) -> Any:
        row = res.service(session, principal).create(body)
        response.headers["Location"] = f"/api/v1{res.path}/{row.id}"
        if versioned:
            response.headers["ETag"] = etag_of(row.version)
        return res.to_read(row)

    router.add_api_route(
        "", _typed(create_row, body=Annotated[res.create, Body()]), methods=["POST"],
        response_model=res.read, status_code=status.HTTP_201_CREATED,
        summary=f"Create a {entity}", responses=write_errors,
    )

    def update_row(
        object_id: IdPath,
        body: Any,
        session: SessionDep,
        principal: PrincipalDep,
        response: Response,
        if_match: Annotated[str | None, Header(description="ETag from a previous read (openings: required)")] = None,
    ) -> Any:
        row = res.service(session, principal).update(object_id, body, if_match=if_match)
        if versioned:
            response.headers["ETag"] = etag_of(row.version)
        return res.to_read(row)

    update_errors = problem_responses(401, 403, 404, 409, 412, 422, 428) if versioned else write_errors
    router.add_api_route(
        "/{object_id}", _typed(update_row, body=Annotated[res.update, Body()]), methods=["PATCH"],
        response_model=res.read, summary=f"Change fields of a {entity}", responses=update_errors,
    )

    def delete_row(object_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
        res.service(session, principal).delete(object_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    router.add_api_route("/{object_id}", delete_row, methods=["DELETE"], status_code=204,
                         response_class=Response, summary=f"Delete a {entity}",
                         responses=problem_responses(401, 403, 404, 409))
    return router
