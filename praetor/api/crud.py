"""A router for one resource: create, list, read, update and delete through commands.

Writes go through the command bus; reads come from the read model only. The bus returns
once the read model has applied the write, so the response to a POST or PATCH is read back
from the read model like any GET.
"""

# No `from __future__ import annotations`: FastAPI must see the body classes, not names.

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from praetor.api.errors import ApiError
from praetor.api.query import list_rows
from praetor.api.security import Principal, current_user, get_container
from praetor.api.serialize import row_to_json
from praetor.domain.errors import InvalidValue, NotFound, plural
from praetor.infra.bootstrap import Container
from praetor.projections.tables import ReadModel


@dataclass(frozen=True)
class ResourceSpec:
    path: str
    kind: str
    table: type[ReadModel]
    create_body: type[BaseModel]
    update_body: type[BaseModel]
    create: Callable[[Any, Principal], object]
    update: Callable[[ReadModel, dict[str, Any]], object]
    delete: Callable[[ReadModel], object]
    search_fields: tuple[str, ...] = ("name", "description")
    default_order: str = "name"
    # Tables whose rows point at this resource through the named column; a delete is refused
    # while any row does.
    referenced_by: tuple[tuple[type[ReadModel], str, str], ...] = ()


def handle_command(container: Container, command: object) -> UUID:
    """Run a command whose own target exists; an id it cannot find came in the body, so 400."""
    try:
        return container.bus.handle(command)
    except NotFound as error:
        raise InvalidValue(error.field, str(error)) from error


def get_row(container: Container, table: type[ReadModel], row_id: UUID, kind: str) -> ReadModel:
    with container.sessions() as session:
        row = session.get(table, row_id)
    if row is None:
        raise ApiError(404, f"{kind} {row_id} was not found; list the {plural(kind)} to find a valid id")
    return row


def reject_if_referenced(container: Container, spec: ResourceSpec, row_id: UUID) -> None:
    """Raise a 409 naming the objects that still refer to the resource.

    NOTE: read models are checked, so an object created in the same instant may slip through.
    """
    with container.sessions() as session:
        for table, column, kind in spec.referenced_by:
            names = session.scalars(select(table.name).where(getattr(table, column) == row_id).limit(5)).all()
            if names:
                listed = ", ".join(repr(name) for name in names)
                raise ApiError(409, f"{spec.kind} {row_id} is used by {plural(kind)} {listed}; delete or change them first")


def resource_router(spec: ResourceSpec) -> APIRouter:
    router = APIRouter(prefix=spec.path, tags=[spec.kind])
    create_body = spec.create_body
    update_body = spec.update_body

    article = "an" if spec.kind[0] in "aeiou" else "a"

    @router.post("", status_code=201, summary=f"Create {article} {spec.kind}")
    def create(
        body: create_body,  # type: ignore[valid-type]
        user: Principal = Depends(current_user),
        container: Container = Depends(get_container),
    ) -> dict[str, Any]:
        row_id = handle_command(container, spec.create(body, user))
        return row_to_json(get_row(container, spec.table, row_id, spec.kind))

    @router.get("", summary=f"List {plural(spec.kind)}")
    def list_(
        request: Request, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
    ) -> dict[str, Any]:
        with container.sessions() as session:
            page = list_rows(
                session,
                spec.table,
                request.query_params,
                search_fields=spec.search_fields,
                default_order=spec.default_order,
            )
        return page.to_json()

    @router.get("/{row_id}", summary=f"Read {article} {spec.kind}")
    def read(
        row_id: UUID, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
    ) -> dict[str, Any]:
        return row_to_json(get_row(container, spec.table, row_id, spec.kind))

    @router.patch("/{row_id}", summary=f"Change {article} {spec.kind}")
    def update(
        row_id: UUID,
        body: update_body,  # type: ignore[valid-type]
        _user: Principal = Depends(current_user),
        container: Container = Depends(get_container),
    ) -> dict[str, Any]:
        row = get_row(container, spec.table, row_id, spec.kind)
        changes = body.model_dump(exclude_unset=True)
        if changes:
            handle_command(container, spec.update(row, changes))
        return row_to_json(get_row(container, spec.table, row_id, spec.kind))

    @router.delete("/{row_id}", status_code=204, summary=f"Delete {article} {spec.kind}")
    def delete(
        row_id: UUID, _user: Principal = Depends(current_user), container: Container = Depends(get_container)
    ) -> Response:
        row = get_row(container, spec.table, row_id, spec.kind)
        reject_if_referenced(container, spec, row_id)
        handle_command(container, spec.delete(row))
        return Response(status_code=204)

    return router
