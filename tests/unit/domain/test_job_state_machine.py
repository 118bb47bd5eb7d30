"""The job aggregate as a state machine, driven by hypothesis.

Random sequences of scheduling, starting, finishing and cancelling are checked against a
small model of the rules, and after every step the job rebuilt from its stored events must
equal the live one.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.application import Application
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from praetor.domain.errors import Conflict, NotFound
from praetor.domain.job import Job
from praetor.domain.statuses import JobStatus, RunState

FINAL_RUN_STATES = [RunState.SUCCESSFUL, RunState.FAILED, RunState.ERROR, RunState.CANCELED]


def new_job() -> Job:
    return Job(
        name="deploy",
        job_template_id=uuid4(),
        organization_id=uuid4(),
        project_id=uuid4(),
        inventory_id=uuid4(),
        playbook="site.yml",
        extra_vars={"release": "1.2"},
        limit="",
        forks=5,
        verbosity=0,
        timeout_seconds=0,
        launched_by="admin",
        relaunch_of=None,
    )


class JobMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.job = new_job()
        self.app.save(self.job)
        self.expected_status = JobStatus.PENDING
        self.run_ids: list[UUID] = []

    def _save(self) -> None:
        self.app.save(self.job)

    @rule()
    def schedule(self) -> None:
        if self.expected_status is JobStatus.PENDING:
            run_id = uuid4()
            self.job.schedule_run(run_id, "default")
            self.run_ids.append(run_id)
            self.expected_status = JobStatus.WAITING
        else:
            version = self.job.version
            try:
                self.job.schedule_run(uuid4(), "default")
            except Conflict:
                pass
            else:
                raise AssertionError(f"a {self.expected_status} job accepted a second run")
            assert self.job.version == version
        self._save()

    @precondition(lambda self: self.run_ids)
    @rule()
    def start(self) -> None:
        self.job.start_run(self.run_ids[-1])
        if self.expected_status is JobStatus.WAITING:
            self.expected_status = JobStatus.RUNNING
        self._save()

    @precondition(lambda self: self.run_ids)
    @rule(state=st.sampled_from(FINAL_RUN_STATES), exit_code=st.integers(0, 255), repeat=st.booleans())
    def finish(self, state: RunState, exit_code: int, repeat: bool) -> None:
        already_finished = self.expected_status.is_finished
        self.job.finish_run(self.run_ids[-1], state, exit_code, None, 10)
        if repeat:
            version = self.job.version
            self.job.finish_run(self.run_ids[-1], state, exit_code, None, 10)
            assert self.job.version == version, "a second finish report changed the job"
        if not already_finished:
            self.expected_status = JobStatus(state.value)
        self._save()

    @rule()
    def cancel(self) -> None:
        if self.expected_status.is_finished:
            try:
                self.job.cancel()
            except Conflict:
                return
            raise AssertionError("a finished job accepted a cancel")
        self.job.cancel()
        if self.expected_status is JobStatus.PENDING:
            self.expected_status = JobStatus.CANCELED
        self._save()

    @rule()
    def finish_unknown_run(self) -> None:
        try:
            self.job.finish_run(uuid4(), RunState.SUCCESSFUL, 0, None, 0)
        except NotFound:
            return
        raise AssertionError("finishing an unknown run was accepted")

    @invariant()
    def status_follows_model(self) -> None:
        assert self.job.status is self.expected_status

    @invariant()
    def one_unfinished_run_at_most(self) -> None:
        unfinished = [run for run in self.job.runs.values() if not run["state"].is_finished]
        assert len(unfinished) <= 1

    @invariant()
    def attempts_count_from_one(self) -> None:
        attempts = sorted(run["attempt_number"] for run in self.job.runs.values())
        assert attempts == list(range(1, len(attempts) + 1))

    @invariant()
    def replay_equals_live_job(self) -> None:
        stored = self.app.repository.get(self.job.id)
        assert stored.version == self.job.version
        assert stored.status is self.job.status
        assert stored.runs == self.job.runs
        assert stored.cancel_requested == self.job.cancel_requested


TestJobStateMachine = JobMachine.TestCase
