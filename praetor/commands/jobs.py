"""Commands on jobs and their runs: launch, schedule, report progress, cancel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from praetor.commands.base import Context, handles
from praetor.commands.job_templates import check_playbook
from praetor.domain.errors import Conflict, InvalidValue, NotFound
from praetor.domain.inventory import Inventory
from praetor.domain.job import Job
from praetor.domain.job_template import JobTemplate
from praetor.domain.project import Project
from praetor.domain.statuses import RunState


@dataclass(frozen=True)
class LaunchJob:
    job_template_id: UUID
    launched_by: str
    extra_vars: dict[str, Any] = field(default_factory=dict)
    limit: str | None = None


@dataclass(frozen=True)
class RelaunchJob:
    job_id: UUID
    launched_by: str


@dataclass(frozen=True)
class ScheduleRun:
    job_id: UUID
    execution_pool: str


@dataclass(frozen=True)
class StartRun:
    job_id: UUID
    run_id: UUID


@dataclass(frozen=True)
class FinishRun:
    job_id: UUID
    run_id: UUID
    state: RunState
    exit_code: int | None
    error_reason: str | None
    event_count: int


@dataclass(frozen=True)
class CancelJob:
    job_id: UUID


def _load_template_part(context: Context, aggregate_type: type, aggregate_id: UUID, kind: str, template_id: UUID):  # type: ignore[no-untyped-def]
    try:
        return context.load(aggregate_type, aggregate_id, kind)
    except NotFound:
        raise Conflict(
            f"job template {template_id} refers to {kind} {aggregate_id}, which was deleted; "
            f"PATCH the template's {kind}_id to one that exists"
        ) from None


@handles(LaunchJob)
def launch_job(command: LaunchJob, context: Context) -> UUID:
    template = context.load(JobTemplate, command.job_template_id, "job template")
    project = _load_template_part(context, Project, template.project_id, "project", template.id)
    inventory = _load_template_part(context, Inventory, template.inventory_id, "inventory", template.id)
    limit = command.limit if command.limit is not None else template.limit
    inventory.check_limit(limit)
    check_playbook(context, project, template.playbook)

    job = Job(
        name=template.name,
        job_template_id=template.id,
        organization_id=template.organization_id,
        project_id=template.project_id,
        inventory_id=template.inventory_id,
        playbook=template.playbook,
        extra_vars={**template.extra_vars, **command.extra_vars},
        limit=limit,
        forks=template.forks,
        verbosity=template.verbosity,
        timeout_seconds=template.timeout_seconds,
        launched_by=command.launched_by,
        relaunch_of=None,
    )
    context.save(job)
    return job.id


@handles(RelaunchJob)
def relaunch_job(command: RelaunchJob, context: Context) -> UUID:
    original = context.load(Job, command.job_id, "job")
    inventory = context.load(Inventory, original.inventory_id, "inventory")
    inventory.check_limit(original.limit)
    job = Job(**original.launch_parameters, launched_by=command.launched_by, relaunch_of=original.id)
    context.save(job)
    return job.id


@handles(ScheduleRun)
def schedule_run(command: ScheduleRun, context: Context) -> UUID:
    job = context.load(Job, command.job_id, "job")
    run_id = uuid4()
    job.schedule_run(run_id, command.execution_pool)
    context.save(job)
    return run_id


@handles(StartRun)
def start_run(command: StartRun, context: Context) -> UUID:
    job = context.load(Job, command.job_id, "job")
    job.start_run(command.run_id)
    context.save(job)
    return command.run_id


@handles(FinishRun)
def finish_run(command: FinishRun, context: Context) -> UUID:
    job = context.load(Job, command.job_id, "job")
    job.finish_run(command.run_id, command.state, command.exit_code, command.error_reason, command.event_count)
    context.save(job)
    return command.run_id


@handles(CancelJob)
def cancel_job(command: CancelJob, context: Context) -> UUID:
    job = context.load(Job, command.job_id, "job")
    job.cancel()
    context.save(job)
    return job.id
