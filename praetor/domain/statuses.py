"""Job statuses and run states, with the transitions each allows."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    WAITING = "waiting"
    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    ERROR = "error"
    CANCELED = "canceled"

    @property
    def is_finished(self) -> bool:
        return self in FINISHED_JOB_STATUSES


FINISHED_JOB_STATUSES = frozenset(
    {JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.ERROR, JobStatus.CANCELED}
)


class RunState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    ERROR = "error"
    CANCELED = "canceled"

    @property
    def is_finished(self) -> bool:
        return self not in (RunState.PENDING, RunState.RUNNING)


FINISHED_RUN_STATES = frozenset(state for state in RunState if state.is_finished)
