"""Routers for organizations, projects, inventories, hosts, groups and job templates."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from praetor.api import schemas
from praetor.api.crud import ResourceSpec, get_row, handle_command, resource_router
from praetor.api.query import list_rows
from praetor.api.security import Principal, current_user, get_container
from praetor.api.serialize import row_to_json
from praetor.commands import inventories, job_templates, organizations, projects
from praetor.infra.bootstrap import Container
from praetor.projections import tables

ORGANIZATIONS = ResourceSpec(
    path="/organizations",
    kind="organization",
    table=tables.Organization,
    create_body=schemas.OrganizationCreate,
    update_body=schemas.OrganizationUpdate,
    create=lambda body, _user: organizations.CreateOrganization(**body.model_dump()),
    update=lambda row, changes: organizations.UpdateOrganization(row.id, changes),
    delete=lambda row: organizations.DeleteOrganization(row.id),
    referenced_by=(
        (tables.Project, "organization_id", "project"),
        (tables.Inventory, "organization_id", "inventory"),
        (tables.JobTemplate, "organization_id", "job template"),
    ),
)

PROJECTS = ResourceSpec(
    path="/projects",
    kind="project",
    table=tables.Project,
    create_body=schemas.ProjectCreate,
    update_body=schemas.ProjectUpdate,
    create=lambda body, _user: projects.CreateProject(**body.model_dump()),
    update=lambda row, changes: projects.UpdateProject(row.id, changes),
    delete=lambda row: projects.DeleteProject(row.id),
    referenced_by=((tables.JobTemplate, "project_id", "job template"),),
    search_fields=("name", "description", "scm_url", "local_path"),
)

INVENTORIES = ResourceSpec(
    path="/inventories",
    kind="inventory",
    table=tables.Inventory,
    create_body=schemas.InventoryCreate,
    update_body=schemas.InventoryUpdate,
    create=lambda body, _user: inventories.CreateInventory(**body.model_dump()),
    update=lambda row, changes: inventories.UpdateInventory(row.id, changes),
    delete=lambda row: inventories.DeleteInventory(row.id),
    referenced_by=((tables.JobTemplate, "inventory_id", "job template"),),
)

HOSTS = ResourceSpec(
    path="/hosts",
    kind="host",
    table=tables.Host,
    create_body=schemas.HostCreate,
    update_body=schemas.HostUpdate,
    create=lambda body, _user: inventories.AddHost(**body.model_dump()),
    update=lambda row, changes: inventories.ChangeHost(row.inventory_id, row.id, changes),
    delete=lambda row: inventories.RemoveHost(row.inventory_id, row.id),
)

GROUPS = ResourceSpec(
    path="/groups",
    kind="group",
    table=tables.Group,
    create_body=schemas.GroupCreate,
    update_body=schemas.GroupUpdate,
    create=lambda body, _user: inventories.AddGroup(**body.model_dump()),
    update=lambda row, changes: inventories.ChangeGroup(row.inventory_id, row.id, changes),
    delete=lambda row: inventories.RemoveGroup(row.inventory_id, row.id),
)

JOB_TEMPLATES = ResourceSpec(
    path="/job-templates",
    kind="job template",
    table=tables.JobTemplate,
    create_body=schemas.JobTemplateCreate,
    update_body=schemas.JobTemplateUpdate,
    create=lambda body, _user: job_templates.CreateJobTemplate(**body.model_dump()),
    update=lambda row, changes: job_templates.UpdateJobTemplate(row.id, changes),
    delete=lambda row: job_templates.DeleteJobTemplate(row.id),
    search_fields=("name", "description", "playbook"),
)

RESOURCES = (ORGANIZATIONS, PROJECTS, INVENTORIES, HOSTS, GROUPS, JOB_TEMPLATES)


def memberships_router() -> APIRouter:
    """Build the routes that list and change the hosts of a group and list the members of an inventory."""
    router = APIRouter(tags=["group"])

    @router.get("/groups/{group_id}/hosts", summary="List the hosts of a group")
    def group_hosts(
        group_id: UUID,
        request: Request,
        _user: Principal = Depends(current_user),
        container: Container = Depends(get_container),
    ) -> dict[str, Any]:
        get_row(container, tables.Group, group_id, "group")
        members = select(tables.GroupHost.host_id).where(tables.GroupHost.group_id == group_id)
        with container.sessions() as session:
            page = list_rows(session, tables.Host, request.query_params, scope=[tables.Host.id.in_(members)])
        return page.to_json()

    @router.post("/groups/{group_id}/hosts", status_code=201, summary="Add a host to a group")
    def add_group_host(
        group_id: UUID,
        body: schemas.GroupHostAdd,
        _user: Principal = Depends(current_user),
        container: Container = Depends(get_container),
    ) -> dict[str, Any]:
        group = get_row(container, tables.Group, group_id, "group")
        handle_command(container, inventories.AddHostToGroup(group.inventory_id, group_id, body.host_id))
        return row_to_json(get_row(container, tables.Host, body.host_id, "host"))

    @router.delete("/groups/{group_id}/hosts/{host_id}", status_code=204, summary="Remove a host from a group")
    def remove_group_host(
        group_id: UUID,
        host_id: UUID,
        _user: Principal = Depends(current_user),
        container: Container = Depends(get_container),
    ) -> Response:
        group = get_row(container, tables.Group, group_id, "group")
        container.bus.handle(inventories.RemoveHostFromGroup(group.inventory_id, group_id, host_id))
        return Response(status_code=204)

    for table, kind in ((tables.Host, "hosts"), (tables.Group, "groups")):
        router.add_api_route(
            f"/inventories/{{inventory_id}}/{kind}",
            _inventory_members(table),
            methods=["GET"],
            summary=f"List the {kind} of an inventory",
            tags=["inventory"],
        )
    return router


def _inventory_members(table: type[tables.ReadModel]):  # type: ignore[no-untyped-def]
    def list_members(
        inventory_id: UUID,
        request: Request,
        _user: Principal = Depends(current_user),
        container: Container = Depends(get_container),
    ) -> dict[str, Any]:
        get_row(container, tables.Inventory, inventory_id, "inventory")
        with container.sessions() as session:
            page = list_rows(session, table, request.query_params, scope=[table.inventory_id == inventory_id])
        return page.to_json()

    return list_members


def resource_routers() -> list[APIRouter]:
    return [*(resource_router(spec) for spec in RESOURCES), memberships_router()]
