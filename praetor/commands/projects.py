"""Commands on projects: where playbooks come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from praetor.commands.base import Context, handles
from praetor.domain.organization import Organization
from praetor.domain.project import Project

SOURCE_FIELDS = ("scm_type", "local_path", "scm_url", "scm_branch")


@dataclass(frozen=True)
class CreateProject:
    name: str
    organization_id: UUID
    scm_type: str
    local_path: str | None = None
    scm_url: str | None = None
    scm_branch: str | None = None
    description: str = ""


@dataclass(frozen=True)
class UpdateProject:
    project_id: UUID
    changes: dict[str, Any]


@dataclass(frozen=True)
class DeleteProject:
    project_id: UUID


@handles(CreateProject)
def create_project(command: CreateProject, context: Context) -> UUID:
    context.load(Organization, command.organization_id, "organization")
    local_path = context.project_sources.check_source(
        command.scm_type, command.local_path, command.scm_url, command.scm_branch
    )
    project = Project(
        name=command.name,
        description=command.description,
        organization_id=command.organization_id,
        scm_type=command.scm_type,
        local_path=local_path,
        scm_url=command.scm_url,
        scm_branch=command.scm_branch,
    )
    context.save(project)
    return project.id


@handles(UpdateProject)
def update_project(command: UpdateProject, context: Context) -> UUID:
    project = context.load(Project, command.project_id, "project")
    changes = dict(command.changes)
    if "organization_id" in changes:
        context.load(Organization, changes["organization_id"], "organization")
    if any(field in changes for field in SOURCE_FIELDS):
        source = {field: changes.get(field, getattr(project, field)) for field in SOURCE_FIELDS}
        changes["local_path"] = context.project_sources.check_source(**source)
    project.update(changes)
    context.save(project)
    return project.id


@handles(DeleteProject)
def delete_project(command: DeleteProject, context: Context) -> UUID:
    project = context.load(Project, command.project_id, "project")
    project.delete()
    context.save(project)
    return project.id
