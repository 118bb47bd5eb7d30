"""Scheduling happens once per job, even with schedulers racing on one event store."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from praetor.commands.base import CommandBus
from praetor.commands.jobs import CancelJob, LaunchJob
from praetor.domain.job import Job
from praetor.infra.event_store import open_sqlite_event_store
from praetor.infra.scheduler import Launcher, Scheduler
from praetor.infra.tokens import TokenSigner


class RecordingLauncher(Launcher):
    """Records launches instead of starting executors: these tests are about scheduling."""

    def __init__(self) -> None:
        self.run_ids: list[str] = []
        self._lock = threading.Lock()

    def launch(self, run_id: str, token: str) -> int:
        with self._lock:
            self.run_ids.append(run_id)
        return 0


def scheduled_runs_per_job(container) -> Counter[UUID]:
    counts: Counter[UUID] = Counter()
    for notification in container.app.recorder.select_notifications(start=None, limit=1_000_000):
        if notification.topic.endswith("Job.RunScheduled"):
            counts[notification.originator_id] += 1
    return counts


def test_stale_job_cannot_schedule_twice(fixtures) -> None:
    container = fixtures.container
    job_id = container.bus.handle(LaunchJob(job_template_id=fixtures.template_id, launched_by="admin"))
    first = container.app.repository.get(job_id)
    second = container.app.repository.get(job_id)

    first.schedule_run(UUID(int=1), "default")
    container.app.save(first)
    second.schedule_run(UUID(int=2), "default")

    with pytest.raises(IntegrityError):
        container.app.save(second)
    assert container.app.repository.get(job_id).current_run_id == UUID(int=1)


def test_racing_schedulers_schedule_each_job_once(fixtures, settings, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="praetor.infra.scheduler")
    container = fixtures.container
    job_count = 60
    job_ids = [
        container.bus.handle(LaunchJob(job_template_id=fixtures.template_id, launched_by="admin"), wait=False)
        for _ in range(job_count)
    ]
    container.runner.wait_for(container.app.recorder.max_notification_id())

    signer = TokenSigner("test-key-of-at-least-thirty-two-bytes", 60)
    launchers = [RecordingLauncher(), RecordingLauncher()]
    schedulers = []
    for index, launcher in enumerate(launchers):
        # Each scheduler has its own application, as a separate process would, on the same store.
        app = open_sqlite_event_store(settings.resolved_home / "events.sqlite")
        bus = CommandBus(app, container.bus._project_sources, container.runner)
        schedulers.append(Scheduler(bus, container.sessions, launcher, signer, batch_size=job_count, name=f"scheduler-{index}"))

    start = threading.Barrier(len(schedulers))

    def drain(scheduler: Scheduler) -> None:
        start.wait()
        for _ in range(20):
            scheduler.schedule_pending()

    threads = [threading.Thread(target=drain, args=(scheduler,)) for scheduler in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    counts = scheduled_runs_per_job(container)
    collisions = [record for record in caplog.records if "skipped job" in record.getMessage()]
    # Without collisions the race never happened and the test would prove nothing.
    assert collisions
    launched = launchers[0].run_ids + launchers[1].run_ids
    assert sorted(counts) == sorted(job_ids)
    assert set(counts.values()) == {1}
    assert len(launched) == job_count
    assert len(set(launched)) == job_count
    assert all(isinstance(container.app.repository.get(job_id), Job) for job_id in job_ids)


def test_cancelled_pending_job_is_not_scheduled(fixtures) -> None:
    container = fixtures.container
    job_id = container.bus.handle(LaunchJob(job_template_id=fixtures.template_id, launched_by="admin"))
    container.bus.handle(CancelJob(job_id))
    scheduler = Scheduler(container.bus, container.sessions, RecordingLauncher(), TokenSigner("test-key-of-at-least-thirty-two-bytes", 60))

    assert scheduler.schedule_pending() == []
    assert container.app.repository.get(job_id).runs == {}
