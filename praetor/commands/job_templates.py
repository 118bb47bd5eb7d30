"""Commands on job templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from praetor.commands.base import Context, handles
from praetor.domain.errors import InvalidValue
from praetor.domain.inventory import Inventory
from praetor.domain.job_template import JobTemplate
from praetor.domain.project import Project


@dataclass(frozen=True)
class CreateJobTemplate:
    name: str
    project_id: UUID
    inventory_id: UUID
    playbook: str
    extra_vars: dict[str, Any] = field(default_factory=dict)
    limit: str = ""
    forks: int = 5
    verbosity: int = 0
    timeout_seconds: int = 0
    description: str = ""


@dataclass(frozen=True)
class UpdateJobTemplate:
    job_template_id: UUID
    changes: dict[str, Any]


@dataclass(frozen=True)
class DeleteJobTemplate:
    job_template_id: UUID


def check_playbook(context: Context, project: Project, playbook: str) -> None:
    """Raise InvalidValue unless the project contains `playbook`."""
    available = context.project_sources.playbooks(
        project.scm_type, project.local_path, project.scm_url, project.scm_branch
    )
    if playbook not in available:
        listed = ", ".join(sorted(available)[:20]) or "none"
        raise InvalidValue(
            "playbook", f"{playbook!r} is not a playbook of project {project.id}; it has: {listed}"
        )


def check_template_limit(inventory: Inventory, limit: str) -> None:
    """Raise InvalidValue when a non-empty `limit` selects none of the inventory's hosts.

    An inventory without hosts yet is accepted: hosts are often added after the template.
    """
    if limit and inventory.hosts:
        inventory.check_limit(limit)


@handles(CreateJobTemplate)
def create_job_template(command: CreateJobTemplate, context: Context) -> UUID:
    project = context.load(Project, command.project_id, "project")
    inventory = context.load(Inventory, command.inventory_id, "inventory")
    check_playbook(context, project, command.playbook)
    check_template_limit(inventory, command.limit)
    template = JobTemplate(
        name=command.name,
        description=command.description,
        organization_id=project.organization_id,
        project_id=command.project_id,
        inventory_id=command.inventory_id,
        playbook=command.playbook,
        extra_vars=command.extra_vars,
        limit=command.limit,
        forks=command.forks,
        verbosity=command.verbosity,
        timeout_seconds=command.timeout_seconds,
    )
    context.save(template)
    return template.id


@handles(UpdateJobTemplate)
def update_job_template(command: UpdateJobTemplate, context: Context) -> UUID:
    template = context.load(JobTemplate, command.job_template_id, "job template")
    changes = dict(command.changes)
    project = context.load(Project, changes.get("project_id", template.project_id), "project")
    inventory = context.load(Inventory, changes.get("inventory_id", template.inventory_id), "inventory")
    if "limit" in changes or "inventory_id" in changes:
        check_template_limit(inventory, changes.get("limit", template.limit))
    if "playbook" in changes or "project_id" in changes:
        check_playbook(context, project, changes.get("playbook", template.playbook))
        changes["organization_id"] = project.organization_id
    template.update(changes)
    context.save(template)
    return template.id


@handles(DeleteJobTemplate)
def delete_job_template(command: DeleteJobTemplate, context: Context) -> UUID:
    template = context.load(JobTemplate, command.job_template_id, "job template")
    template.delete()
    context.save(template)
    return template.id
