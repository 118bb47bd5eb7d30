"""The job aggregate: one launch of a job template, and the runs that carry it out.

A job owns its runs. Scheduling is a command on the job, so two schedulers that load the
same pending job at the same version cannot both record a run. The event store rejects the
second save (optimistic concurrency), and nothing else is needed to schedule a job once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from praetor.domain.errors import Conflict, InvalidValue, NotFound
from praetor.domain.statuses import JobStatus, RunState


class Job(Aggregate):
    @event("Launched")
    def __init__(
        self,
        name: str,
        job_template_id: UUID,
        organization_id: UUID,
        project_id: UUID,
        inventory_id: UUID,
        playbook: str,
        extra_vars: dict[str, Any],
        limit: str,
        forks: int,
        verbosity: int,
        timeout_seconds: int,
        launched_by: str,
        relaunch_of: UUID | None,
    ) -> None:
        self.name = name
        self.job_template_id = job_template_id
        self.organization_id = organization_id
        self.project_id = project_id
        self.inventory_id = inventory_id
        self.playbook = playbook
        self.extra_vars = extra_vars
        self.limit = limit
        self.forks = forks
        self.verbosity = verbosity
        self.timeout_seconds = timeout_seconds
        self.launched_by = launched_by
        self.relaunch_of = relaunch_of
        self.status = JobStatus.PENDING
        self.cancel_requested = False
        self.runs: dict[UUID, dict[str, Any]] = {}
        self.current_run_id: UUID | None = None

    # Scheduling.

    def schedule_run(self, run_id: UUID, execution_pool: str) -> None:
        if self.status is not JobStatus.PENDING:
            raise Conflict(f"job {self.id} is {self.status}, so it cannot be scheduled; only pending jobs are")
        self._run_scheduled(run_id, len(self.runs) + 1, execution_pool)

    @event("RunScheduled")
    def _run_scheduled(self, run_id: UUID, attempt_number: int, execution_pool: str) -> None:
        self.runs[run_id] = {
            "state": RunState.PENDING,
            "attempt_number": attempt_number,
            "execution_pool": execution_pool,
        }
        self.current_run_id = run_id
        self.status = JobStatus.WAITING

    # Execution, as the executor reports it.

    def start_run(self, run_id: UUID) -> None:
        run = self._run(run_id)
        if run["state"] is RunState.PENDING:
            self._run_started(run_id)

    @event("RunStarted")
    def _run_started(self, run_id: UUID) -> None:
        self.runs[run_id]["state"] = RunState.RUNNING
        self.status = JobStatus.RUNNING

    def finish_run(
        self, run_id: UUID, state: RunState, exit_code: int | None, error_reason: str | None, event_count: int
    ) -> None:
        """Record how a run ended; a second report of the same run changes nothing."""
        run = self._run(run_id)
        if not state.is_finished:
            raise InvalidValue("state", f"{state} is not a final run state; use one of successful, failed, error, canceled")
        if run["state"].is_finished:
            return
        self._run_finished(run_id, str(state), exit_code, error_reason, event_count)

    @event("RunFinished")
    def _run_finished(
        self, run_id: UUID, state: str, exit_code: int | None, error_reason: str | None, event_count: int
    ) -> None:
        run_state = RunState(state)
        self.runs[run_id].update(state=run_state, exit_code=exit_code, error_reason=error_reason)
        if run_id == self.current_run_id:
            self.status = JobStatus(run_state.value)

    # Cancelling.

    def cancel(self) -> None:
        """Cancel a pending job at once, or ask the executor of a scheduled one to stop."""
        if self.status.is_finished:
            raise Conflict(f"job {self.id} already finished as {self.status}; there is nothing to cancel")
        if self.status is JobStatus.PENDING:
            self._canceled()
        elif not self.cancel_requested:
            self._cancel_requested()

    @event("Canceled")
    def _canceled(self) -> None:
        self.cancel_requested = True
        self.status = JobStatus.CANCELED

    @event("CancelRequested")
    def _cancel_requested(self) -> None:
        self.cancel_requested = True

    # Rules.

    def _run(self, run_id: UUID) -> dict[str, Any]:
        try:
            return self.runs[run_id]
        except KeyError:
            raise NotFound("run", run_id) from None

    @property
    def launch_parameters(self) -> dict[str, Any]:
        """The fields a relaunch copies."""
        return {
            "name": self.name,
            "job_template_id": self.job_template_id,
            "organization_id": self.organization_id,
            "project_id": self.project_id,
            "inventory_id": self.inventory_id,
            "playbook": self.playbook,
            "extra_vars": self.extra_vars,
            "limit": self.limit,
            "forks": self.forks,
            "verbosity": self.verbosity,
            "timeout_seconds": self.timeout_seconds,
        }
