"""Projections of jobs and their runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from praetor.domain.job import Job
from praetor.domain.statuses import JobStatus, RunState
from praetor.projections import tables
from praetor.projections.registry import projects

FAILED_STATUSES = frozenset({JobStatus.FAILED.value, JobStatus.ERROR.value})


@projects(Job.Launched)
def job_launched(session: Session, event: Any) -> None:
    session.merge(
        tables.Job(
            id=event.originator_id,
            name=event.name,
            job_template_id=event.job_template_id,
            organization_id=event.organization_id,
            project_id=event.project_id,
            inventory_id=event.inventory_id,
            playbook=event.playbook,
            extra_vars=event.extra_vars,
            limit=event.limit,
            forks=event.forks,
            verbosity=event.verbosity,
            timeout_seconds=event.timeout_seconds,
            launched_by=event.launched_by,
            relaunch_of=event.relaunch_of,
            status=JobStatus.PENDING.value,
            failed=False,
            cancel_requested=False,
            current_run_id=None,
            created_at=event.timestamp,
            modified_at=event.timestamp,
            started_at=None,
            finished_at=None,
        )
    )


@projects(Job.RunScheduled)
def run_scheduled(session: Session, event: Any) -> None:
    session.merge(
        tables.Run(
            id=event.run_id,
            job_id=event.originator_id,
            attempt_number=event.attempt_number,
            execution_pool_id=event.execution_pool,
            state=RunState.PENDING.value,
            exit_code=None,
            error_reason=None,
            event_count=None,
            created_at=event.timestamp,
            modified_at=event.timestamp,
            started_at=None,
            finished_at=None,
        )
    )
    job = _job(session, event)
    job.status = JobStatus.WAITING.value
    job.current_run_id = event.run_id


@projects(Job.RunStarted)
def run_started(session: Session, event: Any) -> None:
    run = session.get(tables.Run, event.run_id)
    run.state = RunState.RUNNING.value
    run.started_at = event.timestamp
    run.modified_at = event.timestamp
    job = _job(session, event)
    job.status = JobStatus.RUNNING.value
    job.started_at = job.started_at or event.timestamp


@projects(Job.RunFinished)
def run_finished(session: Session, event: Any) -> None:
    run = session.get(tables.Run, event.run_id)
    run.state = event.state
    run.exit_code = event.exit_code
    run.error_reason = event.error_reason
    run.event_count = event.event_count
    run.finished_at = event.timestamp
    run.modified_at = event.timestamp
    job = _job(session, event)
    if job.current_run_id == event.run_id:
        job.status = event.state
        job.failed = event.state in FAILED_STATUSES
        job.finished_at = event.timestamp


@projects(Job.CancelRequested)
def cancel_requested(session: Session, event: Any) -> None:
    _job(session, event).cancel_requested = True


@projects(Job.Canceled)
def job_canceled(session: Session, event: Any) -> None:
    job = _job(session, event)
    job.cancel_requested = True
    job.status = JobStatus.CANCELED.value
    job.finished_at = event.timestamp


def _job(session: Session, event: Any) -> tables.Job:
    job = session.get(tables.Job, event.originator_id)
    job.modified_at = event.timestamp
    return job
